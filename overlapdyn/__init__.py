"""overlapdyn — overlap dynamics of two-layer networks learning Gaussian multi-index targets.

The package is laid out as the pipeline it runs; each subpackage imports only from those
above it in this list::

    errors, storage,  exceptions; the result protocol (save / load / describe), atomic
    fits              files, JSON conversion, versions, result store; line fits
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

from . import (
    compile,
    depth,
    derive,
    errors,
    fits,
    limits,
    model,
    ode,
    reuse,
    scaling,
    sgd,
    storage,
    sweeps,
)
from .compile import CompiledModel
from .derive import (
    Auto,
    ClosedForm,
    Derivation,
    Exact,
    GaussianFields,
    HermiteTruncation,
    Quadrature,
    expectation,
    hermite_expansion,
    information_exponent,
    numeric_expectation,
)
from .errors import ConfigError, IntegrationError, OverlapdynError
from .io.toml import load_model
from .model import Model, Protocol, Student, Target, activation
from .ode import (
    OverlapCrosses,
    RiskBelow,
    SaveAt,
    Solver,
    Trajectory,
    evolve,
    find_fixed_point,
    initial_overlaps,
    integrate,
)
from .scaling import (
    fit_exponent,
    leap,
    measure_escape_ode,
    measure_escape_simulated,
    predict_scaling,
    saddle_to_saddle,
)
from .sgd import simulate, validate
from .storage.versions import __version__

# figures and jobs are imported on first use: Matplotlib is not needed to integrate an ODE
# (io is imported above for load_model; it loads xarray only when a dataset is read)
_LAZY = ("plot", "jobs")


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'overlapdyn' has no attribute {name!r}")


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
    "depth",
    "sweeps",
    "storage",
    "fits",
    "errors",
    "io",
    "plot",
    "jobs",
    "__version__",
]
