"""The overlap ODEs: initial overlaps, integration (SciPy) and large-batch state
evolution, the learning curve they produce (:class:`Trajectory`), fixed points, reduced
states of wide networks (:mod:`overlapdyn.ode.wide`), and the overlap SDE of finite-d SGD
(:func:`integrate_sde`).
"""

from ..storage.lazy import lazy_namespace

# Each name is imported from its module on first use (PEP 562): integrate imports neither the
# SDE (SymPy) nor the reduced states of wide networks nor the fixed points (scipy.optimize).
_HOMES = {
    "analysis": ("FixedPoint", "find_fixed_point", "jacobian", "stability"),
    "config": ("IntegrateConfig",),
    "events": ("Event", "EventLike", "OverlapCrosses", "RiskBelow"),
    "integrator": ("SaveAt", "Solver", "integrate"),
    "sde": ("Diffusion", "SDEPaths", "diffusion", "integrate_sde", "sampled_noise"),
    "state": ("check_overlaps", "initial_overlaps", "overlap_cosines", "overlap_covariance",
              "random_rows"),
    "state_evolution": ("evolve",),
    "trajectory": ("Outcome", "SgdRun", "SolverStats", "State", "Trajectory"),
    "wide": ("OrthogonalReduction", "SymmetricReduction", "WideTrajectory"),
}
__getattr__, __dir__ = lazy_namespace(__name__, _HOMES, submodules=True)


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
