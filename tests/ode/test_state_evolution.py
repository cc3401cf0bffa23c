"""The compiled state evolution: the same map as a plain NumPy loop, stop events, blow-ups."""

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from configs import MODELS

from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.errors import IntegrationError, RunawayWarning
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.integrator import OverlapCrosses, RiskBelow
from overlapdyn.ode.state import initial_overlaps, overlap_covariance
from overlapdyn.ode.state_evolution import evolve
from overlapdyn.ode.trajectory import Outcome


def reference_step(compiled: CompiledModel, M, Q, a, alpha):
    """SPEC's map written with NumPy from the drift's expectations (the implementation the
    compiled loop replaced): M' = M + ηE[Gzᵀ], Q' = Q + η(A^λ + A^λᵀ) + η²(E[Gφ]Ω⁺E[Gφ]ᵀ +
    B/α), a' = a + η_a c_p D; spherical: renormalised."""
    spec = compiled.model
    eta = spec.protocol.eta
    terms = compiled.terms(M, Q, a)
    grad = np.hstack([terms.Al, terms.Az])
    omega = overlap_covariance(M, Q, spec.target.gram)
    projected = grad @ np.linalg.lstsq(omega, grad.T, rcond=None)[0]
    Q = Q + eta * (terms.Al + terms.Al.T) + eta**2 * (projected + terms.B / alpha)
    M = M + eta * terms.Az
    if spec.student.train_readout:
        a = a + spec.student.eta_a * spec.student.c_p * terms.D
    if spec.protocol.spherical:
        norms = np.sqrt(np.diag(Q))
        Q, M = Q / np.outer(norms, norms), M / norms[:, None]
    return M, Q, a


def erf_p2_k1() -> Model:
    return Model(Target(k=1, activation="erf"), Student(p=2, activation="erf", c_p=1.0),
                 Protocol(eta=0.5))


# the drift's features, on few generated modules (each costs a Numba compile of the loop):
# committees share one module per activation whatever p, k, η and the loss
CASES = {
    "He2 committee p=k=2": (MODELS["He2 committee p=k=2"], 4.0),
    "correlation loss He2": (MODELS["correlation loss He2, n_b=8"], 2.0),
    "multi-index, noise, trained readout, spherical": (
        Model(Target(k=2, expression="He2(z1)*He1(z2) + z2", noise=0.1),
              Student(p=3, activation="He2", a=[1.0, -0.5, 0.3], train_readout=True,
                      eta_a=0.4), Protocol(eta=0.2, spherical=True)), 4.0),
    "erf, equal students (Ω singular)": (erf_p2_k1(), 2.0),
}


@pytest.mark.parametrize("name", CASES)
def test_the_compiled_map_is_the_numpy_map(name):
    model, alpha = CASES[name]
    compiled = CompiledModel(model)
    M, Q, a = initial_overlaps(model, 400, seed=1)
    M = M + 0.3 / np.sqrt(model.k)   # away from the symmetric start: every term matters
    Q = Q + M @ np.linalg.solve(model.target.gram, M.T)
    if model.protocol.spherical:
        Q, M = Q / np.sqrt(np.outer(np.diag(Q), np.diag(Q))), M / np.sqrt(np.diag(Q))[:, None]
    if name.startswith("erf"):
        M, Q = np.full((2, 1), 0.3), np.full((2, 2), 0.5)      # w_1 = w_2
    steps = 12
    with warnings.catch_warnings():
        # the He2 committee runs away within these steps (Q_22: 1.2 → 2e3): numerics checked
        warnings.simplefilter("ignore", RunawayWarning)
        trajectory = evolve(compiled, (M, Q, a), steps, alpha)
    assert trajectory.status == 0 and trajectory.t.tolist() == list(range(steps + 1))
    for step in range(1, steps + 1):
        M, Q, a = reference_step(compiled, M, Q, a, alpha)
        np.testing.assert_allclose(trajectory.M[step], M, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(trajectory.Q[step], Q, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(trajectory.a[step], a, rtol=1e-11, atol=1e-13)
        assert trajectory.risk[step] == pytest.approx(compiled.risk(M, Q, a), rel=1e-10,
                                                      abs=1e-14)


def test_no_python_runs_per_step(monkeypatch):
    """The map's steps run inside one compiled call: the drift's Python entry points are
    not touched after the initial state's risk."""
    compiled = CompiledModel(erf_p2_k1())

    def refuse(*args, **kwargs):
        raise AssertionError("a Python evaluation inside the state evolution's loop")

    init = (np.array([[0.2], [0.1]]), np.eye(2))
    monkeypatch.setattr(compiled, "terms", refuse)
    monkeypatch.setattr(compiled, "rhs", refuse)
    evolve(compiled, init, 50, 2.0)
    monkeypatch.setattr(compiled, "risk", refuse)   # the risk comes from the loop too
    with pytest.raises(AssertionError, match="Python evaluation"):
        evolve(compiled, init, 50, 2.0)             # … but for the initial state


@dataclass(frozen=True)
class PlainEvent:
    """Any object with the event protocol of integrate: name, function, terminal, direction."""

    name: str
    function: Callable
    terminal: bool
    direction: float


def test_events_stop_the_state_evolution_where_they_fire():
    compiled = CompiledModel(erf_p2_k1())
    init = (np.array([[0.05], [0.02]]), np.eye(2))
    free = evolve(compiled, init, 400, 2.0)
    assert free.status == 0 and free.risk[-1] < 1e-3
    # read off the free run: the first step with risk ≤ 1e-3, and every step where max |M|
    # rose through 0.45 (it rises, falls back as the students share the teacher, rises again)
    risk_step = int(np.argmax(free.risk <= 1e-3))
    above = np.abs(free.M).max(axis=(1, 2)) >= 0.45
    rises = tuple(float(s) for s in np.flatnonzero(above[1:] & ~above[:-1]) + 1)
    assert len(rises) == 2 and rises[-1] < risk_step
    stopped = evolve(compiled, init, 400, 2.0,
                     events=[RiskBelow(1e-3), OverlapCrosses(0.45, terminal=False)])
    assert stopped.outcome is Outcome.EVENT and stopped.status == 1
    assert stopped.events == {"risk<0.001": (risk_step,), "|M[*,*]|>0.45": rises}
    assert stopped.t[-1] == risk_step                       # the event's state is kept
    np.testing.assert_array_equal(stopped.Q, free.Q[:risk_step + 1])
    np.testing.assert_array_equal(stopped.risk, free.risk[:risk_step + 1])
    # an event that never fires, and one whose direction never occurs (the risk only falls)
    quiet = evolve(compiled, init, 400, 2.0, events=[
        RiskBelow(1e-12), PlainEvent("risk up", lambda M, Q, a, risk: risk - 1e-2, True, 1.0)])
    assert quiet.status == 0 and quiet.events == {} and quiet.t[-1] == 400
    np.testing.assert_array_equal(quiet.M, free.M)


def test_a_blow_up_keeps_the_steps_before_it():
    model = Model(Target(k=1, activation="He2"), Student(p=2, activation="He2"),
                  Protocol(eta=1.0))
    for events in ((), [RiskBelow(1e-9)]):
        with pytest.raises(IntegrationError, match="blew up at step") as info:
            evolve(model, (np.array([[0.1], [0.2]]), np.eye(2)), 500, 1.0, events=events)
        partial = info.value.trajectory
        assert partial.status == -1 and 1 < partial.t.size < 500
        assert np.all(np.isfinite(partial.Q)) and np.abs(partial.Q).max() <= 1e8
        assert f"at step {partial.t.size}" in str(info.value)
