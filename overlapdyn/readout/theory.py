r"""The test error of the ridge-trained readout on the spiked features, as d → ∞.

After the giant step (:mod:`overlapdyn.readout.step`) the readout ``a`` (p) is refitted by
ridge regression on ``n = αd`` fresh samples,

    â = argmin_a Σ_μ (y_μ − ŷ_μ)² + λ‖a‖²,      ŷ = aᵀσ(F x)/√p,   F = √c W⁰ + r 1 v̂ᵀ

(unit-norm rows; the paper's convention, arXiv:2402.04980), and this module gives its test
error ``E_gen = E[(y − ŷ)²]`` (SPEC's population risk is ``½E_gen``) as ``n, p, d → ∞``
with ``α = n/d``, ``ψ = p/d`` fixed, following Cui et al. 2024.

**Conditional Gaussian equivalence.** With the spike field ``κ = v̂·x`` and the bulk fields
``g = √c W⁰Πx``, each feature is ``σ(rκ + g_i)``: conditionally on κ it is equivalent to

    σ_i ≈ μ₀(κ) + μ₁(κ) g_i + μ₂(κ) ξ_i,     ξ_i ~ N(0, 1) independent,

with the conditional Hermite coefficients (u ~ N(0, 1))
``μ₀(κ) = E[σ(rκ + √c u)]``, ``μ₁(κ) = E[u σ(rκ + √c u)]/√c``,
``μ₂(κ)² = E[σ(rκ + √c u)²] − μ₀(κ)² − c μ₁(κ)²``. The target is
``y = g*(γκ + ρν) + √Δ ξ``, ``ρ = √(1 − γ²)``, ν the teacher's field orthogonal to v̂.

**The fixed point.** Write ``D_k = c x_k``, ``F_k = cψ f_k``, ``H_k = cψ h_k`` for the
spectral atoms of :mod:`overlapdyn.readout.spectrum` and ``⟨·⟩`` for their weighted mean
(over the p eigenvalues of ``W⁰ΠW⁰ᵀ``). The factor ``ψ = p/d`` turns that mean into the
per-d normalisation of the projections on the spike and the teacher,
``(1/d) Σ_k = ψ⟨·⟩``; at ψ = 1 it is invisible (the published acceptance setting), at
ψ = 1/2 and 4 it is what the simulations ask (the readout guide's width table: without it
the random-features baseline is off by 40–300 %). The
overlaps of the readout — ``q₁`` and ``q₂`` (its norms along the bulk fields and the
independent noise), ``V₁, V₂`` (their variances), ``θ`` (along ``W⁰v``), ``ψ`` (along the
teacher) and ``m`` (along the mean feature ``μ₀(κ)``) — solve, with ``S = λ + V̂₁D + V̂₂``
and ``N = q̂₁D + q̂₂ + θ̂²F + ψ̂²H``,

    q₁ = ⟨D N/S²⟩,  q₂ = ⟨N/S²⟩,  V₁ = ⟨D/S⟩,  V₂ = ⟨1/S⟩,  θ = θ̂⟨F/S⟩,  ψ = ψ̂⟨H/S⟩,

and their conjugates are averages over κ ~ N(0, 1) (``α_p = n/p = α/ψ``):

    V(κ) = μ₁²V₁ + μ₂²V₂,   c(κ) = μ₀m + μ₁κθ,
    E(κ) = E[y²|κ] − 2c(κ)E[y|κ] − 2μ₁ψ E[νy|κ] + c(κ)² + μ₁²q₁ + μ₂²q₂,
    q̂₁ = α_p E[μ₁²E(κ)/(1 + V)²],   q̂₂ = α_p E[μ₂²E(κ)/(1 + V)²],
    V̂₁ = α_p E[μ₁²/(1 + V)],         V̂₂ = α_p E[μ₂²/(1 + V)],
    θ̂ = α_p E[κμ₁(E[y|κ] − c(κ))/(1 + V)],   ψ̂ = α_p E[μ₁ E[νy|κ]/(1 + V)],
    m = E[μ₀(E[y|κ] − μ₁κθ)/(1 + V)] / E[μ₀²/(1 + V)]

(m is one direction of the readout, so the ridge does not reach it). The test error is
``E_gen = E_κ[E(κ)]`` and the training residual ``E_κ[E(κ)/(1 + V(κ))²]``. The equations
are iterated with damping (new = (1 − damping)·update + damping·old) from a cold start or,
along a learning curve, from the previous α. Every κ-average is a Gauss–Hermite sum
(``nodes`` points; the conditional coefficients by an inner rule of as many points).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..derive.hermite import gauss_hermite_rule
from ..errors import ConfigError, FixedPointError
from ..model.checks import check_integer, check_real
from ..storage.results import Result
from .spectrum import Spectrum, marchenko_pastur
from .step import GiantStep, SpikedFeatures, spiked_features

__all__ = ["OVERLAPS", "ReadoutRisk", "notebook_bulk", "readout_risk"]

#: the overlaps of the fixed point, in the order of :attr:`ReadoutRisk.overlaps`' last axis
OVERLAPS = ("q1", "q2", "V1", "V2", "theta", "psi", "m")
#: the conjugates, in the order of :attr:`ReadoutRisk.conjugates`' last axis
CONJUGATES = ("q1_hat", "q2_hat", "V1_hat", "V2_hat", "theta_hat", "psi_hat")
# a cold start of the iteration (q1, q2, V1, V2, θ, ψ, m)
_COLD = np.array([0.1, 0.1, 1.0, 1.0, 0.0, 0.1, 0.0])


@dataclass(frozen=True)
class _Layer:
    """The κ-quadrature: weights and the conditional coefficients and target moments."""

    weights: np.ndarray
    kappa: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    mu2: np.ndarray
    y: np.ndarray       # E[y | κ]
    ny: np.ndarray      # E[ν y | κ]
    yy: np.ndarray      # E[y² | κ] (noise included)


def _layer(features: SpikedFeatures, nodes: int) -> _Layer:
    """The conditional Hermite coefficients of σ and the target's moments at each κ node."""
    kappa, weights = gauss_hermite_rule(nodes)
    u, w = gauss_hermite_rule(nodes)
    sigma, link = features.step.sigma, features.step.link
    root_c = np.sqrt(features.c)
    values = sigma(features.r * kappa[:, None] + root_c * u[None, :])       # (κ, u)
    mu0 = values @ w
    mu1 = (values * u) @ w / root_c
    mu2 = np.sqrt(np.clip((values ** 2) @ w - mu0 ** 2 - features.c * mu1 ** 2, 0.0, None))
    gamma = features.gamma
    rho = np.sqrt(max(0.0, 1.0 - gamma ** 2))
    targets = link(gamma * kappa[:, None] + rho * u[None, :])
    return _Layer(np.asarray(weights), np.asarray(kappa), mu0, mu1, mu2, targets @ w,
                  (targets * u) @ w, (targets ** 2) @ w + features.step.target.noise)


