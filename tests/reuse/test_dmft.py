"""The DMFT of full-batch GD: an exact linear case (Marchenko–Pastur), the published numbers
of the authors' repository, the two-step closed form, finite-d simulations (the authors'
setting and another model), the papers' convention, results on disk and bad input."""

import numpy as np
import pytest
import scipy.integrate

from overlapdyn.errors import ConfigError, DMFTError, OverlapdynError
from overlapdyn.model import Student, Target
from overlapdyn.plot import load_result, plot_dmft, result_figures
from overlapdyn.reuse import (
    MAX_DMFT_STEPS,
    DMFTSolution,
    FullBatchGD,
    simulate_gd,
    solve_dmft,
    two_step,
)

# the authors' setting (Dandi et al. 2024, arXiv:2402.03220; IdePHICS/benefit-reusing-batch,
# dmft.py and data/DMFT_A3_T7_P2_sym=TEST_lambda0.0_lr0.2_samples10000000.npz): target
# tanh(z1 + He3(z2)), ReLU student ŷ = a·relu(h), a = (1, −1)/√2, M⁰ = 0, α = 3, lr = 0.2
PAPER_TARGET = Target(k=2, expression="tanh(z1 + He3(z2))")
PAPER_STUDENT = Student(p=2, activation="relu", c_p=1.0, a=(2 ** -0.5, -(2 ** -0.5)))
# their DMFT's first neuron, M¹₁· and M²₁· (10⁷ Monte Carlo samples: error ≈ 1e-4)
PUBLISHED_M1 = (0.0758, -0.0632)
PUBLISHED_M2 = (0.1238, -0.1027)
# the same file: their Gauss–Newton Λ⁰ = α E[(a∘σ')(a∘σ')ᵀ] (first row) and C(0, 0) = α E[G⁰G⁰ᵀ]
PUBLISHED_LAMBDA0 = (0.74952, -0.37523)
PUBLISHED_C00 = (0.80422, -0.37719)


def paper_spec() -> FullBatchGD:
    return FullBatchGD.from_papers(PAPER_TARGET, PAPER_STUDENT, lr=0.2, alpha=3.0)


def marchenko_pastur(b: float, eta: float, alpha: float, ridge: float, steps: int) -> dict:
    """T steps of full-batch GD for σ(x) = x, y = z (p = k = 1, no noise), c_p a = b, from
    (M⁰, Q⁰) = (0, 1), as d → ∞, by spectral integrals — no DMFT in it.

    The update is ``w ← A w + ηb S u`` with ``S = XᵀX/n``, ``A = s − ηb² S``, so ``w^t = A^t w⁰
    + ηb Σ_{j<t} A^j S u``. With f(x) = s − ηb²x and F_t = Σ_{j<t} f^j, and the spectrum of S
    tending to Marchenko–Pastur of ratio d/n = 1/α (u and w⁰ independent of S, norm √d):
    ``M^t = ∫ ηb x F_t``, ``Q^t = ∫ f^{2t} + ∫ (ηb x F_t)²``, the training risk
    ``½ ∫ x [(1 − ηb² x F_t)² + b² f^{2t}]`` and the test risk ``½ (1 − 2bM + b²Q)``.
    """
    gamma = 1 / alpha
    lo, hi = (1 - np.sqrt(gamma)) ** 2, (1 + np.sqrt(gamma)) ** 2
    s = 1 - eta * ridge

    def integrand(x: float, t: int) -> np.ndarray:
        """(M, Q, train risk) integrands at eigenvalue x, times the MP density."""
        f = s - eta * b ** 2 * x
        reach = eta * b * x * sum(f ** j for j in range(t))      # ηb x F_t(x)
        density = np.sqrt((hi - x) * (x - lo)) / (2 * np.pi * gamma * x)
        return density * np.array([reach, f ** (2 * t) + reach ** 2,
                                   0.5 * x * ((1 - b * reach) ** 2 + b ** 2 * f ** (2 * t))])

    out = {"M": [], "Q": [], "train": [], "test": []}
    for t in range(steps + 1):
        M, Q, train = (scipy.integrate.quad(lambda x, t=t, i=i: integrand(x, t)[i], lo, hi,
                                            limit=200)[0] for i in range(3))
        for key, value in zip(out, (M, Q, train, 0.5 * (1 - 2 * b * M + b ** 2 * Q)),
                              strict=True):
            out[key].append(value)
    return {key: np.array(value) for key, value in out.items()}


def linear_spec(ridge: float) -> FullBatchGD:
    return FullBatchGD(Target(k=1, expression="z1"),
                       Student(p=1, activation="linear", c_p=1.0, a=(0.8,)),
                       eta=0.7, alpha=2.0, ridge=ridge)


