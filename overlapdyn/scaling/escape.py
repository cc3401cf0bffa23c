r"""Escape times from a random start, measured on the ODE and on finite-d SGD, versus d.

The *escape time* is the first time the cosine overlap with a target direction,

    ``m(t) = max_{j, r} |M_jr| / √(Q_jj P_rr)``    (r fixed when ``direction`` is given),

reaches a threshold (default ½). It is reported as a sample count ``n = t·d·n_b``
(SPEC: ``t = steps/d``, ``n = steps·n_b``). Three routes:

* **ODE** — the overlap ODEs started from ``M₀ = d^{-1/2} Z`` (Z = 1 for one neuron, else
  Gaussian with a seed; see :func:`escape_start`), ``Q₀ = I``: the high-dimensional limit
  of a random start, where d enters only through the size of M₀ and the learning rate.
  Deterministic; one number per d (per Z).
* **simulation** — :func:`~overlapdyn.sgd.simulator.simulate` from the SPEC's random init at
  dimension d, many seeds, each stopped at its escape; the escape time is interpolated
  (in log t) between saved times.
* **SDE** — :func:`~overlapdyn.ode.sde.integrate_sde`, the overlap SDE at dimension d (the
  ODE plus SGD's O(1/d) diffusion) from the SPEC's random init at d, many paths, each
  stopped at its escape (the crossing interpolated within the Euler–Maruyama step): the
  distribution of escape times where the escape is noise-driven, at the cost of the
  overlaps, not of the weights.

In both, the learning rate is ``η(d) = η₀ d^{−(ℓ−2)/2}`` for ℓ ≥ 3 (η₀ = the model's η; see
:mod:`overlapdyn.scaling.prediction`) unless ``scale_eta=False``. :meth:`EscapeTimes.fit` fits the
exponent of n against d and compares it with the prediction ``max(ℓ−1, 1)``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..compile.compiled import CompiledModel
from ..derive.methods import Derivation
from ..errors import LearningRateWarning, OverlapdynError
from ..model.checks import check_seeds
from ..model.spec import Model, model_from_dict
from ..ode.events import OverlapCrosses
from ..ode.integrator import SaveAt, Solver, integrate
from ..ode.sde import SAMPLES, integrate_sde
from ..ode.state import overlap_cosines
from ..ode.trajectory import Trajectory
from ..progress import progress_bar
from ..sgd.simulator import simulate
from ..storage.encoding import jsonable
from ..storage.results import Result, archive_part, archive_parts, restore_part, restore_parts
from .prediction import ExponentFit, ScalingPrediction, fit_exponent, predict_scaling
from .start import critical_learning_rate, escape_start

__all__ = [
    "ESCAPE_SOLVER",
    "EscapeComparison",
    "EscapeTimes",
    "compare_escape_times",
    "escape_horizon",
    "escape_time",
    "learned_overlaps",
    "escape_runs_ode",
    "measure_escape_ode",
    "measure_escape_sde",
    "measure_escape_simulated",
    "model_at",
]


def model_at(model: Model, d: int, prediction: ScalingPrediction | None = None) -> Model:
    """The model with the learning rate of dimension d: ``η₀ d^{−(ℓ−2)/2}`` (ℓ ≥ 3)."""
    prediction = prediction or predict_scaling(model)
    eta = prediction.learning_rate(model.protocol.eta, d)
    return dataclasses.replace(model, protocol=dataclasses.replace(model.protocol, eta=eta))


def escape_time(trajectory: Trajectory, threshold: float, direction: int | None = None
                ) -> float:
    """First time the cosine overlap reaches ``threshold``, interpolated linearly in log t
    between the saved times around the crossing; ``nan`` if it never does."""
    m = learned_overlaps(trajectory)
    return crossing_time(trajectory.t, m.max(axis=1) if direction is None else m[:, direction],
                         threshold)


def learned_overlaps(trajectory: Trajectory) -> np.ndarray:
    """Per saved time and latent direction r, the best cosine overlap over the student
    neurons: ``max_j |M_jr|/√(Q_jj P_rr)``, shape (T, k)."""
    P_diagonal = np.diag(trajectory.model.target.gram)
    return overlap_cosines(trajectory.M, trajectory.Q, P_diagonal).max(axis=1)


def crossing_time(t: np.ndarray, m: np.ndarray, threshold: float) -> float:
    """First time the curve ``m`` (shape (T,)) reaches ``threshold``, interpolated linearly
    in log t (in t when it starts at t ≤ 0); ``nan`` if it never does."""
    above = np.flatnonzero(m >= threshold)
    if above.size == 0:
        return math.nan
    i = above[0]
    if i == 0:
        return float(t[0])
    t0, t1 = t[i - 1], t[i]
    fraction = (threshold - m[i - 1]) / (m[i] - m[i - 1])
    if t0 <= 0:
        return float(t0 + fraction * (t1 - t0))
    return float(np.exp(np.log(t0) + fraction * (np.log(t1) - np.log(t0))))


@dataclass(frozen=True)
class EscapeTimes(Result):
    """Escape times over a grid of dimensions.

    Attributes:
        route: ``"ode"``, ``"simulation"`` or ``"sde"``.
        model: the base model (η₀ = ``model.protocol.eta``).
        ds: the dimensions, length D.
        etas: the learning rate used at each d.
        times: escape times ``t`` (D, S): S starts (ODE), seeds (simulation) or paths (SDE);
            ``nan``: no escape before ``t_max``.
        threshold: the cosine overlap that counts as escaped.
        prediction: the :class:`~overlapdyn.scaling.prediction.ScalingPrediction` of the target.
        trajectories: the runs (D × S), for plots.
        t_max: the horizon of the runs at each d.
        direction: the latent direction r measured (0-based), or None for the best of all.
        scale_eta: whether η was scaled as ``η₀ d^{−(ℓ−2)/2}``.
        seeds: ODE route: the seeds of the starts' Z (None: the default start of
            :func:`escape_start`); simulation route: the SGD seeds; SDE route: the one seed
            of the paths.
        method: the ODE route's integrator; the SDE route's ``"euler-maruyama dt=…"``.
        n_saves: saved times per simulated run.
        wall_time_s: the simulation route's wall time of the compiled loop, per d.
        reuse: None for one-pass SGD; for online SGD with data reuse
            (:mod:`overlapdyn.reuse.escape`), the protocol on top of ``model``:
            ``{"kind": "extragradient" | "repeat", "rho": ρ, "repeats": k}`` plus, for the
            ODE route, ``"rule"`` (the quadrature of its drift). ``prediction`` is then
            normally the reuse column (:meth:`ScalingPrediction.with_reuse`).

    :meth:`save` writes everything, runs included, and the JSON summary :meth:`to_dict`
    beside it.
    """

    FORMAT = "overlapdyn.EscapeTimes"
    VERSION = 2
    READS = (1, 2)

    route: str
    model: Model
    ds: tuple[int, ...]
    etas: tuple[float, ...]
    times: np.ndarray
    threshold: float
    prediction: ScalingPrediction
    trajectories: tuple = field(default=(), repr=False)
    t_max: tuple[float, ...] = ()
    direction: int | None = None
    scale_eta: bool = True
    seeds: tuple[int, ...] | None = None
    method: str | None = None
    n_saves: int | None = None
    wall_time_s: tuple[float, ...] | None = None
    reuse: dict | None = None

    @property
    def protocol(self) -> str:
        """The training protocol as text, e.g. ``"one pass"``, ``"extragradient ρ = 0.1"``
        or ``"repeat k = 2"``."""
        if self.reuse is None:
            return "one pass"
        if self.reuse["kind"] == "extragradient":
            return f"extragradient ρ = {self.reuse['rho']:g}"
        return f"repeat k = {self.reuse['repeats']}"

    @property
    def samples(self) -> np.ndarray:
        """``n = t·d·n_b`` (D, S)."""
        return self.times * np.asarray(self.ds, float)[:, None] * self.model.protocol.n_b

    @property
    def median_samples(self) -> np.ndarray:
        """Median of n over the runs at each d, runs that did not escape counting as later
        than all others (``inf`` when more than half did not escape) (D,)."""
        return np.median(np.where(np.isfinite(self.samples), self.samples, np.inf), axis=1)

    @property
    def fittable(self) -> bool:
        """Whether at least two dimensions have a finite median, so an exponent exists."""
        return int(np.isfinite(self.median_samples).sum()) >= 2

    @property
    def escaped(self) -> np.ndarray:
        """Fraction of runs that escaped, per d (D,)."""
        return np.isfinite(self.times).mean(axis=1)

    def fit(self, *, log_factor: bool | None = None, level: float = 0.95) -> ExponentFit:
        """The fitted exponent of n against d (``n/log d`` when the prediction has ℓ = 2)."""
        log_factor = self.prediction.log_factor if log_factor is None else log_factor
        return fit_exponent(self.ds, self.samples, log_factor=log_factor, level=level)

    def agrees(self, tolerance: float) -> bool:
        """Whether the fitted exponent is within ``tolerance`` of ``max(ℓ−1, 1)``."""
        return self.fit().agrees(self.prediction.sample_exponent, tolerance)

    def describe(self, tolerance: float = 0.15) -> str:
        """Per-d escape samples (median and spread) and the fit against the prediction
        (``tolerance``: the largest ``|fitted − predicted|`` exponent that counts as agreeing)."""
        lines = [f"{self.route} route, {self.protocol}, threshold m = {self.threshold:g}, "
                 f"{self.times.shape[1]} run(s) per d",
                 f"{'d':>7} {'η':>10} {'escaped':>8} {'median n':>11} {'n/d':>10} "
                 f"{'16–84 % of n':>23}"]
        for i, d in enumerate(self.ds):
            n = self.samples[i]
            finite = n[np.isfinite(n)]
            median = self.median_samples[i]
            band = (f"{np.percentile(finite, 16):.3g} … {np.percentile(finite, 84):.3g}"
                    if finite.size > 1 else "—")
            lines.append(f"{d:>7} {self.etas[i]:>10.4g} {self.escaped[i]:>8.0%} "
                         f"{median:>11.4g} {median / d:>10.4g} {band:>23}")
        if not self.fittable:
            lines.append("fit: fewer than two dimensions escaped — no exponent")
            return "\n".join(lines)
        fit = self.fit()
        predicted = self.prediction.sample_exponent
        verdict = "agrees" if fit.agrees(predicted, tolerance) else "DISAGREES"
        inside = "inside" if fit.ci[0] <= predicted <= fit.ci[1] else "outside"
        lines.append(f"fit: {fit.describe()}")
        lines.append(f"predicted: {predicted} ({self.prediction.column}, "
                     f"{self.prediction.symbol} = {self.prediction.governing}"
                     f"{', log factor divided out' if fit.log_factor else ''}); difference "
                     f"{fit.exponent - predicted:+.3f}: {verdict} within ±{tolerance:g} "
                     f"(prediction {inside} the CI)")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Everything but the trajectories; ``fit`` is None when no exponent exists; the run
        settings under ``metadata``."""
        fit = self.fit() if self.fittable else None
        settings = {"t_max": list(self.t_max), "direction": self.direction}
        if self.route == "ode":
            settings.update(start="default" if self.seeds is None else list(self.seeds),
                            scale_eta=self.scale_eta, method=self.method)
        else:
            settings.update(seeds=None if self.seeds is None else list(self.seeds),
                            scale_eta=self.scale_eta,
                            wall_time_s=None if self.wall_time_s is None else list(
                                self.wall_time_s), n_saves=self.n_saves)
        return {"route": self.route, "model": self.model.to_dict(), "ds": list(self.ds),
                "etas": list(self.etas), "threshold": self.threshold,
                "times": jsonable(self.times, "times", strict=True),
                "prediction": self.prediction.to_dict(),
                "fit": None if fit is None else fit.to_dict(),
                "protocol": self.protocol, "reuse": self.reuse,
                "metadata": settings}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        prediction, predicted = archive_part(self.prediction, "prediction")
        runs, measured = archive_parts(self.trajectories, "runs")
        fields = {"route": self.route, "model": self.model.to_dict(), "ds": self.ds,
                  "etas": self.etas, "threshold": self.threshold, "prediction": prediction,
                  "t_max": self.t_max, "direction": self.direction,
                  "scale_eta": self.scale_eta, "seeds": self.seeds, "method": self.method,
                  "n_saves": self.n_saves, "wall_time_s": self.wall_time_s, "runs": runs,
                  "reuse": self.reuse}
        return fields, {"times": np.asarray(self.times, dtype=float), **predicted, **measured}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> EscapeTimes:
        runs = restore_parts(Trajectory, header["runs"], arrays, "runs")
        optional = {name: None if header[name] is None else tuple(header[name])
                    for name in ("seeds", "wall_time_s")}
        return cls(header["route"], model_from_dict(header["model"]), tuple(header["ds"]),
                   tuple(header["etas"]), arrays["times"], header["threshold"],
                   restore_part(ScalingPrediction, header["prediction"], arrays, "prediction"),
                   runs, tuple(header["t_max"]), header["direction"], header["scale_eta"],
                   method=header["method"], n_saves=header["n_saves"],
                   reuse=header.get("reuse"), **optional)   # version 1: one pass only


