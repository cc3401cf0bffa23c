"""Learning with data reuse: full-batch gradient descent on ``n = αd`` samples used at every
step — the spec (:class:`FullBatchGD`, with the map onto the papers' convention), a
finite-d simulator (:func:`simulate_gd`) and the closed form of the first two steps as
d → ∞ (:func:`two_step`) and the dynamical mean-field theory (DMFT) of T ≤ 10 steps
(:func:`solve_dmft`); and online
SGD with each fresh batch reused (:class:`OnlineReuse`: extragradient or k repeated steps),
its overlap ODE (:func:`integrate_reuse`), simulator (:func:`simulate_reuse`) and
validation (:func:`validate_reuse`); the escape from a random start with reuse against d
(:func:`measure_reuse_escape_ode`, :func:`measure_reuse_escape_simulated`, giving the
scaling layer's :class:`~overlapdyn.scaling.EscapeTimes`) and the directions of a
multi-index target learned (:func:`learn_directions`).
"""

from .closed_form import (
    TwoStepTheory,
    two_step,
)
from .config import (
    MAX_ALPHA,
    MAX_STEPS,
    FullBatchGD,
)
from .dmft import (
    MAX_DMFT_STEPS,
    DMFTSolution,
    solve_dmft,
)
from .escape import (
    ESCAPE_QUADRATURE,
    ESCAPE_SOLVER,
    DirectionLearning,
    learn_directions,
    measure_reuse_escape_ode,
    measure_reuse_escape_simulated,
    reuse_prediction,
    spec_at,
)
from .kernels import GradientKernels
from .online import (
    KINDS,
    MAX_GAIN,
    MAX_REPEATS,
    OnlineReuse,
    ReuseBlowUpError,
    ReuseDrift,
    ReuseQuadrature,
    ReuseRun,
    integrate_reuse,
)
from .online_simulation import (
    ReuseValidation,
    simulate_reuse,
    validate_reuse,
)
from .simulator import (
    GDSimulation,
    simulate_gd,
)

__all__ = [
    "DMFTSolution",
    "DirectionLearning",
    "ESCAPE_QUADRATURE",
    "ESCAPE_SOLVER",
    "FullBatchGD",
    "GDSimulation",
    "GradientKernels",
    "integrate_reuse",
    "KINDS",
    "learn_directions",
    "MAX_ALPHA",
    "MAX_DMFT_STEPS",
    "MAX_GAIN",
    "MAX_REPEATS",
    "MAX_STEPS",
    "measure_reuse_escape_ode",
    "measure_reuse_escape_simulated",
    "OnlineReuse",
    "ReuseBlowUpError",
    "ReuseDrift",
    "ReuseQuadrature",
    "ReuseRun",
    "ReuseValidation",
    "reuse_prediction",
    "simulate_gd",
    "solve_dmft",
    "simulate_reuse",
    "spec_at",
    "two_step",
    "TwoStepTheory",
    "validate_reuse",
]
