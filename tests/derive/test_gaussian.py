"""The Gaussian-expectation engine: exact symbolic results against independent checks.

Independent references: tensor Gauss–Hermite cubature (exact for polynomials with enough
nodes), Isserlis' theorem written out by hand, the Hermite orthogonality relation, and
closed forms from the literature for non-polynomial integrands.
"""

import itertools
import math

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from overlapdyn import GaussianFields, OverlapdynError, expectation, numeric_expectation
from overlapdyn.derive import cache_info, clear_caches, gaussian_cubature, moment
from overlapdyn.errors import CovarianceError, FieldMismatchError, NotPolynomialError
from overlapdyn.model import check_covariance

NAMES4 = ("x1", "x2", "x3", "x4")
GENERIC4 = GaussianFields.generic(NAMES4)


def values_of(fields: GaussianFields, matrix: np.ndarray) -> dict[str, float]:
    """The numeric values of a generic covariance's symbols read off a matrix."""
    out = {}
    for i, j in itertools.product(range(len(fields.names)), repeat=2):
        entry = fields.covariance[i, j]
        if isinstance(entry, sympy.Symbol):
            out[str(entry)] = float(matrix[i, j])
    return out


def evaluate(expr: sympy.Expr, values: dict[str, float]) -> float:
    return float(expr.xreplace({sympy.Symbol(k): v for k, v in values.items()}))


def evaluate_poly(poly, values: dict[str, float]) -> float:
    """A sparse polynomial's value, term by term in floating point."""
    point = [values[str(s)] for s in poly.ring.symbols]
    return sum(float(c) * math.prod(v**e for v, e in zip(point, exps, strict=True))
               for exps, c in poly.terms())


def random_covariance(rng: np.random.Generator, size: int) -> np.ndarray:
    a = rng.normal(size=(size, size))
    return a @ a.T / size + 0.1 * np.eye(size)


# --------------------------------------------------------------- exact vs numeric cubature