def _warn_if_held(model_d: Model, d: int, compiled_d: CompiledModel, eta0: float) -> None:
    """Warn (:class:`~overlapdyn.errors.LearningRateWarning`) when the learning rate of
    ``model_d`` does not escape the random start at d (:func:`critical_learning_rate`),
    naming the η₀ that would (half the critical rate)."""
    critical = critical_learning_rate(model_d, d, compiled=compiled_d)
    eta = model_d.protocol.eta
    if not critical.escapes(eta):
        advice = (f"lower η₀ (the model's η, now {eta0:.3g}) below "
                  f"{eta0 * critical.eta / eta:.3g}; half that is a safe choice"
                  if critical.eta > 0 else "no η escapes it: start elsewhere")
        warnings.warn(LearningRateWarning(
            f"η = {eta:.3g} at d = {d} does not escape the random start: "
            f"{critical.describe()}; {advice}"), stacklevel=3)


#: the ODE route's default solver, LSODA with a tiny atol (M₀ = O(d^−1/2) is small)
ESCAPE_SOLVER = Solver(atol=1e-12)


def escape_horizon(prediction: ScalingPrediction, eta0: float, d: int,
                   factor: float = 1e3) -> float:
    """The default horizon of an escape run at dimension d: ``factor/η₀ ·
    d^time_exponent · log d`` — generous, since a terminal event stops each run at its
    escape (the reuse routes pass their own ``factor``)."""
    return factor / eta0 * float(d) ** prediction.time_exponent * math.log(d)


