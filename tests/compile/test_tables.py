"""Polynomial kernels as coefficient tables (overlapdyn.compile.tables) against the printed
formulas, SymPy, NumPy and SPEC's expectations by cubature; and sweeps that compile nothing
after the first model.

The tables' module of the suite's multi-index model ("trained readout + weight decay") is
the one cold build here (≈ 3 s; the tables' evaluator ≈ 1 s once per cache folder); its
printed formulas and the He2 committee are the suite's (tests/compile/test_compiled.py).
The He4 committee's kernels are tables by default: test_compiled.py checks them against
cubature.
"""

import numpy as np
import pytest
import sympy
from configs import MODELS
from numba.core import event
from reference import random_overlaps, reference_drift

from overlapdyn.compile.compiled import CompiledModel, plan_build, uses_tables
from overlapdyn.compile.estimate import estimate_build
from overlapdyn.compile.tables import (
    TABLE_EXPANSION,
    derivative_table,
    evaluate_polynomial,
    is_polynomial_kernel,
    polynomial_table,
    split_table,
)
from overlapdyn.derive.kernels import derive_kernels, target_coefficients
from overlapdyn.derive.methods import ClosedForm, Exact, HermiteTruncation
from overlapdyn.errors import OverlapdynError
from overlapdyn.model.spec import Model, Protocol, Student, Target

HE2 = MODELS["He2 committee p=k=2"]


def test_a_table_is_the_polynomial_and_its_split_sums_to_it():
    x, y, z = sympy.symbols("x y z")
    expr = (sympy.Rational(3, 7) * x**3 * y - 2 * y**2 * z**4 + x * y * z
            + sympy.Rational(1, 3) * z**5 - 5 + x**2)
    table = polynomial_table(("x", "y", "z"), expr)
    assert table.terms == 6 and table.top == 5
    rng = np.random.default_rng(0)
    for point in rng.normal(size=(5, 3)):
        exact = float(expr.subs(dict(zip((x, y, z), point, strict=True))))
        assert evaluate_polynomial(table, point) == pytest.approx(exact, rel=1e-13)
        # the evaluator's arrays, followed in NumPy: chains, then Σ_t c_t a_group[t] b_index[t]
        split = split_table(table)
        a, b = np.ones(len(split.A_parent)), np.ones(len(split.B_parent))
        for values, parent, var in ((a, split.A_parent, split.A_var),
                                    (b, split.B_parent, split.B_var)):
            for m in range(1, len(values)):
                assert parent[m] < m
                values[m] = values[parent[m]] * point[var[m]]
        assert np.sum(split.c * a[split.group] * b[split.index]) == pytest.approx(exact,
                                                                                  rel=1e-13)
        assert split.multiplications <= 3 * 2 * table.terms
        for i, symbol in enumerate((x, y, z)):   # ∂K/∂x_i by tables, as the Jacobian uses
            exact_derivative = float(sympy.diff(expr, symbol).subs(
                dict(zip((x, y, z), point, strict=True))))
            assert evaluate_polynomial(derivative_table(table, i), point) == pytest.approx(
                exact_derivative, rel=1e-13)


def test_only_polynomials_in_the_arguments_make_tables():
    x, y = sympy.symbols("x y")
    assert is_polynomial_kernel(("x", "y"), x * y**2)
    assert not is_polynomial_kernel(("x", "y"), sympy.asin(x * y))
    assert not is_polynomial_kernel(("x",), x * y)        # another symbol
    assert not is_polynomial_kernel((), sympy.Float(2.0))  # a constant: printed as it is
    with pytest.raises(OverlapdynError, match="not a polynomial"):
        polynomial_table(("x",), sympy.sqrt(x))


