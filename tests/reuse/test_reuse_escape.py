"""Escape with data reuse: the reuse column of the scaling prediction (k* for ℓ), the
escape measurement on the reuse ODE (against the compiled one-pass ODE when the protocol
reuses nothing; the exponents of He3 and He4 against the papers' n ≍ d and d log d) and on
finite-d simulation, and the quadrature's z-antithetic symmetry it needs."""

import math

import numpy as np
import pytest

import overlapdyn as od
from overlapdyn.errors import OverlapdynError
from overlapdyn.limits import predict_scaling_with_reuse
from overlapdyn.ode import OverlapCrosses, SaveAt, Solver
from overlapdyn.ode.trajectory import Outcome
from overlapdyn.reuse import (
    OnlineReuse,
    ReuseDrift,
    ReuseQuadrature,
    integrate_reuse,
    measure_reuse_escape_ode,
    measure_reuse_escape_simulated,
    simulate_reuse,
)
from overlapdyn.scaling import EscapeTimes, ScalingPrediction

# small rules and a looser solver: the exponents need the drift to a few per cent only
# (He4, d = 10²…10⁴: the escape times move by 0.1–0.6 % from rtol 10⁻⁵ to 10⁻⁴)
RULE = ReuseQuadrature(sobol_log2=12, antithetic=True)
SOLVER = Solver("RK45", rtol=1e-4, atol=1e-12)
ODE_DS = (100, 1000, 10_000)


def relu_model(ell: int, eta: float) -> od.Model:
    """The papers' figure-1 model: He_ℓ target, one ReLU neuron, c_p = 1, mse, batch 1."""
    return od.Model(od.Target(k=1, expression=f"He{ell}(z1)"),
                    od.Student(p=1, activation="relu", c_p=1.0), od.Protocol(eta=eta))


@pytest.mark.parametrize(("link", "ell", "star", "beta", "log", "eta"), [
    ("He3(z1)", 3, 1, 1, False, 0.0),   # E[z | y] ≠ 0: odd link
    ("He4(z1)", 4, 2, 1, True, 0.0),    # even link: E[z | y] = 0, E[z² − 1 | y] ≠ 0
])
def test_the_reuse_column_is_governed_by_the_generative_exponent(link, ell, star, beta, log,
                                                                  eta):
    prediction = predict_scaling_with_reuse(link)
    one_pass = od.predict_scaling(link, 1)
    assert prediction.generative == star and not prediction.reuse
    # the one-pass column is unchanged
    for name in ("exponent", "sample_exponent", "log_factor", "time_exponent",
                 "eta_exponent"):
        assert getattr(prediction, name) == getattr(one_pass, name)
    assert prediction.sample_exponent == ell - 1
    reuse = prediction.with_reuse()
    assert (reuse.governing, reuse.sample_exponent, reuse.log_factor, reuse.eta_exponent) == (
        star, beta, log, eta)
    assert reuse.with_reuse(False) == prediction
    text = prediction.describe()
    assert f"k* = {star}" in text and "SGD with data reuse" in text
    assert f"n ≍ d^{ell - 1}   (one-pass" in text


def test_the_reuse_column_needs_a_finite_generative_exponent(tmp_path):
    plain = od.predict_scaling("He3(z1)", 1)
    with pytest.raises(OverlapdynError, match="predict_scaling_with_reuse"):
        plain.with_reuse()
    import dataclasses
    with pytest.raises(OverlapdynError, match="k\\* = ∞"):
        dataclasses.replace(plain, generative=math.inf).with_reuse()
    with pytest.raises(OverlapdynError, match="integer ≥ 1"):
        dataclasses.replace(plain, generative=1.5)
    reuse = predict_scaling_with_reuse("He3(z1)").with_reuse()
    loaded = ScalingPrediction.load(reuse.save(tmp_path / "prediction.npz"))
    assert loaded == reuse and loaded.sample_exponent == 1
    # a version-1 record (no k*, no column) reads as the one-pass prediction it was
    header, arrays = plain.archive()
    header = {k: v for k, v in header.items() if k not in ("generative", "reuse")}
    assert ScalingPrediction.from_archive({**header, "version": 1}, arrays) == plain


