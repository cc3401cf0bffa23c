r"""The spectrum of the learned features after one giant step: bulk and outlier.

The feature covariance of the first layer after the step (:mod:`overlapdyn.readout.step`),
on ``n`` fresh samples ``x ~ N(0, I_d)`` (SPEC's fields ``λ = Wx/√d`` with ``‖w‖² = d``; here
unit-norm rows, the same fields),

    K = σ(WX)σ(WX)ᵀ/n   (p × p),   X ∈ R^{d×n},   W ≈ √c W⁰ + r 1 v̂ᵀ.

**The outlier of the spike** (derived here; p/d = ψ fixed, d → ∞, in the spiked model). With
``κ = v̂·x`` and the bulk fields ``g_i = √c w⁰_i·Πx`` (Π ⊥ v̂, so g is independent of κ), each
feature is ``σ(rκ + g_i)``. Conditionally on κ, two features of field correlation
``ρ_ij = w⁰_iΠw⁰_j = O(d^(−1/2))`` have ``E[σ_iσ_j | κ] = Σ_k β_k(κ)² ρ_ij^k`` with the
conditional Hermite coefficients ``β_k(κ) = E_u[σ(rκ + √c u) He_k(u)]/√k!``. Averaging over
κ, the population covariance (n → ∞) is a bulk plus a rank-one term along ``1``:

    C ≈ A 1 1ᵀ + M,    A = E_κ[β₀(κ)²] + E_κ[β₂(κ)²]/d,

(the second term: ``Σ_{j≠i} ρ_ij² ≈ p/d`` makes the k = 2 term coherent along 1), where M
(the bulk, ``E_κ[β₁²] W⁰ΠW⁰ᵀ`` plus a diagonal) has mean eigenvalue ``E[σ²] − A``. As ``1/√p``
is generic for M's eigenvectors and ``pA ≫ ‖M‖``, perturbation theory in ``1/(pA)`` gives the
outlier of the sample covariance at

    ℓ = pA + (E[σ²] − A) + (p/n) E_κ[β₀² v]/A + c ψ E_κ[κ β₀ μ₁]²/A + O(p^(−1/2)),

``v(κ) = E_u[σ²] − β₀(κ)²`` (the sample-covariance correction, the leading order of the
Baik–Silverstein shift for a spike of size O(p)), and the last term the coupling of 1 to
``W⁰v̂`` through the rows' O(d^(−1/2)) overlaps with the spike (``μ₁(κ) = β₁(κ)/√c``). At
finite n the outlier fluctuates with the sample mean of ``β₀(κ_μ)²``: its standard deviation
is ``spread = p sd(β₀(κ)²)/√n`` (O(√p) at n ∝ d: it dominates the O(1) terms). For an odd σ
at η̃ = 0, ``β₀ = β₂ = 0``: no outlier; for a σ with ``E[σ] ≠ 0`` the random features already
carry the mean outlier ``pμ₀²`` (r = 0 in the same formula).

**The bulk** has a deterministic equivalent (:mod:`overlapdyn.readout.bulk`). Here
:func:`feature_spectrum` also returns the spectrum of the random features (η̃ = 0) on the
same W⁰ and samples, and the bulk edge of that baseline, ``K₀`` deflated of its mean
direction ``1/√p``, is the scale against which an eigenvalue counts as an outlier
(``edge_factor`` times it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from ..derive.hermite import gauss_hermite_rule
from ..errors import ConfigError
from ..model.checks import check_integer, check_memory, check_real, check_seeds
from ..storage.results import Result
from .simulator import LOSSES, first_layer_after_step
from .step import GiantStep, SpikedFeatures, spiked_features

__all__ = ["ConditionalCoefficients", "FeatureSpectrum", "OutlierPrediction",
           "conditional_coefficients", "feature_spectrum", "predict_outlier"]


@dataclass(frozen=True)
class OutlierPrediction:
    """The predicted outlier of the feature covariance (module docstring).

    Attributes:
        p, d: the width and the input dimension.
        n: the samples of the covariance (``None``: the population, n → ∞).
        strength: A, the rank-one strength along 1 (per entry).
        leading: ``pA``.
        bulk_mean: ``E[σ²] − A``, the mean eigenvalue of the bulk.
        finite_n: ``(p/n)E[β₀²v]/A`` (0 for the population).
        coupling: ``cψE[κβ₀μ₁]²/A``.
        spread: the standard deviation of the sample outlier, ``p sd(β₀²)/√n`` (0 for the
            population).
    """

    p: int
    d: int
    n: int | None
    strength: float
    leading: float
    bulk_mean: float
    finite_n: float
    coupling: float
    spread: float

    @property
    def location(self) -> float:
        """The predicted outlier ℓ, or nan when A = 0 (no outlier)."""
        if self.strength <= 0:
            return float("nan")
        return self.leading + self.bulk_mean + self.finite_n + self.coupling

    def to_dict(self) -> dict:
        return dict(vars(self))

    def describe(self) -> str:
        where = "population" if self.n is None else f"n = {self.n}"
        if self.strength <= 0:
            return f"predicted outlier (p = {self.p}, d = {self.d}, {where}): none (A = 0)"
        return (f"predicted outlier (p = {self.p}, d = {self.d}, {where}): ℓ = "
                f"{self.location:.4g} ± {self.spread:.3g} = pA {self.leading:.4g} + bulk mean "
                f"{self.bulk_mean:.4g} + finite n {self.finite_n:.3g} + coupling "
                f"{self.coupling:.3g} (A = {self.strength:.5g})")


@dataclass(frozen=True)
class ConditionalCoefficients:
    """σ's conditional Hermite coefficients at the spike field (module docstring), on a
    Gauss–Hermite rule of κ.

    Attributes:
        kappa, weights: the κ nodes and weights, shape (K,).
        beta0, beta1, beta2: ``β_k(κ) = E_u[σ(rκ + √c u) He_k(u)]/√k!``, k = 0, 1, 2, (K,).
        second: ``E_u[σ(rκ + √c u)²]``, (K,).
    """

    kappa: np.ndarray
    weights: np.ndarray
    beta0: np.ndarray
    beta1: np.ndarray
    beta2: np.ndarray
    second: np.ndarray


def conditional_coefficients(features: SpikedFeatures, nodes: int = 80
                             ) -> ConditionalCoefficients:
    """``β₀, β₁, β₂`` and ``E_u[σ²]`` at ``nodes`` Gauss–Hermite nodes of κ; the inner u-average
    uses 8× as many (σ's kinks: relu's A is 1 % off at 80 inner nodes, under 10⁻³ at 640)."""
    kappa, wk = gauss_hermite_rule(nodes)
    u, wu = gauss_hermite_rule(8 * nodes)
    root_c = np.sqrt(features.c)
    values = features.step.sigma(features.r * kappa[:, None] + root_c * u[None, :])  # (κ, u)
    return ConditionalCoefficients(
        np.asarray(kappa), np.asarray(wk), values @ wu, (values * u) @ wu,
        (values * (u ** 2 - 1)) @ wu / np.sqrt(2.0), (values ** 2) @ wu)


def predict_outlier(step: GiantStep, p: int, d: int, n: int | None = None,
                    nodes: int = 80) -> OutlierPrediction:
    """The outlier of ``σ(WX)σ(WX)ᵀ/n`` after the step (module docstring).

    Args:
        step: the step (η̃ = 0: random features).
        p, d: the width (≥ 2) and the input dimension (≥ 8).
        n: the samples (≥ 1; ``None``: the population covariance).
        nodes: Gauss–Hermite nodes of the κ average (8× as many for the u average).

    Raises:
        ConfigError: p < 2, d < 8, n < 1, nodes < 8; those of
            :func:`~overlapdyn.readout.step.spiked_features`.
    """
    p, d = check_integer(p, "p", 2), check_integer(d, "d", 8)
    n = None if n is None else check_integer(n, "n", 1)
    nodes = check_integer(nodes, "nodes", 8)
    features = spiked_features(step)
    layer = conditional_coefficients(features, nodes)
    kappa, wk, root_c = layer.kappa, layer.weights, np.sqrt(features.c)
    beta0, beta1, beta2, second = layer.beta0, layer.beta1, layer.beta2, layer.second
    strength = float(wk @ beta0 ** 2 + (wk @ beta2 ** 2) / d)
    bulk_mean = float(wk @ second) - strength
    if strength <= 1e-14:
        return OutlierPrediction(p, d, n, 0.0, 0.0, bulk_mean, 0.0, 0.0, 0.0)
    coupling = features.c * (p / d) * float(wk @ (kappa * beta0 * beta1 / root_c)) ** 2 \
        / strength
    finite_n = spread = 0.0
    if n is not None:
        finite_n = (p / n) * float(wk @ (beta0 ** 2 * (second - beta0 ** 2))) / strength
        spread = p * np.sqrt(max(float(wk @ beta0 ** 4) - float(wk @ beta0 ** 2) ** 2, 0.0)
                             / n)
    return OutlierPrediction(p, d, n, strength, p * strength, bulk_mean, finite_n, coupling,
                             float(spread))


@dataclass(frozen=True)
class FeatureSpectrum(Result):
    """Eigenvalues of the feature covariance after the step, at finite d (module docstring).

    Attributes:
        step: the :class:`~overlapdyn.readout.step.GiantStep`.
        d, p, n: the input dimension, the width and the samples of the covariance.
        seeds: the seeds (S).
        eigenvalues: of ``K = σ(WX)σ(WX)ᵀ/n`` after the step, ascending, (S, p).
        baseline: of the random features (η̃ = 0) on the same W⁰ and X, ascending, (S, p).
        bulk_edge: the largest eigenvalue of the baseline deflated of ``1/√p``, (S,).
        prediction: the :class:`OutlierPrediction` at (p, d, n).
        edge_factor: an eigenvalue above ``edge_factor · bulk_edge`` is an outlier.
        loss: the step's error (``"mse"`` or ``"correlation"``).
        wall_time_s: the wall time.
    """

    FORMAT = "overlapdyn.FeatureSpectrum"
    VERSION = 1

    step: GiantStep
    d: int
    p: int
    n: int
    seeds: tuple[int, ...]
    eigenvalues: np.ndarray
    baseline: np.ndarray
    bulk_edge: np.ndarray
    prediction: OutlierPrediction
    edge_factor: float = 1.5
    loss: str = "mse"
    wall_time_s: float = 0.0

    @property
    def outlier_counts(self) -> np.ndarray:
        """The outliers of each seed after the step, (S,) integers."""
        return np.sum(self.eigenvalues > self.edge_factor * self.bulk_edge[:, None], axis=1)

    @property
    def baseline_outlier_counts(self) -> np.ndarray:
        """The outliers of each seed's random features (η̃ = 0), (S,)."""
        return np.sum(self.baseline > self.edge_factor * self.bulk_edge[:, None], axis=1)

    @property
    def top(self) -> np.ndarray:
        """The largest eigenvalue of each seed after the step, (S,)."""
        return self.eigenvalues[:, -1]

    def describe(self) -> str:
        counts = self.outlier_counts
        lines = [self.step.describe(),
                 f"feature spectrum: d = {self.d}, p = {self.p}, n = {self.n}, "
                 f"{len(self.seeds)} seeds, step loss {self.loss}",
                 f"  outliers per seed: {counts.tolist()} (random features: "
                 f"{self.baseline_outlier_counts.tolist()}); bulk edge (η̃ = 0, deflated) "
                 f"{self.bulk_edge.mean():.4g}, threshold ×{self.edge_factor:g}",
                 f"  largest eigenvalue {self.top.mean():.4g} ± "
                 f"{self.top.std(ddof=1) if len(self.seeds) > 1 else 0.0:.3g} (seeds); "
                 f"next {self.eigenvalues[:, -2].mean():.4g}; random features' largest "
                 f"{self.baseline[:, -1].mean():.4g}",
                 "  " + self.prediction.describe(),
                 f"({self.wall_time_s:.1f} s)"]
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"step": self.step.to_dict(), "d": self.d, "p": self.p, "n": self.n,
                 "seeds": list(self.seeds), "prediction": self.prediction.to_dict(),
                 "edge_factor": self.edge_factor, "loss": self.loss,
                 "wall_time_s": self.wall_time_s},
                {"eigenvalues": self.eigenvalues, "baseline": self.baseline,
                 "bulk_edge": self.bulk_edge})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> FeatureSpectrum:
        return cls(GiantStep.from_dict(header["step"]), header["d"], header["p"], header["n"],
                   tuple(header["seeds"]), arrays["eigenvalues"], arrays["baseline"],
                   arrays["bulk_edge"], OutlierPrediction(**header["prediction"]),
                   header["edge_factor"], header["loss"], header["wall_time_s"])


