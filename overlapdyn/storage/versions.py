"""The installed version (set in pyproject.toml), importable without the package's API."""

from importlib.metadata import PackageNotFoundError, version

import numpy as np
import scipy

try:
    __version__ = version("overlapdyn")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__", "library_versions"]



def library_versions() -> dict:
    """Versions of overlapdyn and of the libraries its numbers depend on (NumPy, SciPy,
    Numba), as recorded with every result."""
    import numba

    return {"overlapdyn": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__}
