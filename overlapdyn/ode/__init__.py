"""The overlap ODEs: initial overlaps, integration (SciPy) and large-batch state
evolution, the learning curve they produce (:class:`Trajectory`), fixed points.
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
from .integrator import (
    Event,
    OverlapCrosses,
    RiskBelow,
    SaveAt,
    evolve,
    initial_overlaps,
    integrate,
    overlap_cosines,
)
from .trajectory import (
    Outcome,
    SgdRun,
    SolverStats,
    State,
    Trajectory,
)

__all__ = [
    "Event",
    "evolve",
    "find_fixed_point",
    "FixedPoint",
    "initial_overlaps",
    "integrate",
    "IntegrateConfig",
    "jacobian",
    "Outcome",
    "overlap_cosines",
    "OverlapCrosses",
    "RiskBelow",
    "SaveAt",
    "SgdRun",
    "SolverStats",
    "stability",
    "State",
    "Trajectory",
]