@pytest.mark.parametrize("ridge", [0.0, 0.3])
@pytest.mark.parametrize("curvature", ["exact", "gauss-newton"])
def test_a_linear_model_follows_the_marchenko_pastur_integrals(ridge, curvature):
    # σ'' = 0, so Stein's lemma ("exact") and the path derivative ("gauss-newton") must agree
    T = 6
    solution = solve_dmft(linear_spec(ridge), T, samples=2 ** 12, blocks=4, curvature=curvature)
    exact = marchenko_pastur(0.8, 0.7, 2.0, ridge, T)
    np.testing.assert_allclose(solution.M[:, 0, 0], exact["M"], atol=5 * solution.M_error.max()
                               + 1e-4)
    np.testing.assert_allclose(solution.Q[:, 0, 0], exact["Q"], atol=5 * solution.Q_error.max()
                               + 1e-4)
    np.testing.assert_allclose(solution.train_risk, exact["train"],
                               atol=5 * solution.train_risk_error.max() + 1e-4)
    np.testing.assert_allclose(solution.test_risk, exact["test"],
                               atol=5 * solution.test_risk_error.max() + 1e-4)
    assert solution.M_error.max() < 2e-3
    # reuse matters: fresh samples at every step (SPEC's state evolution, M' = sM + ηb(1 −
    # bM) here) would give another M by far more than the tolerance
    fresh = 0.0
    for _ in range(T):
        fresh = (1 - 0.7 * ridge) * fresh + 0.7 * 0.8 * (1 - 0.8 * fresh)
    assert abs(fresh - exact["M"][T]) > 0.05


def test_the_published_first_two_steps_are_reproduced():
    for curvature in ("exact", "gauss-newton"):
        solution = solve_dmft(paper_spec(), 2, samples=2 ** 15, blocks=4, curvature=curvature)
        # 3 digits; their numbers carry their own Monte Carlo error (10⁷ pseudo-random
        # samples: ≈ 1e-4), and M²₁₂ is 2–3 of those from ours (−0.1029 … −0.1030)
        assert solution.M[1, 0] == pytest.approx(PUBLISHED_M1, abs=3e-4)
        assert solution.M[2, 0] == pytest.approx(PUBLISHED_M2, abs=5e-4)
        assert np.all(solution.M_error[1:3] < 2e-4)
    theirs = solution.papers()   # the last one: Gauss–Newton, as their code
    assert theirs["lambda_eff"][0, 0] == pytest.approx(PUBLISHED_LAMBDA0, abs=2e-3)
    assert theirs["C"][0, 0, 0] == pytest.approx(PUBLISHED_C00, abs=3e-3)


@pytest.fixture(scope="module")
def paper_dmft():
    return {curvature: solve_dmft(paper_spec(), 5, samples=2 ** 13, blocks=4,
                                  curvature=curvature)
            for curvature in ("exact", "gauss-newton")}


def test_the_first_two_steps_are_the_closed_form(paper_dmft):
    solution = paper_dmft["exact"]
    closed = two_step(paper_spec(), samples=2 ** 14, blocks=4)
    tolerance = 4 * (solution.M_error[:3] + closed.M_error) + 1e-5
    assert np.all(np.abs(solution.M[:3] - closed.M) < tolerance)
    assert np.all(np.abs(solution.Q[:2] - closed.Q) < 4 * (solution.Q_error[:2] + closed.Q_error)
                  + 1e-5)
    assert np.all(np.abs(solution.train_risk[:2] - closed.train_risk)
                  < 4 * (solution.train_risk_error[:2] + closed.train_risk_error) + 1e-5)
    # the closed form's noise covariance E[G⁰G⁰ᵀ]/α is C(0, 0)/α²; its drift's λ-block
    # E[∂G/∂λ] is R(0, 0)/α
    np.testing.assert_allclose(solution.noise_covariance[0, 0] / 3.0 ** 2,
                               closed.noise_covariance, atol=2e-3)
    np.testing.assert_allclose(solution.response[0, 0] / 3.0, closed.drift[:, :2], atol=3e-3)


@pytest.fixture(scope="module")
def paper_simulation():
    return simulate_gd(paper_spec(), 600, 5, seeds=12, risk_samples=2000)


