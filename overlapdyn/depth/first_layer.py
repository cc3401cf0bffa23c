r"""Stage 1 of the layer-wise protocol in a few scalar overlaps: theory and its validation.

**Setting** (:func:`overlapdyn.depth.training.stage1` with fresh batches). First-layer neuron
``w ∈ S^{d−1}`` with bias b and effective readout sign ``s = ±1``; each step draws B fresh
samples of a SIGHT target (one level, r = 1) and moves

    w ← normalise(w + η s (I − wwᵀ) ĝ),     ĝ = (1/B) Σ_μ y_μ σ'(w·x_μ + b) x_μ.

**Population gradient.** Stein's lemma on the Hermite expansion of y in x gives

    (I − wwᵀ) E[ĝ] = (I − wwᵀ) (2 μ₁ A w + μ₀ L),
    μ₀ = E[σ'(λ + b)],  μ₁ = E[σ''(λ + b)] = E[σ'(λ + b) λ],
    A = ½ E[y (xxᵀ − I)] = W*ᵀ diag(θ_i) W*,   θ_i = ½ E[y He₂(z_i)],   L = E[y x] = W*ᵀ l,

neglecting the He₃ part of y (it enters through the mean of σ''', zero for ReLU at b = 0)
and the off-diagonal ``E[y z_i z_j]`` (O(1/d₁)). With a*_i = ±1, θ_i and ``l_i = E[y z_i]``
take two values each (by the sign of a*_i), computed here by Monte Carlo at the actual d₁;
to leading order ``θ± = ±c₁(g*)·c₂(P)/√d₁``. The linear part l is a finite-d₁ effect (h* is
skewed, so g*'' does not average to zero), but at d₁ = 8 it is ten times the He₂ signal at
a random start and must be kept (the test of the gradient checks both terms).

**Reduced state.** Split span(W*) into its a* = +1 and −1 parts, with unit vectors
``e± ∝ Σ_{a*_i = ±1} w*_i`` (L = l₊√d₊ e₊ + l₋√d₋ e₋). A neuron is described by its
components ``α±`` along e±, the squared norms ``r±`` of the rest of its projection on each
part, and the squared norm o outside span(W*): ``M_W² = α₊² + α₋² + r₊ + r₋``. With
``q = wᵀAw = θ₊(α₊² + r₊) + θ₋(α₋² + r₋)``, the radial factor
``c = −ηs(2μ₁ q + μ₀ (L·w))`` and the gradient noise isotropic with variance ``v/B`` per
coordinate, ``v = E[y²] E[σ'(λ + b)²]`` (its value at zero overlap), one step maps

    α±' ∝ α± (1 + 2μ₁ηsθ± + c) + ηs μ₀ l± √d±
    r±' ∝ r± (1 + 2μ₁ηsθ± + c)² + η² v d±/B
    o'  ∝ o (1 + c)² + η² v (d − d₁)/B

(expected squared norms; the mean over the d± latent directions of each part taken
analytically), normalised to unit total, from ``α± = 0``, ``r± = d±/d``, ``o = 1 − d₁/d``
(a uniform start: its random component along e± is part of r±).

**Limit.** d → ∞ with ε fixed (d₁ = d^ε → ∞), batch ``B = α d^{1+ε}``, learning rate
``η = η̄ √d₁``, a fixed number of steps T: then ``2μ₁ηθ±`` and ``η² v d/B = η̄² v/α`` are
O(1) and each component concentrates (the noise in the d − d₁ outside directions is a sum of
≫ 1 terms; inside, of d±/2 → ∞ terms) on this deterministic map, whose d-dependent terms
(the start d±/d and the inside noise η² v d±/B = η̄² v d±/(α d)) are O(d^{ε−1}) corrections
kept at finite d; so is the linear push ``η μ₀ l √d±``, which vanishes in that limit when l
decays faster than 1/d₁ (for tanh(3·) ∘ P3, l_i ∝ E[g*''(h*)]/d₁ with E[g*''(h*)] → 0).
The leading fluctuations at finite d are O(d₁^{−1/2}) — so the gap to a
simulation shrinks like ``d^{−ε/2}``. The map is run per neuron (its own b and
s) and ``M_W = (mean_j M_W,j²)^{1/2}``, the RMS of the simulator.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.stats

from ..derive.hermite import gauss_hermite_rule
from ..errors import ConfigError
from ..fits import loglog_slope
from ..ode.state import random_rows
from ..progress import progress_bar
from ..storage.results import Result
from .targets import HierarchicalTarget, TargetInstance

__all__ = ["Stage1Constants", "Stage1Validation", "simulate_stage1", "stage1_constants",
           "stage1_theory", "validate_stage1"]


@dataclass(frozen=True)
class Stage1Constants:
    """Constants of the stage-1 map for one target draw.

    Attributes:
        theta_plus, theta_minus: ``½ E[y He₂(z_i)]`` over the i with a*_i = +1 / −1.
        l_plus, l_minus: ``E[y z_i]`` over the i with a*_i = +1 / −1 (the linear part).
        d_plus, d_minus: how many a*_i are +1 / −1.
        y2: ``E[y²]``.
        theta_limit: ``c₁(g*)·c₂(P)/√d₁``, the leading-order value of θ₊ = −θ₋.
    """

    theta_plus: float
    theta_minus: float
    l_plus: float
    l_minus: float
    d_plus: int
    d_minus: int
    y2: float
    theta_limit: float


def _derivative_moments(sigma: str, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``μ₁(b) = E[σ'(λ+b) λ]`` and ``E[σ'(λ+b)²]`` for λ ~ N(0, 1), per bias (shape of b)."""
    b = np.asarray(b, dtype=float)
    if sigma == "relu":  # σ' = 1{λ > −b}
        return scipy.stats.norm.pdf(b), scipy.stats.norm.cdf(b)
    if sigma == "tanh":
        nodes, weights = gauss_hermite_rule(96)
        u = nodes[None, :] + b[..., None]
        ds = 1 - np.tanh(u) ** 2
        return (ds * nodes) @ weights, (ds**2) @ weights
    raise ConfigError(f"stage-1 theory knows sigma1 = 'relu' or 'tanh', got {sigma!r}")