monomial = st.tuples(*[st.integers(0, 3)] * 4)
polynomials = st.lists(st.tuples(monomial, st.integers(-5, 5).filter(bool)), min_size=1,
                       max_size=5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(factors=st.lists(polynomials, min_size=1, max_size=3), seed=st.integers(0, 2**32 - 1))
def test_exact_matches_cubature_at_random_covariances(factors, seed):
    x = sympy.symbols(NAMES4)
    exprs = [sum(c * sympy.Mul(*[v**e for v, e in zip(x, exps, strict=True)]) for exps, c in f)
             for f in factors]
    rng = np.random.default_rng(seed)
    matrix = random_covariance(rng, 4)
    values = values_of(GENERIC4, matrix)
    exact = evaluate_poly(expectation(exprs, GENERIC4, as_poly=True), values)
    numeric = numeric_expectation(exprs, GENERIC4, values)
    # scale: the L² norm of the integrand (a rough cubature is enough for a magnitude), so
    # that cancellations between terms do not make the relative 1e-9 unfair
    scale = math.sqrt(numeric_expectation([sympy.Mul(*exprs) ** 2], GENERIC4, values,
                                          n_nodes=8))
    assert abs(exact - numeric) <= 1e-9 * max(scale, 1.0)


def test_degree_16_six_fields_against_cubature():
    names = [f"x{i}" for i in range(1, 7)]
    fields = GaussianFields.generic(names)
    integrand = "He3(x1)*He3(x2)*He3(x3)*He3(x4)*x5**2*(x6 + x1)**2"
    exact = expectation(integrand, fields, as_poly=True)
    matrix = random_covariance(np.random.default_rng(7), 6)
    numeric = numeric_expectation(integrand, fields, matrix)
    assert evaluate_poly(exact, values_of(fields, matrix)) == pytest.approx(numeric, rel=1e-9)


# --------------------------------------------------------------------------- identities


@pytest.mark.parametrize("m,n", [(m, n) for m in range(6) for n in range(6)])
def test_hermite_orthogonality_unit_variances(m, n):
    rho = sympy.Symbol("rho")
    fields = GaussianFields(("x", "y"), sympy.Matrix([[1, rho], [rho, 1]]))
    expected = math.factorial(n) * rho**n if m == n else 0
    assert sympy.expand(expectation(f"He{m}(x)*He{n}(y)", fields) - expected) == 0


def test_isserlis_four_fields():
    c = {s: sympy.Symbol(f"C_{s}") for s in ("12", "13", "14", "23", "24", "34", "11", "22")}
    assert expectation("x1*x2*x3*x4", GENERIC4) == (
        c["12"] * c["34"] + c["13"] * c["24"] + c["14"] * c["23"])
    assert expectation("x1**2*x2**2", GENERIC4) == c["11"] * c["22"] + 2 * c["12"] ** 2
    assert expectation("x1*x2*x3", GENERIC4) == 0


@pytest.mark.parametrize("n", range(9))
def test_even_moments_are_double_factorials(n):
    fields = GaussianFields.generic(["x"], symbol="s")
    s = sympy.Symbol("s_11")
    assert expectation(f"x**{2 * n}", fields) == sympy.factorial2(2 * n - 1) * s**n
    assert expectation(f"x**{2 * n + 1}", fields) == 0


def test_non_unit_variances():
    fields = GaussianFields.overlaps(p=1, k=1)
    Q, M, P = sympy.symbols("Q_11 M_11 P_11")
    assert expectation("He2(lambda1)", fields) == Q - 1
    # Mehler with variances: E[He3(λ) He3(z)] = 6M³ + 9M(Q−1)(P−1)
    assert sympy.expand(expectation("He3(lambda1)*He3(z1)", fields)
                        - (6 * M**3 + 9 * M * (Q - 1) * (P - 1))) == 0
    matrix = np.array([[2.0, 0.4], [0.4, 0.5]])
    exact = evaluate(expectation("He4(lambda1)*He2(z1)*z1", fields),
                     {"Q_11": 2.0, "M_11": 0.4, "P_11": 0.5})
    assert exact == pytest.approx(numeric_expectation("He4(lambda1)*He2(z1)*z1", fields,
                                                      matrix), rel=1e-12)


def test_moment_multigraph_terms():
    assert dict(moment((2, 2))) == {(1, 0, 1): 1, (0, 2, 0): 2}
    assert moment((1, 2)) == ()
    # Σ coefficients at C = all-ones is E[(Σ terms)] with every field equal: E[g^{|α|}]
    alpha = (3, 2, 1, 2)
    assert sum(c for _, c in moment(alpha)) == math.prod(range(1, 8, 2))


# ------------------------------------------------------------------ inputs and structure


def test_factors_sequences_and_shared_fields():
    product = expectation("(x1 + x2*x3)*(x1*x3 - x4)*x3", GENERIC4)
    as_list = expectation(["x1 + x2*x3", "x1*x3 - x4", "x3"], GENERIC4)
    assert sympy.expand(product - as_list) == 0


def test_parameters_are_coefficients():
    a, b = sympy.symbols("a b")
    result = expectation("(a*x1 + b)**2", GENERIC4, parameters=["a", "b"])
    assert sympy.expand(result - (a**2 * sympy.Symbol("C_11") + b**2)) == 0
    # user-made symbols with assumptions are matched by name
    x1 = sympy.Symbol("x1", real=True)
    assert expectation(x1**2, GENERIC4) == sympy.Symbol("C_11")


def test_overlap_fields_layout():
    fields = GaussianFields.overlaps(p=2, k=3)
    assert fields.names == ("lambda1", "lambda2", "z1", "z2", "z3")
    C = fields.covariance
    assert C[0, 1] == C[1, 0] == sympy.Symbol("Q_12")
    assert C[1, 3] == C[3, 1] == sympy.Symbol("M_22")
    assert C[2, 4] == sympy.Symbol("P_13")
    unit = GaussianFields.overlaps(p=1, k=2, unit_teacher=True)
    assert unit.covariance[1:, 1:] == sympy.eye(2)
    wide = GaussianFields.overlaps(p=11, k=1)
    assert wide.covariance[9, 10] == sympy.Symbol("Q_10_11")
    assert fields.marginal(["z1", "lambda2"]).covariance == sympy.Matrix(
        [[sympy.Symbol("P_11"), sympy.Symbol("M_21")], [sympy.Symbol("M_21"),
                                                          sympy.Symbol("Q_22")]])


def test_covariance_entries_that_are_numbers_or_expressions():
    r = sympy.Symbol("r")
    shared = GaussianFields(("x", "y", "w"), sympy.Matrix([[1, r, r], [r, 1, r], [r, r, 1]]))
    expression = GaussianFields(("x", "y"), sympy.Matrix([[1 + r**2, r], [r, 2]]))
    generic3 = GaussianFields.generic(["x", "y", "w"])
    integrand = "He2(x)*He2(y)*w**2 + x*y*w**4"
    general = expectation(integrand, generic3)
    c = {s: sympy.Symbol(f"C_{s}") for s in ("11", "22", "33", "12", "13", "23")}
    specialised = general.xreplace({c["11"]: 1, c["22"]: 1, c["33"]: 1, c["12"]: r,
                                    c["13"]: r, c["23"]: r})
    assert sympy.expand(expectation(integrand, shared) - specialised) == 0
    general2 = expectation("x**4*y**2 + x*y**3", GaussianFields.generic(["x", "y"]))
    specialised2 = general2.xreplace({c["11"]: 1 + r**2, c["12"]: r, c["22"]: 2})
    assert sympy.expand(expectation("x**4*y**2 + x*y**3", expression) - specialised2) == 0


def test_rational_and_non_polynomial_entries():
    rho, theta = sympy.symbols("rho theta")
    half = GaussianFields(("x", "y"), sympy.Matrix([[1, rho / 2], [rho / 2, 1 - rho**2]]))
    assert sympy.expand(expectation("x**2*y**2", half) - (1 - rho**2 + rho**2 / 2)) == 0
    angle = GaussianFields(("x", "y"), sympy.Matrix([[1, sympy.cos(theta)],
                                                     [sympy.cos(theta), 2]]))
    assert sympy.expand(expectation("x**2*y**2", angle) - (2 + 2 * sympy.cos(theta) ** 2)) == 0


def test_returned_polynomial_cannot_corrupt_the_cache():
    poly = expectation("x1**2*x2**2", GENERIC4, as_poly=True)
    poly[poly.ring.zero_monom] = 5
    c11, c12, c22 = sympy.symbols("C_11 C_12 C_22")
    assert expectation("x1**2*x2**2", GENERIC4) == c11 * c22 + 2 * c12**2


def test_cache_uses_the_canonical_form():
    clear_caches()
    first = expectation("(x1 + x2)**2 * x3**2", GENERIC4)
    assert cache_info()["misses"] == 1 and cache_info()["hits"] == 0
    again = expectation("x3**2*(x1**2 + 2*x1*x2 + x2**2)", GENERIC4)
    assert again == first
    assert cache_info()["hits"] == 1 and cache_info()["size"] == 1
    clear_caches()
    assert cache_info() == {"hits": 0, "misses": 0, "size": 0, "moments": 0}


def test_as_poly_matches_expression():
    poly = expectation("He3(x1)*He3(x2)*x3**2", GENERIC4, as_poly=True)
    expr = expectation("He3(x1)*He3(x2)*x3**2", GENERIC4)
    assert sympy.expand(poly.as_expr() - expr) == 0


# ----------------------------------------------------------------------- numeric engine


def test_numeric_erf_integrals_match_saad_solla():
    """I2 of erf(x/√2): (2/π) arcsin(C12/√((1+C11)(1+C22))) (Saad & Solla 1995)."""
    matrix = np.array([[1.3, 0.6], [0.6, 0.8]])
    value = numeric_expectation("erf(a/sqrt(2))*erf(b/sqrt(2))", ["a", "b"], matrix,
                                n_nodes=80)
    expected = 2 / math.pi * math.asin(0.6 / math.sqrt(2.3 * 1.8))
    assert value == pytest.approx(expected, abs=1e-10)
    j2 = numeric_expectation(lambda a, b: 2 / math.pi * np.exp(-(a**2 + b**2) / 2), ["a", "b"],
                             np.eye(2))
    assert j2 == pytest.approx(1 / math.pi, rel=1e-10)


def test_numeric_parameters_and_singular_covariance():
    rank_one = np.ones((2, 2))  # x1 = x2 almost surely
    assert numeric_expectation("a*x1*x2", ["x1", "x2"], rank_one,
                               parameters={"a": 3.0}) == pytest.approx(3.0)
    points, weights = gaussian_cubature(rank_one, 5)
    assert points.shape == (2, 5) and np.allclose(points[0], points[1])


# --------------------------------------------------------------------------- bad inputs


def test_non_polynomial_factor_names_the_function_and_the_fixes():
    with pytest.raises(NotPolynomialError, match=r"tanh\(x1\)") as info:
        expectation(["x2", "tanh(x1)*x3"], GENERIC4)
    assert "hermite_expansion" in str(info.value) and "numeric_expectation" in str(info.value)
    with pytest.raises(NotPolynomialError, match="sqrt"):
        expectation("sqrt(x1**2 + 1)", GENERIC4)


def test_mismatched_fields_are_named():
    with pytest.raises(FieldMismatchError, match="'z3'") as info:
        expectation("z1*z3", GaussianFields.overlaps(p=1, k=2))
    assert "parameters=" in str(info.value)
    with pytest.raises(FieldMismatchError, match="not among"):
        GENERIC4.marginal(["x9"])
    with pytest.raises(FieldMismatchError, match="'b'"):
        numeric_expectation("b*x1", ["x1"], np.eye(1))


def test_bad_covariances_are_named():
    with pytest.raises(CovarianceError, match="not symmetric"):
        GaussianFields(("x", "y"), sympy.Matrix([[1, 2], [3, 1]]))
    with pytest.raises(CovarianceError, match="shape"):
        GaussianFields(("x", "y", "z"), sympy.eye(2))
    fields = GaussianFields.overlaps(p=1, k=1)
    with pytest.raises(CovarianceError, match="Ω is not positive semi-definite"):
        numeric_expectation("lambda1*z1", fields, {"Q_11": 1.0, "M_11": 2.0, "P_11": 1.0})
    with pytest.raises(CovarianceError, match=r"\['P_11'\]"):
        numeric_expectation("lambda1*z1", fields, {"Q_11": 1.0, "M_11": 0.2})
    with pytest.raises(CovarianceError, match="non-finite"):
        check_covariance(np.array([[np.nan]]))
    with pytest.raises(CovarianceError, match="3 fields"):
        numeric_expectation("x1", ["x1", "x2", "x3"], np.eye(2))
    with pytest.raises(OverlapdynError, match="distinct"):
        GaussianFields(("x", "x"), sympy.eye(2))
