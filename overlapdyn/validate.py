r"""Theory against simulation: the ODE started at each run's measured overlaps, gap vs d.

For every dimension d and seed, the simulator runs SPEC's SGD; the ODE is integrated from
that run's measured initial overlaps (M(0), Q(0), a(0)) onto the same time grid. Per
quantity q ∈ {risk, M, Q, a} the report gives

* the per-seed sup-norm gap ``sup_t max_entries |q_sim(t) − q_ode(t)|``, mean ± std over
  seeds — one run's fluctuation around the deterministic limit, theory ``∝ d^(−1/2)``;
* the gap of the seed means ``sup_t |⟨q_sim⟩ − ⟨q_ode⟩|``;
* the finite-size exponent: the slope of log(mean per-seed gap) against log d.

The verdict passes when every quantity's exponent lies in the tolerance interval (default
[−0.75, −0.3] around the theoretical −1/2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .drift import CompiledModel
from .integrate import SaveAt, integrate
from .simulate import Simulation, simulate
from .spec import Model

__all__ = ["ValidationReport", "validate"]

QUANTITIES = ("risk", "M", "Q", "a")


@dataclass(frozen=True)
class ValidationReport:
    """Gaps between simulation and ODE, per d and quantity, and the fitted exponents.

    Attributes:
        ds: the dimensions.
        gaps: ``{quantity: array (len(ds), n_seeds)}`` per-seed sup-norm gaps.
        mean_gaps: ``{quantity: array (len(ds),)}`` gaps of the seed means.
        exponents: ``{quantity: slope of log mean per-seed gap vs log d}``.
        tolerance: the accepted exponent interval.
        simulations: the simulations, per d (kept for plots).
        odes: the ODE trajectories, per d and seed.
    """

    ds: tuple[int, ...]
    gaps: dict
    mean_gaps: dict
    exponents: dict
    tolerance: tuple[float, float]
    simulations: tuple[Simulation, ...] = field(repr=False)
    odes: tuple = field(repr=False)

    @property
    def passed(self) -> bool:
        low, high = self.tolerance
        return all(low <= value <= high for value in self.exponents.values())

    def table(self) -> str:
        """A plain-text report: gaps per d and quantity, exponents, verdict."""
        lines = [f"{'quantity':<8} " + " ".join(f"{'d=' + str(d):>22}" for d in self.ds)
                 + f" {'exponent':>9}"]
        for q in self.exponents:
            cells = [f"{self.gaps[q][i].mean():.2e} ± {self.gaps[q][i].std():.1e}"
                     for i in range(len(self.ds))]
            lines.append(f"{q:<8} " + " ".join(f"{c:>22}" for c in cells)
                         + f" {self.exponents[q]:>9.3f}")
        low, high = self.tolerance
        lines.append(f"verdict: {'PASS' if self.passed else 'FAIL'} — every exponent in "
                     f"[{low}, {high}] (theory −1/2); gaps are per-seed sup-norms, mean ± std")
        return "\n".join(lines)


def validate(
    model: Model,
    ds: tuple[int, ...] | list[int],
    times: np.ndarray,
    *,
    seeds: int | tuple[int, ...] = 4,
    tolerance: tuple[float, float] = (-0.75, -0.3),
    n_test: int = 0,
) -> ValidationReport:
    """Simulate ``model`` at each d and compare with its ODE (see the module docstring).

    Args:
        model: the model.
        ds: at least two dimensions.
        times: the time grid t = steps/d (0 included).
        seeds: a number of seeds (0, 1, …) or the seeds themselves.
        tolerance: accepted interval for the fitted exponents.
        n_test: held-out samples per saved time for the test-set risk.
    """
    ds = tuple(int(d) for d in ds)
    if len(ds) < 2:
        raise ValueError("validation needs at least two dimensions to fit an exponent")
    seeds = tuple(range(seeds)) if isinstance(seeds, int) else tuple(seeds)
    compiled = CompiledModel(model)
    quantities = QUANTITIES if model.student.train_readout else QUANTITIES[:3]
    gaps = {q: np.zeros((len(ds), len(seeds))) for q in quantities}
    mean_gaps = {q: np.zeros(len(ds)) for q in quantities}
    simulations, odes = [], []
    for i, d in enumerate(ds):
        simulation = simulate(model, d, times, seeds=seeds, n_test=n_test, compiled=compiled)
        runs = []
        for s, run in enumerate(simulation.trajectories):
            ode = integrate(compiled, (run.M[0], run.Q[0], run.a[0]), SaveAt.at(run.t),
                            on_failure="return")
            runs.append(ode)
            for q in quantities:
                sim, theory = getattr(run, q), getattr(ode, q)
                length = min(len(sim), len(theory))
                gaps[q][i, s] = np.max(np.abs(sim[:length] - theory[:length]))
        for q in quantities:
            length = min(min(len(r.t) for r in runs), min(len(r.t) for r in
                                                            simulation.trajectories))
            sim_mean = np.mean([getattr(r, q)[:length] for r in simulation.trajectories], 0)
            ode_mean = np.mean([getattr(r, q)[:length] for r in runs], 0)
            mean_gaps[q][i] = np.max(np.abs(sim_mean - ode_mean))
        simulations.append(simulation)
        odes.append(tuple(runs))
    exponents = {q: float(np.polyfit(np.log(ds), np.log(gaps[q].mean(axis=1)), 1)[0])
                 for q in quantities}
    return ValidationReport(ds, gaps, mean_gaps, exponents, tolerance, tuple(simulations),
                            tuple(odes))
