"""The formula reader (overlapdyn.model.formula): the same SymPy expression as the SymPy-eval
reader it replaced for every formula the library's tests, docs, examples, notebooks and
benchmarks use; every construct outside the whitelist refused with its name; the limits.

The reference below is the replaced reader (``sympy.sympify`` with the He/relu namespace),
used here on hard-coded, trusted text only.
"""

from __future__ import annotations

import re

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from overlapdyn.derive.multihermite import multivariate_hermite
from overlapdyn.errors import ConfigError
from overlapdyn.model.activations import X, activation
from overlapdyn.model.formula import (
    FUNCTIONS,
    MAX_CALL_DEPTH,
    MAX_DEGREE,
    MAX_LENGTH,
    parse_formula,
)
from overlapdyn.model.spec import Target


def sympify_reference(text: str, names=()) -> sympy.Expr:
    """The reader overlapdyn used before model.formula (it evaluates its text as Python)."""
    namespace = {
        "He": lambda n, u: sympy.hermite_prob(int(n), u),
        "relu": lambda u: sympy.Max(0, u),
        **{f"He{n}": (lambda m: lambda u: sympy.hermite_prob(m, u))(int(n))
           for n in re.findall(r"\bHe(\d+)\b", text)},
        **{name: sympy.Symbol(name) for name in names},
    }
    return sympy.sympify(text, locals=namespace)


Z = ("z1", "z2", "z3")
#: target expressions (tests, docs, examples, notebooks, benchmarks, README) — in z1..z3
TARGETS = [
    "z1", "(z1)", "3", "z1*z2", "z1*z3", "z1*z2*z3", "z1 + z1*z2", "z1 + z1*z2 + z1*z2*z3",
    "z1 + z1*z2*z3", "z1**2", "z1**3*z2**2 + z1*z2 - 2*z2**4", "He1(z1)", "He2(z1)",
    "He3(z1)", "He4(z1)", "He2(z1) + He2(z2)", "He2(z1)*z2", "He2(z1)*He1(z2) + z2",
    "He3(z1) + He4(z1)", "He4(z1) + z1*z2", "tanh(z1)", "tanh(z1 + z2)", "relu(z1)",
    "Abs(z1)", "Max(0, z1)",
]
#: activations, links, inner/outer functions — in x
ACTIVATIONS = [
    "x", "x**2", "tanh(x)", "tanh(3*x)", "tanh(2*x)", "erf(x)", "He2(x)", "He3(x)",
    "He1(x) + He2(x)", "He2(x) + He3(x)", "He2(x) + He3(x)/3", "He2(x)/2 + He3(x)/6",
    "He2(x) + 2*He3(x) + He4(x)", "He3(x) + He4(x)", "x + He2(x) + He3(x)",
    "x + x**2 + x**3/6",
]
#: integrands of expect / expectation / numeric_expectation (any names)
INTEGRANDS = [
    "He3(lambda1)*He3(z1)", "He3(lambda1) * He3(z1)", "3*He2(lambda1)*z1*He3(z1)",
    "3*He2(lambda1) * z1 * He3(z1)", "9*He2(lambda1)*He2(lambda2)*He3(z1)**2",
    "He2(lambda1)*He2(lambda2)", "He2(lambda1)", "He2(lambda2)", "He4(lambda1)*He2(z1)*z1",
    "lambda1*z1", "a*lambda1*z2", "a*He2(lambda1)", "tanh(lambda1)*z1", "6*M_11**3",
    "(a*x1 + b)**2", "a*x1*x2", "b*x1", "erf(a/sqrt(2))*erf(b/sqrt(2))", "sqrt(x1**2 + 1)",
    "tanh(x1)*x3", "tanh(x1)*tanh(x2)*x3", "He2(x)*He2(y)*w**2 + x*y*w**4", "x**2*y**2",
    "x**4*y**2 + x*y**3", "(x1 + x2)**2 * x3**2", "(x1 + x2*x3)*(x1*x3 - x4)*x3",
    "x3**2*(x1**2 + 2*x1*x2 + x2**2)", "x1 + x2*x3", "x1**2*x2**2", "x1*x2*x3",
    "x1*x2*x3*x4", "x1*x3 - x4", "He3(x1)*He3(x2)*x3**2",
    "He3(x1)*He3(x2)*He3(x3)*He3(x4)*x5**2*(x6 + x1)**2",
    "(x1 + x1*x2 + x1*x2*x3)**2*He3(x4)*x4**3",
    "(x1 + x2 + x3 + x4 + x5 + x6)**2*He3(x1)*He3(x2)*He2(x3)*He2(x4)*He2(x5)*He2(x6)",
    "(x1 + x2 + x3 + x4)**12", "(x1 + x2 + x3 + x4)^12",
    "(x1 + x2 + x3)**4*He2(x1)*He1(x2)*He3(x4)*He3(x5)*He3(x6)",
    "He2(x1)*He2(x2)*(x1 + x2 + x3 + x4)**8", "He2(x1)*He2(x2)*(x3 + x4)**2*x3*x4",
    "He2(x1)*x2**2", "He3(x1)*He3(x2)*He3(x3)*He3(x4)",
    "He3(x1)*He3(x2)*He3(x3)*He3(x4)*He2(x5)*He2(x6)",
    *[f"He{m}(x)*He{n}(y)" for m in range(5) for n in range(5)],
    *[f"x**{n}" for n in range(9)],
]
#: exact numbers as saved results print them (Leap archives), and other constant text
NUMBERS = [
    "1/2", "-1/6", "0.5", "1e-3", "2.", ".25", "1/(2*sqrt(pi))", "sqrt(2)/(2*sqrt(pi))",
    "-sqrt(2)/(12*sqrt(pi))", "3*sqrt(3)/(4*pi)", "exp(-1/2)", "E", "pi**2", "2**-3",
    "0.12345678901234567890", "1e400", "-(-3)", "+4",
]


