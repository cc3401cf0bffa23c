"""The state evolution refuses a number of steps that would silently return only the start."""

import numpy as np
import pytest

from overlapdyn.errors import OverlapdynError
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.state_evolution import evolve

LINEAR = Model(Target(k=1, activation="linear"), Student(p=1, activation="linear"),
               Protocol(eta=0.1))


@pytest.mark.parametrize("steps", [0, -3, 2.0, True])
def test_evolve_refuses_steps_that_are_not_a_positive_integer(steps):
    with pytest.raises(OverlapdynError, match="steps ≥ 1"):
        evolve(LINEAR, (np.array([[0.1]]), np.array([[1.0]])), steps, 0.5)


def test_one_step_is_two_states():
    trajectory = evolve(LINEAR, (np.array([[0.1]]), np.array([[1.0]])), 1, 0.5)
    assert trajectory.t.tolist() == [0.0, 1.0]