def measure_escape_ode(
    model: Model,
    ds,
    *,
    threshold: float = 0.5,
    direction: int | None = None,
    scale_eta: bool = True,
    seeds=None,
    t_max: float | None = None,
    n_points: int = 400,
    solver: Solver = ESCAPE_SOLVER,
    progress: bool = False,
    prediction: ScalingPrediction | None = None,
    derivation: Derivation | None = None,
) -> EscapeTimes:
    """Escape times of the overlap ODEs from ``M₀ = Z/√d`` for every d in ``ds``.

    Args:
        model: the model; its η is η₀.
        ds: dimensions (at least two for a fit).
        threshold: cosine overlap that counts as escaped.
        direction: a latent direction r (0-based), or None for the best of all.
        scale_eta: use ``η₀ d^{−(ℓ−2)/2}`` (ℓ ≥ 3) rather than η₀ at every d.
        seeds: None for the default start of :func:`escape_start`, or seeds of Gaussian Z
            (one run each).
        t_max: the longest time integrated (default ``10³ d^{max(ℓ−2,0)} log d / η₀``).
        n_points: saved times per run (log-spaced), for plots.
        solver: the ODE solver (default :data:`ESCAPE_SOLVER`).
        progress: show a progress bar.
        prediction: ``predict_scaling(model)``, if already computed.
        derivation: how the kernels are derived (default: the automatic choice).
    """
    prediction = predict_scaling(model) if prediction is None else prediction
    ds = tuple(int(d) for d in ds)
    starts = (None,) if seeds is None else tuple(int(s) for s in seeds)

    def runner(d: int):
        model_d = model_at(model, d, prediction) if scale_eta else model
        compiled_d = CompiledModel(model_d, derivation)  # the generated module loads once
        _warn_if_held(model_d, d, compiled_d, model.protocol.eta)
        return model_d, lambda init, save, events: integrate(compiled_d, init, save,
                                                             events=events, solver=solver)

    etas, times, runs, horizons = escape_runs_ode(
        model, ds, starts, runner,
        lambda d: t_max or escape_horizon(prediction, model.protocol.eta, d),
        threshold=threshold, direction=direction, n_points=n_points, t_first=1e-3,
        desc="ODE escape", progress=progress)
    return EscapeTimes("ode", model, ds, etas, times, threshold, prediction, runs,
                       t_max=horizons, direction=direction, scale_eta=scale_eta,
                       seeds=None if seeds is None else starts, method=solver.method)


