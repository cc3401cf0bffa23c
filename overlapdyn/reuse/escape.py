r"""Escape with data reuse: how many samples online SGD with reused samples needs to leave
the random start, against d, by the ODE route and by simulation, and which directions of a
multi-index target it learns.

**The measurement** is the one-pass one (:mod:`overlapdyn.scaling.escape`) with the reuse
protocol (:class:`~overlapdyn.reuse.online.OnlineReuse`: extragradient ρ or k repeated
steps) on top of the model: the escape time is the first time the cosine overlap
``m = max_{j,r} |M_jr| / √(Q_jj P_rr)`` reaches ``threshold``, reported as a sample count
``n = t·d·n_b`` (t = fresh batches/d, so every protocol is counted in fresh samples, whatever
k). The result is the same :class:`~overlapdyn.scaling.escape.EscapeTimes`, with its
``reuse`` field naming the protocol and its ``prediction`` the reuse column of
:func:`~overlapdyn.limits.predict_scaling_with_reuse`: with k* the generative exponent,
``n ≍ d^{max(k*−1, 1)}`` (× log d at k* = 2) and ``η = η₀ d^{−(k*−2)/2}`` for k* ≥ 3 (the
papers' statement for k* ≤ 2: Arnaboldi, Dandi, Krzakala, Pesce & Stephan 2024).

* **ODE route** (:func:`measure_reuse_escape_ode`): the reuse ODE
  (:func:`~overlapdyn.reuse.online.integrate_reuse`) from ``M₀ = d^{−1/2} Z``, ``Q₀ = I``
  (:func:`~overlapdyn.scaling.escape_start`), stopped by an
  :class:`~overlapdyn.ode.events.OverlapCrosses` event at the threshold. d enters only
  through M₀ (and η when it is scaled). The drift's quadrature is Sobol with z-antithetic
  points by default (:data:`ESCAPE_QUADRATURE`): for a target even in z the exact drift
  vanishes at M = 0, and a rule without that symmetry puts a spurious drift there that is
  larger than the true one at ``M₀ ~ d^(−1/2)`` (He4 with a ReLU student, 2¹⁶ points:
  1.2·10⁻⁴ at M = 0, against a true ``|dM/dt| = 3·10⁻⁵`` at M = 0.01), which would fake an
  escape of generative exponent 1.
* **Simulation route** (:func:`measure_reuse_escape_simulated`):
  :func:`~overlapdyn.reuse.simulate_reuse` from SPEC's random init at each d, each seed
  stopped at its escape; the time is interpolated (in log t) between saved times.

:func:`learn_directions` records, for a multi-index target, each direction's cosine against
``n/(d log d)`` at several d — the hard case of the papers: ``sign(z1 z2 z3)`` (k* = 3) is
not learned in O(d log d) samples, while a ``(z1² − 1)`` added to it (k* = 2 along z1) is
the first step of a staircase.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, OverlapdynError
from ..limits.generative import predict_scaling_with_reuse
from ..model.checks import check_integer, check_real, check_seeds
from ..model.spec import Model
from ..ode.integrator import Solver
from ..ode.trajectory import Outcome
from ..progress import progress_bar
from ..scaling.escape import (
    EscapeTimes,
    crossing_time,
    escape_horizon,
    escape_runs_ode,
    escape_time,
    learned_overlaps,
    model_at,
)
from ..scaling.prediction import ScalingPrediction
from ..storage.results import Result
from .online import OnlineReuse, ReuseDrift, ReuseQuadrature, integrate_reuse
from .online_simulation import simulate_reuse

__all__ = ["ESCAPE_QUADRATURE", "ESCAPE_SOLVER", "DirectionLearning", "learn_directions",
           "measure_reuse_escape_ode", "measure_reuse_escape_simulated", "reuse_prediction",
           "spec_at"]

#: The ODE route's default rule, Sobol 2¹⁶ with its z-antithetic copy (module docstring).
ESCAPE_QUADRATURE = ReuseQuadrature(antithetic=True)
#: The ODE route's default solver, RK45 with an atol far below M₀ = d^(−1/2) (the quadrature
#: drift of a kinked student is rough below rtol 10⁻⁶).
ESCAPE_SOLVER = Solver("RK45", rtol=1e-6, atol=1e-12)


def reuse_prediction(model: Model, **options) -> ScalingPrediction:
    """The reuse column of the model's target, ``predict_scaling_with_reuse(model,
    **options).with_reuse()`` (:func:`~overlapdyn.limits.predict_scaling_with_reuse`).

    Raises:
        OverlapdynError: the target has no finite generative exponent.
    """
    return predict_scaling_with_reuse(model, **options).with_reuse()


def spec_at(spec: OnlineReuse, d: int, prediction: ScalingPrediction | None = None
            ) -> OnlineReuse:
    """The protocol with the learning rate of dimension d: ``η₀ d^{−(k*−2)/2}`` (k* ≥ 3; ρ
    and k unchanged — the reuse signal at ``m ≈ d^(−1/2)`` is ``∝ ηρ m^{k*−1}``, the noise
    ``∝ η² m``, so η alone carries the scaling)."""
    prediction = prediction or reuse_prediction(spec.model)
    return dataclasses.replace(spec, model=model_at(spec.model, d, prediction))


def _reuse_fields(spec: OnlineReuse, rule: str | None = None) -> dict:
    fields = {"kind": spec.kind, "rho": spec.rho, "repeats": spec.repeats}
    if rule is not None:
        fields["rule"] = rule
    return fields


def _prediction(spec: OnlineReuse, prediction: ScalingPrediction | None) -> ScalingPrediction:
    if prediction is None:
        return reuse_prediction(spec.model)
    if not isinstance(prediction, ScalingPrediction):
        raise ConfigError(f"prediction must be a ScalingPrediction, got {prediction!r}")
    return prediction


def measure_reuse_escape_ode(
    spec: OnlineReuse,
    ds,
    *,
    threshold: float = 0.5,
    direction: int | None = None,
    scale_eta: bool = True,
    seeds=None,
    t_max: float | None = None,
    n_points: int = 40,
    quadrature: ReuseQuadrature | None = None,
    solver: Solver | None = None,
    prediction: ScalingPrediction | None = None,
    max_evaluations: int = 200_000,
    progress: bool = False,
) -> EscapeTimes:
    """Escape times of the reuse ODE from ``M₀ = Z/√d``, ``Q₀ = I`` for every d in ``ds``.

    Args:
        spec: the protocol; its model's η is η₀.
        ds: dimensions (at least two for a fit).
        threshold: the cosine overlap that counts as escaped.
        direction: a latent direction r (0-based), or None for the best of all.
        scale_eta: use ``η₀ d^{−(k*−2)/2}`` (k* ≥ 3) rather than η₀ at every d.
        seeds: None for the default start of :func:`~overlapdyn.scaling.escape_start`
            (``Z = 1`` for one neuron), or seeds of Gaussian Z (one run each).
        t_max: the longest time integrated (default ``2·10³ d^{max(k*−2, 0)} log d / η₀``).
        n_points: saved times per run (log-spaced, for plots; the escape time itself is the
            event's, found by root finding).
        quadrature: the drift's rule (default :data:`ESCAPE_QUADRATURE`).
        solver: the solver (default :data:`ESCAPE_SOLVER`).
        prediction: the prediction the measurement is compared with (default
            :func:`reuse_prediction` of the model); its column also sets η(d).
        max_evaluations: drift evaluations allowed per run.
        progress: a progress bar over d.

    Returns:
        An :class:`~overlapdyn.scaling.escape.EscapeTimes` (route ``"ode"``; ``reuse`` the
        protocol and the rule; ``nan`` where a run did not escape by ``t_max``).

    Raises:
        ReuseBlowUpError: a run's composite or overlaps blow up (lower η, ρ or k).
    """
    prediction = _prediction(spec, prediction)
    threshold = check_real(threshold, "threshold", positive=True)
    ds = tuple(check_integer(d, "d", 2) for d in ds)
    starts = (None,) if seeds is None else tuple(int(s) for s in seeds)
    quadrature = ESCAPE_QUADRATURE if quadrature is None else quadrature
    solver = ESCAPE_SOLVER if solver is None else solver
    model = spec.model
    drifts: list[ReuseDrift] = []

    def runner(d: int):
        spec_d = spec_at(spec, d, prediction) if scale_eta else spec
        if not drifts or drifts[-1].spec != spec_d:
            drifts.append(ReuseDrift(spec_d, quadrature))  # η changes the composite of "repeat"
        drift = drifts[-1]
        return spec_d.model, lambda init, save, events: integrate_reuse(
            spec_d, init[:2], save, drift=drift, solver=solver, events=events,
            max_evaluations=max_evaluations).trajectory

    etas, times, runs, horizons = escape_runs_ode(
        model, ds, starts, runner,
        lambda d: float(t_max) if t_max is not None else escape_horizon(
            prediction, model.protocol.eta, d, factor=2e3),
        threshold=threshold, direction=direction, n_points=n_points, t_first=1e-2,
        desc="reuse ODE escape", progress=progress)
    return EscapeTimes("ode", model, ds, etas, times, threshold, prediction, runs,
                       t_max=horizons, direction=direction, scale_eta=scale_eta,
                       seeds=None if seeds is None else starts, method=solver.method,
                       reuse=_reuse_fields(spec, drifts[-1].label if drifts else None))


def measure_reuse_escape_simulated(
    spec: OnlineReuse,
    ds,
    *,
    seeds=8,
    threshold: float = 0.5,
    direction: int | None = None,
    scale_eta: bool = True,
    t_max: float | None = None,
    horizon_factor: float = 4.0,
    n_saves: int = 200,
    reference=None,
    quadrature: ReuseQuadrature | None = None,
    prediction: ScalingPrediction | None = None,
    progress: bool = False,
) -> EscapeTimes:
    """Escape times of finite-d online SGD with reuse from SPEC's random init, per seed and d.

    Each seed stops at the first saved time where its cosine overlap reaches ``threshold``
    (with ``direction`` given, it runs to the horizon); the time is interpolated between
    saved times (``n_saves`` log-spaced). Seeds that have not escaped by the horizon count as
    ``nan`` (later than all others in the medians).

    Args:
        spec, threshold, direction, scale_eta, prediction: as
            :func:`measure_reuse_escape_ode`.
        seeds: a number of seeds, or the seeds.
        t_max: the horizon, the same for every d; default ``horizon_factor`` × the ODE's
            escape time at that d.
        n_saves: saved times per run.
        reference: the ODE escape times per d (shape (D,)) if already measured (e.g.
            ``measure_reuse_escape_ode(...).times[:, 0]`` with the same threshold,
            direction and scale_eta), to size the horizons.
        quadrature: the rule of that ODE reference (default :data:`ESCAPE_QUADRATURE`).
        progress: a progress bar over d.

    Raises:
        OverlapdynError: the ODE reference does not escape at some d (give ``t_max``).
    """
    prediction = _prediction(spec, prediction)
    threshold = check_real(threshold, "threshold", positive=True)
    seeds = check_seeds(seeds, "the simulated escape")
    ds = tuple(check_integer(d, "d", 2) for d in ds)
    n_saves = check_integer(n_saves, "n_saves", 2)
    if t_max is None:
        if reference is None:
            reference = measure_reuse_escape_ode(
                spec, ds, threshold=threshold, direction=direction, scale_eta=scale_eta,
                n_points=8, quadrature=quadrature, prediction=prediction).times[:, 0]
        reference = np.asarray(reference, dtype=float)
        if reference.shape != (len(ds),):
            raise OverlapdynError(f"reference has shape {reference.shape}, expected "
                                  f"({len(ds)},): one ODE escape time per d")
        if not np.isfinite(reference).all():
            d = ds[int(np.argmin(np.isfinite(reference)))]
            raise OverlapdynError(f"the reuse ODE does not escape at d = {d} (cosine "
                                  f"{threshold:g}): give t_max, lower the threshold, or "
                                  "change η, ρ or k")
    model = spec.model
    times = np.full((len(ds), len(seeds)), np.nan)
    etas, horizons, runs, walls = [], [], [], []
    for i, d in enumerate(progress_bar(progress, ds, desc="simulated reuse escape")):
        spec_d = spec_at(spec, d, prediction) if scale_eta else spec
        horizon = float(t_max) if t_max is not None else horizon_factor * float(reference[i])
        grid = np.concatenate([[0.0], np.geomspace(min(1.0 / d, horizon / 1e4), horizon,
                                                   n_saves - 1)])
        sim = simulate_reuse(spec_d, d, grid, seeds=seeds, risk=False,
                             stop_overlap=threshold if direction is None else None)
        failed = [tr.sgd.seed for tr in sim.trajectories if tr.outcome is Outcome.FAILED]
        if failed:
            raise OverlapdynError(f"the simulations of seeds {failed} at d = {d} diverged: "
                                  "lower η, ρ or k")
        for s, trajectory in enumerate(sim.trajectories):
            times[i, s] = escape_time(trajectory, threshold, direction)
        etas.append(spec_d.model.protocol.eta)
        horizons.append(horizon)
        walls.append(sim.wall_time_s)
        runs.append(sim.trajectories)
    return EscapeTimes("simulation", model, ds, tuple(etas), times, threshold, prediction,
                       tuple(runs), t_max=tuple(horizons), direction=direction,
                       scale_eta=scale_eta, seeds=seeds, n_saves=n_saves,
                       wall_time_s=tuple(walls), reuse=_reuse_fields(spec))


@dataclass(frozen=True)
class DirectionLearning(Result):
    """Each latent direction's cosine against ``n/(d log d)``, at several d, by simulation.

    Attributes:
        spec: the protocol.
        ds: the dimensions (D).
        x: the saved sample counts over ``d log d``: ``n/(d log d)``, ``n = t·d·n_b`` (T,).
        cosines: ``max_j |M_jr|/√(Q_jj P_rr)`` per d, seed, saved time and direction r,
            shape (D, S, T, k).
        seeds: the seeds (S).
        init: ``"random"`` (SPEC's random init) or ``"zero"`` (``M₀ = 0``, ``Q₀ = I``).
        wall_time_s: the simulations' wall time per d.
    """

    FORMAT = "overlapdyn.DirectionLearning"
    VERSION = 1

    spec: OnlineReuse
    ds: tuple[int, ...]
    x: np.ndarray
    cosines: np.ndarray
    seeds: tuple[int, ...]
    init: str = "random"
    wall_time_s: tuple[float, ...] = ()

    def mean(self) -> np.ndarray:
        """The seed mean of the cosines, (D, T, k)."""
        return self.cosines.mean(axis=1)

    def sem(self) -> np.ndarray:
        """The seed standard error of that mean (NaN with one seed), (D, T, k)."""
        S = self.cosines.shape[1]
        if S < 2:
            return np.full(self.mean().shape, np.nan)
        return self.cosines.std(axis=1, ddof=1) / np.sqrt(S)

    def reached(self, threshold: float) -> np.ndarray:
        """Per d, seed and direction, the first ``n/(d log d)`` where the cosine reaches
        ``threshold`` (interpolated; NaN: never), shape (D, S, k)."""
        D, S, _, k = self.cosines.shape
        out = np.full((D, S, k), np.nan)
        for i in range(D):
            for s in range(S):
                for r in range(k):
                    out[i, s, r] = crossing_time(self.x, self.cosines[i, s, :, r], threshold)
        return out

    def describe(self) -> str:
        lines = [self.spec.describe(),
                 f"cosine per direction (seed mean ± s.e., {len(self.seeds)} seeds, "
                 f"{self.init} start) against n/(d log d):"]
        k = self.cosines.shape[-1]
        mean, sem = self.mean(), self.sem()
        columns = sorted({int(np.argmin(np.abs(self.x - v))) for v in
                          np.geomspace(max(self.x[1], 1e-9), self.x[-1], 5)})
        header = f"{'d':>6} {'r':>3} " + " ".join(f"{self.x[c]:>14.4g}" for c in columns)
        lines.append(header)
        for i, d in enumerate(self.ds):
            for r in range(k):
                cells = " ".join(f"{mean[i, c, r]:>7.3f}±{sem[i, c, r]:<6.3f}"
                                 for c in columns)
                lines.append(f"{d:>6} {'z' + str(r + 1):>3} {cells}")
        lines.append("random level d^(−1/2): " + ", ".join(
            f"{1 / math.sqrt(d):.3f} (d = {d})" for d in self.ds))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"spec": self.spec.to_dict(), "ds": list(self.ds), "x": self.x.tolist(),
                "mean": self.mean().tolist(), "seeds": list(self.seeds), "init": self.init,
                "wall_time_s": list(self.wall_time_s)}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"spec": self.spec.to_dict(), "ds": list(self.ds), "seeds": list(self.seeds),
                 "init": self.init, "wall_time_s": list(self.wall_time_s)},
                {"x": self.x, "cosines": self.cosines})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> DirectionLearning:
        return cls(OnlineReuse.from_dict(header["spec"]), tuple(header["ds"]),
                   np.asarray(arrays["x"]), np.asarray(arrays["cosines"]),
                   tuple(header["seeds"]), header["init"], tuple(header["wall_time_s"]))


def learn_directions(spec: OnlineReuse, ds, horizon: float, *, seeds=4, n_saves: int = 40,
                     init: str = "random", progress: bool = False) -> DirectionLearning:
    """Simulate ``spec`` at each d up to ``n = horizon · d log d`` samples and record each
    direction's cosine ``max_j |M_jr|/√(Q_jj P_rr)`` (the papers' figure of the hard case).

    Args:
        spec: the protocol (η is not scaled with d).
        ds: the dimensions.
        horizon: the last ``n/(d log d)``.
        seeds: a number of seeds or the seeds.
        n_saves: saved times (log-spaced from ``horizon/10³``, 0 first).
        init: ``"random"`` (SPEC's random init, ``M₀ ~ d^(−1/2)``) or ``"zero"`` (the papers'
            ``M₀ = 0``, ``Q₀ = I``).
        progress: a progress bar over d.
    """
    horizon = check_real(horizon, "horizon", positive=True)
    n_saves = check_integer(n_saves, "n_saves", 2)
    seeds = check_seeds(seeds, "learn_directions")
    if init not in ("random", "zero"):
        raise ConfigError(f"init must be 'random' or 'zero', got {init!r}")
    ds = tuple(check_integer(d, "d", 2) for d in ds)
    model = spec.model
    x = np.concatenate([[0.0], np.geomspace(horizon / 1e3, horizon, n_saves - 1)])
    start = (np.zeros((model.p, model.k)), np.eye(model.p)) if init == "zero" else None
    cosines, walls = [], []
    for d in progress_bar(progress, ds, desc="learn directions"):
        # n = t d n_b samples, so t = x log d / n_b
        times = x * math.log(d) / model.protocol.n_b
        sim = simulate_reuse(spec, d, times, seeds=seeds, init=start, risk=False)
        rows = []
        for trajectory in sim.trajectories:
            c = np.full((x.size, model.k), np.nan)
            c[:trajectory.t.size] = learned_overlaps(trajectory)
            rows.append(c)
        cosines.append(rows)
        walls.append(sim.wall_time_s)
    return DirectionLearning(spec, ds, x, np.array(cosines), seeds, init, tuple(walls))
