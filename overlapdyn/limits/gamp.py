r"""A finite-d GAMP for a single-index channel and for a two-field (committee-type) one,
against their Bayes-optimal state evolutions.

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

**Two fields** (:func:`run_multi_index_gamp`; Aubin et al. 2018's committee-machine AMP with
a Gaussian prior). The teacher ``W*`` (d, k) has i.i.d. N(0, 1) entries (its rows ``w*_i``
drawn from the prior N(0, I_k)), ``z_μ = W*ᵀ x_μ/√d ∈ R^k`` and ``y_μ = g(z_μ) + √Δ ξ_μ``.
Every quantity of the iteration above becomes a k-vector or a k×k matrix: per sample
``ω_μ ∈ R^k``, ``g_μ = g_out(y_μ, ω_μ, V) ∈ R^k`` and ``∂g_μ = ∂_ω g_out ∈ R^{k×k}``; per
coordinate ``ŵ_i ∈ R^k`` and ``A_i, v_i ∈ R^{k×k}``:

.. math::

    V &= \textstyle\sum_i \bar c_i v_i, \qquad \bar c_i = \frac1n \sum_\mu F_{\mu i}^2,
    \qquad \omega_\mu = \sum_i F_{\mu i} \hat w_i - V g_\mu^{\mathrm{prev}}, \\
    A_i &= -\textstyle\sum_\mu F_{\mu i}^2\, \partial g_\mu, \qquad
    B_i = \sum_\mu F_{\mu i}\, g_\mu + A_i \hat w_i, \qquad
    \hat w_i \leftarrow (I + A_i)^{-1} B_i, \quad v_i \leftarrow (I + A_i)^{-1},

the last two the posterior mean and covariance of ``w_i ~ N(0, I_k)`` given
``B_i = A_i w_i + A_i^{1/2} ζ``; each ``A_i`` is symmetrised and its eigenvalues clipped at
0 (as k = 1's). ``g_out(y, ω, V) = V⁻¹ E[z − ω | y, ω, V]`` and
``∂_ω g_out = V⁻¹ Cov[z | y, ω, V] V⁻¹ − V⁻¹`` come from
:meth:`MultiIndexChannel.output <overlapdyn.limits.MultiIndexChannel.output>`: the channel
of the k = 2 state evolution (:mod:`overlapdyn.limits.bayes_multi`), the posterior of the two
fields summed over a grid sample by sample in compiled code.

The averaged V. GAMP's ``V_μ = Σ_i F_μi² v_i`` is replaced by its mean over the samples
(a standard simplification): then one covariance serves every sample, and the output
function is one compiled call at a fixed V per iteration. It is exact at large d: the
``F_μi²`` have mean ``1/d`` and fluctuations O(1/d) independent of ``v_i`` (to leading
order), so ``V_μ = V + O(d^{−1/2})`` for every μ, and the state evolution depends on V only
through its limit ``I − Q``; the price at finite d is an O(1/√d) error in each ``ω_μ``, of
the order of the fluctuations GAMP has anyway.

Reading the result. ``M = Ŵᵀ W*/d`` (k×k) is recorded per iteration
(:attr:`MultiIndexGampRun.overlaps`), with ``N = ŴᵀŴ/d`` and the mean ``v``. A link has
symmetries (``z1*z2``: swapping the fields, flipping both signs; ``z1 + z2**2``: flipping z2),
and GAMP lands on any of the teachers they map ``W*`` to, so M tends to ``Q S`` with S
orthogonal, not to Q. The comparison with the state evolution's overlaps per direction (the
eigenvalues of Q, :meth:`MultiIndexCurve.overlaps
<overlapdyn.limits.MultiIndexCurve.overlaps>`) therefore uses invariants, each sorted
descending: the singular values of M, the squared cosines of the principal angles between Ŵ
and W* (the singular values of ``N^{+1/2} M (W*ᵀW*/d)^{−1/2}``, squared: k = 1's ``cos²``,
free of the spread of the teacher's own Gram matrix) and the eigenvalues of N (Nishimori).
Where Q has a repeated eigenvalue (``z1*z2``: ``Q = qI``), sorting turns the O(1/√d)
fluctuations of the two into a spread of the sorted pair, which shrinks with d like them.
:func:`multi_index_gamp_sweep` fits each direction's gap like :func:`gamp_sweep`, with the
same line fits.
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
from .bayes_multi import (
    MultiIndexChannel,
    MultiIndexCurve,
    multi_index_channel,
    multi_index_overlap,
)
from .links import as_link

__all__ = ["DAMPING", "MIN_DIMENSION", "GampRun", "GampSweep", "MultiIndexGampRun",
           "MultiIndexGampSweep", "gamp_data", "gamp_sweep", "multi_index_gamp_data",
           "multi_index_gamp_sweep", "run_gamp", "run_multi_index_gamp"]

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
    F, y, teacher = _draw(as_link(link, noise=noise), alpha, d, seed)
    return F, y, teacher[:, 0]


def _draw(channel, alpha, d, seed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(F, y, W*)`` of :func:`gamp_data` for a link of k fields: ``W*`` (d, k) of i.i.d.
    N(0, 1) entries (each column a teacher direction, the rows drawn from the prior
    N(0, I_k)), ``y = g(F W*) + √Δ ξ``; for k = 1 the same draws as :func:`gamp_data`."""
    alpha = _check_alpha(alpha)
    d = _check_options(d, 1, 1.0, 0.0, 0.5)[0]
    seed = check_integer(seed, "the seed", 0)
    n = max(1, round(alpha * d))
    check_memory(2.0 * n * d * 8, f"GAMP at d = {d}, n = {n}", "lower d or α")
    rng = np.random.default_rng(seed)
    teacher = rng.standard_normal((d, channel.k))
    F = rng.standard_normal((n, d)) / math.sqrt(d)
    y = channel.numeric()((F @ teacher).T) + math.sqrt(channel.noise) * rng.standard_normal(n)
    if not np.all(np.isfinite(y)):
        raise ConfigError(f"the link {channel.name!r} gives non-finite labels; write a link "
                          "finite on almost every z")
    return F, np.ascontiguousarray(y, dtype=float), teacher


