r"""Finite-d online SGD with reused samples, and its validation against the reuse ODE.

:func:`simulate_reuse` runs exactly the protocols of :mod:`overlapdyn.reuse.online` at
dimension d: every batch of ``n_b`` fresh ``x ~ N(0, I_d)`` is used for k plain steps (the
fields recomputed from the weights before each), or for one extragradient step (each sample's
gradient at its displaced field ``λ + ρ G ‖x‖²/d``, the exact field of the displaced weights
``w + (ρ/√d) G x``). The teacher lies along the first k axes (``U = √d [L 0]``, ``P = LLᵀ``),
as in :mod:`overlapdyn.sgd.simulator`; one compiled loop per seed (``run`` of
``compile/templates/reuse_online.py``), seeds one after the other. Overlaps are recorded on
``t = batches/d``; the risk of a saved state is the population risk of its overlaps (the
ODE's quadrature).

:func:`validate_reuse` simulates at several d, integrates the ODE from each d's mean
measured initial overlaps, and fits the largest gap over the saved times against d on log
axes (:func:`overlapdyn.fits.line_fit`): SPEC's d^(−1/2).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..fits import line_fit
from ..model.checks import check_dimension, check_memory, check_real, check_seeds
from ..ode.integrator import SaveAt
from ..ode.state import overlap_cosines, random_weights
from ..ode.trajectory import Outcome, SgdRun, Trajectory
from ..sgd.simulator import Simulation, recorded_steps, warm_start_weights
from ..storage.results import Result, archive_parts, restore_parts
from ..storage.versions import library_versions
from .online import (
    OnlineReuse,
    ReuseDrift,
    ReuseQuadrature,
    ReuseRun,
    integrate_reuse,
    online_module,
)

__all__ = ["QUANTITIES", "ReuseValidation", "simulate_reuse", "validate_reuse"]

#: what :func:`validate_reuse` compares
QUANTITIES = ("M", "Q", "risk")


def simulate_reuse(spec: OnlineReuse, d: int, times, *, seeds=(0,), init=None,
                   drift: ReuseDrift | None = None, stop_overlap: float | None = None,
                   risk: bool = True) -> Simulation:
    """Run the reuse protocol at dimension d for each seed; overlaps at ``times``.

    Args:
        spec: the protocol.
        d: the dimension (≥ p + k).
        times: t = batches/d to record (rounded to whole batches; 0 included).
        seeds: a number n (seeds 0…n−1) or the seeds.
        init: a warm start ``(M, Q)`` for every seed (e.g. ``(0, I)``: the papers' "zero"
            start, exactly orthogonal to the teacher), else SPEC's random start.
        drift: the ODE's drift, for the risk of the saved overlaps (built if None).
        stop_overlap: stop a seed at the first saved time where some cosine
            ``|M_jr|/√(Q_jj P_rr)`` reaches this value (escape times); its trajectory then
            ends there (``outcome = EVENT``), so seeds may have different lengths.
        risk: compute the population risk of every saved state (one quadrature each);
            False leaves it NaN (escape times read the overlaps only).

    Returns:
        An :class:`~overlapdyn.sgd.Simulation` (one trajectory per seed).
    """
    model = spec.model
    check_dimension(d, model.p, model.k)
    steps = recorded_steps(times, d)
    seeds = check_seeds(seeds, "a simulation")
    check_memory(8.0 * d * (model.p + model.protocol.n_b + 1),
                 f"simulate_reuse at d = {d}", "lower d")
    if stop_overlap is not None:
        stop_overlap = check_real(stop_overlap, "stop_overlap", positive=True)
    module = online_module(model)
    drift = drift or (ReuseDrift(spec) if risk else None)
    L = np.linalg.cholesky(model.target.gram)
    protocol, student = model.protocol, model.student
    trajectories, wall = [], 0.0
    for seed in seeds:
        rng = np.random.default_rng([seed, d])
        W = (random_weights(model, d, rng) if init is None else
             warm_start_weights(np.asarray(init[0], float), np.asarray(init[1], float),
                                model.target.gram, d, rng))
        W = np.ascontiguousarray(W)
        Ms = np.full((steps.size, model.p, model.k), np.nan)
        Qs = np.full((steps.size, model.p, model.p), np.nan)
        start = time.perf_counter()
        failed = module.run(W, L, np.random.default_rng([seed, d, 1]), steps,
                            float(student.c_p), np.array(student.a, dtype=float),
                            protocol.loss == "mse", float(np.sqrt(model.target.noise)),
                            float(protocol.eta), int(protocol.n_b),
                            spec.kind == "extragradient", float(spec.rho), int(spec.repeats),
                            Ms, Qs, math.inf if stop_overlap is None else stop_overlap)
        wall += time.perf_counter() - start
        keep = np.isfinite(Qs).all(axis=(1, 2)) & (np.abs(Qs) < 1e8).all(axis=(1, 2))
        if failed >= 0:
            keep &= steps < failed
        T = int(np.argmin(keep)) if not keep.all() else steps.size
        risks = (np.array([drift.terms(Ms[i], Qs[i])[3] + 0.5 * model.target.noise
                           for i in range(T)]) if risk else np.full(T, np.nan))
        stopped = (stop_overlap is not None and failed < 0 and 0 < T < steps.size and
                   _largest_cosine(Ms[T - 1], Qs[T - 1], model.target.gram) >= stop_overlap)
        outcome = (Outcome.REACHED_END if steps.size == T else
                   Outcome.EVENT if stopped else Outcome.FAILED)
        message = ("done" if steps.size == T else
                   f"stopped: a cosine reached {stop_overlap:g}" if stopped else
                   f"the weights diverged by t = {steps[min(T, steps.size - 1)] / d:.4g}: "
                   "lower η, |ρ| or k")
        trajectories.append(Trajectory(
            t=steps[:T] / d, M=Ms[:T], Q=Qs[:T],
            a=np.broadcast_to(np.array(student.a, float), (T, model.p)), risk=risks,
            model=model, outcome=outcome, message=message,
            sgd=SgdRun(d, seed, 0, int(failed)), versions=library_versions()))
    return Simulation(tuple(trajectories), d, seeds, wall_time_s=wall, steps=int(steps[-1]))


def _largest_cosine(M: np.ndarray, Q: np.ndarray, P: np.ndarray) -> float:
    return float(overlap_cosines(M, Q, np.diag(P)).max())


@dataclass(frozen=True)
class ReuseValidation(Result):
    """The reuse ODE against finite-d simulations at several d.

    Attributes:
        spec: the protocol.
        ds: the dimensions (D of them).
        gaps: ``{quantity: largest |simulation mean − ODE| over the saved times and
            entries}``, each of shape (D,), for quantity in :data:`QUANTITIES`.
        exponents: ``{quantity: fitted slope of log gap against log d}`` (SPEC: −1/2).
        exponent_errors: the fits' standard errors (NaN with two d).
        errors: the seed standard error of the simulation mean at the largest gap, (D,) per
            quantity.
        odes: the ODE runs, one per d (started at that d's mean measured overlaps).
        simulations: the simulations, one per d.
    """

    FORMAT = "overlapdyn.ReuseValidation"
    VERSION = 1

    spec: OnlineReuse
    ds: tuple[int, ...]
    gaps: dict
    exponents: dict
    exponent_errors: dict
    errors: dict
    odes: tuple[ReuseRun, ...]
    simulations: tuple[Simulation, ...]

    def describe(self) -> str:
        lines = [self.spec.describe(), "reuse ODE vs simulation (largest gap over t):"]
        for q in QUANTITIES:
            gaps = ", ".join(f"d={d}: {g:.3g}±{e:.1g}" for d, g, e in zip(
                self.ds, self.gaps[q], self.errors[q], strict=True))
            lines.append(f"  {q}: {gaps}; slope {self.exponents[q]:+.2f}"
                         f" ± {self.exponent_errors[q]:.2f}")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        odes, ode_arrays = archive_parts(self.odes, "odes")
        sims, sim_arrays = archive_parts(self.simulations, "simulations")
        return ({"spec": self.spec.to_dict(), "ds": list(self.ds),
                 "exponents": self.exponents, "exponent_errors": self.exponent_errors,
                 "odes": odes, "simulations": sims},
                {**ode_arrays, **sim_arrays,
                 **{f"gaps/{q}": np.asarray(self.gaps[q]) for q in QUANTITIES},
                 **{f"errors/{q}": np.asarray(self.errors[q]) for q in QUANTITIES}})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> ReuseValidation:
        return cls(OnlineReuse.from_dict(header["spec"]), tuple(header["ds"]),
                   {q: arrays[f"gaps/{q}"] for q in QUANTITIES}, dict(header["exponents"]),
                   dict(header["exponent_errors"]),
                   {q: arrays[f"errors/{q}"] for q in QUANTITIES},
                   restore_parts(ReuseRun, header["odes"], arrays, "odes"),
                   restore_parts(Simulation, header["simulations"], arrays, "simulations"))


def validate_reuse(spec: OnlineReuse, ds, times, *, seeds=4, init=None,
                   quadrature: ReuseQuadrature | None = None) -> ReuseValidation:
    """Simulate ``spec`` at each d and compare with its ODE (module docstring).

    Args:
        spec: the protocol.
        ds: at least two dimensions.
        times: the saved times t = batches/d (0 first).
        seeds: a number of seeds or the seeds.
        init: a warm start ``(M, Q)`` for every run (else the random start).
        quadrature: the ODE's rule (default :class:`~overlapdyn.reuse.online.ReuseQuadrature`'s).

    Raises:
        ConfigError: fewer than two dimensions, or a seed's run failed.
    """
    ds = tuple(int(d) for d in ds)
    if len(ds) < 2:
        raise ConfigError(f"validate_reuse needs at least two dimensions, got {ds}")
    drift = ReuseDrift(spec, quadrature)
    times = np.asarray(times, dtype=float)
    simulations, odes = [], []
    gaps = {q: [] for q in QUANTITIES}
    errors = {q: [] for q in QUANTITIES}
    solved = {}
    for d in ds:
        sim = simulate_reuse(spec, d, times, seeds=seeds, init=init, drift=drift)
        failed = [tr.sgd.seed for tr in sim.trajectories if tr.outcome is Outcome.FAILED]
        if failed:
            raise ConfigError(f"the simulations of seeds {failed} at d = {d} diverged: "
                              "lower η, |ρ| or k")
        t = sim.trajectories[0].t
        stacks = {q: np.stack([getattr(tr, q) for tr in sim.trajectories]) for q in QUANTITIES}
        init_d = (stacks["M"][:, 0].mean(0), stacks["Q"][:, 0].mean(0))
        key = (t.tobytes(), init_d[0].tobytes(), init_d[1].tobytes())
        if key not in solved:   # an exact warm start gives every d the same ODE
            solved[key] = integrate_reuse(spec, init_d, SaveAt.at(t), drift=drift)
        ode = solved[key]
        for q in QUANTITIES:
            mean = stacks[q].mean(0)
            diff = np.abs(mean - getattr(ode.trajectory, q)).reshape(len(t), -1)
            where = np.unravel_index(int(np.argmax(diff)), diff.shape)
            gaps[q].append(float(diff[where]))
            spread = stacks[q].reshape(len(stacks[q]), len(t), -1)[:, where[0], where[1]]
            errors[q].append(float(np.std(spread, ddof=1) / np.sqrt(len(spread)))
                             if len(spread) > 1 else np.nan)
        simulations.append(sim)
        odes.append(ode)
    logd = np.log(np.array(ds, dtype=float))
    exponents, exponent_errors = {}, {}
    for q in QUANTITIES:
        line = line_fit(logd, np.log(np.maximum(gaps[q], 1e-300)))
        exponents[q], exponent_errors[q] = line.slope, line.stderr
    return ReuseValidation(spec, ds, {q: np.array(v) for q, v in gaps.items()}, exponents,
                           exponent_errors, {q: np.array(v) for q, v in errors.items()},
                           tuple(odes), tuple(simulations))
