r"""The finite-d weak-recovery threshold of W* for a SIGHT target (what d = 64 can show).

The thresholds of :func:`overlapdyn.depth.targets.thresholds` are exponents: W* is learned at
``n = d^(1+ε)`` *up to constants*. At the sizes a laptop reaches the constant decides where
the transition sits, so this module computes it.

**Optimal spectral threshold.** For a multi-index model with latent fields ``z = W* x``,
weak recovery of span(W*) from ``n = α d`` samples is possible by a spectral method (and,
for single-index models, by any method) iff ``α > α_c`` with

    1/α_c = largest eigenvalue of  E_y[G(y)²],     G(y) = E[z zᵀ − I | y]

(Mondelli & Montanari 2018 for one index; Defilippis, Dandi, Mergny, Krzakala & Loureiro
2025, arXiv:2502.02545, for several). It is the BBP point of the optimally preprocessed
matrix ``(1/n) Σ_μ T(y_μ)(x_μ x_μᵀ − I)``; the first layer of the layer-wise protocol (a few
gradient steps on the correlation loss, i.e. a power iteration on that matrix with
``T(y) = y``) cannot do better.

**SIGHT at leading order in 1/√d₁.** With ``h* = Σ_i a*_i P(z_i)/√d₁``, ``P = Σ_n c_n He_n``,
``E[P] = 0``, ``σ_P² = Var P`` and ``ĥ = h*/σ_P``, Bayes' formula expanded in the small
share ``a*_i P(z_i)/√d₁`` of a single field gives

    E[He₂(z_i) | h*] = a*_i (2 c₂/σ_P) ĥ/√d₁ + O(1/d₁),

so ``G(y) = s(y) diag(a*)`` with ``s(y) = 2c₂ E[ĥ|y]/(σ_P √d₁)`` and (the O(1/d₁) terms
enter E[s²] only at relative order 1/d₁, as E[ĥ(ĥ² − 1)] = 0 for Gaussian ĥ)

    1/α_c = λ/d₁,     λ = (4 c₂²/σ_P²) · E_y[E[ĥ | y]²],

where ĥ ~ N(0, 1) (the CLT over the d₁ fields) and ``y = g*(σ_P ĥ) + √Δ ξ``. Hence

    n* = d · d₁ / λ,     κ* = log n*/log d = 1 + ε + log(1/λ)/log d.

``E[E[ĥ|y]²] ∈ [0, 1]`` is 1 for an invertible noiseless g* (y reveals ĥ); label noise or a
non-invertible g* lower it; it is 0 for an even g* (then the leading-order signal vanishes,
the information exponent of g* is not 1, and ``κ* = ∞`` here).

Examples at d = 64, ε = ½, g* = tanh(3·): normalised ``P3 = (He₂+He₃)/√8`` has
``4c₂²/σ_P² = ½`` → ``n* = 1024``, ``κ* = 1.67``; the authors' code variant ``He₂/2! +
He₃/3!`` has ``4c₂²/σ_P² = 3/2`` → ``n* = 341``, ``κ* = 1.40``. The asymptotic ``1 + ε = 1.5``
lies between them: at d = 64 the normalised P3 cannot show its transition at κ = 1.5.

**Limits.** One level and r = 1 (SIGHT); E[P] = 0. The threshold is for *weak* recovery
(an overlap with span(W*) above its random value): the overlap then grows continuously, so
a measured half-rise sits above κ*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..limits.conditional import conditional_gram
from ..limits.features import hermite_features
from ..limits.links import Link
from ..storage.results import Result
from .targets import HierarchicalTarget

__all__ = ["WeakRecovery", "posterior_mean_power", "unsupported", "weak_recovery"]


@dataclass(frozen=True)
class WeakRecovery(Result):
    """The finite-d weak-recovery threshold of W* (see the module docstring).

    Attributes:
        d, d_eff: input dimension and d₁ = round(d^ε).
        eps: ε.
        he2_weight: ``4c₂²/σ_P²`` — the He₂ share of P's variance times 2.
        posterior_power: ``E_y[E[ĥ|y]²]`` in [0, 1].
        signal: ``λ = he2_weight · posterior_power``; ``1/α_c = λ/d₁``.
        n: ``n* = d d₁/λ`` (inf when λ = 0).
        kappa: ``κ* = log n*/log d``.
    """

    FORMAT = "overlapdyn.WeakRecovery"
    VERSION = 1

    d: int
    d_eff: int
    eps: float
    he2_weight: float
    posterior_power: float
    signal: float
    n: float
    kappa: float

    @property
    def asymptotic(self) -> float:
        """The exponent ``1 + ε`` that κ* approaches as d → ∞ (as ``log(1/λ)/log d``)."""
        return 1.0 + self.eps

    def describe(self) -> str:
        if not math.isfinite(self.kappa):
            return ("W* weak recovery: no leading-order He₂ signal (λ = 0) — g* has "
                    "information exponent > 1 or P no He₂ part; κ* = ∞ at this order")
        return (f"W* weak recovery at d = {self.d} (d₁ = {self.d_eff}): n* = d·d₁/λ ≈ "
                f"{self.n:.0f}, κ* ≈ {self.kappa:.2f} (asymptotic 1 + ε = {self.asymptotic:.2f});"
                f" λ = 4c₂²/σ_P² · E[E[ĥ|y]²] = {self.he2_weight:.3f} · "
                f"{self.posterior_power:.3f}")

    def to_dict(self) -> dict:
        return {"d": self.d, "d_eff": self.d_eff, "eps": self.eps,
                "he2_weight": self.he2_weight, "posterior_power": self.posterior_power,
                "signal": self.signal, "n": self.n, "kappa": self.kappa}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return self.to_dict(), {}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> WeakRecovery:
        return cls(**{name: header[name] for name in (
            "d", "d_eff", "eps", "he2_weight", "posterior_power", "signal", "n", "kappa")})


def weak_recovery(target: HierarchicalTarget) -> WeakRecovery:
    """The optimal-spectral weak-recovery threshold of W* for a SIGHT ``target`` at its d.

    Raises:
        ConfigError: a MIGHT (r > 1) or deep target, or E[P] ≠ 0 (the formula is derived for
            one level, one top index and a centred P).
    """
    reason = unsupported(target)
    if reason:
        raise ConfigError(f"weak_recovery: {reason}")
    c = target.polynomial()
    variance = sum(math.factorial(n) * c[n] ** 2 for n in range(1, len(c)))
    c2 = c[2] if len(c) > 2 else 0.0
    weight = 4.0 * c2 ** 2 / variance
    power = posterior_mean_power(target.outer_function(), math.sqrt(variance), target.noise)
    signal = weight * power
    d, d1 = target.d, target.d_eff
    n = d * d1 / signal if signal > 1e-9 else math.inf   # below: quadrature noise of an even g*
    kappa = math.log(n) / math.log(d) if math.isfinite(n) else math.inf
    return WeakRecovery(d, d1, target.levels[0], weight, power, signal, n, kappa)


def unsupported(target: HierarchicalTarget) -> str | None:
    """Why :func:`weak_recovery` does not apply to ``target`` (None when it does)."""
    if not target.is_sight:
        return ("derived for SIGHT targets (one level, r = 1); got "
                f"levels = {target.levels}, r = {target.r}")
    mean = target.polynomial()[0]
    if abs(mean) > 1e-12:
        return f"needs E[P] = 0, but P = {target.inner} has mean {mean:.4g}; set normalize = true"
    return None


def posterior_mean_power(g, scale: float, noise: float, *, tol: float = 1e-4) -> float:
    """``E_y[E[u|y]²]`` for ``u ~ N(0, 1)`` and ``y = g(scale·u) + √noise ξ``, ξ ~ N(0, 1).

    This is ``λ_1²`` of the link ``u ↦ g(scale·u)``, computed by the limits stage's one
    implementation (:func:`overlapdyn.limits.conditional.conditional_gram`): noiseless, by
    exact branch sums over the preimages of y (flat parts of g are atoms of y); noisy, by
    Bayes' formula on a grid fine enough for √noise.

    Args:
        g: vectorised g* (array → array).
        scale: σ_P, the standard deviation of h*.
        noise: label-noise variance Δ ≥ 0.
        tol: the accuracy asked (a QuadratureError if it cannot be reached).
    """
    if noise < 0:
        raise ConfigError(f"label-noise variance must be ≥ 0, got {noise}")
    link = Link(1, None, float(noise), getattr(g, "__name__", "g*"),
                lambda u: np.asarray(g(scale * u), dtype=float))
    return float(conditional_gram(link, hermite_features(1, 1), tol=tol).gram[0, 0])
