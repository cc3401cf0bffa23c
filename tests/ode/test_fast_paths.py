"""The speed paths of integrate and evolve against the code they replaced: the solver driven
without solve_ivp's event machinery, the drift's guards inside the compiled call, the
batched risk and health check, and the state evolution's Cholesky form of E[Gφ]ᵀΩ⁺E[Gφ]
against NumPy's least squares."""

import numpy as np
import pytest
import scipy.integrate
from configs import MODELS

from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.errors import OverlapdynError
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.integrator import (
    SaveAt,
    Solver,
    _BlowUp,
    _Budget,
    _guarded_rhs,
    _healthy,
    _solve_budgeted,
    integrate,
)
from overlapdyn.ode.state import initial_overlaps, overlap_covariance
from overlapdyn.ode.state_evolution import evolve


def saad_solla() -> CompiledModel:
    return CompiledModel(Model(Target(k=2, activation="erf", c_k=1.0),
                               Student(p=2, activation="erf", c_p=1.0), Protocol(eta=0.5)))


def through_solve_ivp(compiled, y0, t_eval, solver, limit):
    """What integrate ran before: solve_ivp with the budget's event."""
    budget = _Budget(limit)
    return scipy.integrate.solve_ivp(
        _guarded_rhs(compiled, 1e8, budget), (0.0, t_eval[-1]), y0, method=solver.method,
        t_eval=t_eval, events=[budget.solve_ivp_event()], rtol=solver.rtol,
        atol=solver.atol), budget


@pytest.mark.parametrize("method", ["LSODA", "RK45"])
@pytest.mark.parametrize("limit", [10**6, 60])
def test_the_driver_is_solve_ivp_step_for_step(method, limit):
    """Same saved states, bit for bit, the same evaluations, status, message and budget
    event — on a whole run and on one the budget cuts (the event's root found by brentq)."""
    compiled = saad_solla()
    M, Q, _ = initial_overlaps(compiled.model, 10_000, seed=0)
    y0 = compiled.pack(M, Q)
    t_eval = SaveAt(50.0, 30).grid()
    solver = Solver(method)
    reference, spent = through_solve_ivp(compiled, y0, t_eval, solver, limit)
    budget = _Budget(limit)
    driven = _solve_budgeted(_guarded_rhs(compiled, 1e8, budget), 50.0, y0, t_eval, solver,
                             budget, {})
    assert reference.status == driven.status == (0 if limit > 1000 else 1)
    assert driven.message == reference.message and driven.nfev == reference.nfev
    np.testing.assert_array_equal(driven.t, reference.t)
    np.testing.assert_array_equal(driven.y, reference.y)
    np.testing.assert_array_equal(driven.t_events[0], reference.t_events[0])
    np.testing.assert_array_equal(driven.y_events[0], reference.y_events[0])
    assert budget.count == spent.count and budget.cut == spent.cut


def test_integrate_is_unchanged_with_events():
    """With an event of the user's, integrate keeps solve_ivp; without one it drives the
    solver itself: the same run either way."""
    compiled = saad_solla()
    M, Q, _ = initial_overlaps(compiled.model, 10_000, seed=0)
    free = integrate(compiled, (M, Q), SaveAt(50.0, 30))
    never = _Event("never", lambda M, Q, a, risk: 1.0)
    watched = integrate(compiled, (M, Q), SaveAt(50.0, 30), events=[never])
    np.testing.assert_array_equal(free.Q, watched.Q)
    np.testing.assert_array_equal(free.risk, watched.risk)
    assert never.calls > 0 and free.solver.nfev == watched.solver.nfev


class _Event:
    """An event that never fires and counts its evaluations."""

    def __init__(self, name, function):
        self.name, self._function, self.terminal, self.direction = name, function, True, 0
        self.calls = 0

    def function(self, M, Q, a, risk):
        self.calls += 1
        return self._function(M, Q, a, risk)


def test_the_compiled_guards():
    """The drift where sound; zeros where the state or the drift is not finite; an empty
    array past the blow-up norm, which the solver's right-hand side turns into _BlowUp."""
    compiled = saad_solla()
    drift = compiled.guarded_rhs(1e3)
    y = compiled.pack(np.array([[0.3, 0.1], [0.2, 0.4]]), np.array([[1.0, 0.2], [0.2, 0.8]]))
    np.testing.assert_array_equal(drift(y), compiled.rhs(0.0, y))
    for bad in (np.nan, np.inf):
        broken = y.copy()
        broken[3] = bad
        np.testing.assert_array_equal(drift(broken), np.zeros_like(y))
    # Q_12 > √(Q_11 Q_22): outside the PSD cone, the erf kernels' arcsin is not finite
    outside = compiled.pack(np.zeros((2, 2)), np.array([[1.0, 3.0], [3.0, 1.0]]))
    assert not np.all(np.isfinite(compiled.rhs(0.0, outside)))
    np.testing.assert_array_equal(drift(outside), np.zeros_like(y))
    huge = y.copy()
    huge[0] = 2e3
    assert drift(huge).shape == (0,)
    with pytest.raises(_BlowUp):
        _guarded_rhs(compiled, 1e3, _Budget(10))(0.5, huge)


