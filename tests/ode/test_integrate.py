"""Integration: Saad–Solla plateaus and their escape, events, blow-up, state evolution."""

import numpy as np
import pytest
from configs import MODELS

from overlapdyn import activation
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.errors import ConfigError, IntegrationError, OverlapdynError, RunawayWarning
from overlapdyn.model import X
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.analysis import find_fixed_point
from overlapdyn.ode.events import OverlapCrosses, RiskBelow
from overlapdyn.ode.integrator import (
    METHODS,
    SaveAt,
    Solver,
    integrate,
)
from overlapdyn.ode.state import initial_overlaps
from overlapdyn.ode.state_evolution import evolve


def saad_solla(K: int) -> Model:
    return Model(Target(k=K, activation="erf", c_k=1.0), Student(p=K, activation="erf", c_p=1.0),
                 Protocol(eta=0.1), name=f"saad-solla-K{K}")


@pytest.mark.parametrize("K", [2, 3, 4])
def test_saad_solla_plateau_is_the_unspecialised_fixed_point(K):
    compiled = CompiledModel(saad_solla(K))
    rng = np.random.default_rng(0)
    M0 = 1e-3 * (1 + 1e-3 * rng.normal(size=(K, K)))  # nearly symmetric: a long plateau
    trajectory = integrate(compiled, (M0, 0.2 * np.eye(K)), SaveAt(20000, 400))
    assert trajectory.status == 0 and trajectory.risk[-1] < 1e-8  # specialised: learned
    speeds = np.array([np.abs(compiled.rhs(0, compiled.pack(M, Q))).max()
                       for M, Q in zip(trajectory.M, trajectory.Q, strict=True)])
    plateau = np.argmin(np.where((trajectory.t > 10) & (trajectory.risk > 1e-3), speeds,
                                 np.inf))
    fixed = find_fixed_point(compiled, trajectory.M[plateau], trajectory.Q[plateau])
    assert fixed.residual < 1e-12
    assert np.ptp(fixed.M) < 1e-8  # unspecialised: every student equally aligned
    assert trajectory.risk[plateau] == pytest.approx(fixed.risk, rel=3e-3)
    assert fixed.growth_rate > 0
    # the escape from the plateau grows like exp(λ₊ t)
    M1, Q1, _ = fixed.perturbed(1e-7)
    escape = integrate(compiled, (M1, Q1), SaveAt(3000, 300))
    star = compiled.pack(fixed.M, fixed.Q)
    distance = np.array([np.abs(compiled.pack(M, Q) - star).max()
                         for M, Q in zip(escape.M, escape.Q, strict=True)])
    window = (distance > 1e-6) & (distance < 1e-3)
    rate = np.polyfit(escape.t[window], np.log(distance[window]), 1)[0]
    assert rate == pytest.approx(fixed.growth_rate, rel=0.02)
    predicted = fixed.time_to_leave(1e-7, 1e-3)
    reached = escape.t[np.argmax(distance > 1e-3)]
    assert reached == pytest.approx(predicted, rel=0.1)


def test_events_stop_the_run_where_they_fire():
    # He3 needs a small η: the variance term ~ η² E[G²] (E[G²] in the thousands) must stay
    # below the gradient term ~ η·18m²(1 − m²)
    model = Model(Target(k=1, activation="He3"), Student(p=1, activation="He3", c_p=1.0),
                  Protocol(eta=0.002, spherical=True))
    trajectory = integrate(model, (np.array([[0.4]]), np.eye(1)), SaveAt(5000, 100),
                           events=[OverlapCrosses(0.9)])
    assert trajectory.status == 1 and "|M[*,*]|>0.9" in trajectory.events
    assert trajectory.M[-1, 0, 0] <= 0.9 + 1e-9 and trajectory.M[-1, 0, 0] > 0.5
    np.testing.assert_allclose(trajectory.Q[:, 0, 0], 1.0, atol=1e-9)  # spherical
    learned = integrate(saad_solla(2), (1e-2 * np.eye(2) + 1e-3, 0.2 * np.eye(2)), 5000.0,
                        events=[RiskBelow(1e-4)])
    assert learned.status == 1
    assert learned.t[-1] == learned.events["risk<0.0001"][0]  # event state kept
    assert learned.risk[-1] == pytest.approx(1e-4, rel=1e-6)


