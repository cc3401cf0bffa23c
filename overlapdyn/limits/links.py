r"""The channel ``y = g(z_1..z_k) + √Δ ξ`` whose learnability limits this stage computes.

Conventions. The papers this stage follows (Troiani et al. 2024, arXiv:2405.15480; Defilippis
et al. 2025, arXiv:2502.02545; Damian et al. 2024, arXiv:2403.05529) draw ``x ~ N(0, I_d/d)``
and write the latent fields ``z = W* x`` with ``W* W*ᵀ = d I_k`` … in any of their
normalisations the fields entering the link are i.i.d. ``N(0, 1)``, which is what SPEC's
``x ~ N(0, I_d)``, ``z_r = u_r·x/√d`` and ``P = I_k`` give. A sample size is ``n = α d`` in
both. So the link ``g``, the label noise ``Δ`` (variance of ``√Δ ξ``) and every threshold
``α_c`` computed here are the papers' numbers, read in SPEC's variables without any
rescaling. (A teacher with ``P ≠ I`` must be whitened first: ``z ↦ P^{-1/2} z``.)

A link is given as a formula in ``z1..zk`` (read by
:func:`~overlapdyn.model.formula.parse_formula`, never evaluated), a SymPy expression, a
:class:`~overlapdyn.model.spec.Target` (its expression and noise), or — for single-index
links only — a vectorised Python callable of one array.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

from ..errors import ConfigError
from ..model.checks import check_integer
from ..model.formula import parse_formula
from ..model.spec import Target

__all__ = ["Link", "as_link"]

NumericLink = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Link:
    """``y = g(z) + √Δ ξ`` with ``z ~ N(0, I_k)``, ``ξ ~ N(0, 1)``.

    Attributes:
        k: number of latent fields.
        expr: g as a SymPy expression in the plain symbols ``z1..zk``; ``None`` for a
            callable.
        noise: the label-noise variance Δ ≥ 0.
        name: how the link is shown in results.
        callable_: for a link given as a callable, that callable (``z`` of shape (N,) → (N,)).
    """

    k: int
    expr: sympy.Expr | None
    noise: float = 0.0
    name: str = ""
    callable_: NumericLink | None = None

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        return tuple(sympy.Symbol(f"z{r}") for r in range(1, self.k + 1))

    def numeric(self) -> Callable[[np.ndarray], np.ndarray]:
        """g on points ``z`` of shape (k, N) → (N,) (floats; broadcast to N)."""
        if self.callable_ is not None:
            function = self.callable_
            return lambda z: np.broadcast_to(np.asarray(function(z[0]), float), z.shape[1:])
        compiled = sympy.lambdify(self.symbols, self.expr, modules=["scipy", "numpy"])

        def g(z: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.broadcast_to(np.asarray(compiled(*z), dtype=float), z.shape[1:])
        return g


def as_link(link, k: int | None = None, *, noise: float | None = None) -> Link:
    """Read a link: a formula in ``z1..zk`` (or ``x`` / ``z`` for one field), a SymPy
    expression, a :class:`~overlapdyn.model.spec.Target`, a :class:`Link`, or a vectorised
    callable of one array (single-index).

    Args:
        link: the link.
        k: the number of fields; default: the largest index among ``z1..z9`` used (1 for
            ``x`` or ``z``). A field that does not appear is allowed when ``k`` says so.
        noise: Δ ≥ 0; default: the Target's or Link's, else 0.

    Raises:
        ConfigError: a formula that is not one, a link that depends on none of the fields,
            a negative or non-finite Δ.
    """
    if k is not None:
        k = check_integer(k, "k, the number of latent fields", 1)
    if isinstance(link, Link):
        base = link
    elif isinstance(link, Target):
        base = Link(link.k, link.function(), float(link.noise), link.written)
    elif callable(link) and not isinstance(link, sympy.Basic | str):
        base = Link(1, None, 0.0, getattr(link, "__name__", "g"), link)
    else:
        base = _from_formula(link, k)
    if k is not None and k != base.k:
        if base.expr is None or k < base.k:
            raise ConfigError(f"link {base.name!r} has {base.k} fields, not k = {k}")
        base = Link(k, base.expr, base.noise, base.name)
    delta = base.noise if noise is None else noise
    if not (isinstance(delta, int | float) and np.isfinite(delta) and delta >= 0):
        raise ConfigError(f"label-noise variance Δ must be a finite number ≥ 0, got {delta!r}")
    base = Link(base.k, base.expr, float(delta), base.name, base.callable_)
    if base.expr is not None and not (base.expr.free_symbols & set(base.symbols)):
        raise ConfigError(f"link {base.name!r} depends on none of the fields "
                          f"{[str(s) for s in base.symbols]}: y carries no information about "
                          "the directions, so there is nothing to learn; write g in z1..zk")
    return base


def _from_formula(link, k: int | None) -> Link:
    names = ["x", "z", *(f"z{r}" for r in range(1, 10))] if k is None else \
        [f"z{r}" for r in range(1, k + 1)] + (["x", "z"] if k == 1 else [])
    if isinstance(link, sympy.Basic):
        expr = link.xreplace({s: sympy.Symbol(str(s)) for s in link.free_symbols})
        stray = sorted(str(s) for s in expr.free_symbols if str(s) not in names)
        if stray:
            raise ConfigError(f"link {link} uses {stray}; write it in z1..zk")
    else:
        expr = parse_formula(link, names, what="link")
    used = {str(s) for s in expr.free_symbols}
    if used & {"x", "z"}:
        if used - {"x", "z"}:
            raise ConfigError(f"link {link!r} mixes x/z with z1..zk; use z1..zk only")
        expr = expr.xreplace({sympy.Symbol(n): sympy.Symbol("z1") for n in ("x", "z")})
        used = {"z1"}
    width = max((int(n[1:]) for n in used), default=1) if k is None else k
    return Link(width, expr, 0.0, str(link))
