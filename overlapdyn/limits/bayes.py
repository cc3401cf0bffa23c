r"""The Bayes-optimal overlap of a single-index channel: AMP's state evolution and its fixed
points (Aubin et al. 2018, the committee machine at K = 1; Barbier et al. 2019, PNAS 116,
5451, for the generalised linear model).

For ``y = g(z) + √Δ ξ`` with ``z = w*·x/√d``, a Gaussian prior ``w* ~ N(0, I_d)`` and
``n = α d`` samples (SPEC's variables; see :mod:`overlapdyn.limits.links`), the overlap
``q = E[ŵ·w*]/d`` of the Bayes-optimal AMP estimator evolves as

.. math::

    q^{t+1} = \frac{\hat q}{1 + \hat q}, \qquad
    \hat q = \alpha\, f(q^t), \qquad
    f(q) = \mathbb E_{\omega, y}\big[g_\mathrm{out}(y, \omega, 1 - q)^2\big],

where ``ω = √q ξ`` (ξ ~ N(0, 1)), ``z = ω + √(1 − q) u`` and ``y`` is drawn from the channel
at ``z``; ``g_out(y, ω, V) = ∂_ω log Z_out = E[z − ω | y, ω, V] / V`` with
``Z_out(y, ω, V) = E_u[P(y | ω + √V u)]`` (the Gaussian prior's denoiser gives the
``q̂/(1 + q̂)``). :func:`channel_information` computes ``f`` by quadrature (it depends on q only,
not on α); the fixed points of every α then follow from one table of ``f``
(:func:`bayes_optimal_overlap`): ``q = T_α(q) = α f(q)/(1 + α f(q))``.

Two starts. The *uninformed* one, ``q⁰ = 0⁺`` (what AMP from a random start reaches), and the
*informed* one, ``q⁰ → 1``. Where they differ, the transition is first order and the
uninformed fixed point is metastable over that range of α (locating the information-theoretic
threshold inside it needs the free energy, not computed here). At ``q = 0``,
``f(0) = E_y[E[z|y]²]`` (the trivial direction: learned at any α > 0 when positive) and, when
that vanishes, ``f(q) = q E_y[(E[z²|y] − 1)²] + O(q²)``: the uninformed fixed point leaves 0
at ``α_c = 1/E_y[(E[z²|y] − 1)²]``, the weak-recovery threshold of
:func:`~overlapdyn.limits.weak_recovery_thresholds`.

Noise. The quadrature needs label noise ``Δ > 0`` (the conditional law of z given y is then
smooth); a noiseless link is refused with the fix (give it a small Δ).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.interpolate
import scipy.optimize

from ..compile.cache import load_module, source_key
from ..compile.linking import quietly
from ..compile.render import module_source, template_body, template_digest
from ..derive.hermite import gauss_hermite_rule
from ..errors import ConfigError
from ..storage.results import Result
from ..storage.versions import __version__
from .links import as_link

__all__ = ["Q_MAX", "BayesOptimalCurve", "ChannelInformation", "OutputChannel",
           "bayes_optimal_overlap", "channel_information", "output_channel"]

#: The largest overlap tabulated (``1 − q`` is resolved down to 10⁻³).
Q_MAX = 1.0 - 1e-3
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_REACH = 9.0            # z is integrated over [−REACH, REACH] (mass outside < 1e-18)
_MOMENTS_VERSION = 1    # bump when the module of output_moments is assembled differently
_XI_STEP = 0.5          # the largest ξ spacing of the trapezoid rule in ξ (level 1)
_XI_REACH = 6.5         # ξ is integrated over [−6.5, 6.5] (mass outside 8e-11)


@dataclass(frozen=True)
class ChannelInformation:
    """``f(q) = E[g_out²]`` of a channel on a grid of overlaps.

    Attributes:
        link: the link's formula; noise: Δ.
        q: (m,) overlaps, increasing from 0 to :data:`Q_MAX`.
        f: (m,) ``f(q)``.
        error: the largest change of ``f`` between two resolutions (its error estimate:
            every spacing halved, z, y and ξ; the largest is at q near :data:`Q_MAX` for
            a kinked link, whose features in ω narrow like 1 − q).
        errors: (m,) that change at each q (None for a table made by hand: ``error``
            stands for every q). The thresholds read it locally: whether ``f(0) > 0``
            against the error at 0, the slope at 0 against the errors of ``f(q)/q`` near 0
            — not against the largest error, which sits at the other end of the table.
    """

    link: str
    noise: float
    q: np.ndarray
    f: np.ndarray
    error: float
    errors: np.ndarray | None = None

    def local_error(self, index) -> np.ndarray:
        """The error estimate of ``f`` at the tabulated ``q[index]`` (:attr:`errors`, or
        :attr:`error` where there are none)."""
        if self.errors is None:
            return np.full(np.shape(self.q[index]), self.error)
        return self.errors[index]

    @functools.cached_property
    def _spline(self) -> scipy.interpolate.CubicSpline:
        return scipy.interpolate.CubicSpline(self.q, self.f)

    def __call__(self, q) -> np.ndarray:
        """``f`` at ``q`` in ``[0, Q_MAX]`` (cubic spline through the table)."""
        return self._spline(q)


def _overlap_grid(points: int) -> np.ndarray:
    """0; a geometric run toward 0 (the slope there is 1/α_c); uniform up to 0.9; then
    geometric in ``1 − q`` down to ``1 − Q_MAX`` (the fixed points of large α)."""
    quarter = max(2, points // 4)
    near_zero = np.geomspace(1e-6, 1e-2, quarter, endpoint=False)
    middle = np.linspace(1e-2, 0.9, points - 2 * quarter, endpoint=False)
    tail = 1.0 - np.geomspace(0.1, 1.0 - Q_MAX, quarter)
    return np.concatenate(([0.0], near_zero, middle, tail))


@dataclass(frozen=True)
class OutputChannel:
    """The channel ``P(y | z) = N(y; g(z), Δ)`` of a single-index link, tabulated on a uniform
    z grid, and its Bayes-optimal output function (module docstring): the one channel both
    the state evolution (:func:`channel_information`) and the finite-d GAMP
    (:func:`~overlapdyn.limits.run_gamp`) integrate against.

    Attributes:
        link: the link's formula; noise: Δ > 0.
        z: (Z,) the grid, uniform on ``[−9, 9]``, its spacing below ``√Δ/(2 max|g'|)``,
            ``√v_min/4`` and 0.02 (divided by the resolution ``level``).
        g: (Z,) ``g(z)`` on the grid.
        v_min: the smallest variance V of the estimate the grid resolves.
    """

    link: str
    noise: float
    z: np.ndarray
    g: np.ndarray
    v_min: float

    def __call__(self, y, omega, V) -> tuple[np.ndarray, np.ndarray]:
        """``(g_out, ∂_ω g_out)`` at each sample: ``g_out(y, ω, V) = E[z − ω | y, ω, V]/V``
        and ``∂_ω g_out = Var[z | y, ω, V]/V² − 1/V`` under the posterior
        ``∝ P(y | z) N(z; ω, V)``, by the grid's sums (compiled, threaded over samples, each
        over the grid points within ``9√V`` of ω).

        Args:
            y, omega: (N,) labels and the estimates ω of the fields.
            V: (N,) or a scalar: the variances of the estimates, each ≥ :attr:`v_min`.

        Returns:
            Two arrays of shape (N,).
        """
        # C-contiguous writable float arrays: one compiled signature for every call
        y = np.require(y, dtype=float, requirements=["C", "W"])
        omega = np.require(omega, dtype=float, requirements=["C", "W"])
        V = np.require(np.broadcast_to(np.asarray(V, dtype=float), y.shape), dtype=float,
                       requirements=["C", "W"])
        if V.size and V.min() < self.v_min * (1 - 1e-12):
            raise ConfigError(f"the z grid of y = {self.link} + √{self.noise:g} ξ resolves "
                              f"variances V ≥ {self.v_min:.3g}, got V = {V.min():.3g}: build "
                              "it with output_channel(..., v_min=) no larger than that")
        gout, dgout = np.empty_like(y), np.empty_like(y)
        with quietly():
            _moments_module().output_moments(y, omega, V, float(self.z[0]),
                                             float(self.z[1] - self.z[0]), self.g, self.noise,
                                             _REACH, gout, dgout)
        return gout, dgout


@functools.cache
def _moments_module():
    """The compiled ``output_moments`` (``compile/templates/output_channel.py``)."""
    key = source_key(__version__, _MOMENTS_VERSION, template_digest(), "output channel")
    module, _ = load_module(key, lambda: module_source(
        "the Bayes-optimal output function of a single-index channel",
        [template_body("output_channel")]), required=("output_moments",))
    return module


def output_channel(link, *, noise: float | None = None, v_min: float = 1.0 - Q_MAX,
                   level: float = 1.0) -> OutputChannel:
    """The :class:`OutputChannel` of a single-index link: ``g`` tabulated on a uniform z grid
    fine enough for the label noise (spacing ≤ ``√Δ/(2 max|g'|)``) and for estimates of variance
    down to ``v_min`` (spacing ≤ √v_min/4), all divided by ``level``.

    Args:
        link: the link (see :func:`channel_information`).
        noise: the label-noise variance Δ > 0 (default: the link's).
        v_min: the smallest variance ``V = 1 − q`` to resolve, in (0, 1].
        level: the resolution (2 halves every spacing).

    Raises:
        ConfigError: a link of more than one field, Δ = 0 (give it label noise), or a grid
            of more than 200 001 points (a link too steep for Δ, or a ``v_min`` too small).
    """
    channel = as_link(link, noise=noise)
    if channel.k != 1:
        raise ConfigError(f"the Bayes-optimal state evolution is for one field (k = 1); link "
                          f"{channel.name!r} has k = {channel.k}")
    if channel.noise <= 0:
        raise ConfigError(f"link {channel.name!r} is noiseless: this state evolution needs a "
                          "smooth channel; give it label noise, e.g. noise=1e-3 (the "
                          "thresholds of the noiseless link are the limit Δ → 0)")
    numeric = channel.numeric()

    def g(z: np.ndarray) -> np.ndarray:
        return numeric(z[None])

    sd = math.sqrt(channel.noise)
    probe = np.linspace(-_REACH, _REACH, 20001)
    slope = np.abs(np.diff(g(probe))).max() / (probe[1] - probe[0])
    spacing = min(0.02, sd / (2.0 * max(slope, 1e-12)), math.sqrt(v_min) / 4.0) / level
    count = int(2 * _REACH / spacing) + 1
    if count > 200_001:
        raise ConfigError(f"the z grid of link {channel.name!r} would need {count} points "
                          f"(|g'| up to {slope:.3g} on |z| ≤ {_REACH:g} at label noise "
                          f"Δ = {channel.noise:g}, variances down to {v_min:.3g}): give it "
                          "more label noise Δ, or stop at a smaller overlap (larger v_min)")
    z = np.linspace(-_REACH, _REACH, count)
    return OutputChannel(channel.name, channel.noise, z,
                         np.ascontiguousarray(g(z), dtype=float), float(v_min))


def _xi_rule(q: float, noise: float, level: float,
             xi_nodes: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The nodes and weights in ξ ~ N(0, 1) at overlap q: Gauss–Hermite with ``xi_nodes``
    nodes, or (None) the trapezoid rule at a fixed spacing in ``ω = √q ξ``,
    ``min(0.15, 0.7√Δ)/level`` (ξ spacing that over √q, at most 0.5/level), on
    ``|ξ| ≤ 6.5``, its weights ``e^{−ξ²/2}`` normalised (one node at q = 0)."""
    if xi_nodes is not None:
        return gauss_hermite_rule(xi_nodes)
    if q <= 0.0:
        return np.zeros(1), np.ones(1)
    step = min(_XI_STEP / level, min(0.15, 0.7 * math.sqrt(noise)) / (level * math.sqrt(q)))
    xi = np.arange(-int(_XI_REACH / step), int(_XI_REACH / step) + 1) * step
    weights = np.exp(-0.5 * xi * xi)
    return xi, weights / weights.sum()


def _information(channel: OutputChannel, q: np.ndarray, level: float,
                 xi_nodes: int | None) -> np.ndarray:
    """``f`` at each overlap in ``q`` (module docstring): ``Z`` and ``∂_ω Z`` as sums over the
    channel's z grid of the channel density times the law of z given ω, then
    ``∫ (∂_ω Z)²/Z dy`` by the trapezoid rule in y (spacing √Δ/(3·level)) and the rule of
    :func:`_xi_rule` in ξ."""
    sd = math.sqrt(channel.noise)
    z, y_of_z = channel.z, channel.g
    dz = z[1] - z[0]
    count = z.size
    step = sd / (3.0 * level)
    t = np.arange(y_of_z.min() - 10 * sd, y_of_z.max() + 10 * sd + step, step)
    values = np.zeros(q.size)
    rows = max(1, 10_000_000 // count)
    for start in range(0, t.size, rows):   # the channel density is the same for every q
        kernel = np.exp(-0.5 * ((t[start:start + rows, None] - y_of_z) / sd) ** 2) / (
            sd * _SQRT_2PI)                                            # (T, Z)
        for i, qi in enumerate(q):
            xi, xi_w = _xi_rule(qi, channel.noise, level, xi_nodes)
            V = 1.0 - qi
            centred = z[:, None] - math.sqrt(qi) * xi                  # z − ω, (Z, X)
            prior = np.exp(-0.5 * centred ** 2 / V) * (dz / math.sqrt(2 * math.pi * V))
            Z = kernel @ prior                                         # (T, X)
            D = kernel @ (prior * centred) / V                         # ∂_ω Z
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(Z > 1e-300, D * D / Z, 0.0)
            values[i] += float(ratio.sum(axis=0) @ xi_w) * step
    return values


def channel_information(link, *, noise: float | None = None, points: int = 80,
                        xi_nodes: int | None = None) -> ChannelInformation:
    """``f(q) = E[g_out(y, √q ξ, 1 − q)²]`` of a single-index channel on ``points + 1``
    overlaps in ``[0, Q_MAX]`` (module docstring for the formula), on the z grid of
    :func:`output_channel`.

    Args:
        link: the link (a formula in ``z``/``x``/``z1``, a SymPy expression, a one-field
            :class:`~overlapdyn.model.spec.Target`, a :class:`~overlapdyn.limits.Link` or a
            vectorised callable); see :func:`~overlapdyn.limits.as_link`.
        noise: the label-noise variance Δ > 0 (default: the link's).
        points: overlaps tabulated besides 0.
        xi_nodes: None (default): ξ by the trapezoid rule at a fixed spacing in
            ``ω = √q ξ``, ``min(0.15, 0.7√Δ)`` (ξ spacing that over √q, at most 0.5), on
            ``|ξ| ≤ 6.5``, halved at the second resolution like z and y; or a number of
            Gauss–Hermite nodes in ξ, the same at both resolutions (so the error estimate
            does not see the ξ rule's error). After the y integral, the integrand in ω has
            features of fixed width (around g's critical points, and for an even link
            across the sign ambiguity at ω ≈ 0, of width ∝ 1 − q), which Gauss–Hermite
            resolves slowly: with 48 nodes f(q) of ``z**2`` at Δ = 0.1 is 0.22 %, 0.45 % and
            0.64 % too high at q = 0.68, 0.77, 0.85; the trapezoid rule leaves 1.4e-6,
            4.8e-6 and 1.6e-5 (against the same rule at four times the resolution, which
            600 Gauss–Hermite nodes match to 2e-6), for 15–30 % more time.

    Raises:
        ConfigError: a link of more than one field, Δ = 0 (give it label noise), a link too
            steep for the z grid at this Δ, or a table that is not finite.
    """
    q = _overlap_grid(points)
    v_min = 1.0 - min(q.max(), Q_MAX)
    coarse_channel = output_channel(link, noise=noise, v_min=v_min, level=1.0)
    coarse = _information(coarse_channel, q, 1.0, xi_nodes)
    fine = _information(output_channel(link, noise=noise, v_min=v_min, level=2.0), q, 2.0,
                        xi_nodes)
    name = coarse_channel.link
    if not np.all(np.isfinite(fine)):
        raise ConfigError(f"f(q) of link {name!r} is not finite on the grid: its "
                          "conditional moments are too heavy-tailed for this quadrature")
    errors = np.abs(fine - coarse)
    return ChannelInformation(name, coarse_channel.noise, q, fine, float(errors.max()),
                              errors)


@dataclass(frozen=True)
class BayesOptimalCurve(Result):
    """The fixed points of the Bayes-optimal state evolution against α.

    Attributes:
        link: the link's formula; noise: Δ.
        alphas: (A,) sample ratios α = n/d.
        uninformed: (A,) the fixed point reached from ``q⁰ = 0⁺``.
        informed: (A,) the fixed point reached from ``q⁰ = Q_MAX``.
        alpha_c: where the uninformed overlap leaves 0 (``1/f'(0)``; 0 when ``f(0) > 0``).
        error: the channel table's error estimate (:class:`ChannelInformation`).
    """

    FORMAT = "overlapdyn.BayesOptimalCurve"
    VERSION = 1

    link: str
    noise: float
    alphas: np.ndarray
    uninformed: np.ndarray
    informed: np.ndarray
    alpha_c: float
    error: float

    @property
    def first_order(self) -> np.ndarray:
        """(A,) whether the two starts reach different fixed points (a first-order
        transition: the uninformed one is metastable there)."""
        return np.abs(self.informed - self.uninformed) > 1e-6

    def describe(self) -> str:
        lines = [f"Bayes-optimal overlap for y = {self.link} + √{self.noise:g} ξ: α_c = "
                 f"{self.alpha_c:.6g}   [table error ≈ {self.error:.1g}]"]
        if self.first_order.any():
            inside = self.alphas[self.first_order]
            lines.append(f"  first order: the informed and uninformed fixed points differ for "
                         f"α in [{inside.min():.4g}, {inside.max():.4g}]")
        lines += [f"  α = {a:8.4g}: q = {u:.6f}" + (f" (informed {i:.6f})" if f else "")
                  for a, u, i, f in zip(self.alphas, self.uninformed, self.informed,
                                        self.first_order, strict=True)]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"link": self.link, "noise": self.noise, "alpha_c": self.alpha_c,
                "error": self.error, "alphas": self.alphas.tolist(),
                "uninformed": self.uninformed.tolist(), "informed": self.informed.tolist()}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"link": self.link, "noise": self.noise, "alpha_c": self.alpha_c,
                 "error": self.error},
                {"alphas": self.alphas, "uninformed": self.uninformed,
                 "informed": self.informed})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> BayesOptimalCurve:
        return cls(header["link"], float(header["noise"]), arrays["alphas"],
                   arrays["uninformed"], arrays["informed"], float(header["alpha_c"]),
                   float(header["error"]))


def _fixed_points(q: np.ndarray, h: np.ndarray, interpolant) -> np.ndarray:
    """The roots of ``h = T(q) − q`` between grid points where it changes sign (Brent)."""
    roots = [q[i] if h[i] == 0 else scipy.optimize.brentq(interpolant, q[i], q[i + 1],
                                                          xtol=1e-13)
             for i in range(q.size - 1) if h[i] == 0 or h[i] * h[i + 1] < 0]
    return np.array(roots)


def _trivial(table: ChannelInformation) -> bool:
    """Whether ``f(0) = E_y[E[z|y]²]`` is positive beyond the table's error there."""
    return table.f[0] > max(1e-10, 100.0 * float(table.local_error(0)))


def _alpha_c(table: ChannelInformation) -> float:
    """``1/f'(0)``: ``f(q)/q = f'(0) + c q + c' q²`` fitted on the tabulated ``q`` in
    [1e-6, 3e-4] (the curvature is large: ``c ≈ −8`` for ``z²`` at Δ = 0.1); 0 when
    ``f(0) > 0``, inf when ``f'(0) = 0``."""
    if _trivial(table):
        return 0.0
    near = (table.q >= 1e-6) & (table.q <= 3e-4)
    slope = np.polynomial.polynomial.polyfit(table.q[near], table.f[near] / table.q[near],
                                             2)[0]
    # against the errors of the f(q)/q fitted (a table made by hand: its one error)
    error = float((table.local_error(near) / table.q[near]).max()) if table.errors is not None \
        else table.error
    return 1.0 / slope if slope > 100.0 * error else math.inf


def _starts(table: ChannelInformation, alpha: float) -> tuple[float, float]:
    """The fixed points reached from 0⁺ and from ``Q_MAX``: T is increasing, so the
    iteration climbs (falls) monotonically to the nearest fixed point above (below); none
    below ``Q_MAX`` reads ``Q_MAX``."""
    def h(q):
        precision = alpha * table(q)          # q̂
        return precision / (1.0 + precision) - q

    values = h(table.q)
    values[0] = 0.0 if not _trivial(table) else values[0]   # q = 0 is a fixed point
    roots = _fixed_points(table.q, values, h)
    positive = roots[roots > 0]
    if _trivial(table) or values[1] > 0:        # 0 is not a fixed point, or is unstable
        uninformed = positive.min() if positive.size else Q_MAX
    else:
        uninformed = 0.0
    informed = roots.max() if roots.size and values[-1] < 0 else Q_MAX
    return float(uninformed), float(max(informed, uninformed))


def bayes_optimal_overlap(link, alphas, *, noise: float | None = None,
                          table: ChannelInformation | None = None) -> BayesOptimalCurve:
    """The Bayes-optimal overlap ``q(α)`` of a single-index channel from the uninformed and
    the informed start (module docstring).

    Args:
        link: the link (see :func:`channel_information`); may be None when ``table`` is
            given.
        alphas: sample ratios α = n/d > 0.
        noise: the label-noise variance Δ > 0 (default: the link's).
        table: a :class:`ChannelInformation` of this link already computed (reused, e.g.
            for a finer α grid); it must be the link's and Δ's.

    Returns:
        :class:`BayesOptimalCurve`; overlaps above :data:`Q_MAX` are reported as ``Q_MAX``.

    Raises:
        ConfigError: α ≤ 0 or not finite, a table of another link or Δ, or what
            :func:`channel_information` raises.
    """
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    if alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas > 0)):
        raise ConfigError(f"the sample ratios α = n/d must be finite numbers > 0, got "
                          f"{alphas.tolist()}")
    if table is None:
        table = channel_information(link, noise=noise)
    elif link is not None:
        asked = as_link(link, noise=table.noise if noise is None else noise)
        if (asked.name, asked.noise) != (table.link, table.noise):
            raise ConfigError(f"the table given is for y = {table.link} + √{table.noise:g} ξ, "
                              f"not {asked.name} + √{asked.noise:g} ξ: compute it with "
                              "channel_information for this link, or pass link=None")
    ends = np.array([_starts(table, alpha) for alpha in alphas])
    return BayesOptimalCurve(table.link, table.noise, alphas, ends[:, 0], ends[:, 1],
                             _alpha_c(table), table.error)
