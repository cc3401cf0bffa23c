"""The finite-d GAMP (limits/gamp.py) and the output channel it shares with the state
evolution (limits/bayes.py): the channel against the Gaussian channel's closed form and
against the state evolution's quadrature; GAMP on the Gaussian channel against the exact
posterior mean (ridge regression) and the closed-form fixed point; on noisy phase retrieval
below and above α_c; the gap shrinking with d; bad input."""

import math

import numpy as np
import pytest

from overlapdyn.errors import ConfigError
from overlapdyn.limits import (
    ChannelInformation,
    GampRun,
    GampSweep,
    bayes_optimal_overlap,
    channel_information,
    gamp_data,
    gamp_sweep,
    output_channel,
    run_gamp,
    weak_recovery_thresholds,
)
from overlapdyn.limits.bayes import Q_MAX
from overlapdyn.plot import plot_gamp, result_figures

DELTA = 0.1


def gaussian_se(alpha):
    """The Gaussian channel's fixed point: the smaller root of q² − (1 + Δ + α) q + α = 0."""
    b = 1.0 + DELTA + np.asarray(alpha, dtype=float)
    return (b - np.sqrt(b * b - 4.0 * alpha)) / 2.0


@pytest.fixture(scope="module")
def phase_retrieval_table():
    return channel_information("z**2", noise=DELTA, points=24, xi_nodes=24)


@pytest.fixture(scope="module")
def linear_table():
    # f(q) = 1/(Δ + 1 − q) in closed form (test_bayes.py checks the quadrature against it)
    q = np.linspace(0.0, Q_MAX, 400)
    return ChannelInformation("z", DELTA, q, 1.0 / (DELTA + 1.0 - q), 0.0)


def test_the_output_channel_is_the_gaussian_channels_closed_form():
    # y = z + √Δ ξ: g_out = (y − ω)/(Δ + V), ∂_ω g_out = −1/(Δ + V), at any V the grid
    # resolves; the last two labels sit far in the estimate's tail (the posterior 15 and 24
    # prior standard deviations from ω, every weight below e^−745 before rescaling)
    channel = output_channel("z", noise=DELTA)
    rng = np.random.default_rng(0)
    y = np.append(2.0 * rng.standard_normal(200), [8.0, 8.5])
    omega = np.append(rng.standard_normal(200), [-2.0, -8.0])
    V = np.append(rng.uniform(channel.v_min, 1.0, 200), [0.05, 0.04])
    g, dg = channel(y, omega, V)
    np.testing.assert_allclose(g, (y - omega) / (DELTA + V), rtol=1e-9)
    np.testing.assert_allclose(dg, -1.0 / (DELTA + V), rtol=1e-9)
    with pytest.raises(ConfigError, match="v_min"):
        channel(y[:1], omega[:1], channel.v_min / 10)


def test_the_output_channel_gives_the_state_evolutions_information(phase_retrieval_table):
    # f(q) = E[g_out²] by Monte Carlo with the compiled channel, against the quadrature table
    # of channel_information (matrix sums over a y grid: an independent computation), at
    # two of the table's own overlaps
    channel = output_channel("z**2", noise=DELTA)
    table = phase_retrieval_table
    rng = np.random.default_rng(1)
    N = 25_000
    for q, f in zip(table.q[[10, 16]], table.f[[10, 16]], strict=True):
        omega = math.sqrt(q) * rng.standard_normal(N)
        z = omega + math.sqrt(1 - q) * rng.standard_normal(N)
        y = z ** 2 + math.sqrt(DELTA) * rng.standard_normal(N)
        g, dg = channel(y, omega, 1 - q)
        assert abs((g * g).mean() - f) < 4 * (g * g).std() / math.sqrt(N)
        # Nishimori: E[∂_ω g_out] = −E[g_out²]
        assert abs(dg.mean() + (g * g).mean()) < 4 * (dg + g * g).std() / math.sqrt(N)


def test_gamp_on_the_gaussian_channel_reaches_the_exact_posterior_mean():
    # Gaussian prior and channel: a GAMP fixed point's means are the posterior mean
    # (Rangan 2011), here ridge regression (FᵀF/Δ + I)⁻¹ Fᵀy/Δ on the same data
    run = run_gamp("z", 1.0, 200, noise=DELTA, seed=3, tol=1e-16)
    F, y, teacher = gamp_data("z", 1.0, 200, noise=DELTA, seed=3)
    ridge = np.linalg.solve(F.T @ F / DELTA + np.eye(200), F.T @ y / DELTA)
    assert run.converged
    np.testing.assert_allclose(run.estimate, ridge, atol=1e-6)
    assert run.overlaps[-1] == pytest.approx(ridge @ teacher / 200, abs=1e-7)
    assert run.teacher_norm == pytest.approx(teacher @ teacher / 200)