def stage1_constants(instance: TargetInstance, *, samples: int = 400_000,
                     seed: int = 12345) -> Stage1Constants:
    """θ±, E[y²] of a SIGHT draw by Monte Carlo over the latent fields z ~ N(0, I_{d₁}).

    Only the d₁ latent fields are sampled (not x), so this costs ``samples·d₁``.
    """
    target = instance.target
    if not target.is_sight:
        raise ConfigError("the stage-1 theory is written for SIGHT targets (one level, r = 1)")
    rng = np.random.default_rng(seed)
    a = instance.signs[0]
    sums = np.zeros(target.d_eff)
    linear = np.zeros(target.d_eff)
    y2 = 0.0
    chunk = max(1, 2_000_000 // target.d_eff)
    done = 0
    while done < samples:
        m = min(chunk, samples - done)
        z = rng.standard_normal((m, target.d_eff))
        y = instance.labels_from_top(instance.features_from_latent(z)[-1])
        sums += y @ (z**2 - 1)
        linear += y @ z
        y2 += float(y @ y)
        done += m
    theta = 0.5 * sums / samples
    lin = linear / samples
    plus, minus = a > 0, a < 0
    c = target.polynomial()
    c2 = c[2] if len(c) > 2 else 0.0
    nodes, weights = gauss_hermite_rule(96)
    g = target.outer_function()
    c1 = float((g(nodes) * nodes) @ weights)   # E[g*(h) h] = E[g*'(h)]
    return Stage1Constants(
        float(theta[plus].mean()) if plus.any() else 0.0,
        float(theta[minus].mean()) if minus.any() else 0.0,
        float(lin[plus].mean()) if plus.any() else 0.0,
        float(lin[minus].mean()) if minus.any() else 0.0,
        int(plus.sum()), int(minus.sum()), y2 / samples,
        c1 * c2 / math.sqrt(target.d_eff))


def stage1_theory(constants: Stage1Constants, d: int, batch: int, eta: float, steps: int,
                  b: np.ndarray, s: np.ndarray, sigma1: str = "relu") -> np.ndarray:
    """Iterate the stage-1 map (module docstring) for every neuron.

    Args:
        constants: from :func:`stage1_constants`.
        d: input dimension; batch: B; eta: η (already × √d₁); steps: T.
        b, s: biases and readout signs of the neurons, shape (p1,).

    Returns:
        ``M_W`` at t = 0..T, shape (T+1,): ``(mean_j (m₊ + m₋))^{1/2}``.
    """
    c = constants
    mu1, dsq = _derivative_moments(sigma1, b)
    mu0 = _first_moment(sigma1, b)
    noise = eta**2 * c.y2 * dsq / batch
    es = eta * np.asarray(s, dtype=float)
    dp, dm = c.d_plus, c.d_minus
    # the linear part L = Σ_i l_i w*_i has components l± √d± along e± = Σ_{a_i=±1} w*_i/√d±
    Lp, Lm = c.l_plus * math.sqrt(dp), c.l_minus * math.sqrt(dm)
    zeros = np.zeros(len(b))
    alpha_p, alpha_m = zeros.copy(), zeros.copy()
    r_p, r_m = np.full(len(b), dp / d), np.full(len(b), dm / d)
    o = np.full(len(b), (d - dp - dm) / d)
    out = [math.sqrt(float(np.mean(r_p + r_m)))]
    for _ in range(steps):
        q = c.theta_plus * (alpha_p**2 + r_p) + c.theta_minus * (alpha_m**2 + r_m)
        radial = -es * (2 * mu1 * q + mu0 * (Lp * alpha_p + Lm * alpha_m))
        f_p = 1 + 2 * mu1 * es * c.theta_plus + radial
        f_m = 1 + 2 * mu1 * es * c.theta_minus + radial
        alpha_p = alpha_p * f_p + es * mu0 * Lp
        alpha_m = alpha_m * f_m + es * mu0 * Lm
        r_p = r_p * f_p**2 + noise * dp
        r_m = r_m * f_m**2 + noise * dm
        o = o * (1 + radial) ** 2 + noise * (d - dp - dm)
        total = alpha_p**2 + alpha_m**2 + r_p + r_m + o
        alpha_p, alpha_m = alpha_p / np.sqrt(total), alpha_m / np.sqrt(total)
        r_p, r_m, o = r_p / total, r_m / total, o / total
        out.append(math.sqrt(float(np.mean(alpha_p**2 + alpha_m**2 + r_p + r_m))))
    return np.array(out)


def _first_moment(sigma: str, b: np.ndarray) -> np.ndarray:
    """``μ₀(b) = E[σ'(λ + b)]`` for λ ~ N(0, 1)."""
    b = np.asarray(b, dtype=float)
    if sigma == "relu":
        return scipy.stats.norm.cdf(b)
    nodes, weights = gauss_hermite_rule(96)
    return (1 - np.tanh(nodes[None, :] + b[..., None]) ** 2) @ weights


def simulate_stage1(instance: TargetInstance, batch: int, eta: float, steps: int,
                    b: np.ndarray, s: np.ndarray, rng: np.random.Generator,
                    sigma1: str = "relu") -> np.ndarray:
    """Run stage 1 with fresh batches (:func:`overlapdyn.depth.training.stage1`); ``M_W`` per step.

    Returns:
        ``M_W`` at t = 0..T, shape (T+1,).
    """
    from .training import stage1

    d = instance.target.d
    W0 = random_rows(rng, len(b), d, radius=1.0)
    chunk = max(1, 2**22 // d)           # ≈ 32 MiB of inputs at a time

    def step():
        sizes = [chunk] * (batch // chunk) + ([batch % chunk] if batch % chunk else [])
        return [instance.sample(size, rng) for size in sizes]
    batches = (step() for _ in range(steps))
    _, m = stage1(W0, b, s, batches, eta, sigma1, W_star=instance.W)
    return np.sqrt(m.mean(axis=1))


@dataclass(frozen=True)
class Stage1Validation(Result):
    """Theory vs simulation of the stage-1 M_W curve at several d.

    Attributes:
        ds: dimensions (D,); steps: T; seeds: S.
        simulated: ``M_W`` per d, seed and step, shape (D, S, T+1).
        theory: the map's ``M_W`` per d and seed (same neurons, same target draw), (D, S, T+1).
        wall_s: seconds per d (D,).
        d_eff: ``d₁ = round(d^ε)`` per d (D,).
        batch: the batch size ``B = α d^{1+ε}`` per d (D,).
        settings: the arguments of :func:`validate_stage1` (ε, P, g*, α, η̄, steps, p1 …).
    """

    FORMAT = "overlapdyn.Stage1Validation"
    VERSION = 1

    ds: np.ndarray
    simulated: np.ndarray
    theory: np.ndarray
    wall_s: np.ndarray
    d_eff: np.ndarray
    batch: np.ndarray
    settings: dict

    @property
    def gap(self) -> np.ndarray:
        """Per-seed sup-norm gap ``max_t |M_W^sim − M_W^theory|``, averaged over seeds (D,).

        Each seed is compared with the map for its own target draw and neurons."""
        return np.abs(self.simulated - self.theory).max(axis=2).mean(axis=1)

    @property
    def exponent(self) -> float:
        """Slope of log gap against log d (theory about −ε/2, see the module docstring)."""
        return loglog_slope(self.ds, self.gap)

    def describe(self) -> str:
        """A Markdown table: per d, the final M_W of both, the sup gap, the time."""
        lines = ["| d | d^ε | B | M_W sim (final) | M_W theory (final) | sup gap | time |",
                 "|---|---|---|---|---|---|---|"]
        for i, d in enumerate(self.ds):
            lines.append(f"| {d} | {self.d_eff[i]} | {self.batch[i]} | "
                         f"{self.simulated[i, :, -1].mean():.3f} | "
                         f"{self.theory[i, :, -1].mean():.3f} | {self.gap[i]:.3f} | "
                         f"{self.wall_s[i]:.1f} s |")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {name: getattr(self, name)
                  for name in ("ds", "simulated", "theory", "wall_s", "d_eff", "batch")}
        return {"settings": self.settings}, arrays

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> Stage1Validation:
        return cls(arrays["ds"], arrays["simulated"], arrays["theory"], arrays["wall_s"],
                   arrays["d_eff"], arrays["batch"], header["settings"])


def validate_stage1(ds=(64, 256, 1024), *, eps: float = 0.5, inner: str = "P3",
                    normalize: bool = True, outer: str = "tanh(3*x)", alpha: float = 4.0,
                    eta_bar: float = 2.0, steps: int = 6, p1: int = 128, seeds: int = 3,
                    bias: float = 1.0, sigma1: str = "relu", seed: int = 0,
                    mc_samples: int = 400_000, progress: bool = False) -> Stage1Validation:
    """Simulate stage 1 (fresh batches ``B = α d^{1+ε}``, ``η = η̄ √d₁``) at several d and
    compare ``M_W`` with :func:`stage1_theory` for the same target draw and neurons.

    ``mc_samples``: Monte Carlo samples of the latent fields for θ±, l±, E[y²].
    """
    ds = np.array(sorted(ds))
    if len(ds) < 1 or ds[0] < 4:
        raise ConfigError(f"ds must be dimensions ≥ 4, got {ds}")
    sims = np.empty((len(ds), seeds, steps + 1))
    theo = np.empty_like(sims)
    walls = np.empty(len(ds))
    d_eff = np.empty(len(ds), dtype=int)
    batches = np.empty(len(ds), dtype=int)
    settings = {"eps": eps, "inner": inner, "normalize": normalize, "outer": outer,
                "alpha": alpha, "eta_bar": eta_bar, "steps": steps, "p1": p1, "bias": bias,
                "sigma1": sigma1, "seeds": seeds, "seed": seed, "mc_samples": mc_samples}
    bar = progress_bar(progress, total=len(ds) * seeds, desc="stage-1 validation")
    for i, d in enumerate(ds):
        started = time.perf_counter()
        target = HierarchicalTarget(d=int(d), levels=(eps,), inner=inner, normalize=normalize,
                                    outer=outer)
        batch = int(round(alpha * d * target.d_eff))
        eta = eta_bar * math.sqrt(target.d_eff)
        d_eff[i], batches[i] = target.d_eff, batch
        for k in range(seeds):
            rng = np.random.default_rng([seed, int(d), k])
            instance = target.draw(rng)
            b = rng.uniform(-bias, bias, p1)
            s = rng.choice([-1.0, 1.0], p1)
            constants = stage1_constants(instance, samples=mc_samples,
                                         seed=int(rng.integers(2**31)))
            theo[i, k] = stage1_theory(constants, int(d), batch, eta, steps, b, s, sigma1)
            sims[i, k] = simulate_stage1(instance, batch, eta, steps, b, s, rng, sigma1)
            bar.update()
        walls[i] = time.perf_counter() - started
    bar.close()
    return Stage1Validation(ds, sims, theo, walls, d_eff, batches, settings)
