"""Kernels → generated Python source → Numba machine code, cached on disk; the compiled
model (drift, risk, Jacobian) at any point.
"""

from .codegen import (
    cache_dir,
    cubature_kernel_source,
    cubature_prelude,
    kernel_source,
    load_module,
    source_key,
)
from .compiled import (
    CompiledModel,
    DriftTerms,
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
