r"""A rough estimate of a cold build, before anything is derived.

A first :class:`~overlapdyn.compile.compiled.CompiledModel` of a model derives its kernels
(SymPy, on the exact and Hermite routes), writes the module, and Numba compiles it at the
first drift evaluation; a later one loads the machine code from the cache. The cost of a
cold build is predicted from what the build will make, read off the model in well under a
second:

* the kernels (:mod:`overlapdyn.derive.kernels`): 9 for a committee, ``9 + k`` for a
  multi-index target g(z1..zk), and their *fields*: the sum of their block sizes (2 to 4
  generic fields, or 1 to 3 student fields beside the k latent ones);
* for the symbolic routes (``exact``, ``hermite``), the *expansion size*: the sum over the
  kernels of the product over the kernel's factors (σ, σ', x, σ*, g, …) of ``degree + 1``
  — the size of the polynomial whose Gaussian moments the exact engine takes (a
  non-polynomial function truncated at order L has degree L, or L − 1 when its parity
  zeroes the order-L term); a multi-index target counts ``degree + 1`` or its number of
  monomials where larger (a multivariate truncation is dense). The code it yields grows
  faster than linearly with it.

Seconds ≈ ``BASE_S + ROUTE_S[route] + PER_FIELD_S · fields + PER_EXPANSION_S · size^1.5``,
stated as a range from half to twice that: the constants were fitted on one machine, and a
loaded machine, another CPU or another SymPy (gmpy2 or not) moves them by that much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy

from ..derive.methods import Derivation, ModelFunctions
from ..model.activations import X
from ..model.activations import activation as resolve_activation
from ..model.spec import Model

__all__ = ["BASE_S", "PER_EXPANSION_S", "PER_FIELD_S", "PER_TABLE_EXPANSION_S", "ROUTE_S",
           "SPREAD", "TABLE_S", "BuildEstimate", "estimate_build"]

# Calibration: `python benchmarks/bench_build.py` builds nine models (polynomial committees
# He2 and He4, erf closed form, tanh committee by quadrature, the staircase multi-index
# polynomial, tanh by Hermite truncation at order 5, tanh(z1 + z2) by multivariate Hermite
# truncation at orders 4 and 6, a relu student of z1·z2 by quadrature), each cold in a
# fresh process with an empty OVERLAPDYN_CACHE_DIR, timing the construction and the first
# drift evaluation, and prints these features beside the measured seconds (8 s to 143 s). The
# constants below were set by hand to predict every row within a factor 1.5 (the table in
# benchmarks/README.md); the unconstrained least squares the script prints last is
# ill-conditioned with so few rows (the fields hardly vary). Measured on the 2-core
# development machine under a load of ~3, SymPy without gmpy2, Nov. 2026.
#: seconds of every cold build (rendering, and Numba compiling the drift's loops)
BASE_S = 6.5
#: extra seconds by route (compiled cubature loops for quadrature, arcsines for closed form)
ROUTE_S = {"exact": 0.0, "hermite": 0.0, "closed-form": 1.5, "quadrature": 11.5,
           # the kinked activations' template (benchmarks/bench_kinked.py: 18.7 s cold)
           "closed-form (kinked)": 10.9}
#: seconds per field of the kernels' blocks
PER_FIELD_S = 0.05
#: seconds per (expansion size)^1.5 on the symbolic routes
PER_EXPANSION_S = 3.5e-4
#: the range stated around the prediction (×/÷)
SPREAD = 2.0
#: the seconds, beside BASE_S, of a build whose polynomial kernels are coefficient tables
#: (:mod:`overlapdyn.compile.tables`): the tables' evaluator (compiled once per cache
#: folder, ≈ 1 s) and the model's module of small wrappers (≈ 2–3 s, whatever the degree;
#: ``benchmarks/bench_tables.py``)
TABLE_S = 3.0
#: the seconds per unit of expansion size of a build by tables (SymPy's derivation and the
#: tables' making still grow with the degree; He6 committee, size 5643: ≈ 1.6 s)
PER_TABLE_EXPANSION_S = 3e-4


@dataclass(frozen=True)
class BuildEstimate:
    """What a cold build of a model makes, and about how long it takes.

    Attributes:
        route: the derivation's label (``exact``, ``closed-form``, ``quadrature``,
            ``hermite``), with `` (tables)`` where the kernels are coefficient tables.
        kernels: how many kernels the module holds.
        fields: the sum over the kernels of their block sizes.
        expansion: the expansion size of the symbolic routes (0 for closed form and
            quadrature; see the module docstring).
        seconds: the predicted cold build time; :attr:`low`, :attr:`high` the range stated.
    """

    route: str
    kernels: int
    fields: int
    expansion: int
    seconds: float

    @property
    def low(self) -> float:
        """The low end of the stated range, ``seconds / SPREAD``."""
        return self.seconds / SPREAD

    @property
    def high(self) -> float:
        """The high end of the stated range, ``seconds · SPREAD``."""
        return self.seconds * SPREAD

    def describe(self) -> str:
        """E.g. ``9 exact kernels (26 fields, expansion size 1371): roughly 13 s–51 s (a rough
        estimate)``."""
        size = f", expansion size {self.expansion}" if self.expansion else ""
        return (f"{self.kernels} {self.route} kernels ({self.fields} fields{size}): roughly "
                f"{_seconds(self.low)}–{_seconds(self.high)} (a rough estimate)")


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.0f} min"


def _parity(expr: sympy.Expr, variables) -> int | None:
    """1 for an odd function of ``variables``, 0 for an even one, else None."""
    flipped = expr.subs({v: -v for v in variables}, simultaneous=True)
    if sympy.expand(flipped + expr) == 0:
        return 1
    return 0 if sympy.expand(flipped - expr) == 0 else None


def _degree(expr: sympy.Expr, variables, order: int | None) -> int:
    """The (total) degree of ``expr`` in ``variables``; where it is not a polynomial, that of
    its Hermite truncation at ``order``: ``order``, or one less for an odd (even) function
    and an even (odd) order, whose terms of the other parity are zero (0 on the routes that
    do not expand it)."""
    if expr.is_polynomial(*variables):
        return int(sympy.Poly(expr, *variables).total_degree())
    if not order:
        return 0
    parity = _parity(expr, variables)
    return order - 1 if parity is not None and order % 2 != parity else order


def _target_size(g: sympy.Expr, z, order: int | None) -> int:
    """The factor size of a multi-index target: ``degree + 1``, or its number of monomials
    where larger — a multivariate truncation is dense: every monomial of degree ≤ L in k
    variables (of L's parity for an odd or even g)."""
    degree = _degree(g, z, order)
    if g.is_polynomial(*z):
        monomials = len(sympy.Poly(g, *z).terms())
    else:
        parity = _parity(g, z)
        monomials = sum(math.comb(j + len(z) - 1, len(z) - 1) for j in range(degree + 1)
                        if parity is None or j % 2 == degree % 2)
    return max(degree + 1, monomials)


def _factor_sizes(model: Model, order: int | None) -> tuple[int, int, int, int]:
    """``degree + 1`` of σ, σ', and of σ* (committee), or the size of g (multi-index,
    :func:`_target_size`); and k (0 for a committee)."""
    sigma = resolve_activation(model.student.activation).expr
    degree = _degree(sigma, (X,), order)
    target = model.target
    if target.is_committee:
        teacher = _degree(resolve_activation(target.activation).expr, (X,), order)
        return degree + 1, max(degree, 1), teacher + 1, 0
    z = sympy.symbols(target.latent_names)
    return degree + 1, max(degree, 1), _target_size(target.function(), z, order), target.k


def _kernel_factors(model: Model, order: int | None) -> list[tuple[int, tuple[int, ...]]]:
    """``(block size, degree + 1 of each factor)`` of every kernel (the tables of
    :mod:`overlapdyn.derive.kernels`)."""
    s, ds, t, k = _factor_sizes(model, order)
    x = 2                                                     # the field itself: degree 1
    student = [(2, (s, s)), (2, (ds, ds)), (3, (ds, x, s)), (4, (ds, ds, s, s))]
    if k == 0:
        return student + [(2, (s, t)), (2, (t, t)), (3, (ds, x, t)), (4, (ds, ds, s, t)),
                          (4, (ds, ds, t, t))]
    g = t
    return student + [(1 + k, (s, g)), *[(1 + k, (ds, x, g))] * k, (2 + k, (ds, x, g)),
                      (2 + k, (ds, ds, g, g)), (3 + k, (ds, ds, s, g)), (k, (g, g))]


def estimate_build(model: Model, method: Derivation, tables: bool = False) -> BuildEstimate:
    """The estimate of a cold build of ``model``'s kernels by ``method`` (resolved: not
    :class:`~overlapdyn.derive.methods.Auto`), their formulas printed, or with ``tables``
    (on the ``exact`` and ``hermite`` routes) stored as coefficient tables
    (:mod:`overlapdyn.compile.tables`: ``BASE_S + TABLE_S + PER_FIELD_S · fields +
    PER_TABLE_EXPANSION_S · size``, the code no longer growing with the size). Derives
    nothing."""
    route = method.label
    if route == "closed-form" and ModelFunctions.of(model).kinked_pair:
        route = "closed-form (kinked)"
    order = method.resolution if route == "hermite" else None
    kernels = _kernel_factors(model, order)
    fields = sum(block for block, _ in kernels)
    expansion = (sum(math.prod(factors) for _, factors in kernels)
                 if route in ("exact", "hermite") else 0)
    if tables and route in ("exact", "hermite"):
        seconds = BASE_S + TABLE_S + PER_FIELD_S * fields + PER_TABLE_EXPANSION_S * expansion
        return BuildEstimate(f"{route} (tables)", len(kernels), fields, expansion, seconds)
    seconds = (BASE_S + ROUTE_S[route] + PER_FIELD_S * fields
               + PER_EXPANSION_S * expansion ** 1.5)
    return BuildEstimate(route, len(kernels), fields, expansion, seconds)
