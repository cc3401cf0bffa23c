"""The two-field GAMP (limits/gamp.py: run_multi_index_gamp, multi_index_gamp_sweep) and its
output function (MultiIndexChannel.output, limits/bayes_multi.py): the output function
against the linear channel's closed form and against the state evolution's quadrature of
F(Q); GAMP on ``z1 + z2**2`` (a trivial direction z1, and z2 learned only above its
threshold) and on ``z1*z2`` below α_c against the state evolution; the Nishimori identities;
a sweep on the linear channel against its closed-form fixed point; bad input."""

import math

import numpy as np
import pytest

from overlapdyn.errors import ConfigError
from overlapdyn.limits import (
    MultiIndexCurve,
    MultiIndexGampRun,
    MultiIndexGampSweep,
    multi_index_channel,
    multi_index_gamp_data,
    multi_index_gamp_sweep,
    run_multi_index_gamp,
)
from overlapdyn.plot import plot_multi_index_gamp, result_figures

DELTA = 0.1
#: multi_index_overlap("z1 + z2**2", [0.3, 2.5], noise=0.1).overlaps() (30 s; the state
#: evolution is checked in test_bayes_multi.py): z1 alone at α = 0.3, both at α = 2.5
PLUS_SE = {0.3: (0.14517306, 0.0), 2.5: (0.92606941, 0.87125476)}


def _model_draw(channel_g, u_or_none, V, N, seed):
    """ω ~ N(0, I − V), z ~ N(ω, V), y = g(z) + √Δ ξ: labels from the model itself."""
    rng = np.random.default_rng(seed)
    omega = rng.multivariate_normal(np.zeros(2), np.eye(2) - V, size=N)
    z = omega + rng.multivariate_normal(np.zeros(2), V, size=N)
    y = channel_g(z) + math.sqrt(DELTA) * rng.standard_normal(N)
    return y, omega


@pytest.fixture(scope="module")
def plus_channel():
    return multi_index_channel("z1 + z2**2", noise=DELTA)


def test_the_two_field_output_is_the_linear_channels_closed_form():
    # y = uᵀz + √Δ ξ: Z_out = N(y; uᵀω, Δ + uᵀVu), hence g_out = u (y − uᵀω)/(Δ + uᵀVu)
    # and ∂_ω g_out = −uuᵀ/(Δ + uᵀVu), at a V with correlated fields and at a small one
    channel = multi_index_channel("z1 + 2*z2", noise=DELTA)
    u = np.array([1.0, 2.0])
    for seed, V in enumerate((np.array([[0.5, 0.2], [0.2, 0.3]]),
                              np.array([[0.02, 0.01], [0.01, 0.03]]))):
        y, omega = _model_draw(lambda z: z @ u, u, V, 1000, seed)
        g, dg = channel.output(y, omega, V)
        s = DELTA + u @ V @ u
        np.testing.assert_allclose(g, np.outer((y - omega @ u) / s, u), atol=2e-5)
        np.testing.assert_allclose(dg, np.broadcast_to(-np.outer(u, u) / s, dg.shape),
                                   atol=1e-3)
    with pytest.raises(ConfigError, match="positive definite"):
        channel.output(y, omega, np.diag([1.0, -0.1]))
    with pytest.raises(ConfigError, match="shape"):
        channel.output(y, omega[:, :1], np.eye(2))
    with pytest.raises(ConfigError, match="two-field"):
        multi_index_channel("(z1**2 + z2**2 + z3**2)/3", noise=DELTA).output(
            y, omega, np.eye(3))