def test_the_batched_risk_is_the_risk_of_each_state():
    compiled = CompiledModel(MODELS["trained readout + weight decay"])   # a enters R
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(5):
        M, Q, a = initial_overlaps(compiled.model, 50, seed=rng)
        rows.append(compiled.pack(M + 0.1 * rng.normal(size=M.shape), Q,
                                  a + 0.2 * rng.normal(size=a.shape)))
    states = np.array(rows)
    expected = [compiled.risk(*compiled.unpack(row)) for row in states]
    np.testing.assert_array_equal(compiled.risks(states), expected)
    np.testing.assert_array_equal(compiled.risks(np.asfortranarray(states)), expected)
    with pytest.raises(OverlapdynError, match="states must have shape"):
        compiled.risks(states[:, 1:])


def test_the_batched_health_check_is_the_one_per_state():
    """Finite, below half the blow-up norm, Ω PSD to 10⁻⁸·scale: each state as before."""
    compiled = saad_solla()
    P = compiled.model.target.gram
    M, Q = np.array([[0.3, 0.1], [0.2, 0.4]]), np.array([[1.0, 0.2], [0.2, 0.8]])
    states = [compiled.pack(M, Q), compiled.pack(M, Q + 1e-3), compiled.pack(M, 3 * Q)]
    bent = Q.copy()
    bent[0, 1] = bent[1, 0] = 1.2                       # Ω indefinite
    states.append(compiled.pack(M, bent))
    states.append(compiled.pack(M, Q * (1 - 1e-12)))
    nan, big = compiled.pack(M, Q), compiled.pack(M, Q)
    nan[2], big[5] = np.nan, 6e7
    states += [nan, big]
    ys = np.array(states).T

    def one(y):   # the check integrate made state by state
        if not np.all(np.isfinite(y)) or np.abs(y).max() > 0.5e8:
            return False
        M, Q, _ = compiled.unpack(y)
        return np.linalg.eigvalsh(overlap_covariance(M, Q, P))[0] > -1e-8 * 2.0

    expected = [one(y) for y in ys.T]
    assert expected == [True, True, True, False, True, False, False]
    assert _healthy(compiled, ys, 2.0, 1e8).tolist() == expected


def reference_steps(compiled, M, Q, alpha, steps):
    """SPEC's map with NumPy's least squares for Ω⁺ (what the compiled loop computed
    with its SVD pseudo-inverse before)."""
    eta = compiled.model.protocol.eta
    for _ in range(steps):
        terms = compiled.terms(M, Q)
        grad = np.hstack([terms.Al, terms.Az])
        omega = overlap_covariance(M, Q, compiled.model.target.gram)
        projected = grad @ np.linalg.lstsq(omega, grad.T, rcond=None)[0]
        Q = Q + eta * (terms.Al + terms.Al.T) + eta**2 * (projected + terms.B / alpha)
        M = M + eta * terms.Az
    return M, Q


@pytest.mark.parametrize("gap", [1e-3, 1e-7, 0.0])
def test_the_cholesky_form_near_a_singular_omega(gap):
    """Two students a distance √gap apart (Ω near singular: its pivot ≈ gap), and equal: the
    semi-definite Cholesky form agrees with least squares to rounding."""
    compiled = CompiledModel(Model(Target(k=1, activation="erf"),
                                   Student(p=2, activation="erf", c_p=1.0), Protocol(eta=0.5)))
    M = np.array([[0.3], [0.3]])
    Q = np.array([[0.5, 0.5 - gap / 2], [0.5 - gap / 2, 0.5]])
    run = evolve(compiled, (M, Q), 20, 2.0)
    for steps in (1, 20):
        M_ref, Q_ref = reference_steps(compiled, M, Q, 2.0, steps)
        np.testing.assert_allclose(run.M[steps], M_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(run.Q[steps], Q_ref, rtol=1e-12, atol=1e-14)


def test_the_risk_from_the_step_is_the_risk():
    """Each state's risk in the map comes from the kernel values of the step taken from it:
    the same number as CompiledModel.risk, bit for bit."""
    compiled = saad_solla()
    M, Q, _ = initial_overlaps(compiled.model, 1000, seed=2)
    run = evolve(compiled, (M + 0.2, Q + 0.1), 30, 2.0)
    expected = [compiled.risk(run.M[i], run.Q[i]) for i in range(len(run.t))]
    np.testing.assert_array_equal(run.risk, expected)
