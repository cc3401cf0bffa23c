"""The multi-index state evolution (limits/bayes_multi.py) against independent computations:
the weak-recovery operator by one-dimensional conditioning (and the numbers of
weak_recovery_thresholds), the Gaussian channel's closed form, the k = 1 state evolution of
limits/bayes.py, a radial link's two reductions, and a synthetic first-order transition."""

import math

import numpy as np
import pytest

from overlapdyn.errors import ConfigError
from overlapdyn.limits import (
    OVERLAP_MAX,
    MultiIndexCurve,
    channel_information,
    multi_index_channel,
    multi_index_overlap,
    se_fixed_point,
    se_linearisation,
)
from overlapdyn.plot import plot_multi_index_overlap, result_figures

SQRT_2PI = math.sqrt(2 * math.pi)


def _gauss(x, variance):
    return np.exp(-0.5 * x * x / variance) / np.sqrt(2 * np.pi * variance)


def _product_operator(noise: float) -> np.ndarray:
    """F(M) = E_y[G M G] for y = z1·z2 + √Δ ξ on the basis (E11, (E12 + E21)/√2, E22), by
    conditioning on z1: y | z1 ~ N(0, z1² + Δ) and E[z2 | z1, y] = z1 y/(z1² + Δ), so
    G = [[a, b], [b, a]] with a = E[z1²|y] − 1, b = E[z1 z2|y], each a 1-d integral."""
    z, dz = np.linspace(-10, 10, 2001, retstep=True)
    y, dy = np.linspace(-45, 45, 3001, retstep=True)
    weight = _gauss(z, 1.0)[None, :] * _gauss(y[:, None], z[None, :] ** 2 + noise) * dz
    p = weight.sum(axis=1)
    a = (weight * z ** 2).sum(axis=1) / p - 1
    b = (weight * z ** 2 * y[:, None] / (z ** 2 + noise)).sum(axis=1) / p
    G = np.stack([np.stack([a, b], -1), np.stack([b, a], -1)], -2)        # (Y, 2, 2)
    basis = [np.diag([1.0, 0.0]), np.array([[0.0, 1.0], [1.0, 0.0]]) / math.sqrt(2),
             np.diag([0.0, 1.0])]
    return np.array([[np.sum((p * dy)[:, None, None] * P * (G @ M @ G)) for M in basis]
                     for P in basis])


def test_the_linearisation_at_zero_is_the_weak_recovery_operator():
    # §2's operator F(M) = E_y[G M G] for z1·z2, computed independently above; its top
    # eigenvalue 1/α_c is twofold (the easy subspace is both directions)
    channel = multi_index_channel("z1*z2", noise=0.5)
    linear = se_linearisation(channel)
    operator = _product_operator(0.5)
    np.testing.assert_allclose(linear.operator, operator, atol=1e-7)
    assert np.abs(linear.trivial).max() < 1e-12 and not linear.has_trivial
    assert linear.eigenvalues[0] == pytest.approx(np.linalg.eigvalsh(operator)[-1], rel=1e-7)
    # weak_recovery_thresholds("z1*z2", noise=0.5) gives α_c = 0.8922292829420292 and
    # eigenvalues (1.12078814, 1.12078814, −0.29392451) (72 s on 2 busy cores, so pinned)
    assert linear.alpha_c == pytest.approx(0.8922292829420292, rel=2e-6)
    np.testing.assert_allclose(linear.eigenvalues, [1.12078814, 1.12078814, -0.29392451],
                               atol=3e-6)


def test_the_uninformed_fixed_point_leaves_zero_at_alpha_c():
    channel = multi_index_channel("z1*z2", noise=0.5, level=0.6)
    curve = multi_index_overlap(None, [0.8, 0.95, 1.2], channel=channel)
    alpha_c = curve.alpha_c
    assert 0.85 < alpha_c < 0.95
    q = curve.overlaps()
    assert np.all(q[0] == 0)                                    # below α_c: exactly 0
    assert 0 < q[1, 1] <= q[1, 0] < 0.05 < q[2, 1]              # above: both directions
    assert q[1, 0] == pytest.approx(q[1, 1], rel=1e-3)          # the twofold easy subspace
    # just above α_c the map's slope at 0 is α/α_c > 1: from εI the iteration grows
    run = se_fixed_point(channel, 1.02 * alpha_c, 1e-6 * np.eye(2), max_iter=3)
    assert np.trace(run.Q) > 2e-6


