"""The Bayes-optimal state evolution of a single-index channel (limits/bayes.py): against the
Gaussian channel's closed form, against the weak-recovery threshold computed by the
conditional-law engine (an independent quadrature), and its fixed-point logic on a table
with a first-order transition."""

import math

import numpy as np
import pytest

from overlapdyn.errors import ConfigError
from overlapdyn.limits import (
    BayesOptimalCurve,
    ChannelInformation,
    bayes_optimal_overlap,
    channel_information,
    weak_recovery_thresholds,
)
from overlapdyn.limits.bayes import Q_MAX

DELTA = 0.1


@pytest.fixture(scope="module")
def linear():
    return channel_information("z", noise=DELTA)


# 25 overlaps rather than the default 81 (4 of them in [1e-6, 3e-4], where α_c's slope is
# fitted): the checks below hold on any grid, and the table costs a third
@pytest.fixture(scope="module")
def phase_retrieval():
    return channel_information("z**2", noise=DELTA, points=24)


def test_the_gaussian_channel_has_its_closed_form(linear):
    # y = z + √Δ ξ: g_out = (y − ω)/(Δ + V), so f(q) = 1/(Δ + 1 − q)
    np.testing.assert_allclose(linear.f, 1.0 / (DELTA + 1.0 - linear.q), rtol=1e-10)
    assert linear.error < 1e-9
    # the fixed point of q = αf/(1 + αf): q² − (1 + Δ + α) q + α = 0, the smaller root
    alphas = np.array([0.2, 1.0, 5.0, 50.0])
    curve = bayes_optimal_overlap("z", alphas, noise=DELTA, table=linear)
    b = 1.0 + DELTA + alphas
    np.testing.assert_allclose(curve.uninformed, (b - np.sqrt(b * b - 4 * alphas)) / 2,
                               atol=1e-6)
    np.testing.assert_array_equal(curve.informed, curve.uninformed)
    assert curve.alpha_c == 0.0 and not curve.first_order.any()   # E[z|y] ≠ 0: trivial


def test_the_linearisation_at_zero_is_the_weak_recovery_threshold(phase_retrieval):
    curve = bayes_optimal_overlap("z**2", [1.0], noise=DELTA, table=phase_retrieval)
    assert curve.alpha_c == pytest.approx(weak_recovery_thresholds("z**2", noise=DELTA).alpha_c,
                                          rel=1e-7)
    assert phase_retrieval.f[0] == pytest.approx(0.0, abs=1e-12)   # E[z|y] = 0
    # the honest error (every spacing halved, ξ too) is largest far from 0, where α_c does
    # not look: read locally, it leaves the threshold alone (read globally it did not:
    # |z| came out with α_c = ∞)
    assert phase_retrieval.errors.shape == phase_retrieval.q.shape
    assert phase_retrieval.errors[0] < 1e-12 < phase_retrieval.error


def test_the_uninformed_overlap_leaves_zero_continuously_at_alpha_c(phase_retrieval):
    alpha_c = bayes_optimal_overlap("z**2", [1.0], noise=DELTA,
                                    table=phase_retrieval).alpha_c
    alphas = alpha_c * np.array([0.5, 0.99, 1.01, 1.1, 2.0, 6.0])
    q = bayes_optimal_overlap("z**2", alphas, noise=DELTA, table=phase_retrieval).uninformed
    assert q[0] == q[1] == 0.0
    assert 0.0 < q[2] < 0.01 < q[3] < q[4] < q[5] < Q_MAX       # continuous, then rising
    # each is a fixed point of the map, evaluated on the table itself
    for alpha, value in zip(alphas[2:], q[2:], strict=True):
        f = phase_retrieval(value)
        assert alpha * f / (1 + alpha * f) == pytest.approx(value, abs=1e-7)


def test_a_first_order_transition_is_found_from_the_two_starts():
    # f(q) = q (a + b q²) with a = 1/2, b = 20: α(q) = q/((1 − q) f(q)) falls from
    # α_c = 2 before it rises, so for α just below 2 a second, informed fixed point exists
    q = np.concatenate(([0.0], np.geomspace(1e-6, 1e-2, 20, endpoint=False),
                        np.linspace(1e-2, Q_MAX, 200)))
    table = ChannelInformation("synthetic", 0.1, q, q * (0.5 + 20 * q * q), 0.0)
    curve = bayes_optimal_overlap(None, [1.0, 1.5, 2.5], table=table)
    assert curve.alpha_c == pytest.approx(2.0, rel=1e-9)
    assert list(curve.first_order) == [True, True, False]
    assert curve.uninformed[0] == curve.uninformed[1] == 0.0
    for alpha, value in zip([1.0, 1.5], curve.informed[:2], strict=True):
        # the informed overlap solves α = 1/((1 − q)(a + b q²)) on its rising branch
        assert value > 0.5 and 1 / ((1 - value) * (0.5 + 20 * value ** 2)) == pytest.approx(
            alpha, rel=1e-6)
    assert curve.uninformed[2] == curve.informed[2] > 0.5
    assert "first order" in curve.describe()


def test_the_curve_saves_and_loads(tmp_path, linear):
    curve = bayes_optimal_overlap("z", [0.5, 2.0], noise=DELTA, table=linear)
    back = BayesOptimalCurve.load(curve.save(tmp_path / "curve.npz"))
    assert back.describe() == curve.describe()
    np.testing.assert_array_equal(back.uninformed, curve.uninformed)


def test_a_table_of_another_link_is_refused(linear):
    with pytest.raises(ConfigError, match="the table given is for y = z"):
        bayes_optimal_overlap("z**2", [1.0], noise=DELTA, table=linear)
    with pytest.raises(ConfigError, match="the table given"):
        bayes_optimal_overlap("z", [1.0], noise=0.2, table=linear)


@pytest.mark.parametrize("call, message", [
    (lambda: channel_information("z**2"), "noiseless"),
    (lambda: channel_information("z1*z2", noise=0.1), "k = 2"),
    (lambda: bayes_optimal_overlap("z", [0.0, 1.0], noise=0.1), "α = n/d"),
    (lambda: bayes_optimal_overlap("z", [math.nan], noise=0.1), "α = n/d"),
    (lambda: channel_information("1", noise=0.1), "none of the fields"),
])
def test_bad_input_is_a_named_error(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
