"""The two-step closed form of full-batch GD: an exact Gaussian case, the published numbers
of the authors' repository, the convention map, and its results on disk."""

import numpy as np
import pytest

from overlapdyn.errors import ConfigError, CovarianceError, OverlapdynError
from overlapdyn.model import Student, Target
from overlapdyn.reuse import FullBatchGD, TwoStepTheory, two_step

# the authors' setting (IdePHICS/benefit-reusing-batch, dmft.py): target tanh(z1 + He3(z2)),
# ReLU student ŷ = a·relu(h) with a = (1, −1)/√2, M⁰ = 0, α = 3, lr = 0.2
PAPER_TARGET = Target(k=2, expression="tanh(z1 + He3(z2))")
PAPER_STUDENT = Student(p=2, activation="relu", c_p=1.0, a=(2 ** -0.5, -(2 ** -0.5)))
# their DMFT's first neuron, M¹₁· and M²₁· (10⁷ Monte Carlo samples: error ≈ 1e-4)
PUBLISHED_M1 = (0.0758, -0.0632)
PUBLISHED_M2 = (0.1238, -0.1027)


def paper_spec() -> FullBatchGD:
    return FullBatchGD.from_papers(PAPER_TARGET, PAPER_STUDENT, lr=0.2, alpha=3.0)


def linear_theory(b: float, eta: float, alpha: float, ridge: float) -> dict:
    """Steps 1–2 for σ(x) = x, y = z (p = k = 1), c_p a = b, from (M⁰, Q⁰) = (0, 1), by hand.

    G = b(z − bλ), so E[Gλ] = −b², E[Gz] = b, E[G²] = b²(1 + b²) at Ω = I; the training
    fields after one step are λ¹ = c_λ λ⁰ + c_z z + ηξ with c_λ = s − ηb²/α − ηb² and
    c_z = ηb/α + ηb (the self term (η/α)G⁰ expanded), ξ ~ N(0, E[G²]/α) independent.
    """
    s = 1 - eta * ridge
    EGl, EGz, EGG = -b ** 2, b, b ** 2 * (1 + b ** 2)
    c_lam, c_z = s - eta * b ** 2 / alpha - eta * b ** 2, eta * b / alpha + eta * b
    M1 = eta * EGz
    Q1 = s ** 2 + 2 * eta * s * EGl + eta ** 2 * (EGl ** 2 + EGz ** 2) + eta ** 2 / alpha * EGG
    M2 = s * M1 + eta * b * (1 - b * c_z)
    train1 = 0.5 * ((1 - b * c_z) ** 2 + b ** 2 * c_lam ** 2 + b ** 2 * eta ** 2 * EGG / alpha)
    test1 = 0.5 * (1 - 2 * b * M1 + b ** 2 * Q1)
    return {"M1": M1, "Q1": Q1, "M2": M2, "train1": train1, "test1": test1}


@pytest.mark.parametrize("ridge", [0.0, 0.3])
def test_a_linear_student_on_a_linear_target_matches_the_hand_computation(ridge):
    spec = FullBatchGD(Target(k=1, expression="z1"), Student(p=1, activation="linear", c_p=1.0,
                                                             a=(0.8,)),
                       eta=0.7, alpha=2.0, ridge=ridge)
    theory = two_step(spec, samples=2 ** 14, blocks=4)
    exact = linear_theory(0.8, 0.7, 2.0, ridge)
    assert theory.M[1, 0, 0] == pytest.approx(exact["M1"], abs=2e-4)
    assert theory.M[2, 0, 0] == pytest.approx(exact["M2"], abs=2e-4)
    assert theory.Q[1, 0, 0] == pytest.approx(exact["Q1"], abs=2e-4)
    assert theory.train_risk[1] == pytest.approx(exact["train1"], abs=2e-4)
    assert theory.test_risk[1] == pytest.approx(exact["test1"], abs=2e-4)
    # the self term is what reuse adds: without it M² would be s M¹ + ηb(1 − ηb²)
    fresh = (1 - 0.7 * ridge) * exact["M1"] + 0.7 * 0.8 * (1 - 0.7 * 0.8 ** 2)
    assert abs(theory.M[2, 0, 0] - fresh) > 0.05
    assert np.all(theory.M_error[1:] < 1e-4)