@pytest.mark.parametrize(("text", "names"), [
    *[(t, Z) for t in TARGETS], *[(t, ("x",)) for t in ACTIVATIONS],
    *[(t, None) for t in INTEGRANDS], *[(t, ()) for t in NUMBERS]])
def test_every_formula_in_use_reads_as_before(text, names):
    new = parse_formula(text, names)
    old = sympify_reference(text, names or ())
    assert new == old, (new, old)  # the same tree, not merely equal values
    assert sympy.simplify(new - old) == 0


def test_printed_forms_read_back_identically():
    """The kernels key on ``str(target.function())`` and read it back; saved leaps print
    their exact coefficients: both must round-trip."""
    for text in TARGETS:
        expr = parse_formula(text, Z)
        assert parse_formula(str(expr), Z) == expr
    for text in ("z1 + z1*z2*z3", "He3(z1) + He4(z1)", "He2(z1)*He1(z2) + z2"):
        expansion = multivariate_hermite(text, 3)
        for c in expansion.coefficients.values():
            assert parse_formula(str(c), ()) == c
    for text in ("relu", "erf", "sigmoid", "softplus", "abs", "tanh"):
        expr = activation(text).expr
        assert parse_formula(str(expr), ("x",)).subs(sympy.Symbol("x"), X) == expr


def test_each_function_builds_what_its_table_says():
    x = sympy.Symbol("x")
    expected = {
        "He": (sympy.Integer(3), x), "relu": sympy.Max(0, x), "sigmoid": 1 / (1 + sympy.exp(-x)),
        "softplus": sympy.log(1 + sympy.exp(x)), "exp": sympy.exp(x), "log": sympy.log(x),
        "sqrt": sympy.sqrt(x), "sin": sympy.sin(x), "cos": sympy.cos(x), "tan": sympy.tan(x),
        "sinh": sympy.sinh(x), "cosh": sympy.cosh(x), "tanh": sympy.tanh(x),
        "erf": sympy.erf(x), "erfc": sympy.erfc(x), "abs": sympy.Abs(x), "Abs": sympy.Abs(x),
        "sign": sympy.sign(x), "Max": (x, 1), "Min": (x, 1)}
    assert set(expected) == set(FUNCTIONS)
    assert parse_formula("He(3, x)", ("x",)) == x**3 - 3 * x
    assert parse_formula("Max(x, 1)", ("x",)) == sympy.Max(x, 1)
    assert parse_formula("Min(x, 1, 2)", ("x",)) == sympy.Min(x, 1)
    for name, value in expected.items():
        if name not in ("He", "Max", "Min"):
            assert parse_formula(f"{name}(x)", ("x",)) == value, name
    assert parse_formula(f"He{MAX_DEGREE}(x)", ("x",)) == sympy.hermite_prob(MAX_DEGREE, x)
    assert parse_formula("x^2 - 2^x", ("x",)) == x**2 - 2**x  # ^ is **, as SymPy read it
    assert parse_formula("-x**2", ("x",)) == -(x**2)
    assert parse_formula("pi*E", ()) == sympy.pi * sympy.E


