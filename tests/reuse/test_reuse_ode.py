"""Online SGD with reused samples: the composite drift against one-pass SGD (ρ = 0, k = 1),
against the exact composite of a linear student, against finite-d simulation, and its
input checks. One generated module serves every test (linear student, target z1 + He2(z1))."""

import numpy as np
import pytest

from overlapdyn.compile import CompiledModel
from overlapdyn.errors import ConfigError, IntegrationError
from overlapdyn.model import Model, Protocol, Student, Target
from overlapdyn.ode import SaveAt
from overlapdyn.reuse import (
    OnlineReuse,
    ReuseBlowUpError,
    ReuseDrift,
    ReuseQuadrature,
    ReuseRun,
    integrate_reuse,
    simulate_reuse,
)

TARGET = "z1 + He2(z1)"


def linear_model(p=2, a=(1.0, 0.5), eta=0.4, n_b=1, loss="mse", noise=0.0) -> Model:
    return Model(Target(k=1, expression=TARGET, noise=noise),
                 Student(p=p, activation="linear", a=a[:p]), Protocol(eta=eta, n_b=n_b, loss=loss))


STATE = (np.array([[0.3], [-0.2]]), np.array([[0.9, 0.1], [0.1, 0.7]]))


@pytest.mark.parametrize("reuse", [dict(kind="repeat", repeats=1),
                                   dict(kind="extragradient", rho=0.0)])
def test_no_reuse_is_the_compiled_one_pass_drift(reuse):
    model = linear_model(eta=0.7, n_b=3)
    compiled = CompiledModel(model)
    drift = ReuseDrift(OnlineReuse(model, **reuse))
    y = compiled.pack(*STATE)
    np.testing.assert_allclose(drift.rhs(0.0, y), compiled.rhs(0.0, y), rtol=0, atol=1e-8)
    assert drift.terms(*STATE)[3] == pytest.approx(compiled.risk(*STATE), abs=1e-8)


def exact_terms(model: Model, M: np.ndarray, Q: np.ndarray):
    """The one-pass E[G zᵀ], E[G λᵀ], E[G Gᵀ] of a linear student (G = v e, v = c_p a) for
    y = z1 + He2(z1) + √Δ ξ, P = 1: E[y z] = 1, E[y λ] = M, E[y²] = 3 + Δ."""
    v = model.student.c_p * np.array(model.student.a)
    noise = model.target.noise
    if model.protocol.loss == "mse":
        ez = 1.0 - M.T @ v                                     # E[e z]
        el = M[:, 0] - Q @ v                                   # E[e λ]
        ee = 3.0 + noise - 2 * v @ M[:, 0] + v @ Q @ v         # E[e²]
    else:
        ez, el, ee = np.ones(1), M[:, 0], 3.0 + noise
    return np.outer(v, ez), np.outer(v, el), ee * np.outer(v, v)


@pytest.mark.parametrize("loss", ["mse", "correlation"])
@pytest.mark.parametrize("reuse", [dict(kind="repeat", repeats=3),
                                   dict(kind="extragradient", rho=0.8),
                                   dict(kind="extragradient", rho=-0.5)])
def test_the_composite_of_a_linear_student_is_exact(loss, reuse):
    # G̃ = s G with s = Σ_{i<k} r^i (repeat) or r (extragradient), r = 1 − shift·‖v‖² (mse;
    # the error does not move with the correlation loss: s = k or 1)
    model = linear_model(eta=0.6, n_b=2, loss=loss)
    spec = OnlineReuse(model, **reuse)
    v2 = float(np.sum((model.student.c_p * np.array(model.student.a)) ** 2))
    r = 1.0 - spec.shift * v2 if loss == "mse" else 1.0
    s = r if spec.kind == "extragradient" else sum(r ** i for i in range(spec.repeats))
    Az, Al, B = exact_terms(model, *STATE)
    got = ReuseDrift(spec).terms(*STATE)
    for value, exact in zip(got[:3], (s * Az, s * Al, s * s * B), strict=True):
        np.testing.assert_allclose(value, exact, rtol=1e-10, atol=1e-12)
    if loss == "mse" or spec.kind == "repeat":
        assert abs(s - 1.0) > 0.1   # the reuse changes the drift


def test_label_noise_enters_the_composite_through_the_extra_normal():
    model = linear_model(p=1, eta=0.5, noise=0.25)
    spec = OnlineReuse(model, "repeat", repeats=2)
    drift = ReuseDrift(spec)
    assert drift.dim == 3 and drift.label.startswith("Gauss–Hermite")
    M, Q = np.array([[0.4]]), np.array([[0.5]])
    s = 1.0 + (1.0 - 0.5 * 1.0)
    np.testing.assert_allclose(drift.terms(M, Q)[2], s * s * exact_terms(model, M, Q)[2],
                               rtol=1e-10)


