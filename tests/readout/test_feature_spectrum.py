"""The learned-feature spectrum after one giant step: the outlier count (none for odd random
features, one after the step), its location against the perturbative prediction of
``overlapdyn.readout.features`` (finite-d simulation, d = p = 200), save/load and bad input."""

import numpy as np
import pytest

import overlapdyn as od
from overlapdyn.errors import ConfigError
from overlapdyn.readout import FeatureSpectrum, GiantStep, feature_spectrum, predict_outlier

TARGET = od.Target(k=1, expression="sin(z1)")
STEP = GiantStep(TARGET, "tanh", eta_tilde=3.0, alpha0=20.0)


@pytest.fixture(scope="module")
def spectrum():
    # 3 seeds at d = p = 200, n = 4d: ~1 s
    return feature_spectrum(STEP, d=200, n=800, seeds=3)


def test_outlier_count_and_location(spectrum):
    # odd σ at η̃ = 0: no outlier (A = 0); after the step exactly one
    assert spectrum.baseline_outlier_counts.tolist() == [0, 0, 0]
    assert spectrum.outlier_counts.tolist() == [1, 1, 1]
    assert predict_outlier(GiantStep(TARGET, "tanh", 0.0), 200, 200, 800).strength == 0
    prediction = spectrum.prediction
    assert prediction.location == pytest.approx(55.4, abs=0.3)   # pA ≈ 55.1 dominates
    # the seed mean within 3 standard errors of the predicted finite-n spread (~1.1)
    error = prediction.spread / np.sqrt(len(spectrum.seeds))
    assert abs(spectrum.top.mean() - prediction.location) < 3 * error
    # the next eigenvalue is bulk: below the random features' edge (the step shrinks it)
    assert np.all(spectrum.eigenvalues[:, -2] < spectrum.bulk_edge)


def test_small_step_below_threshold_then_outlier():
    # η̃ = 0.25 leaves the predicted outlier (≈ 1.50) inside the bulk (edge ≈ 1.58):
    # none is seen; η̃ = 1 puts it at ≈ 10.4 and it is seen there
    small = feature_spectrum(GiantStep(TARGET, "tanh", 0.25, 20.0), d=200, n=800, seeds=1)
    assert small.prediction.location < small.bulk_edge[0]
    assert small.outlier_counts.tolist() == [0]
    large = feature_spectrum(GiantStep(TARGET, "tanh", 1.0, 20.0), d=200, n=800, seeds=1)
    assert large.outlier_counts.tolist() == [1]
    assert abs(large.top[0] - large.prediction.location) < 3 * large.prediction.spread


def test_mean_outlier_of_random_features():
    # σ = softplus at η̃ = 0: the spread vanishes (β₀ = E[σ] is constant), so the O(1)
    # terms (bulk mean, finite n) are what is tested: ℓ = pE[σ]² + … ≈ 130.3
    result = feature_spectrum(GiantStep(TARGET, "softplus", 0.0), d=200, n=800, seeds=2)
    prediction = result.prediction
    assert prediction.spread < 1e-6
    assert result.top == pytest.approx(prediction.location, rel=3e-3)
    # pA alone misses by the O(1) terms: 0.26 %, the tolerance above is not loose
    assert abs(result.top.mean() - prediction.leading) > 0.2


def test_describe_save_load_figure(spectrum, tmp_path):
    text = spectrum.describe()
    assert "outliers per seed: [1, 1, 1]" in text and "predicted outlier" in text
    path = tmp_path / "spectrum.npz"
    spectrum.save(path)
    loaded = FeatureSpectrum.load(path)
    np.testing.assert_array_equal(loaded.eigenvalues, spectrum.eigenvalues)
    assert loaded.prediction == spectrum.prediction
    assert loaded.outlier_counts.tolist() == [1, 1, 1]
    from overlapdyn.plot import result_figures
    figures = result_figures(loaded)
    assert list(figures) == ["feature_spectrum"]


@pytest.mark.parametrize("kwargs, match", [
    ({"d": 4}, "d"),
    ({"d": 50, "p": 1}, "p"),
    ({"d": 50, "n": 0}, "n"),
    ({"d": 50, "edge_factor": 1.0}, "edge_factor"),
    ({"d": 50, "loss": "hinge"}, "loss"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        feature_spectrum(STEP, **kwargs)


def test_bad_prediction_input():
    with pytest.raises(ConfigError, match="p"):
        predict_outlier(STEP, 1, 200)
    with pytest.raises(ConfigError, match="nodes"):
        predict_outlier(STEP, 200, 200, nodes=2)
