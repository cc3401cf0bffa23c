"""Kernels of truncated activations: what the truncation keeps.

A Hermite-truncated student σ_L enters every kernel as a polynomial; a coefficient kept
where it should be zero (round-off of the quadrature) makes every kernel a dense polynomial
— the 11-minute derivation of issue 16. The symmetry of the kernels tells: for an odd σ,
``I2ss = E[σ(x1) σ(x2)]`` is odd in the covariance c_12 exactly, term by term.
"""

import pytest
import sympy

from overlapdyn.derive.kernels import derive_kernels
from overlapdyn.derive.methods import HermiteTruncation
from overlapdyn.model.spec import Model, Protocol, Student, Target

C12 = sympy.Symbol("c_12")


def truncated_student_kernels(activation: str, order: int):
    model = Model(Target(k=1, expression="z1"), Student(p=1, activation=activation),
                  Protocol(eta=0.5))
    return derive_kernels(model, HermiteTruncation(order))


@pytest.mark.parametrize("activation", [
    "tanh",                       # odd: its parity is detected exactly
    "tanh(x) + 1e-13*He2(x)",     # no parity: the 1e-13 He2 part is below ZERO_TOLERANCE
])
def test_truncated_odd_student_gives_odd_kernels(activation):
    kernels = truncated_student_kernels(activation, 5)
    i2 = kernels["I2ss"].expr
    assert sympy.expand(i2.subs(C12, -C12) + i2) == 0
    # He1, He3, He5 only: E[σσ] = Σ_n n! c_n² c_12^n has three terms at unit variances
    at_unit = sympy.expand(i2.subs({"c_11": 1, "c_22": 1}))
    assert len(sympy.Add.make_args(at_unit)) == 3
    assert kernels.truncation_errors[f"σ = {activation}"] > 0