@dataclass(frozen=True)
class _Trace:
    """What :func:`_iterate` returns: per iteration t = 0..T the (k, k) matrices
    ``M = Ŵᵀ W*/d``, ``N = ŴᵀŴ/d`` and the mean of ``v_i``; the last Ŵ (d, k); whether the
    stopping rule was met."""

    overlaps: np.ndarray
    norms: np.ndarray
    variances: np.ndarray
    estimate: np.ndarray
    converged: bool


def _iterate(F, y, teacher, output, variances: int, seed: int, iterations: int, tol: float,
             damping: float, start: float) -> _Trace:
    """GAMP's iteration for k fields, the one loop of :func:`run_gamp` (k = 1) and
    :func:`run_multi_index_gamp` (k = 2), module docstring: the products with F and F∘F
    (compiled, ``forward``/``backward``), the damping, the precisions clipped to be
    positive semi-definite, the Gaussian prior's denoiser and the stopping rule.

    ``output(FW, FS, G, v)`` returns the channel's ``g_out`` (n, k) and ``∂_ω g_out``
    (n, k, k) at ``ω = F Ŵ − V g_prev``: it forms V and ω itself from ``FW = F Ŵ`` (n, k),
    ``FS = (F∘F) S`` (n, ``variances``), the previous (damped) G (n, k) and the variances
    ``v`` (d, k, k); S is the first ``variances`` columns of v flattened (1 for k = 1, whose
    V is per sample; 0 where the caller averages V).
    """
    n, d = F.shape
    k = teacher.shape[1]
    products = _products_module()
    rng = np.random.default_rng((seed, 1))   # the start: a stream apart from the data's
    w = math.sqrt(start) * rng.standard_normal((d, k))
    v = np.broadcast_to((1.0 - start) * np.eye(k), (d, k, k)).copy()
    g = np.zeros((n, k))
    # the products' arrays are transposed, one row per column (gamp_products.py)
    FW, FS = np.empty((k, n)), np.empty((variances, n))
    FG, FD = np.empty((k, d)), np.empty((k * k, d))

    def record(w, v):
        return w.T @ teacher / d, w.T @ w / d, v.mean(axis=0)

    history = [record(w, v)]
    converged = False
    step, mean = 1.0 - damping, w
    for t in range(iterations):
        products.forward(F, np.ascontiguousarray(w.T),
                         np.ascontiguousarray(v.reshape(d, k * k)[:, :variances].T), FW, FS)
        new_g, dg = output(FW.T, FS.T, g, v)
        # damping (Rangan et al. 2019, damped GAMP): g and the mean ŵ entering B move a
        # step toward their new values; the Onsager term uses the damped g
        g = new_g if t == 0 else step * new_g + (1.0 - step) * g
        mean = step * w + (1.0 - step) * mean
        products.backward(F, np.ascontiguousarray(g.T),
                          np.ascontiguousarray(dg.reshape(n, k * k).T), FG, FD)
        fg, fd = FG.T, FD.T                                  # (d, k), (d, k²)
        # a precision: clipped to be positive semi-definite, which it is on average at
        # q = 0 when E[z|y] = 0 (its O(1/√d) spread would give v_i > I)
        if k == 1:
            A = np.maximum(-fd, 0.0)
            new_w, v = (fg + A * mean) / (1.0 + A), (1.0 / (1.0 + A))[:, :, None]
        else:
            A = -fd.reshape(d, k, k)
            values, vectors = np.linalg.eigh((A + A.transpose(0, 2, 1)) / 2)
            A = np.einsum("irs,is,its->irt", vectors, np.maximum(values, 0.0), vectors)
            # the Gaussian prior N(0, I_k): ŵ = (I + A)⁻¹ B, v = (I + A)⁻¹
            v = np.linalg.inv(np.eye(k) + A)
            v = (v + v.transpose(0, 2, 1)) / 2
            new_w = np.einsum("irs,is->ir", v, fg + np.einsum("irs,is->ir", A, mean))
        change = float(np.mean((new_w - w) ** 2))
        w = new_w
        history.append(record(w, v))
        norm = float(np.trace(history[-1][1])) / k
        if not (np.isfinite(change) and np.isfinite(norm)):
            history[-1] = tuple(np.full((k, k), math.nan) for _ in range(3))
            break
        if change <= tol * max(norm, _COLLAPSED):
            converged = True
            break
    overlaps, norms, mean_v = (np.array(part) for part in zip(*history, strict=True))
    return _Trace(overlaps, norms, mean_v, w, converged)


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
    channels = [output_channel(link, noise=noise, v_min=_COARSE_V)]
    seed = check_integer(seed, "the seed", 0)
    F, y, teacher = _draw(as_link(link, noise=channels[0].noise), alpha, d, seed)

    def output(FW, FS, g, v):
        V = FS[:, 0]                                  # V_μ = Σ_i F_μi² v_i
        if V.min() < channels[-1].v_min:   # an overlap beyond the grid's: refine it
            channels.append(output_channel(link, noise=noise, v_min=0.5 * V.min()))
        new_g, dg = channels[-1](y, FW[:, 0] - V * g[:, 0], V)
        return new_g[:, None], dg[:, None, None]

    trace = _iterate(F, y, teacher, output, 1, seed, iterations, tol, damping, start)
    channel = channels[0]
    return GampRun(channel.link, channel.noise, alpha, d, y.size, int(seed), damping, start,
                   tol, trace.overlaps[:, 0, 0].copy(), trace.norms[:, 0, 0].copy(),
                   trace.variances[:, 0, 0].copy(), float(teacher[:, 0] @ teacher[:, 0] / d),
                   trace.converged, trace.estimate[:, 0].copy())