def escape_runs_ode(model: Model, ds: tuple[int, ...], starts: tuple, runner, horizon,
                    *, threshold: float, direction: int | None, n_points: int,
                    t_first: float, desc: str, progress: bool = False):
    """The ODE route's loop over d and starts, shared by one-pass SGD
    (:func:`measure_escape_ode`) and SGD with reuse
    (:func:`~overlapdyn.reuse.measure_reuse_escape_ode`).

    Args:
        model: the model (η₀ is its learning rate; the starts are drawn for it).
        ds: the dimensions; starts: ``(None,)`` for :func:`escape_start`'s default, or seeds.
        runner: ``runner(d)`` returns ``(model_d, run)``: the model at d (its η gives the
            row's learning rate) and ``run(init, save, events)`` → a
            :class:`~overlapdyn.ode.trajectory.Trajectory`.
        horizon: ``horizon(d)``, the longest time integrated at d.
        threshold, direction: the :class:`~overlapdyn.ode.events.OverlapCrosses` event that
            marks the escape (the cosine overlap, normalised by P).
        n_points, t_first: the log-spaced saved times of each run.
        desc, progress: the progress bar over d.

    Returns:
        ``(etas, times, runs, horizons)``: η at each d, escape times (D, S) (nan: no escape
        by the horizon), the trajectories (D tuples of S), the horizons (:class:`EscapeTimes`'
        ``etas``, ``times``, ``trajectories`` and ``t_max``).
    """
    times = np.full((len(ds), len(starts)), np.nan)
    etas, runs, horizons = [], [], []
    event = OverlapCrosses(threshold, r=direction, normalized=True, P=model.target.gram)
    for i, d in enumerate(progress_bar(progress, ds, desc=desc)):
        model_d, run = runner(d)
        end = horizon(d)
        row = []
        for s, seed in enumerate(starts):
            init = escape_start(model_d, d, seed=seed)
            save = SaveAt(end, n_points=n_points, log=True, t_first=min(t_first, end / 1e6))
            trajectory = run(init, save, (event,))
            fired = trajectory.events.get(event.name, ())
            times[i, s] = fired[0] if fired else math.nan
            row.append(trajectory)
        etas.append(model_d.protocol.eta)
        horizons.append(end)
        runs.append(tuple(row))
    return tuple(etas), times, tuple(runs), tuple(horizons)