def test_the_noiseless_limit_approaches_the_published_threshold():
    # the label noise Δ is the variance of √Δ ξ; Defilippis et al.'s α_c ≈ 0.59375 is Δ = 0
    values = [se_linearisation(multi_index_channel("z1*z2", noise=noise, level=0.6)).alpha_c
              for noise in (0.1, 0.03, 0.01)]
    assert values[0] > values[1] > values[2] > 0.59375
    assert values[2] - 0.59375 < 0.01


def _z1_posterior_mean_power(noise: float) -> float:
    """E_y[E[z1|y]²] for y = z1 + z2² + √Δ ξ, conditioning on z2: y | z2 ~ N(z2², 1 + Δ),
    E[z1 | y, z2] = (y − z2²)/(1 + Δ)."""
    z, dz = np.linspace(-10, 10, 2001, retstep=True)
    y, dy = np.linspace(-15, 110, 2501, retstep=True)
    t = y[:, None] - z[None, :] ** 2
    weight = _gauss(z, 1.0)[None, :] * _gauss(t, 1 + noise) * dz
    p = weight.sum(axis=1)
    mean = (weight * t).sum(axis=1) / (1 + noise) / p
    return float((p * mean ** 2).sum() * dy)


def test_the_trivial_direction_is_learned_at_every_alpha_and_the_even_one_is_not():
    channel = multi_index_channel("z1 + z2**2", noise=0.5, level=0.6)
    linear = se_linearisation(channel)
    assert linear.has_trivial and linear.alpha_c == 0.0
    assert linear.trivial[0, 0] == pytest.approx(_z1_posterior_mean_power(0.5), rel=1e-7)
    assert abs(linear.trivial[1, 1]) < 1e-12 and abs(linear.trivial[0, 1]) < 1e-12
    curve = multi_index_overlap(None, [0.01, 0.1, 0.3], channel=channel)
    np.testing.assert_allclose(curve.trivial_subspace.ravel() ** 2, [1.0, 0.0], atol=1e-12)
    for alpha, Q in zip(curve.alphas, curve.uninformed, strict=True):
        assert Q[0, 0] > 0.5 * alpha * linear.trivial[0, 0]
        assert abs(Q[1, 1]) < 1e-8 and abs(Q[0, 1]) < 1e-8   # E[z2|y] = 0: not learned
    # small α: Q ≈ α F(0)
    assert curve.uninformed[0, 0, 0] == pytest.approx(0.01 * linear.trivial[0, 0], rel=0.02)


def test_a_link_of_one_field_embedded_in_two_is_the_single_index_channel():
    # z1² in two fields: F = diag(f(q1), 0) with f of the k = 1 state evolution (its table
    # here with 300 Gauss–Hermite nodes in ξ: its default 48 leave errors up to 3e-3 in f
    # near q ≈ 0.7 for this link, which its two-resolution error, varying z and y only,
    # does not show)
    table = channel_information("z**2", noise=0.5, points=8, xi_nodes=300)
    channel = multi_index_channel("z1**2", k=2, noise=0.5)
    for q, f in zip(table.q[1:-1], table.f[1:-1], strict=True):
        F = channel.information(np.diag([q, 0.3]))
        assert F[0, 0] == pytest.approx(f, rel=5e-6)
        assert np.abs(F[1]).max() < 1e-10                       # z2: nothing to learn
    # the threshold: 1/α_c = E_y[(E[z²|y] − 1)²] (the k = 1 formula), by a 1-d quadrature
    z, dz = np.linspace(-10, 10, 4001, retstep=True)
    y, dy = np.linspace(-6, 106, 2241, retstep=True)
    weight = _gauss(z, 1.0)[None, :] * _gauss(y[:, None] - z[None, :] ** 2, 0.5) * dz
    p = weight.sum(axis=1)
    moment = (weight * z ** 2).sum(axis=1) / p - 1
    curve = multi_index_overlap(None, [0.5, 0.7], channel=channel)
    assert curve.alpha_c == pytest.approx(1 / float((p * moment ** 2).sum() * dy), rel=1e-6)
    assert np.all(curve.uninformed[0] == 0) and curve.uninformed[1, 0, 0] > 0
    assert np.abs(curve.uninformed[:, 1, :]).max() < 1e-12
    assert not curve.first_order.any()