def test_the_progress_bar_follows_t_and_changes_nothing(monkeypatch):
    import tqdm.auto

    bars = []

    class Recorder(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "disable": True})
            self.seen, self.total = [], kwargs["total"]
            bars.append(self)

        def update(self, n=1):
            self.n += n
            self.seen.append(self.n)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recorder)
    init = (1e-2 * np.eye(2) + 1e-3, 0.2 * np.eye(2))
    shown = integrate(saad_solla(2), init, 50.0, progress=True)
    plain = integrate(saad_solla(2), init, 50.0)
    np.testing.assert_array_equal(shown.risk, plain.risk)
    (bar,) = bars
    assert bar.total == 50.0 and bar.seen[-1] == pytest.approx(50.0)
    assert len(bar.seen) > 5 and np.all(np.diff(bar.seen) > 0)


def test_blow_up_names_the_learning_rate_and_keeps_the_trajectory():
    model = Model(Target(k=2, activation="He3"), Student(p=2, activation="He3"),
                  Protocol(eta=0.05))
    init = initial_overlaps(model, 1000, 0)[:2]
    with pytest.raises(IntegrationError, match="learning rate η = 0.05") as info:
        integrate(model, init, SaveAt(5.0, 50))
    partial = info.value.trajectory
    assert partial.status == -1 and partial.t.size > 10 and np.all(np.isfinite(partial.Q))
    kept = integrate(model, init, SaveAt(5.0, 50), on_failure="return")
    assert kept.status == -1 and kept.t[-1] == partial.t[-1]


def test_the_solver_is_a_checked_value():
    assert Solver() == Solver("LSODA", 1e-8, 1e-10, "auto")
    assert Solver(rtol=1) == Solver(rtol=1.0) and isinstance(Solver(rtol=1).rtol, float)
    assert {Solver(m) for m in METHODS} == {Solver(m) for m in METHODS[::-1]}  # hashable
    for method, jacobian in (("Radau", "exact"), ("LSODA", "exact"), ("RK45", "solver")):
        Solver(method, jacobian=jacobian)
    for bad, message in [(dict(method="Euler"), "Solver.method must be one of .*DOP853"),
                         (dict(rtol=0.0), "Solver.rtol must be > 0"),
                         (dict(atol=float("inf")), "Solver.atol must be finite"),
                         (dict(atol="1e-9"), "Solver.atol must be a number"),
                         (dict(rtol=True), "Solver.rtol must be a number"),
                         (dict(jacobian="symbolic"), "Solver.jacobian must be 'auto'"),
                         (dict(method="DOP853", jacobian="exact"), "uses no Jacobian")]:
        with pytest.raises(ConfigError, match=message):
            Solver(**bad)
    model = MODELS["He2 committee p=k=2"]
    with pytest.raises(OverlapdynError, match="solver must be a Solver"):
        integrate(model, (np.full((2, 2), 0.1), np.eye(2)), 1.0, solver="DOP853")
    with pytest.raises(ConfigError, match="events must be a sequence"):
        integrate(model, (np.full((2, 2), 0.1), np.eye(2)), 1.0, events=RiskBelow(0.1))


FINITE_TIME_BLOWUP = """
import overlapdyn as od
model = od.Model(od.Target(k=1, activation="linear"), od.Student(p=1, activation="linear"),
                 od.Protocol(eta=5.0))
try:
    od.integrate(model, od.initial_overlaps(model, 100, seed=2), od.SaveAt(3.0, 20))
except od.IntegrationError as error:
    print("stopped:", error.trajectory.t[-1])
"""


@pytest.mark.parametrize("method", ["LSODA", "DOP853", "Radau"])
def test_finite_time_blow_up_stops_every_solver(method):
    """dQ/dt ∝ Q² reaches infinity at t ≈ 1.19: LSODA used to loop forever inside its
    Fortran code approaching it. Run in a child process so that a regression fails here
    instead of hanging the suite."""
    import subprocess
    import sys

    # Radau with the solver's own Jacobian: the exact one is a second cold build, and its
    # values are tested in tests/compile/test_jacobian.py
    solver = f"od.Solver({method!r}, jacobian='solver')"
    script = FINITE_TIME_BLOWUP.replace("od.SaveAt(3.0, 20))",
                                        f"od.SaveAt(3.0, 20), solver={solver})")
    # the limit only turns a hang into a failure: far beyond what a loaded machine needs
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr
    stopped = float(done.stdout.split("stopped:")[1])
    assert 0.5 < stopped < 1.2


def test_initial_overlaps_and_bad_init():
    model = MODELS["He2 committee p=k=2"]
    M, Q, a = initial_overlaps(model, 4000, 3)
    assert M.shape == (2, 2) and np.abs(M).max() < 5 / np.sqrt(4000)
    np.testing.assert_allclose(Q, np.eye(2), atol=0.1)
    with pytest.raises(ValueError, match="not positive semi-definite"):
        integrate(model, (np.full((2, 2), 2.0), np.eye(2)), 1.0)
    with pytest.raises(ValueError, match="at least p \\+ k"):
        initial_overlaps(model, 3)


