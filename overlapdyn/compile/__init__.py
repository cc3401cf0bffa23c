"""Kernels → generated Python source → Numba machine code, cached on disk; the compiled
model (drift, risk, Jacobian) at any point.

The stages, each inspectable: :mod:`~overlapdyn.compile.printer` prints SymPy kernels as
Python, :mod:`~overlapdyn.compile.render` assembles them with the hand-written code of
``templates/`` into one module, :mod:`~overlapdyn.compile.cache` writes and imports it (and
reports or clears every cache: ``cache.info()``, ``cache.clear()``), Numba compiles it with
the options of :mod:`~overlapdyn.compile.policy`, and :class:`CompiledModel` evaluates it
(``CompiledModel.source`` is the generated code).
"""

from .cache import (
    cache_dir,
    load_module,
    source_key,
)
from .compiled import (
    CompiledModel,
    DriftTerms,
)
from .printer import (
    cubature_kernel_source,
    kernel_source,
)
from .render import (
    cubature_prelude,
)

__all__ = [
    "cache_dir",
    "CompiledModel",
    "cubature_kernel_source",
    "cubature_prelude",
    "DriftTerms",
    "kernel_source",
    "load_module",
    "source_key",
]