@pytest.fixture(scope="module")
def repeat_runs():
    # n_b = 2: the repeated steps move a sample's field by (η/n_b) G, not η G
    model = linear_model(eta=0.5, n_b=2)
    spec = OnlineReuse(model, "repeat", repeats=3)
    start = (np.zeros((2, 1)), np.eye(2))
    times = np.linspace(0.0, 3.0, 7)
    drift = ReuseDrift(spec)
    sim = simulate_reuse(spec, 500, times, seeds=12, init=start, drift=drift)
    return (sim, integrate_reuse(spec, start, SaveAt.at(times), drift=drift),
            integrate_reuse(OnlineReuse(model, "repeat", repeats=1), start, SaveAt.at(times)))


def test_the_reuse_ode_follows_the_simulation(repeat_runs):
    sim, ode, one_pass = repeat_runs
    for quantity in ("M", "Q"):
        runs = np.stack([getattr(tr, quantity) for tr in sim.trajectories])
        mean, sem = runs.mean(0), runs.std(0, ddof=1) / np.sqrt(len(runs))
        gap = np.abs(mean - getattr(ode.trajectory, quantity))
        # 4 seed errors, plus the O(1/d) bias of the finite-d dynamics
        assert np.all(gap < 4 * sem + 3.0 / 500), quantity
        # the one-pass ODE is far outside that band: the test can tell the protocols apart
        assert np.max(np.abs(mean - getattr(one_pass.trajectory, quantity))) > 5 * (
            np.max(4 * sem) + 3.0 / 500)


def test_a_reuse_run_saves_and_loads(repeat_runs, tmp_path):
    ode = repeat_runs[1]
    assert ode.trajectory.t[-1] == 3.0 and np.all(ode.drift_error < 1e-12)
    path = tmp_path / "run.npz"
    ode.save(path)
    back = ReuseRun.load(path)
    assert back.spec == ode.spec and back.rule == ode.rule
    np.testing.assert_array_equal(back.M, ode.M)
    assert "repeat k = 3" in back.describe()


@pytest.mark.parametrize("reuse", [dict(kind="repeat", repeats=4),
                                   dict(kind="extragradient", rho=60.0)])
def test_an_overshooting_composite_is_refused(reuse):
    # linear student, ‖v‖² = 1: r = 1 − η (repeat, η = 5) or 1 − ρ: |r| ≫ 1
    model = linear_model(p=1, a=(1.0,), eta=5.0 if reuse["kind"] == "repeat" else 0.1)
    model = Model(model.target, Student(p=1, activation="linear", c_p=1.0), model.protocol)
    with pytest.raises(ReuseBlowUpError, match="lower") as error:
        integrate_reuse(OnlineReuse(model, **reuse), (np.zeros((1, 1)), np.eye(1)), 1.0)
    assert isinstance(error.value, IntegrationError)


def test_a_blow_up_during_the_run_is_named():
    # G̃ = G/2 (gain 0.5), but η·s = 2.5 > 2: the η² term wins and Q grows like e^(1.25 t)
    model = Model(Target(k=1, expression=TARGET), Student(p=1, activation="linear", c_p=1.0),
                  Protocol(eta=5.0))
    spec = OnlineReuse(model, "extragradient", rho=0.5)
    with pytest.raises(ReuseBlowUpError, match="ρ = 0.5"):
        integrate_reuse(spec, (np.zeros((1, 1)), np.eye(1)), SaveAt(50.0, 12),
                        blowup_norm=1e4, quadrature=ReuseQuadrature(nodes=8))


def test_unsupported_protocols_are_refused():
    model = linear_model()
    for bad, match in ((dict(kind="twice"), "kind"),
                       (dict(kind="repeat", repeats=2, rho=0.1), "rho"),
                       (dict(kind="extragradient", rho=0.1, repeats=2), "repeats"),
                       (dict(kind="repeat", repeats=1000), "repeats"),
                       (dict(kind="repeat", repeats=0), "repeats"),
                       (dict(kind="extragradient", rho=float("nan")), "rho")):
        with pytest.raises(ConfigError, match=match):
            OnlineReuse(model, **bad)
    for protocol, student, match in (
            (Protocol(eta=0.1, spherical=True), None, "spherical"),
            (Protocol(eta=0.1, weight_decay=0.1), None, "weight decay"),
            (Protocol(eta=0.1), Student(p=2, activation="linear", train_readout=True,
                                        eta_a=0.1), "readout")):
        changed = Model(model.target, student or model.student, protocol)
        with pytest.raises(ConfigError, match=match):
            OnlineReuse(changed, "repeat", repeats=2)
