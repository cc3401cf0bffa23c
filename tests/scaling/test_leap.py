"""Multivariate Hermite expansions and the leap, against independent computations."""

import itertools
import math

import numpy as np
import pytest
import sympy

import overlapdyn as od
from overlapdyn.errors import OverlapdynError
from overlapdyn.scaling.leaps import LITERATURE_TARGETS


def _brute_force_leap(support):
    """The definition itself: minimum over all orderings of the largest step."""
    best = math.inf
    for ordering in itertools.permutations(support):
        seen, worst = set(), 0
        for nu in ordering:
            worst = max(worst, sum(n for i, n in enumerate(nu) if n and i not in seen))
            seen |= {i for i, n in enumerate(nu) if n}
        best = min(best, worst)
    return best


@pytest.mark.parametrize(("formula", "k", "order", "value", "source"), LITERATURE_TARGETS)
def test_literature_table(formula, k, order, value, source):
    assert od.leap(formula, k, order=order).value == value, source


@pytest.mark.parametrize(("formula", "exponent"), [
    ("He2(z1)", 2), ("He3(z1) + He4(z1)", 3), ("relu(z1)", 1), ("Abs(z1)", 2), ("z1**2", 2),
    ("tanh(z1)", 1)])
def test_single_index_leap_is_the_information_exponent(formula, exponent):
    """Known exponents, by two routes for the non-polynomials: k = 1 (the univariate
    adaptive expansion) and the same link as a k = 2 target (tensor cubature)."""
    assert od.leap(formula, 1, order=8).value == exponent
    assert od.leap(formula, 2, order=8).value == exponent


def test_leap_matches_the_definition_by_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(40):
        k = int(rng.integers(2, 5))
        support = {tuple(int(v) for v in rng.integers(0, 3, size=k)) for _ in range(5)}
        support = [nu for nu in support if any(nu)]
        z = sympy.symbols([f"z{r}" for r in range(1, k + 1)])
        g = sum(sympy.Mul(*[sympy.hermite_prob(n, z[i]) for i, n in enumerate(nu)])
                for nu in support)
        result = od.leap(g, k)
        assert sorted(result.ordering) == sorted(support)
        assert result.value == _brute_force_leap(support)
        # the ordering returned achieves the value
        assert max(result.steps) == result.value


def test_ordering_and_learned_coordinates():
    staircase = od.leap("z1 + z1*z2 + z1*z2*z3", 3)
    assert staircase.ordering == ((1, 0, 0), (1, 1, 0), (1, 1, 1))
    assert staircase.steps == (1, 1, 1)
    assert staircase.names == ("z1", "z2", "z3")
    assert od.scaling.is_merged_staircase("z1 + z1*z2 + z1*z2*z3", 3)
    assert not od.scaling.is_merged_staircase("z1*z2*z3", 3)
    # the minimum over orderings: He4(z1) alone costs 4, after z1·z2 it costs nothing
    mixed = od.leap("He4(z1) + z1*z2", 2)
    assert mixed.value == 2 and mixed.ordering[0] == (1, 1)
    assert od.leap("3", 1).value == 0
    assert od.leap("z1 + z1*z2*z3", 3).groups == ((0,), (1, 2))
    # fields that come in one step are reported together, not as a chain
    assert staircase.learned_as == "z1 → z2 → z3"
    assert od.leap("z1 + z1*z2*z3", 3).learned_as == "z1 → {z2, z3}"
    assert od.leap("z1*z2", 2).learned_as == "{z1, z2}"
    assert od.leap("3", 1).learned_as == "—"
    assert "learned as    {z1, z2}" in od.predict_scaling("z1*z2", 2).describe()
    assert staircase.groups == ((0,), (1,), (2,))


def test_target_objects_and_committees():
    target = od.Target(k=3, expression="z1 + z1*z2 + z1*z2*z3")
    assert od.leap(target).value == 1
    committee = od.Target(k=2, activation="He3")
    assert od.leap(committee).value == 3


def test_exact_expansion_against_cubature():
    """ĝ_ν by Gauss–Hermite cubature of E[g He_ν]/ν!, independent of the change of basis."""
    g = "z1**3*z2**2 + z1*z2 - 2*z2**4"
    expansion = od.derive.multivariate_hermite(g, 2)
    nodes, weights = od.derive.gauss_hermite_rule(20)
    z1, z2 = np.meshgrid(nodes, nodes, indexing="ij")
    w = np.outer(weights, weights)
    values = z1**3 * z2**2 + z1 * z2 - 2 * z2**4
    for nu in itertools.product(range(6), repeat=2):
        he = od.derive.hermite_values(5, z1)[nu[0]] * od.derive.hermite_values(5, z2)[nu[1]]
        reference = float((w * values * he).sum()) / (math.factorial(nu[0])
                                                      * math.factorial(nu[1]))
        assert float(expansion.coefficients.get(nu, 0)) == pytest.approx(reference, abs=1e-9)
    assert expansion.norm2 == pytest.approx(float((w * values**2).sum()), rel=1e-12)


def test_correlated_latents_are_whitened():
    P = np.array([[1.0, 0.5], [0.5, 1.0]])
    expansion = od.derive.multivariate_hermite("z1*z2", 2, P=P)
    # E[(z1 z2)²] = P11 P22 + 2 P12² under N(0, P)
    assert expansion.norm2 == pytest.approx(1.5)
    assert od.leap("z1*z2", 2, P=P).value == 2


def test_truncated_expansion_reports_its_error():
    expansion = od.derive.multivariate_hermite("tanh(z1 + z2)", 2, order=5)
    assert not expansion.exact
    assert 0.0 < expansion.relative_error < 0.2
    # odd function of z1 + z2: no even total degree in the support
    assert all(sum(nu) % 2 == 1 for nu in expansion.support)


def test_errors_name_the_problem():
    with pytest.raises(OverlapdynError, match="not a polynomial"):
        od.derive.multivariate_hermite("tanh(z1)", 1)
    with pytest.raises(OverlapdynError, match="z3"):
        od.leap("z1*z3", 2)
    with pytest.raises(OverlapdynError, match="give k"):
        od.leap("z1*z2")