def feature_spectrum(step: GiantStep, *, d: int, p: int | None = None, n: int | None = None,
                     seeds=1, edge_factor: float = 1.5, loss: str = "mse") -> FeatureSpectrum:
    """The eigenvalues of ``σ(WX)σ(WX)ᵀ/n`` after the step and of the random features on
    the same W⁰ and X, with the predicted outlier (module docstring). The step is that of
    :func:`~overlapdyn.readout.simulator.simulate_readout` (same W⁰ and step samples per
    seed).

    Args:
        step: the step.
        d: the input dimension (≥ 8).
        p: the width (default d; ≥ 2).
        n: fresh samples of the covariance (default 4d).
        seeds: a number of seeds or the seeds.
        edge_factor: outliers lie above ``edge_factor`` times the baseline's bulk edge (> 1).
        loss: the step's error: ``"mse"`` or ``"correlation"``.

    Raises:
        ConfigError: d < 8, p < 2, n < 1, edge_factor ≤ 1, a bad loss; ResourceError: too
            little memory.
    """
    d = check_integer(d, "d", 8)
    p = d if p is None else check_integer(p, "p", 2)
    n = 4 * d if n is None else check_integer(n, "n", 1)
    edge_factor = check_real(edge_factor, "edge_factor", positive=True)
    if edge_factor <= 1:
        raise ConfigError(f"edge_factor must be > 1 (an outlier lies above the bulk edge), "
                          f"got {edge_factor:g}")
    if loss not in LOSSES:
        raise ConfigError(f"loss must be one of {LOSSES}, got {loss!r}")
    seeds = check_seeds(seeds, "feature_spectrum")
    check_memory(8.0 * (n * (d + 2 * p) + 3 * p * d + 3 * p * p),
                 f"feature_spectrum at d = {d}, p = {p}, n = {n}", "lower d or n")
    prediction = predict_outlier(step, p, d, n)
    sigma = step.sigma
    start = time.perf_counter()
    spectra, baselines, edges = [], [], []
    random_features = replace(step, eta_tilde=0.0)
    for seed in seeds:
        # the same seed stream as simulate_readout: the same W⁰ (its first draw) and step
        W1 = first_layer_after_step(step, d, p, np.random.default_rng([seed, 15, d, p]), loss)
        W0 = first_layer_after_step(random_features, d, p,
                                    np.random.default_rng([seed, 15, d, p]), loss)
        x = np.random.default_rng([seed, 16, d, p, n]).standard_normal((n, d))
        spectra.append(np.linalg.eigvalsh(_covariance(sigma(x @ W1.T))))
        K0 = _covariance(sigma(x @ W0.T))
        baselines.append(np.linalg.eigvalsh(K0))
        # deflate the mean direction 1/√p: the bulk edge without the mean outlier of a σ
        # with E[σ] ≠ 0
        row = K0.mean(axis=0)
        deflated = K0 - row[:, None] - row[None, :] + row.mean()
        edges.append(float(np.linalg.eigvalsh(deflated)[-1]))
    return FeatureSpectrum(step, d, p, n, seeds, np.array(spectra), np.array(baselines),
                           np.array(edges), prediction, edge_factor, loss,
                           time.perf_counter() - start)


def _covariance(features: np.ndarray) -> np.ndarray:
    """``ΦᵀΦ/n`` of the (n, p) features, symmetrised against round-off."""
    K = features.T @ features / features.shape[0]
    return (K + K.T) / 2
