"""Learning with data reuse: full-batch gradient descent on ``n = αd`` samples used at every
step — the spec (:class:`FullBatchGD`, with the map onto the papers' convention), a
finite-d simulator (:func:`simulate_gd`) and the closed form of the first two steps as
d → ∞ (:func:`two_step`), the start of the dynamical mean-field theory (DMFT).
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
from .kernels import GradientKernels
from .simulator import (
    GDSimulation,
    simulate_gd,
)

__all__ = [
    "FullBatchGD",
    "GDSimulation",
    "GradientKernels",
    "MAX_ALPHA",
    "MAX_STEPS",
    "simulate_gd",
    "two_step",
    "TwoStepTheory",
]