def test_the_antithetic_rule_keeps_the_symmetry_of_an_even_target():
    """For y = He4(z) the exact dM/dt is odd in M (zero at M = 0): the z-antithetic rule
    keeps that to round-off; the plain Sobol rule puts a drift at M = 0 that is larger than
    the true one at M = 0.01, the start of an escape from d = 10⁴."""
    spec = OnlineReuse(relu_model(4, 0.01), "extragradient", rho=0.1)
    plain = ReuseDrift(spec, ReuseQuadrature(sobol_log2=12))
    symmetric = ReuseDrift(spec, RULE)
    Q = np.eye(1)
    spurious = abs(plain.drift(np.zeros((1, 1)), Q)[0][0, 0])
    assert spurious > 1e-5
    assert symmetric.drift(np.zeros((1, 1)), Q)[0][0, 0] == 0.0
    up, down = (symmetric.drift(np.full((1, 1), m), 0.6 * Q) for m in (0.01, -0.01))
    assert up[0][0, 0] == pytest.approx(-down[0][0, 0], rel=1e-12)
    assert up[1][0, 0] == pytest.approx(down[1][0, 0], rel=1e-12)
    assert spurious > 3 * abs(up[0][0, 0])
    assert "z-antithetic" in symmetric.label


def test_a_protocol_that_reuses_nothing_escapes_as_the_compiled_one_pass_ode():
    """repeat k = 1 is one-pass SGD: its escape times (reuse ODE, exact Gauss–Hermite rule
    of a linear student) equal the compiled one-pass ODE's, at every d."""
    model = od.Model(od.Target(k=1, expression="z1 + He2(z1)"),
                     od.Student(p=1, activation="linear", c_p=1.0), od.Protocol(eta=0.1))
    one_pass = od.measure_escape_ode(model, ODE_DS)
    reuse = measure_reuse_escape_ode(OnlineReuse(model, "repeat", repeats=1), ODE_DS,
                                     prediction=od.predict_scaling(model), n_points=5)
    np.testing.assert_allclose(reuse.times, one_pass.times, rtol=1e-4)
    assert reuse.reuse["kind"] == "repeat" and "Gauss–Hermite" in reuse.reuse["rule"]


@pytest.fixture(scope="module")
def he3_extragradient():
    spec = OnlineReuse(relu_model(3, 0.01), "extragradient", rho=0.1)   # the papers' figure 1
    return measure_reuse_escape_ode(spec, ODE_DS, quadrature=RULE, solver=SOLVER, n_points=5)


@pytest.mark.parametrize("kind", ["extragradient", "repeat"])
def test_he3_escapes_in_order_d_samples_with_reuse(kind, he3_extragradient, tmp_path):
    """k* = 1: n ≍ d (one pass would need d², and a ReLU never escapes He3 in one pass)."""
    if kind == "extragradient":
        escape, eta = he3_extragradient, 0.01
    else:   # the papers' two steps per sample, η = 0.1 (settles at cosine 0.34)
        eta = 0.1
        escape = measure_reuse_escape_ode(OnlineReuse(relu_model(3, eta), kind, repeats=2),
                                          ODE_DS, threshold=0.25, quadrature=RULE,
                                          solver=SOLVER, n_points=5)
    assert escape.prediction.reuse and escape.prediction.sample_exponent == 1
    fit = escape.fit()
    assert not fit.log_factor
    assert abs(fit.exponent - 1) < 0.3, escape.describe()
    assert all(tr[0].outcome is Outcome.EVENT for tr in escape.trajectories)
    assert escape.etas == (eta,) * 3          # k* = 1: η is not scaled
    assert escape.protocol in escape.describe() and "k* = 1" in escape.describe()
    loaded = EscapeTimes.load(escape.save(tmp_path / "escape.npz"))
    assert loaded.reuse == escape.reuse and loaded.prediction == escape.prediction
    np.testing.assert_array_equal(loaded.times, escape.times)


