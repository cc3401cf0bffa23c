"""Predicted exponents and the exponent fits, on synthetic data with known answers."""

import numpy as np
import pytest

import overlapdyn as od
from overlapdyn.errors import OverlapdynError


@pytest.mark.parametrize(("link", "ell", "beta", "time", "eta"), [
    ("He1", 1, 1, 0, 0.0), ("He2", 2, 1, 0, 0.0), ("He3", 3, 2, 1, -0.5), ("He4", 4, 3, 2, -1.0)])
def test_prediction_follows_the_spec(link, ell, beta, time, eta):
    model = od.Model(od.Target(k=1, activation=link), od.Student(p=1, activation=link),
                     od.Protocol(eta=0.1))
    prediction = od.predict_scaling(model)
    assert prediction.exponent == ell
    assert prediction.kind == "information exponent"
    assert prediction.sample_exponent == beta
    assert prediction.time_exponent == time
    assert prediction.eta_exponent == eta
    assert prediction.log_factor == (ell == 2)
    assert prediction.learning_rate(0.1, 10_000) == pytest.approx(0.1 * 10_000**eta)
    assert prediction.samples(100.0) == pytest.approx(100.0**beta * (np.log(100) if ell == 2
                                                                     else 1))
    assert f"ℓ = {ell}" in prediction.describe()


def test_prediction_of_a_multi_index_target():
    prediction = od.predict_scaling("z1 + z1*z2*z3", 3)
    assert (prediction.kind, prediction.exponent, prediction.sample_exponent) == ("leap", 2, 1)
    assert prediction.log_factor
    assert "learned as    z1 → {z2, z3}" in prediction.describe()   # z2, z3 in one step
    assert prediction.to_dict()["ordering"] == [[1, 0, 0], [1, 1, 1]]
    relu = od.predict_scaling(od.Target(k=1, activation="relu"))
    assert relu.exponent == 1 and not relu.leap.exact


def test_constant_target_is_an_error():
    with pytest.raises(OverlapdynError, match="constant"):
        od.predict_scaling("2", 1)


def test_regression_fit_recovers_the_exponent():
    ds = np.array([100, 200, 400, 800, 1600])
    n = 3.0 * ds**2.0 * np.exp(np.random.default_rng(0).normal(scale=0.01, size=ds.size))
    fit = od.fit_exponent(ds, n)
    assert fit.method == "regression"
    assert fit.exponent == pytest.approx(2.0, abs=0.03)
    assert fit.ci[0] < 2.0 < fit.ci[1]
    assert np.exp(fit.intercept) == pytest.approx(3.0, rel=0.2)


def test_log_factor_is_divided_out():
    ds = np.geomspace(100, 10**5, 6)
    n = ds * np.log(ds)
    assert od.fit_exponent(ds, n, log_factor=True).exponent == pytest.approx(1.0, abs=1e-9)
    assert od.fit_exponent(ds, n).exponent > 1.1


def test_bootstrap_interval_covers_the_truth():
    rng = np.random.default_rng(1)
    ds = np.array([64, 128, 256, 512])
    covered = 0
    for _ in range(40):
        n = ds[:, None] ** 1.5 * rng.lognormal(sigma=0.5, size=(ds.size, 12))
        fit = od.fit_exponent(ds, n, n_bootstrap=300, seed=int(rng.integers(1000)))
        covered += fit.ci[0] <= 1.5 <= fit.ci[1]
    assert fit.method == "bootstrap"
    assert covered >= 30  # nominal 95 %: 38 of 40 expected


def test_censored_runs_count_as_late():
    ds = np.array([100, 1000, 10000])
    n = np.array([[1e2, 1e2, np.nan], [1e3, 1e3, 1e3], [1e4, 1e4, 1e4]])
    assert od.fit_exponent(ds, n).exponent == pytest.approx(1.0)
    n[0, :2] = np.nan  # the median at d = 100 is then censored: two dimensions left
    fit = od.fit_exponent(ds, n)
    assert fit.n_points == 2 and fit.exponent == pytest.approx(1.0)
    n[1, :2] = np.nan
    with pytest.raises(OverlapdynError, match="fewer than two"):
        od.fit_exponent(ds, n)


def test_shape_errors():
    with pytest.raises(OverlapdynError, match="rows"):
        od.fit_exponent([1, 2, 3], np.ones((2, 4)))
