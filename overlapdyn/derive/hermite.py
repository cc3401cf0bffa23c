r"""Probabilists' Hermite polynomials and the Hermite expansion of activations.

Conventions (SPEC): ``He_n`` are the probabilists' Hermite polynomials, monic, orthogonal
under the standard Gaussian measure γ:

    He_0 = 1,  He_1 = x,  He_2 = x² − 1,  He_3 = x³ − 3x,   E[He_m(x) He_n(x)] = n! δ_mn.

Any f ∈ L²(γ) expands as ``f = Σ_n c_n He_n`` with ``c_n = E[f(x) He_n(x)] / n!``; Parseval
reads ``E[f²] = Σ_n n! c_n²``, so the L²(γ) error of the truncation at order L is

    ‖f − f_L‖ = ( E[f²] − Σ_{n ≤ L} n! c_n² )^{1/2}.

The *information exponent* of a link g is the smallest n ≥ 1 with c_n ≠ 0.

Coefficients are exact (SymPy) for polynomials — a change of basis, no integration — and
for the named functions with a closed form (relu, abs, erf); otherwise they are computed by
Gauss–Hermite quadrature with a doubling number of nodes until two successive estimates
agree to the requested tolerance, falling back to SciPy's adaptive ``quad`` (split at the
function's kinks) when the integrand is too rough for Gauss–Hermite to converge.

Zeros of numerical coefficients. Quadrature leaves round-off (~1e-17 for tanh) where a
coefficient is zero, and a truncation that kept it would turn every kernel into a dense
polynomial. So where f is symbolic its parity is decided exactly (:func:`parity`: SymPy's
``f(−x) = ±f(x)``) and the coefficients of the other parity are set to exactly 0; and a
truncation keeps only the coefficients above :data:`ZERO_TOLERANCE` relative to ‖f‖
(:meth:`HermiteExpansion.significant`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.integrate
import scipy.special
import sympy

from ..errors import OverlapdynError, QuadratureError
from ..model.activations import Activation, X, activation
from ..model.formula import as_expression
from ..storage.memo import memoised

__all__ = [
    "He",
    "HermiteExpansion",
    "gauss_hermite_rule",
    "hermite_expansion",
    "hermite_product",
    "hermite_values",
    "information_exponent",
    "parity",
    "polynomial_to_hermite",
    "ZERO_TOLERANCE",
]

#: A numerical Hermite coefficient is treated as zero when ``|√n! c_n| ≤ ZERO_TOLERANCE·‖f‖``
#: (orthonormal basis, ‖f‖ the L²(γ) norm): Gauss–Hermite round-off is ~1e-13 of ‖f‖ and the
#: coefficients are computed to an absolute 1e-10, so smaller values are not resolved anyway.
ZERO_TOLERANCE = 1e-10

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_GAUSS_HERMITE_NODES = (48, 96, 192, 384)


def He(n: int, x: sympy.Expr) -> sympy.Expr:
    """The probabilists' Hermite polynomial ``He_n(x)`` as an expanded SymPy polynomial."""
    if n < 0:
        raise OverlapdynError(f"Hermite degree must be ≥ 0, got {n}")
    return sympy.hermite_prob(n, x)


def hermite_product(m: int, n: int) -> dict[int, int]:
    """Linearise ``He_m He_n = Σ_k binom(m,k) binom(n,k) k! He_{m+n−2k}``.

    Returns:
        ``{degree: coefficient}`` for the degrees ``m+n, m+n−2, …, |m−n|`` (integers).
    """
    if m < 0 or n < 0:
        raise OverlapdynError(f"Hermite degrees must be ≥ 0, got {m} and {n}")
    return {m + n - 2 * k: math.comb(m, k) * math.comb(n, k) * math.factorial(k)
            for k in range(min(m, n) + 1)}


def hermite_values(order: int, x: np.ndarray, *, normalized: bool = False) -> np.ndarray:
    """Evaluate ``He_0..He_order`` at the points ``x``.

    Args:
        order: the highest degree L.
        x: points, any shape S.
        normalized: return ``h_n = He_n/√n!`` (orthonormal; no overflow for large n).

    Returns:
        Array of shape ``(L+1, *S)``.
    """
    x = np.asarray(x, dtype=float)
    out = np.empty((order + 1, *x.shape))
    out[0] = 1.0
    if order >= 1:
        out[1] = x
    for n in range(1, order):
        if normalized:  # h_{n+1} = (x h_n − √n h_{n−1}) / √(n+1)
            out[n + 1] = (x * out[n] - math.sqrt(n) * out[n - 1]) / math.sqrt(n + 1)
        else:  # He_{n+1} = x He_n − n He_{n−1}
            out[n + 1] = x * out[n] - n * out[n - 1]
    return out


