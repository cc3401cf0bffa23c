"""Kernels → generated Python source → Numba machine code, cached on disk; the compiled
model (drift, risk, Jacobian) at any point.

The stages, each inspectable: :mod:`~overlapdyn.compile.printer` prints SymPy kernels as
Python, :mod:`~overlapdyn.compile.render` assembles them with the hand-written code of
``templates/`` into one module, :mod:`~overlapdyn.compile.cache` writes and imports it (and
reports or clears every cache: ``cache.info()``, ``cache.clear()``), Numba compiles it with
the options of :mod:`~overlapdyn.compile.policy`, and :class:`CompiledModel` evaluates it
(``CompiledModel.source`` is the generated code). The loops that do not depend on the model
(the drift's, the state evolution's) are one module for every model, compiled once, to which
:mod:`~overlapdyn.compile.linking` passes a model's compiled kernels by address
(``CompiledModel.loops_source``). :func:`plan_build` says what a
``CompiledModel`` would build — the method, why, and whether it is cached — without
building it. Polynomial kernels of high degree are stored as coefficient tables, summed by
one evaluator compiled for every model (:mod:`~overlapdyn.compile.tables`,
:func:`uses_tables`).
"""

from ..storage.lazy import lazy_namespace

# Each name is imported from its module on first use (PEP 562): a CompiledModel loaded from
# the cache imports neither the printer (SymPy) nor the derivation's modules.
_HOMES = {
    "cache": ("cache_dir", "is_cached", "load_module", "source_key"),
    "compiled": ("BuildPlan", "CompiledModel", "DriftTerms", "plan_build", "uses_tables"),
    "printer": ("cubature_kernel_source", "kernel_source"),
    "render": ("cubature_prelude",),
}
__getattr__, __dir__ = lazy_namespace(__name__, _HOMES, submodules=True)


__all__ = [
    "BuildPlan",
    "cache_dir",
    "CompiledModel",
    "cubature_kernel_source",
    "cubature_prelude",
    "DriftTerms",
    "is_cached",
    "kernel_source",
    "load_module",
    "plan_build",
    "source_key",
    "uses_tables",
]
