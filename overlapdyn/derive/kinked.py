r"""Kinked activations in closed form: relu, ``|x|``, leaky relu, sign and the step.

An activation in the span of the basis ``1, x, relu(x), H(x)`` (H the Heaviside step) —

    σ(x) = β₀ + β₁ x + β_r relu(x) + β_H H(x),

relu, ``|x|`` = 2 relu(x) − x, leaky relu (1 − s) relu(x) + s x, sign = 2H − 1, the step H, and
linear functions — has every few-point kernel of :mod:`overlapdyn.derive.kernels` as a short
sum of expectations of products of basis functions, which are closed forms (the arc-cosine
kernels of Cho & Saul 2009, Gaussian orthant probabilities and Stein's lemma) up to three
fields and a smooth one-dimensional integral of closed forms for four distinct ones (four
fields of which two coincide are again at most three; ``compile/templates/kinked.py``
evaluates them). A student's σ' = β₁ + β_r H must exist as
a function, so a student has β_H = 0: sign and step are teachers only.

This module finds the coefficients β of an activation (:func:`kinked_basis`) and writes each
kernel as its basis terms (:func:`kinked_kernel_terms`); the compile stage prints the terms as
calls of the template's functions.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..errors import OverlapdynError
from ..model.activations import activation as resolve_activation
from ..storage.memo import memoised

__all__ = ["BASIS", "KinkedBasis", "kinked_basis", "kinked_kernel_terms"]

#: The basis functions' codes, as ``compile/templates/kinked.py`` numbers them.
BASIS = {"ONE": 0, "X": 1, "R": 2, "H": 3}

_DERIVATIVE = {"X": "ONE", "R": "H"}  # of a student's basis functions (ONE has none)

# points where a piecewise-linear function with its only kink at 0 is sampled, and where
# the fit is checked (any other shape fails the check)
_FIT_POINTS = (-2.0, -1.0, 1.0, 2.0)
_CHECK_POINTS = (-3.7, -0.31, -1e-3, 1e-3, 0.45, 1.9, 5.3)


class KinkedBasis(dict):
    """``{basis name: coefficient}`` of an activation (names of :data:`BASIS`, nonzero
    coefficients only)."""

    @property
    def is_student(self) -> bool:
        """Whether σ' is a function (no step part)."""
        return "H" not in self

    @property
    def is_kinked(self) -> bool:
        """Whether it has a kink (not a polynomial)."""
        return "R" in self or "H" in self

    def derivative(self) -> dict[str, float]:
        """σ' = β₁ + β_r H in the basis."""
        return {_DERIVATIVE[name]: value for name, value in self.items() if name in _DERIVATIVE}


def kinked_basis(name: str) -> KinkedBasis | None:
    """The coefficients of activation ``name`` in ``1, x, relu(x), H(x)``, or None when it
    is not in that span.

    The coefficients are read off σ at ±1, ±2 (a line on each side of 0) and checked at
    seven other points, two within 1e-3 of the kink, to 1e-12 relative: a function with
    another kink or any curvature fails.
    """
    coefficients = _coefficients(name)
    return None if coefficients is None else KinkedBasis(coefficients)


@memoised(maxsize=64)
def _coefficients(name: str) -> tuple | None:
    function = resolve_activation(name)
    try:
        values = {x: float(function(np.array([x]))[0]) for x in _FIT_POINTS + _CHECK_POINTS}
    except (TypeError, ValueError, ArithmeticError):
        return None
    slope_left = values[-1.0] - values[-2.0]
    offset_left = values[-1.0] + slope_left
    slope_right = values[2.0] - values[1.0]
    offset_right = values[1.0] - slope_right
    beta = {"ONE": offset_left, "X": slope_left, "R": slope_right - slope_left,
            "H": offset_right - offset_left}
    scale = max(1.0, *(abs(v) for v in values.values()))
    for x in _CHECK_POINTS:
        model = (beta["ONE"] + beta["X"] * x + beta["R"] * max(x, 0.0)
                 + beta["H"] * (x > 0.0))
        if not abs(model - values[x]) <= 1e-12 * scale:
            return None
    return tuple((key, value) for key, value in beta.items() if abs(value) > 1e-14 * scale)


def kinked_kernel_terms(student: str, teacher: str | None) -> dict[str, tuple]:
    """Each kernel of a kinked student (and committee teacher) as basis terms.

    Returns:
        ``{kernel name: (function, terms)}``: the template function that evaluates one term
        (``moment2`` for the two-field kernels, ``stein3`` for E[σ'(x1) x2 f(x3)],
        ``kinked4`` for the four-field ones) and the terms ``((coefficient, (codes…)), …)``
        whose sum is the kernel, codes as in :data:`BASIS`.

    Raises:
        OverlapdynError: an activation outside the span, or a student with a step part.
    """
    sigma = _basis_of(student, "student")
    if not sigma.is_student:
        raise OverlapdynError(
            f"the student activation {student!r} has a step (H or sign) part, so its "
            "derivative is a delta and SGD's gradient vanishes almost everywhere; use it as "
            "the teacher, or a relu, |x| or leaky-relu student")
    d_sigma = sigma.derivative()
    forms = {"I2ss": ("moment2", (sigma, sigma)), "J2s": ("moment2", (d_sigma, d_sigma)),
             "I3ss": ("stein3", (d_sigma, sigma)),
             "I4sss": ("kinked4", (d_sigma, d_sigma, sigma, sigma))}
    if teacher is not None:
        tau = _basis_of(teacher, "teacher")
        forms |= {"I2st": ("moment2", (sigma, tau)), "I2tt": ("moment2", (tau, tau)),
                  "I3st": ("stein3", (d_sigma, tau)),
                  "I4sst": ("kinked4", (d_sigma, d_sigma, sigma, tau)),
                  "I4stt": ("kinked4", (d_sigma, d_sigma, tau, tau))}
    return {name: (function, _expand(factors)) for name, (function, factors) in forms.items()}


def _basis_of(name: str, role: str) -> KinkedBasis:
    basis = kinked_basis(name)
    if basis is None:
        raise OverlapdynError(f"the {role} activation {name!r} is not in the span of 1, x, "
                              "relu(x) and H(x): the kinked closed forms do not apply; use "
                              "Quadrature(nodes) or HermiteTruncation(order)")
    return basis


def _expand(factors: tuple[dict, ...]) -> tuple:
    """The product of sums, one per field, as ``((coefficient, codes), …)``."""
    terms = []
    for choice in itertools.product(*(sorted(f.items()) for f in factors)):
        coefficient = float(np.prod([value for _, value in choice]))
        if coefficient != 0.0:
            terms.append((coefficient, tuple(BASIS[name] for name, _ in choice)))
    return tuple(terms)
