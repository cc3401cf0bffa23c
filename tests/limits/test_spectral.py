"""The spectral estimators at finite d (limits/spectral.py): the preprocessing against closed
forms and a direct matrix inverse, the weak-recovery transition of both estimators at α_c,
the outliers and bulk of the asymmetric matrix against α μ_i and √(α/α_c), and bad input."""

import math

import numpy as np
import pytest
import scipy.special

from overlapdyn.errors import ConfigError
from overlapdyn.limits import (
    AsymmetricSpectrum,
    SpectralOverlaps,
    as_link,
    asymmetric_estimator,
    asymmetric_spectrum,
    label_preprocessing,
    multi_index_data,
    spectral_overlaps,
    subspace_overlap,
    symmetric_estimator,
    weak_recovery_thresholds,
)
from overlapdyn.plot import plot_asymmetric_spectrum, plot_spectral_overlaps

PHASE = ("z**2", 0.1)          # noisy phase retrieval: α_c = 0.51807 (the noisy engine)


def test_preprocessing_matches_closed_forms_and_a_direct_inverse():
    # noiseless z²: E[z²|y] = y, so G = y − 1 and T = (y − 1)/y
    y = np.array([0.05, 0.7, 1.0, 2.5, 9.0])
    pre = label_preprocessing("z**2", y)
    np.testing.assert_allclose(pre.G[:, 0, 0], y - 1, rtol=1e-9)
    np.testing.assert_allclose(pre.T[:, 0, 0], (y - 1) / y, rtol=1e-9)
    # y = z1 + z2 + √Δ ξ: E[z|y] = m = y 1/(2 + Δ), Cov = I − 11ᵀ/(2 + Δ), G = m mᵀ − 11ᵀ/(2 + Δ)
    delta, y = 0.2, np.array([-3.0, -0.4, 0.0, 1.3, 4.1])
    pre = label_preprocessing("z1 + z2", y, noise=delta)
    m = y / (2 + delta)
    expected = (m * m - 1 / (2 + delta))[:, None, None] * np.ones((2, 2))
    np.testing.assert_allclose(pre.G, expected, atol=1e-7)
    direct = np.array([G @ np.linalg.inv(np.eye(2) + G) for G in pre.G])
    np.testing.assert_allclose(pre.T, direct, atol=1e-9)
    # noiseless z1 z2 (solved for z1 at each label): E[z1²|y] = E[z2²|y] = |y|K₁(|y|)/K₀(|y|),
    # E[z1 z2|y] = y (the density of z1 given y is ∝ φ(z1) φ(y/z1)/|z1|)
    y = np.array([-2.0, -0.5, 0.03, 0.4, 1.0, 3.0])
    pre = label_preprocessing("z1*z2", y)
    diagonal = np.abs(y) * scipy.special.k1(np.abs(y)) / scipy.special.k0(np.abs(y)) - 1
    np.testing.assert_allclose(pre.G[:, 0, 0], diagonal, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(pre.G[:, 1, 1], diagonal, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(pre.G[:, 0, 1], y, rtol=1e-9, atol=1e-12)
    # sign(z1 z2): atoms; G = y (2/π) σ_x
    pre = label_preprocessing("sign(z1*z2)", np.array([1.0, -1.0]))
    np.testing.assert_allclose(pre.G, np.array([1, -1])[:, None, None] * 2 / math.pi *
                               np.array([[0, 1], [1, 0]]), atol=1e-12)


def test_the_subspace_overlap_is_one_inside_the_teacher_and_zero_outside():
    data = multi_index_data("z1*z2", 60, 0.5, seed=3)
    U = data.teacher
    assert subspace_overlap(U.T @ np.array([[1.0, 2.0], [0.5, -1.0]]), U) == pytest.approx(1)
    other = np.random.default_rng(0).standard_normal((60, 2))
    other -= U.T @ (U @ other) / 60                          # orthogonal to span U
    assert subspace_overlap(other, U) == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(U @ U.T, 60 * np.eye(2), atol=1e-9)
    z = U @ data.x.T / math.sqrt(60)                          # the fields the labels see
    np.testing.assert_allclose(data.y, z[0] * z[1])


def test_below_alpha_c_the_overlap_vanishes_with_d_and_above_it_is_positive():
    alpha_c = weak_recovery_thresholds(PHASE[0], noise=PHASE[1]).alpha_c
    assert alpha_c == pytest.approx(0.5180658, rel=1e-6)

    def symmetric(d, ratio):
        runs = [multi_index_data(PHASE[0], d, ratio * alpha_c, noise=PHASE[1], seed=s + 7)
                for s in range(4)]
        return np.mean([symmetric_estimator(data).overlap for data in runs])

    small, large = symmetric(100, 0.4), symmetric(1000, 0.4)
    assert large < 0.2 and large < 0.7 * small          # ≈ √(log n/d): localised on large y
    assert symmetric(300, 3.0) > 0.5
    result = spectral_overlaps(PHASE[0], [0.4 * alpha_c, 3.0 * alpha_c], [300], seeds=2,
                               noise=PHASE[1])
    assert result.mean("asymmetric")[0, 1] > 0.45 > 0.25 > result.mean("asymmetric")[0, 0]
    # the top real eigenvalue of L: near the bulk edge √0.4 below α_c, an outlier beyond the
    # bulk edge √3 above (its location 3 is reached slowly here: G(y) ≈ y − 1 is heavy-tailed;
    # the location is tested on the bounded sign(z1*z2) below)
    top = result.mean("outlier")[0]
    assert top[0] == pytest.approx(math.sqrt(0.4), rel=0.3)
    assert top[1] > 1.05 * math.sqrt(3.0)
    text = result.describe()
    assert "α_c = 0.518066" in text and "symmetric" in text


def test_the_noiseless_product_is_learned_above_its_threshold():
    """y = z1 z2 without label noise (α_c = 0.59375, Defilippis et al.): the symmetric
    estimator with the exact T(y) finds the subspace at 3 α_c (overlap ≈ 0.6 at d = 200)
    and not at α_c/4."""
    alpha_c = weak_recovery_thresholds("z1*z2").alpha_c
    assert alpha_c == pytest.approx(0.59375, rel=1e-4)
    overlaps = {ratio: np.mean([symmetric_estimator(multi_index_data(
        "z1*z2", 200, ratio * alpha_c, seed=seed)).overlap for seed in range(2)])
        for ratio in (0.25, 3.0)}
    assert overlaps[3.0] > 0.45 and overlaps[0.25] < 0.3, overlaps


def test_the_asymmetric_matrix_has_its_outliers_at_alpha_mu_and_its_bulk_in_the_disc():
    # sign(z1 z2): G = ±(2/π)σ_x is bounded; F has eigenvalues ±4/π² on all 2×2 matrices
    data = multi_index_data("sign(z1*z2)", 150, 2.0 * math.pi ** 2 / 4, seed=1)
    spectrum = asymmetric_spectrum(data, count=24)
    assert spectrum.alpha_c == pytest.approx(math.pi ** 2 / 4, rel=1e-6)
    np.testing.assert_allclose(spectrum.predicted_outliers, [2, 2, -2, -2], rtol=1e-3)
    np.testing.assert_allclose(np.sort(spectrum.outliers.real), [-2, -2, 2, 2], rtol=0.3)
    np.testing.assert_allclose(spectrum.outliers.imag, 0, atol=1e-6)
    assert spectrum.bulk_edge == pytest.approx(math.sqrt(2), rel=0.1)
    estimate = asymmetric_estimator(data)
    assert estimate.eigenvalue.real == pytest.approx(2, rel=0.3)
    assert estimate.overlap > 0.5 and symmetric_estimator(data).overlap > 0.5
    # below α_c: no outlier predicted, the bulk edge at √(1/2) (a pair may stray out at this
    # d — the finite-size precursor of the transition — which the median edge ignores)
    low = asymmetric_spectrum(multi_index_data("sign(z1*z2)", 150, 0.5 * math.pi ** 2 / 4,
                                               seed=2), count=12)
    assert low.predicted_outliers.size == 0
    assert low.bulk_edge == pytest.approx(math.sqrt(0.5), rel=0.1)


def test_results_save_load_describe_and_plot(tmp_path):
    result = spectral_overlaps(PHASE[0], [0.3, 1.5], [40], seeds=1, noise=PHASE[1])
    back = SpectralOverlaps.load(result.save(tmp_path / "overlaps.npz"))
    np.testing.assert_array_equal(back.symmetric, result.symmetric)
    assert back.describe() == result.describe()
    fig = plot_spectral_overlaps(result)
    assert len(fig.axes) == 3 and len(fig.axes[0].lines) == 2    # one d, the α_c line
    spectrum = asymmetric_spectrum(multi_index_data(PHASE[0], 40, 1.5, noise=PHASE[1]),
                                   count=8)
    again = AsymmetricSpectrum.load(spectrum.save(tmp_path / "spectrum.npz"))
    np.testing.assert_array_equal(again.eigenvalues, spectrum.eigenvalues)
    assert "outlier" in again.describe()
    ax = plot_asymmetric_spectrum(again).axes[0]
    assert ax.lines[0].get_xdata().size == 8 and len(ax.lines) == 3   # points, circle, x


def test_bad_input_is_named():
    with pytest.raises(ConfigError, match="α = n/d must be a finite number > 0"):
        multi_index_data("z**2", 100, 0.0)
    with pytest.raises(ConfigError, match="too small"):
        multi_index_data("z1*z2", 5, 2.0)
    with pytest.raises(ConfigError, match="depends on none of the fields"):
        multi_index_data(as_link("z1*z2").expr.subs("z1", 1) * 0 + 3, 100, 2.0, k=2)
    with pytest.raises(ConfigError, match="trivial subspace"):
        spectral_overlaps("z", [1.0], [50], noise=0.1)
    with pytest.raises(ConfigError, match="hard"):
        spectral_overlaps("sign(z1*z2*z3)", [1.0], [50])
    with pytest.raises(ConfigError, match="label noise"):
        # noiseless, neither radial, discrete nor affine in one field
        label_preprocessing("z1**3 + z2**3", np.array([0.5]))
    with pytest.raises(ConfigError, match="cannot come from"):
        label_preprocessing("z**2", np.array([-1.0]))        # z² ≥ 0
