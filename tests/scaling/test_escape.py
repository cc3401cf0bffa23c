"""Escape times vs d (ODE and simulation routes) and saddle-to-saddle detection.

The acceptance checks of the scaling issue, sized for the test suite: ODE route over
d = 256 … 16384 for He1..He4 (±0.15 of max(ℓ−1, 1)); simulation route for ℓ = 1, 2 at
small d (±0.3); the staircase learned z1 → z2 → z3 with a plateau before z3 that lengthens
with d; the leap-3 slowdown of z1·z2·z3 against the staircase at equal d and η.
"""

import dataclasses
import json

import numpy as np
import pytest

import overlapdyn as od

ETA0 = {1: 0.5, 2: 0.1, 3: 0.1, 4: 0.02}


def single_index(ell: int) -> od.Model:
    """Ben Arous et al.'s setting: one spherical neuron, correlation loss, σ = σ* = He_ℓ."""
    return od.Model(od.Target(k=1, activation=f"He{ell}", c_k=1.0),
                    od.Student(p=1, activation=f"He{ell}", c_p=1.0),
                    od.Protocol(eta=ETA0[ell], loss="correlation", spherical=True))


@pytest.mark.parametrize("ell", [1, 2, 3, 4])
def test_ode_escape_exponent_matches_the_prediction(ell):
    escape = od.measure_escape_ode(single_index(ell), [256, 1024, 4096, 16384])
    assert np.isfinite(escape.times).all()
    fit = escape.fit()
    assert fit.log_factor == (ell == 2)
    assert abs(fit.exponent - max(ell - 1, 1)) <= 0.15, escape.describe()
    # the learning rate follows η₀ d^{−(ℓ−2)/2}
    expected = [ETA0[ell] * d ** (-max(ell - 2, 0) / 2) for d in escape.ds]
    assert np.allclose(escape.etas, expected)
    assert "agrees within ±0.15" in escape.describe()


def test_without_eta_scaling_the_noise_term_prevents_escape():
    """He3 at a fixed η: dm/dt ≈ 18η m² − 54η² m near m = 0, so the start m = d^{-1/2}
    escapes only if η < 1/(3√d): η = 0.01 works at d = 256, not at d = 65536."""
    model = dataclasses.replace(single_index(3), protocol=dataclasses.replace(
        single_index(3).protocol, eta=0.01))
    # the critical learning rate says so before integrating. Exactly (Hermite products):
    # E[G z] = 18m², E[G λ] = 18m³, E[G²] = 9 E[He3(z)² He2(λ)²] = 108 + 1296m² + 1944m⁴,
    # so η_c = 36m(1 − m²)/E[G²] = m(1 − m²)/(3 + 36m² + 54m⁴) ≈ m/3
    for d in (256, 65536):
        critical = od.scaling.critical_learning_rate(model, d)
        m = 1 / np.sqrt(d)
        assert critical.eta == pytest.approx(m * (1 - m**2) / (3 + 36 * m**2 + 54 * m**4),
                                             rel=1e-10)
        assert critical.escapes(0.01) == (d == 256)
    with pytest.warns(od.errors.LearningRateWarning,
                      match=r"η = 0.01 at d = 65536 does not escape .* η_c = 0.001302.*"
                            r"below 0.0013"):
        escape = od.measure_escape_ode(model, [256, 65536], scale_eta=False, t_max=1e6)
    assert np.isfinite(escape.times[0, 0]) and np.isnan(escape.times[1, 0])
    assert "fewer than two dimensions escaped" in escape.describe()
    # η₀ = ½ min_d η_c(d) d^{1/2} = ½ (1 − m²)/(3 + 36m² + 54m⁴), smallest at the smallest d
    m = 1 / 16
    assert od.scaling.escaping_learning_rate(model, [256, 65536]) == pytest.approx(
        0.5 * (1 - m**2) / (3 + 36 * m**2 + 54 * m**4), rel=1e-10)
    assert not escape.fittable and escape.to_dict()["fit"] is None  # still saved


def test_escape_time_interpolates_the_crossing():
    model = single_index(1)
    trajectory = od.integrate(model, od.scaling.escape_start(model, 400), od.SaveAt(20.0, 400))
    t = od.scaling.escape_time(trajectory, 0.5)
    # He1, correlation loss, spherical: dm/dt = η(1 − m²) − (η²/2) m exactly
    eta = model.protocol.eta
    reference = od.integrate(model, od.scaling.escape_start(model, 400), 20.0,
                             events=(od.OverlapCrosses(0.5),))
    fired = reference.events["|M[*,*]|>0.5"][0]
    assert t == pytest.approx(fired, rel=2e-3)
    m_plus = (-eta / 2 + np.sqrt(eta**2 / 4 + 4)) / 2  # root of 1 − m² − (η/2)m
    assert trajectory.M[-1, 0, 0] == pytest.approx(m_plus, rel=1e-4)
    assert np.isnan(od.scaling.escape_time(trajectory, 0.999))