def test_the_two_field_output_gives_the_state_evolutions_information():
    # F(Q) = E[g_out g_outᵀ] by Monte Carlo with the compiled output function (sample by
    # sample, unrotated grid) against the state evolution's quadrature (Q's eigenbasis,
    # labels integrated on a grid), at a Q that is not diagonal; and the Nishimori identity
    # E[∂_ω g_out] = −E[g_out g_outᵀ]
    channel = multi_index_channel("z1*z2", noise=DELTA)
    Q = np.array([[0.5, 0.15], [0.15, 0.3]])
    N = 8000
    y, omega = _model_draw(lambda z: z[:, 0] * z[:, 1], None, np.eye(2) - Q, N, 7)
    g, dg = channel.output(y, omega, np.eye(2) - Q)
    F = channel.information(Q)
    outer = g[:, :, None] * g[:, None, :]
    sem = outer.reshape(N, 4).std(axis=0).reshape(2, 2) / math.sqrt(N)
    assert np.all(np.abs(outer.mean(axis=0) - F) < 4 * sem)
    both = (dg + outer).reshape(N, 4)
    assert np.all(np.abs(both.mean(axis=0)) < 4 * both.std(axis=0) / math.sqrt(N))


def test_gamp_learns_the_trivial_direction_at_once_and_the_other_above_its_threshold(
        plus_channel):
    # z1 + z2**2: E[z1|y] ≠ 0 (z1 learned at every α), z2 only above its threshold; the
    # squared principal cosines of Ŵ and W* against the state evolution's eigenvalues of Q
    # (d = 300: O(1/√d) = 0.06 fluctuations; tol = 1e-7 stops within 1e-3 of GAMP's own
    # fixed point)
    for alpha, seeds, tol in ((0.3, 2, 0.06), (2.5, 1, 0.03)):
        se = np.array(PLUS_SE[alpha])
        runs = [run_multi_index_gamp(None, alpha, 300, seed=s, channel=plus_channel, tol=1e-7)
                for s in range(seeds)]
        for run in runs:
            assert run.converged
            assert np.all(np.abs(run.cosine - se) < tol), (alpha, run.cosine)
            # the overlap matrix: z1 along z1 (trivial: no sign symmetry), z2 up to its sign
            M = run.overlaps[-1]
            assert M[0, 0] == pytest.approx(se[0], abs=0.1)
            assert abs(M[1, 1]) == pytest.approx(se[1], abs=0.1)
            # Nishimori: ŴᵀŴ/d and Ŵᵀ W*/d share their limit Q, and the mean of v is I − Q
            np.testing.assert_allclose(run.norm, run.overlap, atol=0.05)
            variances = np.linalg.eigvalsh(np.eye(2) - run.variances[-1])[::-1]
            np.testing.assert_allclose(variances, se, atol=0.05)


def test_gamp_learns_nothing_of_z1_z2_below_alpha_c():
    # z1*z2 at Δ = 0.1: α_c = 0.661 (test_bayes_multi.py); at α = 0.4 the state evolution
    # stays at Q = 0, GAMP at O(1/√d)
    runs = [run_multi_index_gamp("z1*z2", 0.4, 300, noise=DELTA, seed=s) for s in range(2)]
    for run in runs:
        assert run.overlap.max() < 0.06, run.overlap
        assert run.singular_values.shape == (run.iterations + 1, 2)


def _linear_curve(channel, alphas) -> MultiIndexCurve:
    """The exact state evolution of y = uᵀz + √Δ ξ: Q = q ûûᵀ, q the smaller root of
    q² − (1 + Δ/|u|² + α) q + α = 0 (test_bayes_multi.py checks the quadrature against it)."""
    u = np.array([1.0, 2.0])
    unit = u / np.linalg.norm(u)
    b = 1 + DELTA / (u @ u) + alphas
    q = (b - np.sqrt(b * b - 4 * alphas)) / 2
    Q = q[:, None, None] * np.outer(unit, unit)
    A = alphas.size
    return MultiIndexCurve(channel.link, 2, DELTA, "grid", 1.0, 0.0, 1e-9, alphas, Q, Q,
                           np.zeros((A, 2), dtype=int), np.ones((A, 2), dtype=bool),
                           np.zeros((A, 2)), 0.0, 0.0, np.outer(u, u) / (DELTA + u @ u),
                           np.zeros(3))