def test_a_three_field_link_of_two_fields_is_computed_on_those_two():
    # z1·z3 in three fields: z2 drops out for any Q (g_out has no component along it), and
    # F on (z1, z3) is z1·z2's on (z1, z2)
    three = multi_index_channel("z1*z3", k=3, noise=0.5, level=0.6)
    two = multi_index_channel("z1*z2", noise=0.5, level=0.6)
    assert three.fields == (0, 2) and three.method == "grid"
    Q = np.array([[0.5, 0.2, 0.1], [0.2, 0.4, 0.05], [0.1, 0.05, 0.3]])
    F = three.information(Q)
    np.testing.assert_allclose(F[np.ix_([0, 2], [0, 2])],
                               two.information(Q[np.ix_([0, 2], [0, 2])]), rtol=1e-12)
    assert np.all(F[1] == 0) and np.all(F[:, 1] == 0)


def test_the_gaussian_channel_has_its_closed_form():
    # y = uᵀz + √Δ ξ: Z_out = N(y; uᵀω, Δ + uᵀVu), g_out = u (y − uᵀω)/(Δ + uᵀVu), so
    # F(Q) = u uᵀ/(Δ + uᵀ(I − Q)u); along û = u/|u| the map is the scalar Gaussian channel
    # of noise Δ' = Δ/|u|²: q* is the smaller root of q² − (1 + Δ' + α) q + α = 0
    noise, u = 0.2, np.array([1.0, 2.0])
    channel = multi_index_channel("z1 + 2*z2", noise=noise)
    for Q in (np.zeros((2, 2)), 0.4 * np.eye(2), np.array([[0.7, 0.1], [0.1, 0.2]])):
        exact = np.outer(u, u) / (noise + u @ (np.eye(2) - Q) @ u)
        np.testing.assert_allclose(channel.information(Q), exact, rtol=2e-8, atol=1e-12)
    alphas = np.array([0.3, 1.0, 4.0])
    curve = multi_index_overlap(None, alphas, channel=channel)
    b = 1 + noise / 5 + alphas
    q = (b - np.sqrt(b * b - 4 * alphas)) / 2
    np.testing.assert_allclose(curve.uninformed, q[:, None, None] * np.outer(u, u) / 5,
                               atol=2e-7)
    np.testing.assert_allclose(curve.overlaps()[:, 1], 0.0, atol=2e-7)
    np.testing.assert_allclose(np.abs(curve.directions()[:, :, 0]), np.tile(u / 5 ** 0.5, (3, 1)),
                               atol=1e-6)
    assert curve.alpha_c == 0.0 and not curve.first_order.any()


class _Synthetic:
    """A channel with F(Q) = diag(f(q1), f(q2)) in the axes, f(q) = q (a + b q²), a = 1/2,
    b = 20: as in limits/bayes.py's test, α(q) = q/((1 − q) f(q)) falls from α_c = 2 before
    it rises, so each axis has a first-order transition below α = 2."""

    link, k, noise, method, level, fields = "synthetic", 2, 0.1, "grid", 1.0, (0, 1)

    def information(self, Q):
        q = np.clip(np.diag(Q), 0, OVERLAP_MAX)
        return np.diag(q * (0.5 + 20 * q * q))

    def step(self, Q, alpha):
        hat = alpha * self.information(Q)
        return hat @ np.linalg.inv(np.eye(2) + hat)

    def refined(self):
        return self


@pytest.mark.parametrize("accelerate", [True, False])
def test_a_first_order_transition_is_found_from_the_two_starts(accelerate):
    curve = multi_index_overlap(None, [1.0, 1.5, 2.5], channel=_Synthetic(),
                                accelerate=accelerate, max_iter=5000, tol=1e-10)
    assert curve.alpha_c == pytest.approx(2.0, rel=1e-6)
    assert list(curve.first_order) == [True, True, False]
    assert np.all(curve.uninformed[:2] == 0.0) and curve.converged.all()
    for alpha, value in zip([1.0, 1.5], curve.overlaps("informed")[:2, 0], strict=True):
        # the informed overlap solves α = 1/((1 − q)(a + b q²)) on its rising branch
        assert value > 0.5 and 1 / ((1 - value) * (0.5 + 20 * value ** 2)) == pytest.approx(
            alpha, rel=1e-6)
    np.testing.assert_allclose(curve.uninformed[2], curve.informed[2], atol=1e-8)
    assert "first order" in curve.describe()


