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
evaluates one in NumPy (a reference for the tests); :func:`split_table` makes the arrays the
evaluator reads; :func:`table_kernel_source` prints a kernel's wrapper with them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import OverlapdynError
from ..model.formula import as_expression

__all__ = ["TABLE_EXPANSION", "PolynomialTable", "SplitTable", "evaluate_polynomial",
           "is_polynomial_kernel", "kernel_table", "polynomial_table", "split_table",
           "table_kernel_source"]

#: The expansion size (:mod:`overlapdyn.compile.estimate`) from which
#: :class:`~overlapdyn.compile.CompiledModel` stores a model's polynomial kernels as tables
#: by default (see the measurements in ``docs/guide/performance.rst``).
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
    """A table as ``evaluate_table`` reads it: split at column ``h`` into the distinct
    monomials of the first h variables ``A`` (nA, h) and of the others ``B`` (nB, n − h),
    int64 rows in lexicographic order, with how many leading entries each row shares with
    the row before (``A_shared`` (nA,), ``B_shared`` (nB,)); per term t its A row
    ``group[t]``, B row ``index[t]`` and coefficient ``c[t]`` (T,), so that
    ``K = Σ_t c_t a_group[t] b_index[t]`` with ``a``, ``b`` the monomials' values."""

    h: int
    A: np.ndarray
    A_shared: np.ndarray
    B: np.ndarray
    B_shared: np.ndarray
    group: np.ndarray
    index: np.ndarray
    c: np.ndarray

    @property
    def multiplications(self) -> int:
        """Multiplications per evaluation beyond the powers: the monomials' (one per entry
        a row does not share with the row before) and two per term."""
        return _new_entries(self.A, self.A_shared) + _new_entries(self.B, self.B_shared) \
            + 2 * len(self.c)


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


def _shared(rows: np.ndarray) -> np.ndarray:
    """How many leading entries each row of ``rows`` (lexicographic order) shares with the
    row before (0 for the first)."""
    shared = np.zeros(len(rows), dtype=np.int64)
    if len(rows) > 1:
        differ = rows[1:] != rows[:-1]
        shared[1:] = np.where(differ.any(axis=1), differ.argmax(axis=1), rows.shape[1])
    return shared


def _new_entries(rows: np.ndarray, shared: np.ndarray) -> int:
    return int(rows.shape[1] * len(rows) - shared.sum())


def _unique_rows(block: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``block`` (entries in 0..base−1) in lexicographic order, and the
    row of each: by the rows' numbers in base ``base`` where they fit 62 bits (a 1-D unique,
    far faster), else row by row."""
    width = block.shape[1]
    if base ** width < 2 ** 62:
        weights = base ** np.arange(width - 1, -1, -1, dtype=np.int64)
        _, first, which = np.unique(block @ weights, return_index=True,
                                          return_inverse=True)
        return block[first], which.ravel()
    rows, which = np.unique(block, axis=0, return_inverse=True)
    return rows.reshape(len(rows), width), which.ravel()


def split_table(table: PolynomialTable) -> SplitTable:
    """The split of ``table`` with the fewest multiplications (over every column h)."""
    exponents = table.exponents.astype(np.int64)
    n = exponents.shape[1]
    best = None
    for h in range(n + 1):
        parts = []
        for block in (exponents[:, :h], exponents[:, h:]):
            rows, which = _unique_rows(block, table.top + 1)
            parts.append((rows, _shared(rows), which))
        (A, A_shared, group), (B, B_shared, index) = parts
        split = SplitTable(h, A, A_shared, B, B_shared, group, index, table.coefficients)
        if best is None or split.multiplications < best.multiplications:
            best = split
    return best


def _array_source(array: np.ndarray, dtype: str) -> str:
    text = base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")
    return f'decoded("{text}", "{dtype}", {tuple(array.shape)!r})'


def table_kernel_source(name: str, table: PolynomialTable) -> str:
    """Source of a kernel as its table (``templates/table_kernels.py``): the arrays of its
    :class:`SplitTable` as module constants ``name_A``, ``name_A_shared``, …, decoded on
    import from exact base64 text, and ``@njit(**LOOP) def name(*args)`` returning the
    shared evaluator's value at ``args`` (``templates/polynomial_table.py``)."""
    split = split_table(table)
    arrays = {"A": (split.A, "<i8"), "A_shared": (split.A_shared, "<i8"),
              "B": (split.B, "<i8"), "B_shared": (split.B_shared, "<i8"),
              "group": (split.group, "<i8"), "index": (split.index, "<i8"),
              "c": (split.c, "<f8")}
    lines = [f"{name}_{part} = {_array_source(array, dtype)}"
             for part, (array, dtype) in arrays.items()]
    args = ", ".join(table.args)
    addresses = ", ".join(f"{name}_{part}.ctypes.data" for part in arrays)
    sizes = (f"{len(split.A)}, {split.h}, {len(split.B)}, {table.terms}, {table.top}, "
             f"stack_address(({args},)), {len(table.args)}")
    lines += ["", "", "@njit(**LOOP)", f"def {name}({args}):",
              f"    return evaluate_table({addresses},", f"                          {sizes})"]
    return "\n".join(lines) + "\n"
