"""The finite-d weak-recovery threshold of W* (overlapdyn.depth.recovery)."""

import math

import numpy as np
import pytest

from overlapdyn.depth.recovery import posterior_mean_power, weak_recovery
from overlapdyn.depth.targets import HierarchicalTarget
from overlapdyn.errors import ConfigError


def test_thresholds_of_the_two_p3_conventions_at_d_64():
    # normalised (He2 + He3)/√8: 4c₂²/σ² = 4·(1/8) = ½ → n* = 64·8·2
    normalised = weak_recovery(HierarchicalTarget(d=64, inner="P3"))
    assert normalised.he2_weight == pytest.approx(0.5, rel=1e-12)
    assert normalised.posterior_power == pytest.approx(1.0, abs=2e-4)   # tanh is invertible
    assert normalised.n == pytest.approx(1024, rel=2e-4)
    assert normalised.kappa == pytest.approx(5 / 3, abs=1e-4)
    # the code's He2/2 + He3/6: c₂ = ½, σ² = 2/3 → 4c₂²/σ² = 3/2
    code = weak_recovery(HierarchicalTarget(d=64, inner="P3-code", normalize=False))
    assert code.he2_weight == pytest.approx(1.5, rel=1e-12)
    assert code.n == pytest.approx(512 / 1.5, rel=2e-4)
    assert code.kappa < 1.5 < normalised.kappa
    # κ* → 1 + ε as log(1/λ)/log d
    big = weak_recovery(HierarchicalTarget(d=2 ** 20, inner="P3"))
    assert big.kappa - 1.5 == pytest.approx(math.log(2) / math.log(2 ** 20), rel=1e-3)
    assert "κ* ≈ 1.67" in normalised.describe()


def test_posterior_power_against_closed_forms():
    # linear link with noise: ĥ, y jointly Gaussian, E[ĥ|y]² averages to σ²/(σ² + Δ)
    for scale, noise in ((1.0, 0.5), (0.7, 0.2)):
        assert posterior_mean_power(lambda h: h, scale, noise) == pytest.approx(
            scale ** 2 / (scale ** 2 + noise), rel=1e-6)
    # ReLU link: y reveals u > 0 and only the event u < 0 otherwise: ½ + ½ (E[u|u<0])²·2
    assert posterior_mean_power(lambda h: np.maximum(h, 0), 1.0, 0.0) == pytest.approx(
        0.5 + 1 / math.pi, abs=1e-4)
    assert posterior_mean_power(lambda h: h ** 2, 1.0, 0.0) == pytest.approx(0.0, abs=1e-10)  # even
    assert posterior_mean_power(np.tanh, 2.0, 0.0) == pytest.approx(1.0, abs=2e-4)


def test_noiseless_binning_and_noisy_bayes_agree_on_a_non_invertible_link():
    g = lambda h: h + h ** 2   # noqa: E731  two preimages for every y > −1/4
    binned = posterior_mean_power(g, 1.0, 0.0)
    # Δ = 1e-2 (grid of √Δ: 3 s; 1e-3 took 25 s): noise only hides, and the gap shrinks like
    # Δ (measured 1.5e-3, 4.9e-4, 1.7e-4 at Δ = 1e-2, 3e-3, 1e-3)
    noise = 1e-2
    bayes = posterior_mean_power(g, 1.0, noise)
    assert 0.2 < binned < 0.6
    assert 0.0 < binned - bayes < 0.2 * noise
    assert posterior_mean_power(g, 1.0, 0.3) < bayes                   # noise only hides


def _monte_carlo_signal(target, n=200_000, bins=200, seed=0):
    """d₁ E_y[(E[He₂(z_i)|y])²] by binning y, from samples of the actual finite-d₁ target."""
    rng = np.random.default_rng(seed)
    instance = target.draw(rng)
    z = rng.standard_normal((n, target.d_eff))
    y = target.outer_function()(instance.features_from_latent(z)[-1][:, 0])
    # a*_i He₂(z_i) has the same conditional mean for every i: average them (less noise)
    v = ((z ** 2 - 1) * instance.signs[0]).mean(axis=1)[np.argsort(y)]
    ids = np.arange(n) * bins // n
    count = np.bincount(ids)
    mean = np.bincount(ids, v) / count
    var = np.bincount(ids, v ** 2) / count - mean ** 2
    return float(np.sum(count / n * (mean ** 2 - var / count))) * target.d_eff  # bias removed


@pytest.mark.parametrize("inner,normalize", [("P3", True), ("P3-code", False)])
def test_leading_order_signal_matches_monte_carlo_at_finite_d_eff(inner, normalize):
    target = HierarchicalTarget(d=256, inner=inner, normalize=normalize)   # d₁ = 16
    assert _monte_carlo_signal(target) == pytest.approx(weak_recovery(target).signal, rel=0.08)


def test_label_noise_raises_the_threshold():
    kappas = [weak_recovery(HierarchicalTarget(d=64, noise=v)).kappa for v in (0.0, 0.1, 0.5)]
    assert kappas[0] < kappas[1] < kappas[2]


def test_unsupported_targets_are_refused_with_the_reason():
    with pytest.raises(ConfigError, match="SIGHT"):
        weak_recovery(HierarchicalTarget(d=256, r=2))
    with pytest.raises(ConfigError, match="SIGHT"):
        weak_recovery(HierarchicalTarget(d=4096, levels=(0.5, 0.25)))
    with pytest.raises(ConfigError, match="E\\[P\\] = 0"):
        weak_recovery(HierarchicalTarget(d=64, inner="x**2", normalize=False))
    even = weak_recovery(HierarchicalTarget(d=64, outer="x**2"))
    assert even.kappa == math.inf and "no leading-order" in even.describe()
