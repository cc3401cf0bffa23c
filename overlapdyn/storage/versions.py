"""The installed version (set in pyproject.toml), importable without the package's API
(and without NumPy: the command line's ``--help`` imports only this)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("overlapdyn")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__", "library_versions"]



def library_versions() -> dict:
    """Versions of overlapdyn and of the libraries its numbers depend on (NumPy, SciPy,
    Numba), as recorded with every result."""
    import numba
    import numpy
    import scipy

    return {"overlapdyn": __version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__}
