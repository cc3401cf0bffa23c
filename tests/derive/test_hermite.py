"""Hermite layer: polynomials, linearisation, coefficients, truncation, information exponent.

Reference values come from independent computations: mpmath's adaptive quadrature at 30
digits, SymPy's own polynomial algebra, and Gauss–Hermite orthogonality.
"""

import functools
import math

import mpmath
import numpy as np
import pytest
import sympy

from overlapdyn import OverlapdynError, activation, hermite_expansion, information_exponent
from overlapdyn.derive import (
    He,
    gauss_hermite_rule,
    hermite_product,
    hermite_values,
    polynomial_to_hermite,
)
from overlapdyn.derive.hermite import ZERO_TOLERANCE, parity
from overlapdyn.errors import UnknownActivationError
from overlapdyn.model import X

mpmath.mp.dps = 30

REFERENCE_FUNCTIONS = {
    "relu": lambda x: max(x, 0),
    "abs": abs,
    "erf": lambda x: mpmath.erf(x / mpmath.sqrt(2)),
    "tanh": mpmath.tanh,
    "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
    "softplus": lambda x: mpmath.log(1 + mpmath.exp(x)),
}


@functools.cache
def mpmath_coefficient(name: str, n: int) -> float:
    """c_n = E[f He_n]/n! of ``REFERENCE_FUNCTIONS[name]`` by 30-digit adaptive quadrature,
    split at 0 (the kinks); each computed once (several tests compare with it)."""
    f = REFERENCE_FUNCTIONS[name]

    def integrand(x):
        return f(x) * mpmath.hermite(n, x / mpmath.sqrt(2)) * mpmath.exp(-x * x / 2)

    # mpmath.hermite is the physicists' H_n; He_n(x) = 2^{-n/2} H_n(x/√2).
    value = mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf])
    return float(value * mpmath.power(2, -mpmath.mpf(n) / 2) / mpmath.sqrt(2 * mpmath.pi)
                 / mpmath.factorial(n))


def test_he_matches_recurrence_and_values():
    x = sympy.Symbol("x")
    assert He(2, x) == x**2 - 1
    assert He(3, x) == x**3 - 3 * x
    points = np.linspace(-3, 3, 7)
    values = hermite_values(8, points)
    for n in range(9):
        expected = [float(He(n, x).subs(x, p)) for p in points]
        np.testing.assert_allclose(values[n], expected, rtol=1e-12, atol=1e-12)
    normalized = hermite_values(8, points, normalized=True)
    for n in range(9):
        np.testing.assert_allclose(normalized[n] * math.sqrt(math.factorial(n)), values[n],
                                   rtol=1e-12, atol=1e-12)