@pytest.mark.parametrize(("ell", "ds"), [(1, [64, 128, 256, 512]), (2, [64, 128, 256, 512])])
def test_simulated_escape_exponent(ell, ds):
    escape = od.measure_escape_simulated(single_index(ell), ds, seeds=6)
    assert escape.escaped.min() >= 0.5
    fit = escape.fit()
    assert fit.method == "bootstrap"
    assert abs(fit.exponent - 1.0) <= 0.3, escape.describe()
    # each seed stopped at its escape: its last saved cosine is past the threshold
    for runs in escape.trajectories:
        for trajectory in runs:
            assert od.ode.overlap_cosines(trajectory.M, trajectory.Q)[-1].max() >= 0.5
            assert od.ode.overlap_cosines(trajectory.M, trajectory.Q)[-2].max() < 0.5


def test_simulated_horizons_come_from_the_ode_reference():
    model, ds = single_index(1), [64, 128]
    reference = od.measure_escape_ode(model, ds, n_points=50).times[:, 0]
    measured = od.measure_escape_simulated(model, ds, seeds=1)
    given = od.measure_escape_simulated(model, ds, seeds=1, reference=reference)
    np.testing.assert_allclose(measured.t_max, 6.0 * reference, rtol=1e-9)
    assert given.t_max == measured.t_max
    np.testing.assert_array_equal(given.times, measured.times)
    with pytest.raises(od.OverlapdynError, match="one ODE escape time per d"):
        od.measure_escape_simulated(model, ds, seeds=1, reference=reference[:1])


def test_escape_results_save_their_configuration(tmp_path):
    escape = od.measure_escape_ode(single_index(2), [256, 1024])
    escape.save(tmp_path / "escape.npz")
    saved = json.loads((tmp_path / "escape.json").read_text())
    assert saved["model"] == single_index(2).to_dict()
    assert saved["prediction"]["exponent"] == 2
    assert saved["times"][0][0] == pytest.approx(escape.times[0, 0])


STAIRCASE = od.Model(od.Target(k=3, expression="z1 + z1*z2 + z1*z2*z3"),
                     od.Student(p=4, activation="x + x**2 + x**3/6"),
                     od.Protocol(eta=0.1, n_b=16))


def test_staircase_is_learned_saddle_to_saddle():
    leap = od.leap(STAIRCASE.target)
    ends = []
    for d in (10**4, 10**8):
        trajectory = od.integrate(STAIRCASE, od.scaling.escape_start(STAIRCASE, d, seed=0),
                                  od.SaveAt(5000.0, n_points=150, t_first=0.1),
                                  solver=od.Solver("DOP853"))
        saddles = od.saddle_to_saddle(trajectory, threshold=0.3)
        assert saddles.order == (0, 1, 2)
        assert saddles.agrees_with(leap)
        # the saddle before z3: a plateau between the learning of z2 and of z3
        before_z3 = saddles.plateaus_between()[-1]
        assert before_z3 is not None, saddles.describe()
        assert before_z3.t_end / before_z3.t_start > 3
        ends.append(saddles.learn_times[2])
    # escaping it starts from M ~ d^{-1/2}: the plateau lengthens with log d
    assert ends[1] > 1.5 * ends[0]


def test_leap_three_is_slower_than_the_staircase_at_equal_d():
    """One spherical neuron, correlation loss (neurons decouple), η = 0.3/√d for both."""
    base = od.Model(od.Target(k=3, expression="z1 + z1*z2 + z1*z2*z3"),
                    od.Student(p=1, activation="x + He2(x) + He3(x)", c_p=1.0),
                    od.Protocol(eta=0.3, loss="correlation", spherical=True))
    leap3 = dataclasses.replace(base, target=od.Target(k=3, expression="z1*z2*z3"))
    ratios, leap3_times = [], []
    for d in (1000, 16000):
        times = []
        for model in (base, leap3):
            model_d = dataclasses.replace(model, protocol=dataclasses.replace(
                model.protocol, eta=0.3 / np.sqrt(d)))
            # all three directions learned: the last one to pass the threshold
            times.append(max(od.measure_escape_ode(model_d, [d], threshold=0.3, direction=r,
                                                   scale_eta=False, t_max=1e7).times[0, 0]
                             for r in range(3)))
        ratios.append(times[1] / times[0])
        leap3_times.append(times[1])
    assert ratios[0] > 4 and ratios[1] > 2.5 * ratios[0]
    # leap 3 at η ∝ d^{-1/2}: t ≍ d
    assert np.log(leap3_times[1] / leap3_times[0]) / np.log(16) == pytest.approx(1.0, abs=0.15)


