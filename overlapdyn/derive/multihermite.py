r"""Multivariate Hermite expansions of multi-index targets ``g(z_1..z_k)``.

With ``z ~ N(0, P)`` and ``P = L Lᵀ`` (Cholesky), ``w = L⁻¹ z`` is standard Gaussian and

    g(L w) = Σ_ν ĝ_ν Π_i He_{ν_i}(w_i),     ĝ_ν = E[g(Lw) Π_i He_{ν_i}(w_i)] / ν!,

with ``ν! = Π_i ν_i!`` and Parseval ``E[g²] = Σ_ν ν! ĝ_ν²`` (SPEC's probabilists' He_n). For
``P = I`` (the SPEC default) ``w = z``. The *support* ``{ν : ĝ_ν ≠ 0}`` is what the leap of
:mod:`overlapdyn.scaling.leaps` is computed from.

A polynomial g is expanded exactly: each monomial ``Π z_i^{n_i}`` is a product of the
univariate changes of basis ``x^n = Σ_m n!/(m! (n−2m)! 2^m) He_{n−2m}(x)`` — rational
arithmetic, no integration. Any other g is truncated at total degree L, its coefficients
by tensor Gauss–Hermite cubature (for k = 1 by the univariate expansion of
:mod:`overlapdyn.derive.hermite`, whose adaptive quadrature handles kinks), coefficients
below :data:`~overlapdyn.derive.hermite.ZERO_TOLERANCE`·‖g‖ and those that g's exact parity
``g(−z) = ±g(z)`` makes zero dropped, and the relative L²
error of the truncation
``(E[g²] − Σ_{|ν|≤L} ν! ĝ_ν²)^{1/2} / ‖g‖`` is reported.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import OverlapdynError
from ..model.formula import as_expression, parse_formula
from ..storage.memo import memoised
from .cubature import standard_grid
from .hermite import (
    ZERO_TOLERANCE,
    X,
    gauss_hermite_rule,
    hermite_expansion,
    hermite_values,
    parity,
    polynomial_to_hermite,
)

__all__ = ["MultivariateHermite", "multivariate_hermite"]


@dataclass(frozen=True)
class MultivariateHermite:
    """``g(Lw) = Σ_ν ĝ_ν Π_i He_{ν_i}(w_i)`` (see the module docstring).

    Attributes:
        names: the latent names ``(z1, …, zk)``; ν_i refers to ``names[i]``.
        coefficients: ``{ν: ĝ_ν}`` for the non-zero coefficients only (ν a k-tuple of
            degrees); SymPy rationals/numbers when ``exact``, floats otherwise.
        norm2: ``E[g(z)²]``.
        exact: whether the expansion is exact (g polynomial) or truncated.
        order: the total-degree truncation order L (the degree of g when exact).
        relative_error: ``‖g − g_L‖/‖g‖`` in L²(N(0, P)) (0 when exact).
    """

    names: tuple[str, ...]
    coefficients: dict
    norm2: float
    exact: bool
    order: int
    relative_error: float = 0.0

    @property
    def support(self) -> tuple[tuple[int, ...], ...]:
        """The multi-indices with ``ĝ_ν ≠ 0``, sorted by total degree then lexicographically."""
        return tuple(sorted(self.coefficients, key=lambda nu: (sum(nu), nu)))

    def as_expr(self, variables=None) -> sympy.Expr:
        """``Σ_ν ĝ_ν Π He_{ν_i}(w_i)``, expanded; ``w_i`` are ``variables`` (SymPy expressions,
        e.g. the rows of ``L⁻¹ z``) or by default symbols named like ``names`` (P = I: z)."""
        w = sympy.symbols(self.names) if variables is None else list(variables)
        return sympy.expand(sum(
            as_expression(c)
            * sympy.Mul(*[sympy.hermite_prob(n, w[i]) for i, n in enumerate(nu)])
            for nu, c in self.coefficients.items()))


@memoised(maxsize=64)
def _monomial_to_hermite(n: int) -> tuple[tuple[int, sympy.Expr], ...]:
    """``x^n = Σ_m n!/(m!(n−2m)! 2^m) He_{n−2m}(x)``: pairs (degree, coefficient)."""
    return tuple((m, c) for m, c in enumerate(polynomial_to_hermite(X**n)) if c != 0)


def _exact(g: sympy.Expr, z: list[sympy.Symbol], cholesky: np.ndarray | None) -> dict:
    if cholesky is not None:
        w = sympy.symbols([f"_w{i}" for i in range(len(z))])
        g = sympy.expand(g.subs({z[i]: sum(sympy.nsimplify(cholesky[i, j]) * w[j]
                                           for j in range(i + 1)) for i in range(len(z))},
                                simultaneous=True))
        z = list(w)
    coefficients: dict[tuple[int, ...], sympy.Expr] = {}
    for powers, c in sympy.Poly(sympy.expand(g), *z).terms():
        for parts in itertools.product(*[_monomial_to_hermite(n) for n in powers]):
            nu = tuple(degree for degree, _ in parts)
            value = c * sympy.Mul(*[factor for _, factor in parts])
            coefficients[nu] = coefficients.get(nu, 0) + value
    return {nu: sympy.nsimplify(c) for nu, c in coefficients.items() if c != 0}


def _numeric(g: sympy.Expr, z: list[sympy.Symbol], cholesky: np.ndarray, order: int,
             n_nodes: int) -> tuple[dict, float, float]:
    k = len(z)
    grid, grid_weights = standard_grid(k, n_nodes)
    values = np.broadcast_to(sympy.lambdify(z, g, modules=["scipy", "numpy"])(
        *(cholesky @ grid)), grid_weights.shape).astype(float)
    norm2 = float(grid_weights @ values**2)
    # the grid and the basis are products over the k axes: contract one axis at a time
    nodes, _ = gauss_hermite_rule(n_nodes)
    basis = hermite_values(order, nodes)                        # (L+1, n)
    moments = (grid_weights * values).reshape((n_nodes,) * k)
    for _ in range(k):   # each pass sums out the first node axis and appends its degree axis
        moments = np.tensordot(moments, basis, axes=([0], [1]))
    scale = math.sqrt(max(norm2, 1e-300))
    # g(−z) = ±g(z), decided exactly, zeroes every ν of the other total-degree parity
    sign = parity(g, z)
    captured, coefficients = 0.0, {}
    for nu in itertools.product(range(order + 1), repeat=k):
        if sum(nu) > order or (sign != 0 and sum(nu) % 2 != (sign < 0)):
            continue
        factorial = float(np.prod([math.factorial(n) for n in nu]))
        coefficient = float(moments[nu]) / factorial
        # cubature round-off is ~1e-13 of ‖g‖: below it a coefficient is zero
        if abs(coefficient) * math.sqrt(factorial) <= ZERO_TOLERANCE * scale:
            continue
        captured += factorial * coefficient**2
        coefficients[nu] = coefficient
    error = math.sqrt(max(norm2 - captured, 0.0) / norm2) if norm2 > 0 else 0.0
    return coefficients, norm2, error


def multivariate_hermite(
    g: str | sympy.Expr,
    k: int,
    *,
    P: np.ndarray | None = None,
    order: int | None = None,
    n_nodes: int = 32,
) -> MultivariateHermite:
    """The multivariate Hermite expansion of a target ``g(z1..zk)`` under ``z ~ N(0, P)``.

    Args:
        g: a formula in ``z1..zk`` (``"z1 + z1*z2"``, ``"He3(z1)"``, ``"relu(z1)"``) or a SymPy
            expression in those symbols.
        k: number of latent fields.
        P: their covariance (k×k, positive definite; default ``I_k``).
        order: total-degree truncation order L; required when g is not a polynomial, ignored
            (the expansion is exact) when it is.
        n_nodes: Gauss–Hermite nodes per direction for the cubature (non-polynomial g).

    Raises:
        OverlapdynError: g uses other symbols than ``z1..zk``, or is not a polynomial and no
            ``order`` is given.
    """
    names = tuple(f"z{r}" for r in range(1, k + 1))
    z = list(sympy.symbols(names))
    expr = parse_formula(g, names, what=f"target (k = {k})")
    stray = sorted(str(s) for s in expr.free_symbols if str(s) not in names)
    if stray:
        raise OverlapdynError(f"the target {g!r} uses {stray}; with k = {k} the latent fields "
                              f"are {list(names)}")
    P = np.eye(k) if P is None else np.asarray(P, dtype=float)
    if P.shape != (k, k):
        raise OverlapdynError(f"P must be {k}×{k}, got shape {P.shape}")
    identity = np.allclose(P, np.eye(k), atol=0.0)
    cholesky = np.linalg.cholesky(P)
    if expr.is_polynomial(*z):
        coefficients = _exact(expr, z, None if identity else cholesky)
        norm2 = sum(float(c) ** 2 * math.prod(math.factorial(n) for n in nu)
                    for nu, c in coefficients.items())
        degree = max((sum(nu) for nu in coefficients), default=0)
        return MultivariateHermite(names, coefficients, norm2, True, degree)
    if order is None:
        raise OverlapdynError(f"the target {expr} is not a polynomial: give the truncation "
                              "order (order=L) of its multivariate Hermite expansion")
    if k == 1:   # one field: the univariate expansion's adaptive quadrature handles kinks
        scale = 1 if identity else float(cholesky[0, 0])
        return _univariate(expr.subs(z[0], scale * X), int(order))
    coefficients, norm2, error = _numeric(expr, z, cholesky, int(order), n_nodes)
    return MultivariateHermite(names, coefficients, norm2, False, int(order), error)


def _univariate(expr: sympy.Expr, order: int) -> MultivariateHermite:
    expansion = hermite_expansion(expr, order)
    normalized = expansion.normalized()
    norm2 = float(expansion.norm2)
    # the same zero cut as the cubature's: ~1e-13 of ‖g‖ is round-off
    coefficients = {(n,): float(c) for n, c in enumerate(expansion.coefficients)
                    if abs(normalized[n]) > ZERO_TOLERANCE * math.sqrt(max(norm2, 1e-300))}
    return MultivariateHermite(("z1",), coefficients, norm2, False, order,
                               expansion.relative_truncation_error)
