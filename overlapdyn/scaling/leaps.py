r"""The leap of a multi-index target (Abbe, Boix-Adserà & Misiakiewicz 2023, Gaussian case).

Expand the target in multivariate Hermite polynomials, ``g(z) = Σ_ν ĝ_ν Π_i He_{ν_i}(z_i)``
(:mod:`overlapdyn.derive.multihermite`), with support ``S = {ν ≠ 0 : ĝ_ν ≠ 0}``. For an ordering
``ν¹, …, ν^m`` of S, step i costs the degree carried by coordinates not seen before,

    cost_i = Σ_{j ∉ supp(ν¹) ∪ … ∪ supp(ν^{i−1})} ν^i_j,

and the leap is the minimum over orderings of the largest step (SPEC). Examples: ``He_k(z1)``
has leap k (its information exponent); ``z1·z2·z3`` leap 3; ``z1 + z1·z2 + z1·z2·z3`` leap 1 —
a *merged staircase* (Abbe et al. 2022): each monomial adds one new coordinate of degree 1.

**Exact algorithm.** The cost of an element can only fall as the set of seen coordinates
grows, so "is there an ordering with every step ≤ ℓ?" is decided greedily: keep adding any
element of cost ≤ ℓ; adding never hurts. The leap is the least ℓ whose greedy closure is all
of S (ℓ ≤ max degree, so a scan over ℓ suffices; each closure is O(``|S|²``)). The ordering
returned is that closure, taking the cheapest element first (ties: lower total degree,
then the element weighing most on the first coordinates), so it reads as the order in which
SGD is expected to pick the support up.

The leap is a property of the target *in the given coordinates*: the latent fields are
whitened first when P ≠ I (``w = L⁻¹z``). Abbe et al. also discuss a rotation-invariant
variant (minimising over rotations of the latent space); it is not computed here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ..derive.multihermite import MultivariateHermite, multivariate_hermite
from ..errors import OverlapdynError
from ..model.formula import parse_formula
from ..model.spec import Target
from ..storage.results import Result

__all__ = ["Leap", "is_merged_staircase", "leap"]


@dataclass(frozen=True)
class Leap(Result):
    """The leap of a target and the ordering of its Hermite support that achieves it.

    Attributes:
        value: the leap ℓ (0 for a constant target).
        ordering: the support ``ν¹, …, ν^m`` in the order found (each a k-tuple of degrees).
        steps: the cost of each element of ``ordering`` (new coordinates, with degree).
        expansion: the multivariate Hermite expansion it was computed from.
    """

    FORMAT = "overlapdyn.Leap"
    VERSION = 1

    value: int
    ordering: tuple[tuple[int, ...], ...]
    steps: tuple[int, ...]
    expansion: MultivariateHermite

    @property
    def exact(self) -> bool:
        """Whether the support is exact (polynomial target) or that of a truncation."""
        return self.expansion.exact

    @property
    def groups(self) -> tuple[tuple[int, ...], ...]:
        """The coordinates each step of the ordering introduces (steps adding none left out):
        e.g. ``((0,), (1, 2))`` for ``z1 + z1·z2·z3`` — z2 and z3 come together."""
        seen, groups = set(), []
        for nu in self.ordering:
            new = tuple(i for i, n in enumerate(nu) if n > 0 and i not in seen)
            seen.update(new)
            if new:
                groups.append(new)
        return tuple(groups)

    @property
    def coordinates(self) -> tuple[int, ...]:
        """The latent fields in the order they first appear (0-based indices)."""
        return tuple(i for group in self.groups for i in group)

    @property
    def names(self) -> tuple[str, ...]:
        """The latent names in the order they are learned, e.g. ``("z1", "z2", "z3")``."""
        return tuple(self.expansion.names[i] for i in self.coordinates)

    @property
    def learned_as(self) -> str:
        """The order of learning as text, with the fields that one step brings together in
        braces.

        ``"z1 → z2 → z3"`` for the staircase, ``"z1 → {z2, z3}"`` for ``z1 + z1·z2·z3``,
        ``"{z1, z2}"`` for ``z1·z2``, and ``"—"`` for a constant target.
        """
        names = self.expansion.names
        steps = [names[group[0]] if len(group) == 1 else
                 "{" + ", ".join(names[i] for i in group) + "}" for group in self.groups]
        return " → ".join(steps) or "—"

    def describe(self) -> str:
        """One line: ``leap 1: He(1,0,0) +1 → He(1,1,0) +1 → He(1,1,1) +1``."""
        chain = " → ".join(f"He{nu} +{c}" for nu, c in zip(self.ordering, self.steps,
                                                           strict=True))
        how = "exact" if self.exact else (f"Hermite truncation at order {self.expansion.order}, "
                                          f"rel. L² error {self.expansion.relative_error:.1e}")
        return f"leap {self.value}: {chain or 'constant'} ({how})"

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        e = self.expansion
        # exact coefficients are SymPy numbers: kept as their text, read back exactly
        coefficients = [[list(nu), str(c) if e.exact else float(c)]
                        for nu, c in e.coefficients.items()]
        return {"value": self.value, "ordering": self.ordering, "steps": self.steps,
                "expansion": {"names": e.names, "coefficients": coefficients,
                              "norm2": e.norm2, "exact": e.exact, "order": e.order,
                              "relative_error": e.relative_error}}, {}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> Leap:
        e = header["expansion"]
        # a saved file is input like any other: its exact numbers are read, never evaluated
        coefficients = {tuple(nu): parse_formula(c, (), what="a saved exact coefficient")
                        if e["exact"] else float(c) for nu, c in e["coefficients"]}
        expansion = MultivariateHermite(tuple(e["names"]), coefficients, e["norm2"], e["exact"],
                                        e["order"], e["relative_error"])
        return cls(header["value"], tuple(tuple(nu) for nu in header["ordering"]),
                   tuple(header["steps"]), expansion)


def _cost(nu: tuple[int, ...], seen: set[int]) -> int:
    return sum(n for i, n in enumerate(nu) if n > 0 and i not in seen)


def _greedy(support: list[tuple[int, ...]], bound: int):
    """The greedy closure under step cost ≤ bound: (ordering, steps, all placed)."""
    remaining, seen = list(support), set()
    ordering, steps = [], []
    while remaining:
        cost, nu = min(((_cost(nu, seen), nu) for nu in remaining),
                       key=lambda item: (item[0], sum(item[1]), [-n for n in item[1]]))
        if cost > bound:
            break
        remaining.remove(nu)
        ordering.append(nu)
        steps.append(cost)
        seen.update(i for i, n in enumerate(nu) if n > 0)
    return ordering, steps, not remaining


def _target_expansion(target, k: int | None, P, order: int | None) -> MultivariateHermite:
    if isinstance(target, Target):
        k, P, target = target.k, target.gram, target.function()
    if k is None:
        raise OverlapdynError("give k, the number of latent fields z1..zk of the target")
    return multivariate_hermite(target, k, P=P, order=order)


def leap(
    target: Target | str | sympy.Expr,
    k: int | None = None,
    *,
    P: np.ndarray | None = None,
    order: int | None = None,
) -> Leap:
    """The leap of a target and a minimising ordering of its Hermite support.

    Args:
        target: a :class:`~overlapdyn.model.spec.Target` (committee or expression), or a formula in
            ``z1..zk`` (then give ``k``).
        k: number of latent fields, for a formula.
        P: latent covariance for a formula (default ``I_k``); a Target carries its own.
        order: total-degree truncation order for a non-polynomial target (required then; the
            result is the leap of the truncation, stated in :meth:`Leap.describe`).

    Returns:
        A :class:`Leap`; ``leap(...).value`` is ℓ.
    """
    expansion = _target_expansion(target, k, P, order)
    support = [nu for nu in expansion.support if any(nu)]
    if not support:
        return Leap(0, (), (), expansion)
    for bound in range(1, max(sum(nu) for nu in support) + 1):
        ordering, steps, complete = _greedy(support, bound)
        if complete:
            return Leap(bound, tuple(ordering), tuple(steps), expansion)
    raise AssertionError("unreachable: the bound max|ν| always admits every element")


def is_merged_staircase(target: Target | str | sympy.Expr, k: int | None = None, *,
                        P: np.ndarray | None = None, order: int | None = None) -> bool:
    """Whether the target is a merged staircase (leap 1): each support element, in some
    order, adds at most one new latent coordinate, and with Hermite degree one."""
    return leap(target, k, P=P, order=order).value == 1


#: Targets with their information exponent (k = 1) or leap as the literature gives them:
#: ``(formula, k, truncation order or None, value, source)``. ``derivations/leap_table.py``
#: prints the table; the tests check :func:`leap` against every row.
LITERATURE_TARGETS: tuple[tuple[str, int, int | None, int, str], ...] = (
    ("He1(z1)", 1, None, 1, "Ben Arous, Gheissari & Jagannath 2021: He_k has k* = k"),
    ("He2(z1)", 1, None, 2, "Ben Arous et al. 2021"),
    ("He3(z1)", 1, None, 3, "Ben Arous et al. 2021"),
    ("He4(z1)", 1, None, 4, "Ben Arous et al. 2021"),
    ("He3(z1) + He4(z1)", 1, None, 3, "Ben Arous et al. 2021: the lowest non-zero degree"),
    ("relu(z1)", 1, 8, 1, "ReLU has a linear Hermite component: k* = 1"),
    ("Abs(z1)", 1, 8, 2, "|z| is even with E[|z| He2] ≠ 0: k* = 2"),
    ("tanh(z1)", 1, 9, 1, "odd, E[z tanh z] ≠ 0: k* = 1"),
    ("z1*z2", 2, None, 2, "Abbe, Boix-Adserà & Misiakiewicz 2023: a degree-2 monomial"),
    ("z1*z2*z3", 3, None, 3, "Abbe et al. 2023: leap 3"),
    ("z1 + z1*z2", 2, None, 1, "Abbe et al. 2022: merged staircase (leap 1)"),
    ("z1 + z1*z2 + z1*z2*z3", 3, None, 1, "Abbe et al. 2022/2023: the staircase, leap 1"),
    ("z1 + z1*z2*z3", 3, None, 2, "Abbe et al. 2023: z1 first, then z2 and z3 together"),
    ("He2(z1) + He2(z2)", 2, None, 2, "Abbe et al. 2023: each He2 adds degree 2"),
    ("He2(z1)*z2", 2, None, 3, "Abbe et al. 2023 (Gaussian leap counts Hermite degree)"),
)