def _fitted(ds: np.ndarray, gaps: np.ndarray, se: np.ndarray) -> np.ndarray:
    """(R,) whether each row of mean gaps (R, D) to the SE values ``se`` (R,) gets a power
    law in d: at least two d's, every gap above round-off, and no collapse. Where the SE
    value is 0 and GAMP's value sits below the collapse level (gap ≤ √10⁻⁶) at every d,
    GAMP has collapsed onto it: the gap is what its stopping rule leaves, which shrinks with
    the iterations, not with d (a slope fitted to it read γ ≈ 10 once)."""
    collapsed = (np.abs(se) <= _EXACT_GAP) & np.all(gaps <= math.sqrt(_COLLAPSED), axis=1)
    return (ds.size >= 2) & np.all(gaps > _EXACT_GAP, axis=1) & ~collapsed


def _gap_fits(ds: np.ndarray, gaps: np.ndarray, se: np.ndarray) -> Line:
    """Per row of mean gaps (R, D), the line ``log gap = slope·log d + intercept`` (arrays
    of shape (R,), nan where not :func:`_fitted`)."""
    fitted = _fitted(ds, gaps, se)
    keep = np.broadcast_to(fitted[:, None], gaps.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        line = line_fit(np.log(ds), np.log(np.where(keep, gaps, 1.0)), keep)
        nan = np.where(fitted, 1.0, np.nan)
        return Line(np.atleast_1d(line.slope) * nan, np.atleast_1d(line.intercept) * nan,
                    np.atleast_1d(line.stderr) * nan)


def _pooled_exponent(ds: np.ndarray, gaps: np.ndarray, se: np.ndarray
                     ) -> tuple[float, float]:
    """``(γ, its standard error)`` of one slope for every fitted row of mean gaps (R, D),
    each row with its own intercept (log gaps and log d centred per row, one line fit)."""
    rows = np.flatnonzero(_fitted(ds, gaps, se))
    if rows.size == 0:
        return math.nan, math.nan
    x = np.log(ds.astype(float))
    log_gaps = np.log(gaps[rows])
    line = line_fit(np.tile(x - x.mean(), rows.size),
                    (log_gaps - log_gaps.mean(axis=1, keepdims=True)).ravel())
    return -float(line.slope), float(line.stderr)


def _exponent_summary(sweep) -> dict:
    """Per quantity of a GAMP sweep, its fitted and pooled finite-size exponents (for
    ``to_dict``)."""
    summary = {}
    for quantity in sweep.QUANTITIES:
        gamma, error = sweep.pooled_exponent(quantity)
        summary[quantity] = {"exponents": sweep.exponents(quantity).tolist(),
                             "pooled_exponent": gamma, "pooled_exponent_error": error}
    return summary


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
        round-off (below α_c GAMP may sit on ``ŵ = 0`` exactly, as the SE does), and GAMP
        not collapsed onto an SE value of 0 (its gap then shrinks with the iterations, not
        with d)."""
        return _fitted(self.ds, self.gaps(quantity).mean(axis=2), self.se)

    def fits(self, quantity: str = "overlap") -> Line:
        """Per α, the line ``log(mean per-seed gap) = slope·log d + intercept`` (slopes,
        intercepts and standard errors of shape (A,); nan where not :meth:`fitted`):
        ``γ = −slope``."""
        return _gap_fits(self.ds, self.gaps(quantity).mean(axis=2), self.se)

    def exponents(self, quantity: str = "overlap") -> np.ndarray:
        """(A,) the finite-size exponents γ of ``gap ∝ d^(−γ)`` (nan where not fitted)."""
        return -self.fits(quantity).slope

    def pooled_exponent(self, quantity: str = "overlap") -> tuple[float, float]:
        """``(γ, its standard error)``: one slope for every fitted α, each α with its own
        intercept (the log gaps and log d centred per α, then one line fit; the standard
        error counts the points less two, not less one per α). nan when none is fitted."""
        return _pooled_exponent(self.ds, self.gaps(quantity).mean(axis=2), self.se)

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
        return out | _exponent_summary(self)

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


def _runs(alphas, ds, seeds, progress, run):
    """``(index, run(α, d, seed))`` for every index (a, i, s) of the (A, D, S) grid, with a
    progress bar over the runs: the loop of both sweeps."""
    shape = (alphas.size, ds.size, seeds.size)
    with progress_bar(progress, total=int(np.prod(shape)), desc="GAMP", unit="run") as bar:
        for index in np.ndindex(shape):
            a, i, s = index
            yield index, run(float(alphas[a]), int(ds[i]), int(seeds[s]))
            bar.update()


def _sweep_grid(alphas, ds, iterations, tol, damping, start) -> tuple[np.ndarray, np.ndarray]:
    """The checked α's and d's of a sweep."""
    alphas = np.array([_check_alpha(a) for a in np.atleast_1d(alphas)], dtype=float)
    ds = np.array([_check_options(d, iterations, tol, damping, start)[0]
                   for d in np.atleast_1d(ds)], dtype=int)
    if alphas.size == 0 or ds.size == 0:
        raise ConfigError("a GAMP sweep needs at least one α and one d")
    return alphas, ds


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
    alphas, ds = _sweep_grid(alphas, ds, iterations, tol, damping, start)
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
    for index, run in _runs(alphas, ds, seeds, progress, lambda alpha, d, seed: run_gamp(
            link, alpha, d, noise=channel.noise, seed=seed, iterations=iterations, tol=tol,
            damping=damping, start=start)):
        overlaps[index], counts[index], converged[index] = (run.overlap, run.iterations,
                                                            run.converged)
        cosines[index] = run.normalised[-1] ** 2
    return GampSweep(channel.link, channel.noise, alphas, ds, seeds, overlaps, cosines,
                     counts, converged, curve, se, float(damping))


# ------------------------------------------------------------------ two fields (k = 2)
def _descending_singular_values(M: np.ndarray) -> np.ndarray:
    """(…, k) the singular values of each (k, k) matrix, descending (nan where M is)."""
    finite = np.all(np.isfinite(M), axis=(-2, -1))
    out = np.full(M.shape[:-1], math.nan)
    out[finite] = np.linalg.svd(M[finite], compute_uv=False)
    return out


def _descending_eigenvalues(M: np.ndarray) -> np.ndarray:
    """(…, k) the eigenvalues of each symmetric (k, k) matrix, descending (nan where M is)."""
    finite = np.all(np.isfinite(M), axis=(-2, -1))
    out = np.full(M.shape[:-1], math.nan)
    out[finite] = np.linalg.eigvalsh((M[finite] + np.swapaxes(M[finite], -1, -2)) / 2)[..., ::-1]
    return out


@dataclass(frozen=True)
class MultiIndexGampRun(Result):
    """One two-field GAMP run at finite d (module docstring, "Two fields").

    Attributes:
        link: the link's formula; k: fields (2); noise: Δ.
        alpha: α = n/d; d: the dimension; n: ``round(α d)`` samples.
        seed: the seed of the data (teacher, inputs, label noise) and of the start.
        damping: δ; start: ε of ``Ŵ⁰`` (entries N(0, ε)); tol: the stopping tolerance.
        overlaps: (T + 1, k, k) ``M^t = Ŵ^tᵀ W*/d`` (row r: the estimate's field r, column
            s: the teacher's field s), t = 0 the start.
        norms: (T + 1, k, k) ``N^t = Ŵ^tᵀ Ŵ^t/d`` (Nishimori: equal to Q at the fixed point).
        variances: (T + 1, k, k) the mean of ``v_i^t`` (Nishimori: ``I − Q``).
        teacher_gram: (k, k) ``W*ᵀ W*/d``.
        converged: whether the stopping rule was met (False also when GAMP stopped at a
            non-finite iterate: its last matrices are then nan).
        estimate: (d, k) the last Ŵ.
    """

    FORMAT = "overlapdyn.MultiIndexGampRun"
    VERSION = 1

    link: str
    k: int
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
    teacher_gram: np.ndarray
    converged: bool
    estimate: np.ndarray

    @property
    def iterations(self) -> int:
        """The number of GAMP iterations run."""
        return self.overlaps.shape[0] - 1

    @property
    def singular_values(self) -> np.ndarray:
        """(T + 1, k) the singular values of ``M^t``, descending: invariant under the link's
        symmetries (a permutation or sign change of the fields that leaves g unchanged maps
        M to M S, S orthogonal), and at large d the eigenvalues of the state evolution's Q
        (``M → Q S``)."""
        return _descending_singular_values(self.overlaps)

    @property
    def overlap(self) -> np.ndarray:
        """(k,) the singular values of the last ``M``: the overlap per learned direction,
        to compare with :meth:`MultiIndexCurve.overlaps
        <overlapdyn.limits.MultiIndexCurve.overlaps>`."""
        return self.singular_values[-1]

    @property
    def norm(self) -> np.ndarray:
        """(k,) the eigenvalues of the last ``N = ŴᵀŴ/d``, descending (Nishimori: the same
        limit as :attr:`overlap`)."""
        return _descending_eigenvalues(self.norms[-1])

    @property
    def cosine(self) -> np.ndarray:
        """(k,) the squared cosines of the principal angles between Ŵ and W* at the last
        iterate: the squared singular values of ``N^{+1/2} M T^{−1/2}``, ``T = W*ᵀW*/d``,
        descending. With the Nishimori identity ``N = M = Q`` they tend to the eigenvalues
        of Q too, without the O(1/√d) spread of the teacher's own Gram matrix (the k-field
        :attr:`GampRun.normalised` squared)."""
        return _squared_cosines(self.overlaps[-1], self.norms[-1], self.teacher_gram)

    def describe(self) -> str:
        state = (f"converged after {self.iterations} iterations" if self.converged else
                 f"not converged after {self.iterations} iterations")
        M = self.overlaps[-1]
        return (f"two-field GAMP for y = {self.link} + √{self.noise:g} ξ at α = "
                f"{self.alpha:g}, d = {self.d} (n = {self.n}), seed {self.seed}: {state}"
                f"{f', damping {self.damping:g}' if self.damping else ''}\n"
                f"  singular values of Ŵᵀ W*/d: {_numbers(self.overlap)}; squared cosines: "
                f"{_numbers(self.cosine)}; eigenvalues of ŴᵀŴ/d: {_numbers(self.norm)}; "
                "of mean v: "
                f"{_numbers(_descending_eigenvalues(self.variances[-1]))}\n"
                f"  Ŵᵀ W*/d = {np.array2string(M, precision=4, suppress_small=True)}")

    def _fields(self) -> dict:
        return {"link": self.link, "k": self.k, "noise": self.noise, "alpha": self.alpha,
                "d": self.d, "n": self.n, "seed": self.seed, "damping": self.damping,
                "start": self.start, "tol": self.tol, "converged": self.converged}

    def to_dict(self) -> dict:
        return {**self._fields(), "overlap": self.overlap.tolist(), "norm": self.norm.tolist(),
                "cosine": self.cosine.tolist(),
                "overlaps": self.overlaps.tolist(), "norms": self.norms.tolist(),
                "variances": self.variances.tolist(),
                "teacher_gram": self.teacher_gram.tolist()}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return self._fields(), {"overlaps": self.overlaps, "norms": self.norms,
                                "variances": self.variances,
                                "teacher_gram": self.teacher_gram, "estimate": self.estimate}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> MultiIndexGampRun:
        return cls(header["link"], int(header["k"]), float(header["noise"]),
                   float(header["alpha"]), int(header["d"]), int(header["n"]),
                   int(header["seed"]), float(header["damping"]), float(header["start"]),
                   float(header["tol"]), arrays["overlaps"], arrays["norms"],
                   arrays["variances"], arrays["teacher_gram"], bool(header["converged"]),
                   arrays["estimate"])


def _squared_cosines(M: np.ndarray, N: np.ndarray, T: np.ndarray) -> np.ndarray:
    """(k,) the squared singular values of ``N^{+1/2} M T^{−1/2}``, descending: the squared
    cosines of the principal angles between the columns of Ŵ and of W*, each scaled by
    its own Gram matrix (``N⁺`` the pseudo-inverse: a direction Ŵ does not span counts 0).
    For k = 1 the squared cosine of :class:`GampRun`; nan where M is."""
    if not (np.all(np.isfinite(M)) and np.all(np.isfinite(N))):
        return np.full(M.shape[0], math.nan)
    values, vectors = np.linalg.eigh((N + N.T) / 2)
    spanned = values > _COLLAPSED * max(values.max(), 0.0) + 1e-300
    scale = np.zeros_like(values)
    scale[spanned] = 1.0 / np.sqrt(values[spanned])
    root_n = (vectors * scale) @ vectors.T
    values, vectors = np.linalg.eigh((T + T.T) / 2)
    root_t = (vectors / np.sqrt(values)) @ vectors.T
    return np.linalg.svd(root_n @ M @ root_t, compute_uv=False) ** 2


def _numbers(values: np.ndarray) -> str:
    return ", ".join(f"{v:.4f}" for v in values)


def _two_field_channel(link, k, noise, channel: MultiIndexChannel | None) -> MultiIndexChannel:
    if channel is None:
        channel = multi_index_channel(link, k, noise=noise)
    if channel.k != 2 or channel.method != "grid":
        raise ConfigError(f"the two-field GAMP is for links of k = 2 fields on the grid; "
                          f"{channel.link!r} has k = {channel.k} ({channel.method}): give "
                          "k=2, or use run_gamp for one field")
    return channel


def multi_index_gamp_data(link, alpha: float, d: int, *, k: int | None = None,
                          noise: float | None = None, seed: int = 0
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data the two-field GAMP runs on: ``(F, y, W*)``, as :func:`gamp_data` with a
    teacher ``W*`` (d, k) of i.i.d. N(0, 1) entries (its rows drawn from the prior
    N(0, I_k); ``W*ᵀW*/d = I + O(1/√d)``), ``y = g(F W*) + √Δ ξ`` (n,), drawn in the order
    W*, X, ξ.

    Raises:
        ConfigError: as :func:`gamp_data`; labels not finite.
        ResourceError: the data would not fit in half the memory.
    """
    return _draw(as_link(link, k, noise=noise), alpha, d, seed)


def run_multi_index_gamp(link, alpha: float, d: int, *, k: int | None = None,
                         noise: float | None = None, seed: int = 0, iterations: int = 500,
                         tol: float = 1e-10, damping: float = DAMPING, start: float = 1e-3,
                         channel: MultiIndexChannel | None = None) -> MultiIndexGampRun:
    """GAMP for a two-field link on one draw of ``n = round(α d)`` samples of
    ``y = g(z1, z2) + √Δ ξ`` (module docstring, "Two fields": the iteration, the averaged V,
    the start, damping and stopping are :func:`run_gamp`'s).

    Args:
        link: a link of two fields (a formula in ``z1, z2``; ``k=2`` embeds one of one field).
        alpha: α = n/d > 0; d: the dimension, ≥ :data:`MIN_DIMENSION`.
        k: the number of fields (2; default the link's).
        noise: the label-noise variance Δ > 0 (default: the link's).
        seed: seeds the data (:func:`multi_index_gamp_data`) and, apart, the start.
        iterations, tol, damping, start: as :func:`run_gamp`.
        channel: the link's :class:`~overlapdyn.limits.MultiIndexChannel`, if prepared
            already (the one the state evolution integrates; its output function is GAMP's).

    Returns:
        :class:`MultiIndexGampRun`.

    Raises:
        ConfigError: α ≤ 0, d < :data:`MIN_DIMENSION`, bad options, a link not of two
            fields, or what :func:`~overlapdyn.limits.multi_index_channel` raises (a
            noiseless link, one too steep for its grid).
        ResourceError: the data would not fit in half the memory.
    """
    alpha = _check_alpha(alpha)
    d, iterations, tol, damping, start = _check_options(d, iterations, tol, damping, start)
    channel = _two_field_channel(link, k, noise, channel)
    seed = check_integer(seed, "the seed", 0)
    F, y, teacher = _draw(channel.source, alpha, d, seed)
    # V_μ = Σ_i F_μi² v_i ≈ Σ_i c_i v_i with c_i = mean_μ F_μi² (module docstring)
    weights = np.einsum("mi,mi->i", F, F) / y.size

    def output(FW, FS, g, v):
        V = np.einsum("i,irs->rs", weights, v)
        V = (V + V.T) / 2
        return channel.output(y, FW - g @ V, V)

    trace = _iterate(F, y, teacher, output, 0, seed, iterations, tol, damping, start)
    return MultiIndexGampRun(channel.link, channel.k, channel.noise, alpha, d, y.size,
                             int(seed), damping, start, tol, trace.overlaps, trace.norms,
                             trace.variances, teacher.T @ teacher / d, trace.converged,
                             trace.estimate)


@dataclass(frozen=True)
class MultiIndexGampSweep(Result):
    """The two-field GAMP's overlaps against α, d and seeds, beside the multi-index state
    evolution (module docstring, "Two fields").

    Three finite-d estimates of the state evolution's overlaps (the eigenvalues of Q,
    :meth:`MultiIndexCurve.overlaps <overlapdyn.limits.MultiIndexCurve.overlaps>`), each
    invariant under the link's symmetries and in descending order, so that "direction r"
    is the r-th largest: the singular values of ``M = Ŵᵀ W*/d`` (``"overlap"``), the squared
    cosines of the principal angles between Ŵ and W* (``"cosine"``,
    :attr:`MultiIndexGampRun.cosine`: free of the spread of the teacher's Gram matrix) and
    the eigenvalues of ``N = ŴᵀŴ/d`` (``"norm"``, equal to the others at large d by the
    Nishimori identity).

    Attributes:
        link: the link's formula; k: fields (2); noise: Δ.
        alphas: (A,) sample ratios; ds: (D,) dimensions; seeds: (S,) seeds.
        overlaps: (A, D, S, k) the final singular values of M.
        cosines: (A, D, S, k) the final squared cosines.
        norms: (A, D, S, k) the final eigenvalues of N.
        iterations: (A, D, S) iterations run; converged: (A, D, S) the stopping rule met.
        curve: the state evolution's :class:`~overlapdyn.limits.MultiIndexCurve` (its α's
            include ``alphas``); se: (A, k) its uninformed overlaps at ``alphas``, the
            comparison.
        damping: the runs' damping δ.
    """

    FORMAT = "overlapdyn.MultiIndexGampSweep"
    VERSION = 1
    QUANTITIES = ("overlap", "cosine", "norm")

    link: str
    k: int
    noise: float
    alphas: np.ndarray
    ds: np.ndarray
    seeds: np.ndarray
    overlaps: np.ndarray
    cosines: np.ndarray
    norms: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    curve: MultiIndexCurve
    se: np.ndarray
    damping: float

    @property
    def alpha_c(self) -> float:
        """Where ``Q = 0`` loses stability (:attr:`MultiIndexCurve.alpha_c
        <overlapdyn.limits.MultiIndexCurve.alpha_c>`; 0 with a trivial subspace)."""
        return self.curve.alpha_c

    def values(self, quantity: str = "overlap") -> np.ndarray:
        """(A, D, S, k) the singular values of M (``"overlap"``), the squared cosines
        (``"cosine"``) or the eigenvalues of N (``"norm"``)."""
        if quantity not in self.QUANTITIES:
            raise ConfigError(f"quantity must be one of {self.QUANTITIES}, got {quantity!r}")
        return {"overlap": self.overlaps, "cosine": self.cosines,
                "norm": self.norms}[quantity]

    def gaps(self, quantity: str = "overlap") -> np.ndarray:
        """(A, D, S, k) the per-seed gaps to the state evolution, direction by direction."""
        return np.abs(self.values(quantity) - self.se[:, None, None, :])

    def mean(self, quantity: str = "overlap") -> np.ndarray:
        """(A, D, k) the seed mean of :meth:`values`."""
        return self.values(quantity).mean(axis=2)

    def sem(self, quantity: str = "overlap") -> np.ndarray:
        """(A, D, k) the standard error of that mean (0 with one seed)."""
        S = self.seeds.size
        values = self.values(quantity)
        return values.std(axis=2, ddof=1) / math.sqrt(S) if S > 1 else \
            np.zeros(values.shape[:2] + values.shape[3:])

    def _rows(self, quantity: str) -> np.ndarray:
        """(A·k, D) the mean per-seed gaps, one row per (α, direction)."""
        gaps = self.gaps(quantity).mean(axis=2)                 # (A, D, k)
        return np.moveaxis(gaps, 2, 1).reshape(-1, self.ds.size)

    def fitted(self, quantity: str = "overlap") -> np.ndarray:
        """(A, k) whether the gaps of α and direction r get a power law (as
        :meth:`GampSweep.fitted`)."""
        fitted = _fitted(self.ds, self._rows(quantity), self.se.ravel())
        return fitted.reshape(self.alphas.size, self.k)

    def fits(self, quantity: str = "overlap") -> Line:
        """Per α and direction, the line ``log(mean per-seed gap) = slope·log d +
        intercept`` (arrays of shape (A, k), nan where not :meth:`fitted`)."""
        line = _gap_fits(self.ds, self._rows(quantity), self.se.ravel())
        shape = (self.alphas.size, self.k)
        return Line(line.slope.reshape(shape), line.intercept.reshape(shape),
                    line.stderr.reshape(shape))

    def exponents(self, quantity: str = "overlap") -> np.ndarray:
        """(A, k) the finite-size exponents γ of ``gap ∝ d^(−γ)`` (nan where not fitted)."""
        return -self.fits(quantity).slope

    def pooled_exponent(self, quantity: str = "overlap") -> tuple[float, float]:
        """``(γ, its standard error)``: one slope for every fitted (α, direction), each with
        its own intercept (as :meth:`GampSweep.pooled_exponent`)."""
        return _pooled_exponent(self.ds, self._rows(quantity), self.se.ravel())

    def describe(self) -> str:
        alpha_c = self.alpha_c
        lines = [f"two-field GAMP vs state evolution for y = {self.link} + √{self.noise:g} ξ: "
                 f"α_c = {'∞' if math.isinf(alpha_c) else f'{alpha_c:.6g}'}; "
                 f"{self.seeds.size} seeds, damping {self.damping:g}"]
        for quantity, label in (("overlap", "singular values of Ŵᵀ W*/d"),
                                ("cosine", "squared cosines of Ŵ and W*"),
                                ("norm", "eigenvalues of ŴᵀŴ/d")):
            lines.append(f"{label} (direction r: the r-th largest), seed mean ± sem:")
            lines.append(f"{'α':>8} {'r':>2} {'SE':>9} "
                         + " ".join(f"{'d=' + str(d):>17}" for d in self.ds)
                         + f" {'γ (gap ∝ d^−γ)':>16}")
            line, fitted = self.fits(quantity), self.fitted(quantity)
            mean, sem = self.mean(quantity), self.sem(quantity)
            for a, alpha in enumerate(self.alphas):
                for r in range(self.k):
                    cells = [f"{m:.4f} ± {e:.4f}"
                             for m, e in zip(mean[a, :, r], sem[a, :, r], strict=True)]
                    exponent = (f"{-line.slope[a, r]:.2f} ± {line.stderr[a, r]:.2f}"
                                if fitted[a, r] else "—")
                    lines.append(f"{alpha:>8.4g} {r + 1:>2} {self.se[a, r]:>9.5f} "
                                 + " ".join(f"{c:>17}" for c in cells) + f" {exponent:>16}")
            gamma, error = self.pooled_exponent(quantity)
            if np.isfinite(gamma):
                lines.append(f"  pooled finite-size exponent γ = {gamma:.3f} ± {error:.3f} "
                             "(mean per-seed gap vs d, one line per α and direction)")
        if not self.converged.all():
            lines.append(f"{int((~self.converged).sum())} of {self.converged.size} runs did "
                         "not meet the stopping rule (their last iterate is reported)")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        out = {"link": self.link, "k": self.k, "noise": self.noise, "alpha_c": self.alpha_c,
               "damping": self.damping, "alphas": self.alphas.tolist(),
               "ds": self.ds.tolist(), "seeds": self.seeds.tolist(),
               "overlaps": self.overlaps.tolist(), "cosines": self.cosines.tolist(),
               "norms": self.norms.tolist(), "se": self.se.tolist(),
               "converged": self.converged.tolist()}
        return out | _exponent_summary(self)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        curve_header, curve_arrays = archive_part(self.curve, "curve")
        return ({"link": self.link, "k": self.k, "noise": self.noise,
                 "damping": self.damping, "curve": curve_header},
                {"alphas": self.alphas, "ds": self.ds, "seeds": self.seeds,
                 "overlaps": self.overlaps, "cosines": self.cosines, "norms": self.norms,
                 "iterations": self.iterations, "converged": self.converged, "se": self.se,
                 **curve_arrays})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> MultiIndexGampSweep:
        return cls(header["link"], int(header["k"]), float(header["noise"]), arrays["alphas"],
                   arrays["ds"], arrays["seeds"], arrays["overlaps"], arrays["cosines"],
                   arrays["norms"], arrays["iterations"], arrays["converged"],
                   restore_part(MultiIndexCurve, header["curve"], arrays, "curve"),
                   arrays["se"], float(header["damping"]))


def multi_index_gamp_sweep(link, alphas, ds, seeds=5, *, k: int | None = None,
                           noise: float | None = None, curve: MultiIndexCurve | None = None,
                           curve_points: int = 24, iterations: int = 500, tol: float = 1e-10,
                           damping: float = DAMPING, start: float = 1e-3,
                           progress: bool = False) -> MultiIndexGampSweep:
    """The two-field GAMP (:func:`run_multi_index_gamp`) at every α, d and seed, with the
    multi-index state evolution beside it.

    Args:
        link: a link of two fields (label noise Δ > 0).
        alphas: sample ratios α > 0; ds: dimensions ≥ :data:`MIN_DIMENSION`.
        seeds: a number of seeds (0, …, n−1) or the seeds.
        k, noise: as :func:`run_multi_index_gamp`.
        curve: the link's :class:`~overlapdyn.limits.MultiIndexCurve`, if computed already;
            its α's must include ``alphas`` (else it is computed here, on ``alphas`` and
            ``curve_points`` α's from ``max α/curve_points`` to 1.2 max α: 1 to 3 s per α).
        iterations, tol, damping, start: :func:`run_gamp`'s.
        progress: show a progress bar over the runs.

    Returns:
        :class:`MultiIndexGampSweep`.

    Raises:
        ConfigError: as :func:`run_multi_index_gamp`; no α or no d; a curve for another
            link or without one of ``alphas``.
    """
    alphas, ds = _sweep_grid(alphas, ds, iterations, tol, damping, start)
    seeds = np.array(check_seeds(seeds, "a GAMP sweep"), dtype=int)
    channel = _two_field_channel(link, k, noise, None)   # the named errors before any work
    if curve is None:
        top = 1.2 * alphas.max()
        grid = np.linspace(top / curve_points, top, curve_points)
        curve = multi_index_overlap(None, np.concatenate((alphas, grid)), channel=channel)
    if (curve.link, curve.k, curve.noise) != (channel.link, channel.k, channel.noise):
        raise ConfigError(f"the curve is for y = {curve.link} + √{curve.noise:g} ξ (k = "
                          f"{curve.k}), not this sweep's {channel.link} + √{channel.noise:g} ξ")
    where = np.array([np.flatnonzero(np.isclose(curve.alphas, a, rtol=1e-12, atol=0))[:1]
                      for a in alphas], dtype=object)
    if any(len(w) == 0 for w in where):
        raise ConfigError("the curve's α's must include every α of the sweep: compute it with "
                          "multi_index_overlap(link, alphas + …)")
    se = curve.overlaps()[[int(w[0]) for w in where]]
    shape = (alphas.size, ds.size, seeds.size)
    overlaps, cosines, norms = (np.empty((*shape, channel.k)) for _ in range(3))
    counts, converged = np.empty(shape, dtype=int), np.empty(shape, dtype=bool)
    for index, run in _runs(alphas, ds, seeds, progress, lambda alpha, d, seed:
                            run_multi_index_gamp(None, alpha, d, seed=seed,
                                                 iterations=iterations, tol=tol,
                                                 damping=damping, start=start,
                                                 channel=channel)):
        overlaps[index], cosines[index], norms[index] = run.overlap, run.cosine, run.norm
        counts[index], converged[index] = run.iterations, run.converged
    return MultiIndexGampSweep(channel.link, channel.k, channel.noise, alphas, ds, seeds,
                               overlaps, cosines, norms, counts, converged, curve, se,
                               float(damping))