def test_variables_win_over_constants_and_symbols_are_plain():
    E = sympy.Symbol("E")
    assert parse_formula("E*x", ("E", "x")) == E * sympy.Symbol("x")
    assert parse_formula("z1", Z) is sympy.Symbol("z1")
    assert parse_formula("beta*gamma", None) == sympy.Symbol("beta") * sympy.Symbol("gamma")


def test_non_text_inputs():
    z1 = sympy.Symbol("z1")
    assert parse_formula(z1**2, Z) == z1**2  # a SymPy expression is returned unchanged
    assert parse_formula(3, ()) == 3 and parse_formula(0.5, ()) == sympy.Float("0.5")
    for bad in (True, None, [1], {"a": 1}, b"z1"):
        with pytest.raises(ConfigError, match="must be a formula written as a string"):
            parse_formula(bad, Z)


REFUSED = [
    ("__import__('os').system('true')", ["__import__", "attribute access", "'os'"]),
    ("z1 + 0*__import__('os').system('true')", ["__import__"]),
    ("().__class__.__bases__", ["attribute access", "'().__class__.__bases__'"]),
    ("z1.real", ["attribute access 'z1.real'"]),
    ("eval('1')", ["calls eval", "'1'"]),
    ("exec('z1')", ["calls exec"]),
    ("open", ["uses ['open']"]),
    ("open('f', 'w')", ["calls open"]),
    ("lambda: 1", ["the lambda"]),
    ("(lambda u: u)(z1)", ["the lambda", "not a function name"]),
    ("[z1 for z1 in (1,)]", ["comprehension"]),
    ("(z1 for z1 in (1,))", ["generator"]),
    ("[z1][0]", ["indexing"]),
    ("{1: z1}", ["dict"]),
    ("z1 if z2 else 1", ["conditional"]),
    ("z1 < z2", ["comparison"]),
    ("z1 and z2", ["logical operation"]),
    ("(z3 := 1)", ["assignment"]),
    ("tanh(*[z1])", ["starred"]),
    ("tanh(x=z1)", ["keyword arguments"]),
    ("'z1'", ["constant \"'z1'\""]),
    ("f'{z1}'", ["f-string"]),
    ("1j*z1", ["complex number '1j'"]),
    ("True*z1", ["constant 'True'"]),
    ("None", ["constant 'None'"]),
    ("z1 @ z2", ["operator '@'"]),
    ("z1 // 2", ["operator '//'"]),
    ("z1 % 2", ["operator '%'"]),
    ("~z1", ["operator '~'"]),
    ("not z1", ["operator 'not'"]),
    ("z1 | z2 & 1 << 2", ["operator '|'", "operator '&'", "operator '<<'"]),
    ("z1(2)", ["calls z1, which is not a known function"]),
    ("hermite(3, z1)", ["calls hermite"]),
    ("exp", ["uses ['exp']"]),
    ("z4 + w", ["uses ['w', 'z4']"]),
    ("He3(z1, z2)", ["calls He3 with 2 argument(s); it takes 1"]),
    ("He(2.5, z1)", ["whole number"]),
    ("He(z1, z1)", ["whole number"]),
    ("Max(z1)", ["two or more"]),
    ("z1 +", ["is not a formula"]),
    ("import os", ["is not a formula"]),
    ("z1; z2", ["is not a formula"]),
    ("", ["is not a formula"]),
]


@pytest.mark.parametrize(("text", "fragments"), REFUSED)
def test_anything_outside_the_whitelist_is_refused_by_name(text, fragments):
    with pytest.raises(ConfigError) as info:
        parse_formula(text, Z, what="target expression")
    message = str(info.value)
    assert message.startswith("target expression")
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "a formula may use numbers" in message or "must be" in message


def test_open_names_are_symbols_but_never_private_or_functions():
    assert parse_formula("open*a_1", None) == sympy.Symbol("open") * sympy.Symbol("a_1")
    for text, fragment in (("__class__", "uses ['__class__']"), ("_x*y", "uses ['_x']"),
                           ("exp*x", "uses ['exp']")):
        with pytest.raises(ConfigError, match=re.escape(fragment)):
            parse_formula(text, None, what="integrand")


