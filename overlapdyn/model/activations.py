"""Activations and links: one object that carries a function's symbolic and numeric forms.

An :class:`Activation` is what every layer of overlapdyn needs to know about a scalar
function σ: its SymPy expression in the symbol :data:`X` (when it has one), a vectorised NumPy
implementation, its kinks (where Gaussian quadrature converges slowly), and, for the named
functions whose Hermite coefficients are known in closed form, that formula.

Named activations (case-insensitive):

=============  ==========================================  =========================
name           σ(x)                                        Hermite coefficients
=============  ==========================================  =========================
``linear``     x                                           exact (polynomial)
``square``     x²                                          exact (polynomial)
``He<n>``      He_n(x), probabilists' Hermite, any n ≥ 0   exact (polynomial)
``relu``       max(0, x)                                   exact (closed form)
``abs``        ``|x|``                                     exact (closed form)
``sign``       sign(x)                                     exact (closed form)
``step``       H(x) = 1{x > 0}                             exact (closed form)
``erf``        erf(x/√2)  — the Saad–Solla convention      exact (closed form)
``tanh``       tanh(x)                                     Gauss–Hermite
``sigmoid``    1/(1 + e^(−x))                              Gauss–Hermite
``softplus``   log(1 + e^x)                                Gauss–Hermite
=============  ==========================================  =========================

``erf`` always means ``erf(x/√2)``: with this scaling σ(x) = 2Φ(x) − 1, and the Saad–Solla
integrals I2, I3, I4 take their arcsine forms. relu, abs, sign, step and any other function
in the span of 1, x, relu(x) and H(x) have closed-form kernels too
(:mod:`overlapdyn.derive.kinked`); sign and step have no derivative to train, so they serve as
teachers.

A formula in ``x`` (``"x + He2(x)"``, read by :mod:`overlapdyn.model.formula` — never
evaluated), any SymPy expression in one symbol, or any Python callable acting elementwise on
arrays is accepted wherever an activation is expected (see :func:`activation`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.special
import sympy

from ..errors import OverlapdynError, UnknownActivationError
from .formula import parse_formula
from .names import is_activation_name

__all__ = ["X", "Activation", "activation", "known_activations"]

#: The symbol in which every activation's SymPy expression is written.
X = sympy.Symbol("x", real=True)

NumericFunction = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Activation:
    """A scalar function σ with its symbolic and numeric forms.

    Attributes:
        name: how the function is shown in results and errors.
        expr: σ as a SymPy expression in :data:`X`, or ``None`` for a black-box callable.
        func: vectorised σ: array of any shape → array of the same shape.
        breakpoints: points where σ is not smooth; numerical quadrature splits there.
        closed_form: ``n ↦ c_n`` exact Hermite coefficient ``E[σ(x) He_n(x)]/n!`` (SymPy),
            for the named functions whose expansion is known; ``None`` otherwise.
        norm2: exact ``E[σ(x)²]`` under x ~ N(0, 1) when known, else ``None``.
    """

    name: str
    expr: sympy.Expr | None
    func: NumericFunction = field(repr=False)
    breakpoints: tuple[float, ...] = ()
    closed_form: Callable[[int], sympy.Expr] | None = field(default=None, repr=False)
    norm2: sympy.Expr | None = None

    @property
    def is_polynomial(self) -> bool:
        """Whether σ is a polynomial in x (then every Gaussian expectation is exact)."""
        return self.expr is not None and self.expr.is_polynomial(X)

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        return self.func(np.asarray(x, dtype=float))


def _numeric_from_expr(expr: sympy.Expr) -> NumericFunction:
    compiled = sympy.lambdify(X, expr, modules=["scipy", "numpy"])
    if not expr.has(X):  # lambdify of a constant returns a scalar, not an array
        value = float(expr)
        return lambda x: np.full(np.shape(x), value)
    return lambda x: np.asarray(compiled(x), dtype=float)


def _relu_coefficient(n: int) -> sympy.Expr:
    # Gaussian integration by parts: E[relu He_n] = E[relu'' He_{n-2}] = φ(0) He_{n-2}(0).
    if n == 0:
        return 1 / sympy.sqrt(2 * sympy.pi)
    if n == 1:
        return sympy.Rational(1, 2)
    if n % 2:
        return sympy.Integer(0)
    he_at_zero = (-1) ** (n // 2 - 1) * sympy.factorial2(n - 3)
    return he_at_zero / (sympy.sqrt(2 * sympy.pi) * sympy.factorial(n))


def _abs_coefficient(n: int) -> sympy.Expr:
    # |x| = 2 relu(x) − x.
    if n == 1:
        return sympy.Integer(0)
    return 2 * _relu_coefficient(n)


def _sign_coefficient(n: int) -> sympy.Expr:
    # E[sign He_n] = E[sign' He_{n-1}] = 2 φ(0) He_{n-1}(0): odd n only.
    if n % 2 == 0:
        return sympy.Integer(0)
    he_at_zero = (-1) ** ((n - 1) // 2) * sympy.factorial2(n - 2)
    return 2 * he_at_zero / (sympy.sqrt(2 * sympy.pi) * sympy.factorial(n))


def _step_coefficient(n: int) -> sympy.Expr:
    # H = (1 + sign)/2.
    return sympy.Rational(1, 2) if n == 0 else _sign_coefficient(n) / 2


def _erf_coefficient(n: int) -> sympy.Expr:
    # σ' = √(2/π) e^{-x²/2} and E[e^{-x²/2} He_{2j}] = (−1)^j (2j)! / (√2 4^j j!).
    if n % 2 == 0:
        return sympy.Integer(0)
    j = (n - 1) // 2
    return (-1) ** j / (sympy.sqrt(sympy.pi) * 4**j * sympy.factorial(j) * (2 * j + 1))


#: The named activations, each written once: name → a builder of its :class:`Activation`
#: (``He<n>`` is matched by pattern in :func:`_named`); their names are also
#: :data:`overlapdyn.model.names.ACTIVATION_NAMES`, which specs check without SymPy.
NAMED: dict[str, Callable[[], Activation]] = {
    "linear": lambda: Activation("linear", X, lambda x: x * 1.0),
    "square": lambda: Activation("square", X**2, np.square),
    "relu": lambda: Activation("relu", sympy.Max(0, X), lambda x: np.maximum(x, 0.0),
                               breakpoints=(0.0,), closed_form=_relu_coefficient,
                               norm2=sympy.Rational(1, 2)),
    "abs": lambda: Activation("abs", sympy.Abs(X), np.abs, breakpoints=(0.0,),
                              closed_form=_abs_coefficient, norm2=sympy.Integer(1)),
    "sign": lambda: Activation("sign", sympy.sign(X), np.sign, breakpoints=(0.0,),
                               closed_form=_sign_coefficient, norm2=sympy.Integer(1)),
    "step": lambda: Activation("step", sympy.Heaviside(X, 0), lambda x: (x > 0.0) * 1.0,
                               breakpoints=(0.0,), closed_form=_step_coefficient,
                               norm2=sympy.Rational(1, 2)),
    "erf": lambda: Activation("erf", sympy.erf(X / sympy.sqrt(2)),
                              lambda x: scipy.special.erf(x / math.sqrt(2.0)),
                              closed_form=_erf_coefficient,
                              norm2=sympy.Rational(1, 3)),  # (2/π) arcsin(1/2)
    "tanh": lambda: Activation("tanh", sympy.tanh(X), np.tanh),
    "sigmoid": lambda: Activation("sigmoid", 1 / (1 + sympy.exp(-X)), scipy.special.expit),
    "softplus": lambda: Activation("softplus", sympy.log(1 + sympy.exp(X)),
                                   lambda x: np.logaddexp(0.0, x)),
}


def _named(name: str) -> Activation:
    if name in NAMED:
        return NAMED[name]()
    if is_activation_name(name):  # He<n>, the one pattern (overlapdyn.model.names)
        n = int(name[2:])
        expr = sympy.hermite_prob(n, X)
        return Activation(f"He{n}", expr, _numeric_from_expr(expr))
    raise UnknownActivationError(
        f"unknown activation {name!r}; known names: {', '.join(known_activations())} "
        "(or pass a SymPy expression in one symbol, or a vectorised Python callable)"
    )


def known_activations() -> tuple[str, ...]:
    """The names :func:`activation` accepts (``He<n>`` stands for any n ≥ 0)."""
    return (*NAMED, "He<n>")


def activation(spec: str | sympy.Expr | Callable | Activation) -> Activation:
    """Resolve ``spec`` into an :class:`Activation`.

    Args:
        spec: a name from :func:`known_activations` (case-insensitive); a formula in the
            variable ``x`` (``"He3(x) + He4(x)"``, ``"tanh(2*x)"``; anything that is not a
            bare word is read by :func:`~overlapdyn.model.formula.parse_formula`, never
            evaluated); a SymPy expression in at most one free symbol (renamed to
            :data:`X`), e.g. ``x**3 - 3*x`` or ``sympy.tanh(2*x)``; a Python callable
            applied elementwise to NumPy arrays (only numerical methods can use it); or an
            :class:`Activation`, returned unchanged.

    Raises:
        UnknownActivationError: for a name the registry does not know (the message lists the
            known names).
        OverlapdynError: for an expression in several symbols or an unusable object.
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        if text.isidentifier():  # a bare word is a name, never a symbol: no silent typos
            return _named(text.lower())
        return activation(parse_formula(text, ("x",), what="activation formula"))
    if isinstance(spec, sympy.Basic):
        expr = spec
        free = expr.free_symbols
        if len(free) > 1:
            raise OverlapdynError(
                f"an activation must be a function of one variable; {expr} depends on "
                f"{sorted(map(str, free))}"
            )
        if free:
            expr = expr.subs(next(iter(free)), X)
        return Activation(str(expr), expr, _numeric_from_expr(expr))
    if callable(spec):
        name = getattr(spec, "__name__", type(spec).__name__)
        return Activation(name, None, lambda x: np.asarray(spec(x), dtype=float))
    raise UnknownActivationError(
        f"cannot use {spec!r} as an activation: give a name ({', '.join(known_activations())}), "
        "a SymPy expression or a callable"
    )
