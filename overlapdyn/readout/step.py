r"""One giant gradient step of the first layer, and the spiked random features it leaves.

**The step** (SPEC's large-batch state evolution, one step of size O(1), batch ``n₀ = α₀d``
fresh samples). A wide network ``ŷ = c_p Σ_j a_j σ(λ_j)``, ``λ_j = w_j·x/√d``, rows of W⁰
i.i.d. with ``‖w_j‖² = d``, moves each row by

    w_j ← w_j + η̃ √d (1/n₀) Σ_μ e_μ σ'(λ_jμ) x_μ,        η̃ = η c_p a_j,

with ``e = y`` (the correlation loss, or the square loss of a network whose output at
initialisation vanishes as p → ∞: ``c_p = 1/p`` and ``E[σ] = 0``, or ``c_p = 1/√p`` readouts
of random sign). η̃ is the per-neuron step: SPEC's η times the neuron's readout weight
``c_p a_j``; the paper's network ``f = (1/√p) aᵀσ(Wx)`` with unit-norm rows, ``a_j = 1/√p``
and the step ``W ← W + η̃ p ∇_W L̂`` has exactly this update (the map is in the guide).

**The spiked random features** (Ba et al. 2022; Cui et al. 2024, arXiv:2402.04980). With the
Hermite layer ``μ₁ = E[zσ(z)] = E[σ'(z)]``, ``š = E[(σ'(z) − μ₁)²]``, ``μ₁* = E[z g(z)]``,
``μ₂* = E[y²] = E[g(z)²] + Δ``, the gradient splits into a rank-one part
``η̃ μ₁ 1 (Xᵀy/n₀)ᵀ`` — whose direction has cosine ``γ`` with the teacher — and a bulk of
i.i.d.-like rows of squared norm ``η̃² μ₂* š/α₀`` (per unit d). In units of unit-norm rows,

    W¹ ≈ √c W⁰ + r 1 v̂ᵀ,   r = η̃ μ₁ √(μ₁*² + μ₂*/α₀),   c = 1 + η̃² μ₂* š/α₀,
    γ = μ₁* / √(μ₁*² + μ₂*/α₀),

v̂ the unit spike. Each neuron's cosine with the teacher is then ``cos² = (rγ)²/(c + r²)``,
which is SPEC's state evolution after one step from ``M⁰ = 0, Q⁰ = 1``:
``M¹ = η̃ μ₁ μ₁*``, ``Q¹ = 1 + η̃²(μ₁²μ₁*² + μ₂*(š + μ₁²)/α₀)`` — ``M¹ = rγ`` and
``Q¹ = c + r²`` term by term (:meth:`GiantStep.state_evolution_model` builds the SPEC model
whose :func:`~overlapdyn.ode.evolve` step gives them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ..derive.hermite import hermite_expansion
from ..errors import ConfigError, OverlapdynError
from ..model.activations import Activation, X
from ..model.activations import activation as resolve_activation
from ..model.checks import check_real
from ..model.spec import Model, Protocol, Student, Target, section_dict, target_from_dict

__all__ = ["GiantStep", "SpikedFeatures", "spiked_features"]

# a Hermite coefficient this small counts as zero (quadrature round-off of odd functions)
_ZERO = 1e-9


@dataclass(frozen=True)
class GiantStep:
    """One giant step of the first layer on ``n₀ = α₀d`` samples (module docstring).

    Attributes:
        target: a single-index teacher (:class:`~overlapdyn.model.Target` with k = 1,
            ``y = g(z) + √Δ ξ``, ``E[g] = 0``).
        activation: the student's σ (a name or a formula in x).
        eta_tilde: the per-neuron step η̃ = η c_p a_j ≥ 0 (the paper's η̃); 0 is the
            network at initialisation, the random-features baseline.
        alpha0: the batch of the step, ``α₀ = n₀/d > 0``.
    """

    target: Target
    activation: str
    eta_tilde: float
    alpha0: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.target, Target):
            raise ConfigError(f"GiantStep needs a model.Target, got {type(self.target).__name__}")
        if self.target.k != 1:
            raise ConfigError(f"one giant step learns one direction: the spiked random "
                              f"features need a single-index target (k = 1), got k = "
                              f"{self.target.k}")
        resolve_activation(self.activation)
        object.__setattr__(self, "eta_tilde", check_real(self.eta_tilde, "eta_tilde (η̃)"))
        object.__setattr__(self, "alpha0", check_real(self.alpha0, "alpha0 (n₀/d)",
                                                      positive=True))

    @property
    def sigma(self) -> Activation:
        """The student's σ."""
        return resolve_activation(self.activation)

    @property
    def link(self) -> Activation:
        """The teacher's link g (noise excluded), as an activation of x."""
        expr = self.target.function().subs(sympy.Symbol("z1"), X)
        return resolve_activation(expr)

    def state_evolution_model(self) -> Model:
        """The SPEC model whose one :func:`~overlapdyn.ode.evolve` step at ``alpha =
        α₀`` from ``M = 0, Q = 1`` is one neuron's step: p = 1, ``c_p = a = 1``, ``η = η̃``,
        correlation loss (``e = y``)."""
        if self.eta_tilde == 0:
            raise ConfigError("eta_tilde = 0 makes no step: the state evolution needs η > 0")
        return Model(self.target, Student(p=1, activation=self.activation, c_p=1.0),
                     Protocol(eta=self.eta_tilde, loss="correlation"))

    def to_dict(self) -> dict:
        """A JSON-able dict; inverse: :meth:`from_dict`."""
        return {"target": section_dict(self.target), "activation": self.activation,
                "eta_tilde": self.eta_tilde, "alpha0": self.alpha0}

    @classmethod
    def from_dict(cls, config: dict) -> GiantStep:
        """Rebuild the spec from :meth:`to_dict`'s dict (after a JSON round trip)."""
        try:
            return cls(target_from_dict(config["target"]), config["activation"],
                       config["eta_tilde"], config["alpha0"])
        except (KeyError, TypeError) as error:
            raise ConfigError(f"a GiantStep dict needs target, activation, eta_tilde and "
                              f"alpha0: {error}") from error

    def describe(self) -> str:
        return (f"one giant step: target {self.target.written} (Δ = {self.target.noise:g}), "
                f"σ = {self.activation}, η̃ = {self.eta_tilde:g}, α₀ = {self.alpha0:g}")


@dataclass(frozen=True)
class SpikedFeatures:
    """The spiked random features after the step (module docstring).

    Attributes:
        step: the :class:`GiantStep`.
        mu0: ``E[σ(z)]``.
        mu1: ``μ₁ = E[zσ(z)]``.
        mu2: ``E[σ(z)²]``.
        s_check: ``š = E[(σ'(z) − μ₁)²]``.
        mu1_star: ``μ₁* = E[z g(z)]``.
        mu2_star: ``μ₂* = E[g(z)²] + Δ``.
        r: the spike strength.
        c: the bulk variance (the rows of W⁰ scaled by √c).
        gamma: the cosine γ of the spike with the teacher (0 without a step).
    """

    step: GiantStep
    mu0: float
    mu1: float
    mu2: float
    s_check: float
    mu1_star: float
    mu2_star: float
    r: float
    c: float
    gamma: float

    @property
    def cos2(self) -> float:
        """One neuron's squared cosine with the teacher, ``(rγ)²/(c + r²)`` = ``M¹²/Q¹``."""
        return (self.r * self.gamma) ** 2 / (self.c + self.r ** 2)

    @property
    def M(self) -> float:
        """SPEC's ``M¹ = rγ`` of one neuron."""
        return self.r * self.gamma

    @property
    def Q(self) -> float:
        """SPEC's ``Q¹ = c + r²`` of one neuron."""
        return self.c + self.r ** 2

    def describe(self) -> str:
        return (f"{self.step.describe()}\n"
                f"  Hermite layer: μ₀ = {self.mu0:.6g}, μ₁ = {self.mu1:.6g}, E[σ²] = "
                f"{self.mu2:.6g}, š = {self.s_check:.6g}, μ₁* = {self.mu1_star:.6g}, μ₂* = "
                f"{self.mu2_star:.6g}\n"
                f"  spike r = {self.r:.6g}, bulk c = {self.c:.6g} (√c = {np.sqrt(self.c):.6g}),"
                f" γ = {self.gamma:.6g}; per-neuron cos² = {self.cos2:.6g}")


def _moments(act: Activation, what: str) -> tuple[float, float, float]:
    """``(E[f], E[z f], E[f²])`` of an activation under z ~ N(0, 1)."""
    try:
        expansion = hermite_expansion(act, 1)
    except OverlapdynError as error:
        raise OverlapdynError(f"the Hermite coefficients of {what} {act.name}: {error}") from error
    c0, c1 = expansion.coefficients[:2]
    return float(c0), float(c1), float(expansion.norm2)


def spiked_features(step: GiantStep) -> SpikedFeatures:
    """The spike strength r, bulk variance c and cosine γ after the step (module docstring).

    Raises:
        ConfigError: a target with ``E[g] ≠ 0`` (subtract its mean: the step's
            ``E[y σ''(λ)]`` term would rescale the rows, not spike them), or a step on a
            σ with ``μ₁ = 0`` (no rank-one part: no spike).
        OverlapdynError: σ has no symbolic form (its derivative is needed for š).
    """
    sigma, link = step.sigma, step.link
    mu0, mu1, mu2 = _moments(sigma, "σ")
    g0, mu1_star, g2 = _moments(link, "the target link")
    mu1 = 0.0 if abs(mu1) < _ZERO else mu1
    mu1_star = 0.0 if abs(mu1_star) < _ZERO else mu1_star
    if abs(g0) > _ZERO:
        raise ConfigError(f"the target has mean E[g] = {g0:.4g}: the spiked-features map "
                          "assumes E[g] = 0 (subtract the mean from the target)")
    mu2_star = g2 + step.target.noise
    if step.eta_tilde == 0:
        return SpikedFeatures(step, mu0, mu1, mu2, np.nan, mu1_star, mu2_star, 0.0, 1.0, 0.0)
    if mu1 == 0:
        raise ConfigError(f"σ = {step.activation} has μ₁ = E[zσ(z)] = 0: one step has no "
                          "rank-one part, hence no spike (use a σ with a linear Hermite "
                          "component, or eta_tilde = 0 for random features)")
    if sigma.expr is None:
        raise OverlapdynError(f"σ = {sigma.name} has no symbolic form: š = E[(σ' − μ₁)²] "
                              "needs its derivative; give σ as a name or a formula in x")
    derivative = resolve_activation(sympy.diff(sigma.expr, X))
    _, _, dsigma2 = _moments(derivative, "σ'")
    s_check = max(dsigma2 - mu1 ** 2, 0.0)       # E[σ'] = μ₁ (Stein)
    eta, alpha0 = step.eta_tilde, step.alpha0
    spike_norm = np.sqrt(mu1_star ** 2 + mu2_star / alpha0)   # ‖Xᵀy/n₀‖/√d
    r = eta * mu1 * spike_norm
    c = 1.0 + eta ** 2 * mu2_star * s_check / alpha0
    gamma = mu1_star / spike_norm if spike_norm > 0 else 0.0
    return SpikedFeatures(step, mu0, mu1, mu2, s_check, mu1_star, mu2_star, r, c, gamma)