@memoised(maxsize=64)
def gauss_hermite_rule(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the n-point rule for the standard Gaussian: ``E[f] ≈ Σ w_i f(x_i)``.

    Exact for polynomials of degree ≤ 2n − 1. The arrays are read-only (they are cached).
    """
    # SciPy's rule stays accurate for hundreds of nodes (NumPy's hermegauss overflows).
    nodes, weights = scipy.special.roots_hermitenorm(n_nodes)
    weights = weights / _SQRT_2PI
    nodes.flags.writeable = False
    weights.flags.writeable = False
    return nodes, weights


def polynomial_to_hermite(poly: sympy.Expr, x: sympy.Symbol = X) -> list[sympy.Expr]:
    """Exact Hermite coefficients ``[c_0, …, c_D]`` of a polynomial of degree D in ``x``.

    A change of basis, peeling off the leading monomial with the monic ``He_D`` each time.
    """
    remainder = sympy.Poly(sympy.expand(poly), x)
    degree = remainder.degree()
    if degree < 0:  # the zero polynomial
        return [sympy.Integer(0)]
    coefficients = [sympy.Integer(0)] * (degree + 1)
    while not remainder.is_zero:
        top = remainder.degree()
        lead = remainder.LC()
        coefficients[top] = lead
        remainder = remainder - lead * sympy.Poly(sympy.hermite_prob(top, x), x)
    return [sympy.nsimplify(c) if isinstance(c, float) else as_expression(c)
            for c in coefficients]


@dataclass(frozen=True)
class HermiteExpansion:
    """The Hermite expansion ``f ≈ Σ_{n≤L} c_n He_n`` of a function, truncated at order L.

    Attributes:
        activation: the expanded function.
        coefficients: ``c_0..c_L`` — SymPy numbers when ``exact``, floats otherwise.
        norm2: ``E[f(x)²]`` for x ~ N(0, 1) (SymPy number when exact).
        exact: whether coefficients and norm are exact.
        quadrature_error: estimated absolute error of the normalised coefficients
            ``√n! c_n`` (0 when exact).
    """

    activation: Activation
    coefficients: tuple
    norm2: sympy.Expr | float
    exact: bool
    quadrature_error: float = 0.0

    @property
    def order(self) -> int:
        """The truncation order L."""
        return len(self.coefficients) - 1

    def normalized(self) -> np.ndarray:
        """``a_n = √n! c_n`` as floats, the coefficients in the orthonormal basis (shape L+1)."""
        return np.array([math.sqrt(math.factorial(n)) * float(c)
                         for n, c in enumerate(self.coefficients)])

    @property
    def truncation_error(self) -> float:
        """L²(γ) norm of ``f − f_L``: ``(E[f²] − Σ_{n≤L} n! c_n²)^{1/2}``.

        Computed by Parseval, so values below ~1e-8·‖f‖ are at the level of round-off.
        """
        if self.exact:
            tail = sympy.nsimplify(self.norm2) - sum(
                sympy.factorial(n) * c**2 for n, c in enumerate(self.coefficients))
            return math.sqrt(max(float(tail), 0.0))
        tail = float(self.norm2) - float(np.sum(self.normalized() ** 2))
        return math.sqrt(max(tail, 0.0))

    @property
    def relative_truncation_error(self) -> float:
        """``‖f − f_L‖ / ‖f‖`` (0 for the zero function)."""
        norm = math.sqrt(float(self.norm2))
        return self.truncation_error / norm if norm > 0 else 0.0

    def significant(self, tol: float = ZERO_TOLERANCE) -> tuple:
        """The coefficients with those at or below ``tol·‖f‖`` (orthonormal basis,
        ``|√n! c_n|``) set to 0: what a truncation should keep. Exact ones are kept as they
        are."""
        if self.exact:
            return self.coefficients
        scale = tol * math.sqrt(max(float(self.norm2), 0.0))
        return tuple(c if abs(a) > scale else 0.0
                     for c, a in zip(self.coefficients, self.normalized(), strict=True))

    def as_expr(self, x: sympy.Symbol = X) -> sympy.Expr:
        """The truncated expansion ``Σ_{n≤L} c_n He_n(x)`` as a SymPy polynomial."""
        return sympy.expand(sum(c * sympy.hermite_prob(n, x)
                                for n, c in enumerate(self.coefficients)))

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        """Evaluate the truncated expansion numerically at ``x`` (any shape)."""
        values = hermite_values(self.order, np.asarray(x, dtype=float), normalized=True)
        return np.tensordot(self.normalized(), values, axes=1)

    def information_exponent(self, tol: float = 1e-8) -> int:
        """Smallest n ≥ 1 with a non-zero coefficient (``|√n! c_n| > tol·‖f‖`` if numeric).

        Raises:
            OverlapdynError: if every coefficient of order 1..L vanishes; the exponent is
                then larger than L (or f is constant) — expand to a higher order.
        """
        if self.exact:
            found = next((n for n, c in enumerate(self.coefficients) if n >= 1 and c != 0), None)
        else:
            scale = tol * max(math.sqrt(float(self.norm2)), 1e-300)
            normalized = self.normalized()
            found = next((n for n in range(1, self.order + 1) if abs(normalized[n]) > scale),
                         None)
        if found is None:
            raise OverlapdynError(
                f"all Hermite coefficients of {self.activation.name} of orders 1..{self.order} "
                "vanish: it is constant or its information exponent exceeds "
                f"{self.order}; expand to a higher order"
            )
        return found


def _exact_expansion(act: Activation, order: int) -> HermiteExpansion | None:
    if act.is_polynomial:
        coefficients = polynomial_to_hermite(act.expr)
        norm2 = sum(sympy.factorial(n) * c**2 for n, c in enumerate(coefficients))
        coefficients = (coefficients + [sympy.Integer(0)] * (order + 1))[: order + 1]
        return HermiteExpansion(act, tuple(coefficients), norm2, exact=True)
    if act.closed_form is not None and act.norm2 is not None:
        return HermiteExpansion(act, tuple(act.closed_form(n) for n in range(order + 1)),
                                act.norm2, exact=True)
    return None


def _symbolic_expansion(act: Activation, order: int) -> HermiteExpansion:
    """Integrate ``f He_n φ`` with SymPy; raises if SymPy returns an unevaluated integral."""
    density = sympy.exp(-X**2 / 2) / sympy.sqrt(2 * sympy.pi)

    def gaussian_mean(integrand: sympy.Expr) -> sympy.Expr:
        value = sympy.simplify(sympy.integrate(integrand * density, (X, -sympy.oo, sympy.oo)))
        if value.has(sympy.Integral) or not value.is_number:
            raise OverlapdynError(
                f"SymPy cannot integrate {act.name} against the Gaussian in closed form; "
                "use method='numeric'"
            )
        return value

    coefficients = tuple(gaussian_mean(act.expr * sympy.hermite_prob(n, X)) / sympy.factorial(n)
                         for n in range(order + 1))
    return HermiteExpansion(act, coefficients, gaussian_mean(act.expr**2), exact=True)


def _gauss_hermite_moments(func: Callable, order: int, n_nodes: int) -> tuple[np.ndarray, float]:
    nodes, weights = gauss_hermite_rule(n_nodes)
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite results are reported
        values = np.asarray(func(nodes), dtype=float)
        basis = hermite_values(order, nodes, normalized=True)
        return basis @ (weights * values), float(weights @ values**2)


def _quad_moments(act: Activation, order: int, tol: float) -> tuple[np.ndarray, float, float]:
    """Adaptive quadrature of ``E[f h_n]`` on the pieces between the kinks of f."""
    cuts = sorted(set(act.breakpoints) | {0.0})
    pieces = list(zip([-np.inf, *cuts], [*cuts, np.inf], strict=True))

    def integrate(weight: Callable[[float], float]) -> tuple[float, float]:
        total = error = 0.0
        for lo, hi in pieces:
            value, err = scipy.integrate.quad(weight, lo, hi, epsabs=tol / 10, epsrel=1e-13,
                                              limit=400)
            total, error = total + value, error + err
        return total, error

    def density_times_f(x: float) -> float:
        return float(act.func(np.array([x]))[0]) * math.exp(-0.5 * x * x) / _SQRT_2PI

    moments, worst = np.empty(order + 1), 0.0
    for n in range(order + 1):
        moments[n], err = integrate(
            lambda x, n=n: density_times_f(x) * hermite_values(n, np.array(x), normalized=True)[n])
        worst = max(worst, err)
    norm2, err = integrate(lambda x: density_times_f(x) * float(act.func(np.array([x]))[0]))
    return moments, norm2, max(worst, err)


def parity(expr: sympy.Expr, variables) -> int:
    """+1 if ``f(−v) = f(v)``, −1 if ``f(−v) = −f(v)``, else 0 (unknown or neither), for
    ``f = expr`` and all of ``variables`` (a symbol or several) flipped at once.

    Decided by SymPy on the expression (``tanh(−x)`` evaluates to ``−tanh(x)``, ``|−x|`` to
    ``|x|``); an expression SymPy cannot simplify that way counts as neither, which only
    means no coefficient is known to vanish.
    """
    variables = [variables] if isinstance(variables, sympy.Symbol) else list(variables)
    if expr is None or not variables:
        return 0
    flipped = expr.xreplace({v: -v for v in variables})
    if sympy.expand(flipped - expr) == 0:
        return 1
    if sympy.expand(flipped + expr) == 0:
        return -1
    return 0


def _with_parity(expansion: HermiteExpansion) -> HermiteExpansion:
    """The expansion with the coefficients that f's exact parity makes 0 set to 0."""
    sign = parity(expansion.activation.expr, X)
    if sign == 0:
        return expansion
    odd = sign < 0
    coefficients = tuple(0.0 if n % 2 != odd else c
                         for n, c in enumerate(expansion.coefficients))
    return dataclasses.replace(expansion, coefficients=coefficients)


def _numeric_expansion(act: Activation, order: int, tol: float) -> HermiteExpansion:
    previous = None
    if not act.breakpoints:
        for n_nodes in _GAUSS_HERMITE_NODES:
            if n_nodes <= order:
                continue
            moments, norm2 = _gauss_hermite_moments(act.func, order, n_nodes)
            if not np.all(np.isfinite(moments)) or not math.isfinite(norm2):
                raise OverlapdynError(
                    f"{act.name} is not finite at the Gauss–Hermite nodes (|x| up to "
                    f"{gauss_hermite_rule(n_nodes)[0].max():.0f}); it must be in L²(γ)")
            if previous is not None:
                change = float(np.max(np.abs(moments - previous)))
                if change <= tol:
                    coefficients = tuple(float(m) / math.sqrt(math.factorial(n))
                                         for n, m in enumerate(moments))
                    return HermiteExpansion(act, coefficients, norm2, exact=False,
                                            quadrature_error=change)
            previous = moments
    moments, norm2, error = _quad_moments(act, order, tol)
    if error > tol:
        raise QuadratureError(
            f"the Hermite coefficients of {act.name} reached only {error:.1e} (asked {tol:.1e}); "
            "declare its kinks in Activation.breakpoints or loosen tol")
    coefficients = tuple(float(m) / math.sqrt(math.factorial(n)) for n, m in enumerate(moments))
    return HermiteExpansion(act, coefficients, norm2, exact=False, quadrature_error=error)


def hermite_expansion(
    f: str | sympy.Expr | Callable | Activation,
    order: int,
    *,
    method: str = "auto",
    tol: float = 1e-10,
) -> HermiteExpansion:
    """Hermite coefficients ``c_n = E[f(x) He_n(x)]/n!``, n = 0..order, of an activation.

    Args:
        f: anything :func:`~overlapdyn.model.activations.activation` accepts.
        order: the truncation order L ≥ 0.
        method: ``"auto"`` — exact for polynomials and closed forms, numeric otherwise;
            ``"exact"`` — exact or SymPy integration, error if impossible;
            ``"numeric"`` — always quadrature (useful to check the closed forms).
        tol: absolute tolerance on the normalised coefficients ``√n! c_n`` (numeric only).

    Returns:
        A :class:`HermiteExpansion` with the coefficients, ``E[f²]`` and the truncation error.

    Raises:
        OverlapdynError: bad order or method, or an exact expansion SymPy cannot do.
        QuadratureError: numerical coefficients that do not reach ``tol``.
    """
    if order < 0:
        raise OverlapdynError(f"order must be ≥ 0, got {order}")
    if method not in ("auto", "exact", "numeric"):
        raise OverlapdynError(f"method must be 'auto', 'exact' or 'numeric', got {method!r}")
    act = activation(f)
    if method != "numeric":
        exact = _exact_expansion(act, order)
        if exact is not None:
            return exact
        if method == "exact":
            if act.expr is None:
                raise OverlapdynError(
                    f"{act.name} is a Python callable: only method='numeric' can expand it")
            return _symbolic_expansion(act, order)
    return _with_parity(_numeric_expansion(act, order, tol))


def information_exponent(
    f: str | sympy.Expr | Callable | Activation,
    *,
    max_order: int = 12,
    tol: float = 1e-8,
) -> int:
    """Information exponent of a link: the smallest n ≥ 1 with ``E[f(x) He_n(x)] ≠ 0``.

    Args:
        f: anything :func:`~overlapdyn.model.activations.activation` accepts.
        max_order: highest order searched (a polynomial is searched up to its degree).
        tol: a numerical coefficient counts as non-zero when ``|√n! c_n| > tol·‖f‖``.

    Examples: ``He_k → k``, ``relu → 1``, ``abs → 2``, ``He3 + He4 → 3``, ``x² → 2``,
    ``tanh → 1``.
    """
    act = activation(f)
    order = max_order
    if act.is_polynomial:
        order = max(sympy.Poly(act.expr, X).degree(), 1)
    return hermite_expansion(act, order).information_exponent(tol)
