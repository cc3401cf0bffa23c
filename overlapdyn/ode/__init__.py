"""The overlap ODEs: initial overlaps, integration (SciPy) and large-batch state
evolution, the learning curve they produce (:class:`Trajectory`), fixed points, reduced
states of wide networks (:mod:`overlapdyn.ode.wide`), and the overlap SDE of finite-d SGD
(:func:`integrate_sde`).
"""

from .analysis import (
    FixedPoint,
    find_fixed_point,
    jacobian,
    stability,
)
from .config import (
    IntegrateConfig,
)
from .events import (
    Event,
    EventLike,
    OverlapCrosses,
    RiskBelow,
)
from .integrator import (
    SaveAt,
    Solver,
    integrate,
)
from .sde import (
    Diffusion,
    SDEPaths,
    diffusion,
    integrate_sde,
    sampled_noise,
)
from .state import (
    check_overlaps,
    initial_overlaps,
    overlap_cosines,
    overlap_covariance,
    random_rows,
)
from .state_evolution import (
    evolve,
)
from .trajectory import (
    Outcome,
    SgdRun,
    SolverStats,
    State,
    Trajectory,
)
from .wide import (
    OrthogonalReduction,
    SymmetricReduction,
    WideTrajectory,
)

__all__ = [
    "check_overlaps",
    "Diffusion",
    "diffusion",
    "Event",
    "EventLike",
    "evolve",
    "find_fixed_point",
    "FixedPoint",
    "initial_overlaps",
    "integrate",
    "integrate_sde",
    "IntegrateConfig",
    "jacobian",
    "Outcome",
    "OrthogonalReduction",
    "overlap_cosines",
    "overlap_covariance",
    "OverlapCrosses",
    "random_rows",
    "RiskBelow",
    "sampled_noise",
    "SaveAt",
    "SDEPaths",
    "SgdRun",
    "Solver",
    "SolverStats",
    "stability",
    "State",
    "SymmetricReduction",
    "Trajectory",
    "WideTrajectory",
]