def test_the_simulation_follows_the_dmft_in_the_papers_setting(paper_dmft, paper_simulation):
    solution, sim = paper_dmft["exact"], paper_simulation
    M, dM = sim.mean("M"), sim.sem("M")
    # 4 seed standard errors + 4 of the DMFT's own; the seed error at d = 600 is ≈ 3e-3
    assert np.all(np.abs(M - solution.M) < 4 * (dM + solution.M_error) + 1e-6)
    Q, dQ = sim.mean("Q"), sim.sem("Q")
    assert np.all(np.abs(Q - solution.Q) < 4 * (dQ + solution.Q_error) + 1e-6)
    train, dtrain = sim.mean("train_risk"), sim.sem("train_risk")
    assert np.all(np.abs(train - solution.train_risk) < 4 * (dtrain + solution.train_risk_error)
                  + 1e-6)
    # and the DMFT moves far more than the tolerance over the five steps
    assert np.all(np.abs(solution.M[5] - solution.M[2]) > 5 * (dM[5] + solution.M_error[5]))


def test_the_gauss_newton_response_misses_the_norms(paper_dmft, paper_simulation):
    # the δ(λ) of relu'' that Gauss–Newton drops shrinks the norms too fast: Q¹₁₁ 0.77
    # instead of 0.85, already many seed errors away at d = 600
    theirs, sim = paper_dmft["gauss-newton"], paper_simulation
    Q, dQ = sim.mean("Q"), sim.sem("Q")
    assert np.all(np.abs(Q[1:, 0, 0] - theirs.Q[1:, 0, 0]) > 10 * dQ[1:, 0, 0])
    # while M barely moves at first (1.5e-4 at t = 2)
    assert np.all(np.abs(theirs.M[2] - paper_dmft["exact"].M[2]) < 1e-3)


def other_spec() -> FullBatchGD:
    """Another model: erf student (σ'' ≠ 0, so Gauss–Newton is not exact), p = 2 with an
    asymmetric readout, a single-index ReLU target (He1 and He2 parts), label noise, a
    ridge."""
    return FullBatchGD(Target(k=1, expression="relu(z1)", noise=0.1),
                       Student(p=2, activation="erf", c_p=1.0, a=(1.0, 0.5)),
                       eta=1.0, alpha=2.0, ridge=0.1)


def test_the_simulation_follows_the_dmft_for_an_erf_student():
    # a warm start with correlated neurons; d = 200 with 48 seeds: the seed error ≈ 5e-3
    init = (np.array([[0.3], [-0.2]]), np.array([[1.0, 0.2], [0.2, 1.0]]))
    solution = solve_dmft(other_spec(), 5, init=init, samples=2 ** 13, blocks=4)
    sim = simulate_gd(other_spec(), 200, 5, seeds=48, init=init, risk_samples=2000)
    M, dM = sim.mean("M"), sim.sem("M")
    assert np.all(np.abs(M - solution.M) < 4 * (dM + solution.M_error) + 1e-6)
    Q, dQ = sim.mean("Q"), sim.sem("Q")
    assert np.all(np.abs(Q - solution.Q) < 4 * (dQ + solution.Q_error) + 1e-6)
    train, dtrain = sim.mean("train_risk"), sim.sem("train_risk")
    assert np.all(np.abs(train - solution.train_risk) < 4 * (dtrain + solution.train_risk_error)
                  + 1e-6)
    assert abs(solution.M[5, 1, 0] - solution.M[0, 1, 0]) > 0.2
    # Gauss–Newton drops E[e σ''] ≠ 0 of the erf: its norms are tens of seed errors off
    theirs = solve_dmft(other_spec(), 2, init=init, samples=2 ** 12, blocks=2,
                        curvature="gauss-newton")
    assert abs(theirs.Q[1, 0, 0] - Q[1, 0, 0]) > 10 * dQ[1, 0, 0]


def test_the_papers_convention(paper_dmft):
    solution = paper_dmft["gauss-newton"]
    theirs = solution.papers()
    T = solution.steps
    assert theirs["m"].shape == (T + 1, 2, 2) and theirs["R"].shape == (T + 1, T + 1, 2, 2)
    np.testing.assert_array_equal(np.triu(theirs["R"][:, :, 0, 0]), 0.0)
    np.testing.assert_allclose(theirs["lambda_eff"][2], -solution.response[2, 2])
    # the memory kernel of the sample side: lr Φ(t, τ+1); at t = 1 the self term lr I
    np.testing.assert_allclose(solution.memory[1, 0], 0.2 * np.eye(2))
    np.testing.assert_array_equal(solution.memory[1, 1], 0.0)
    # with a ridge, Λ gains their λ = α λ_r
    ridged = solve_dmft(FullBatchGD.from_papers(PAPER_TARGET, PAPER_STUDENT, lr=0.2, alpha=3.0,
                                                ridge=0.6), 1, samples=1000, blocks=2,
                        sampler="normal", curvature="gauss-newton")
    np.testing.assert_allclose(ridged.papers()["lambda_eff"][0],
                               -ridged.response[0, 0] + 0.6 * np.eye(2))


