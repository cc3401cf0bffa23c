r"""Numeric expectations of functions of jointly Gaussian fields: tensor Gauss–Hermite
cubature over the eigen-factor of the covariance (any integrand; the exact engine for
polynomials is :mod:`overlapdyn.derive.gaussian`).

The rule
--------
With ``Ω = V diag(s) Vᵀ`` and ``A = V_+ diag(√s_+)`` (the r positive eigen-directions),
``φ = A ξ`` with ``ξ ~ N(0, I_r)``, and ``E[f(φ)] ≈ Σ_q w_q f(A ξ_q)`` over the tensor
Gauss–Hermite grid of n nodes per axis. For a polynomial of total degree D the rule with
``n = ⌊D/2⌋ + 1`` is exact; singular (positive semi-definite) Ω costs fewer dimensions,
which is why the eigen-factor is used rather than Cholesky.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy

from ..errors import CovarianceError, FieldMismatchError, OverlapdynError
from ..model.checks import check_covariance
from ..storage.memo import memoised
from .gaussian import GaussianFields, Integrand, integrand_factors
from .hermite import gauss_hermite_rule

__all__ = ["gaussian_cubature", "numeric_expectation", "standard_grid"]


@memoised(maxsize=32)
def standard_grid(rank: int, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """The tensor Gauss–Hermite rule for ξ ~ N(0, I_rank): nodes (rank, n_nodes^rank) and
    weights (n_nodes^rank,)."""
    nodes, weights = gauss_hermite_rule(n_nodes)
    grid = np.stack(np.meshgrid(*([nodes] * rank), indexing="ij"), 0).reshape(rank, -1)
    grid_weights = functools.reduce(np.multiply.outer, [weights] * rank).reshape(-1)
    return grid, grid_weights


def _eigen_factor(covariance: np.ndarray) -> np.ndarray:
    """``A`` (F×r) with ``A Aᵀ = covariance`` over its r positive eigen-directions."""
    eigenvalues, vectors = np.linalg.eigh(covariance)
    keep = eigenvalues > 1e-12 * max(float(eigenvalues[-1]), 1e-300)
    return vectors[:, keep] * np.sqrt(eigenvalues[keep])


def _grid_points(factor: np.ndarray, n_nodes: int,
                 max_points: int) -> tuple[np.ndarray, np.ndarray]:
    rank = factor.shape[1]
    if n_nodes**rank > max_points:
        raise OverlapdynError(
            f"a tensor grid of {n_nodes}^{rank} points is too large; lower the number of "
            "nodes, or integrate over fewer fields")
    grid, weights = standard_grid(rank, n_nodes)
    return factor @ grid, weights


def gaussian_cubature(covariance: np.ndarray, n_nodes: int, *, label: str = "C",
                      max_points: int = 20_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Points and weights with ``E[f(φ)] ≈ Σ_q w_q f(φ_q)`` for ``φ ~ N(0, covariance)``.

    Args:
        covariance: F×F symmetric positive semi-definite matrix (checked).
        n_nodes: Gauss–Hermite nodes per positive eigen-direction (exact for polynomials of
            total degree ≤ 2·n_nodes − 1).
        label: the matrix's name in error messages.
        max_points: refuse grids larger than this (n_nodes^rank points).

    Returns:
        ``points`` of shape (F, N) and ``weights`` of shape (N,), N = n_nodes^rank.
    """
    factor = _eigen_factor(check_covariance(covariance, label))
    return _grid_points(factor, n_nodes, max_points)


@memoised(maxsize=256)
def _compiled(expr: sympy.Expr, names: tuple[str, ...]) -> tuple[Callable, int | None]:
    symbols = [sympy.Symbol(n) for n in names]
    function = sympy.lambdify(symbols, expr, modules=["scipy", "numpy"])
    degree = sympy.Poly(expr, *symbols).total_degree() if expr.is_polynomial(*symbols) else None
    return function, degree


def _default_nodes(rank: int, budget: int = 1_000_000) -> int:
    return max(4, min(64, int(budget ** (1.0 / max(rank, 1)))))


def numeric_expectation(
    integrand: Integrand | Callable[..., np.ndarray],
    fields: GaussianFields | Sequence[str],
    covariance: Mapping[str | sympy.Symbol, float] | np.ndarray,
    *,
    parameters: Mapping[str, float] | None = None,
    n_nodes: int | None = None,
) -> float:
    """``E[f(φ)]`` at a numeric covariance, by Gauss–Hermite cubature (any integrand).

    Args:
        integrand: a SymPy expression (any functions) or formula string (the functions of
            :data:`~overlapdyn.model.formula.FUNCTIONS`: ``tanh``, ``erf``, ``relu``…), a
            sequence of factors, or a vectorised callable ``f(φ_1, …, φ_F)`` receiving one
            array per field.
        fields: a :class:`GaussianFields` or just the field names (then ``covariance``
            must be an array).
        covariance: the numeric covariance (F×F array), or values for the symbols of
            ``fields.covariance`` (``{"Q_11": 1.0, "M_11": 0.3, …}``).
        parameters: values of the integrand's constant symbols.
        n_nodes: nodes per eigen-direction. Default: exact for polynomial integrands
            (⌊degree/2⌋ + 1); otherwise as many as a 10⁶-point grid allows (≤ 64).
            Non-smooth integrands (relu, ``|x|``) converge only algebraically in n_nodes.

    Raises:
        CovarianceError: covariance not symmetric positive semi-definite, or a missing value.
    """
    names = fields.names if isinstance(fields, GaussianFields) else tuple(fields)
    label = fields.label if isinstance(fields, GaussianFields) else "C"
    if isinstance(covariance, Mapping):
        if not isinstance(fields, GaussianFields):
            raise OverlapdynError("covariance values by name need a GaussianFields, not names")
        matrix = fields.numeric_covariance(covariance)
    else:
        matrix = check_covariance(covariance, label)
    if matrix.shape[0] != len(names):
        raise CovarianceError(f"covariance {label} is {matrix.shape[0]}×{matrix.shape[0]} but "
                              f"there are {len(names)} fields {list(names)}")
    degree = None
    if callable(integrand) and not isinstance(integrand, sympy.Basic):
        function = integrand
    else:
        expr = sympy.Mul(*integrand_factors(integrand, names))
        expr = expr.xreplace({s: sympy.Symbol(str(s)) for s in expr.free_symbols})
        if parameters:
            expr = expr.xreplace({sympy.Symbol(k): v for k, v in parameters.items()})
        stray = sorted(str(s) for s in expr.free_symbols if str(s) not in names)
        if stray:
            raise FieldMismatchError(f"{stray} are not fields {list(names)} and have no value; "
                                     "pass their values in parameters={...}")
        function, degree = _compiled(expr, names)
    factor = _eigen_factor(matrix)
    if n_nodes is None:
        n_nodes = degree // 2 + 1 if degree is not None else _default_nodes(factor.shape[1])
    points, weights = _grid_points(factor, n_nodes, max_points=20_000_000)
    values = np.broadcast_to(np.asarray(function(*points), dtype=float), weights.shape)
    return float(weights @ values)