def measure_escape_simulated(
    model: Model,
    ds,
    *,
    seeds=8,
    threshold: float = 0.5,
    direction: int | None = None,
    scale_eta: bool = True,
    t_max: float | None = None,
    horizon_factor: float = 6.0,
    n_saves: int = 300,
    progress: bool = False,
    prediction: ScalingPrediction | None = None,
    reference: np.ndarray | None = None,
    derivation: Derivation | None = None,
) -> EscapeTimes:
    """Escape times of finite-d one-pass SGD from the SPEC's random init, per seed and d.

    Each seed stops at the first saved time where its cosine overlap reaches ``threshold``
    (with ``direction`` given, it runs to the horizon);
    the time is interpolated between saved times (``n_saves`` log-spaced, relative resolution
    ≈ ln(range)/n_saves). Seeds that have not escaped by the horizon count as ``nan``
    (later than all others in the medians).

    Args:
        model, threshold, direction, scale_eta: as :func:`measure_escape_ode`.
        seeds: a number of seeds, or the seeds.
        t_max: the horizon, the same for every d; default ``horizon_factor`` × the ODE's
            escape time from ``|M₀| = d^{-1/2}`` at that d.
        n_saves: saved times per run.
        progress: show a progress bar over d.
        prediction: ``predict_scaling(model)``, if already computed.
        reference: the ODE escape times from the default start per d (shape (D,)), if
            already measured (e.g. ``measure_escape_ode(...).times[:, 0]`` with the same
            threshold, direction and scale_eta): the horizons are sized from them.
        derivation: how the kernels of the ODE reference and of the simulations' overlap
            risk are derived (default: the automatic choice).
    """
    prediction = predict_scaling(model) if prediction is None else prediction
    seeds = check_seeds(seeds, "the simulated escape")
    ds = tuple(int(d) for d in ds)
    times = np.full((len(ds), len(seeds)), np.nan)
    if t_max is None:
        if reference is None:
            reference = measure_escape_ode(model, ds, threshold=threshold, direction=direction,
                                           scale_eta=scale_eta, n_points=50,
                                           prediction=prediction,
                                           derivation=derivation).times[:, 0]
        reference = np.asarray(reference, dtype=float)
        if reference.shape != (len(ds),):
            raise OverlapdynError(f"reference has shape {reference.shape}, expected "
                                  f"({len(ds)},): one ODE escape time per d")
        if not np.isfinite(reference).all():
            d = ds[int(np.argmin(np.isfinite(reference)))]
            eta = (model_at(model, d, prediction) if scale_eta else model).protocol.eta
            raise OverlapdynError(
                f"the ODE does not escape at d = {d} with η = {eta:.3g}: the η²/n_b noise "
                "term wins at this overlap; lower η₀ (the model's η)")
    etas, horizons, runs, walls = [], [], [], []
    for i, d in enumerate(progress_bar(progress, ds, desc="simulated escape")):
        model_d = model_at(model, d, prediction) if scale_eta else model
        horizon = t_max if t_max is not None else horizon_factor * reference[i]
        grid = np.geomspace(min(1.0 / d, horizon / 1e4), horizon, n_saves)
        # the kernel stops on any direction: with one direction asked for, run the horizon
        compiled_d = CompiledModel(model_d, derivation)
        _warn_if_held(model_d, d, compiled_d, model.protocol.eta)
        sim = simulate(model_d, d, grid, seeds=seeds,
                       stop_overlap=threshold if direction is None else None,
                       compiled=compiled_d)
        for s, trajectory in enumerate(sim.trajectories):
            times[i, s] = escape_time(trajectory, threshold, direction)
        etas.append(model_d.protocol.eta)
        horizons.append(float(horizon))
        walls.append(sim.wall_time_s)
        runs.append(sim.trajectories)
    return EscapeTimes("simulation", model, ds, tuple(etas), times, threshold, prediction,
                       tuple(runs), t_max=tuple(horizons), direction=direction,
                       scale_eta=scale_eta, seeds=seeds, n_saves=n_saves,
                       wall_time_s=tuple(walls))


