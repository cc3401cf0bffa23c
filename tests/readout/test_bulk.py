"""The bulk of the learned features' spectrum: the deterministic equivalent against the
finite-d eigenvalues, and its exact mean."""

import numpy as np
import pytest

import overlapdyn as od
from overlapdyn.errors import ConfigError
from overlapdyn.readout import (
    BulkDensity,
    GiantStep,
    bulk_density,
    feature_spectrum,
    predict_outlier,
)

SIN = od.Target(k=1, expression="sin(z1)")


@pytest.mark.parametrize("eta", [0.0, 3.0])
def test_the_bulk_follows_the_eigenvalues(eta):
    """d = p = 200, n = 4d, two seeds, the outliers left out: the predicted distribution
    within 0.035 of the empirical one (Kolmogorov; measured ≈ 0.01 at d = 400), the bulk
    mean within 2 %."""
    step = GiantStep(SIN, "tanh", eta, 20.0)
    spectrum = feature_spectrum(step, d=200, n=800, seeds=2)
    threshold = spectrum.edge_factor * spectrum.bulk_edge.mean()
    bulk = np.sort(spectrum.eigenvalues[spectrum.eigenvalues < threshold])
    predicted = bulk_density(step, p=200, d=200, n=800)
    empirical = np.arange(1, bulk.size + 1) / bulk.size
    assert np.max(np.abs(predicted.cdf(bulk) - empirical)) < 0.035
    assert predicted.mean == pytest.approx(bulk.mean(), rel=0.02)


def test_the_step_narrows_the_bulk_and_its_mean_is_exact():
    """The mean eigenvalue of the bulk is ``E[σ²] − A`` (the outlier's strength A taken out),
    an identity of the equivalent; the step lowers it and the edge (the spike saturates
    tanh)."""
    shapes = {}
    for eta in (0.0, 3.0):
        step = GiantStep(SIN, "tanh", eta, 20.0)
        # ψ = p/d = 3/2: C has p − d zero eigenvalues, a narrow part of the bulk near 0
        shapes[eta] = bulk_density(step, p=300, d=200, n=600)
        expected = predict_outlier(step, 300, 200).bulk_mean
        assert shapes[eta].mean == pytest.approx(expected, rel=0.005)
        assert shapes[eta].mass == pytest.approx(1.0, abs=0.01)
    assert shapes[3.0].edge < 0.8 * shapes[0.0].edge


def test_it_saves_loads_and_draws(tmp_path):
    step = GiantStep(SIN, "tanh", 1.0, 20.0)
    density = bulk_density(step, p=64, d=64, n=256, points=200)
    density.save(tmp_path / "bulk")
    loaded = BulkDensity.load(tmp_path / "bulk")
    np.testing.assert_array_equal(loaded.density, density.density)
    assert loaded.step == step and "mass" in loaded.describe()
    spectrum = feature_spectrum(step, d=64, n=256, seeds=1)
    figure = od.plot.plot_feature_spectrum(spectrum, bulk=density)
    assert any("predicted bulk" in line.get_label() for line in figure.axes[0].lines)


def test_bad_arguments_are_named():
    step = GiantStep(SIN, "tanh", 1.0, 20.0)
    with pytest.raises(ConfigError, match="damping"):
        bulk_density(step, p=10, d=10, n=10, damping=1.0)
    with pytest.raises(ConfigError, match="x must be"):
        bulk_density(step, p=10, d=10, n=10, x=[[1.0]])
    with pytest.raises(ConfigError, match="n"):
        bulk_density(step, p=10, d=10, n=0)
