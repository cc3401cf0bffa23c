r"""Polynomial kernels as coefficient tables, evaluated by one compiled evaluator.

A kernel of polynomial activations (and of a polynomial multi-index target) is a polynomial
in its arguments, the entries of a covariance block (:mod:`overlapdyn.derive.kernels`):

    K(x) = Σ_t c_t Π_i x_i^{e_ti}.

Printed as a formula (:func:`~overlapdyn.compile.printer.kernel_source`) its code grows with
the degree (each I4 kernel of a He6 committee has 5,785 terms; its module is 0.5 MB of
source and takes minutes of Numba), and Numba's time with the code. Stored as a table it is
evaluated by ``evaluate_table`` of ``templates/polynomial_table.py``, one loop for every
kernel of every degree: the model's module then holds one small wrapper per kernel that
passes its table to that loop, and compiles in a time that does not grow with the degree,
at a run-time price (the numbers, and when :class:`~overlapdyn.compile.CompiledModel`
chooses tables, in :data:`TABLE_EXPANSION`).

:func:`polynomial_table` makes a table from a SymPy formula; :func:`evaluate_polynomial`
evaluates one in NumPy (a reference for the tests); :func:`split_table` makes the arrays
the evaluator reads (:class:`SplitTable`); :func:`table_kernel_source` prints a kernel's
wrapper with them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import OverlapdynError
from ..model.formula import as_expression

__all__ = ["TABLE_EXPANSION", "PolynomialTable", "SplitTable", "derivative_table",
           "evaluate_polynomial", "is_polynomial_kernel", "kernel_table", "polynomial_table",
           "split_table", "table_accumulator_source", "table_kernel_source"]

#: The expansion size (:mod:`overlapdyn.compile.estimate`) from which
#: :class:`~overlapdyn.compile.CompiledModel` stores a model's polynomial kernels as tables
#: by default (the measurements: ``benchmarks/README.md``, ``bench_tables.py``).
TABLE_EXPANSION = 1000


@dataclass(frozen=True, eq=False)
class PolynomialTable:
    """``K(x) = Σ_t coefficients[t] Π_i x_i^exponents[t, i]``, the terms in lexicographic
    order of their exponents.

    Attributes:
        args: the names of the variables ``x_i``, in the order of the columns (n,).
        exponents: (T, n) int8, each entry in 0..127.
        coefficients: (T,) float64, none zero.
    """

    args: tuple[str, ...]
    exponents: np.ndarray
    coefficients: np.ndarray

    @property
    def terms(self) -> int:
        """T, the number of monomials."""
        return int(self.coefficients.shape[0])

    @property
    def top(self) -> int:
        """The largest exponent of any variable (0 for a constant)."""
        return int(self.exponents.max()) if self.exponents.size else 0


@dataclass(frozen=True, eq=False)
class SplitTable:
    """A table as ``evaluate_table`` reads it: the variables split at column ``h``, each
    term's monomial is the product of a monomial of the first h variables and one of the
    others, and every monomial a term needs is built by a chain of multiplications:

    * part A: ``A_parent``, ``A_var`` (nA,): monomial m > 0 is monomial ``A_parent[m]`` (<
      m) times ``x[A_var[m]]``; monomial 0 is 1; the monomials by degree;
    * part B: ``B_parent``, ``B_var`` (nB,), the same for the other variables (``B_var``
      indexes x itself, h…n−1);
    * per term t (T,): its A monomial ``group[t]``, its B monomial ``index[t]``, its
      coefficient ``c[t]``;

    so that ``K = Σ_t c_t a_group[t] b_index[t]``: nA + nB − 2 + 2T multiplications, no
    powers and no branch on the data. A part's monomials are those the terms need and the
    ones their chains pass through (the monomial with its last nonzero exponent lowered by
    one, down to 1)."""

    h: int
    A_parent: np.ndarray
    A_var: np.ndarray
    B_parent: np.ndarray
    B_var: np.ndarray
    group: np.ndarray
    index: np.ndarray
    c: np.ndarray

    @property
    def multiplications(self) -> int:
        """The number of multiplications per evaluation (the monomials' chains, two per
        term)."""
        return len(self.A_parent) + len(self.B_parent) - 2 + 2 * len(self.c)


def is_polynomial_kernel(args: tuple[str, ...], expr: sympy.Expr | None) -> bool:
    """Whether ``expr`` is a polynomial in the symbols ``args`` with no other symbol, so a
    table holds it: the exact and Hermite routes' kernels, not the closed forms (arcsines,
    square roots), nor the quadrature and kinked kernels (no formula), nor a constant."""
    if expr is None or not args:
        return False
    expr = as_expression(expr)
    symbols = sympy.symbols(args)
    return expr.free_symbols <= set(symbols) and expr.is_polynomial(*symbols)


def polynomial_table(args: tuple[str, ...], expr: sympy.Expr) -> PolynomialTable:
    """The table of the polynomial ``expr`` in the symbols ``args``: the coefficients of the
    expanded polynomial (exact rationals on the exact route) rounded once to float64.

    Raises:
        OverlapdynError: ``expr`` is not a polynomial in ``args`` alone, or an exponent is
            above 127 (int8).
    """
    table = kernel_table(args, expr)
    if table is None:
        raise OverlapdynError(f"not a polynomial in {args}: {expr}")
    return table


def kernel_table(args: tuple[str, ...], expr: sympy.Expr | None) -> PolynomialTable | None:
    """:func:`polynomial_table` of a kernel, or None where ``expr`` is no polynomial in
    ``args`` (:func:`is_polynomial_kernel`)."""
    if expr is None or not args:
        return None
    expr = as_expression(expr)
    symbols = sympy.symbols(args)
    collected = _expanded_terms(expr, symbols)
    if collected is None:   # not written as a sum of monomials: SymPy decides (slower)
        if not is_polynomial_kernel(args, expr):
            return None
        collected = dict(sympy.Poly(expr, *symbols).terms())
    terms = [(monomial, float(coefficient)) for monomial, coefficient in collected.items()]
    terms = [(monomial, value) for monomial, value in terms if value != 0.0]
    exponents = np.array([monomial for monomial, _ in terms],
                         dtype=np.int64).reshape(len(terms), len(args))
    if exponents.size and exponents.max() > 127:
        raise OverlapdynError(f"an exponent {exponents.max()} > 127 does not fit a table")
    order = np.lexsort(exponents.T[::-1])   # lexicographic, the first variable first
    return PolynomialTable(tuple(args), exponents[order].astype(np.int8),
                           np.array([terms[i][1] for i in order], dtype=np.float64))


def _expanded_terms(expr: sympy.Expr, symbols) -> dict | None:
    """``{exponents: coefficient}`` of ``expr`` read off as it is written, a sum of numbers
    times products of powers of ``symbols`` (as the exact engine returns its kernels: 20×
    faster than ``sympy.Poly`` for a He6 I4 kernel); None where a term is not of that form."""
    position = {symbol: i for i, symbol in enumerate(symbols)}
    collected: dict = {}
    for term in sympy.Add.make_args(expr):
        coefficient, monomial = term.as_coeff_Mul()
        if not coefficient.is_Number or not coefficient.is_finite:
            return None
        exponents = [0] * len(symbols)
        for base, power in monomial.as_powers_dict().items():
            if base == 1:
                continue
            if base not in position or not (power.is_Integer and power >= 0):
                return None
            exponents[position[base]] += int(power)
        key = tuple(exponents)
        collected[key] = collected.get(key, 0) + coefficient
    return collected


def evaluate_polynomial(table: PolynomialTable, x) -> float:
    """``K(x)`` in NumPy (float64)."""
    x = np.asarray(x, dtype=float)
    if x.shape != (len(table.args),):
        raise OverlapdynError(f"x must have shape ({len(table.args)},), got {x.shape}")
    return float(np.sum(table.coefficients * np.prod(x ** table.exponents, axis=1)))


def _chains(block: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The monomials of ``block`` (rows of exponents) with their chains: ``(parent, var,
    which)`` — monomial m > 0 is ``parent[m]`` times ``x[offset + var]``, monomial 0 is 1,
    and row i of ``block`` is monomial ``which[i]``."""
    nodes = {(0,) * block.shape[1]: 0}
    parent, var = [0], [0]

    def node(monomial: tuple) -> int:
        found = nodes.get(monomial)
        if found is not None:
            return found
        last = max(i for i, e in enumerate(monomial) if e)
        lower = monomial[:last] + (monomial[last] - 1,) + monomial[last + 1:]
        up = node(lower)
        nodes[monomial] = len(parent)
        parent.append(up)
        var.append(offset + last)
        return nodes[monomial]

    which = np.array([node(tuple(int(e) for e in row)) for row in block], dtype=np.int64)
    # by degree: a monomial's parent comes a degree earlier, so consecutive monomials do not
    # wait on each other (the processor overlaps their multiplications; in the order made,
    # each often waits on the one before)
    degree = np.array([sum(monomial) for monomial in nodes], dtype=np.int64)
    order = np.argsort(degree, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    parent = rank[np.array(parent, dtype=np.int64)[order]]
    return parent, np.array(var, dtype=np.int64)[order], rank[which]


def _distinct_rows(block: np.ndarray, base: int) -> int:
    """How many distinct rows ``block`` (entries in 0..base−1) has: by the rows' numbers in
    base ``base`` where they fit 62 bits (a 1-D unique), else row by row."""
    width = block.shape[1]
    if len(block) == 0:
        return 0
    if base ** width < 2 ** 62:
        return len(np.unique(block @ (base ** np.arange(width, dtype=np.int64))))
    return len(np.unique(block, axis=0))


def split_table(table: PolynomialTable) -> SplitTable:
    """The split of ``table`` at the column h with the fewest distinct monomials in its two
    parts (a close proxy of the multiplications, counted in NumPy for every h; the chains
    are built for the best h only)."""
    exponents = table.exponents.astype(np.int64)
    base = table.top + 1
    h = min(range(exponents.shape[1] + 1),
            key=lambda h: (_distinct_rows(exponents[:, :h], base)
                           + _distinct_rows(exponents[:, h:], base)))
    A_parent, A_var, group = _chains(exponents[:, :h], 0)
    B_parent, B_var, index = _chains(exponents[:, h:], h)
    return SplitTable(h, A_parent, A_var, B_parent, B_var, group, index, table.coefficients)


def _array_source(array: np.ndarray, dtype: str) -> str:
    text = base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")
    return f'decoded("{text}", "{dtype}", {tuple(array.shape)!r})'


def derivative_table(table: PolynomialTable, i: int) -> PolynomialTable:
    """The table of ``∂K/∂x_i`` (no term where K does not depend on x_i)."""
    keep = table.exponents[:, i] > 0
    exponents = table.exponents[keep].astype(np.int64)
    coefficients = table.coefficients[keep] * exponents[:, i]
    exponents[:, i] -= 1
    order = np.lexsort(exponents.T[::-1])
    return PolynomialTable(table.args, exponents[order].astype(np.int8), coefficients[order])


def _table_call(prefix: str, table: PolynomialTable, values: str) -> tuple[list[str], str]:
    """The module constants of ``table``'s :class:`SplitTable` (``prefix_A_parent``, …) and
    the call of the shared evaluator on them at the address ``values``."""
    split = split_table(table)
    # int32 indices: less memory to stream per call (a He6 I4 table: 93 kB, not 139 kB)
    arrays = {"A_parent": (split.A_parent, "<i4"), "A_var": (split.A_var, "<i4"),
              "B_parent": (split.B_parent, "<i4"), "B_var": (split.B_var, "<i4"),
              "group": (split.group, "<i4"), "index": (split.index, "<i4"),
              "c": (split.c, "<f8")}
    lines = [f"{prefix}_{part} = {_array_source(array, dtype)}"
             for part, (array, dtype) in arrays.items()]
    addresses = ", ".join(f"{prefix}_{part}.ctypes.data" for part in arrays)
    call = (f"evaluate_table({addresses}, {len(split.A_parent)}, {len(split.B_parent)}, "
            f"{table.terms}, {values}, {len(table.args)})")
    return lines, call


def table_kernel_source(name: str, table: PolynomialTable) -> str:
    """Source of a kernel as its table (``templates/table_kernels.py``): the arrays of its
    :class:`SplitTable` as module constants ``name_A_parent``, ``name_A_var``, …, decoded on
    import from exact base64 text, and ``@njit(**LOOP) def name(*args)`` returning the
    shared evaluator's value at ``args`` (``templates/polynomial_table.py``)."""
    args = ", ".join(table.args)
    lines, call = _table_call(name, table, f"stack_address(({args},))")
    lines += ["", "", "@njit(**LOOP)", f"def {name}({args}):", f"    return {call}"]
    return "\n".join(lines) + "\n"


def table_accumulator_source(name: str, table: PolynomialTable) -> str:
    """Source of ``name_acc(*args, coef, out, *indices)`` by tables, as
    :func:`~overlapdyn.compile.printer.kernel_accumulator_source` prints it from formulas:
    adds ``coef · ∂K/∂args[i]`` to ``out[indices[i]]`` for every argument whose index is
    ≥ 0, each partial derivative a table (:func:`derivative_table`) summed by the shared
    evaluator — the drift's exact Jacobian of a model of tables, built as fast."""
    args = ", ".join(table.args)
    indices = [f"i_{arg}" for arg in table.args]
    lines, body = [], []
    for i, arg in enumerate(table.args):
        derivative = derivative_table(table, i)
        if derivative.terms == 0:
            continue
        constants, call = _table_call(f"{name}_d{i}", derivative, "values_at")
        lines += constants
        body += [f"    if i_{arg} >= 0:", f"        out[i_{arg}] += coef * {call}"]
    head = [f"def {name}_acc({', '.join([*table.args, 'coef', 'out', *indices])}):",
            f"    values_at = stack_address(({args},))"]
    lines += ["", "", "@njit(**LOOP)", *head, *(body or ["    return"])]
    return "\n".join(lines) + "\n"
