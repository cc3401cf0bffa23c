r"""Predicted sample-complexity exponents, and exponents fitted to measured escape times.

**Prediction (SPEC, "Scaling quantities").** With ℓ the information exponent of a
single-index link or the leap of a multi-index target (:mod:`overlapdyn.scaling.leaps`),
one-pass SGD from a random start (``M = O(d^{-1/2})``) needs

    n ≍ d^{max(ℓ−1, 1)}  samples  (``d log d`` when ℓ = 2),   i.e.  t = n/(d n_b) ≍ d^{max(ℓ−2, 0)},

with the learning rate scaled as ``η = η₀ d^{−(ℓ−2)/2}`` for ℓ ≥ 3: the η²/n_b noise term of
the ODE shrinks the overlap at a rate ∝ η², the signal grows it at a rate ∝ η m^{ℓ−1}, and at
``m ≈ d^{-1/2}`` the signal wins only if ``η ≲ m^{ℓ−2} = d^{−(ℓ−2)/2}`` (Ben Arous, Gheissari &
Jagannath 2021). The escape from the saddle then takes ``t ≍ 1/(η m^{ℓ−2}) = d^{ℓ−2}``.

**With data reuse (the reuse column).** Online SGD that uses each fresh sample twice — two
steps on it, or one extragradient step (:mod:`overlapdyn.reuse.online`) — sees, at small
overlap, the gradient of a *transformed* label: the composite gradient holds powers of y, so
its drift at the start is set by the first non-zero conditional moment ``E[He_m(z) | y]``,
the generative exponent ``k*`` (Damian, Pillaud-Vivien, Lee & Bruna 2024), and no longer by
the information exponent. Arnaboldi, Dandi, Krzakala, Pesce & Stephan 2024 ("Repetita
iuvant", arXiv:2405.15459) state it as: (almost) every direction is learned in at most
``O(d log d)`` steps — ``O(d)`` when ``k* = 1``, ``O(d log d)`` when ``k* = 2`` (a symmetry,
e.g. an even link) — the exceptions (e.g. sparse parities, ``k* ≥ 3``) not. The reuse column
is SPEC's formula with ℓ replaced by k*:

    n ≍ d^{max(k*−1, 1)}  (``d log d`` when k* = 2),   η ∝ d^{−(k*−2)/2} for k* ≥ 3;

for ``k* ≤ 2`` it is the papers' statement; for ``k* ≥ 3`` it is the same mechanism carried on
(the reuse drift starts at ``m^{k*−1}``), which the papers do not state as a theorem — the
low-degree bound ``n ≳ d^{k*/2}`` (:mod:`overlapdyn.limits.profile`) is a lower bound, not
what SGD with reuse reaches. ``k*`` is computed in :mod:`overlapdyn.limits` (this layer does
not import it): :func:`overlapdyn.limits.predict_scaling_with_reuse` returns the prediction
with :attr:`ScalingPrediction.generative` set, and :meth:`ScalingPrediction.with_reuse` turns
the derived quantities (``sample_exponent``, ``log_factor``, ``eta_exponent`` …) to the reuse
column. For a multi-index target k* is the order of the first non-zero conditional moment
tensor: it governs the first escape only (the rest is the generative leap, not computed).

**Measurement.** :func:`fit_exponent` fits ``log n = β log d + c`` (or ``log(n / log d)``
when ℓ = 2, to take the log factor out) and gives a confidence interval: from the
regression's standard error for deterministic (ODE) points, from a bootstrap over seeds of
the per-d medians for simulations.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import scipy.stats
import sympy

from ..errors import OverlapdynError
from ..fits import line_fit
from ..model.spec import Model, Target
from ..storage.results import Result, archive_part, restore_part
from .leaps import Leap, leap

__all__ = ["ExponentFit", "ScalingPrediction", "fit_exponent", "predict_scaling"]


@dataclass(frozen=True)
class ScalingPrediction(Result):
    """What SPEC predicts for one-pass SGD on a target of leap / information exponent ℓ, and,
    when the generative exponent k* is known, for online SGD with data reuse (module
    docstring).

    Attributes:
        exponent: ℓ.
        kind: ``"information exponent"`` (k = 1) or ``"leap"``.
        target: the target, as text.
        leap: the :class:`~overlapdyn.scaling.leaps.Leap` it was computed from (ordering included).
        generative: the generative exponent k* (the first non-zero conditional moment's order;
            ``inf``: none up to the order searched), or None when not computed (this layer
            cannot: :func:`overlapdyn.limits.predict_scaling_with_reuse` fills it).
        reuse: which column the derived quantities (:attr:`governing`,
            :attr:`sample_exponent`, :attr:`log_factor`, :attr:`time_exponent`,
            :attr:`eta_exponent`, :meth:`learning_rate`, :meth:`samples`) are of: one-pass
            SGD (False, governed by ℓ) or SGD with data reuse (True, governed by k*);
            :meth:`with_reuse` switches.
    """

    FORMAT = "overlapdyn.ScalingPrediction"
    VERSION = 2
    READS = (1, 2)

    exponent: int
    kind: str
    target: str
    leap: Leap
    generative: float | None = None
    reuse: bool = False

    def __post_init__(self) -> None:
        if self.generative is not None:
            star = float(self.generative)
            if not (star >= 1 and (math.isinf(star) or star.is_integer())):
                raise OverlapdynError(f"generative must be an integer ≥ 1 or inf, got "
                                      f"{self.generative!r}")
            object.__setattr__(self, "generative", star)
        if self.reuse:
            self._check_reuse()

    def _check_reuse(self) -> None:
        if self.generative is None:
            raise OverlapdynError(
                "the reuse column needs the generative exponent k*, which this prediction "
                "does not hold: use overlapdyn.limits.predict_scaling_with_reuse(target)")
        if math.isinf(self.generative):
            raise OverlapdynError(
                f"the target {self.target} has no non-zero conditional moment up to the order "
                "searched (k* = ∞): data reuse gives no power of d for it")

    def with_reuse(self, reuse: bool = True) -> ScalingPrediction:
        """This prediction with the derived quantities of the reuse column (``reuse=False``:
        of one-pass SGD).

        Raises:
            OverlapdynError: the generative exponent is unknown or infinite.
        """
        return dataclasses.replace(self, reuse=bool(reuse))

    @property
    def governing(self) -> int:
        """The exponent that governs the column, ℓ (one-pass) or k* (reuse)."""
        return int(self.generative) if self.reuse else self.exponent

    @property
    def column(self) -> str:
        """The column's name, ``"one-pass SGD"`` or ``"SGD with data reuse"``."""
        return "SGD with data reuse" if self.reuse else "one-pass SGD"

    @property
    def symbol(self) -> str:
        """The name of :attr:`governing`, ``"ℓ"`` or ``"k*"``."""
        return "k*" if self.reuse else "ℓ"

    @property
    def sample_exponent(self) -> int:
        """β in ``n ≍ d^β``: ``max(ℓ − 1, 1)`` (k* for ℓ in the reuse column)."""
        return max(self.governing - 1, 1)

    @property
    def log_factor(self) -> bool:
        """Whether a ``log d`` multiplies ``d^β`` (ℓ = 2, or k* = 2)."""
        return self.governing == 2

    @property
    def time_exponent(self) -> int:
        """Exponent of the ODE time ``t = n/(d n_b) ≍ d^{max(ℓ−2, 0)}`` (× log d at ℓ = 2)."""
        return max(self.governing - 2, 0)

    @property
    def eta_exponent(self) -> float:
        """γ in ``η = η₀ d^γ``: ``−(ℓ − 2)/2`` for ℓ ≥ 3, else 0."""
        return -max(self.governing - 2, 0) / 2

    def learning_rate(self, eta0: float, d: int) -> float:
        """``η₀ d^γ``: the learning rate that achieves the predicted complexity at dimension d."""
        return float(eta0) * float(d) ** self.eta_exponent

    def samples(self, d: int | np.ndarray) -> np.ndarray:
        """``d^β`` (× ``log d`` at ℓ = 2), the predicted scaling without its prefactor."""
        d = np.asarray(d, dtype=float)
        return d**self.sample_exponent * (np.log(d) if self.log_factor else 1.0)

    def describe(self) -> str:
        """The report, a few lines of text (with the reuse column when k* is known)."""
        lines = [f"target        {self.target}",
                 f"{self.kind:<13} ℓ = {self.exponent}   ({self.leap.describe()})",
                 f"learned as    {self.leap.learned_as}"]
        one_pass = dataclasses.replace(self, reuse=False)
        lines += one_pass._column_lines("(one-pass SGD from a random start)")
        if self.generative is not None:
            star = "∞" if math.isinf(self.generative) else str(int(self.generative))
            lines.append(f"generative    k* = {star}   (first non-zero E[He_m(z) | y])")
            if math.isfinite(self.generative):
                reuse = dataclasses.replace(self, reuse=True)
                lines += reuse._column_lines("(SGD with data reuse, from a random start)")
            else:
                lines.append("samples       no power of d with data reuse (k* = ∞)")
        return "\n".join(lines)

    def _column_lines(self, what: str) -> list[str]:
        n = f"d^{self.sample_exponent}" + (" log d" if self.log_factor else "")
        t = ("log d" if self.log_factor else
             f"d^{self.time_exponent}" if self.time_exponent else "O(1)")
        eta = "η₀ (fixed)" if self.eta_exponent == 0 else f"η₀ d^({self.eta_exponent:g})"
        return [f"samples       n ≍ {n}   {what}",
                f"ODE time      t = n/(d n_b) ≍ {t}",
                f"learning rate η = {eta}"]

    def to_dict(self) -> dict:
        return {"target": self.target, "kind": self.kind, "exponent": self.exponent,
                "generative": self.generative, "column": self.column,
                "governing": self.governing,
                "sample_exponent": self.sample_exponent, "log_factor": self.log_factor,
                "time_exponent": self.time_exponent, "eta_exponent": self.eta_exponent,
                "ordering": [list(nu) for nu in self.leap.ordering],
                "steps": list(self.leap.steps), "learned_order": list(self.leap.names),
                "learned_as": self.leap.learned_as,
                "exact": self.leap.exact}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        leap_header, arrays = archive_part(self.leap, "leap")
        return {"exponent": self.exponent, "kind": self.kind, "target": self.target,
                "leap": leap_header, "generative": self.generative,
                "reuse": self.reuse}, arrays

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> ScalingPrediction:
        # version 1 had neither k* nor the reuse column
        return cls(header["exponent"], header["kind"], header["target"],
                   restore_part(Leap, header["leap"], arrays, "leap"),
                   header.get("generative"), bool(header.get("reuse", False)))