def test_auto_uses_tables_from_the_expansion_size_on_the_polynomial_routes():
    he4 = MODELS["He4 committee p=4 k=2"]            # expansion size 1371
    assert uses_tables(he4, Exact()) and TABLE_EXPANSION <= 1371
    assert not uses_tables(HE2, Exact())             # 163: printed formulas
    erf = Model(Target(k=2, activation="erf"), Student(p=2, activation="erf"), Protocol(eta=0.5))
    assert not uses_tables(erf, ClosedForm())
    tanh = Model(Target(k=1, activation="tanh"), Student(p=2, activation="tanh"),
                 Protocol(eta=0.5))
    assert uses_tables(tanh, HermiteTruncation(5)) and not uses_tables(tanh, HermiteTruncation(2))
    # the estimate of a build by tables does not grow like the printed formulas' code
    he6 = Model(Target(k=2, activation="He6"), Student(p=2, activation="He6"), Protocol(eta=0.3))
    formulas, tables = estimate_build(he6, Exact()), estimate_build(he6, Exact(), tables=True)
    assert tables.route == "exact (tables)" and tables.expansion == formulas.expansion == 5643
    assert tables.seconds < 15.0 < 100.0 < formulas.seconds
    assert plan_build(he6, Exact()).estimate == tables


def _sweep(make, values, M, Q):
    """Build ``make(value)`` for each value and evaluate its drift; the drifts, the modules
    and the number of Numba compilations after the first model."""
    first = make(values[0])
    drifts, modules = [first.rhs(0.0, first.pack(M, Q))], [first.module]
    with event.install_recorder("numba:compile") as compiles:
        for value in values[1:]:
            compiled = make(value)
            drifts.append(compiled.rhs(0.0, compiled.pack(M, Q)))
            modules.append(compiled.module)
    return drifts, modules, sum(1 for _, e in compiles.buffer if e.is_start)


def test_a_committee_sweep_over_P_c_p_and_noise_compiles_nothing_after_the_first():
    # a committee's kernels never held P, c_p, b, c_k or Δ: one module serves them all
    M, Q = random_overlaps(HE2, 0)
    settings = [(0.0, 0.5, 0.0), (0.3, 0.5, 0.0), (-0.4, 1.0, 0.2), (0.6, 0.25, 1.0)]

    def make(setting):
        rho, c_p, noise = setting
        return CompiledModel(Model(Target(k=2, activation="He2", noise=noise,
                                          P=((1.0, rho), (rho, 1.0))),
                                   Student(p=2, activation="He2", c_p=c_p), HE2.protocol))

    drifts, modules, compiles = _sweep(make, settings, M, Q)
    assert compiles == 0 and all(module is modules[0] for module in modules)
    assert not np.allclose(drifts[0], drifts[1])           # P reached the drift


MULTI = MODELS["trained readout + weight decay"]           # g = He2(z1) z2 + z2, p = 3


def _with_P(rho: float) -> Model:
    target = MULTI.target
    return Model(Target(k=2, expression=target.expression, noise=target.noise,
                        P=((1.0, rho), (rho, 1.0))), MULTI.student, MULTI.protocol)


@pytest.fixture(scope="module")
def multi_tables():
    # the one cold build of this file (≈ 3 s): the multi-index target's kernels as tables,
    # P's entries among their arguments
    return CompiledModel(MULTI, Exact(), tables=True)


def test_tables_give_the_printed_formulas_drift_risk_and_kernels(multi_tables):
    formulas, tables = CompiledModel(MULTI), multi_tables   # the suite's printed formulas
    assert tables.tables and not formulas.tables and "evaluate_table" in tables.source
    for seed in range(4):
        M, Q = random_overlaps(MULTI, seed)
        y = formulas.pack(M, Q)
        mine, theirs = tables.rhs(0.0, y), formulas.rhs(0.0, y)
        assert np.max(np.abs(mine - theirs)) <= 1e-12 * np.max(np.abs(theirs))
        assert tables.risk(M, Q) == pytest.approx(formulas.risk(M, Q), rel=1e-12)
        for got, expected in zip(vars(tables.terms(M, Q)).values(),
                                 vars(formulas.terms(M, Q)).values(), strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-12,
                                       atol=1e-12 * np.max(np.abs(expected)))
    # each compiled kernel against its table in NumPy and its SymPy formula
    rng = np.random.default_rng(1)
    kernels = derive_kernels(MULTI, Exact(), symbolic_target=True)
    assert kernels.symbolic_target and kernels["Eg2"].args == ("p_1_1", "p_1_2", "p_2_2", "gc_1")
    for kernel in kernels.kernels:
        point = rng.uniform(-1.0, 1.0, size=len(kernel.args))
        exact = float(kernel.expr.subs(dict(zip(sympy.symbols(kernel.args), point,
                                                strict=True))))
        table = polynomial_table(kernel.args, kernel.expr)
        assert evaluate_polynomial(table, point) == pytest.approx(exact, rel=1e-13, abs=1e-14)
        name = kernel.name if kernel.name in ("I2ss", "J2s", "I3ss", "I4sss") \
            else f"{kernel.name}_k"
        assert getattr(tables.module, name)(*point) == pytest.approx(exact, rel=1e-13,
                                                                      abs=1e-14)