def _noise_label(noise: str, samples: int) -> str:
    """The SDE's noise scheme as the method names it: ``sampled m=8`` or ``cubature``."""
    return f"sampled m={samples}" if noise == "sampled" else noise


def measure_escape_sde(
    model: Model,
    ds,
    *,
    paths: int = 400,
    seed: int = 0,
    threshold: float = 0.5,
    scale_eta: bool = True,
    t_max: float | None = None,
    horizon_factor: float = 6.0,
    dt: float | None = None,
    noise: str = "sampled",
    samples: int = SAMPLES,
    progress: bool = False,
    prediction: ScalingPrediction | None = None,
    reference: np.ndarray | None = None,
    derivation: Derivation | None = None,
) -> EscapeTimes:
    """Escape times of the overlap SDE (:mod:`overlapdyn.ode.sde`) from the SPEC's random
    init at dimension d, one per path, per d: the same :class:`EscapeTimes` as
    :func:`measure_escape_simulated`, to be compared with it (``times`` row by row).

    Args:
        model, threshold, scale_eta: as :func:`measure_escape_ode` (the escape is the best
            direction's: the SDE's loop stops each path at ``max_jr`` cosine ≥ threshold).
        paths: paths per d; seed: their seed (each d draws its own starts and noise).
        t_max, horizon_factor, reference: the horizon, as :func:`measure_escape_simulated`.
        dt: the Euler–Maruyama step (default: :func:`~overlapdyn.ode.sde.integrate_sde`'s).
        noise, samples: the SDE's noise scheme and its samples per step
            (:func:`~overlapdyn.ode.sde.integrate_sde`).
        progress: show a progress bar over d.
        prediction: ``predict_scaling(model)``, if already computed.
        derivation: how the drift's kernels are derived (default: the automatic choice).
    """
    prediction = predict_scaling(model) if prediction is None else prediction
    ds = tuple(int(d) for d in ds)
    if t_max is None:
        if reference is None:
            reference = measure_escape_ode(model, ds, threshold=threshold, scale_eta=scale_eta,
                                           n_points=50, prediction=prediction,
                                           derivation=derivation).times[:, 0]
        reference = np.asarray(reference, dtype=float)
        if reference.shape != (len(ds),) or not np.isfinite(reference).all():
            raise OverlapdynError(f"the horizon needs one finite ODE escape time per d, got "
                                  f"{reference}: give t_max, or lower η₀ (the model's η)")
    times = np.full((len(ds), paths), np.nan)
    etas, horizons, walls, steps = [], [], [], []
    for i, d in enumerate(progress_bar(progress, ds, desc="SDE escape")):
        model_d = model_at(model, d, prediction) if scale_eta else model
        compiled_d = CompiledModel(model_d, derivation)
        _warn_if_held(model_d, d, compiled_d, model.protocol.eta)
        horizon = t_max if t_max is not None else horizon_factor * reference[i]
        run = integrate_sde(model_d, horizon, d=d, paths=paths, dt=dt, seed=seed,
                            threshold=threshold, stop_at_escape=True, n_saves=2,
                            noise=noise, samples=samples, compiled=compiled_d)
        times[i] = run.escape_times
        etas.append(model_d.protocol.eta)
        horizons.append(float(horizon))
        walls.append(run.wall_time_s)
        steps.append(run.dt)
    return EscapeTimes("sde", model, ds, tuple(etas), times, threshold, prediction, (),
                       t_max=tuple(horizons), scale_eta=scale_eta, seeds=(int(seed),),
                       method=(f"euler-maruyama {_noise_label(noise, samples)} dt="
                               + ",".join(f"{h:.3g}" for h in steps)),
                       wall_time_s=tuple(walls))