def test_a_radial_link_by_both_reductions_and_in_three_fields():
    # (z1² + z2²)/2: the grid (two fields) and the radial reduction (r = ‖z‖) agree
    grid = multi_index_channel("(z1**2 + z2**2)/2", noise=0.3)
    radial = multi_index_channel("(z1**2 + z2**2)/2", noise=0.3, method="radial")
    for q in (1e-3, 0.3, 0.9):
        assert grid.information(q)[0, 0] == pytest.approx(radial.information(q)[0, 0],
                                                          rel=3e-6)
    # ‖z‖²/3: the threshold 1/E_y[(E[r²|y]/3 − 1)²], r² ~ χ²₃, by a 1-d quadrature;
    # weak_recovery_thresholds(..., noise=0.1, tol=1e-5) gives 1.69114319915663 (49 s)
    r, dr = np.linspace(0, 12, 2401, retstep=True)
    y, dy = np.linspace(-3, 52, 1834, retstep=True)
    chi = np.sqrt(2 / np.pi) * r * r * np.exp(-r * r / 2) * dr
    weight = chi[None, :] * _gauss(y[:, None] - r[None, :] ** 2 / 3, 0.1)
    p = weight.sum(axis=1)
    c = (weight * r ** 2).sum(axis=1) / (3 * p) - 1
    alpha_c = 1 / float((p * c * c).sum() * dy)
    curve = multi_index_overlap("(z1**2 + z2**2 + z3**2)/3", [1.0, 2.0, 3.0], noise=0.1)
    assert curve.method == "radial"
    assert curve.alpha_c == pytest.approx(alpha_c, rel=1e-5)
    assert curve.alpha_c == pytest.approx(1.69114319915663, rel=1e-5)
    q = curve.overlaps()
    assert np.all(q[0] == 0) and 0 < q[1, 0] < q[2, 0] and np.ptp(q, axis=1).max() == 0


def test_the_curve_saves_loads_describes_and_plots(tmp_path):
    curve = multi_index_overlap("z1 + 2*z2", [0.5, 2.0], noise=0.2, level=0.6)
    back = MultiIndexCurve.load(curve.save(tmp_path / "curve.npz"))
    assert back.describe() == curve.describe()
    np.testing.assert_array_equal(back.uninformed, curve.uninformed)
    assert back.overlaps().shape == (2, 2) and back.directions().shape == (2, 2, 2)
    assert "trivial subspace" in curve.describe()
    assert curve.onsets() == [0.5, None]                       # along u only
    fig = plot_multi_index_overlap(back)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2     # one line per direction
    assert len(fig.axes[1].lines) == 3                             # Q11, Q12, Q22
    assert set(result_figures(back)) == {"multi_index_overlap"}


@pytest.mark.parametrize("call, message", [
    (lambda: multi_index_overlap("z1*z2", [0.0, 1.0], noise=0.1), "α = n/d"),
    (lambda: multi_index_overlap("z1*z2", [-1.0], noise=0.1), "α = n/d"),
    (lambda: multi_index_overlap("z1*z2", [math.nan], noise=0.1), "α = n/d"),
    (lambda: multi_index_channel("1", k=2, noise=0.1), "none of the fields"),
    (lambda: multi_index_channel("z1*z2"), "noise=1e-2"),
    (lambda: multi_index_channel("z", noise=0.1), "bayes_optimal_overlap"),
    (lambda: multi_index_channel("z1 + z2*z3", noise=0.1), "not radial"),
    (lambda: multi_index_channel("z1*z2", noise=0.1).information(np.eye(2)), "eigenvalues"),
    (lambda: multi_index_channel("sign(z1*z2)", noise=1e-3), "more label noise"),
    (lambda: se_fixed_point(multi_index_channel("z1*z2", noise=0.1), 1.0, 0.0, damping=1.0),
     "damping"),
])
def test_bad_input_is_a_named_error(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