def predict_scaling(
    target: Model | Target | str | sympy.Expr,
    k: int | None = None,
    *,
    order: int = 8,
) -> ScalingPrediction:
    """The predicted sample complexity and learning-rate scaling for a target.

    Args:
        target: a model, its target, or a formula in ``z1..zk`` (then give ``k``).
        k: number of latent fields of a formula.
        order: Hermite truncation order used when the target is not a polynomial.
    """
    if isinstance(target, Model):
        target = target.target
    if isinstance(target, Target):
        text = target.written
        k = target.k
    else:
        text = str(target)
    result = leap(target, k, order=order)   # order only matters for a non-polynomial
    if result.value == 0:
        raise OverlapdynError(f"the target {text} is constant: there is nothing to learn")
    kind = "information exponent" if k == 1 else "leap"
    return ScalingPrediction(result.value, kind, text, result)


@dataclass(frozen=True)
class ExponentFit(Result):
    """A fitted exponent ``β`` in ``n ≍ d^β`` (or ``n ≍ d^β log d``) with its interval.

    Attributes:
        exponent: β.
        ci: the ``level`` confidence interval ``(low, high)``.
        level: the confidence level.
        intercept: c in ``log n = β log d + c``.
        log_factor: whether the fit was of ``n / log d``.
        method: ``"regression"`` (one run per d) or ``"bootstrap"`` (medians over seeds).
        n_points: number of dimensions used.
    """

    FORMAT = "overlapdyn.ExponentFit"
    VERSION = 1

    exponent: float
    ci: tuple[float, float]
    level: float
    intercept: float
    log_factor: bool
    method: str
    n_points: int

    def agrees(self, predicted: float, tolerance: float) -> bool:
        """``|β − predicted| ≤ tolerance``."""
        return abs(self.exponent - predicted) <= tolerance

    def describe(self) -> str:
        what = "n/log d" if self.log_factor else "n"
        return (f"{what} ∝ d^{self.exponent:.3f}  ({self.level:.0%} CI {self.ci[0]:.3f} … "
                f"{self.ci[1]:.3f}, {self.method}, {self.n_points} dimensions)")

    def to_dict(self) -> dict:
        return {"exponent": self.exponent, "ci": list(self.ci), "level": self.level,
                "intercept": self.intercept, "log_factor": self.log_factor,
                "method": self.method, "n_points": self.n_points}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return self.to_dict(), {}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> ExponentFit:
        return cls(header["exponent"], tuple(header["ci"]), header["level"],
                   header["intercept"], header["log_factor"], header["method"],
                   header["n_points"])


