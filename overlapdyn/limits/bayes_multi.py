r"""The Bayes-optimal AMP state evolution of a multi-index channel (Aubin et al. 2018, the
committee machine; Troiani et al. 2024, arXiv:2405.15480): the overlap matrix ``Q`` (k×k) of
AMP's estimate with the teacher, its fixed points against α, and the order and nature of
their transitions.

For ``y = g(z) + √Δ ξ`` with ``z = W* x/√d ~ N(0, I_k)``, a Gaussian prior on the teacher's
rows and ``n = α d`` samples (SPEC's variables, :mod:`overlapdyn.limits.links`):

.. math::

    Q^{t+1} = T_\alpha(Q^t) = \hat Q (I + \hat Q)^{-1}, \qquad \hat Q = \alpha F(Q^t),
    \qquad F(Q) = \mathbb E_{\xi, y}\big[g_\mathrm{out} g_\mathrm{out}^\top\big],

with ``ω = Q^{1/2} ξ`` (ξ ~ N(0, I_k)), ``V = I − Q``, ``z = ω + V^{1/2} u`` and y drawn from
the channel at z, ``g_out(y, ω, V) = ∇_ω log Z_out = V⁻¹ (E[z | y, ω, V] − ω)`` with
``Z_out = ∫ P(y | z) N(z; ω, V) dz``. (The Gaussian prior's denoiser gives ``Q̂(I + Q̂)⁻¹``;
for k = 1 this is :mod:`overlapdyn.limits.bayes`.) F is an output Fisher information: it
depends on Q only, and ``F(O Q Oᵀ) = O F_{g∘O}(Q) Oᵀ`` for a rotation O of the fields.

**Two fields on a grid** (any link of ≤ 2 fields; a link in k ≥ 3 fields that uses two of
them): in Q's eigenbasis ``Q = O diag(q) Oᵀ`` the estimate's law factorises,
``N(z'; ω', diag(1 − q))`` with ``z = O z'``, so for the link rotated onto a uniform grid
of the disc ``|z| ≤ 7``, ``Z_out`` at all nodes ``ω' = (√q₁ ξ_a, √q₂ ξ_b)`` is a product of
two small matrices with the label-noise kernel between them, and the label y is integrated
by the trapezoid rule on a uniform grid: the compiled ``fisher_sums``
(``compile/templates/two_field_channel.py``) sums only the grid points whose link value lies
within the kernel's reach of each label, and only the nodes where the Gaussian factors are
not negligible. ξ is integrated by the trapezoid rule too, on the disc ``|ξ| ≤ 6.5``, at a
fixed spacing in ``ω = √q ξ``: the function of ω left after the y integral (the Fisher
information of y about ω) has features of fixed width in ω — around the critical points of g
(width ∝ √Δ) and, for an even link, across the sign ambiguity at ``ω ≈ 0`` (width ∝ 1 − q)
— so Gauss–Hermite in ξ converges slowly (measured: 48 nodes leave 0.3 % in F for ``z²`` at
q ≈ 0.7), the trapezoid rule at ω spacing 0.15 leaves < 4e-5. Fields the link does not use
drop out exactly: ``g_out`` has no component along them for any Q.

**Radial links** ``g = ψ(‖z‖²)`` of any k (so k = 3 too): from the isotropic start
``Q⁰ = εI`` the map keeps ``Q = q I``, and with ``ρ = ‖ω‖`` and ``r = ‖z‖`` (a non-central
χ law) ``F(qI) = f(q) I``, ``f(q) = E_{ρ, y}[(∂_ρ log Z_out)²]/k`` — a one-field problem,
tabulated once in q and solved for every α like k = 1 (composite Gauss–Legendre in r and in
ρ/√q ~ χ_k, trapezoid in y). Whether the isotropic fixed point is stable against
anisotropic perturbations is not examined (the map from εI never leaves the isotropic line).

Other links of three or more fields are refused: their quadrature would be
three-dimensional inside and out (each dimension of z and of ξ costs a factor of the
≈ 100 points per axis, so a generic k = 3 map would take minutes).

Fixed points and starts. The *uninformed* start is ``Q⁰ = εI`` (ε = 10⁻⁴, what AMP from a
random start sees); the *informed* one ``Q⁰ = q_max I``. Where they reach different fixed
points the transition is first order. At ``Q = 0``, ``F(0) = E_y[E[z|y] E[z|y]ᵀ]``: its range
(the trivial subspace) is learned at every α > 0; when it is empty, ``F(Q) = L(Q) + O(Q²)``
with ``L(M) = E_y[G(y) M G(y)]``, ``G(y) = E[zzᵀ − I | y]`` — the operator of
:func:`~overlapdyn.limits.weak_recovery_thresholds` — so ``Q = 0`` loses stability at
``α_c = 1/λ_max(L)`` (:func:`se_linearisation` measures L from the map itself). The
iteration (:func:`se_fixed_point`) is Anderson-accelerated with safeguards against landing
on unstable fixed points, and every result carries a two-resolution error estimate.

Noise: label noise Δ > 0 is required (the channel is then smooth); a noiseless link is
refused with the fix.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from ..compile.cache import load_module, source_key
from ..compile.linking import quietly
from ..compile.render import module_source, template_body, template_digest
from ..errors import ConfigError
from ..storage.results import Result
from ..storage.versions import __version__
from .bayes import ChannelInformation, bayes_optimal_overlap
from .links import Link, as_link
from .thresholds import symmetric_basis

__all__ = ["FIRST_ORDER_GAP", "OVERLAP_MAX", "FixedPoint", "MultiIndexChannel", "MultiIndexCurve",
           "SELinearisation", "multi_index_channel", "multi_index_overlap",
           "se_fixed_point", "se_linearisation"]

#: The largest eigenvalue of Q resolved (``V = I − Q ≥ 10⁻² I``): the z grid's spacing is at
#: most ``√(1 − OVERLAP_MAX)``.
OVERLAP_MAX = 1.0 - 1e-2
_REACH = 7.0             # z is integrated over the disc |z| ≤ 7 (mass outside ≈ 2e-11)
_LOG_TOL = math.log(1e6)   # the grid rule's weight threshold (module docstring)
_GRID_MARGIN = 1.6         # the grid rule's spacing, relaxed by this (measured, see below)
_MAX_POINTS = 601        # grid points per axis allowed by the automatic rule (level 1)
_RADIAL_REACH = 9.0      # r = ‖z‖ is integrated over [0, 9] (radial links)
_XI_STEP = 0.5           # the largest ξ spacing (level 1)
_XI_REACH = 6.5          # ξ is integrated over the disc |ξ| ≤ 6.5 (mass outside 7e-10)
_EPSILON = 1e-4          # the uninformed start εI
_REFINE = 1.25           # the finer resolution of the error estimates: every spacing / 1.25
_KERNEL_VERSION = 1      # bump when the module of fisher_sums is assembled differently


@functools.cache
def _kernel_module():
    """The compiled ``fisher_sums`` (``compile/templates/two_field_channel.py``)."""
    key = source_key(__version__, _KERNEL_VERSION, template_digest(), "two-field channel")
    module, _ = load_module(key, lambda: module_source(
        "the output Fisher information of a two-field channel",
        [template_body("two_field_channel")]), required=("fisher_sums",))
    return module


@functools.cache
def _output_module():
    """The compiled ``posterior_moments`` (``compile/templates/two_field_output.py``)."""
    key = source_key(__version__, _KERNEL_VERSION, template_digest(), "two-field output")
    module, _ = load_module(key, lambda: module_source(
        "the Bayes-optimal output function of a two-field channel, sample by sample",
        [template_body("two_field_output")]), required=("posterior_moments",))
    return module


def _symmetric(Q, k: int, what: str = "Q") -> np.ndarray:
    Q = np.array(Q, dtype=float)
    if Q.ndim == 0:
        Q = Q * np.eye(k)
    if Q.shape != (k, k) or not np.all(np.isfinite(Q)):
        raise ConfigError(f"{what} must be a finite {k}×{k} matrix, got shape {Q.shape}")
    if np.abs(Q - Q.T).max() > 1e-9 * max(1.0, np.abs(Q).max()):
        raise ConfigError(f"{what} must be symmetric")
    return (Q + Q.T) / 2


def _clip(Q: np.ndarray) -> np.ndarray:
    """Q with its eigenvalues clipped to ``[0, OVERLAP_MAX]``."""
    values, vectors = np.linalg.eigh(Q)
    values = np.clip(values, 0.0, OVERLAP_MAX)
    return (vectors * values) @ vectors.T


@dataclass(frozen=True)
class MultiIndexChannel:
    """A multi-index channel ``y = g(z) + √Δ ξ`` prepared for the state evolution: its
    ``F(Q) = E[g_out g_outᵀ]`` (:meth:`information`) and the map ``T_α`` (:meth:`step`).
    Made by :func:`multi_index_channel`.

    Attributes:
        link: the link's formula; k: fields; noise: Δ > 0.
        fields: the indices (0-based) of the fields integrated: those the link uses, on the
            grid padded with an unused one to two.
        method: ``"grid"`` (two fields, module docstring) or ``"radial"`` (``ψ(‖z‖²)``, Q
            isotropic on the fields used).
        level: the resolution (:func:`multi_index_channel`).
        points: grid points per axis of z (``"grid"``), or nodes of r (``"radial"``).
        spacing: the z grid's spacing (or the r panels' width).
        xi_spacing: the spacing of ``ω = √q ξ`` (ξ's is ``min(0.5/level, xi_spacing/√q)``).
        label_spacing: the y grid's spacing.
        source: the :class:`~overlapdyn.limits.Link` it was made from.
    """

    link: str
    k: int
    noise: float
    fields: tuple[int, ...]
    method: str
    level: float
    points: int
    spacing: float
    xi_spacing: float
    label_spacing: float
    source: Link = field(repr=False, compare=False)
    _numeric: object = field(repr=False, compare=False)
    # the link on the unrotated square grids of output(), by their number of points
    _tables: dict = field(default_factory=dict, repr=False, compare=False)

    def refined(self, factor: float = _REFINE) -> MultiIndexChannel:
        """The same channel with every spacing divided by ``factor`` (the second resolution
        of the error estimates; a channel given ``points`` keeps the z spacing's ratio)."""
        points = None if self.method == "radial" else \
            int((self.points - 1) * factor) // 2 * 2 + 1
        return multi_index_channel(self.source, self.k, noise=self.noise,
                                   level=self.level * factor, points=points,
                                   method=self.method)

    # ------------------------------------------------------------------------- the map
    def information(self, Q) -> np.ndarray:
        """``F(Q) = E_{ξ,y}[g_out g_outᵀ]`` (k×k) at an overlap matrix Q (k×k, symmetric,
        eigenvalues in ``[0, OVERLAP_MAX]``; a scalar q means ``qI``).

        Raises:
            ConfigError: Q not a symmetric k×k matrix, eigenvalues outside
                ``[−1e-9, OVERLAP_MAX + 1e-9]``, or a radial channel's Q not isotropic on
                the fields used.
        """
        Q = _symmetric(Q, self.k)
        values = np.linalg.eigvalsh(Q)
        if values[0] < -1e-9 or values[-1] > OVERLAP_MAX + 1e-9:
            raise ConfigError(f"the eigenvalues of Q must lie in [0, {OVERLAP_MAX}] (V = I − Q "
                              f"is resolved down to {1 - OVERLAP_MAX:g}), got "
                              f"{values.round(6).tolist()}")
        Q = _clip(Q)
        F = np.zeros((self.k, self.k))
        used = list(self.fields)
        block = Q[np.ix_(used, used)]
        if self.method == "radial":
            q = block[0, 0]
            if np.abs(block - q * np.eye(len(used))).max() > 1e-9:
                raise ConfigError(f"the radial channel of {self.link!r} is reduced for Q "
                                  "isotropic on the fields the link uses (Q = qI)")
            F[used, used] = float(self._radial_f(np.array([q]))[0])
        else:
            F[np.ix_(used, used)] = self._two_field(block)
        return F

    def step(self, Q, alpha: float) -> np.ndarray:
        """``T_α(Q) = Q̂(I + Q̂)⁻¹`` with ``Q̂ = α F(Q)``, its eigenvalues clipped to
        ``[0, OVERLAP_MAX]``."""
        alpha = _check_alpha(alpha)
        hat = alpha * self.information(Q)
        Q_next = np.linalg.solve(np.eye(self.k) + hat, hat)   # (I + Q̂)⁻¹Q̂ = Q̂(I + Q̂)⁻¹
        return _clip((Q_next + Q_next.T) / 2)

    # ------------------------------------------------------------- sample by sample
    def output(self, y, omega, V) -> tuple[np.ndarray, np.ndarray]:
        r"""The Bayes-optimal output function and its Jacobian at each sample, for one
        covariance V shared by all samples (the two-field GAMP,
        :func:`~overlapdyn.limits.run_multi_index_gamp`):

        .. math::

            g_\mathrm{out}(y, \omega, V) = V^{-1}\,\mathbb E[z - \omega \mid y, \omega, V],
            \qquad
            \partial_\omega g_\mathrm{out} = V^{-1}\,\mathrm{Cov}[z \mid y, \omega, V]\,V^{-1}
            - V^{-1},

        under the posterior ``∝ P(y | z) N(z; ω, V)`` of the two fields — the ``g_out`` whose
        second moment is :meth:`information`'s F. The posterior's moments are sums over a
        uniform square grid of ``|z_r| ≤ 7`` whose spacing is the state evolution's rule
        for the label kernel (:func:`~overlapdyn.limits.multi_index_channel`) without its
        margin 1.6 (which the state evolution's integral over y earns: the trapezoid error
        at one label is then ``≈ 10⁻⁶``) and without its cap 0.1 (there for the smallest V
        the state evolution resolves; or the channel's spacing if coarser), divided
        by powers of ``2^(1/4)`` until it is at most ``√λ``, λ the smallest eigenvalue of
        V (a trapezoid rule on a Gaussian of standard deviation h errs by ``e^{−2π²}``),
        over the points inside the ellipse where the estimate's law is above ``e^{−20}``
        of its peak (compiled, one thread:
        ``compile/templates/two_field_output.py``).

        Args:
            y: (N,) labels; omega: (N, 2) the estimates ω of the fields.
            V: (2, 2) symmetric positive-definite covariance of the estimates.

        Returns:
            ``g_out`` (N, 2) and ``∂_ω g_out`` (N, 2, 2).

        Raises:
            ConfigError: a channel of k ≠ 2 fields or not on the grid, shapes that do not
                match, V not symmetric positive definite, or a V so small that the grid
                would need more than 2001 points per axis.
        """
        if self.k != 2 or self.method != "grid":
            raise ConfigError(f"the sample-by-sample output function is for a two-field "
                              f"channel on the grid; this one has k = {self.k} "
                              f"({self.method})")
        y = np.require(y, dtype=float, requirements=["C", "W"])
        omega = np.require(omega, dtype=float, requirements=["C", "W"])
        if y.ndim != 1 or omega.shape != (y.size, 2):
            raise ConfigError(f"y must have shape (N,) and ω (N, 2), got {y.shape} and "
                              f"{omega.shape}")
        V = _symmetric(V, 2, "V")
        smallest = float(np.linalg.eigvalsh(V)[0])
        if not smallest > 0:
            raise ConfigError(f"V must be positive definite, got eigenvalues "
                              f"{np.linalg.eigvalsh(V).round(6).tolist()}")
        # the grid rule's spacing for the label kernel without the state evolution's cap
        # √(1 − q_max), which is for V's sake, and without its margin 1.6, which the y
        # integral earns (here each label stands alone); or the channel's own if coarser
        # (points given); then divided by 2^(1/4) until it is at most √λ: few distinct
        # grids along a run
        label = self._tables.get("label")
        if label is None:
            label = self._tables["label"] = max(
                _grid_spacing(self._numeric, self.noise) / (_GRID_MARGIN * self.level),
                self.spacing)
        steps = max(0, math.ceil(4 * math.log2(label / math.sqrt(smallest))))
        spacing = label * 2.0 ** (-steps / 4)
        count = 2 * int(math.ceil(_REACH / spacing)) + 1
        if count > 2001:
            raise ConfigError(f"V's smallest eigenvalue {smallest:.3g} would need a grid of "
                              f"{count} points per axis: the overlap is beyond what the "
                              "channel resolves; stop at a smaller α")
        table = self._tables.get(count)
        if table is None:
            z = np.linspace(-_REACH, _REACH, count)
            Z1, Z2 = np.meshgrid(z, z, indexing="ij")
            values = self._numeric(np.vstack((Z1.ravel(), Z2.ravel())))
            if not np.all(np.isfinite(values)):
                raise ConfigError(f"link {self.link!r} is not finite on the z grid")
            table = self._tables[count] = (z, np.ascontiguousarray(
                values.reshape(count, count), dtype=float))
        z, G = table
        P = np.linalg.inv(V)
        P = (P + P.T) / 2
        mean, cov = np.empty((y.size, 2)), np.empty((y.size, 2, 2))
        with quietly():
            _output_module().posterior_moments(y, omega, P, V, float(z[0]),
                                               float(z[1] - z[0]), G, self.noise, mean, cov)
        return mean @ P, P @ cov @ P - P

    # -------------------------------------------------------------------- two fields
    def _two_field(self, Q: np.ndarray) -> np.ndarray:
        """F on the two fields (2×2) by the compiled grid sums (module docstring)."""
        q, O = np.linalg.eigh(Q)
        q = np.clip(q, 0.0, OVERLAP_MAX)
        h = self.spacing
        count = self.points
        z = (np.arange(count) - (count - 1) / 2) * h
        Z1, Z2 = np.meshgrid(z, z, indexing="ij")
        inside = Z1 * Z1 + Z2 * Z2 <= _REACH * _REACH
        ii, jj = np.nonzero(inside)
        rotated = O @ np.vstack((z[ii], z[jj]))          # z = O z'
        g = self._numeric(rotated)
        if not np.all(np.isfinite(g)):
            raise ConfigError(f"link {self.link!r} is not finite on the z grid")
        order = np.argsort(g, kind="stable")
        gs = np.ascontiguousarray(g[order])
        ii = np.ascontiguousarray(ii[order].astype(np.int64))
        jj = np.ascontiguousarray(jj[order].astype(np.int64))
        factors = [self._factors(z, qr) for qr in q]
        reach = math.sqrt(60.0 * self.noise)      # the kernel's cut e^-30 (template CUT)
        hy = self.label_spacing
        y0 = gs[0] - reach
        labels = int(math.ceil((gs[-1] + reach - y0) / hy)) + 1
        # the node pairs inside the disc |ξ| ≤ _XI_REACH (ξ2 is sorted)
        xi1, xi2 = factors[0][3], factors[1][3]
        room = np.sqrt(np.maximum(_XI_REACH ** 2 - xi1 * xi1, 0.0))
        b_lo = np.searchsorted(xi2, -room - 1e-12).astype(np.int64)
        b_hi = np.searchsorted(xi2, room + 1e-12, side="right").astype(np.int64)
        out = np.empty((labels, 3))
        with quietly():
            _kernel_module().fisher_sums(gs, ii, jj, y0, hy, self.noise, factors[0][0],
                                         factors[0][1], factors[1][0], factors[1][1],
                                         factors[0][2], factors[1][2], factors[0][4],
                                         factors[0][5], b_lo, b_hi, factors[1][4],
                                         factors[1][5], out)
        # divided by the weight of the node pairs kept, so a constant integrand is exact
        kept = sum(factors[0][2][a] * factors[1][2][b_lo[a]:b_hi[a]].sum()
                   for a in range(xi1.size))
        s = out.sum(axis=0) * hy / (math.sqrt(2.0 * math.pi * self.noise) * kept)
        rotated_F = np.array([[s[0], s[1]], [s[1], s[2]]])
        return O @ rotated_F @ O.T

    def _factors(self, z: np.ndarray, q: float):
        """The Gaussian factors of one direction of variance ``v = 1 − q``, on the trapezoid
        nodes ``ξ_a`` of spacing ``min(0.5, xi_spacing/√q)`` over ``[−6.5, 6.5]`` (one node at
        ω = 0 when q = 0): ``P[i, a] = h N(z_i; √q ξ_a, v)`` (zero below e^-30 of its peak),
        ``D = P (z_i − ω_a)/v``, the weights (normalised), the nodes, and for each grid
        point the range ``[lo, hi)`` of nodes whose factor is not zero."""
        v = 1.0 - q
        if q <= 0.0:
            xi, w = np.zeros(1), np.ones(1)
        else:
            step = min(_XI_STEP / self.level, self.xi_spacing / math.sqrt(q))
            xi = np.arange(-int(_XI_REACH / step), int(_XI_REACH / step) + 1) * step
            w = np.exp(-0.5 * xi * xi)
            w /= w.sum()
        omega = math.sqrt(max(q, 0.0)) * xi
        centred = z[None, :] - omega[:, None]
        exponent = -0.5 * centred * centred / v
        # weights below e^-30 of the Gaussian's peak are left out: the kernel skips zeros
        P = np.where(exponent > -30.0, np.exp(exponent), 0.0) * (
            self.spacing / math.sqrt(2 * math.pi * v))
        # the nodes within the Gaussian's reach of each grid point (ω sorted): [lo, hi)
        reach = math.sqrt(60.0 * v)
        lo = np.searchsorted(omega, z - reach).astype(np.int64)
        hi = np.searchsorted(omega, z + reach, side="right").astype(np.int64)
        # (grid point, node) layout: the kernel's inner loops run over the nodes
        return (np.ascontiguousarray(P.T), np.ascontiguousarray((P * centred / v).T),
                np.ascontiguousarray(w, dtype=float), xi, lo, hi)

    # ------------------------------------------------------------------------ radial
    def _radial_f(self, q: np.ndarray) -> np.ndarray:
        """``f(q) = E_{ρ,y}[(∂_ρ log Z_out)²]/k`` of a radial link at each overlap in ``q``
        (module docstring): ``Z_out(y, ρ) = ∫ K(y − ψ(r²)) p(r | ρ) dr`` with the law of
        ``r = ‖z‖`` for ``z ~ N(ω, vI_m)``, ``‖ω‖ = ρ`` (m the fields used),
        ``p(r | ρ) = (r/v)(r/ρ)^ν e^{−(r² + ρ²)/2v} I_ν(rρ/v)``, ``ν = m/2 − 1``, and
        ``∂_ρ p = p (r A(rρ/v) − ρ)/v``, ``A = I_{ν+1}/I_ν``; r and ``s = ρ/√q ~ χ_m`` by
        composite Gauss–Legendre panels, y by the trapezoid rule."""
        import scipy.special  # SciPy's log Γ: only for radial links

        m = len(self.fields)
        nu = m / 2.0 - 1.0
        r, w_r = _panels(0.0, _RADIAL_REACH, self.spacing, 8)
        psi = self._numeric(r * r)
        sd = math.sqrt(self.noise)
        reach = math.sqrt(60.0 * self.noise)
        y = np.arange(psi.min() - reach, psi.max() + reach + self.label_spacing,
                      self.label_spacing)
        values = np.zeros(q.size)
        for start in range(0, y.size, max(1, 4_000_000 // r.size)):
            t = y[start:start + 4_000_000 // r.size, None] - psi[None, :]
            kernel = np.where(t * t < reach * reach, np.exp(-0.5 * t * t / self.noise), 0.0) \
                / (sd * math.sqrt(2 * math.pi))                            # (Y, R)
            for index, qi in enumerate(q):
                if qi <= 0.0:
                    continue                      # ρ = 0: ∂_ρ Z = 0 by symmetry
                v = 1.0 - qi
                step = min(_XI_STEP / self.level, self.xi_spacing / math.sqrt(qi))
                s, w_s = _panels(0.0, _XI_REACH, 2 * step, 4)
                w_s = w_s * np.exp((m - 1) * np.log(s) - s * s / 2 - (m / 2 - 1) * math.log(2)
                                   - scipy.special.gammaln(m / 2))        # the χ_m law
                w_s = w_s / w_s.sum()
                rho = math.sqrt(qi) * s
                x = r[:, None] * rho[None, :] / v
                scaled, ratio = _bessel(nu, x)               # e^{-x} I_ν(x), I_{ν+1}/I_ν
                log_p = (np.log(r / v)[:, None] + nu * np.log(r[:, None] / rho[None, :])
                         - (r[:, None] - rho[None, :]) ** 2 / (2 * v) + np.log(scaled))
                P = np.exp(log_p) * w_r[:, None]                          # (R, S)
                D = P * (r[:, None] * ratio - rho[None, :]) / v
                Z, dZ = kernel @ P, kernel @ D
                with np.errstate(divide="ignore", invalid="ignore"):
                    terms = np.where(Z > 1e-300, dZ * dZ / Z, 0.0)
                values[index] += float(terms.sum(axis=0) @ w_s) * self.label_spacing
        return values / m


def _bessel(nu: float, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``e^{−x} I_ν(x)`` and ``I_{ν+1}(x)/I_ν(x)`` for x > 0: closed forms for ν = 1/2
    (three fields: ``I_{1/2} ∝ sinh x/√x``), SciPy's scaled Bessel functions otherwise."""
    import scipy.special  # SciPy's Bessel functions: only for radial links

    if nu == 0.5:
        decay = np.exp(-2.0 * x)
        scaled = np.sqrt(1.0 / (2.0 * np.pi * x)) * (1.0 - decay)
        # I_{3/2}/I_{1/2} = coth x − 1/x; its series below x = 1e-3 (cancellation)
        ratio = np.where(x > 1e-3, (1.0 + decay) / np.where(x > 1e-3, 1.0 - decay, 1.0)
                         - 1.0 / np.maximum(x, 1e-300), x / 3.0 - x ** 3 / 45.0)
        return scaled, ratio
    if nu == 0.0:
        scaled = scipy.special.i0e(x)
        return scaled, scipy.special.i1e(x) / scaled
    scaled = scipy.special.ive(nu, x)
    return scaled, scipy.special.ive(nu + 1, x) / scaled


def _panels(low: float, high: float, width: float, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre rule on [low, high]: panels of at most ``width``, ``nodes``
    nodes each."""
    count = max(1, int(math.ceil((high - low) / width)))
    edges = np.linspace(low, high, count + 1)
    x, w = np.polynomial.legendre.leggauss(nodes)
    half = np.diff(edges)[:, None] / 2
    points = (edges[:-1, None] + half * (x[None, :] + 1)).ravel()
    return points, (half * w[None, :]).ravel()


def _is_radial(g, m: int) -> bool:
    """Whether g (of m ≥ 2 fields) equals ψ(‖z‖²) = g(‖z‖ e₁) at 64 random points."""
    rng = np.random.default_rng(0)
    points = rng.standard_normal((m, 64)) * 1.5
    radial = np.zeros_like(points)
    radial[0] = np.linalg.norm(points, axis=0)
    with np.errstate(all="ignore"):
        a, b = g(points), g(radial)
    scale = np.maximum(np.abs(a), 1.0)
    return bool(np.all(np.isfinite(a)) and np.all(np.abs(a - b) <= 1e-9 * scale))


def _check_alpha(alpha) -> float:
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"the sample ratio α = n/d must be a finite number > 0, got {alpha!r}")
    return value


def _used_fields(link: Link) -> tuple[int, ...]:
    if link.expr is None:
        return (0,)
    names = {str(s) for s in link.expr.free_symbols}
    return tuple(r for r, s in enumerate(link.symbols) if str(s) in names)


def _grid_spacing(g, noise: float) -> float:
    """The z spacing of the grid rule: ``h = 1.6π√(2Δ)/max(|∇g| √(L − |z|²/2))`` over the
    disc, L = ln 10⁶ (the kernel ``e^{−(y−g)²/2Δ}`` is a Gaussian of width ``√Δ/|∇g|``
    across the level lines, whose trapezoid error ``e^{−2π²Δ/(h|∇g|)²}`` is weighed against
    the Gaussian weight ``e^{−|z|²/2}``; the y integral averages most of that error out, so
    the factor 1.6 was measured to be safe, multi_index_channel's docstring), with ``|∇g|``
    by differences on a 241 × 241 probe grid; 0 when g is not finite there."""
    probe = np.linspace(-_REACH, _REACH, 241)
    step = probe[1] - probe[0]
    Z1, Z2 = np.meshgrid(probe, probe, indexing="ij")
    values = g(np.vstack((Z1.ravel(), Z2.ravel()))).reshape(Z1.shape)
    if not np.all(np.isfinite(values)):
        return 0.0
    d1, d2 = np.gradient(values, step)
    slope = np.hypot(d1, d2)
    radius2 = Z1 * Z1 + Z2 * Z2
    room = np.sqrt(np.maximum(_LOG_TOL - radius2 / 2, 1e-12))
    inside = radius2 <= _REACH * _REACH
    worst = float((slope * room)[inside].max())
    return _GRID_MARGIN * math.pi * math.sqrt(2.0 * noise) / max(worst, 1e-12)


def multi_index_channel(link, k: int | None = None, *, noise: float | None = None,
                        level: float = 1.0, points: int | None = None,
                        method: str | None = None) -> MultiIndexChannel:
    """Prepare a multi-index link for the state evolution (module docstring).

    Args:
        link: a formula in ``z1..zk``, a SymPy expression, a
            :class:`~overlapdyn.model.spec.Target` or a :class:`~overlapdyn.limits.Link`.
        k: the number of fields, at least 2 (default: the largest ``z<r>`` used; one field
            is :func:`~overlapdyn.limits.bayes_optimal_overlap`'s).
        noise: the label-noise variance Δ > 0 (default: the link's).
        level: the resolution; every spacing (z or r, y, and ω = √q ξ) is divided by it.
            Level 1: z spacing ``h = min(1.6π√(2Δ)/max(|∇g|√(L − |z|²/2)), 0.1)``
            (L = ln 10⁶: the kernel's width across the level lines against the Gaussian
            weight, with ``|∇g|`` by differences on a probe grid; 0.1 = ``√(1 − q_max)``
            resolves the narrowest estimate); y spacing ``0.75√Δ``; ω spacing
            ``min(0.15, 0.7√Δ)`` (ξ spacing that over √q, at most 0.5). Measured against
            level 2 at q up to 0.99 (``z1*z2``, ``z1 + z2**2``, ``z1**2``,
            ``tanh(2*z1 + z2)*z2`` at Δ = 0.1, ``z1*z2`` at Δ = 0.5): relative errors of F
            ≤ 4e-5 (the largest for even links at q ≥ 0.9), of the map T ≤ 2e-6.
        points: z grid points per axis, overriding the rule (which refuses a link that
            would need more than 601 points per axis at level 1: a steep link at small Δ,
            or a discontinuous one such as ``sign(z1*z2)``, whose jump the probe sees as an
            unbounded gradient; given points, its trapezoid error is O(h), which the error
            estimates then show).
        method: ``"grid"`` (links of at most two fields), ``"radial"`` (``ψ(‖z‖²)``, any
            number of fields, isotropic Q only) or None: the grid when it applies.

    Raises:
        ConfigError: Δ = 0 (give it label noise), one field, a link of three or more
            fields that is not radial, a link too steep (or discontinuous) for the
            automatic grid at this Δ, or a link that depends on none of the fields.
    """
    channel = as_link(link, k, noise=noise)
    if channel.noise <= 0:
        raise ConfigError(f"link {channel.name!r} is noiseless: this state evolution needs a "
                          "smooth channel; give it label noise, e.g. noise=1e-2 (the "
                          "thresholds of the noiseless link are the limit Δ → 0)")
    if channel.k == 1:
        raise ConfigError("one field: use overlapdyn.limits.bayes_optimal_overlap; this state "
                          "evolution is for k ≥ 2 (or give k=2 to embed the link)")
    if not (isinstance(level, int | float) and math.isfinite(level) and level > 0):
        raise ConfigError(f"level must be a finite number > 0, got {level!r}")
    if method not in (None, "grid", "radial"):
        raise ConfigError(f"method must be 'grid', 'radial' or None, got {method!r}")
    used = _used_fields(channel)
    numeric = channel.numeric()
    k = channel.k
    xi_spacing = min(0.15, 0.7 * math.sqrt(channel.noise)) / level
    label_spacing = 0.75 * math.sqrt(channel.noise) / level
    if method is None:
        method = "grid" if len(used) <= 2 else "radial"
    if method == "grid" and len(used) > 2:
        raise ConfigError(f"link {channel.name!r} uses {len(used)} fields: the grid integrates "
                          "two; a radial link ψ(z1² + … + zk²) takes method='radial'")
    # the fields integrated: the used ones, padded with an unused one to two on the grid
    fields = used if method == "radial" or len(used) == 2 else \
        tuple(sorted((*used, next(r for r in range(k) if r not in used))))

    def g(points_m: np.ndarray) -> np.ndarray:
        full = np.zeros((k, points_m.shape[1]))
        full[list(fields)] = points_m
        return np.asarray(numeric(full), dtype=float)

    if method == "grid":
        if points is None:
            spacing = min(_grid_spacing(g, channel.noise), math.sqrt(1 - OVERLAP_MAX)) / level
            count = 2 * int(math.ceil(_REACH / spacing)) + 1 if spacing > 0 else math.inf
            if count > _MAX_POINTS * level:
                raise ConfigError(
                    f"the z grid of y = {channel.name} + √{channel.noise:g} ξ would need "
                    f"{count} points per axis (the link is too steep, or discontinuous, for "
                    f"label noise Δ = {channel.noise:g}): give it more label noise, or set "
                    "points= yourself and read the two-resolution error")
        else:
            count = int(points)
            if count < 21:
                raise ConfigError(f"points must be at least 21, got {points!r}")
        return MultiIndexChannel(channel.name, k, channel.noise, fields, "grid",
                                 float(level), count, 2 * _REACH / (count - 1), xi_spacing,
                                 label_spacing, channel, g)
    if len(fields) < 2 or not _is_radial(g, len(fields)):
        raise ConfigError(f"link {channel.name!r} is not radial: the state evolution "
                          "integrates two fields on a grid, or any number for a radial link "
                          "ψ(z1² + … + zk²)")

    def psi(u: np.ndarray) -> np.ndarray:
        points_m = np.zeros((len(fields), u.size))
        points_m[0] = np.sqrt(u)
        return g(points_m)

    # panels resolving the kernel across the level sets (|dψ(r²)/dr| on a probe) and √v_min
    probe = np.linspace(0.0, _RADIAL_REACH, 4001)
    slope = float(np.abs(np.diff(psi(probe * probe))).max() / (probe[1] - probe[0]))
    width = min(0.1, math.sqrt(channel.noise) / max(slope, 1e-12),
                math.sqrt(1 - OVERLAP_MAX) / 2) / level
    panels = int(math.ceil(_RADIAL_REACH / width))
    if panels > 25_000:
        raise ConfigError(f"the r grid of y = {channel.name} + √{channel.noise:g} ξ would need "
                          f"{panels} panels: give it more label noise")
    return MultiIndexChannel(channel.name, k, channel.noise, fields, "radial", float(level),
                             8 * panels, _RADIAL_REACH / panels, xi_spacing, label_spacing,
                             channel, psi)


# ------------------------------------------------------------------- fixed points
def _vech(Q: np.ndarray) -> np.ndarray:
    return Q[np.triu_indices(Q.shape[0])]


def _unvech(x: np.ndarray, k: int) -> np.ndarray:
    Q = np.zeros((k, k))
    Q[np.triu_indices(k)] = x
    return Q + np.triu(Q, 1).T


@dataclass(frozen=True)
class FixedPoint:
    """The end of a state-evolution run.

    Attributes:
        Q: (k, k) the fixed point (the last iterate).
        iterations: maps ``T_α`` evaluated.
        converged: whether ``max|T_α(Q) − Q| ≤ tol`` was reached.
        residual: ``max|T_α(Q) − Q|`` at the last evaluation.
    """

    Q: np.ndarray
    iterations: int
    converged: bool
    residual: float


def se_fixed_point(channel: MultiIndexChannel, alpha: float, start, *, damping: float = 0.0,
                   tol: float = 1e-9, max_iter: int = 500, accelerate: bool = True
                   ) -> FixedPoint:
    """Iterate the damped map ``Q ← (1 − δ) T_α(Q) + δ Q`` from ``start`` until
    ``max|T_α(Q) − Q| ≤ tol``.

    Acceleration (``accelerate``): once every entry of the residual ``r = T_α(Q) − Q`` has
    shrunk on two consecutive steps (the run is contracting onto a fixed point in every
    direction, none still growing away from an unstable one: mixing during such growth was
    measured to land on the unstable point, e.g. ``z1 + z2**2`` at α = 2.85 with Q₂₂ = 0),
    each step is Anderson-mixed over the last three (Walker & Ni 2011): the
    combination of the recent damped iterates whose residuals cancel best, pulled back toward
    the plain step until it keeps at least half of the overlap along each eigenvector and
    stays below ``q_max`` (unbounded, mixing was measured to jump from the informed start of
    ``z1**2`` in two fields at α = 0.6 onto ``Q = 0`` instead of the stable ``q = 0.0076`` just
    above it). A mixed step after which the residual grew is undone and mixing paused for five
    steps. The stopping test is always on the map itself, so acceleration changes the number
    of maps evaluated, not the fixed point.

    Growth (``accelerate``): while the residual grows step after step (leaving an unstable
    ``Q = 0`` just above α_c grows the overlap by α/α_c per step: hundreds of steps near
    α_c), the growing part is doubled at once (see ``_growth_jump`` for why that stays below
    the fixed point).

    Stability of directions at 0. The residual along a direction where Q is 0 is proportional
    to Q there, so any run (mixed or not) can stop with a direction at or near 0 that would
    grow. When the last Q has eigenvalues below 10⁻⁶, two more maps (power iteration of the
    map restricted to that null space, from ``Q + ηP``, η = 10⁻⁵) tell whether overlap added
    there grows; if it does, the run goes on from ``Q + εd`` (at most three times), and if it
    shrinks those eigenvalues are set to 0 (the fixed point's value; the run had got within
    10⁻⁶ of it). Not tested:
    whether a fixed point inside the cone is a saddle (mixing could in principle land on the
    unstable fixed point between the two branches of a first-order transition; the runs of
    tests/limits/test_bayes_multi.py with and without mixing agree).

    Args:
        channel: the prepared channel (:func:`multi_index_channel`), or any object with its
            ``k`` and ``step(Q, alpha)``.
        alpha: α = n/d > 0.
        start: Q⁰ (k×k, or a scalar q for qI).
        damping: δ in [0, 1) (Troiani et al.'s code damps GAMP with δ = 0.2).
        tol: the stopping threshold on the largest entry of ``T_α(Q) − Q``.
        max_iter: the most maps evaluated.
        accelerate: Anderson mixing as above (off: the plain damped iteration).
    """
    alpha = _check_alpha(alpha)
    if not (isinstance(damping, int | float) and 0.0 <= damping < 1.0):
        raise ConfigError(f"damping must lie in [0, 1), got {damping!r}")
    k = channel.k
    Q = _clip(_symmetric(start, k, "the start Q⁰"))
    history: list[tuple[np.ndarray, np.ndarray]] = []   # (x, G(x) − x) of recent steps
    residuals: list[np.ndarray] = []                    # T(Q) − Q of recent steps (vech)
    sizes: list[float] = []                             # max|r| of recent plain steps
    paused, resumed = 0, 0
    fallback = None           # the plain iterate to return to if a mixed step fails
    residual = math.inf
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        T = channel.step(Q, alpha)
        r = _vech(T) - _vech(Q)
        residual = float(np.abs(r).max())
        if residual <= tol:
            # the residual is proportional to the overlap along a direction at 0, so a run
            # can stop with a direction at (or near) 0 that would grow: test it
            ratio, maps, onward = _null_growth(channel, alpha, Q) if resumed < 3 else (0, 0, Q)
            iteration += maps
            if ratio < 1.0:     # stable: the directions below _NULL are at 0
                values, vectors = np.linalg.eigh(Q)
                values = np.where(values < _NULL, 0.0, values)
                return FixedPoint((vectors * values) @ vectors.T, iteration, True, residual)
            Q, resumed, history, residuals, sizes = onward, resumed + 1, [], [], []
            fallback = None
            continue
        if fallback is not None and residual > np.abs(residuals[-1]).max():
            Q, fallback, history, paused = fallback, None, [], 5   # undo the mixed step
            residuals = []
            continue
        fallback = None
        x = _vech(Q)
        G = (1 - damping) * _vech(T) + damping * x     # the damped step
        history = [*history[-2:], (x, G - x)]
        residuals = [*residuals[-2:], r]
        sizes = [*sizes[-3:], residual]
        paused -= 1
        plain = _unvech(G, k)
        jump = _growth_jump(sizes) if accelerate else None
        if jump is not None:        # geometric growth away from 0: take `jump` steps at once
            Q = _clip(Q + jump * _unvech(G - x, k))
            history, residuals, sizes = [], [], []
            continue
        if accelerate and paused <= 0 and len(history) >= 2 and _contracting(residuals, tol):
            mixed = _anderson(history)
            if mixed is not None:
                mixed = _bounded(plain, _unvech(mixed, k))
            if mixed is not None:
                fallback = _clip(plain)
                Q = _clip(mixed)
                continue
        Q = _clip(plain)
    return FixedPoint(Q, max_iter, False, residual)


def _null_growth(channel, alpha: float, Q: np.ndarray) -> tuple[float, int, np.ndarray]:
    """Whether overlap added where Q is (near) 0 grows: ``(ratio, maps, Q')`` from two steps
    of power iteration of the map restricted to the null space N of Q (eigenvalues below
    ``_NULL``; from ``d = η P_N``, η = ε/10, renormalised), ``maps`` the maps it took: ratio ≥ 1
    means the fixed point is unstable there, and ``Q' = Q + ε d̂`` is where to go on from.
    No null space: ``(0, 0, Q)``."""
    values, vectors = np.linalg.eigh(Q)
    null = vectors[:, values < _NULL]
    if null.shape[1] == 0:
        return 0.0, 0, Q
    projector = null @ null.T
    eta = _EPSILON / 10
    d = eta * projector / np.trace(projector)
    ratio, maps = 0.0, 0
    for _ in range(2):
        image = projector @ (channel.step(_clip(Q + d), alpha) - Q) @ projector
        maps += 1
        ratio = float(np.trace(image)) / eta
        if ratio <= 0:
            return 0.0, maps, Q
        d = eta * image / np.trace(image)
    return ratio, maps, _clip(Q + (_EPSILON / eta) * d)


def _growth_jump(sizes: list[float]) -> float | None:
    """While the residual has grown on each of the last three steps (the run is leaving an
    unstable fixed point, e.g. Q = 0 above α_c, where the overlap grows by ρ ≈ α/α_c per
    step: hundreds of steps near α_c), the multiple of the last plain step that doubles the
    growing part at once: ``1/(ρ − 1)``, ρ the last growth rate of the residual; else None.
    Doubling is safe while the residual still grows: for ``h(q) = T(q) − q = aq − bq²`` it
    peaks at half the fixed point, so a doubled q stays below it (a first-order hump could be
    steeper: a doubled q can then pass the uninformed fixed point, and go on to the informed
    one only if the unstable fixed point between them lies within that factor)."""
    if len(sizes) < 4 or not sizes[0] < sizes[1] < sizes[2] < sizes[3]:
        return None
    rate = sizes[3] / sizes[2]
    return 1.0 / (rate - 1.0) if rate > 1.0 + 1e-3 else None


_NULL = 1e-6


def _bounded(plain: np.ndarray, mixed: np.ndarray) -> np.ndarray | None:
    """The mixed point, moved back toward the plain one (halving the difference up to three
    times) until, along each eigenvector of the plain point, it keeps at least half of that
    overlap and stays below ``OVERLAP_MAX``: a mixed step may shrink an overlap fast, not
    jump it to 0 (a fixed point, stable or not, of every link with ``E[z|y] = 0``). None
    when no such point is found."""
    values, vectors = np.linalg.eigh(plain)
    for t in (1.0, 0.5, 0.25, 0.125):
        candidate = plain + t * (mixed - plain)
        kept = np.einsum("ir,ij,jr->r", vectors, candidate, vectors)
        if np.all(kept >= 0.5 * np.maximum(values, 0.0) - 1e-15) and \
                np.linalg.eigvalsh(candidate)[-1] <= OVERLAP_MAX + 1e-12:
            return candidate
    return None


def _contracting(residuals: list[np.ndarray], tol: float) -> bool:
    """Whether every entry of the residual above ``tol`` has shrunk on each of the last two
    steps: the run is closing in on a fixed point in every direction, none is still growing
    away from an unstable one (mixing then could land on that unstable point)."""
    if len(residuals) < 3:
        return False
    older, old, new = (np.abs(r) for r in residuals[-3:])
    live = new > tol
    return bool(np.all(new[live] < old[live]) and np.all(old[live] < older[live]))


def _anderson(history: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """Anderson's mixing of the iterates ``x_i`` with residuals ``f_i = G(x_i) − x_i``:
    ``Σ c_i G(x_i)`` with ``Σ c_i = 1`` minimising ``‖Σ c_i f_i‖``; None when degenerate."""
    xs = np.array([x for x, _ in history])
    fs = np.array([f for _, f in history])
    dF = (fs[-1] - fs[:-1]).T                 # (m, j)
    if not np.all(np.isfinite(dF)) or np.linalg.norm(dF) == 0:
        return None
    gamma, *_ = np.linalg.lstsq(dF, fs[-1], rcond=1e-10)
    if not np.all(np.isfinite(gamma)) or np.abs(gamma).max() > 1e3:
        return None
    Gs = xs + fs
    return Gs[-1] - (Gs[-1] - Gs[:-1]).T @ gamma


# ------------------------------------------------------------------- linearisation
@dataclass(frozen=True)
class SELinearisation:
    """The map at ``Q = 0``, measured from the channel's ``F`` (module docstring).

    Attributes:
        trivial: (k, k) ``F(0) = E_y[E[z|y] E[z|y]ᵀ]``; its range is the trivial subspace.
        operator: (K, K), ``K = k(k+1)/2``: the matrix of ``L(M) = lim F(εM)/ε`` on the
            orthonormal basis of symmetric matrices of
            :func:`~overlapdyn.limits.operator_F` (``E_ii``, then ``(E_ij + E_ji)/√2``);
            zero when the trivial subspace is not empty.
        eigenvalues: (K,) of ``operator``, descending.
        top: (k, k) the eigenmatrix of the largest eigenvalue (unit Frobenius norm).
        alpha_c: 0 when the trivial subspace is not empty, else ``1/λ_max`` (inf when
            ``λ_max ≤ 0``: no direction leaves 0 at any α).
        epsilon: the ε of the differences.
    """

    trivial: np.ndarray
    operator: np.ndarray
    eigenvalues: np.ndarray
    top: np.ndarray
    alpha_c: float
    epsilon: float

    @property
    def has_trivial(self) -> bool:
        """Whether ``F(0)`` is above 1e-10 (as :mod:`overlapdyn.limits.bayes` decides)."""
        return bool(np.abs(self.trivial).max() > _TRIVIAL)


_TRIVIAL = 1e-10


def se_linearisation(channel: MultiIndexChannel, epsilon: float = 1e-6) -> SELinearisation:
    """The trivial part ``F(0)`` and the linear operator L of the map at ``Q = 0``.

    L is measured from F at positive semi-definite ``Q = εM`` (``M = E_ii`` and
    ``(e_i + e_j)(e_i + e_j)ᵀ``, from which the off-diagonal part follows by linearity), with
    one Richardson step ``L = 2F(εM)/ε − F(2εM)/(2ε)`` (error O(ε²)). When the trivial
    subspace is not empty the map's slope at 0 is not what decides, and L is left at zero.
    """
    k = channel.k
    trivial = channel.information(np.zeros((k, k)))
    K = k * (k + 1) // 2
    if np.abs(trivial).max() > _TRIVIAL:
        return SELinearisation(trivial, np.zeros((K, K)), np.zeros(K), np.zeros((k, k)), 0.0,
                               float(epsilon))
    if getattr(channel, "method", "grid") == "radial":
        slope = float(channel.information(epsilon * np.eye(k))[0, 0]) / epsilon
        slope2 = float(channel.information(2 * epsilon * np.eye(k))[0, 0]) / (2 * epsilon)
        operator = (2 * slope - slope2) * np.eye(K)    # L(M) = λ M for a radial link
    else:
        def L(M: np.ndarray) -> np.ndarray:
            return (2 * channel.information(epsilon * M) / epsilon
                    - channel.information(2 * epsilon * M) / (2 * epsilon))

        used = [r for r in range(k) if r in getattr(channel, "fields", range(k))]
        diagonal = {}
        for i in range(k):
            E = np.zeros((k, k))
            E[i, i] = 1.0
            diagonal[i] = L(E) if i in used else np.zeros((k, k))
        images = []
        for B in symmetric_basis(k):
            i, j = np.argwhere(B != 0)[0]
            if i == j:
                images.append(diagonal[i])
                continue
            if i in used and j in used:
                e = np.zeros(k)
                e[[i, j]] = 1.0
                # (e_i + e_j)(e_i + e_j)ᵀ = E_ii + E_jj + √2 B
                images.append((L(np.outer(e, e)) - diagonal[i] - diagonal[j]) / math.sqrt(2))
            else:
                images.append(np.zeros((k, k)))
        basis = symmetric_basis(k)
        operator = np.array([[float(np.sum(P * image)) for image in images] for P in basis])
        operator = (operator + operator.T) / 2      # L is self-adjoint (E_y[G M G])
    values, vectors = np.linalg.eigh(operator)
    top = sum(c * B for c, B in zip(vectors[:, -1], symmetric_basis(k), strict=True))
    alpha_c = 1.0 / values[-1] if values[-1] > _TRIVIAL else math.inf
    return SELinearisation(trivial, operator, values[::-1].copy(), top, float(alpha_c),
                           float(epsilon))


# ------------------------------------------------------------------------ the curve
def _eigen(Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and unit eigenvectors (columns, largest entry positive)."""
    values, vectors = np.linalg.eigh(Q)
    values, vectors = values[::-1], vectors[:, ::-1]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    return values, vectors * np.where(signs == 0, 1.0, signs)


#: two fixed points closer than this (largest entry of the difference) are the same
FIRST_ORDER_GAP = 1e-4


@dataclass(frozen=True)
class MultiIndexCurve(Result):
    """The fixed points of the multi-index state evolution against α, from the uninformed
    and the informed start (module docstring).

    Attributes:
        link: the link's formula; k: fields; noise: Δ; method: ``"grid"`` or ``"radial"``.
        level: the channel's resolution; damping: δ of the iteration; tol: its stopping
            threshold.
        alphas: (A,) sample ratios α = n/d, increasing.
        uninformed: (A, k, k) the fixed point reached from ``Q⁰ = εI`` (ε = 10⁻⁴; exactly 0
            where ``Q = 0`` is stable, i.e. no trivial subspace and ``α < α_c``).
        informed: (A, k, k) the fixed point reached from ``Q⁰ = q_max I``.
        iterations: (A, 2) maps evaluated for the two starts (0: none needed).
        converged: (A, 2) whether each run reached ``tol``.
        error: (A, 2) the two-resolution estimate of the map's error at each fixed point:
            ``max|T_fine(Q*) − T(Q*)| + tol``, the map at every spacing divided by 1.25
            against the working one (the quadratures converge exponentially, so this is
            close to the working resolution's own error); the fixed point moves by this
            divided by ``1 − (the map's slope)``, which is large near a transition.
        alpha_c: where ``Q = 0`` loses stability (:class:`SELinearisation`; 0 when the
            trivial subspace is not empty); alpha_c_error: its change between the two
            resolutions.
        trivial: (k, k) ``F(0) = E_y[E[z|y] E[z|y]ᵀ]``.
        linear_eigenvalues: (k(k+1)/2,) the eigenvalues of the map's linear part L at 0.
    """

    FORMAT = "overlapdyn.MultiIndexCurve"
    VERSION = 1

    link: str
    k: int
    noise: float
    method: str
    level: float
    damping: float
    tol: float
    alphas: np.ndarray
    uninformed: np.ndarray
    informed: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    error: np.ndarray
    alpha_c: float
    alpha_c_error: float
    trivial: np.ndarray
    linear_eigenvalues: np.ndarray

    def overlaps(self, branch: str = "uninformed") -> np.ndarray:
        """(A, k) the eigenvalues of Q, descending: the overlap in each learned direction."""
        return np.array([_eigen(Q)[0] for Q in self._branch(branch)])

    def directions(self, branch: str = "uninformed") -> np.ndarray:
        """(A, k, k) the eigenvectors of Q (columns, in the order of :meth:`overlaps`, sign
        fixed by the largest entry); arbitrary within a repeated eigenvalue."""
        return np.array([_eigen(Q)[1] for Q in self._branch(branch)])

    def _branch(self, branch: str) -> np.ndarray:
        if branch not in ("uninformed", "informed"):
            raise ConfigError(f"branch must be 'uninformed' or 'informed', got {branch!r}")
        return self.uninformed if branch == "uninformed" else self.informed

    @property
    def first_order(self) -> np.ndarray:
        """(A,) whether the two starts reach fixed points more than :data:`FIRST_ORDER_GAP`
        apart (a first-order transition: the uninformed one is metastable there)."""
        return np.abs(self.informed - self.uninformed).max(axis=(1, 2)) > FIRST_ORDER_GAP

    @property
    def trivial_subspace(self) -> np.ndarray:
        """(k, r) orthonormal columns spanning the range of ``F(0)`` (r may be 0)."""
        values, vectors = np.linalg.eigh(self.trivial)
        return vectors[:, values > _TRIVIAL][:, ::-1]

    def onsets(self, threshold: float = 1e-3) -> list[float | None]:
        """For the i-th largest overlap of the uninformed branch, the first α at which it
        exceeds ``threshold`` (None: never on this α grid)."""
        values = self.overlaps()
        return [float(self.alphas[np.argmax(values[:, i] > threshold)])
                if (values[:, i] > threshold).any() else None for i in range(self.k)]

    def describe(self) -> str:
        trivial = self.trivial_subspace
        alpha_c = ("0 (trivial subspace " + _columns(trivial) + ")") if trivial.shape[1] \
            else ("∞" if math.isinf(self.alpha_c) else f"{self.alpha_c:.6g}")
        lines = [f"multi-index state evolution for y = {self.link} + √{self.noise:g} ξ (k = "
                 f"{self.k}, {self.method}): α_c = {alpha_c}"
                 + (f" [± {self.alpha_c_error:.1g}]" if 0 < self.alpha_c < math.inf else ""),
                 f"  fixed-point error ≤ {self.error.max():.1g} (two resolutions); "
                 f"{int((~self.converged).sum())} runs not converged"]
        if self.first_order.any():
            inside = self.alphas[self.first_order]
            lines.append(f"  first order: the informed and uninformed fixed points differ for "
                         f"α in [{inside.min():.4g}, {inside.max():.4g}]")
        values, vectors = self.overlaps(), self.directions()
        informed = self.overlaps("informed")
        for a, alpha in enumerate(self.alphas):
            learned = [f"{v:.6f} along {_columns(vectors[a][:, [i]])}"
                       for i, v in enumerate(values[a])]
            line = f"  α = {alpha:8.4g}: q = " + "; ".join(learned)
            if self.first_order[a]:
                line += f"  (informed: {', '.join(f'{v:.6f}' for v in informed[a])})"
            lines.append(line)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"link": self.link, "k": self.k, "noise": self.noise, "method": self.method,
                "level": self.level, "damping": self.damping, "tol": self.tol,
                "alpha_c": self.alpha_c, "alpha_c_error": self.alpha_c_error,
                "alphas": self.alphas.tolist(), "overlaps": self.overlaps().tolist(),
                "informed_overlaps": self.overlaps("informed").tolist(),
                "first_order": self.first_order.tolist(), "error": self.error.tolist()}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        fields = {name: getattr(self, name) for name in
                  ("link", "k", "noise", "method", "level", "damping", "tol", "alpha_c",
                   "alpha_c_error")}
        arrays = {name: getattr(self, name) for name in
                  ("alphas", "uninformed", "informed", "iterations", "converged", "error",
                   "trivial", "linear_eigenvalues")}
        return fields, arrays

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> MultiIndexCurve:
        return cls(header["link"], int(header["k"]), float(header["noise"]), header["method"],
                   float(header["level"]), float(header["damping"]), float(header["tol"]),
                   arrays["alphas"], arrays["uninformed"], arrays["informed"],
                   arrays["iterations"], arrays["converged"], arrays["error"],
                   float(header["alpha_c"]), float(header["alpha_c_error"]), arrays["trivial"],
                   arrays["linear_eigenvalues"])


def _columns(columns: np.ndarray) -> str:
    return "[" + "; ".join("(" + ", ".join(f"{v:+.3g}" for v in col) + ")"
                           for col in columns.T) + "]"


def multi_index_overlap(link, alphas, *, k: int | None = None, noise: float | None = None,
                        level: float = 1.0, damping: float = 0.0, tol: float = 1e-9,
                        max_iter: int = 500, accelerate: bool = True,
                        channel: MultiIndexChannel | None = None) -> MultiIndexCurve:
    """The Bayes-optimal overlap matrix Q(α) of a multi-index channel from the uninformed and
    the informed start (module docstring).

    The α are run in increasing order from the uninformed start and in decreasing order
    from the informed one, each run starting where the previous α's ended (plus ``εI`` for
    the uninformed branch): the map is monotone in Q and in α (more side information, more
    samples: more overlap), so the fixed point reached is the one the start of this α would
    reach, in fewer iterations. Where ``Q = 0`` is stable (no trivial subspace and
    ``α < α_c``) the uninformed fixed point is 0 without iterating.

    Args:
        link: the link (see :func:`multi_index_channel`); ignored when ``channel`` is given.
        alphas: sample ratios α = n/d > 0.
        k, noise, level: as :func:`multi_index_channel`.
        damping, tol, max_iter, accelerate: as :func:`se_fixed_point`.
        channel: a channel already prepared (its resolution is then used).

    Returns:
        :class:`MultiIndexCurve`.

    Raises:
        ConfigError: α ≤ 0 or not finite, or what :func:`multi_index_channel` raises.
    """
    alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
    if alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas > 0)):
        raise ConfigError(f"the sample ratios α = n/d must be finite numbers > 0, got "
                          f"{alphas.tolist()}")
    alphas = np.unique(alphas)
    if channel is None:
        channel = multi_index_channel(link, k, noise=noise, level=level)
    fine = channel.refined()
    if channel.method == "radial":
        return _radial_curve(channel, fine, alphas, tol)
    k = channel.k
    linear = se_linearisation(channel)
    linear_fine = se_linearisation(fine)
    A = alphas.size
    uninformed, informed = np.zeros((A, k, k)), np.zeros((A, k, k))
    iterations, converged = np.zeros((A, 2), dtype=int), np.ones((A, 2), dtype=bool)
    options = {"damping": damping, "tol": tol, "max_iter": max_iter, "accelerate": accelerate}
    previous = np.zeros((k, k))
    for a, alpha in enumerate(alphas):
        if not linear.has_trivial and alpha * linear.eigenvalues[0] < 1.0:
            continue                          # Q = 0 is stable: the 0⁺ limit stays at 0
        run = se_fixed_point(channel, alpha, _clip(previous + _EPSILON * np.eye(k)), **options)
        uninformed[a], iterations[a, 0], converged[a, 0] = run.Q, run.iterations, run.converged
        previous = run.Q
    previous = OVERLAP_MAX * np.eye(k)
    for a in range(A - 1, -1, -1):
        if a < A - 1 and not np.any(previous):
            continue                          # informed 0 at a larger α: 0 here too
        run = se_fixed_point(channel, alphas[a], previous, **options)
        informed[a], iterations[a, 1], converged[a, 1] = run.Q, run.iterations, run.converged
        previous = run.Q
    # the map at the finer resolution, once per distinct fixed point (0 and shared ones once)
    error = np.zeros((A, 2))
    for a, alpha in enumerate(alphas):
        for branch, Q in enumerate((uninformed[a], informed[a])):
            if branch == 1 and np.abs(Q - uninformed[a]).max() <= tol:
                error[a, 1] = error[a, 0]
            elif not np.any(Q) and not linear.has_trivial:
                error[a, branch] = tol           # T(0) = 0 at every resolution
            else:
                error[a, branch] = np.abs(fine.step(Q, alpha) - channel.step(Q, alpha)).max() \
                    + tol
    alpha_c_error = abs(linear.alpha_c - linear_fine.alpha_c) \
        if math.isfinite(linear.alpha_c) and math.isfinite(linear_fine.alpha_c) else 0.0
    return MultiIndexCurve(channel.link, k, channel.noise, channel.method, channel.level,
                           float(damping), float(tol), alphas, uninformed, informed, iterations,
                           converged, error, linear.alpha_c, alpha_c_error, linear.trivial,
                           linear.eigenvalues)


def _overlap_table(channel: MultiIndexChannel, points: int = 60) -> ChannelInformation:
    """``f(q)`` of a radial channel on 0, a geometric run from 10⁻⁶ to 10⁻² (the slope at 0
    is fitted there), uniform to 0.9, geometric in ``1 − q`` to ``OVERLAP_MAX``."""
    quarter = points // 4
    q = np.concatenate(([0.0], np.geomspace(1e-6, 1e-2, quarter, endpoint=False),
                        np.linspace(1e-2, 0.9, points - 2 * quarter, endpoint=False),
                        1.0 - np.geomspace(0.1, 1.0 - OVERLAP_MAX, quarter)))
    f = channel._radial_f(q)
    if not np.all(np.isfinite(f)):
        raise ConfigError(f"f(q) of link {channel.link!r} is not finite: its conditional "
                          "moments are too heavy-tailed for this quadrature")
    return ChannelInformation(channel.link, channel.noise, q, f, 0.0)


def _radial_curve(channel: MultiIndexChannel, fine: MultiIndexChannel, alphas: np.ndarray,
                  tol: float) -> MultiIndexCurve:
    """A radial link's curve: ``Q = q I`` with q the scalar fixed points of
    ``q = αf(q)/(1 + αf(q))`` on a table of f (as :func:`~overlapdyn.limits.bayes_optimal_overlap`
    finds them, from the same two starts)."""
    table, table_fine = _overlap_table(channel), _overlap_table(fine)
    error_f = float(np.abs(table.f - table_fine.f).max())
    table = ChannelInformation(table.link, table.noise, table.q, table.f, error_f,
                               np.abs(table.f - table_fine.f))
    curve = bayes_optimal_overlap(None, alphas, table=table)
    curve_fine = bayes_optimal_overlap(None, alphas[:1], table=table_fine)
    k, A = channel.k, alphas.size
    eye = np.zeros((k, k))
    eye[list(channel.fields), list(channel.fields)] = 1.0
    ends = np.minimum(np.stack([curve.uninformed, curve.informed], axis=1), OVERLAP_MAX)

    def step(alpha, q, tab):
        hat = alpha * float(tab(q))
        return hat / (1 + hat)

    error = np.array([[abs(step(alpha, q, table_fine) - step(alpha, q, table)) + tol
                       for q in pair] for alpha, pair in zip(alphas, ends, strict=True)])
    K = k * (k + 1) // 2
    slope = 1.0 / curve.alpha_c if curve.alpha_c > 0 else 0.0
    return MultiIndexCurve(channel.link, k, channel.noise, "radial", channel.level, 0.0,
                           float(tol), alphas, ends[:, 0, None, None] * eye,
                           ends[:, 1, None, None] * eye, np.zeros((A, 2), dtype=int),
                           np.ones((A, 2), dtype=bool), error, float(curve.alpha_c),
                           abs(curve.alpha_c - curve_fine.alpha_c)
                           if math.isfinite(curve.alpha_c) else 0.0,
                           np.zeros((k, k)), slope * np.ones(K))
