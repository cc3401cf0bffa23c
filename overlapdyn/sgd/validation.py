r"""Theory against simulation: the ODE started at each run's measured overlaps, gap vs d.

For every dimension d and seed, the simulator runs SPEC's SGD; the ODE is integrated from
that run's measured initial overlaps (M(0), Q(0), a(0)) onto the same time grid. Per
quantity q ∈ {risk, M, Q, a} the report gives

* the per-seed sup-norm gap ``sup_t max_entries |q_sim(t) − q_ode(t)|``, mean ± std over
  seeds — one run's fluctuation around the deterministic limit, theory ``∝ d^(−1/2)``;
* the gap of the seed means ``sup_t |⟨q_sim⟩ − ⟨q_ode⟩|``;
* the finite-size exponent: the slope of log(mean per-seed gap) against log d.

The verdict passes when every quantity's exponent lies in the tolerance interval (default
[−0.75, −0.3] around the theoretical −1/2). A quantity that both sides conserve exactly
(``Q_jj = 1`` of spherical SGD with p = 1: every gap at round-off, ≤ 1e-9) has no exponent
to fit; it is reported as ``exact`` and left out of the verdict.

Resuming. With ``store=FOLDER`` every finished (d, seed) simulation is written at once to
``FOLDER/sim_d{d}_seed{seed}.npz`` (:meth:`Trajectory.save`, atomic; the trajectory's
:attr:`~overlapdyn.ode.Trajectory.sgd` says which run it is), and a rerun loads those
files instead of simulating again; ``FOLDER/manifest.json`` records the model fingerprint,
the time grid, the warm start and ``n_test``, and a rerun with different ones is refused.
Interrupting (Ctrl-C) keeps every file already written. More d's or seeds on a rerun only
simulate the new (d, seed) pairs. Seeds run in chunks of Numba's thread count (the
simulator parallelises over seeds, and a seed's result does not depend on its chunk), each
seed saved as soon as its chunk returns. Note that Numba code does not see Ctrl-C: the
interrupt lands when the running chunk returns, and that chunk is lost.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..compile.compiled import CompiledModel
from ..errors import OverlapdynError
from ..fits import line_fit, loglog_slope
from ..model.checks import check_seeds
from ..model.spec import Model
from ..ode.integrator import SaveAt, integrate
from ..ode.trajectory import Trajectory
from ..storage.encoding import jsonable
from ..storage.results import Result, archive_parts, restore_parts
from ..storage.store import open_manifest
from .simulator import Simulation, simulate

__all__ = ["ValidationReport", "summary_curves", "validate"]

QUANTITIES = ("risk", "M", "Q", "a")
EXACT_GAP = 1e-9   # gaps at or below this at every d and seed: a conserved quantity
_STORE_FORMAT = "overlapdyn.validation-store"
_STORE_VERSION = 1


@dataclass(frozen=True)
class ValidationReport(Result):
    """Gaps between simulation and ODE, per d and quantity, and the fitted exponents.

    Attributes:
        ds: the dimensions.
        gaps: ``{quantity: array (len(ds), n_seeds)}`` per-seed sup-norm gaps.
        mean_gaps: ``{quantity: array (len(ds),)}`` gaps of the seed means.
        exponents: ``{quantity: slope of log mean per-seed gap vs log d}``, the exact
            quantities left out.
        tolerance: the accepted exponent interval.
        simulations: the simulations, per d (kept for plots).
        odes: the ODE trajectories, per d and seed.
        exact: quantities whose every gap is at round-off (≤ ``EXACT_GAP``): conserved by
            both the SGD and the ODE, no exponent, not in the verdict.

    :meth:`save` writes the whole report, runs included, and its JSON summary
    (:meth:`to_dict`) beside it.
    """

    FORMAT = "overlapdyn.ValidationReport"
    VERSION = 1

    ds: tuple[int, ...]
    gaps: dict
    mean_gaps: dict
    exponents: dict
    tolerance: tuple[float, float]
    simulations: tuple[Simulation, ...] = field(repr=False)
    odes: tuple = field(repr=False)
    exact: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        low, high = self.tolerance
        return all(low <= value <= high for value in self.exponents.values())

    def describe(self) -> str:
        """A plain-text report: gaps per d and quantity, exponents, verdict."""
        lines = [f"{'quantity':<8} " + " ".join(f"{'d=' + str(d):>22}" for d in self.ds)
                 + f" {'exponent':>9}"]
        for q in self.gaps:
            cells = [f"{self.gaps[q][i].mean():.2e} ± {self.gaps[q][i].std():.1e}"
                     for i in range(len(self.ds))]
            exponent = "exact" if q in self.exact else f"{self.exponents[q]:.3f}"
            lines.append(f"{q:<8} " + " ".join(f"{c:>22}" for c in cells)
                         + f" {exponent:>9}")
        low, high = self.tolerance
        lines.append(f"verdict: {'PASS' if self.passed else 'FAIL'} — every exponent in "
                     f"[{low}, {high}] (theory −1/2); gaps are per-seed sup-norms, mean ± std")
        return "\n".join(lines)

    def fitted_gap(self, quantity: str) -> np.ndarray:
        """The power law ``c·d^exponent`` fitted to the mean per-seed gaps of ``quantity``
        (least squares in log–log; its slope is ``exponents[quantity]``), at each d of the
        report: shape (len(ds),)."""
        line = line_fit(np.log(self.ds), np.log(self.gaps[quantity].mean(axis=1)))
        return np.exp(line.intercept) * np.asarray(self.ds, dtype=float) ** line.slope

    def to_dict(self) -> dict:
        """The report as plain JSON types (non-finite numbers as ``null``).

        Keys: ``ds``, ``seeds``, ``gaps`` (``{q: {"mean": [per d], "std": [per d],
        "per_seed": [[per seed] per d]}}``), ``mean_gaps`` (``{q: [per d]}``), ``exponents``,
        ``exact``, ``tolerance``, ``passed``, ``model`` (:meth:`Model.to_dict`) and ``fingerprint``.
        """
        model = self.simulations[0].trajectories[0].model
        return jsonable({
            "ds": list(self.ds),
            "seeds": list(self.simulations[0].seeds),
            "gaps": {q: {"mean": g.mean(axis=1).tolist(), "std": g.std(axis=1).tolist(),
                         "per_seed": g.tolist()} for q, g in self.gaps.items()},
            "mean_gaps": {q: g.tolist() for q, g in self.mean_gaps.items()},
            "exponents": dict(self.exponents),
            "exact": list(self.exact),
            "tolerance": list(self.tolerance),
            "passed": self.passed,
            "model": model.to_dict(),
            "fingerprint": model.fingerprint(),
        }, "the validation report", strict=True)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        simulations, simulated = archive_parts(self.simulations, "simulations")
        odes, integrated = archive_parts(self.odes, "odes")
        fields = {"ds": self.ds, "quantities": list(self.gaps), "exponents": self.exponents,
                  "tolerance": self.tolerance, "exact": self.exact, "simulations": simulations,
                  "odes": odes}
        return fields, {**{f"gaps/{q}": g for q, g in self.gaps.items()},
                        **{f"mean_gaps/{q}": g for q, g in self.mean_gaps.items()},
                        **simulated, **integrated}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> ValidationReport:
        quantities = header["quantities"]
        simulations = restore_parts(Simulation, header["simulations"], arrays, "simulations")
        odes = restore_parts(Trajectory, header["odes"], arrays, "odes")
        return cls(tuple(header["ds"]), {q: arrays[f"gaps/{q}"] for q in quantities},
                   {q: arrays[f"mean_gaps/{q}"] for q in quantities}, header["exponents"],
                   tuple(header["tolerance"]), simulations, odes, tuple(header["exact"]))


def validate(
    model: Model,
    ds: tuple[int, ...] | list[int],
    times: np.ndarray,
    *,
    seeds: int | tuple[int, ...] = 4,
    tolerance: tuple[float, float] = (-0.75, -0.3),
    n_test: int = 0,
    init: tuple[np.ndarray, np.ndarray] | None = None,
    store: str | os.PathLike | None = None,
    progress: bool = False,
) -> ValidationReport:
    """Simulate ``model`` at each d and compare with its ODE (see the module docstring).

    Args:
        model: the model.
        ds: at least two dimensions.
        times: the time grid t = steps/d (0 included).
        seeds: a number of seeds (0, 1, …) or the seeds themselves.
        tolerance: accepted interval for the fitted exponents.
        n_test: held-out samples per saved time for the test-set risk.
        init: a warm start ``(M, Q)`` (p×k, p×p) for every run, else the random init.
        store: a folder keeping every finished (d, seed) run; a rerun resumes from it.
        progress: show a tqdm progress bar over the (d, seed) runs.

    Raises:
        OverlapdynError: ``store`` holds runs of another model, time grid, warm start or
            ``n_test``.
    """
    ds = tuple(int(d) for d in ds)
    if len(set(ds)) < 2:
        raise OverlapdynError(f"validation needs at least two different dimensions to fit an "
                              f"exponent, got d = {ds}")
    seeds = check_seeds(seeds, "validation")
    times = np.asarray(times, dtype=float)
    compiled = CompiledModel(model)
    quantities = QUANTITIES if model.student.train_readout else QUANTITIES[:3]
    gaps = {q: np.zeros((len(ds), len(seeds))) for q in quantities}
    mean_gaps = {q: np.zeros(len(ds)) for q in quantities}
    simulations, odes = [], []
    store = None if store is None else Path(store)
    if store is not None:
        _open_store(store, model, times, init, n_test)
    from tqdm.auto import tqdm

    with tqdm(total=len(ds) * len(seeds), disable=not progress, unit="run",
              desc="simulations") as bar:
        for i, d in enumerate(ds):
            bar.set_postfix_str(f"d={d}")
            kwargs = dict(n_test=n_test, init=init, compiled=compiled)
            if store is None:
                simulation = simulate(model, d, times, seeds=seeds, **kwargs)
                bar.update(len(seeds))
            else:
                simulation = _simulate_stored(store, model, d, times, seeds, bar, kwargs)
            runs = []
            for s, run in enumerate(simulation.trajectories):
                ode = integrate(compiled, (run.M[0], run.Q[0], run.a[0]), SaveAt.at(run.t),
                                on_failure="return")
                runs.append(ode)
                for q in quantities:
                    sim, theory = getattr(run, q), getattr(ode, q)
                    length = min(len(sim), len(theory))
                    gaps[q][i, s] = np.max(np.abs(sim[:length] - theory[:length]))
            length = min(len(r.t) for r in (*runs, *simulation.trajectories))
            for q in quantities:
                sim_mean = np.mean([getattr(r, q)[:length] for r in simulation.trajectories], 0)
                ode_mean = np.mean([getattr(r, q)[:length] for r in runs], 0)
                mean_gaps[q][i] = np.max(np.abs(sim_mean - ode_mean))
            simulations.append(simulation)
            odes.append(tuple(runs))
    exact = tuple(q for q in quantities if np.all(gaps[q] <= EXACT_GAP))
    exponents = {q: loglog_slope(ds, gaps[q].mean(axis=1)) for q in quantities
                 if q not in exact}
    return ValidationReport(ds, gaps, mean_gaps, exponents, tolerance, tuple(simulations),
                            tuple(odes), exact)


def summary_curves(trajectory: Trajectory) -> dict[str, np.ndarray]:
    """The scalar curves that summarise a run, compared between simulation and ODE.

    Returns:
        ``risk``: R(t), shape (T,); ``alignment``: ``max_j |M_jr|(t)`` per latent r, shape
        (T, k); ``self_overlap``: the mean over j of ``Q_jj(t)``, shape (T,); and, with a
        trained readout, ``readout``: the mean over j of ``a_j(t)``, shape (T,).
    """
    curves = {"risk": trajectory.risk, "alignment": np.abs(trajectory.M).max(axis=1),
              "self_overlap": np.diagonal(trajectory.Q, axis1=1, axis2=2).mean(axis=1)}
    if trajectory.model.student.train_readout:
        curves["readout"] = trajectory.a.mean(axis=1)
    return curves


def _simulate_stored(store: Path, model: Model, d: int, times: np.ndarray,
                     seeds: tuple[int, ...], bar, kwargs: dict) -> Simulation:
    """The runs of ``seeds`` at ``d``: loaded from ``store`` where saved, else simulated in
    chunks of Numba's thread count and saved one seed at a time."""
    import numba

    runs: dict[int, Trajectory] = {}
    for seed in seeds:
        path = store / f"sim_d{d}_seed{seed}.npz"
        if path.exists():
            run = Trajectory.load(path)
            if (run.model.fingerprint() != model.fingerprint()
                    or run.sgd is None or (run.sgd.d, run.sgd.seed) != (d, seed)):
                raise OverlapdynError(f"{path} does not hold the run d = {d}, seed = {seed} of "
                                      f"this model; remove it or pick another store folder")
            runs[seed] = run
            bar.update(1)
    missing = [seed for seed in seeds if seed not in runs]
    chunk, wall, steps = max(1, numba.get_num_threads()), 0.0, None
    for start in range(0, len(missing), chunk):
        part = tuple(missing[start:start + chunk])
        simulation = simulate(model, d, times, seeds=part, **kwargs)
        wall += simulation.wall_time_s
        steps = simulation.steps
        for seed, run in zip(part, simulation.trajectories, strict=True):
            run.save(store / f"sim_d{d}_seed{seed}.npz")
            runs[seed] = run
            bar.update(1)
    trajectories = tuple(runs[seed] for seed in seeds)
    if steps is None:  # all loaded: the last step of the grid, as simulate rounds it
        steps = int(np.round(times * d).astype(np.int64).max())
    return Simulation(trajectories, d, seeds, wall_time_s=wall, steps=steps,
                      loaded_from_store=len(seeds) - len(missing))


def _open_store(store: Path, model: Model, times: np.ndarray, init, n_test: int) -> None:
    """Create ``store`` with its manifest, or check that an existing manifest matches."""
    manifest = {
        "format": _STORE_FORMAT, "version": _STORE_VERSION,
        "fingerprint": model.fingerprint(), "model": model.to_dict(),
        "times": times.tolist(), "n_test": int(n_test),
        "init": None if init is None else [np.asarray(init[0], float).tolist(),
                                           np.asarray(init[1], float).tolist()],
    }
    open_manifest(store, manifest, what="runs", checked=(
        ("model (fingerprint)", "fingerprint"), ("time grid", "times"),
        ("warm start", "init"), ("n_test", "n_test")))