@dataclass(frozen=True)
class EscapeComparison:
    """Two routes' escape-time distributions side by side, per d.

    Attributes:
        routes: the two routes compared (e.g. ``("sde", "simulation")``).
        ds: the dimensions, length D.
        ks: the two-sample Kolmogorov–Smirnov distance per d (D,); runs that did not
            escape count as escaping after every run that did (censored at the horizon).
        p_values: its p-value (D,).
        quartiles: the 25/50/75 % quantiles of the escape times, shape (2, D, 3) (``inf``
            where a quantile falls among the runs that did not escape).
    """

    routes: tuple[str, str]
    ds: tuple[int, ...]
    ks: np.ndarray
    p_values: np.ndarray
    quartiles: np.ndarray

    def describe(self) -> str:
        a, b = self.routes
        lines = [f"escape times, {a} vs {b}: KS distance, median and quartiles of t",
                 f"{'d':>7} {'KS':>6} {'p':>7}  {a + ' q25/50/75':>26}  {b + ' q25/50/75':>26}"]
        for i, d in enumerate(self.ds):
            first, second = ("/".join(f"{q:.3g}" for q in self.quartiles[r, i]) for r in (0, 1))
            lines.append(f"{d:>7} {self.ks[i]:>6.3f} {self.p_values[i]:>7.3f}  {first:>26}  "
                         f"{second:>26}")
        return "\n".join(lines)


def compare_escape_times(first: EscapeTimes, second: EscapeTimes) -> EscapeComparison:
    """The KS distance, medians and quartiles of two measurements' escape times at their
    common dimensions (e.g. :func:`measure_escape_sde` against
    :func:`measure_escape_simulated`).

    Raises:
        OverlapdynError: no dimension in common, or different thresholds.
    """
    from scipy.stats import ks_2samp  # scipy.stats: only when comparing

    if first.threshold != second.threshold:
        raise OverlapdynError(f"the thresholds differ ({first.threshold} and "
                              f"{second.threshold}): measure both at the same cosine")
    ds = tuple(d for d in first.ds if d in second.ds)
    if not ds:
        raise OverlapdynError(f"no dimension in common: {first.ds} and {second.ds}")
    ks, p_values, quartiles = [], [], np.empty((2, len(ds), 3))
    for i, d in enumerate(ds):
        rows = [np.where(np.isfinite(m.times[m.ds.index(d)]), m.times[m.ds.index(d)], np.inf)
                for m in (first, second)]
        test = ks_2samp(*rows)
        ks.append(float(test.statistic))
        p_values.append(float(test.pvalue))
        for r, row in enumerate(rows):
            quartiles[r, i] = np.quantile(row, [0.25, 0.5, 0.75], method="inverted_cdf")
    return EscapeComparison((first.route, second.route), ds, np.array(ks), np.array(p_values),
                            quartiles)