def test_results_save_and_load_with_their_configuration(tmp_path, paper_dmft):
    solution = paper_dmft["exact"]
    back = DMFTSolution.load(solution.save(tmp_path / "dmft.npz"))
    assert back.spec == solution.spec and back.curvature == "exact" and back.steps == 5
    for name in DMFTSolution._ARRAYS:
        np.testing.assert_array_equal(getattr(back, name), getattr(solution, name))
    assert "M^5_2" in back.describe() and "α = 3" in str(back)
    # a saved solution has its figure (overlapdyn plot FILE)
    assert set(result_figures(load_result(tmp_path / "dmft.npz"))) == {"dmft"}


def test_the_figure_draws_the_dmft_beside_the_simulation(paper_dmft, paper_simulation):
    fig = plot_dmft(paper_dmft["exact"], paper_simulation)
    assert len(fig.axes) == 3
    assert len(fig.axes[0].lines) >= 2 and fig.axes[0].get_legend() is not None
    with pytest.raises(OverlapdynError, match="another spec"):
        plot_dmft(paper_dmft["exact"], simulate_gd(other_spec(), 50, 1, risk_samples=1000))


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 0}, "steps"),
    ({"steps": MAX_DMFT_STEPS + 1}, "above 10"),
    ({"samples": 1000}, "power of two"),
    ({"blocks": 1}, "blocks"),
    ({"curvature": "newton"}, "curvature"),
    ({"init": (np.zeros((2, 3)), np.eye(2))}, "M⁰"),
])
def test_bad_arguments_are_named(kwargs, match):
    values = {"steps": 2} | kwargs
    with pytest.raises(ConfigError, match=match):
        solve_dmft(paper_spec(), values.pop("steps"), **values)


def test_alpha_out_of_range_and_a_trained_readout_are_refused():
    for alpha in (0.0, 1e5):
        with pytest.raises(ConfigError, match="alpha"):
            FullBatchGD.from_papers(PAPER_TARGET, PAPER_STUDENT, lr=0.2, alpha=alpha)
    with pytest.raises(ConfigError, match="train_readout"):
        FullBatchGD(PAPER_TARGET, Student(p=2, activation="relu", train_readout=True,
                                          eta_a=0.1), eta=0.5, alpha=2.0)


def test_a_neuron_without_gradient_needs_the_path_derivative():
    spec = FullBatchGD(Target(k=1, expression="relu(z1)"),
                       Student(p=2, activation="erf", c_p=1.0, a=(1.0, 0.0)),
                       eta=0.5, alpha=2.0)
    with pytest.raises(DMFTError, match="gauss-newton") as error:
        solve_dmft(spec, 3, samples=2 ** 10, blocks=2)
    assert error.value.step == 1
    solution = solve_dmft(spec, 3, samples=2 ** 10, blocks=2, curvature="gauss-newton")
    np.testing.assert_allclose(solution.M[:, 1], 0.0, atol=1e-12)   # a_2 = 0: never moves


def test_the_correlation_loss_of_a_linear_student_in_closed_form():
    # G = b y does not depend on λ: R = 0, every ξ^t is the same ξ (C(t, τ) = αb²), so
    # M^t = tηb and Q^t = 1 + t²η²b²(1 + 1/α); the field then gets no new noise after t = 1,
    # which Stein's lemma cannot handle, and the exact response says so
    spec = FullBatchGD(Target(k=1, expression="z1"),
                       Student(p=1, activation="linear", c_p=1.0, a=(0.8,)),
                       eta=0.7, alpha=2.0, loss="correlation")
    solution = solve_dmft(spec, 4, samples=2 ** 12, blocks=4, curvature="gauss-newton")
    t = np.arange(5)
    np.testing.assert_allclose(solution.M[:, 0, 0], t * 0.7 * 0.8, atol=5e-3)
    np.testing.assert_allclose(solution.Q[:, 0, 0], 1 + (t * 0.7 * 0.8) ** 2 * 1.5, rtol=5e-3)
    np.testing.assert_array_equal(solution.response, 0.0)
    with pytest.raises(DMFTError, match="no new noise") as error:
        solve_dmft(spec, 4, samples=2 ** 10, blocks=2)
    assert error.value.step == 2


def test_a_diverging_process_is_named():
    spec = FullBatchGD(Target(k=1, expression="z1"), Student(p=1, activation="linear", c_p=1.0),
                       eta=1e100, alpha=2.0)
    with pytest.raises(DMFTError, match="diverged") as error:
        solve_dmft(spec, 10, samples=2 ** 10, blocks=2)
    assert error.value.step == 2
