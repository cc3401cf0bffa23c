"""Learnability limits (overlapdyn.limits) against published values and independent
computations."""

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.special
import sympy

from overlapdyn.derive.gaussian import GaussianFields, expectation
from overlapdyn.errors import ConfigError, HeavyTailError
from overlapdyn.limits import generative_exponent, weak_recovery_thresholds
from overlapdyn.limits.conditional import conditional_gram
from overlapdyn.limits.features import hermite_features
from overlapdyn.limits.links import as_link
from overlapdyn.limits.thresholds import RecoveryThresholds
from overlapdyn.model.formula import parse_formula


def _product_alpha_c():
    """z1·z2 by Bessel functions: p(y) = K0(|y|)/π, E[z1²|y] = |y|K1/K0, α_c = 1/(1 + E[(a−1)²])."""
    def integrand(y):
        return 2 * scipy.special.k0(y) / math.pi * (y * scipy.special.k1(y) /
                                                     scipy.special.k0(y) - 1) ** 2
    total = sum(scipy.integrate.quad(integrand, a, b, limit=500, epsabs=1e-14)[0]
                for a, b in ((0, 1e-6), (1e-6, 1e-3), (1e-3, 1), (1, 60)))
    return 1 / (1 + total)


def test_published_thresholds():
    product = weak_recovery_thresholds("z1*z2")
    assert product.alpha_c == pytest.approx(0.59375, abs=5e-5)              # 4 digits
    assert product.alpha_c == pytest.approx(_product_alpha_c(), rel=1e-7)   # Bessel form
    assert weak_recovery_thresholds("sign(z1*z2)").alpha_c == pytest.approx(
        math.pi ** 2 / 4, rel=1e-6)
    assert weak_recovery_thresholds("(z1**2 + z2**2 + z3**2 + z4**2)/4").alpha_c == \
        pytest.approx(2.0, rel=1e-6)
    assert weak_recovery_thresholds("z1/z2").alpha_c == pytest.approx(1.0, rel=1e-6)
    for link in ("z**2", "abs(z)"):
        assert weak_recovery_thresholds(link).alpha_c == pytest.approx(0.5, rel=1e-6)


def test_single_index_formula_against_gaussian_noise_closed_form():
    # y = z + √Δ ξ: E[z|y] ≠ 0 (trivial); y = z² + √Δξ has no closed form, but Δ → 0 → 1/2
    assert weak_recovery_thresholds("z", noise=0.3).steps[0].kind == "trivial"
    # (Δ = 1e-2 and 3e-2: a smaller Δ needs a finer grid, seconds more, for the same check)
    noisy = [weak_recovery_thresholds("z**2", noise=noise, tol=1e-3).alpha_c
             for noise in (3e-2, 1e-2)]
    assert noisy[0] > noisy[1] > 0.5 and noisy[1] < 0.505


def test_parity_is_hard_not_an_overflow():
    parity = weak_recovery_thresholds("sign(z1*z2*z3)")
    assert parity.alpha_c == math.inf and parity.steps[0].kind == "hard"
    assert parity.hard_subspace.shape == (3, 3) and "hard" in parity.describe()


def test_generative_exponents():
    for n in range(1, 7):
        assert generative_exponent(f"He{n}(z)").exponent == (1 if n % 2 else 2)
    for link, expected in (("abs(z)", 2), ("z**2", 2), ("relu(z)", 1), ("tanh(z)", 1),
                           ("sign(z)", 1)):
        assert generative_exponent(link).exponent == expected, link
    parity = generative_exponent("sign(z1*z2*z3)")
    assert parity.exponent == 3 and parity.powers[2] == pytest.approx((2 / math.pi) ** 3,
                                                                       rel=1e-6)
    he4 = generative_exponent("He4(z)")
    assert he4.certificate[:2] == (2, 2) and int(he4.certificate[3]) != 0


def test_branch_sums_against_closed_forms_and_monte_carlo():
    gram = conditional_gram(as_link("relu(z)"), hermite_features(1, (1, 2))).gram
    assert gram[0, 0] == pytest.approx(0.5 + 1 / math.pi, rel=1e-8)
    assert gram[1, 1] == pytest.approx(0.5, rel=1e-8)
    # He3: E[h1|y]² by Monte Carlo binning of y (tolerance 3σ of the estimator)
    value = conditional_gram(as_link("He3(z)"), hermite_features(1, 1)).gram[0, 0]
    rng = np.random.default_rng(0)
    z = rng.standard_normal(2_000_000)
    y = z ** 3 - 3 * z
    order = np.argsort(y)
    means = z[order].reshape(2000, -1).mean(axis=1)
    assert np.mean(means ** 2) == pytest.approx(value, abs=5e-3)


def test_bad_inputs_are_named():
    with pytest.raises(ConfigError, match="none of the fields"):
        weak_recovery_thresholds("3 + pi", k=2)
    with pytest.raises(ConfigError, match="Δ"):
        weak_recovery_thresholds("z1*z2", noise=-1.0)
    with pytest.raises(ConfigError, match="label noise"):
        weak_recovery_thresholds("tanh(z1 + z2**3)")
    with pytest.raises(ConfigError, match="label noise"):     # no exact engine: named, not wrong
        weak_recovery_thresholds("z1**2 + sign(z1*z2*z3)")
    with pytest.raises(HeavyTailError, match="heavy tails"):
        weak_recovery_thresholds("z1/z2**3")