@pytest.mark.parametrize(("text", "fragment"), [
    ("z1" + " + z1" * (MAX_LENGTH // 5), f"at most {MAX_LENGTH}"),
    ("tanh(" * (MAX_CALL_DEPTH + 1) + "z1" + ")" * (MAX_CALL_DEPTH + 1),
     f"nests function calls more than {MAX_CALL_DEPTH} deep"),
    ("-" * 120 + "z1", "nests deeper than 100 levels"),
    ("(" * 300 + "z1" + ")" * 300, "is not a formula"),  # Python's own parser limit
    (f"He{MAX_DEGREE + 1}(z1)", f"Hermite degrees go up to {MAX_DEGREE}"),
    (f"He({MAX_DEGREE + 1}, z1)", "whole number"),
    (f"z1**{MAX_DEGREE + 1}", f"(at most {MAX_DEGREE})"),
    ("(z1**8)**9", "contains z1**72"),
    ("z1**(10**6/3)", "to the power"),
    ("2**10**10", "bits"),
    ("2**(10**60/3)", "bits"),
    ("He64(10**1000)", "contains a number of"),
    ("E**(10**1000)", "raises E to the power a number of 3322 bits"),
    ("E**(10**30)", "raises E to the power 1000000000000000000000000000000 (at"),
    ("1/0", "not finite and real (it contains zoo)"),
    ("sqrt(-1)*z1", "contains I"),
    ("log(0)", "not finite"),
])
def test_limits_refuse_what_would_hang_or_is_not_a_real_number(text, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        parse_formula(text, Z)


def test_within_the_limits_everything_reads():
    z1 = sympy.Symbol("z1")
    long_sum = " + ".join(["z1"] * 1500)  # one level of nesting, however long
    assert parse_formula(long_sum, Z) == 1500 * z1
    depth = "tanh(" * MAX_CALL_DEPTH + "z1" + ")" * MAX_CALL_DEPTH
    assert parse_formula(depth, Z).count(sympy.tanh) == MAX_CALL_DEPTH
    assert parse_formula(f"z1**{MAX_DEGREE}", Z) == z1**MAX_DEGREE
    assert parse_formula("10**300 + (-1)**(10**9)", ()) == 10**300 + 1
    assert parse_formula("2.0**(10**9)", ()).is_Float


def test_errors_reach_the_user_as_config_errors():
    with pytest.raises(ConfigError, match=r"target expression \(k = 1\) 'z1\.real'"):
        Target(k=1, expression="z1.real")
    with pytest.raises(ConfigError, match="activation formula 'tanh\\(2\\*u\\)' uses \\['u'\\]"):
        activation("tanh(2*u)")


# ----------------------------------------------------------------- random formulas

_ATOMS = st.sampled_from(["z1", "z2", "2", "3", "0.5", "pi", "E", "1/3"])
_CALLS = st.sampled_from(["exp", "tanh", "erf", "sqrt", "log", "Abs", "abs", "sign", "relu",
                          "He2", "He3", "cos"])


def _formulas(depth: int = 0):
    if depth >= 3:
        return _ATOMS
    inner = st.deferred(lambda: _formulas(depth + 1))
    return st.one_of(
        _ATOMS,
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, st.integers(-3, 4)).map(lambda t: f"({t[0]})**{t[1]}"),
        st.tuples(_CALLS, inner).map(lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda t: f"-{t}"),
    )


@settings(max_examples=150)
@given(_formulas())
def test_random_formulas_read_as_sympy_evaluated_them(text):
    old = sympify_reference(text, Z)
    if any(old.has(atom) for atom in (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan, sympy.I)):
        with pytest.raises(ConfigError, match="not finite and real"):
            parse_formula(text, Z)
        return
    assert parse_formula(text, Z) == old


def test_as_expression_converts_numbers_exactly_and_refuses_text():
    from fractions import Fraction

    import numpy as np

    from overlapdyn.model.formula import as_expression

    x = sympy.Symbol("x")
    assert as_expression(x + 1) == x + 1
    assert as_expression(3) == sympy.Integer(3) and as_expression(np.int64(3)).is_Integer
    assert as_expression(Fraction(1, 3)) == sympy.Rational(1, 3)
    assert as_expression(0.25) == sympy.Float(0.25) and as_expression(np.float64(0.5)).is_Float
    for bad in ("x + 1", "__import__('os')", True, None, [1]):
        with pytest.raises(ConfigError):
            as_expression(bad)