def _saddles(learn_times):
    return od.scaling.SaddleToSaddle(tuple(learn_times), (), 0.5)


def test_learning_order_is_compared_step_by_step():
    together = od.leap("z1 + z1*z2*z3", 3)          # z1, then z2 and z3 in one step
    assert _saddles([1.0, 5.0, 4.0]).agrees_with(together)
    assert not _saddles([5.0, 1.0, 4.0]).agrees_with(together)
    assert _saddles([1.0, 5.0, np.nan]).agrees_with(together)
    staircase = od.leap("z1 + z1*z2 + z1*z2*z3", 3)
    assert not _saddles([1.0, 5.0, 4.0]).agrees_with(staircase)
    assert not _saddles([1.0, np.nan, 4.0]).agrees_with(staircase)  # z3 before z2 ever


def test_plateaus_are_found_where_the_risk_is_flat():
    t = np.geomspace(0.01, 1e4, 400)
    steps = 1.0 / (1 + (t / 1.0) ** 4) + 1.0 / (1 + (t / 300.0) ** 4)  # drops at t = 1, 300
    trajectory = od.Trajectory(t=t, M=np.zeros((t.size, 1, 1)), Q=np.ones((t.size, 1, 1)),
                               a=np.ones((t.size, 1)), risk=steps,
                               model=od.Model(od.Target(k=1, activation="He1"),
                                              od.Student(p=1, activation="He1"),
                                              od.Protocol(eta=0.1)))
    plateaus = od.saddle_to_saddle(trajectory).plateaus
    assert len(plateaus) == 3
    middle = plateaus[1]
    assert 1.0 < middle.t_start < 10.0 and 30.0 < middle.t_end < 300.0
    assert middle.risk == pytest.approx(1.0, abs=0.01)


def test_critical_learning_rate_of_the_mse_and_of_a_given_start():
    """MSE, He3 student and target, spherical, c_p = 1: s = 18m²(1 − m²) and E[G²] = 3456
    at m = 0, so η_c = m/96 + O(m²); plain SGD has the same η_c (the cosine's drift), and
    weight decay cancels from it."""
    mse = od.Model(od.Target(k=1, activation="He3"), od.Student(p=1, activation="He3", c_p=1.0),
                   od.Protocol(eta=0.1, spherical=True))
    critical = od.scaling.critical_learning_rate(mse, 10_000)
    assert critical.eta == pytest.approx(0.01 / 96, rel=2e-4) and critical.d == 10_000
    assert "η_c = 0.0001042" in critical.describe()
    plain = dataclasses.replace(mse, protocol=od.Protocol(eta=0.1, weight_decay=0.3))
    start = (np.array([[0.01]]), np.array([[1.0]]))
    assert od.scaling.critical_learning_rate(plain, start=start).eta == pytest.approx(
        critical.eta, rel=1e-12)
    # the ODE agrees: below η_c the cosine grows from the start, above it shrinks
    for factor, grows in ((0.8, True), (1.25, False)):
        model = dataclasses.replace(mse, protocol=od.Protocol(
            eta=factor * critical.eta, spherical=True))
        run = od.integrate(model, start, od.SaveAt(0.05 / critical.eta, n_points=3))
        assert (run.M[-1, 0, 0] > 0.01) == grows
    # a start at a fixed point of the gradient term (M = 0) cannot escape along anything
    with pytest.raises(od.errors.OverlapdynError, match="M = 0: no direction to escape"):
        od.scaling.critical_learning_rate(mse, start=(np.zeros((1, 1)), np.eye(1)))
    with pytest.raises(od.errors.OverlapdynError, match="not both"):
        od.scaling.critical_learning_rate(mse, 100, start=start)
    with pytest.raises(od.errors.OverlapdynError, match="must have shape"):
        od.scaling.critical_learning_rate(mse, start=(np.zeros((2, 1)), np.eye(2)))
