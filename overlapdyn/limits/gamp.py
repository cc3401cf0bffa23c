r"""A finite-d GAMP for a single-index channel, against its Bayes-optimal state evolution.

The data are SPEC's: ``n = round(α d)`` samples ``x_μ ~ N(0, I_d)``, a teacher
``w* ~ N(0, I_d)`` (the Gaussian prior), fields ``z_μ = w*·x_μ/√d`` and labels
``y_μ = g(z_μ) + √Δ ξ_μ`` drawn by the link's own function
(:meth:`~overlapdyn.limits.Link.numeric`). With ``F = X/√d`` (entries of variance 1/d, so
``z = F w*``), generalised approximate message passing (Rangan 2011) in its Bayes-optimal form
(Aubin et al. 2018 at K = 1; Barbier et al. 2019) iterates, from ``ŵ⁰``, ``v⁰`` and
``g⁻¹ = 0``:

.. math::

    V_\mu &= \textstyle\sum_i F_{\mu i}^2 v_i, \qquad
    \omega_\mu = \sum_i F_{\mu i} \hat w_i - V_\mu\, g_\mu^{\mathrm{prev}}, \\
    g_\mu &= g_\mathrm{out}(y_\mu, \omega_\mu, V_\mu), \qquad
    \partial g_\mu = \partial_\omega g_\mathrm{out}(y_\mu, \omega_\mu, V_\mu), \\
    A_i &= -\textstyle\sum_\mu F_{\mu i}^2\, \partial g_\mu, \qquad
    B_i = \sum_\mu F_{\mu i}\, g_\mu + A_i \hat w_i, \\
    \hat w_i &\leftarrow \frac{B_i}{1 + A_i}, \qquad v_i \leftarrow \frac{1}{1 + A_i},

the last line being the denoiser of the Gaussian prior N(0, 1) (the posterior mean and
variance of w_i given ``B_i = A_i w_i + √A_i ζ``). ``g_out(y, ω, V) = E[z − ω | y, ω, V]/V``
and its derivative are those of :class:`~overlapdyn.limits.OutputChannel`: the same tabulated
channel the state evolution of :func:`~overlapdyn.limits.channel_information` integrates,
its sums compiled. The four products with ``F`` and ``F∘F`` are compiled too, two per pass
over F. The precisions ``A_i`` are clipped at 0: at ``q ≈ 0`` with ``E[z|y] = 0`` their mean
is 0 and their O(1/√d) spread would give ``v_i > 1``. At large d the overlap
``q^t = ŵ^t·w*/d`` follows ``q^{t+1} = q̂/(1 + q̂)``, ``q̂ = α f(q^t)``
(:mod:`overlapdyn.limits.bayes`), and the Nishimori identities hold: ``‖ŵ‖²/d = q`` and
mean ``v = 1 − q``.

Start. A random one, the finite-d counterpart of the state evolution's uninformed start
``q⁰ = 0⁺``: ``ŵ⁰ ~ N(0, ε I_d)`` drawn independently of the data (``ε = start``, default
10⁻³; its overlap with w* is ``O(√(ε/d))``) and ``v⁰ = 1 − ε`` (the prior's second moment,
``‖ŵ⁰‖²/d + v⁰ = 1``). Where the transition is first order (``curve.first_order``) GAMP from
this start follows the uninformed branch.

Damping (Rangan et al. 2019, damped GAMP). With ``damping = δ`` the output ``g`` (the one
the next Onsager term uses) and the mean ``ŵ`` entering ``B`` move the fraction ``1 − δ``
toward their new values each iteration; the fixed points are unchanged. Default
:data:`DAMPING` = 0.3: undamped, GAMP on noisy phase retrieval at α = 4 falls into a growing
period-2 oscillation (docs/guide/limits.md, "A finite-d GAMP"); damped it converges in
about 40 iterations, and at smaller α damping changes the number of iterations only.

Stopping. GAMP stops when the mean squared change of ``ŵ`` falls below
``tol · max(‖ŵ‖²/d, 10⁻⁶)`` (relative, and absolute once ŵ has collapsed toward 0: below
α_c the symmetric fixed point ``ŵ = 0`` is reached geometrically), or after ``iterations``.

Sign. For an even link ``g(−z) = g(z)`` (``z²``, ``|z|``), ``w*`` and ``−w*`` give the same
data, and GAMP lands on either; :attr:`GampRun.overlap` is therefore ``|q|``, which is what
the state evolution's ``q ≥ 0`` predicts for every link.

Finite size. :func:`gamp_sweep` runs GAMP at several α, d and seeds, and fits the gap
``|q_GAMP(d) − q_SE| ∝ d^(−γ)`` (the mean per-seed gap against d, log–log, one line per α:
:func:`overlapdyn.fits.line_fit`, the fit the ODE validation uses).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..compile.cache import load_module, source_key
from ..compile.render import module_source, template_body, template_digest
from ..errors import ConfigError
from ..fits import Line, line_fit
from ..model.checks import check_integer, check_memory, check_real, check_seeds
from ..progress import progress_bar
from ..storage.results import Result, archive_part, restore_part
from ..storage.versions import __version__
from .bayes import (
    BayesOptimalCurve,
    ChannelInformation,
    bayes_optimal_overlap,
    channel_information,
    output_channel,
)
from .links import as_link

__all__ = ["DAMPING", "MIN_DIMENSION", "GampRun", "GampSweep", "gamp_data", "gamp_sweep",
           "run_gamp"]

#: The default damping δ, see the module docstring. Undamped, GAMP oscillates with period
#: 2 on noisy phase retrieval at α = 4.
DAMPING = 0.3
#: the smallest dimension d accepted (below it the O(1/√d) fluctuations are the signal)
MIN_DIMENSION = 20
_COLLAPSED = 1e-6       # ‖ŵ‖²/d below which the stopping rule reads absolute changes
_EXACT_GAP = 1e-12      # a mean gap at or below this: GAMP on the SE value to round-off
_COARSE_V = 0.0064      # √V/4 = 0.02: the z grid's spacing from V ≥ this on is 0.02 or finer
_PRODUCTS_VERSION = 1   # bump when the module of the products is assembled differently


@dataclass(frozen=True)
class GampRun(Result):
    """One GAMP run at finite d (module docstring).

    Attributes:
        link: the link's formula; noise: Δ.
        alpha: the sample ratio α = n/d; d: the dimension; n: ``round(α d)`` samples.
        seed: the seed of the data (teacher, inputs, label noise) and of the start.
        damping: δ; start: ε of ``ŵ⁰ ~ N(0, ε I)``; tol: the stopping tolerance.
        overlaps: (T + 1,) ``q^t = ŵ^t·w*/d``, t = 0 the start (signed).
        norms: (T + 1,) ``‖ŵ^t‖²/d`` (Nishimori: equal to q at the fixed point).
        variances: (T + 1,) the mean of ``v^t`` (Nishimori: ``1 − q``).
        teacher_norm: ``‖w*‖²/d``.
        estimate: (d,) the last ŵ.
        converged: whether the stopping rule was met (False also when GAMP stopped at a
            non-finite iterate: its last overlap is then nan).
    """

    FORMAT = "overlapdyn.GampRun"
    VERSION = 1

    link: str
    noise: float
    alpha: float
    d: int
    n: int
    seed: int
    damping: float
    start: float
    tol: float
    overlaps: np.ndarray
    norms: np.ndarray
    variances: np.ndarray
    teacher_norm: float
    converged: bool
    estimate: np.ndarray

    @property
    def iterations(self) -> int:
        """The number of GAMP iterations run."""
        return self.overlaps.size - 1

    @property
    def overlap(self) -> float:
        """``|q|`` at the last iterate (the sign of an even link's ŵ is arbitrary)."""
        return float(abs(self.overlaps[-1]))

    @property
    def normalised(self) -> np.ndarray:
        """(T + 1,) the cosine ``ŵ·w*/(‖ŵ‖‖w*‖)`` per iteration (signed)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.overlaps / np.sqrt(self.norms * self.teacher_norm)

    def describe(self) -> str:
        state = (f"converged after {self.iterations} iterations" if self.converged else
                 f"not converged after {self.iterations} iterations")
        return (f"GAMP for y = {self.link} + √{self.noise:g} ξ at α = {self.alpha:g}, "
                f"d = {self.d} (n = {self.n}), seed {self.seed}: {state}"
                f"{f', damping {self.damping:g}' if self.damping else ''}\n"
                f"  overlap |q| = |ŵ·w*/d| = {self.overlap:.6f}, cosine "
                f"{abs(self.normalised[-1]):.6f}, ‖ŵ‖²/d = {self.norms[-1]:.6f}, "
                f"mean v = {self.variances[-1]:.6f}")

    def _fields(self) -> dict:
        return {"link": self.link, "noise": self.noise, "alpha": self.alpha, "d": self.d,
                "n": self.n, "seed": self.seed, "damping": self.damping, "start": self.start,
                "tol": self.tol, "teacher_norm": self.teacher_norm,
                "converged": self.converged}

    def to_dict(self) -> dict:
        return {**self._fields(), "overlap": self.overlap, "overlaps": self.overlaps.tolist(),
                "norms": self.norms.tolist(), "variances": self.variances.tolist()}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return self._fields(), {"overlaps": self.overlaps, "norms": self.norms,
                                "variances": self.variances, "estimate": self.estimate}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> GampRun:
        return cls(header["link"], float(header["noise"]), float(header["alpha"]),
                   int(header["d"]), int(header["n"]), int(header["seed"]),
                   float(header["damping"]), float(header["start"]), float(header["tol"]),
                   arrays["overlaps"], arrays["norms"], arrays["variances"],
                   float(header["teacher_norm"]), bool(header["converged"]),
                   arrays["estimate"])


def _check_alpha(alpha) -> float:
    if isinstance(alpha, str | bytes | bool) or not np.isfinite(alpha) or alpha <= 0:
        raise ConfigError(f"the sample ratio α = n/d must be a finite number > 0, got "
                          f"{alpha!r}")
    return float(alpha)


def _check_options(d, iterations, tol, damping, start) -> tuple[int, int, float, float, float]:
    d = check_integer(d, "the dimension d", 1)
    if d < MIN_DIMENSION:
        raise ConfigError(f"the dimension d = {d} is too small for GAMP's large-d "
                          f"approximations: give d ≥ {MIN_DIMENSION} (e.g. 200 to 2000)")
    iterations = check_integer(iterations, "iterations", 1)
    tol = check_real(tol, "tol", positive=True)
    damping = check_real(damping, "damping")
    if damping >= 1:
        raise ConfigError(f"damping δ keeps the fraction δ of the old iterate and must be in "
                          f"[0, 1), got {damping!r}")
    start = check_real(start, "start", positive=True)
    if start >= 1:
        raise ConfigError(f"start ε is the variance of the random ŵ⁰ and must be in (0, 1) "
                          f"(the prior's is 1), got {start!r}")
    return d, iterations, tol, damping, start


@functools.cache
def _products_module():
    """The compiled ``forward`` and ``backward`` (``compile/templates/gamp_products.py``)."""
    key = source_key(__version__, _PRODUCTS_VERSION, template_digest(), "gamp products")
    module, _ = load_module(key, lambda: module_source(
        "the matrix products of one GAMP iteration", [template_body("gamp_products")]),
        required=("forward", "backward"))
    return module


def gamp_data(link, alpha: float, d: int, *, noise: float | None = None, seed: int = 0
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data GAMP runs on: ``(F, y, w*)`` with ``F = X/√d`` (n, d), ``X`` of i.i.d.
    N(0, 1) entries (SPEC's inputs as rows), the teacher ``w* ~ N(0, I_d)`` (d,) and the
    labels ``y = g(F w*) + √Δ ξ`` (n,), ``n = round(α d)``, drawn by
    ``numpy.random.default_rng(seed)`` in the order w*, X, ξ and labelled by the link's own
    function (:meth:`~overlapdyn.limits.Link.numeric`).

    Raises:
        ConfigError: α ≤ 0, d < :data:`MIN_DIMENSION`, a negative seed, a bad link or Δ.
        ResourceError: the data would not fit in half the memory (GAMP keeps F and F²).
    """
    alpha = _check_alpha(alpha)
    d = _check_options(d, 1, 1.0, 0.0, 0.5)[0]
    seed = check_integer(seed, "the seed", 0)
    channel = as_link(link, noise=noise)
    n = max(1, round(alpha * d))
    check_memory(2.0 * n * d * 8, f"GAMP at d = {d}, n = {n}", "lower d or α")
    rng = np.random.default_rng(seed)
    teacher = rng.standard_normal(d)
    F = rng.standard_normal((n, d)) / math.sqrt(d)
    y = channel.numeric()((F @ teacher)[None]) + math.sqrt(channel.noise) * rng.standard_normal(n)
    return F, np.ascontiguousarray(y, dtype=float), teacher


def run_gamp(link, alpha: float, d: int, *, noise: float | None = None, seed: int = 0,
             iterations: int = 500, tol: float = 1e-10, damping: float = DAMPING,
             start: float = 1e-3) -> GampRun:
    """GAMP on one draw of ``n = round(α d)`` samples of ``y = g(z) + √Δ ξ`` (module
    docstring for the iteration, the start, the stopping rule and the sign).

    Args:
        link: the link (see :func:`~overlapdyn.limits.channel_information`): one field.
        alpha: α = n/d > 0.
        d: the dimension, ≥ :data:`MIN_DIMENSION`.
        noise: the label-noise variance Δ > 0 (default: the link's).
        seed: seeds the data (:func:`gamp_data`: the same seed draws the same teacher at
            every α) and, apart, the start.
        iterations: the most iterations; tol: the stopping tolerance.
        damping: δ in [0, 1); start: ε in (0, 1).

    Returns:
        :class:`GampRun`.

    Raises:
        ConfigError: α ≤ 0, d < :data:`MIN_DIMENSION`, bad options, or what
            :func:`~overlapdyn.limits.output_channel` raises (a noiseless link, k ≠ 1).
        ResourceError: the data would not fit in half the memory.
    """
    alpha = _check_alpha(alpha)
    d, iterations, tol, damping, start = _check_options(d, iterations, tol, damping, start)
    # a grid as coarse as the state evolution's (spacing ≤ 0.02) down to V = 0.0064, refined
    # below that, when an iterate gets there
    channel = output_channel(link, noise=noise, v_min=_COARSE_V)
    seed = check_integer(seed, "the seed", 0)
    F, y, teacher = gamp_data(link, alpha, d, noise=channel.noise, seed=seed)
    n = y.size
    products = _products_module()
    rng = np.random.default_rng((seed, 1))   # the start: a stream apart from the data's
    w = math.sqrt(start) * rng.standard_normal(d)
    v = np.full(d, 1.0 - start)
    g = np.zeros(n)
    Fw, V, Fg, F2dg = np.empty(n), np.empty(n), np.empty(d), np.empty(d)
    overlaps, norms, variances = [w @ teacher / d], [w @ w / d], [v.mean()]
    converged = False
    step, mean = 1.0 - damping, w
    for t in range(iterations):
        products.forward(F, w, v, Fw, V)                    # F ŵ, V = (F∘F) v
        if V.min() < channel.v_min:   # an overlap beyond the grid's: refine it
            channel = output_channel(link, noise=noise, v_min=0.5 * V.min())
        omega = Fw - V * g
        new_g, dg = channel(y, omega, V)
        # damping (Rangan et al. 2019, damped GAMP): g and the mean ŵ entering B move a
        # step toward their new values; the Onsager term uses the damped g
        g = new_g if t == 0 else step * new_g + (1.0 - step) * g
        mean = step * w + (1.0 - step) * mean
        products.backward(F, g, dg, Fg, F2dg)               # Fᵀ g, (F∘F)ᵀ ∂g
        # a precision: clipped at 0, which it is on average at q = 0 when E[z|y] = 0
        A = np.maximum(-F2dg, 0.0)
        B = Fg + A * mean
        new_w, v = B / (1.0 + A), 1.0 / (1.0 + A)
        change = float(np.mean((new_w - w) ** 2))
        w = new_w
        overlaps.append(w @ teacher / d)
        norms.append(w @ w / d)
        variances.append(v.mean())
        if not (np.isfinite(change) and np.isfinite(norms[-1])):
            overlaps[-1] = math.nan
            break
        if change <= tol * max(norms[-1], _COLLAPSED):
            converged = True
            break
    return GampRun(channel.link, channel.noise, alpha, d, n, int(seed), damping, start, tol,
                   np.array(overlaps), np.array(norms), np.array(variances),
                   float(teacher @ teacher / d), converged, w)


@dataclass(frozen=True)
class GampSweep(Result):
    """GAMP's overlaps against α, d and seeds, beside the state evolution.

    Two finite-d estimates of the state evolution's q are compared: the overlap
    ``|q| = |ŵ·w*|/d`` and the squared cosine ``cos² = (ŵ·w*)²/(‖ŵ‖²‖w*‖²)``, which the
    Nishimori identity ``‖ŵ‖²/d = q`` also sends to q, without the O(1/√d) spread of the
    teacher's own norm ``‖w*‖²/d``.

    Attributes:
        link: the link's formula; noise: Δ.
        alphas: (A,) sample ratios; ds: (D,) dimensions; seeds: (S,) seeds.
        overlaps: (A, D, S) GAMP's final ``|q|`` (:attr:`GampRun.overlap`).
        cosines: (A, D, S) GAMP's final ``cos²``.
        iterations: (A, D, S) iterations run; converged: (A, D, S) the stopping rule met.
        curve: the state evolution's :class:`~overlapdyn.limits.BayesOptimalCurve` on a fine
            α grid (for the plot); se: (A,) its uninformed fixed point at ``alphas``, the
            comparison.
        damping: the runs' damping δ.
    """

    FORMAT = "overlapdyn.GampSweep"
    VERSION = 1
    QUANTITIES = ("overlap", "cosine")

    link: str
    noise: float
    alphas: np.ndarray
    ds: np.ndarray
    seeds: np.ndarray
    overlaps: np.ndarray
    cosines: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    curve: BayesOptimalCurve
    se: np.ndarray
    damping: float

    @property
    def alpha_c(self) -> float:
        """Where the uninformed overlap leaves 0 (:attr:`BayesOptimalCurve.alpha_c`)."""
        return self.curve.alpha_c

    def values(self, quantity: str = "overlap") -> np.ndarray:
        """(A, D, S) ``|q|`` (``"overlap"``) or ``cos²`` (``"cosine"``)."""
        if quantity not in self.QUANTITIES:
            raise ConfigError(f"quantity must be one of {self.QUANTITIES}, got {quantity!r}")
        return self.overlaps if quantity == "overlap" else self.cosines

    def gaps(self, quantity: str = "overlap") -> np.ndarray:
        """(A, D, S) the per-seed gaps ``|q_GAMP − q_SE|`` (or ``|cos² − q_SE|``)."""
        return np.abs(self.values(quantity) - self.se[:, None, None])

    def mean(self, quantity: str = "overlap") -> np.ndarray:
        """(A, D) the seed mean of :meth:`values`."""
        return self.values(quantity).mean(axis=2)

    def sem(self, quantity: str = "overlap") -> np.ndarray:
        """(A, D) the standard error of that mean (0 with one seed)."""
        S = self.seeds.size
        values = self.values(quantity)
        return values.std(axis=2, ddof=1) / math.sqrt(S) if S > 1 else \
            np.zeros(values.shape[:2])

    def fitted(self, quantity: str = "overlap") -> np.ndarray:
        """(A,) whether α's gaps get a power law: at least two d's, every mean gap above
        round-off (below α_c GAMP may sit on ``ŵ = 0`` exactly, as the SE does)."""
        return (self.ds.size >= 2) & np.all(self.gaps(quantity).mean(axis=2) > _EXACT_GAP,
                                            axis=1)

    def fits(self, quantity: str = "overlap") -> Line:
        """Per α, the line ``log(mean per-seed gap) = slope·log d + intercept`` (slopes,
        intercepts and standard errors of shape (A,); nan where not :meth:`fitted`):
        ``γ = −slope``."""
        gaps = self.gaps(quantity).mean(axis=2)
        fitted = self.fitted(quantity)
        keep = np.broadcast_to(fitted[:, None], gaps.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            line = line_fit(np.log(self.ds), np.log(np.where(keep, gaps, 1.0)), keep)
            nan = np.where(fitted, 1.0, np.nan)
            return Line(np.atleast_1d(line.slope) * nan, np.atleast_1d(line.intercept) * nan,
                        np.atleast_1d(line.stderr) * nan)

    def exponents(self, quantity: str = "overlap") -> np.ndarray:
        """(A,) the finite-size exponents γ of ``gap ∝ d^(−γ)`` (nan where not fitted)."""
        return -self.fits(quantity).slope

    def pooled_exponent(self, quantity: str = "overlap") -> tuple[float, float]:
        """``(γ, its standard error)``: one slope for every fitted α, each α with its own
        intercept (the log gaps and log d centred per α, then one line fit; the standard
        error counts the points less two, not less one per α). nan when none is fitted."""
        rows = np.flatnonzero(self.fitted(quantity))
        if rows.size == 0:
            return math.nan, math.nan
        x = np.log(self.ds.astype(float))
        log_gaps = np.log(self.gaps(quantity)[rows].mean(axis=2))
        line = line_fit(np.tile(x - x.mean(), rows.size),
                        (log_gaps - log_gaps.mean(axis=1, keepdims=True)).ravel())
        return -float(line.slope), float(line.stderr)

    def describe(self) -> str:
        lines = [f"GAMP vs state evolution for y = {self.link} + √{self.noise:g} ξ: α_c = "
                 f"{self.alpha_c:.6g}; {self.seeds.size} seeds, damping {self.damping:g}"]
        for quantity, label in (("overlap", "|q| = |ŵ·w*|/d"),
                                ("cosine", "cos² = (ŵ·w*)²/(‖ŵ‖²‖w*‖²)")):
            lines.append(f"{label}, seed mean ± sem:")
            lines.append(f"{'α':>8} {'SE q':>9} "
                         + " ".join(f"{'d=' + str(d):>17}" for d in self.ds)
                         + f" {'γ (gap ∝ d^−γ)':>16}")
            line, fitted = self.fits(quantity), self.fitted(quantity)
            mean, sem = self.mean(quantity), self.sem(quantity)
            for a, alpha in enumerate(self.alphas):
                cells = [f"{m:.4f} ± {e:.4f}" for m, e in zip(mean[a], sem[a], strict=True)]
                exponent = (f"{-line.slope[a]:.2f} ± {line.stderr[a]:.2f}" if fitted[a]
                            else "—")
                lines.append(f"{alpha:>8.4g} {self.se[a]:>9.5f} "
                             + " ".join(f"{c:>17}" for c in cells) + f" {exponent:>16}")
            gamma, error = self.pooled_exponent(quantity)
            if np.isfinite(gamma):
                lines.append(f"  pooled finite-size exponent γ = {gamma:.3f} ± {error:.3f} "
                             "(mean per-seed gap vs d, one line per α)")
        if not self.converged.all():
            lines.append(f"{int((~self.converged).sum())} of {self.converged.size} runs did "
                         "not meet the stopping rule (their last iterate is reported)")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        out = {"link": self.link, "noise": self.noise, "alpha_c": self.alpha_c,
               "damping": self.damping, "alphas": self.alphas.tolist(),
               "ds": self.ds.tolist(), "seeds": self.seeds.tolist(),
               "overlaps": self.overlaps.tolist(), "cosines": self.cosines.tolist(),
               "se": self.se.tolist(), "converged": self.converged.tolist()}
        for quantity in self.QUANTITIES:
            gamma, error = self.pooled_exponent(quantity)
            out[quantity] = {"exponents": self.exponents(quantity).tolist(),
                             "pooled_exponent": gamma, "pooled_exponent_error": error}
        return out

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        curve_header, curve_arrays = archive_part(self.curve, "curve")
        return ({"link": self.link, "noise": self.noise, "damping": self.damping,
                 "curve": curve_header},
                {"alphas": self.alphas, "ds": self.ds, "seeds": self.seeds,
                 "overlaps": self.overlaps, "cosines": self.cosines,
                 "iterations": self.iterations, "converged": self.converged, "se": self.se,
                 **curve_arrays})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> GampSweep:
        return cls(header["link"], float(header["noise"]), arrays["alphas"], arrays["ds"],
                   arrays["seeds"], arrays["overlaps"], arrays["cosines"],
                   arrays["iterations"], arrays["converged"],
                   restore_part(BayesOptimalCurve, header["curve"], arrays, "curve"),
                   arrays["se"], float(header["damping"]))


def gamp_sweep(link, alphas, ds, seeds=5, *, noise: float | None = None,
               table: ChannelInformation | None = None, iterations: int = 500,
               tol: float = 1e-10, damping: float = DAMPING, start: float = 1e-3,
               progress: bool = False) -> GampSweep:
    """GAMP (:func:`run_gamp`) at every α, d and seed, with the state evolution beside it.

    Args:
        link: the link (one field, label noise Δ > 0).
        alphas: sample ratios α > 0; ds: dimensions ≥ :data:`MIN_DIMENSION`.
        seeds: a number of seeds (0, …, n−1) or the seeds.
        noise: Δ (default: the link's).
        table: the link's :class:`~overlapdyn.limits.ChannelInformation`, if computed
            already (else computed here: seconds).
        iterations, tol, damping, start: :func:`run_gamp`'s.
        progress: show a progress bar over the runs.

    Returns:
        :class:`GampSweep`, with the state evolution's curve on 200 α's up to 1.2 max α
        (α_c among them) and its uninformed fixed points at ``alphas``.

    Raises:
        ConfigError: as :func:`run_gamp`; no α or no d.
    """
    alphas = np.array([_check_alpha(a) for a in np.atleast_1d(alphas)], dtype=float)
    ds = np.array([_check_options(d, iterations, tol, damping, start)[0]
                   for d in np.atleast_1d(ds)], dtype=int)
    if alphas.size == 0 or ds.size == 0:
        raise ConfigError("a GAMP sweep needs at least one α and one d")
    seeds = np.array(check_seeds(seeds, "a GAMP sweep"), dtype=int)
    channel = output_channel(link, noise=noise)   # the named errors before any work
    if table is None:
        table = channel_information(link, noise=channel.noise)
    se = bayes_optimal_overlap(link, alphas, noise=channel.noise, table=table).uninformed
    grid = np.linspace(1.2 * alphas.max() / 200, 1.2 * alphas.max(), 200)
    first = bayes_optimal_overlap(link, grid[:1], noise=channel.noise, table=table)
    if 0 < first.alpha_c < grid[-1]:
        grid = np.sort(np.append(grid, first.alpha_c))
    curve = bayes_optimal_overlap(link, grid, noise=channel.noise, table=table)
    shape = (alphas.size, ds.size, seeds.size)
    overlaps, cosines, counts = np.empty(shape), np.empty(shape), np.empty(shape, dtype=int)
    converged = np.empty(shape, dtype=bool)
    with progress_bar(progress, total=int(np.prod(shape)), desc="GAMP", unit="run") as bar:
        for index in np.ndindex(shape):
            a, i, s = index
            run = run_gamp(link, alphas[a], ds[i], noise=channel.noise, seed=int(seeds[s]),
                           iterations=iterations, tol=tol, damping=damping, start=start)
            overlaps[index], counts[index], converged[index] = (run.overlap, run.iterations,
                                                                run.converged)
            cosines[index] = run.normalised[-1] ** 2
            bar.update()
    return GampSweep(channel.link, channel.noise, alphas, ds, seeds, overlaps, cosines,
                     counts, converged, curve, se, float(damping))
