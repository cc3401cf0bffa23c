"""Parsing user-written formulas (``"He3(z1)*z2 + relu(z1)"``) into SymPy.

Inside a formula:

* ``He<n>(u)`` (``He0``, ``He1``, …) and ``He(n, u)`` are the probabilists' Hermite
  polynomials, expanded on the spot, so ``He2(z1)*He1(z2)`` is a polynomial;
* ``relu(u)`` is ``max(0, u)``;
* every other name is SymPy's (``tanh``, ``exp``, ``erf``, …). Note that inside a formula
  ``erf`` is the standard error function; the *activation* named ``"erf"`` is
  ``erf(u/√2)`` (see :mod:`overlapdyn.model.activations`).

Symbols are created without assumptions, so ``sympy.Symbol("z1")`` written by a user and the
``z1`` produced here are the same symbol.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sympy

from ..errors import OverlapdynError

__all__ = ["parse_expression"]


def _hermite(n: int):
    return lambda u: sympy.hermite_prob(n, u)


def parse_expression(text: str | sympy.Expr, names: Iterable[str] = ()) -> sympy.Expr:
    """Turn ``text`` into a SymPy expression, with ``names`` as plain symbols.

    Args:
        text: the formula, or an expression (returned with its symbols unchanged).
        names: names that must parse as symbols even where SymPy would read something else
            (``lambda1`` is safe anyway; ``beta`` would otherwise be the beta function).

    Raises:
        OverlapdynError: if the text is not a valid formula.
    """
    if isinstance(text, sympy.Basic):
        return text
    namespace = {
        "He": lambda n, u: sympy.hermite_prob(int(n), u),
        "relu": lambda u: sympy.Max(0, u),
        # He<n> for exactly the degrees the formula uses (sympify needs explicit keys)
        **{f"He{n}": _hermite(int(n)) for n in re.findall(r"\bHe(\d+)\b", text)},
        **{name: sympy.Symbol(name) for name in names},
    }
    try:
        return sympy.sympify(text, locals=namespace)
    except (sympy.SympifyError, SyntaxError, TypeError) as error:
        raise OverlapdynError(f"cannot parse the formula {text!r}: {error}") from error