def test_state_evolution_matches_one_large_batch_step():
    """SPEC's state-evolution map against an actual large-batch step at finite d."""
    model = Model(Target(k=1, activation="He2"), Student(p=2, activation="He2"),
                  Protocol(eta=0.3))
    d, alpha, repeats = 300, 2.0, 300
    rng = np.random.default_rng(1)
    U = np.linalg.qr(rng.normal(size=(d, 1)))[0].T * np.sqrt(d)
    W0 = rng.normal(size=(2, d)) * 0.9 + 0.5 * U
    M0, Q0 = W0 @ U.T / d, W0 @ W0.T / d
    sigma = activation("He2")
    dsigma = activation(2 * X)
    c_p, n_b = model.student.c_p, int(alpha * d)
    moved_M, moved_Q = [], []
    for _ in range(repeats):
        x = rng.normal(size=(n_b, d))
        lam, z = x @ W0.T / np.sqrt(d), x @ U.T / np.sqrt(d)
        y = sigma(z[:, 0])  # k = 1: c_k = 1/k = 1
        e = y - c_p * sigma(lam).sum(axis=1)
        G = c_p * e[:, None] * dsigma(lam)
        W = W0 + model.protocol.eta * np.sqrt(d) / n_b * G.T @ x
        moved_M.append(W @ U.T / d)
        moved_Q.append(W @ W.T / d)
    step = evolve(model, (M0, Q0), 1, alpha)
    np.testing.assert_allclose(np.mean(moved_M, 0), step.M[1], atol=0.02)
    np.testing.assert_allclose(np.mean(moved_Q, 0), step.Q[1], rtol=0.03, atol=0.03)


def test_staircase_is_learned_direction_by_direction():
    """z1 + z1 z2 + z1 z2 z3: the overlaps with z1, z2, z3 rise in that order (saddle to
    saddle), with a student able to express the degree-3 term."""
    model = Model(Target(k=3, expression="z1 + z1*z2 + z1*z2*z3"),
                  Student(p=4, activation="x + x**2 + x**3/6"), Protocol(eta=0.1, n_b=16))
    trajectory = integrate(model, initial_overlaps(model, 10000, 0)[:2], SaveAt(5000, 300))
    alignment = np.abs(trajectory.M).max(axis=1)  # (T, k): best student per direction
    rise = [trajectory.t[np.argmax(alignment[:, r] > 0.2)] for r in range(3)]
    assert np.all(alignment[-1] > 0.2)
    assert rise[0] < rise[1] < rise[2], rise
    assert trajectory.risk[-1] < 0.5 * trajectory.risk[0]


def test_a_run_that_runs_away_without_blowing_up_is_warned_and_one_that_learns_is_not():
    import warnings

    def run(eta):
        model = Model(Target(k=2, activation="erf"), Student(p=2, activation="erf"),
                      Protocol(eta=eta))
        M0, Q0, _ = initial_overlaps(model, d=1000, seed=0)
        return integrate(model, (M0, Q0), 3000.0)

    with pytest.warns(RunawayWarning, match=r"Q_11 grew from 0.956 to 395 by t = 3000, more "
                                            r"than 100 times its start; with η = 20"):
        runaway = run(20.0)
    assert runaway.outcome.name == "REACHED_END" and 0.05 < runaway.risk[-1] < 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RunawayWarning)
        learnt = run(8.0)   # a large rate that still learns: Q_jj → 1, R → 0
    np.testing.assert_allclose(np.diagonal(learnt.Q[-1]), 1.0, atol=1e-6)


def test_units_that_grow_to_cancel_each_other_are_named_not_blamed_on_eta():
    """Four erf units for two teacher units, a = 1 fixed, label noise: units 3 and 4 end on
    one line with opposite signs (erf is odd) and grow together without end, while the risk
    is that of a learned run. The warning says so instead of asking for a smaller η."""
    model = Model(Target(k=2, activation="erf", c_k=1.0, noise=0.01),
                  Student(p=4, activation="erf", c_p=1.0), Protocol(eta=0.2))
    M0, Q0, _ = initial_overlaps(model, d=10_000, seed=0)
    with pytest.warns(RunawayWarning, match=r"Q_33 grew .* unit 4 grew with it along the same "
                                            r"line \(cosine -1\.0000\): two units whose "
                                            r"outputs cancel") as caught:
        run = integrate(model, (M0, Q0), SaveAt(1e8, 100))
    assert "lower η" not in str(caught[0].message)
    assert run.risk[-1] - 0.005 < 1e-3           # learned, up to the noise floor Δ/2
