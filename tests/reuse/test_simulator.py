"""The finite-d full-batch GD simulator: against the two-step closed form (the authors'
setting, small d), against exact finite-sample identities, and its input checks."""

import numpy as np
import pytest

from overlapdyn.errors import ConfigError
from overlapdyn.model import Student, Target
from overlapdyn.reuse import FullBatchGD, GDSimulation, simulate_gd, two_step


def paper_spec() -> FullBatchGD:
    """The authors' setting: tanh(z1 + He3(z2)), ReLU p = 2, a = (1, −1)/√2, α = 3, lr = 0.2."""
    return FullBatchGD.from_papers(Target(k=2, expression="tanh(z1 + He3(z2))"),
                                   Student(p=2, activation="relu", c_p=1.0,
                                           a=(2 ** -0.5, -(2 ** -0.5))), lr=0.2, alpha=3.0)


@pytest.fixture(scope="module")
def paper_run():
    spec = paper_spec()
    return (simulate_gd(spec, 800, 2, seeds=12, risk_samples=200_000),
            two_step(spec, samples=2 ** 16, blocks=4),
            two_step(spec, samples=2 ** 16, blocks=4, curvature="gauss-newton"))


def test_the_simulator_agrees_with_the_closed_form_on_two_steps(paper_run):
    sim, theory, _ = paper_run
    M, dM = sim.mean("M"), sim.sem("M")
    # 4 standard errors of the seed mean (+ the closed form's own, much smaller, error)
    assert np.all(np.abs(M[1:] - theory.M[1:]) < 4 * dM[1:] + 3 * theory.M_error[1:])
    Q, dQ = sim.mean("Q"), sim.sem("Q")
    assert np.all(np.abs(Q[1] - theory.Q[1]) < 4 * dQ[1] + 3 * theory.Q_error[1])
    train, dtrain = sim.mean("train_risk")[:2], sim.sem("train_risk")[:2]
    assert np.all(np.abs(train - theory.train_risk) < 4 * dtrain + 1e-3)
    # the test risk's Monte Carlo (2·10⁵ draws, shared by the seeds) adds ≈ 1e-3
    test, dtest = sim.mean("test_risk")[:2], sim.sem("test_risk")[:2]
    assert np.all(np.abs(test - theory.test_risk) < 4 * dtest + 4e-3)
    # and the steps move things by much more than these tolerances
    assert np.all(np.abs(M[2] - M[1]) > 10 * dM[2])
    assert theory.train_risk[0] - theory.train_risk[1] > 0.1


def test_the_training_risk_after_one_step_rejects_the_gauss_newton_fields(paper_run):
    sim, theory, theirs = paper_run
    train, dtrain = sim.mean("train_risk")[1], sim.sem("train_risk")[1]
    assert abs(train - theory.train_risk[1]) < 3 * dtrain + 1e-3
    assert abs(train - theirs.train_risk[1]) > 4 * dtrain


def test_the_first_step_of_a_linear_model_is_the_exact_finite_sample_update():
    # σ(x) = x, y = z1: G = b(z − bλ) and M¹ = η b (1/n) Σ z_μ² − η b² (1/n) Σ z_μ λ⁰_μ, here
    # with M⁰ = 0 exactly, so E[M¹] = ηb over seeds with a spread ≈ ηb √(2/n)
    spec = FullBatchGD(Target(k=1, expression="z1"), Student(p=1, activation="linear", c_p=1.0,
                                                             a=(0.5,)), eta=0.4, alpha=4.0)
    sim = simulate_gd(spec, 300, 1, seeds=20, risk_samples=1000)
    spread = 0.4 * 0.5 * np.sqrt(2 / sim.n + 0.25 / sim.n)
    assert sim.mean("M")[1, 0, 0] == pytest.approx(0.2, abs=4 * spread / np.sqrt(20))
    assert sim.M[:, 1, 0, 0].std(ddof=1) == pytest.approx(spread, rel=0.5)


def test_a_run_saves_and_loads_with_its_configuration(tmp_path):
    spec = FullBatchGD(Target(k=1, activation="tanh"), Student(p=2, activation="relu"),
                       eta=0.5, alpha=1.5, ridge=0.1)
    sim = simulate_gd(spec, 60, 3, seeds=(4, 7), init=(np.full((2, 1), 0.2), np.eye(2)),
                      risk_samples=2000)
    assert sim.M.shape == (2, 4, 2, 1) and sim.n == 90 and sim.steps == 3
    np.testing.assert_allclose(sim.M[:, 0], 0.2)
    back = GDSimulation.load(sim.save(tmp_path / "gd.npz"))
    assert back.spec == spec and back.seeds == (4, 7) and back.failed_at == (-1, -1)
    np.testing.assert_array_equal(back.test_risk, sim.test_risk)
    np.testing.assert_array_equal(back.init[0], sim.init[0])
    assert "t = 3" in back.describe()


def test_a_diverging_run_is_marked_not_hidden():
    spec = FullBatchGD(Target(k=1, expression="z1"), Student(p=1, activation="He3"),
                       eta=50.0, alpha=2.0)
    sim = simulate_gd(spec, 50, 40, seeds=1, risk_samples=1000)
    assert sim.failed_at[0] > 0
    assert np.isnan(sim.M[0, -1]).all() and "diverged" in sim.describe()


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 0}, "steps"),
    ({"steps": 10 ** 6}, "steps"),
    ({"d": 3}, "d = 3"),
    ({"seeds": 0}, "seed"),
    ({"risk_samples": 10}, "risk_samples"),
    ({"init": (np.zeros(2), np.eye(2))}, "M⁰"),
])
def test_bad_arguments_are_named(kwargs, match):
    values = {"d": 50, "steps": 2} | kwargs
    with pytest.raises(ConfigError, match=match):
        simulate_gd(paper_spec(), values.pop("d"), values.pop("steps"), **values)