def test_the_published_first_two_steps_are_reproduced():
    theory = two_step(paper_spec(), samples=2 ** 16, blocks=4)
    # their numbers carry their own Monte Carlo error (≈ 1e-4 per entry): 3e-4 is 3 digits
    assert theory.M[1, 0] == pytest.approx(PUBLISHED_M1, abs=3e-4)
    assert theory.M[2, 0] == pytest.approx(PUBLISHED_M2, abs=4e-4)
    # the readout (1, −1)/√2 makes the second neuron the mirror of the first
    assert theory.M[1, 1] == pytest.approx(-theory.M[1, 0], abs=3e-4)
    assert np.all(theory.M_error[1:] < 3e-4)
    # a fresh batch at step 2 (no self term, no noise) would be far off: reuse matters
    assert abs(theory.M[2, 0, 0] - 2 * theory.M[1, 0, 0]) > 0.02


def test_the_authors_curvature_changes_the_training_fields_not_step_one():
    exact = two_step(paper_spec(), samples=2 ** 14, blocks=3)
    theirs = two_step(paper_spec(), samples=2 ** 14, blocks=3, curvature="gauss-newton")
    np.testing.assert_allclose(theirs.M[:2], exact.M[:2], atol=0)
    np.testing.assert_allclose(theirs.Q, exact.Q, atol=0)
    # E[∂G_j/∂λ_j] = −1/4 without the δ(λ) of relu'', −1/4 + 1/(4π) with it
    assert exact.drift[0, 0] == pytest.approx(-0.25 + 1 / (4 * np.pi), abs=2e-3)
    assert theirs.drift[0, 0] == pytest.approx(-0.25, abs=2e-3)
    assert exact.train_risk[1] - theirs.train_risk[1] == pytest.approx(0.011, abs=2e-3)
    assert abs(exact.M[2, 0, 0] - theirs.M[2, 0, 0]) < 5e-4


def test_the_papers_convention_maps_onto_spec():
    spec = FullBatchGD.from_papers(PAPER_TARGET, PAPER_STUDENT, lr=0.2, alpha=3.0, ridge=0.6)
    assert spec.eta == pytest.approx(0.6) and spec.lr == pytest.approx(0.2)
    assert spec.ridge == pytest.approx(0.2)   # their λ/α: lr·λ = η·λ_r
    np.testing.assert_allclose(spec.readout, [2 ** -0.5, -(2 ** -0.5)])


def test_results_save_and_load_with_their_configuration(tmp_path):
    spec = FullBatchGD(Target(k=1, expression="z1", noise=0.1), Student(p=1, activation="linear"),
                       eta=0.5, alpha=2.0)
    theory = two_step(spec, samples=2 ** 10, blocks=2, sampler="normal", seed=3)
    back = TwoStepTheory.load(theory.save(tmp_path / "two_step.npz"))
    assert back.spec == spec and back.sampler == "normal" and back.seed == 3
    np.testing.assert_array_equal(back.M, theory.M)
    np.testing.assert_array_equal(back.drift, theory.drift)
    assert "M^2_1" in back.describe() and "α = 2" in str(back)


@pytest.mark.parametrize("kwargs, match", [
    ({"samples": 1000}, "power of two"),
    ({"samples": 64}, "samples"),
    ({"blocks": 1}, "blocks"),
    ({"sampler": "halton"}, "sampler"),
    ({"curvature": "newton"}, "curvature"),
    ({"init": (np.zeros((2, 3)), np.eye(2))}, "M⁰"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        two_step(paper_spec(), **kwargs)


def test_an_impossible_start_is_refused():
    with pytest.raises(CovarianceError):
        two_step(paper_spec(), init=(np.full((2, 2), 0.9), np.eye(2)))


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha": 0.0}, "alpha"),
    ({"alpha": 1e5}, "alpha"),
    ({"alpha": float("nan")}, "alpha"),
    ({"eta": -1.0}, "eta"),
    ({"ridge": -0.1}, "ridge"),
    ({"loss": "hinge"}, "loss"),
])
def test_bad_specs_are_named(kwargs, match):
    values = {"eta": 0.5, "alpha": 2.0} | kwargs
    with pytest.raises(ConfigError, match=match):
        FullBatchGD(PAPER_TARGET, PAPER_STUDENT, **values)


def test_a_trained_readout_or_a_foreign_object_is_refused():
    with pytest.raises(ConfigError, match="train_readout"):
        FullBatchGD(PAPER_TARGET, Student(p=2, activation="relu", train_readout=True,
                                          eta_a=0.1), eta=0.5, alpha=2.0)
    with pytest.raises(ConfigError, match="Target"):
        FullBatchGD("tanh(z1)", PAPER_STUDENT, eta=0.5, alpha=2.0)
    with pytest.raises(OverlapdynError, match="unknown FullBatchGD keys"):
        FullBatchGD.from_dict({**paper_spec().to_dict(), "batch": 3})
