r"""Theory against simulation: the ODE started at each run's measured overlaps, gap vs d.

For every dimension d and seed, the simulator runs SPEC's SGD; the ODE is integrated from
that run's measured initial overlaps (M(0), Q(0), a(0)) onto the same time grid. Per
quantity q ∈ {risk, M, Q, a} the report gives

* the per-seed sup-norm gap ``sup_t max_entries |q_sim(t) − q_ode(t)|``, mean ± std over
  seeds — one run's fluctuation around the deterministic limit, theory ``∝ d^(−1/2)``;
* the gap of the seed means ``sup_t |⟨q_sim⟩ − ⟨q_ode⟩|``;
* the finite-size exponent: the slope of log(mean per-seed gap) against log d.

What the verdict stands on. Every gap is taken on one common time range, ``t ∈ [0, T]``
with T the earliest end of any run (simulation or ODE, any d and seed): a run that failed
(the simulation's error turned non-finite, the ODE blew up) ends early, and comparing each
run on its own range would set gaps over different times against each other. The report
states T and how many saved times each d compared (:attr:`ValidationReport.compared`).

The :class:`Verdict` is

* ``UNDETERMINED`` when a run failed on either side (each failure is listed, with its
  stored cause, in :attr:`ValidationReport.failures`) or fewer than
  ``MIN_COMPARED_TIMES`` saved times after t = 0 are left at some d: the gaps and exponents
  are still reported, on what was left, but they are not a verdict. ``passed`` is False.
* ``PASS`` when every quantity's exponent lies in the tolerance interval (default
  [−0.75, −0.3] around the theoretical −1/2), ``FAIL`` otherwise.

A quantity that both sides conserve exactly (``Q_jj = 1`` of spherical SGD with p = 1: every
gap at round-off, ≤ 1e-9) has no exponent to fit; it is reported as ``exact`` and left out
of the verdict. The ODE of each run is integrated on the simulation's whole grid (the
times rounded to whole steps, as :func:`~overlapdyn.sgd.simulator.simulate` records them),
whether or not that run failed.

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

import enum
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..compile.compiled import CompiledModel
from ..errors import ConfigError, OverlapdynError
from ..fits import line_fit, loglog_slope
from ..model.checks import check_seeds
from ..model.spec import Model
from ..ode.integrator import SaveAt, integrate
from ..ode.sde import SAMPLES
from ..ode.trajectory import Outcome, Trajectory
from ..progress import progress_bar
from ..storage.encoding import jsonable
from ..storage.files import remove_stale_temporaries
from ..storage.results import Result, archive_parts, restore_parts
from ..storage.store import open_manifest
from ..storage.versions import library_versions
from .simulator import Simulation, recorded_steps, simulate
from .statistical import SDEValidationReport, validate_sde

__all__ = ["MIN_COMPARED_TIMES", "Compared", "ValidationReport", "Verdict", "summary_curves",
           "validate"]

QUANTITIES = ("risk", "M", "Q", "a")
EXACT_GAP = 1e-9   # gaps at or below this at every d and seed: a conserved quantity
#: the fewest saved times after t = 0 that every d must compare for a verdict
MIN_COMPARED_TIMES = 2
#: std/mean of the per-seed gaps at the largest d from which a FAIL says the runs scatter
SCATTER_HINT = 0.5


class Verdict(enum.Enum):
    """What a validation concludes; each value is the word the report prints."""

    PASS = "PASS"
    FAIL = "FAIL"
    UNDETERMINED = "UNDETERMINED"


@dataclass(frozen=True)
class Compared:
    """The time range every gap of a report is taken on.

    Attributes:
        t_end: T of ``t ∈ [0, T]``, the earliest end of any run.
        points: per d, the saved times compared (t = 0 included).
        grid_points: per d, the saved times of the whole grid.
    """

    t_end: float
    points: tuple[int, ...]
    grid_points: tuple[int, ...]

    def describe(self) -> str:
        counts = ", ".join(f"{n} of {total}" for n, total in zip(self.points, self.grid_points,
                                                                  strict=True))
        return f"compared on t ∈ [0, {self.t_end:.4g}]: {counts} saved times per d"
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
        times: the time grid asked for (None in a version-1 file, which did not keep it).
        n_test: held-out samples per saved time of the test risk.
        init: the warm start ``(M, Q)`` of every run, or None (the random start).

    What the gaps stand on is derived from the runs: :attr:`compared` (the common time
    range), :attr:`failures` (each failed run and its cause) and :attr:`verdict`.

    :meth:`save` writes the whole report, runs included, and its JSON summary
    (:meth:`to_dict`) beside it.
    """

    FORMAT = "overlapdyn.ValidationReport"
    VERSION = 2
    READS = (1, 2)

    ds: tuple[int, ...]
    gaps: dict
    mean_gaps: dict
    exponents: dict
    tolerance: tuple[float, float]
    simulations: tuple[Simulation, ...] = field(repr=False)
    odes: tuple = field(repr=False)
    exact: tuple[str, ...] = ()
    times: np.ndarray | None = field(default=None, repr=False)
    n_test: int = 0
    init: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def compared(self) -> Compared:
        """The common time range of every gap, and the saved times each d compared."""
        return _compared(self.ds, self.simulations, self.odes, self.times)

    @property
    def failures(self) -> tuple[str, ...]:
        """Each run that failed, simulation or ODE, with its stored cause."""
        lines = []
        for d, simulation, odes in zip(self.ds, self.simulations, self.odes, strict=True):
            for seed, run, ode in zip(simulation.seeds, simulation.trajectories, odes,
                                      strict=True):
                lines += [f"{side} at d = {d}, seed {seed}: {trajectory.message}"
                          for side, trajectory in (("simulation", run), ("ODE", ode))
                          if trajectory.outcome is Outcome.FAILED]
        return tuple(lines)

    @property
    def verdict(self) -> Verdict:
        """UNDETERMINED when a run failed or too few times are left to compare, else PASS
        when every exponent lies in the tolerance interval, else FAIL."""
        if self.failures or min(self.compared.points) - 1 < MIN_COMPARED_TIMES:
            return Verdict.UNDETERMINED
        low, high = self.tolerance
        inside = all(low <= value <= high for value in self.exponents.values())
        return Verdict.PASS if inside else Verdict.FAIL

    @property
    def passed(self) -> bool:
        """Whether the verdict is PASS (False when FAIL or UNDETERMINED)."""
        return self.verdict is Verdict.PASS

    @property
    def reason(self) -> str:
        """Why the verdict is what it is, in one line."""
        verdict, compared = self.verdict, self.compared
        if verdict is Verdict.UNDETERMINED:
            failures = self.failures
            if failures:
                return (f"{len(failures)} run(s) failed, first: {failures[0]}; "
                        f"{compared.describe()}")
            return (f"too few times left to compare (at least {MIN_COMPARED_TIMES} after "
                    f"t = 0 at every d): {compared.describe()}")
        low, high = self.tolerance
        if verdict is Verdict.PASS:
            return f"every exponent in [{low}, {high}] (theory −1/2); {compared.describe()}"
        failing = [quantity for quantity, value in self.exponents.items()
                   if not low <= value <= high]
        outside = ", ".join(f"{quantity} {self.exponents[quantity]:+.2f}"
                            for quantity in failing)
        return (f"exponent outside [{low}, {high}] (theory −1/2): {outside}; "
                f"{compared.describe()}{self._scatter_hint(failing)}")

    def _scatter_hint(self, failing: list[str]) -> str:
        """Why a FAIL may not be the ODE's: per-seed gaps at the largest d that scatter as
        much as their mean come from runs that leave a plateau (or a random start) at
        noise-driven times, which no d^(−1/2) law covers."""
        spread = {q: float(self.gaps[q][-1].std() / self.gaps[q][-1].mean())
                  for q in failing if self.gaps[q][-1].mean() > 0}
        scattered = {q: value for q, value in spread.items() if value >= SCATTER_HINT}
        if not scattered:
            return ""
        worst = max(scattered, key=scattered.get)
        return (f"; the per-seed gaps scatter (std/mean {scattered[worst]:.2f} for {worst} at "
                f"d = {self.ds[-1]}): runs that leave a plateau or a random start at "
                "noise-driven times — compare before the escape (shorter times), start warm, "
                "or compare seed means (mean_gaps)")

    def describe(self) -> str:
        """A plain-text report: gaps per d and quantity, exponents, the failed runs, the
        verdict and what it stands on (the time range and saved times compared)."""
        lines = [f"{'quantity':<8} " + " ".join(f"{'d=' + str(d):>22}" for d in self.ds)
                 + f" {'exponent':>9}"]
        for q in self.gaps:
            cells = [f"{self.gaps[q][i].mean():.2e} ± {self.gaps[q][i].std():.1e}"
                     if np.all(np.isfinite(self.gaps[q][i])) else "not compared"
                     for i in range(len(self.ds))]
            exponent = ("exact" if q in self.exact else
                        f"{self.exponents[q]:.3f}" if q in self.exponents else "—")
            lines.append(f"{q:<8} " + " ".join(f"{c:>22}" for c in cells)
                         + f" {exponent:>9}")
        lines += [f"  {failure}" for failure in self.failures]
        lines.append(f"verdict: {self.verdict.value} — {self.reason}; gaps are per-seed "
                     f"sup-norms, mean ± std")
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
        ``exact``, ``tolerance``, ``verdict`` (PASS, FAIL or UNDETERMINED), ``reason``,
        ``passed``, ``compared`` (``{"t_end", "points", "grid_points"}``), ``failures``,
        ``times``, ``n_test``, ``init`` (``[M, Q]`` or null), ``model``
        (:meth:`Model.to_dict`), ``fingerprint`` and ``library_versions``.
        """
        model = self.simulations[0].trajectories[0].model
        compared = self.compared
        return jsonable({
            "ds": list(self.ds),
            "seeds": list(self.simulations[0].seeds),
            "gaps": {q: {"mean": g.mean(axis=1).tolist(), "std": g.std(axis=1).tolist(),
                         "per_seed": g.tolist()} for q, g in self.gaps.items()},
            "mean_gaps": {q: g.tolist() for q, g in self.mean_gaps.items()},
            "exponents": dict(self.exponents),
            "exact": list(self.exact),
            "tolerance": list(self.tolerance),
            "verdict": self.verdict.value,
            "reason": self.reason,
            "passed": self.passed,
            "compared": {"t_end": compared.t_end, "points": list(compared.points),
                         "grid_points": list(compared.grid_points)},
            "failures": list(self.failures),
            "times": None if self.times is None else np.asarray(self.times).tolist(),
            "n_test": int(self.n_test),
            "init": None if self.init is None else [np.asarray(x).tolist() for x in self.init],
            "model": model.to_dict(),
            "fingerprint": model.fingerprint(),
            "library_versions": library_versions(),
        }, "the validation report", strict=True)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        simulations, simulated = archive_parts(self.simulations, "simulations")
        odes, integrated = archive_parts(self.odes, "odes")
        fields = {"ds": self.ds, "quantities": list(self.gaps), "exponents": self.exponents,
                  "tolerance": self.tolerance, "exact": self.exact, "simulations": simulations,
                  "odes": odes, "n_test": int(self.n_test),
                  "init": None if self.init is None else [np.asarray(x).tolist()
                                                          for x in self.init]}
        extra = {} if self.times is None else {"times": np.asarray(self.times, dtype=float)}
        return fields, {**extra, **{f"gaps/{q}": g for q, g in self.gaps.items()},
                        **{f"mean_gaps/{q}": g for q, g in self.mean_gaps.items()},
                        **simulated, **integrated}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> ValidationReport:
        quantities = header["quantities"]
        simulations = restore_parts(Simulation, header["simulations"], arrays, "simulations")
        odes = restore_parts(Trajectory, header["odes"], arrays, "odes")
        init = header.get("init")     # version 1 kept neither the warm start nor n_test
        return cls(tuple(header["ds"]), {q: arrays[f"gaps/{q}"] for q in quantities},
                   {q: arrays[f"mean_gaps/{q}"] for q in quantities}, header["exponents"],
                   tuple(header["tolerance"]), simulations, odes, tuple(header["exact"]),
                   times=arrays.get("times"), n_test=int(header.get("n_test", 0)),
                   init=None if init is None else tuple(np.array(x, float) for x in init))


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
    compiled: CompiledModel | None = None,
    route: str = "ode",
    paths: int = 1000,
    threshold: float = 0.5,
    level: float = 0.01,
    noise: str = "sampled",
    samples: int = SAMPLES,
) -> ValidationReport | SDEValidationReport:
    """Simulate ``model`` at each d and compare with its ODE (see the module docstring), or
    with ``route="sde"`` with the overlap SDE, statistically
    (:func:`~overlapdyn.sgd.statistical.validate_sde`: escape-time distributions and mean
    curves, for a start that SGD leaves by noise).

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
        compiled: ``model``'s compiled drift, to use another derivation than the automatic
            choice (built with it if None).
        route: ``"ode"`` (the sup-norm gaps and their exponent in d: a
            :class:`ValidationReport`) or ``"sde"`` (an
            :class:`~overlapdyn.sgd.statistical.SDEValidationReport`; ``seeds`` SGD runs
            against ``paths`` SDE paths per d, escape at cosine ``threshold``, verdict at
            significance ``level``; one d is enough).
        paths, threshold, level: the ``sde`` route's.
        noise, samples: the ``sde`` route's noise scheme and samples per step
            (:func:`~overlapdyn.ode.sde.integrate_sde`).

    Raises:
        OverlapdynError: ``store`` holds runs of another model, time grid, warm start or
            ``n_test``.
    """
    if route == "sde":
        if store is not None or n_test:
            raise ConfigError("the sde route keeps no store and no test risk: drop store "
                              "and n_test")
        return validate_sde(model, ds, times, seeds=seeds, paths=paths, threshold=threshold,
                            level=level, init=init, noise=noise, samples=samples,
                            compiled=compiled)
    if route != "ode":
        raise ConfigError(f"route must be 'ode' or 'sde', got {route!r}")
    ds = tuple(int(d) for d in ds)
    if len(set(ds)) < 2:
        raise OverlapdynError(f"validation needs at least two different dimensions to fit an "
                              f"exponent, got d = {ds}")
    seeds = check_seeds(seeds, "validation")
    times = np.asarray(times, dtype=float)
    for d in ds:
        recorded_steps(times, d)                 # a bad grid is refused before any run
    if compiled is None:
        compiled = CompiledModel(model)
    elif compiled.model.fingerprint() != model.fingerprint():
        raise OverlapdynError(f"the compiled drift given is that of {compiled.model.name} "
                              f"[fingerprint {compiled.model.fingerprint()}], not of "
                              f"{model.name} [fingerprint {model.fingerprint()}]")
    quantities = QUANTITIES if model.student.train_readout else QUANTITIES[:3]
    simulations, odes = [], []
    store = None if store is None else Path(store)
    if store is not None:
        _open_store(store, model, times, init, n_test)
    with progress_bar(progress, total=len(ds) * len(seeds), unit="run",
              desc="simulations") as bar:
        for d in ds:
            bar.set_postfix_str(f"d={d}")
            kwargs = dict(n_test=n_test, init=init, compiled=compiled)
            if store is None:
                simulation = simulate(model, d, times, seeds=seeds, **kwargs)
                bar.update(len(seeds))
            else:
                simulation = _simulate_stored(store, model, d, times, seeds, bar, kwargs)
            # the ODE on the simulation's whole grid: a simulation that failed early still
            # has its ODE, and the ODE's own outcome says whether the theory ran through
            grid = SaveAt.at(recorded_steps(times, d) / d)
            odes.append(tuple(integrate(compiled, (run.M[0], run.Q[0], run.a[0]), grid,
                                        on_failure="return")
                              for run in simulation.trajectories))
            simulations.append(simulation)
    compared = _compared(ds, simulations, odes, times)
    gaps, mean_gaps = _gaps(quantities, simulations, odes, compared)
    exact = tuple(q for q in quantities if np.all(gaps[q] <= EXACT_GAP))
    exponents = {q: loglog_slope(ds, gaps[q].mean(axis=1)) for q in quantities
                 if q not in exact and np.all(np.isfinite(gaps[q]))}
    return ValidationReport(ds, gaps, mean_gaps, exponents, tolerance, tuple(simulations),
                            tuple(odes), exact, times=times, n_test=int(n_test),
                            init=None if init is None else (np.asarray(init[0], float),
                                                            np.asarray(init[1], float)))


def _compared(ds: tuple[int, ...], simulations, odes, times: np.ndarray | None) -> Compared:
    """The common range ``[0, T]`` of every run (T: the earliest end of any simulation or
    ODE), the saved times each d has in it, and each d's whole grid (from ``times``; a
    version-1 report without them: the longest run at that d)."""
    runs = [(*simulation.trajectories, *ode) for simulation, ode in zip(simulations, odes,
                                                                          strict=True)]
    t_end = min(float(run.t[-1]) for at_d in runs for run in at_d)
    longest = [max(at_d, key=lambda run: run.t.size).t for at_d in runs]
    points = tuple(int(np.count_nonzero(t <= t_end)) for t in longest)
    grid = tuple(len(t) if times is None else recorded_steps(times, d).size
                 for d, t in zip(ds, longest, strict=True))
    return Compared(t_end, points, grid)


def _gaps(quantities, simulations, odes, compared: Compared) -> tuple[dict, dict]:
    """Per quantity, the per-seed sup-norm gaps (len(ds), seeds) and the gaps of the seed
    means (len(ds),), over the common range: NaN at a d that compares t = 0 only, where the
    ODE starts at the run's own overlaps and the gap is zero by construction."""
    gaps = {q: np.full((len(simulations), len(simulations[0].seeds)), np.nan)
            for q in quantities}
    mean_gaps = {q: np.full(len(simulations), np.nan) for q in quantities}
    for i, (simulation, runs) in enumerate(zip(simulations, odes, strict=True)):
        n = compared.points[i]
        if n < 2:
            continue
        for q in quantities:
            sim = np.stack([getattr(run, q)[:n] for run in simulation.trajectories])
            ode = np.stack([getattr(run, q)[:n] for run in runs])
            gaps[q][i] = np.abs(sim - ode).reshape(len(sim), -1).max(axis=1)
            mean_gaps[q][i] = np.max(np.abs(sim.mean(axis=0) - ode.mean(axis=0)))
    return gaps, mean_gaps


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
    remove_stale_temporaries(store)

