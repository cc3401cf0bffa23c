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

import importlib
import importlib.util

# Each name is imported from its module on first use (PEP 562): a CompiledModel loaded from
# the cache imports neither the printer (SymPy) nor the derivation's modules.
_HOMES = {
    "cache": ("cache_dir", "is_cached", "load_module", "source_key"),
    "compiled": ("BuildPlan", "CompiledModel", "DriftTerms", "plan_build", "uses_tables"),
    "printer": ("cubature_kernel_source", "kernel_source"),
    "render": ("cubature_prelude",),
}
_HOME_OF = {name: home for home, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name in _HOME_OF:
        value = getattr(importlib.import_module(f".{_HOME_OF[name]}", __name__), name)
        globals()[name] = value   # the next lookup is a plain attribute
        return value
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}"):
        return importlib.import_module(f".{name}", __name__)   # a submodule, as before
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