def test_results_save_and_load(tmp_path):
    result = weak_recovery_thresholds("z1*z2")
    back = RecoveryThresholds.load(result.save(tmp_path / "r.npz"))
    assert back.alpha_c == result.alpha_c and back.describe() == result.describe()
    exponent = generative_exponent("He4(z)")
    loaded = type(exponent).load(exponent.save(tmp_path / "g.npz"))
    assert loaded.certificate == exponent.certificate and loaded.exponent == 2


def test_solved_field_is_graded_toward_the_zeros_of_its_coefficient():
    # z1 + z1*z2 = z1(1 + z2): solved for z1 the density concentrates at z2 = −1, where a grid
    # graded toward 0 found only 95% of the mass; now solved for z2 (coefficient z1)
    result = conditional_gram(as_link("z1 + z1*z2"), hermite_features(2, 1))
    assert result.mass == pytest.approx(1.0, abs=1e-8)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2, 2_000_000))
    order = np.argsort(z[0] + z[0] * z[1])
    means = z[:, order].reshape(2, 4000, -1).mean(axis=2)       # E[z | bin of y]
    # binning biases: ± Var(z|y)/500 per bin; 3e-3 is several of those
    assert np.diag(result.gram) == pytest.approx((means ** 2).mean(axis=1), abs=3e-3)


def test_staircase_beyond_the_first_step():
    # z1 + z1*z2*z3: E[z1 y] = 1 (trivial e1); (z2, z3) → −(z2, z3) keeps y, so E[z2|y] =
    # E[z3|y] = 0. Given z1 = a ≠ 0, (y, a) carries exactly z2·z3 = (y − a)/a: the rest is
    # the z1·z2 problem, whose α_c the Bessel form gives independently
    result = weak_recovery_thresholds("z1 + z1*z2*z3")
    first, second = result.steps
    assert first.kind == "trivial" and np.allclose(np.abs(first.directions[:, 0]), [1, 0, 0])
    assert second.kind == "easy" and second.directions.shape == (3, 2)
    assert np.allclose(second.directions[0], 0.0)
    assert second.alpha == pytest.approx(_product_alpha_c(), rel=1e-6)
    assert second.alpha_needed == second.alpha and result.alpha_c == 0.0


def test_polynomial_staircases_with_exact_trivial_subspaces():
    # E[z2 y²] = 2 ≠ 0 for y = z1 + z1*z2: both directions are trivial (one step), and for the
    # classic SGD staircase z1 + z1*z2 + z1*z2*z3 too (E[z3 y²] = 2): AMP needs no staircase
    for link, moment in (("z1 + z1*z2", ("z2", 2)), ("z1 + z1*z2 + z1*z2*z3", ("z3", 2))):
        result = weak_recovery_thresholds(link)
        assert len(result.steps) == 1 and result.steps[0].kind == "trivial", link
        assert result.trivial_subspace.shape[1] == result.k and result.error == 0.0
        k = result.k
        fields = GaussianFields(tuple(f"z{r}" for r in range(1, k + 1)), sympy.eye(k))
        y = parse_formula(link, fields.names, what="link")
        assert expectation([y ** 2, sympy.Symbol(moment[0])], fields) == moment[1]


def test_three_field_product_against_direct_quadrature():
    # z1·z2·z3: G = g(y)·I by sign flips, so 1/α_c = E_y[g²] with g = E[z1²|y] − 1; the
    # density of y and E[z1² 1(y ∈ dt)] by nested scipy quadrature over z2·z3 = s
    result = weak_recovery_thresholds("z1*z2*z3")
    assert result.method.startswith("solved") and result.error < 1e-6

    def density(s):                 # of s = |z2 z3|: 2 K0(s)/π on s > 0
        return 2 * scipy.special.k0(s) / math.pi

    def joint(t, power):            # E[z1^power; y ∈ dt]/dt, y = z1·s (symmetric in sign of s)
        def inner(s):
            r = t / s
            return density(s) * math.exp(-r * r / 2) / math.sqrt(2 * math.pi) / s * r ** power
        return sum(scipy.integrate.quad(inner, a, b, limit=400, epsabs=1e-13, epsrel=1e-11)[0]
                   for a, b in ((0, 1e-3), (1e-3, 0.1), (0.1, 1), (1, 40)))

    def integrand(u):               # t = e^u, both signs of t alike
        t = math.exp(u)
        n0, n2 = joint(t, 0), joint(t, 2)
        return 2 * t * n0 * (n2 / n0 - 1) ** 2 if n0 > 0 else 0.0

    value = scipy.integrate.quad(integrand, -25, 8, limit=400, epsabs=1e-10)[0]
    assert result.alpha_c == pytest.approx(1 / value, rel=1e-5)
