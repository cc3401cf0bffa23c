"""The finite-d simulator and the validation of the ODEs against it (small sizes)."""

import numpy as np
import pytest

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.errors import ConfigError, CovarianceError
from overlapdyn.sgd.simulator import simulate, warm_start_weights
from overlapdyn.sgd.validation import validate

SAAD_SOLLA = Model(Target(k=2, activation="erf", c_k=1.0),
                   Student(p=2, activation="erf", c_p=1.0), Protocol(eta=0.5))
TIMES = np.concatenate([[0.0], np.geomspace(0.1, 10.0, 15)])


def test_runs_are_reproducible_and_seeds_differ():
    first = simulate(SAAD_SOLLA, 200, TIMES, seeds=(0, 1))
    again = simulate(SAAD_SOLLA, 200, TIMES, seeds=(1, 0))
    np.testing.assert_array_equal(first.trajectories[0].M, again.trajectories[1].M)
    assert not np.allclose(first.trajectories[0].M, first.trajectories[1].M)
    assert first.t[0] == 0 and first.t[-1] == pytest.approx(10.0)
    assert first.stack("Q").shape == (2, len(first.t), 2, 2)


def test_warm_start_has_the_prescribed_overlaps():
    M = np.array([[0.4, 0.1], [-0.2, 0.3]])
    Q = np.array([[1.0, 0.2], [0.2, 0.8]])
    P = np.array([[1.0, 0.3], [0.3, 1.0]])
    W = warm_start_weights(M, Q, P, 300, np.random.default_rng(0))
    U = np.zeros((2, 300))
    U[:, :2] = np.sqrt(300) * np.linalg.cholesky(P)
    np.testing.assert_allclose(W @ U.T / 300, M, atol=1e-12)
    np.testing.assert_allclose(W @ W.T / 300, Q, atol=1e-12)
    with pytest.raises(CovarianceError, match="not a valid Gram block"):
        warm_start_weights(np.array([[1.5, 0.0]]), np.eye(1), np.eye(2), 50,
                           np.random.default_rng(0))
    run = simulate(SAAD_SOLLA, 300, TIMES[:3], init=(M[:, :2], Q))
    np.testing.assert_allclose(run.trajectories[0].M[0], M, atol=1e-12)


def test_spherical_runs_keep_unit_norms_and_test_risk_agrees():
    model = Model(Target(k=1, activation="He3"), Student(p=1, activation="He3", c_p=1.0),
                  Protocol(eta=0.002, spherical=True))
    run = simulate(model, 400, TIMES[:6], init=(np.array([[0.5]]), np.eye(1)), n_test=4000)
    trajectory = run.trajectories[0]
    np.testing.assert_allclose(trajectory.Q[:, 0, 0], 1.0, atol=1e-12)
    # held-out risk vs the overlap formula: within 4 standard errors (heavy He3 tails)
    test = np.array(trajectory.test_risk)
    assert np.all(np.abs(test - trajectory.risk) < 4 * trajectory.risk * np.sqrt(40 / 4000))


def test_blow_up_stops_the_seed_and_keeps_what_was_recorded():
    model = Model(Target(k=2, activation="He3"), Student(p=2, activation="He3"),
                  Protocol(eta=3.0))
    run = simulate(model, 100, np.linspace(0, 5, 11), seeds=(0,))
    assert run.failed_at[0] > 0 and run.trajectories[0].status == -1
    assert "non-finite" in run.trajectories[0].message
    assert run.trajectories[0].t.size >= 1 and np.all(np.isfinite(run.trajectories[0].Q))


def test_bad_dimension_is_named():
    with pytest.raises(ValueError, match="at least p \\+ k"):
        simulate(SAAD_SOLLA, 3, TIMES)


def test_ode_matches_simulation_with_gap_shrinking_like_inverse_sqrt_d():
    report = validate(SAAD_SOLLA, (100, 400, 1600), TIMES, seeds=6)
    assert report.passed, report.describe()
    for quantity, exponent in report.exponents.items():
        assert -0.8 < exponent < -0.25, (quantity, exponent)
    assert report.gaps["risk"][-1].mean() < 0.02
    assert "verdict: PASS" in report.describe()


