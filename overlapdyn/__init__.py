"""overlapdyn — overlap dynamics of two-layer networks learning Gaussian multi-index targets.

The package is laid out as the pipeline it runs; each subpackage imports only from those
above it in this list::

    errors, storage,  exceptions; the result protocol (save / load / describe), atomic
    fits, progress    files, JSON conversion, versions, result store; line fits; the
                      progress bars of long runs
    model             Target, Student, Protocol → Model; activations; formulas
    derive            Hermite expansions, Gaussian expectations, the drift's kernels
    compile           generated Numba code (cached on disk) → CompiledModel
    ode               initial overlaps, integrate / evolve → Trajectory; fixed points
    sgd               finite-d one-pass SGD; theory against simulation
    scaling           leaps, predicted and fitted exponents, escape times, saddles
    reuse             full-batch GD on reused data: simulator, two-step closed form
    depth, sweeps     experiments: hierarchical targets and depth; Dask sweeps
    io, plot, jobs    the edge: config files and datasets, figures, the CLI's jobs

The names below are what a notebook needs most; everything else is one namespace away
(``od.derive.moment``, ``od.depth.weak_recovery``, ``od.plot.plot_learning_curve`` …).

Conventions (see the documentation's conventions page): probabilists' Hermite ``He_n``;
``erf`` as an activation means ``erf(x/√2)``; overlaps ``M = WUᵀ/d``, ``Q = WWᵀ/d``,
``P = UUᵀ/d`` and ``Ω = [[Q, M], [Mᵀ, P]]``; time ``t = steps/d``.
"""

import importlib

from .errors import ConfigError, IntegrationError, OverlapdynError
from .storage.versions import __version__

# Everything else is imported on first use (PEP 562): ``import overlapdyn`` loads neither
# SymPy, SciPy, Numba nor Matplotlib; ``od.integrate`` imports what it needs when first named.
_SUBPACKAGES = ("model", "derive", "compile", "ode", "sgd", "scaling", "limits", "reuse",
                "readout", "depth", "sweeps", "storage", "fits", "progress", "errors", "io", "plot",
                "jobs")
_HOMES = {
    "compile": ("CompiledModel",),
    "derive": ("Auto", "ClosedForm", "Derivation", "Exact", "GaussianFields",
               "HermiteTruncation", "Quadrature", "expectation", "hermite_expansion",
               "information_exponent", "numeric_expectation"),
    "io.toml": ("load_model",),
    "model": ("Model", "Protocol", "Student", "Target", "activation"),
    "ode": ("OverlapCrosses", "RiskBelow", "SaveAt", "Solver", "Trajectory", "evolve",
            "find_fixed_point", "initial_overlaps", "integrate"),
    "scaling": ("fit_exponent", "leap", "measure_escape_ode", "measure_escape_simulated",
                "predict_scaling", "saddle_to_saddle"),
    "sgd": ("simulate", "validate"),
}
_HOME_OF = {name: home for home, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in _HOME_OF:
        value = getattr(importlib.import_module(f".{_HOME_OF[name]}", __name__), name)
        globals()[name] = value   # the next lookup is a plain attribute
        return value
    raise AttributeError(f"module 'overlapdyn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    # model
    "Model",
    "Target",
    "Student",
    "Protocol",
    "activation",
    "load_model",
    # derive
    "Derivation",
    "Exact",
    "ClosedForm",
    "HermiteTruncation",
    "Quadrature",
    "Auto",
    "GaussianFields",
    "expectation",
    "numeric_expectation",
    "hermite_expansion",
    "information_exponent",
    # compile
    "CompiledModel",
    # ode
    "SaveAt",
    "Solver",
    "RiskBelow",
    "OverlapCrosses",
    "Trajectory",
    "initial_overlaps",
    "integrate",
    "evolve",
    "find_fixed_point",
    # sgd
    "simulate",
    "validate",
    # scaling
    "leap",
    "predict_scaling",
    "fit_exponent",
    "measure_escape_ode",
    "measure_escape_simulated",
    "saddle_to_saddle",
    # errors
    "OverlapdynError",
    "ConfigError",
    "IntegrationError",
    # namespaces
    "model",
    "derive",
    "compile",
    "ode",
    "sgd",
    "scaling",
    "limits",
    "reuse",
    "readout",
    "depth",
    "sweeps",
    "storage",
    "fits",
    "progress",
    "errors",
    "io",
    "plot",
    "jobs",
    "__version__",
]