def test_a_sweep_approaches_the_linear_channels_fixed_point(tmp_path):
    channel = multi_index_channel("z1 + 2*z2", noise=DELTA)
    curve = _linear_curve(channel, np.array([0.5, 1.0, 1.5]))
    sweep = multi_index_gamp_sweep(channel.link, [1.0], [50, 200], 3, noise=DELTA,
                                   curve=curve, tol=1e-8)
    q = curve.overlaps()[1]
    assert sweep.se[0] == pytest.approx(q)
    assert sweep.converged.all()
    # along u the scalar Gaussian channel: the seed mean at the larger d within 0.02
    assert abs(sweep.mean("cosine")[0, 1, 0] - q[0]) < 0.02
    # nothing but u is learned: Ŵ is spanned by u after the first step (g_out ∝ u)
    assert np.all(sweep.values("norm")[..., 1] < 1e-10)
    gaps = sweep.gaps("cosine")
    assert gaps.shape == (1, 2, 3, 2)
    assert sweep.fitted("cosine").shape == (1, 2) and not sweep.fitted("norm")[0, 1]
    assert np.isfinite(sweep.exponents("cosine")[0, 0])
    assert "pooled finite-size exponent" in sweep.describe()
    back = MultiIndexGampSweep.load(sweep.save(tmp_path / "sweep.npz"))
    np.testing.assert_array_equal(back.cosines, sweep.cosines)
    assert back.curve.alphas.tolist() == curve.alphas.tolist()
    exponents = sweep.to_dict()["overlap"]["exponents"][0]
    # along u a finite-size exponent; the unlearned direction collapses onto its SE value 0
    # (gaps 2e-8, 5e-10: GAMP's stopping rule, not d), so no exponent is read from it
    assert np.isfinite(exponents[0]) and np.isnan(exponents[1])
    assert sweep.fitted("overlap").tolist() == [[True, False]]
    assert set(result_figures(back)) == {"multi_index_gamp"}
    plot_multi_index_gamp(sweep, "norm")
    with pytest.raises(ConfigError, match="quantity"):
        sweep.values("angle")
    run = run_multi_index_gamp(None, 1.0, 60, seed=0, channel=channel, iterations=3)
    back = MultiIndexGampRun.load(run.save(tmp_path / "run.npz"))
    np.testing.assert_array_equal(back.overlaps, run.overlaps)
    assert "not converged after 3" in back.describe()
    F, y, W = multi_index_gamp_data(channel.link, 1.0, 60, noise=DELTA, seed=0)
    np.testing.assert_allclose(y, (F @ W) @ [1.0, 2.0], atol=5 * math.sqrt(DELTA))
    assert pytest.approx(run.teacher_gram) == W.T @ W / 60


@pytest.mark.parametrize("call, match", [
    (lambda: run_multi_index_gamp("z1*z2", 0.0, 100, noise=DELTA), "α = n/d"),
    (lambda: run_multi_index_gamp("z1*z2", 1.0, 10, noise=DELTA), "d ≥"),
    (lambda: run_multi_index_gamp("(z1**2 + z2**2 + z3**2)/3", 1.0, 100, noise=DELTA),
     "k = 2"),
    (lambda: run_multi_index_gamp("z1**2", 1.0, 100, noise=DELTA), "one field"),
    (lambda: run_multi_index_gamp("z1*z2", 1.0, 100, noise=0.0), "noiseless"),
    (lambda: multi_index_gamp_sweep("z1*z2", [1.0], [], 1, noise=DELTA), "at least one"),
])
def test_bad_input_is_refused_with_the_fix(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_a_curve_without_the_sweeps_alpha_is_refused():
    channel = multi_index_channel("z1 + 2*z2", noise=DELTA)
    with pytest.raises(ConfigError, match="include every α"):
        multi_index_gamp_sweep(channel.link, [2.0], [60], 1, noise=DELTA,
                               curve=_linear_curve(channel, np.array([1.0])))