def test_he4_escapes_in_order_d_log_d_samples_with_extragradient():
    """k* = 2: the escape is a linear instability, t ≍ log d, n/log d ≍ d (one pass: d³)."""
    spec = OnlineReuse(relu_model(4, 0.01), "extragradient", rho=0.1)
    escape = measure_reuse_escape_ode(spec, ODE_DS, threshold=0.25, quadrature=RULE,
                                      solver=SOLVER, n_points=5)
    assert escape.prediction.log_factor
    t = escape.times[:, 0]
    assert np.all(np.diff(t) > 0) and t[-1] < 3 * t[0]        # grows, but like log d
    fit = escape.fit()
    assert fit.log_factor and abs(fit.exponent - 1) < 0.3, escape.describe()


def test_the_simulated_escape_follows_the_ode():
    """Finite d (SPEC's random init, each seed stopped at its escape) against the ODE from
    M₀ = d^(−1/2): the median escape time within 20 % at d = 512."""
    spec = OnlineReuse(relu_model(3, 0.01), "extragradient", rho=0.1)
    ds = (128, 512)
    ode = measure_reuse_escape_ode(spec, ds, quadrature=RULE, solver=SOLVER, n_points=3)
    sim = measure_reuse_escape_simulated(spec, ds, seeds=6, reference=ode.times[:, 0],
                                         n_saves=60)
    assert sim.route == "simulation" and sim.reuse == {"kind": "extragradient", "rho": 0.1,
                                                       "repeats": 1}
    assert sim.escaped.min() == 1.0
    median = np.median(sim.times, axis=1)
    assert median[-1] == pytest.approx(ode.times[-1, 0], rel=0.2)
    # each seed stopped at its escape
    for trajectory in sim.trajectories[-1]:
        assert trajectory.outcome is Outcome.EVENT
        assert od.scaling.learned_overlaps(trajectory)[-1].max() >= 0.5
        assert np.isnan(trajectory.risk).all()     # risk=False: overlaps only


def test_events_stop_the_reuse_ode_and_the_simulator():
    spec = OnlineReuse(relu_model(3, 0.01), "extragradient", rho=0.1)
    drift = ReuseDrift(spec, RULE)
    start = (np.full((1, 1), 0.01), np.eye(1))
    event = OverlapCrosses(0.3, normalized=True)
    run = integrate_reuse(spec, start, SaveAt(1000, n_points=11), drift=drift, solver=SOLVER,
                          events=(event,))
    assert run.trajectory.outcome is Outcome.EVENT
    [when] = run.trajectory.events[event.name]
    assert run.t[-1] == when < 1000
    cosine = abs(run.M[-1, 0, 0]) / math.sqrt(run.Q[-1, 0, 0])
    assert cosine == pytest.approx(0.3, abs=1e-6)
    sim = simulate_reuse(spec, 256, np.linspace(0, 1000, 101), seeds=2, drift=drift,
                         stop_overlap=0.3)
    for trajectory in sim.trajectories:
        assert trajectory.outcome is Outcome.EVENT and trajectory.t[-1] < 1000
        assert od.scaling.learned_overlaps(trajectory)[-1, 0] >= 0.3
        assert od.scaling.learned_overlaps(trajectory)[-2, 0] < 0.3


def test_the_reuse_escape_figure(he3_extragradient):
    from overlapdyn.plot import plot_reuse_escape
    fig = plot_reuse_escape([he3_extragradient])
    assert len(fig.axes) == 2
    [label] = fig.axes[0].get_legend_handles_labels()[1]
    assert "He3(z1), extragradient ρ = 0.1 (ode): slope" in label and "k* = 1" in label
