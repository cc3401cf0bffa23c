"""Quadrature of a kinked activation is rough: integrate says so when the tolerance asks for
more than the kernels can give, and names the way out."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.errors import RoughKernelWarning
from overlapdyn.ode import SaveAt, Solver, integrate
from overlapdyn.ode.integrator import _warn_if_rough

RELU = Model(Target(k=1, activation="relu"), Student(p=1, activation="relu"), Protocol(eta=0.1))
INIT = (np.array([[0.1]]), np.array([[1.0]]))


def test_quadrature_of_relu_at_a_tight_tolerance_warns_and_names_the_closed_forms():
    # what the check reads of a compiled model: its method and its model (no compile here)
    quadrature = SimpleNamespace(method="quadrature", model=RELU)
    with pytest.warns(RoughKernelWarning, match="ClosedForm"):
        _warn_if_rough(quadrature, Solver())
    tanh_student = Model(Target(k=1, expression="relu(z1)"), Student(p=1, activation="tanh"),
                         Protocol(eta=0.1))
    with pytest.warns(RoughKernelWarning, match="loosen the solver"):
        _warn_if_rough(SimpleNamespace(method="quadrature", model=tanh_student), Solver())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RoughKernelWarning)
        _warn_if_rough(quadrature, Solver(rtol=1e-4))
        _warn_if_rough(SimpleNamespace(method="quadrature", model=Model(
            Target(k=1, activation="tanh"), Student(p=1, activation="tanh"),
            Protocol(eta=0.1))), Solver())


def test_the_closed_forms_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RoughKernelWarning)
        trajectory = integrate(RELU, INIT, SaveAt(0.1, 3, log=False))
    assert trajectory.kernels == "closed-form"
