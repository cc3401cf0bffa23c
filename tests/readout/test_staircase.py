"""Several giant steps: the sign groups' state evolution against a hand computation, the
staircase of directions, the rank of the learned subspace, and the finite-d simulation."""

import math

import numpy as np
import pytest
from scipy import integrate, special

import overlapdyn as od
from overlapdyn.errors import ConfigError
from overlapdyn.readout import (
    GiantSteps,
    StaircaseOverlaps,
    StaircaseSimulation,
    simulate_giant_steps,
    staircase_overlaps,
)

TARGET = od.Target(k=2, expression="z1 + z1*z2")
ETA, ALPHA0 = 2.0, 4.0


def _gaussian(f, variance=1.0):
    """``E[f(x)]``, x ~ N(0, variance), by adaptive quadrature."""
    density = lambda x: math.exp(-x * x / (2 * variance)) / math.sqrt(2 * math.pi * variance)  # noqa: E731
    return integrate.quad(lambda x: f(x) * density(x), -60, 60, epsabs=1e-13)[0]


@pytest.fixture(scope="module")
def balanced():
    return staircase_overlaps(GiantSteps(TARGET, "softplus", ETA, (ALPHA0, ALPHA0), "balanced"))


def test_the_steps_match_the_hand_computation(balanced):
    # step 1 from M = 0: M¹ = η̃ a μ₁ E[y z] = ±η̃ μ₁ (1, 0); y has mean 0, so
    # Q¹ = 1 + η̃² (μ₁² ‖E[yz]‖² + E[y²] E[σ'²]/α₀) with E[y²] = 2
    mu1 = _gaussian(special.expit)
    dsigma2 = _gaussian(lambda x: special.expit(x) ** 2)
    np.testing.assert_allclose(balanced.M[1], [[ETA * mu1, 0.0], [-ETA * mu1, 0.0]],
                               atol=1e-10)
    np.testing.assert_allclose(balanced.Q[1], 1 + ETA ** 2 * (mu1 ** 2 + 2 * dsigma2 / ALPHA0),
                               rtol=1e-9)
    # step 2 along z2: η̃ a E[y σ'(λ) z2] = η̃ a E[z1 σ'(λ)] = η̃ a M¹₁ E[σ''(λ)], λ ~ N(0, Q¹)
    curvature = _gaussian(lambda x: special.expit(x) * (1 - special.expit(x)), balanced.Q[1, 0])
    expected = ETA * ETA * mu1 * curvature
    np.testing.assert_allclose(balanced.M[2, :, 1], [expected, expected], rtol=1e-9)


def test_one_direction_per_step_and_the_rank_of_what_is_learned(balanced):
    assert balanced.learned_at == (1, 2)
    assert balanced.rank.tolist() == [0, 1, 2]
    # equal signs: every neuron learns the same vector, a rank-one spike at every step
    equal = StaircaseOverlaps(GiantSteps(TARGET, "softplus", ETA, (ALPHA0, ALPHA0)),
                              balanced.M[:, :1], balanced.Q[:, :1])
    assert equal.rank.tolist() == [0, 1, 1]
    assert "z2: step 2" in balanced.describe()


def test_the_simulation_follows_the_staircase(balanced):
    sim = simulate_giant_steps(balanced.steps, [1.0, 4.0], 0.3, d=400, p=200, seeds=2)
    assert sim.M.shape == (2, 3, 2, 2) and sim.test_error.shape == (2, 3, 2)
    gap = np.abs(sim.M.mean(axis=0) - balanced.M)
    # O(d^(-1/2)) finite-size gaps: a few per cent of the learned overlaps (measured
    # ≤ 0.05 here), far below the overlaps themselves
    assert gap.max() < 0.12, gap
    np.testing.assert_allclose(sim.Q.mean(axis=0), balanced.Q, rtol=0.12)
    # the second direction makes z1·z2 fittable: the test error falls at each step
    error = sim.test_error.mean(axis=0)
    assert np.all(error[2] < error[1]) and np.all(error[1] < 0.8 * error[0]), error


def test_equal_signs_share_one_direction_at_finite_d():
    steps = GiantSteps(TARGET, "softplus", ETA, (ALPHA0, ALPHA0))
    sim = simulate_giant_steps(steps, 4.0, 0.3, d=300, p=150, seeds=1)
    # one group; its neurons' mean learns z1 then a little of z2, like each group above
    assert sim.M.shape == (1, 3, 1, 2)
    assert sim.M[0, 1, 0, 0] > 0.8 and abs(sim.M[0, 1, 0, 1]) < 0.1


def test_results_save_and_load_with_their_configuration(balanced, tmp_path):
    balanced.save(tmp_path / "theory")
    loaded = StaircaseOverlaps.load(tmp_path / "theory")
    assert loaded.steps == balanced.steps
    np.testing.assert_array_equal(loaded.M, balanced.M)
    sim = simulate_giant_steps(balanced.steps, 1.0, 0.3, d=40, p=8, seeds=1, n_test=200)
    sim.save(tmp_path / "sim")
    again = StaircaseSimulation.load(tmp_path / "sim")
    assert again.steps == sim.steps and again.seeds == sim.seeds
    np.testing.assert_array_equal(again.test_error, sim.test_error)


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha0": ()}, "alpha0"),
    ({"alpha0": (1.0, -1.0)}, "alpha0"),
    ({"alpha0": (1.0,) * 11}, "alpha0"),
    ({"eta_tilde": 0.0}, "eta_tilde"),
    ({"readout_signs": "random"}, "readout_signs"),
])
def test_bad_specs_are_named(kwargs, match):
    config = {"target": TARGET, "activation": "softplus", "eta_tilde": 1.0, "alpha0": (1.0,),
              **kwargs}
    with pytest.raises(ConfigError, match=match):
        GiantSteps(**config)


def test_bad_simulation_arguments_are_named():
    steps = GiantSteps(TARGET, "softplus", 1.0, (1.0,), "balanced")
    with pytest.raises(ConfigError, match="even width"):
        simulate_giant_steps(steps, 1.0, 0.1, d=20, p=5)
    with pytest.raises(ConfigError, match="alpha"):
        simulate_giant_steps(steps, [1.0, 0.0], 0.1, d=20, p=4)
    with pytest.raises(ConfigError, match="loss"):
        simulate_giant_steps(steps, 1.0, 0.1, d=20, p=4, loss="hinge")


def test_the_figure_draws_theory_and_simulation(balanced):
    sim = simulate_giant_steps(balanced.steps, [1.0, 2.0], 0.3, d=40, p=8, seeds=2, n_test=200)
    fig = od.plot.plot_staircase(balanced, [sim])
    left, right = fig.axes
    assert len(left.lines) >= 4 and right.get_xlabel().startswith("α")
    assert set(od.plot.result_figures(balanced)) == {"staircase"}
