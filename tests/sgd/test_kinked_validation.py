"""A relu committee's closed-form ODE against one-pass SGD: the gaps shrink like d^(−1/2)."""

import numpy as np
import pytest

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.compile import CompiledModel
from overlapdyn.sgd.validation import validate

TIMES = np.linspace(0.0, 20.0, 11)


@pytest.mark.parametrize("p, c_p, trained", [(2, 1.0, False), (3, 0.5, True)])
def test_relu_committee_ode_matches_sgd(p, c_p, trained):
    """relu students on relu(z1) + relu(z2) (p = k = 2, and p = 3 with a trained readout):
    the overlaps' gaps shrink like d^(−1/2); the risk's at least as fast (near its minimum
    the risk is quadratic in the overlaps' errors, so its gap can shrink like 1/d)."""
    model = Model(Target(k=2, activation="relu"),
                  Student(p=p, activation="relu", c_p=c_p, train_readout=trained,
                          eta_a=0.5 if trained else 0.0), Protocol(eta=0.5))
    assert CompiledModel(model).method == "closed-form"
    report = validate(model, (100, 400, 1600), TIMES, seeds=4)
    for quantity in ("M", "Q") + (("a",) if trained else ()):
        assert -0.75 < report.exponents[quantity] < -0.3, report.describe()
    assert report.exponents["risk"] < -0.3, report.describe()
    assert report.gaps["risk"][-1].mean() < 5e-3
