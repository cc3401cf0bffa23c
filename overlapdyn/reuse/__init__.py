"""Learning with data reuse: full-batch gradient descent on ``n = αd`` samples used at every
step — the spec (:class:`FullBatchGD`, with the map onto the papers' convention), a
finite-d simulator (:func:`simulate_gd`) and the closed form of the first two steps as
d → ∞ (:func:`two_step`) and the dynamical mean-field theory (DMFT) of T ≤ 10 steps
(:func:`solve_dmft`); and online
SGD with each fresh batch reused (:class:`OnlineReuse`: extragradient or k repeated steps),
its overlap ODE (:func:`integrate_reuse`), simulator (:func:`simulate_reuse`) and
validation (:func:`validate_reuse`).
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
    "FullBatchGD",
    "GDSimulation",
    "GradientKernels",
    "integrate_reuse",
    "KINDS",
    "MAX_ALPHA",
    "MAX_DMFT_STEPS",
    "MAX_GAIN",
    "MAX_REPEATS",
    "MAX_STEPS",
    "OnlineReuse",
    "ReuseBlowUpError",
    "ReuseDrift",
    "ReuseQuadrature",
    "ReuseRun",
    "ReuseValidation",
    "simulate_gd",
    "solve_dmft",
    "simulate_reuse",
    "two_step",
    "TwoStepTheory",
    "validate_reuse",
]