def test_diverging_weights_are_reported():
    """Linear model at η = 8: the error stays finite for a while, but Q passes 10⁸."""
    model = Model(Target(k=1, activation="linear"), Student(p=1, activation="linear"),
                  Protocol(eta=8.0))
    run = simulate(model, 100, np.linspace(0.0, 3.0, 20), seeds=[0]).trajectories[0]
    assert run.status == -1 and "diverged" in run.message and "η" in run.message


@pytest.mark.parametrize("times", [[0.0, 2.0, 1.0], [-1.0, 0.0, 1.0], [0.0, np.nan, 1.0],
                                   [0.0, 1.0, 1.0], [], [[0.0, 1.0]]])
def test_times_that_would_be_reordered_or_dropped_are_refused(times):
    with pytest.raises(ConfigError, match="times must be"):
        simulate(SAAD_SOLLA, 100, np.array(times))


def test_the_mean_of_failed_seeds_warns():
    """Every seed diverges within the first saved interval: the seed mean is the start
    alone, and says so."""
    model = Model(Target(k=2, activation="He3"), Student(p=2, activation="He3"),
                  Protocol(eta=5.0))
    run = simulate(model, 100, np.linspace(0, 5, 11), seeds=(0, 1))
    assert all(tr.t.size == 1 for tr in run.trajectories)
    with pytest.warns(RuntimeWarning, match="2 of 2 seeds failed.*η is probably too large"):
        assert run.mean("risk").shape == (1,)
    with pytest.warns(RuntimeWarning, match="seeds failed"):
        run.percentile("M", 90)


@pytest.mark.parametrize("case", ["trained readout, test risk", "blow-up and escape stops"])
def test_the_progress_bar_cuts_the_run_without_changing_a_number(case, monkeypatch):
    """With ``progress`` the compiled loop runs in chunks between saved times, resuming the
    weights, the readout and the random streams: every recorded number is the same as in
    one call, seeds that stop (escape, non-finite error) stay stopped, and the bar counts
    every step once."""
    import tqdm.auto

    import overlapdyn.sgd.simulator as simulator

    counted = []

    class Recorder(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "disable": True})
            counted.append([kwargs["total"], 0])

        def update(self, n=1):
            counted[-1][1] += n

    monkeypatch.setattr(tqdm.auto, "tqdm", Recorder)
    monkeypatch.setattr(simulator, "PROGRESS_CHUNKS", 4)
    if case == "trained readout, test risk":
        model = Model(Target(k=2, activation="erf", c_k=1.0),
                      Student(p=2, activation="erf", c_p=1.0, train_readout=True, eta_a=0.5),
                      Protocol(eta=0.5))
        options = {"seeds": 3, "n_test": 50}
    else:  # at d = 400: seed 0 runs to t = 5, seeds 1 and 3 escape at t = 0.5 and 2.5, and
        # seed 2's error turns non-finite at step 1963, each in another chunk
        model = Model(Target(k=2, activation="He2"), Student(p=2, activation="He2"),
                      Protocol(eta=0.5))
        options = {"seeds": (0, 1, 2, 3), "stop_overlap": 0.2}
    d, times = 400, np.linspace(0, 5, 11)
    one = simulate(model, d, times, **options)
    cut = simulate(model, d, times, progress=True, **options)
    for a, b in zip(one.trajectories, cut.trajectories, strict=True):
        for field in ("t", "M", "Q", "a", "risk"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert (a.test_risk is None) == (b.test_risk is None)
        if a.test_risk is not None:
            np.testing.assert_array_equal(a.test_risk, b.test_risk)
        assert a.message == b.message
    np.testing.assert_array_equal(one.failed_at, cut.failed_at)
    if "stop_overlap" in options:
        assert [len(run.t) for run in cut.trajectories] == [11, 2, 10, 6]
        assert cut.failed_at[2] == 1963
    assert counted == [[2000, 2000]]      # one batch of seeds, 5·400 steps, each counted once
