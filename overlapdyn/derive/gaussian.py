r"""Expectations of functions of jointly Gaussian fields, exact (symbolic); the numeric rules
are in :mod:`overlapdyn.derive.cubature`.

Every drift term of the overlap ODEs is an expectation ``E[f_1 f_2 ⋯ f_m]`` of a product of
functions of zero-mean jointly Gaussian fields ``φ = (λ_1..λ_p, z_1..z_k) ~ N(0, Ω)`` with
``Ω = [[Q, M], [Mᵀ, P]]`` (SPEC). This module turns such an expectation into

* an exact SymPy polynomial in the entries of Ω, when every factor is a polynomial in the
  fields (:func:`expectation`);
* a number, at a numeric Ω, for any integrand, by tensor Gauss–Hermite cubature over the
  eigen-factor of Ω (:func:`~overlapdyn.derive.cubature.numeric_expectation`).

Algorithm of the exact engine, and why
--------------------------------------
The product is expanded into monomials ``φ^α = Π_i φ_i^{α_i}``, and each monomial moment is
written down directly by the multigraph form of Isserlis' theorem: with ``|α| = 2m``,

    E[φ^α] = α! Σ_n  Π_{i<j} Ω_ij^{n_ij} / n_ij!  ·  Π_i Ω_ii^{n_ii} / (2^{n_ii} n_ii!),

the sum running over symmetric non-negative integer matrices n (multigraphs with loops) with
vertex degrees ``2 n_ii + Σ_{j≠i} n_ij = α_i``. Each term of the answer is produced exactly once
with its integer coefficient — there is no cancellation and no polynomial arithmetic, unlike
(i) summing Wick pairings one by one (``(2m−1)!!`` pairings collapse onto far fewer distinct
terms: 2 027 025 pairings vs a few thousand multigraphs at degree 16), (ii) the Stein
recursion ``E[φ_i φ^β] = Σ_j Ω_ij β_j E[φ^{β−e_j}]``, which adds whole polynomials at every
step, or (iii) differentiating the moment generating function symbolically, which builds and
prunes large intermediate expressions. The multigraph enumeration is memoised on α, so the
many monomials of a product that share exponents (and every later expectation that meets the
same α) reuse it; the pure-Python integer arithmetic is exact. Coefficients that are
symbols (``a_j``, ``c_p``, …) ride along as extra polynomial generators.

The result of each call is cached under a canonical form of the input — the expanded
polynomial (a sorted tuple of its terms) together with the field names and the covariance —
so a product written in any factorisation hits the same entry.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy
from sympy.polys.constructor import construct_domain
from sympy.polys.rings import PolyElement, ring

from ..errors import CovarianceError, FieldMismatchError, NotPolynomialError, OverlapdynError
from ..model.checks import check_covariance
from ..model.formula import as_expression, parse_formula
from ..storage.memo import BoundedCache, clear_memos, memoised, register_memo

__all__ = [
    "GaussianFields",
    "cache_info",
    "clear_caches",
    "expectation",
    "integrand_factors",
    "moment",
]

Integrand = str | sympy.Expr | Sequence[str | sympy.Expr]


def _pair_label(i: int, j: int) -> str:
    """``"12"`` for (1, 2); ``"3_11"`` once an index has two digits, so labels stay unique."""
    return f"{i}{j}" if i < 10 and j < 10 else f"{i}_{j}"


@dataclass(frozen=True)
class GaussianFields:
    """Zero-mean jointly Gaussian fields with a (symbolic) covariance.

    Attributes:
        names: the fields' names, in the order of the covariance's rows (length F).
        covariance: F×F symmetric SymPy matrix; entries may be symbols, numbers or
            expressions (e.g. ``1`` on the diagonal for unit variances).
        label: the matrix's name in messages (``"Ω"`` for the overlap covariance).

    Build one with :meth:`overlaps` (the SPEC's Ω), :meth:`generic` (entries ``C_ij``) or
    directly from a matrix.
    """

    names: tuple[str, ...]
    covariance: sympy.ImmutableMatrix
    label: str = "C"

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(str(n) for n in self.names))
        object.__setattr__(self, "covariance", sympy.ImmutableMatrix(self.covariance))
        size = len(self.names)
        if len(set(self.names)) != size:
            raise OverlapdynError(f"field names must be distinct, got {self.names}")
        if self.covariance.shape != (size, size):
            raise CovarianceError(
                f"covariance {self.label} has shape {self.covariance.shape} but there are "
                f"{size} fields {self.names}; give an {size}×{size} matrix")
        if not self.covariance.is_symmetric():
            raise CovarianceError(
                f"covariance {self.label} is not symmetric: {self.covariance.tolist()}")

    @classmethod
    def generic(cls, names: Iterable[str], symbol: str = "C") -> GaussianFields:
        """Fields with a fully symbolic covariance ``C_ij = C_ji`` (1-based indices)."""
        names = tuple(names)
        entries = [[sympy.Symbol(f"{symbol}_{_pair_label(min(i, j) + 1, max(i, j) + 1)}")
                    for j in range(len(names))] for i in range(len(names))]
        return cls(names, sympy.ImmutableMatrix(entries), label=symbol)

    @classmethod
    def overlaps(
        cls, p: int, k: int, *, student: str = "lambda", latent: str = "z",
        unit_teacher: bool = False,
    ) -> GaussianFields:
        """The SPEC's fields ``(λ_1..λ_p, z_1..z_k)`` with ``Ω = [[Q, M], [Mᵀ, P]]``.

        Entries are the symbols ``Q_jl`` (= ``Q_lj``), ``M_jr`` (student j, latent r) and
        ``P_rs``; ``unit_teacher=True`` sets ``P = I_k`` (the SPEC default).
        """
        if p < 0 or k < 0 or p + k == 0:
            raise OverlapdynError(f"need p, k ≥ 0 and p + k ≥ 1 fields, got p={p}, k={k}")
        Q = [[sympy.Symbol(f"Q_{_pair_label(min(j, l), max(j, l))}") for l in range(1, p + 1)]
             for j in range(1, p + 1)]
        M = [[sympy.Symbol(f"M_{_pair_label(j, r)}") for r in range(1, k + 1)]
             for j in range(1, p + 1)]
        if unit_teacher:
            P = sympy.eye(k).tolist()
        else:
            P = [[sympy.Symbol(f"P_{_pair_label(min(r, s), max(r, s))}")
                  for s in range(1, k + 1)] for r in range(1, k + 1)]
        top = [Q[j] + M[j] for j in range(p)]
        bottom = [[M[j][r] for j in range(p)] + P[r] for r in range(k)]
        names = [f"{student}{j}" for j in range(1, p + 1)] + [f"{latent}{r}" for r in
                                                               range(1, k + 1)]
        return cls(tuple(names), sympy.ImmutableMatrix(top + bottom), label="Ω")

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        """The fields as SymPy symbols (plain symbols, no assumptions)."""
        return tuple(sympy.Symbol(name) for name in self.names)

    @property
    def entry_symbols(self) -> frozenset[sympy.Symbol]:
        """The free symbols of the covariance (``Q_11``, ``M_12``, …)."""
        return frozenset(self.covariance.free_symbols)

    def marginal(self, names: Iterable[str]) -> GaussianFields:
        """The sub-family of the given fields, with the matching block of the covariance."""
        names = tuple(names)
        missing = [n for n in names if n not in self.names]
        if missing:
            raise FieldMismatchError(f"fields {missing} are not among {self.names}")
        index = [self.names.index(n) for n in names]
        return GaussianFields(names, self.covariance.extract(index, index), self.label)

    def numeric_covariance(self, values: Mapping[str | sympy.Symbol, float]) -> np.ndarray:
        """Substitute numbers for the covariance's symbols and check the result.

        Raises:
            CovarianceError: a symbol without a value, or a matrix that is not symmetric
                positive semi-definite (the message names this covariance).
        """
        by_name = {str(key): value for key, value in values.items()}
        missing = sorted(str(s) for s in self.entry_symbols if str(s) not in by_name)
        if missing:
            raise CovarianceError(
                f"no value given for the entries {missing} of the covariance {self.label}")
        substitution = {s: by_name[str(s)] for s in self.entry_symbols}
        matrix = np.array(self.covariance.xreplace(substitution).tolist(), dtype=float)
        return check_covariance(matrix, self.label)


# --------------------------------------------------------------------------- exact engine


@memoised(maxsize=None)
def _pair_index(n_fields: int) -> tuple[tuple[int, ...], ...]:
    """``index[i][j]`` = position of the unordered pair {i, j} in the upper triangle."""
    index = [[0] * n_fields for _ in range(n_fields)]
    for position, (i, j) in enumerate(itertools.combinations_with_replacement(
            range(n_fields), 2)):
        index[i][j] = index[j][i] = position
    return tuple(tuple(row) for row in index)


@memoised(maxsize=1 << 16)
def moment(alpha: tuple[int, ...]) -> tuple[tuple[tuple[int, ...], int], ...]:
    """``E[φ^α]`` for ``φ ~ N(0, C)`` as ``((exponents, coefficient), …)``.

    ``exponents`` lists the powers of the upper-triangle entries ``C_11, C_12, …, C_FF``
    (row-major); ``coefficient`` is a positive integer. Odd total degree gives ``()``.
    See the module docstring for the multigraph formula.
    """
    n_fields = len(alpha)
    if sum(alpha) % 2:
        return ()
    index = _pair_index(n_fields)
    numerator = math.prod(math.factorial(a) for a in alpha)
    exponents = [0] * (n_fields * (n_fields + 1) // 2)
    remaining = list(alpha)
    terms: list[tuple[tuple[int, ...], int]] = []

    def close_vertex(i: int, denominator: int) -> None:
        while i < n_fields and remaining[i] == 0:
            i += 1
        if i == n_fields:
            terms.append((tuple(exponents), numerator // denominator))
            return
        degree, remaining[i] = remaining[i], 0
        for loops in range(degree // 2, -1, -1):
            exponents[index[i][i]] = loops
            spread_edges(i, i + 1, degree - 2 * loops,
                         denominator * 2**loops * math.factorial(loops))
        exponents[index[i][i]] = 0
        remaining[i] = degree

    def spread_edges(i: int, j: int, left: int, denominator: int) -> None:
        # Vertex i still has `left` edge ends to attach to the vertices j, j+1, … .
        if left == 0:
            close_vertex(i + 1, denominator)
            return
        if sum(remaining[j:]) < left:
            return
        position = index[i][j]
        for m in range(min(left, remaining[j]), -1, -1):
            exponents[position] = m
            remaining[j] -= m
            spread_edges(i, j + 1, left - m, denominator * math.factorial(m))
            remaining[j] += m
        exponents[position] = 0

    close_vertex(0, 1)
    return tuple(terms)


# canonical input → [PolyElement, its SymPy expression once asked for]
_RESULTS = register_memo("overlapdyn.derive.gaussian.expectation", BoundedCache(4096))


def clear_caches() -> None:
    """Forget every in-memory cache of the derive stage — moments, expectations, parsed
    integrands, quadrature rules and grids, kernel sets — e.g. to time a cold start
    (:func:`overlapdyn.compile.cache.clear` also empties the compiled code's caches)."""
    clear_memos("overlapdyn.derive.")


def cache_info() -> dict[str, int]:
    """Hits, misses and sizes of the expectation cache and of the moment memo."""
    results = _RESULTS.cache_info()
    return {"hits": results.hits, "misses": results.misses, "size": results.currsize,
            "moments": moment.cache_info().currsize}


@memoised(maxsize=1024)
def _parsed(text: str, names: tuple[str, ...]) -> sympy.Expr:
    # any name may be a parameter here; _canonical_symbols checks them all
    return parse_formula(text, None, what="integrand")


def integrand_factors(integrand: Integrand, names: Sequence[str]) -> list[sympy.Expr]:
    """The factors of ``integrand`` (a formula, an expression or a sequence of them) as
    SymPy expressions, formulas parsed in the field ``names``."""
    if isinstance(integrand, str | sympy.Basic):
        integrand = [integrand]
    return [_parsed(f, tuple(names)) if isinstance(f, str) else as_expression(f)
            for f in integrand]


def _canonical_symbols(factors: list[sympy.Expr], fields: GaussianFields,
                       parameters: Iterable[str | sympy.Symbol]) -> tuple[list, list]:
    """Map every free symbol to its plain namesake; reject names that are not allowed."""
    allowed = set(fields.names) | {str(s) for s in fields.entry_symbols} | {
        str(p) for p in parameters}
    free = set().union(*(f.free_symbols for f in factors))
    unknown = sorted(str(s) for s in free if str(s) not in allowed)
    if unknown:
        raise FieldMismatchError(
            f"{unknown} are not fields of {fields.label} {list(fields.names)} nor declared "
            "parameters; rename them to those fields, or pass parameters=[...] if they are "
            "constant coefficients")
    renaming = {s: sympy.Symbol(str(s)) for s in free}
    factors = [f.xreplace(renaming) for f in factors]
    field_names = set(fields.names)
    coefficients = sorted({s for s in renaming.values() if str(s) not in field_names}, key=str)
    return factors, coefficients


def _reject_non_polynomial(factor: sympy.Expr, field_symbols: tuple[sympy.Symbol, ...]) -> None:
    if factor.is_polynomial(*field_symbols):
        return
    culprit = next((node for node in sympy.preorder_traversal(factor)
                    if node.has(*field_symbols) and not node.is_polynomial(*field_symbols)
                    and all(arg.is_polynomial(*field_symbols) for arg in node.args)), factor)
    raise NotPolynomialError(
        f"{culprit} is not a polynomial in the fields, so the exact engine cannot integrate "
        f"{factor}; replace the function by its Hermite truncation "
        "(hermite_expansion(f, L).as_expr(u)) or evaluate numerically with "
        "numeric_expectation(...)")


def expectation(
    integrand: Integrand,
    fields: GaussianFields,
    *,
    parameters: Iterable[str | sympy.Symbol] = (),
    as_poly: bool = False,
) -> sympy.Expr | PolyElement:
    """Exact ``E[f_1(φ) ⋯ f_m(φ)]`` for ``φ ~ N(0, fields.covariance)``.

    Args:
        integrand: a polynomial in the fields, or a sequence of factors whose product is
            taken; strings are parsed (``"He3(lambda1)*z1"``, see
            :mod:`overlapdyn.model.formula`). A factor may involve several fields and a field
            may appear in several factors.
        fields: the Gaussian fields and their covariance.
        parameters: names of constant symbols allowed as coefficients (``a1``, ``c_p``…);
            the covariance's own symbols are always allowed.
        as_poly: return a sparse SymPy polynomial (``PolyElement``: a dict from exponent
            tuples to coefficients, generators in ``.ring.symbols``) instead of an
            expression. Building a SymPy expression dominates the cost once the answer has
            more than ~10⁴ terms; code generation and large sweeps should use this form.

    Returns:
        The expectation, expanded, as a polynomial in the covariance entries and parameters.

    Raises:
        FieldMismatchError: a symbol that is neither a field, a covariance entry nor a
            declared parameter (typically a misspelt or missing field).
        NotPolynomialError: a factor that is not polynomial in the fields.

    Example:
        >>> fields = GaussianFields.overlaps(p=1, k=1, unit_teacher=True)
        >>> expectation("He3(lambda1) * He3(z1)", fields)
        6*M_11**3
    """
    factors, coefficients = _canonical_symbols(integrand_factors(integrand, fields.names), fields,
                                               parameters)
    field_symbols = fields.symbols
    for factor in factors:
        _reject_non_polynomial(factor, field_symbols)
    gens = field_symbols + tuple(coefficients)
    product = sympy.Poly(1, *gens)
    for factor in factors:
        product = product * sympy.Poly(factor, *gens)
    key = (fields.names, fields.covariance, gens, tuple(sorted(product.terms())))
    cached = _RESULTS.get(key)
    if cached is None:
        cached = [_integrate_polynomial(product, fields), None]
        _RESULTS.put(key, cached)
    if as_poly:
        return cached[0].copy()  # a PolyElement is a mutable dict; keep the cache intact
    if cached[1] is None:
        cached[1] = cached[0].as_expr()
    return cached[1]


def _integrate_polynomial(product: sympy.Poly, fields: GaussianFields) -> PolyElement:
    """Σ_terms coefficient · E[φ^α] as a sparse polynomial in the covariance entries."""
    n_fields = len(fields.names)
    accumulated: dict[tuple[int, ...], object] = {}
    for monomial, coefficient in product.rep.terms():
        alpha, rest = monomial[:n_fields], monomial[n_fields:]
        for exponents, count in moment(alpha):
            key = exponents + rest
            accumulated[key] = accumulated.get(key, 0) + coefficient * count
    entries = [fields.covariance[i, j] for i, j in itertools.combinations_with_replacement(
        range(n_fields), 2)]
    return _substitute_entries(accumulated, entries, product.gens[n_fields:], product.rep.dom)


def _substitute_entries(terms: dict, entries: list[sympy.Expr], coefficient_gens: tuple,
                        domain) -> PolyElement:
    """Turn ``{(entry exponents…, coefficient exponents…): c}`` into a polynomial.

    Entries that are symbols become generators (a symbol used twice, e.g. a common
    correlation, gets its exponents added); numeric entries (unit variances, zeros) are
    folded into the coefficients; polynomial entries (``1 − ρ²``) are substituted by ring
    arithmetic in their symbols; any other entry (``cos θ``) becomes a coefficient in
    SymPy's expression domain.
    """
    symbols = list(dict.fromkeys(e for e in entries if isinstance(e, sympy.Symbol)))
    symbols += [g for g in coefficient_gens if g not in symbols]
    others = [e for e in entries if not (isinstance(e, sympy.Symbol) or e.is_number)]
    polynomial_others = all(e.is_polynomial(*e.free_symbols) for e in others)
    constants = [e for e in entries if e.is_number or (others and not polynomial_others
                                                        and e in others)]
    if constants:
        domain = domain.unify(construct_domain(constants)[0])
    if others and polynomial_others:
        extra = sorted(set().union(*(e.free_symbols for e in others)) - set(symbols), key=str)
        symbols += extra
        coefficients = [c for e in others for c in sympy.Poly(e, *sorted(e.free_symbols,
                                                                         key=str)).coeffs()]
        domain = domain.unify(construct_domain(coefficients)[0])
    target, *_ = ring(symbols or [sympy.Dummy()], domain)
    slot = {s: i for i, s in enumerate(symbols)}
    n_entries = len(entries)
    position = [slot.get(e) if isinstance(e, sympy.Symbol) else None for e in entries]
    coefficient_slots = [slot[g] for g in coefficient_gens]
    value = [domain.convert(e) if e in constants else None for e in entries]
    expression_entries = [i for i, e in enumerate(entries) if position[i] is None
                          and value[i] is None]
    converted = {i: target(entries[i]) for i in expression_entries}
    result: dict[tuple[int, ...], object] = {}
    composite = target.zero
    for exponents, coefficient in terms.items():
        if not coefficient:
            continue
        monomial = [0] * len(target.gens)
        c = domain.convert(coefficient)
        pending = target.one
        for i in range(n_entries):
            power = exponents[i]
            if not power:
                continue
            if position[i] is not None:
                monomial[position[i]] += power
            elif value[i] is not None:
                c = c * value[i] ** power
            else:
                pending = pending * converted[i] ** power
        for offset, target_slot in enumerate(coefficient_slots):
            monomial[target_slot] += exponents[n_entries + offset]
        if pending == target.one:
            monomial = tuple(monomial)
            result[monomial] = result.get(monomial, domain.zero) + c
        else:
            composite += pending.mul_monom(tuple(monomial)) * c
    polynomial = target.from_dict({m: c for m, c in result.items() if c})
    return polynomial + composite if expression_entries else polynomial