def test_orthogonality_under_gauss_hermite_rule():
    nodes, weights = gauss_hermite_rule(20)
    values = hermite_values(10, nodes)
    gram = (values * weights) @ values.T
    expected = np.diag([math.factorial(n) for n in range(11)]).astype(float)
    np.testing.assert_allclose(gram, expected, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("m,n", [(0, 0), (1, 1), (2, 3), (4, 4), (5, 2), (6, 3)])
def test_hermite_product_linearisation(m, n):
    x = sympy.Symbol("x")
    expansion = sum(c * He(k, x) for k, c in hermite_product(m, n).items())
    assert sympy.expand(He(m, x) * He(n, x) - expansion) == 0


def test_polynomial_to_hermite_round_trip():
    x = sympy.Symbol("x")
    poly = 3 * x**5 - x**4 + sympy.Rational(1, 2) * x**2 + 7
    coefficients = polynomial_to_hermite(poly, x)
    assert sympy.expand(sum(c * He(n, x) for n, c in enumerate(coefficients)) - poly) == 0
    assert polynomial_to_hermite(x**4, x) == [3, 0, 6, 0, 1]


@pytest.mark.parametrize("name", ["relu", "abs", "erf"])
def test_closed_form_coefficients_against_mpmath(name):
    expansion = hermite_expansion(name, 10)
    assert expansion.exact
    for n, c in enumerate(expansion.coefficients):
        assert float(c) == pytest.approx(mpmath_coefficient(name, n),
                                         abs=1e-12)


def test_known_closed_forms_by_hand():
    relu = hermite_expansion("relu", 4).coefficients
    assert relu[0] == 1 / sympy.sqrt(2 * sympy.pi)
    assert relu[1] == sympy.Rational(1, 2)
    assert relu[2] == 1 / (2 * sympy.sqrt(2 * sympy.pi))
    erf = hermite_expansion("erf", 3).coefficients
    assert erf[1] == 1 / sympy.sqrt(sympy.pi)  # E[x erf(x/√2)] = 1/√π
    assert erf[3] == -1 / (12 * sympy.sqrt(sympy.pi))


@pytest.mark.parametrize("name", ["relu", "abs", "erf", "tanh", "sigmoid", "softplus"])
def test_numeric_coefficients_reach_1e8(name):
    expansion = hermite_expansion(name, 9, method="numeric", tol=1e-10)
    assert not expansion.exact
    for n, c in enumerate(expansion.coefficients):
        assert c == pytest.approx(mpmath_coefficient(name, n), abs=1e-8)


def test_callable_and_sympy_inputs_agree_with_named():
    named = hermite_expansion("tanh", 7).normalized()
    from_callable = hermite_expansion(np.tanh, 7).normalized()
    from_sympy = hermite_expansion(sympy.tanh(sympy.Symbol("u")), 7).normalized()
    np.testing.assert_allclose(from_callable, named, atol=1e-10)
    np.testing.assert_allclose(from_sympy, named, atol=1e-10)
    kinked = hermite_expansion(lambda x: np.maximum(x, 0.0), 6)  # Gauss–Hermite can't, quad can
    exact = hermite_expansion("relu", 6)
    np.testing.assert_allclose(kinked.normalized(), exact.normalized(), atol=1e-9)


def test_symbolic_integration_method():
    expansion = hermite_expansion(sympy.Max(0, X), 4, method="exact")
    assert expansion.coefficients == hermite_expansion("relu", 4).coefficients
    with pytest.raises(OverlapdynError, match="numeric"):
        hermite_expansion(np.tanh, 3, method="exact")


def test_truncation_error_is_the_l2_distance():
    # x⁴ = 3 + 6 He2 + He4: cut at order 2 the error is ‖He4‖ = √4!.
    x = sympy.Symbol("x")
    assert hermite_expansion(x**4, 2).truncation_error == pytest.approx(math.sqrt(24))
    assert hermite_expansion(x**4, 4).truncation_error == 0.0
    # For relu compare with the L² distance computed by independent quadrature.
    expansion = hermite_expansion("relu", 6)
    truncated = sympy.lambdify(X, expansion.as_expr(), "mpmath")

    def squared_gap(t):
        return (max(t, 0) - truncated(t)) ** 2 * mpmath.exp(-t * t / 2) / mpmath.sqrt(2 * mpmath.pi)

    direct = math.sqrt(float(mpmath.quad(squared_gap, [-mpmath.inf, 0, mpmath.inf])))
    assert expansion.truncation_error == pytest.approx(direct, rel=1e-6)
    errors = [hermite_expansion("relu", L).truncation_error for L in (2, 4, 8, 16)]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
    assert hermite_expansion("relu", 4).relative_truncation_error == pytest.approx(
        errors[1] / math.sqrt(0.5))


def test_expansion_evaluates_like_its_expression():
    expansion = hermite_expansion("tanh", 9)
    points = np.linspace(-2, 2, 5)
    as_expr = sympy.lambdify(X, expansion.as_expr())
    np.testing.assert_allclose(expansion(points), as_expr(points), rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(expansion(points) - np.tanh(points))) < 0.1


@pytest.mark.parametrize(
    "link,expected",
    [("He1", 1), ("He2", 2), ("He3", 3), ("He4", 4), ("He7", 7), ("relu", 1), ("abs", 2),
     ("tanh", 1), ("erf", 1), ("sigmoid", 1), ("softplus", 1), ("linear", 1), ("square", 2),
     (sympy.hermite_prob(3, X) + sympy.hermite_prob(4, X), 3), (X**2, 2),
     (lambda x: np.abs(x) ** 3, 2), (lambda x: x**3 - 3 * x + np.cos(x), 2)],
)
def test_information_exponents(link, expected):
    assert information_exponent(link) == expected


def test_information_exponent_of_constant_is_an_error():
    with pytest.raises(OverlapdynError, match="vanish"):
        information_exponent(sympy.Integer(3))
    with pytest.raises(OverlapdynError, match="higher order"):
        hermite_expansion("He9", 4).information_exponent()


def test_unknown_activation_lists_known_names():
    with pytest.raises(UnknownActivationError, match="relu") as info:
        activation("rleu")
    assert "He<n>" in str(info.value) and "rleu" in str(info.value)


def test_bad_inputs():
    with pytest.raises(OverlapdynError, match="one variable"):
        activation(sympy.Symbol("x") * sympy.Symbol("y"))
    with pytest.raises(OverlapdynError, match="order"):
        hermite_expansion("relu", -1)
    with pytest.raises(OverlapdynError, match="method"):
        hermite_expansion("relu", 3, method="magic")
    with pytest.raises(OverlapdynError, match="L²"):
        hermite_expansion(lambda x: np.exp(x**2), 3)


def test_activation_numeric_forms():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(activation("erf")(x), [float(mpmath.erf(t / math.sqrt(2)))
                                                      for t in x], rtol=1e-14)
    np.testing.assert_allclose(activation("softplus")(x), np.log1p(np.exp(x)), rtol=1e-12)
    np.testing.assert_allclose(activation("He3")(x), x**3 - 3 * x, rtol=1e-12)
    np.testing.assert_allclose(activation(sympy.Integer(2))(x), 2.0)
    assert activation("He3").is_polynomial and not activation("relu").is_polynomial


@pytest.mark.parametrize("expr, expected", [
    (sympy.tanh(X), -1), (sympy.erf(X / sympy.sqrt(2)), -1), (sympy.Abs(X), 1),
    (X**2 * sympy.exp(-X**2), 1), (1 / (1 + sympy.exp(-X)), 0), (sympy.Max(0, X), 0),
    (sympy.tanh(X) + X**2, 0)])
def test_parity_is_decided_on_the_expression(expr, expected):
    assert parity(expr, X) == expected


def test_parity_of_a_multi_index_target_flips_every_field():
    z1, z2 = sympy.symbols("z1 z2")
    assert parity(sympy.tanh(z1 + z2), (z1, z2)) == -1
    assert parity(sympy.tanh(z1) * sympy.tanh(z2), (z1, z2)) == 1
    assert parity(sympy.tanh(z1) + z2**2, (z1, z2)) == 0


def test_numeric_coefficients_of_an_odd_function_vanish_exactly_in_the_even_orders():
    """Quadrature leaves ~1e-17 in tanh's even orders; its parity makes them exactly 0, and
    the odd ones still agree with 30-digit quadrature."""
    expansion = hermite_expansion("tanh", 8)
    assert not expansion.exact
    assert all(expansion.coefficients[n] == 0.0 for n in range(0, 9, 2))
    for n in (1, 3, 5, 7):
        assert expansion.coefficients[n] == pytest.approx(
            mpmath_coefficient("tanh", n), rel=1e-8, abs=1e-12)
    # a function without parity keeps every order
    sigmoid = hermite_expansion("sigmoid", 4)
    assert sigmoid.coefficients[0] == pytest.approx(0.5) and sigmoid.coefficients[1] != 0.0


def test_significant_coefficients_drop_those_below_the_relative_tolerance():
    """tanh + 1e-13 He2 has no parity; its He2 coefficient is below ZERO_TOLERANCE·‖f‖ and a
    truncation drops it, while 1e-6 He2 is kept."""
    tiny = hermite_expansion("tanh(x) + 1e-13*He2(x)", 4)
    kept = hermite_expansion("tanh(x) + 1e-6*He2(x)", 4)
    assert 0 < abs(tiny.coefficients[2]) * math.sqrt(2) < ZERO_TOLERANCE * math.sqrt(
        float(tiny.norm2))
    assert tiny.significant()[2] == 0.0 and tiny.significant()[1] == tiny.coefficients[1]
    assert kept.significant()[2] == pytest.approx(1e-6, rel=1e-4)
    exact = hermite_expansion("He3(x) + 1e-13*He1(x)", 3)
    assert exact.significant() == exact.coefficients   # exact coefficients are never cut