def fit_exponent(
    ds,
    samples,
    *,
    log_factor: bool = False,
    level: float = 0.95,
    n_bootstrap: int = 2000,
    seed: int = 0,
) -> ExponentFit:
    """Fit ``log n = β log d + c`` to escape sample counts.

    Args:
        ds: the dimensions, shape (D,).
        samples: sample counts, shape (D,) or (D, S) for S seeds; ``nan`` or ``inf`` marks a
            run that had not escaped when it was stopped (counted as later than every
            escaped run when taking medians).
        log_factor: fit ``n / log d`` instead of n (ℓ = 2).
        level: confidence level of the interval.
        n_bootstrap: bootstrap resamples (seeds resampled within each d) when S > 1.
        seed: seed of the bootstrap.

    Raises:
        OverlapdynError: fewer than two dimensions with an estimate, or bad shapes.
    """
    ds = np.asarray(ds, dtype=float)
    n = np.asarray(samples, dtype=float)
    n = n[:, None] if n.ndim == 1 else n
    if n.shape[0] != ds.size:
        raise OverlapdynError(f"samples has {n.shape[0]} rows for {ds.size} dimensions")
    n = np.where(np.isfinite(n), n, np.inf)
    if log_factor:
        n = n / np.log(ds)[:, None]
    x = np.log(ds)
    medians = np.median(n, axis=1)
    keep = np.isfinite(medians)
    if keep.sum() < 2:
        raise OverlapdynError("fewer than two dimensions have a finite (median) escape time: "
                              "raise t_max, or lower η")
    line = line_fit(x, np.log(np.where(keep, medians, 1.0)), keep)
    beta, intercept = line.slope, line.intercept
    if n.shape[1] == 1:
        half = (scipy.stats.t.ppf(0.5 + level / 2, keep.sum() - 2) * line.stderr
                if keep.sum() > 2 else math.nan)
        return ExponentFit(beta, (beta - half, beta + half), level, intercept, log_factor,
                           "regression", int(keep.sum()))
    low, high = np.percentile(_bootstrap_slopes(x, n, n_bootstrap, seed),
                              [50 * (1 - level), 50 * (1 + level)])
    return ExponentFit(beta, (float(low), float(high)), level, intercept, log_factor,
                       "bootstrap", int(keep.sum()))


def _bootstrap_slopes(x: np.ndarray, n: np.ndarray, n_bootstrap: int, seed: int) -> np.ndarray:
    """Slopes of log median n against x = log d, the seeds resampled within each d: one
    per resample with at least two finite medians.

    (``scipy.stats.bootstrap`` resamples the same way, but draws its indices in another
    order, so its intervals would differ from the ones reported until now.)
    """
    rng = np.random.default_rng(seed)
    columns = rng.integers(0, n.shape[1], size=(n_bootstrap, *n.shape))
    medians = np.median(np.take_along_axis(n[None], columns, axis=2), axis=2)   # (B, D)
    finite = np.isfinite(medians)
    usable = finite.sum(axis=1) >= 2
    log_median = np.log(np.where(finite, medians, 1.0))
    return line_fit(x, log_median[usable], finite[usable]).slope