def test_gamp_on_the_gaussian_channel_matches_the_state_evolution():
    alpha, d = 1.0, 600
    runs = [run_gamp("z", alpha, d, noise=DELTA, seed=seed) for seed in range(6)]
    q = np.array([run.overlap for run in runs])
    se = gaussian_se(alpha)
    assert all(run.converged for run in runs)
    assert abs(q.mean() - se) < 3 * q.std(ddof=1) / math.sqrt(q.size) + 0.005
    # the Nishimori identities, seed by seed: ‖ŵ‖²/d = q, mean v = 1 − q (to O(1/√d))
    for run in runs:
        assert run.norms[-1] == pytest.approx(se, abs=0.08)
        assert 1 - run.variances[-1] == pytest.approx(se, abs=0.02)
    # the cosine: ŵ·w*/(‖ŵ‖‖w*‖) → √q, without the teacher norm's O(1/√d) spread
    cosines = np.array([run.normalised[-1] for run in runs])
    assert abs(cosines.mean() - math.sqrt(se)) < 3 * cosines.std(ddof=1) / math.sqrt(6) + 0.005


def test_noisy_phase_retrieval_is_learned_above_alpha_c_only(phase_retrieval_table):
    curve = bayes_optimal_overlap("z**2", [0.3, 2.0], noise=DELTA, table=phase_retrieval_table)
    assert curve.alpha_c == pytest.approx(
        weak_recovery_thresholds("z**2", noise=DELTA).alpha_c, rel=1e-6)
    assert curve.uninformed[0] == 0.0 and curve.uninformed[1] > 0.9
    below = [run_gamp("z**2", 0.3, 400, noise=DELTA, seed=s).overlap for s in range(2)]
    assert max(below) < 0.05                                       # O(1/√d) at most
    for seed in range(2):
        run = run_gamp("z**2", 2.0, 600, noise=DELTA, seed=seed)
        # |q| carries the teacher norm's spread (‖w*‖²/d = 1 ± 0.06 at d = 600); cos² not
        assert run.converged and run.overlap == pytest.approx(curve.uninformed[1],
                                                              abs=0.2 * run.overlap)
        assert run.overlap / run.teacher_norm == pytest.approx(curve.uninformed[1], abs=0.03)
        assert run.normalised[-1] ** 2 == pytest.approx(curve.uninformed[1], abs=0.02)


def test_the_gap_to_the_state_evolution_shrinks_with_d(tmp_path, linear_table):
    sweep = gamp_sweep("z", [1.0], [50, 200, 800], 6, noise=DELTA, table=linear_table)
    np.testing.assert_allclose(sweep.se, gaussian_se(1.0), atol=1e-6)
    assert sweep.converged.all()
    for quantity in ("overlap", "cosine"):
        gaps = sweep.gaps(quantity).mean(axis=2)[0]
        assert gaps[2] < gaps[1] < gaps[0]
        gamma, error = sweep.pooled_exponent(quantity)
        assert sweep.exponents(quantity)[0] == pytest.approx(gamma)   # one α: one fit
        assert 0.25 < gamma < 0.8 and error < 0.3                    # theory: 1/2
    assert sweep.gaps("cosine")[0, 2].mean() < sweep.gaps("overlap")[0, 2].mean()
    assert "γ" in sweep.describe() and "d=800" in sweep.describe()
    back = GampSweep.load(sweep.save(tmp_path / "sweep.npz"))
    assert back.describe() == sweep.describe()
    np.testing.assert_array_equal(back.cosines, sweep.cosines)
    fig = plot_gamp(back, "cosine")
    assert len(fig.axes) == 2 and len(fig.axes[0].containers) == 3   # one bar set per d
    assert set(result_figures(back)) == {"gamp"}
    with pytest.raises(ConfigError, match="quantity"):
        sweep.gaps("risk")


def test_a_run_saves_and_loads(tmp_path):
    run = run_gamp("z", 0.5, 40, noise=DELTA, seed=1)
    back = GampRun.load(run.save(tmp_path / "run.npz"))
    assert back.describe() == run.describe() and "converged" in run.describe()
    np.testing.assert_array_equal(back.estimate, run.estimate)


@pytest.mark.parametrize("call, message", [
    (lambda: run_gamp("z", 0.0, 100, noise=0.1), "α = n/d"),
    (lambda: run_gamp("z", -1.0, 100, noise=0.1), "α = n/d"),
    (lambda: run_gamp("z", math.inf, 100, noise=0.1), "α = n/d"),
    (lambda: run_gamp("z", 1.0, 10, noise=0.1), "too small"),
    (lambda: run_gamp("z**2", 1.0, 100), "noiseless"),
    (lambda: run_gamp("z1*z2", 1.0, 100, noise=0.1), "k = 2"),
    (lambda: run_gamp("z", 1.0, 100, noise=0.1, damping=1.0), "damping"),
    (lambda: run_gamp("z", 1.0, 100, noise=0.1, start=0.0), "start"),
    (lambda: gamp_sweep("z", [1.0, 0.0], [100], 1, noise=0.1), "α = n/d"),
    (lambda: gamp_sweep("z", [1.0], [], 1, noise=0.1), "at least one"),
    (lambda: gamp_sweep("z", [1.0], [100], 0, noise=0.1), "seed"),
])
def test_bad_input_is_a_named_error(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
