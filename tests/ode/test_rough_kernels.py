"""Quadrature of a kinked activation is rough: integrate says so when the tolerance asks for
more than the kernels can give, and names the way out."""

import warnings

import numpy as np
import pytest

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.compile import CompiledModel
from overlapdyn.derive import Quadrature
from overlapdyn.errors import RoughKernelWarning
from overlapdyn.ode import SaveAt, Solver, integrate

RELU = Model(Target(k=1, activation="relu"), Student(p=1, activation="relu"), Protocol(eta=0.1))
INIT = (np.array([[0.1]]), np.array([[1.0]]))


def test_quadrature_of_relu_at_a_tight_tolerance_warns_and_names_the_closed_forms():
    compiled = CompiledModel(RELU, Quadrature(4))
    with pytest.warns(RoughKernelWarning, match="ClosedForm"):
        integrate(compiled, INIT, SaveAt(0.1, 3, log=False))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RoughKernelWarning)
        integrate(compiled, INIT, SaveAt(0.1, 3, log=False), solver=Solver(rtol=1e-4))


def test_the_closed_forms_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RoughKernelWarning)
        trajectory = integrate(RELU, INIT, SaveAt(0.1, 3, log=False))
    assert trajectory.kernels == "closed-form"