def _errors(layer: _Layer, state: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(V(κ), c(κ), E(κ))`` at the κ nodes for the overlaps ``state``."""
    q1, q2, V1, V2, theta, psi, m = state
    V = layer.mu1 ** 2 * V1 + layer.mu2 ** 2 * V2
    mean = layer.mu0 * m + layer.mu1 * layer.kappa * theta
    error = (layer.yy - 2 * mean * layer.y - 2 * layer.mu1 * psi * layer.ny + mean ** 2
             + layer.mu1 ** 2 * q1 + layer.mu2 ** 2 * q2)
    return V, mean, error


def _iterate(layer: _Layer, atoms: tuple, alpha_p: float, ridge: float, state: np.ndarray,
             damping: float, tol: float, max_iter: int
             ) -> tuple[np.ndarray, np.ndarray, int, float]:
    """The damped fixed point: ``(overlaps, conjugates, iterations, last change)``."""
    D, F, H, weights = atoms
    lw, mu0, mu1, mu2, kappa = layer.weights, layer.mu0, layer.mu1, layer.mu2, layer.kappa
    mean_weight = float(lw @ mu0 ** 2)
    change = np.inf
    for iteration in range(1, max_iter + 1):
        V, mean, error = _errors(layer, state)
        inv = 1.0 / (1.0 + V)
        hats = alpha_p * np.array([
            lw @ (mu1 ** 2 * error * inv ** 2), lw @ (mu2 ** 2 * error * inv ** 2),
            lw @ (mu1 ** 2 * inv), lw @ (mu2 ** 2 * inv),
            lw @ (kappa * mu1 * (layer.y - mean) * inv), lw @ (mu1 * layer.ny * inv)])
        q1h, q2h, V1h, V2h, th, ph = hats
        S = ridge + V1h * D + V2h
        N = q1h * D + q2h + th ** 2 * F + ph ** 2 * H
        new = np.array([weights @ (D * N / S ** 2), weights @ (N / S ** 2),
                        weights @ (D / S), weights @ (1.0 / S),
                        th * (weights @ (F / S)), ph * (weights @ (H / S)), 0.0])
        # m: the mean direction, at the current θ and V (one direction: no ridge)
        if mean_weight > 1e-14:
            new[6] = (lw @ (mu0 * (layer.y - mu1 * kappa * state[4]) * inv)
                      / (lw @ (mu0 ** 2 * inv)))
        if not np.all(np.isfinite(new)):
            raise FixedPointError(f"the readout fixed point left the finite numbers at "
                                  f"iteration {iteration}; try a larger damping (now "
                                  f"{damping:g}) or a larger ridge", np.inf)
        change = float(np.max(np.abs(new - state)))
        state = (1 - damping) * new + damping * state
        if change < tol:
            return state, hats, iteration, change
    raise FixedPointError(f"the readout fixed point did not converge in {max_iter} "
                          f"iterations (last change {change:.2e} > tol {tol:.1e}); try a "
                          f"larger damping (now {damping:g}, e.g. {min(0.95, damping + 0.3):g})"
                          f" or more iterations", change)


@dataclass(frozen=True)
class ReadoutRisk(Result):
    """The readout's asymptotic test error along α (module docstring for the math).

    Attributes:
        step: the :class:`~overlapdyn.readout.step.GiantStep`.
        alpha: ``α = n/d`` of the ridge, shape (A,).
        ridge: λ ≥ 0 of ``Σ_μ (y − ŷ)² + λ‖a‖²``.
        r: the spike strength used.
        c: the bulk variance used.
        gamma: the spike–target cosine used.
        test_error: ``E_gen = E[(y − ŷ)²]`` (the paper's test error; SPEC's risk is half),
            shape (A,).
        train_error: the mean squared training residual ``(1/n) Σ_μ (y_μ − ŷ_μ)²``, (A,).
        overlaps: the fixed point (A, 7), in the order of :data:`OVERLAPS`.
        conjugates: their conjugates (A, 6), in the order ``q̂₁, q̂₂, V̂₁, V̂₂, θ̂, ψ̂``.
        iterations: the iterations each α took, (A,).
        spectrum: the bulk :class:`~overlapdyn.readout.spectrum.Spectrum`.
        nodes: the Gauss–Hermite nodes of the κ-averages.
        bulk_shift: whether the θ channel (the bulk's shift along W⁰v̂) was open.
        wall_time_s: the wall time.
    """

    FORMAT = "overlapdyn.ReadoutRisk"
    VERSION = 1

    step: GiantStep
    alpha: np.ndarray
    ridge: float
    r: float
    c: float
    gamma: float
    test_error: np.ndarray
    train_error: np.ndarray
    overlaps: np.ndarray
    conjugates: np.ndarray
    iterations: np.ndarray
    spectrum: Spectrum
    nodes: int
    bulk_shift: bool = True
    wall_time_s: float = 0.0

    @property
    def risk(self) -> np.ndarray:
        """SPEC's population risk ``½E_gen``, shape (A,)."""
        return 0.5 * self.test_error

    def describe(self) -> str:
        lines = [self.step.describe(),
                 f"spiked features r = {self.r:.5g}, c = {self.c:.5g}, γ = {self.gamma:.5g}; "
                 f"ridge λ = {self.ridge:g}; θ channel {'open' if self.bulk_shift else 'closed'}; "
                 f"{self.spectrum.describe()}",
                 f"{'α':>8} {'test error':>11} {'train error':>12} {'iterations':>10}"]
        for a, e, t, i in zip(self.alpha, self.test_error, self.train_error, self.iterations,
                              strict=True):
            lines.append(f"{a:8.4g} {e:11.5f} {t:12.5f} {int(i):10d}")
        lines.append(f"({self.wall_time_s:.2f} s)")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        s = self.spectrum
        return ({"step": self.step.to_dict(), "ridge": self.ridge, "r": self.r, "c": self.c,
                 "gamma": self.gamma, "nodes": self.nodes, "width": s.width,
                 "source": s.source, "bulk_shift": self.bulk_shift,
                 "wall_time_s": self.wall_time_s},
                {"alpha": self.alpha, "test_error": self.test_error,
                 "train_error": self.train_error, "overlaps": self.overlaps,
                 "conjugates": self.conjugates, "iterations": self.iterations,
                 "x": s.x, "f": s.f, "h": s.h, "weights": s.weights})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> ReadoutRisk:
        spectrum = Spectrum(arrays["x"], arrays["f"], arrays["h"], arrays["weights"],
                            header["width"], header["source"])
        return cls(GiantStep.from_dict(header["step"]), arrays["alpha"], header["ridge"],
                   header["r"], header["c"], header["gamma"], arrays["test_error"],
                   arrays["train_error"], arrays["overlaps"], arrays["conjugates"],
                   arrays["iterations"], spectrum, header["nodes"], header["bulk_shift"],
                   header["wall_time_s"])


def notebook_bulk(step: GiantStep) -> float:
    """The bulk variance of the authors' notebook (SPOC-group/OneStepGD_asymptotics,
    ``theory.ipynb``), ``1 + η̃² μ₂* š μ₁²/α₀``: an extra μ₁² against the state evolution's
    ``c = 1 + η̃² μ₂* š/α₀`` (:mod:`overlapdyn.readout.step`) — for reproducing their
    stored numbers only."""
    f = spiked_features(step)
    return 1.0 + step.eta_tilde ** 2 * f.mu2_star * f.s_check * f.mu1 ** 2 / step.alpha0


def readout_risk(step: GiantStep, alpha: float | Sequence[float], ridge: float, *,
                 spectrum: Spectrum | None = None, width: float = 1.0, bulk: float | None = None,
                 bulk_shift: bool = True, nodes: int = 64, damping: float = 0.5, tol: float = 1e-9,
                 max_iter: int = 20_000) -> ReadoutRisk:
    """The asymptotic test error of the ridge readout after the giant step (module docstring).

    Args:
        step: the step (``eta_tilde = 0``: the random-features baseline).
        alpha: ``α = n/d > 0``, one value or a learning curve (solved in the order given,
            each from the previous fixed point).
        ridge: λ ≥ 0 (λ = 0 needs ``n ≠ p``; the fixed point may then be slow).
        spectrum: the bulk spectrum (:func:`~overlapdyn.readout.spectrum.weight_spectrum`
            of a given W⁰); default the Marchenko–Pastur limit at ``width``.
        width: ``ψ = p/d`` when ``spectrum`` is not given.
        bulk: override the bulk variance c of the spiked features (e.g. to reproduce a
            published computation that used another c, :func:`notebook_bulk`); default
            the step's.
        bulk_shift: let the readout use the bulk fields' O(d^(−1/2)) shift along ``W⁰v̂``
            (the θ channel, ``F_k``); ``False`` sets F = 0, as the authors' stored
            notebook run effectively had it (their θ ≈ 10⁻⁸).
        nodes: Gauss–Hermite nodes of the κ-averages (and of the conditional coefficients).
        damping: the iteration's damping in [0, 1).
        tol: convergence: the largest change of an overlap in one iteration.
        max_iter: iterations allowed per α.

    Raises:
        ConfigError: α ≤ 0, λ < 0, bad damping/nodes, an empty α.
        FixedPointError: no convergence (with the residual; try a larger damping).
    """
    alphas = np.atleast_1d(np.asarray(alpha, dtype=float))
    if alphas.ndim != 1 or alphas.size == 0:
        raise ConfigError(f"alpha must be a number or a 1-d sequence, got {alpha!r}")
    if not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
        raise ConfigError(f"alpha = n/d must be > 0 (and finite), got {alphas.tolist()}")
    ridge = check_real(ridge, "ridge (λ)")
    nodes = check_integer(nodes, "nodes", 8)
    damping = check_real(damping, "damping")
    if damping >= 1:
        raise ConfigError(f"damping must be in [0, 1), got {damping}")
    max_iter = check_integer(max_iter, "max_iter", 1)
    features = spiked_features(step)
    if bulk is not None:
        features = SpikedFeatures(**{**vars(features), "c": check_real(bulk, "bulk (c)",
                                                                       positive=True)})
    spectrum = marchenko_pastur(width) if spectrum is None else spectrum
    if not isinstance(spectrum, Spectrum):
        raise ConfigError(f"spectrum must be a readout.Spectrum, got {type(spectrum).__name__}")
    start = time.perf_counter()
    layer = _layer(features, nodes)
    c, psi = features.c, spectrum.width
    # ⟨·⟩ averages over the p eigenvalues; the projections on the spike and the teacher
    # enter normalised per d, (1/d) Σ_k = ψ⟨·⟩ (module docstring)
    atoms = (c * spectrum.x, c * psi * spectrum.f * float(bool(bulk_shift)),
             c * psi * spectrum.h, spectrum.weights)
    state = _COLD.copy()
    rows = []
    for a in alphas:
        state, hats, iterations, _ = _iterate(layer, atoms, a / spectrum.width, ridge, state,
                                              damping, tol, max_iter)
        V, _, error = _errors(layer, state)
        rows.append((float(layer.weights @ error),
                     float(layer.weights @ (error / (1 + V) ** 2)), state.copy(), hats,
                     iterations))
    wall = time.perf_counter() - start
    test, train, overlaps, conjugates, iterations = zip(*rows, strict=True)
    return ReadoutRisk(step, alphas, ridge, features.r, c, features.gamma, np.array(test),
                       np.array(train), np.array(overlaps), np.array(conjugates),
                       np.array(iterations), spectrum, nodes, bool(bulk_shift), wall)
