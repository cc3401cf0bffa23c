"""overlapdyn — overlap dynamics of two-layer networks learning Gaussian multi-index targets.

The public API is flat: everything a notebook needs is importable from here.

Pipeline (each stage usable on its own)::

    spec                    Target, Student, Protocol → Model (immutable; TOML in)
    activations / hermite   functions, their Hermite expansions, information exponents
    gaussian                exact (symbolic) and numeric Gaussian expectations
    kernels                 few-point kernels (I2, I3, I4, J2, target kernels), derived once
    codegen / drift         generated Numba code (cached on disk) and the compiled drift
    integrate               solve_ivp on the drift; large-batch state evolution
    result / plot           Trajectory (save/load) and figures
    analysis                drift at a point, Jacobian, fixed points, escape rates
    simulate / validate     finite-d one-pass SGD (Numba); ODE vs simulation, gap vs d
    multihermite / leap     multivariate Hermite support of a target; its leap and ordering
    scaling / escape        predicted sample-complexity exponents; escape times vs d, fits
    saddles                 saddle-to-saddle: learning order, times and plateaus
    hierarchical / depth    SIGHT/MIGHT targets, thresholds; three-layer layer-wise training
    stage1                  the first layer's overlap with span(W*) as a few-scalar map
    weak_recovery           where W* becomes recoverable at a finite d (the constant in d^(1+ε))

Conventions follow SPEC.md (see the README): probabilists' Hermite ``He_n``;
``erf`` as an activation means ``erf(x/√2)``; overlaps ``M = WUᵀ/d``, ``Q = WWᵀ/d``,
``P = UUᵀ/d`` and ``Ω = [[Q, M], [Mᵀ, P]]``.
"""

from ._version import __version__
from .activations import Activation, X, activation, known_activations
from .analysis import FixedPoint, find_fixed_point, jacobian, stability
from .dataset import aggregate, load_dataset, save_dataset
from .depth import DepthConfig, load_depth_config
from .depth_run import DepthResult, run_depth
from .drift import CompiledModel, DriftTerms
from .errors import (
    CovarianceError,
    FieldMismatchError,
    NotPolynomialError,
    OverlapdynError,
    QuadratureError,
    UnknownActivationError,
)
from .escape import (
    EscapeTimes,
    escape_start,
    escape_time,
    measure_escape_ode,
    measure_escape_simulated,
    model_at,
)
from .expressions import parse_expression
from .gaussian import (
    GaussianFields,
    cache_info,
    check_covariance,
    clear_caches,
    expectation,
    gaussian_cubature,
    moment,
    numeric_expectation,
)
from .hermite import (
    He,
    HermiteExpansion,
    gauss_hermite_rule,
    hermite_expansion,
    hermite_product,
    hermite_values,
    information_exponent,
    polynomial_to_hermite,
)
from .hierarchical import HierarchicalTarget, compositional_exponents, thresholds
from .integrate import (
    Event,
    IntegrationError,
    OverlapCrosses,
    RiskBelow,
    SaveAt,
    evolve,
    initial_overlaps,
    integrate,
    overlap_cosines,
)
from .kernels import Derivation, KernelSet, derive_kernels
from .leap import Leap, is_merged_staircase, leap
from .multihermite import MultivariateHermite, multivariate_hermite
from .result import State, Trajectory
from .runconfig import IntegrateConfig
from .runner import SweepSummary, run_sweep
from .saddles import Plateau, SaddleToSaddle, saddle_to_saddle
from .scaling import ExponentFit, ScalingPrediction, fit_exponent, predict_scaling
from .simulate import Simulation, simulate, warm_start_weights
from .spec import ConfigError, Model, Protocol, Student, Target, load_model, model_from_dict
from .stage1 import stage1_constants, stage1_theory, validate_stage1
from .store import ResultStore
from .sweep import Axis, Sweep, load_sweep, sweep_from_dict
from .tasks import Task, TaskKind, register_kind
from .validate import ValidationReport, validate
from .weak_recovery import WeakRecovery, weak_recovery

__all__ = [
    "DepthConfig",
    "DepthResult",
    "HierarchicalTarget",
    "compositional_exponents",
    "load_depth_config",
    "run_depth",
    "stage1_constants",
    "stage1_theory",
    "thresholds",
    "WeakRecovery",
    "weak_recovery",
    "validate_stage1",
    "EscapeTimes",
    "ExponentFit",
    "Leap",
    "MultivariateHermite",
    "Plateau",
    "SaddleToSaddle",
    "ScalingPrediction",
    "escape_start",
    "escape_time",
    "fit_exponent",
    "is_merged_staircase",
    "leap",
    "measure_escape_ode",
    "measure_escape_simulated",
    "model_at",
    "multivariate_hermite",
    "overlap_cosines",
    "predict_scaling",
    "saddle_to_saddle",
    "X",
    "Activation",
    "CompiledModel",
    "ConfigError",
    "Derivation",
    "DriftTerms",
    "Event",
    "FixedPoint",
    "IntegrationError",
    "KernelSet",
    "Model",
    "OverlapCrosses",
    "Protocol",
    "RiskBelow",
    "SaveAt",
    "State",
    "Student",
    "Target",
    "Trajectory",
    "derive_kernels",
    "evolve",
    "find_fixed_point",
    "initial_overlaps",
    "integrate",
    "jacobian",
    "load_model",
    "model_from_dict",
    "stability",
    "Simulation",
    "ValidationReport",
    "simulate",
    "validate",
    "warm_start_weights",
    "Axis",
    "IntegrateConfig",
    "ResultStore",
    "Sweep",
    "SweepSummary",
    "Task",
    "TaskKind",
    "aggregate",
    "load_dataset",
    "load_sweep",
    "register_kind",
    "run_sweep",
    "save_dataset",
    "sweep_from_dict",
    "CovarianceError",
    "FieldMismatchError",
    "GaussianFields",
    "He",
    "HermiteExpansion",
    "NotPolynomialError",
    "OverlapdynError",
    "QuadratureError",
    "UnknownActivationError",
    "__version__",
    "activation",
    "cache_info",
    "check_covariance",
    "clear_caches",
    "expectation",
    "gauss_hermite_rule",
    "gaussian_cubature",
    "hermite_expansion",
    "hermite_product",
    "hermite_values",
    "information_exponent",
    "known_activations",
    "moment",
    "numeric_expectation",
    "parse_expression",
    "polynomial_to_hermite",
]