def test_the_exact_jacobian_by_tables_is_the_printed_formulas(multi_tables):
    # the formulas' Jacobian is tests/compile/test_jacobian.py's (this model, same unit)
    formulas = CompiledModel(MULTI)
    for seed in (0, 1):
        M, Q = random_overlaps(MULTI, seed)
        y = formulas.pack(M, Q)
        mine, theirs = multi_tables.jacobian(0.0, y), formulas.jacobian(0.0, y)
        assert np.max(np.abs(mine - theirs)) <= 1e-12 * np.max(np.abs(theirs))
    assert multi_tables.has_exact_jacobian


def test_a_multi_index_sweep_over_P_compiles_nothing_after_the_first(multi_tables):
    M, Q = random_overlaps(MULTI, 2)
    drifts, modules, compiles = _sweep(lambda rho: CompiledModel(_with_P(rho), Exact(),
                                                                 tables=True),
                                       [0.0, 0.35, -0.5], M, Q)
    assert compiles == 0 and all(module is multi_tables.module for module in modules)
    # the run-time P against SPEC's expectations over the full Ω by cubature
    model = _with_P(-0.5)
    M, Q = random_overlaps(model, 3)
    compiled = CompiledModel(model, Exact(), tables=True)
    for mine, theirs in zip(compiled.drift(M, Q), reference_drift(model, M, Q), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-9 * np.max(np.abs(theirs)))


def test_a_target_splits_into_its_monomials_and_their_coefficients():
    z1, z2 = sympy.symbols("z1 z2")
    g = 3 * z1**2 * z2 - z2 / 2 + sympy.Rational(1, 4) + z1 * z2**3
    template, values = target_coefficients(g, 2)
    symbols = {name: sympy.Symbol(name) for name in ("gc_1", "gc_2", "gc_3", "gc_4")}
    rebuilt = sympy.sympify(template, locals={**symbols, "z1": z1, "z2": z2})
    assert sympy.expand(rebuilt.subs({symbols[f"gc_{i + 1}"]: sympy.Float(value)
                                      for i, value in enumerate(values)}) - g) == 0
    # lexicographic order: z1² z2, z1 z2³, z2, 1
    np.testing.assert_array_equal(values, [3.0, 1.0, -0.5, 0.25])
    # the monomials number alike whatever the coefficients
    other_template, other_values = target_coefficients(-g + 2 * z1 * z2**3, 2)
    assert other_template == template
    np.testing.assert_array_equal(other_values, [-3.0, 1.0, 0.5, -0.25])


def _with_coefficient(c: float) -> Model:
    target = MULTI.target
    return Model(Target(k=2, expression=f"He2(z1)*z2 + {c}*z2", noise=target.noise,
                        P=((1.0, -0.4), (-0.4, 1.0))), MULTI.student, MULTI.protocol)


def test_a_multi_index_sweep_over_the_targets_coefficients_compiles_nothing_after_the_first():
    # g = z1² z2 + (c − 1) z2: two monomials whose coefficients are the loops' run-time v
    M, Q = random_overlaps(MULTI, 2)
    make = lambda c: CompiledModel(_with_coefficient(c), Exact(), tables=True)  # noqa: E731
    drifts, modules, compiles = _sweep(make, [0.5, -0.3, 2.0], M, Q)
    assert compiles == 0 and all(module is modules[0] for module in modules)
    assert not np.allclose(drifts[0], drifts[1])             # the coefficient reached it
    model = _with_coefficient(-0.3)
    compiled = make(-0.3)
    np.testing.assert_array_equal(compiled.target_vector, [1.0, -1.3])
    M, Q = random_overlaps(model, 3)
    for mine, theirs in zip(compiled.drift(M, Q), reference_drift(model, M, Q), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-9 * np.max(np.abs(theirs)))
