r"""Statistical validation against the overlap SDE: distributions, not sup-norm gaps.

Where SGD leaves its start by noise (a target of information exponent 2 from a random start,
a committee's symmetric plateau) single runs scatter in time and the ODE's sup-norm gap does
not shrink with d (:mod:`overlapdyn.sgd.validation`). The SDE of :mod:`overlapdyn.ode.sde`
describes the scatter itself, so the comparison is between distributions, at each d:

* the **escape times** (first time the cosine ``max_jr |M_jr|/√(Q_jj P_rr)`` reaches the
  threshold) of the SGD seeds and of the SDE paths: the two-sample Kolmogorov–Smirnov
  distance and its p-value (runs that did not escape count as later than every run that
  did), medians and quartiles. The simulation's escape times are interpolated (in log t)
  on a fine log grid of 400 saved times added to ``times``; the SDE's within its step;
* the **mean curves** of the cosine and of the mean ``Q_jj`` at ``times``: the largest
  ``|mean_SGD − mean_SDE| / SE`` over the times (SE from both sides' spreads).

The :class:`StatisticalVerdict` is PASS when every KS p-value is at least ``level`` and
every mean-curve z-score at most the two-sided Bonferroni bound for ``level`` over the
compared times; FAIL otherwise; UNDETERMINED when a simulated seed failed (its error turned
non-finite or its weights diverged).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from ..compile.compiled import CompiledModel
from ..errors import OverlapdynError
from ..model.checks import check_seeds
from ..model.spec import Model, model_from_dict
from ..ode.sde import SAMPLES, integrate_sde
from ..ode.state import overlap_cosines
from ..ode.trajectory import Outcome
from ..storage.encoding import jsonable
from ..storage.results import Result
from .simulator import recorded_steps, simulate

__all__ = ["SDEValidationReport", "StatisticalVerdict", "validate_sde"]

#: saved times (log-spaced) added to a simulation's grid to interpolate its escape times
ESCAPE_GRID = 400
#: mean-curve quantities compared
CURVES = ("cosine", "Q")


class StatisticalVerdict(enum.Enum):
    """What a statistical validation concludes; each value is the word the report prints."""

    PASS = "PASS"
    FAIL = "FAIL"
    UNDETERMINED = "UNDETERMINED"


def _cosine(M: np.ndarray, Q: np.ndarray, P: np.ndarray) -> np.ndarray:
    """``max_{j,r} |M_jr|/√(Q_jj P_rr)`` over the last axes (…, p, k) → (…)."""
    return overlap_cosines(M, Q, np.diag(P)).max(axis=(-2, -1))


def _self_overlap(Q: np.ndarray) -> np.ndarray:
    return np.diagonal(Q, axis1=-2, axis2=-1).mean(axis=-1)


def _crossing(t: np.ndarray, m: np.ndarray, threshold: float) -> float:
    """First time ``m`` reaches ``threshold``, linear in log t between saved times."""
    above = np.flatnonzero(m >= threshold)
    if above.size == 0:
        return np.nan
    i = above[0]
    if i == 0 or t[i - 1] <= 0:
        return float(t[i])
    f = (threshold - m[i - 1]) / (m[i] - m[i - 1])
    return float(np.exp(np.log(t[i - 1]) + f * (np.log(t[i]) - np.log(t[i - 1]))))


@dataclass(frozen=True)
class SDEValidationReport(Result):
    """SGD against the overlap SDE, per d: escape-time distributions and mean curves.

    Attributes:
        model: the model.
        ds: the dimensions, length D.
        times: the compared times (T,).
        seeds: the SGD seeds (S of them); paths: SDE paths per d.
        threshold: the escape cosine.
        level: the significance level of the verdict.
        escape_sgd: escape times of the seeds (D, S); escape_sde: of the paths (D, paths);
            NaN: no escape by ``times[-1]``.
        ks, p_values: the KS distance of the two and its p-value, per d (D,).
        means_sgd, means_sde: mean curves ``{"cosine", "Q"}`` → (D, T); errors: their
            standard errors combined, same shapes.
        init: the warm start ``(M, Q)`` or None (SPEC's random start).
        failures: the seeds whose run failed, as text.
        noise, samples: the SDE's noise scheme and its samples per step
            (:func:`~overlapdyn.ode.sde.integrate_sde`; samples 0 for the cubature).
    """

    FORMAT = "overlapdyn.SDEValidationReport"
    VERSION = 1

    model: Model
    ds: tuple[int, ...]
    times: np.ndarray
    seeds: tuple[int, ...]
    paths: int
    threshold: float
    level: float
    escape_sgd: np.ndarray
    escape_sde: np.ndarray
    ks: np.ndarray
    p_values: np.ndarray
    means_sgd: dict
    means_sde: dict
    errors: dict
    init: tuple | None = None
    failures: tuple[str, ...] = ()
    noise: str = "cubature"
    samples: int = 0

    @property
    def z_scores(self) -> dict[str, np.ndarray]:
        """Per curve, ``max_t |mean_SGD − mean_SDE|/SE`` per d (D,) (t = 0 excluded when
        both sides start at the same state)."""
        out = {}
        for name in CURVES:
            gap = np.abs(self.means_sgd[name] - self.means_sde[name])
            z = np.where(self.errors[name] > 0, gap / np.where(self.errors[name] > 0,
                                                               self.errors[name], 1.0), 0.0)
            out[name] = np.nanmax(z, axis=1)
        return out

    @property
    def z_bound(self) -> float:
        """The two-sided normal quantile of ``level`` split over the compared times
        (Bonferroni)."""
        from scipy.stats import norm  # scipy.stats: only for the verdict

        return float(norm.isf(self.level / (2 * self.times.size)))

    @property
    def verdict(self) -> StatisticalVerdict:
        if self.failures:
            return StatisticalVerdict.UNDETERMINED
        bound = self.z_bound
        good = (np.all(self.p_values >= self.level)
                and all(np.all(z <= bound) for z in self.z_scores.values()))
        return StatisticalVerdict.PASS if good else StatisticalVerdict.FAIL

    @property
    def passed(self) -> bool:
        return self.verdict is StatisticalVerdict.PASS

    def quartiles(self, side: str) -> np.ndarray:
        """25/50/75 % quantiles of the escape times of ``"sgd"`` or ``"sde"``, (D, 3) (inf
        where a quantile falls among the runs that did not escape)."""
        times = self.escape_sgd if side == "sgd" else self.escape_sde
        times = np.where(np.isfinite(times), times, np.inf)
        return np.quantile(times, [0.25, 0.5, 0.75], axis=1, method="inverted_cdf").T

    def describe(self) -> str:
        lines = [f"{self.model.name}: SGD ({len(self.seeds)} seeds) against the overlap SDE "
                 f"({self.paths} paths, "
                 + (f"sampled noise m = {self.samples}" if self.noise == "sampled"
                    else "cubature noise")
                 + f"), escape at cosine {self.threshold:g}",
                 f"{'d':>7} {'KS':>6} {'p':>7} {'SGD q25/50/75':>22} {'SDE q25/50/75':>22} "
                 + " ".join(f"{'z ' + name:>9}" for name in CURVES)]
        sgd, sde, z = self.quartiles("sgd"), self.quartiles("sde"), self.z_scores
        for i, d in enumerate(self.ds):
            cells = ["/".join(f"{q:.3g}" for q in row[i]) for row in (sgd, sde)]
            lines.append(f"{d:>7} {self.ks[i]:>6.3f} {self.p_values[i]:>7.3f} {cells[0]:>22} "
                         f"{cells[1]:>22} " + " ".join(f"{z[n][i]:>9.2f}" for n in CURVES))
        lines += [f"  {failure}" for failure in self.failures]
        lines.append(f"verdict: {self.verdict.value} (KS p ≥ {self.level:g} at every d, mean "
                     f"curves within {self.z_bound:.2f} standard errors)")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return jsonable({"model": self.model.to_dict(), "ds": list(self.ds),
                         "seeds": list(self.seeds), "paths": self.paths,
                         "threshold": self.threshold, "level": self.level,
                         "ks": self.ks, "p_values": self.p_values,
                         "quartiles": {"sgd": self.quartiles("sgd"),
                                       "sde": self.quartiles("sde")},
                         "z_scores": self.z_scores, "verdict": self.verdict.value,
                         "failures": list(self.failures), "noise": self.noise,
                         "samples": self.samples}, "the SDE validation report")

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {"times": self.times, "escape_sgd": self.escape_sgd,
                  "escape_sde": self.escape_sde, "ks": self.ks, "p_values": self.p_values}
        for name in CURVES:
            arrays[f"means_sgd/{name}"] = self.means_sgd[name]
            arrays[f"means_sde/{name}"] = self.means_sde[name]
            arrays[f"errors/{name}"] = self.errors[name]
        if self.init is not None:
            arrays["init/M"], arrays["init/Q"] = (np.asarray(x, float) for x in self.init)
        return ({"model": self.model.to_dict(), "ds": self.ds, "seeds": self.seeds,
                 "paths": self.paths, "threshold": self.threshold, "level": self.level,
                 "failures": self.failures, "warm": self.init is not None,
                 "noise": self.noise, "samples": self.samples}, arrays)

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> SDEValidationReport:
        curves = {part: {name: arrays[f"{part}/{name}"] for name in CURVES}
                  for part in ("means_sgd", "means_sde", "errors")}
        init = (arrays["init/M"], arrays["init/Q"]) if header["warm"] else None
        return cls(model_from_dict(header["model"]), tuple(header["ds"]), arrays["times"],
                   tuple(header["seeds"]), header["paths"], header["threshold"],
                   header["level"], arrays["escape_sgd"], arrays["escape_sde"], arrays["ks"],
                   arrays["p_values"], curves["means_sgd"], curves["means_sde"],
                   curves["errors"], init, tuple(header["failures"]),
                   header.get("noise", "cubature"), int(header.get("samples", 0)))


def validate_sde(
    model: Model,
    ds,
    times,
    *,
    seeds=64,
    paths: int = 1000,
    threshold: float = 0.5,
    level: float = 0.01,
    init: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
    dt: float | None = None,
    noise: str = "sampled",
    samples: int = SAMPLES,
    compiled: CompiledModel | None = None,
) -> SDEValidationReport:
    """SGD at each d against the overlap SDE at that d (see the module docstring); the route
    ``validate(..., route="sde")`` of :func:`overlapdyn.sgd.validate`.

    Args:
        model: a plain-SGD model (the SDE's scope).
        ds: the dimensions (one is enough: nothing is fitted).
        times: the compared times ``t = steps/d``, increasing from 0.
        seeds: SGD seeds (a number or the seeds); paths: SDE paths per d.
        threshold: the escape cosine; level: the verdict's significance level.
        init: a warm start ``(M, Q)`` for every run and path, else SPEC's random start
            (drawn independently by each side).
        seed: the SDE paths' seed; dt: their step (default :func:`integrate_sde`'s).
        noise, samples: the SDE's noise scheme and its samples per step
            (:func:`integrate_sde`).
        compiled: the model's compiled drift, if built.
    """
    from scipy.stats import ks_2samp  # scipy.stats: only when validating

    ds = tuple(int(d) for d in ds)
    if not ds:
        raise OverlapdynError("validate_sde needs at least one dimension")
    seeds = check_seeds(seeds, "the SDE validation")
    times = np.asarray(times, dtype=float)
    compiled = compiled or CompiledModel(model)
    P = model.target.gram
    D, T = len(ds), times.size
    escape_sgd, escape_sde = np.full((D, len(seeds)), np.nan), np.full((D, paths), np.nan)
    ks, p_values = np.empty(D), np.empty(D)
    means = {side: {name: np.empty((D, T)) for name in CURVES} for side in ("sgd", "sde")}
    errors = {name: np.empty((D, T)) for name in CURVES}
    failures = []
    for i, d in enumerate(ds):
        steps = recorded_steps(times, d)
        grid = np.union1d(steps / d, np.round(np.geomspace(1.0 / d, times[-1], ESCAPE_GRID)
                                              * d) / d)
        simulation = simulate(model, d, grid, seeds=seeds, init=init, compiled=compiled)
        at = np.searchsorted(grid, steps / d)
        curves_sgd = {name: [] for name in CURVES}
        for s, run in zip(seeds, simulation.trajectories, strict=True):
            if run.outcome is Outcome.FAILED:
                failures.append(f"d = {d}, seed {s}: {run.message}")
                continue
            cosine = _cosine(run.M, run.Q, P)
            escape_sgd[i, seeds.index(s)] = _crossing(run.t, cosine, threshold)
            curves_sgd["cosine"].append(cosine[at])
            curves_sgd["Q"].append(_self_overlap(run.Q)[at])
        sde = integrate_sde(model, float(steps[-1] / d), d=d, paths=paths, dt=dt,
                            init="random" if init is None else init, seed=seed,
                            times=steps / d, threshold=threshold, noise=noise,
                            samples=samples, compiled=compiled)
        escape_sde[i] = sde.escape_times
        curves_sde = {"cosine": _cosine(sde.M, sde.Q, P), "Q": _self_overlap(sde.Q)}
        for name in CURVES:
            sgd = np.array(curves_sgd[name])
            means["sgd"][name][i] = sgd.mean(axis=0)
            means["sde"][name][i] = curves_sde[name].mean(axis=0)
            errors[name][i] = np.sqrt(sgd.var(axis=0, ddof=1) / len(sgd)
                                      + curves_sde[name].var(axis=0, ddof=1) / paths)
        rows = [np.where(np.isfinite(x), x, np.inf) for x in (escape_sgd[i], escape_sde[i])]
        test = ks_2samp(*rows)
        ks[i], p_values[i] = float(test.statistic), float(test.pvalue)
    return SDEValidationReport(
        model, ds, times, seeds, int(paths), float(threshold), float(level), escape_sgd,
        escape_sde, ks, p_values, means["sgd"], means["sde"], errors,
        None if init is None else (np.asarray(init[0], float), np.asarray(init[1], float)),
        tuple(failures), noise, int(samples) if noise == "sampled" else 0)
