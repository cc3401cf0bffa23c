"""The overlap ODEs: initial overlaps, integration (SciPy) and large-batch state
evolution, the learning curve they produce (:class:`Trajectory`), fixed points, reduced
states of wide networks (:mod:`overlapdyn.ode.wide`), and the overlap SDE of finite-d SGD
(:func:`integrate_sde`).
"""

import importlib
import importlib.util

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
