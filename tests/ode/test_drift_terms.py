"""Switchable drift terms (``protocol.terms``): each part against an independent formula, the
classic limit against the published curve of Arnaboldi et al. 2023, gradient flow as the
η → 0 limit, and the switches in the state evolution and the fixed points."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from reference import random_overlaps, reference_terms

from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.derive.equations import drift_equations
from overlapdyn.errors import OverlapdynError
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.analysis import find_fixed_point
from overlapdyn.ode.integrator import SaveAt, Solver, integrate
from overlapdyn.ode.state_evolution import evolve

DATA = Path(__file__).resolve().parent / "data" / "arnaboldi2023_classic_limit.json"


def with_terms(model: Model, terms) -> Model:
    return dataclasses.replace(model, protocol=dataclasses.replace(model.protocol, terms=terms))


def he3_model(spherical: bool = False) -> Model:
    """A He3 committee (exact kernels, so the reference cubature is exact) with every part
    present: label noise, weight decay (plain SGD), a trained readout, n_b = 2."""
    return Model(Target(k=2, activation="He3", noise=0.05),
                 Student(p=2, activation="He3", train_readout=not spherical, eta_a=0.4),
                 Protocol(eta=0.3, n_b=2, spherical=spherical,
                          weight_decay=0.0 if spherical else 0.02))


def reference_parts(model: Model, M, Q, a):
    """Each part's (dM, dQ, da) from the module docstring's formulas, with the expectations
    of an independent cubature over all p + k fields (``tests/reference.py``): the label
    noise part of B is B(Δ) − B(0), the I4 part B(0)."""
    Az, Al, B, D, _ = reference_terms(model, M, Q, a)
    B_var = reference_terms(dataclasses.replace(
        model, target=dataclasses.replace(model.target, noise=0.0)), M, Q, a)[2]
    B_noise = B - B_var
    proto, student = model.protocol, model.student
    eta, omega, second = proto.eta, proto.weight_decay, proto.eta**2 / proto.n_b
    da_zero = np.zeros(model.p) if student.train_readout else None
    if proto.spherical:
        def second_order(B):
            dM = -0.5 * second * M * np.diag(B)[:, None]
            dQ = second * B - 0.5 * second * Q * np.add.outer(np.diag(B), np.diag(B))
            np.fill_diagonal(dQ, 0.0)
            return dM, dQ, da_zero

        dQ = eta * (Al + Al.T) - eta * Q * np.add.outer(np.diag(Al), np.diag(Al))
        np.fill_diagonal(dQ, 0.0)
        gradient = (eta * (Az - M * np.diag(Al)[:, None]), dQ, da_zero)
    else:
        def second_order(B):
            return np.zeros_like(M), second * B, da_zero

        da = student.eta_a * student.c_p * D if student.train_readout else None
        gradient = (eta * Az, eta * (Al + Al.T), da)
    return {"gradient": gradient, "noise": second_order(B_noise),
            "variance": second_order(B_var),
            "decay": (-eta * omega * M, -2 * eta * omega * Q, da_zero)}


@pytest.mark.parametrize("spherical", [False, True], ids=["plain", "spherical"])
def test_each_part_is_its_formula_and_the_kept_parts_are_the_drift(spherical):
    model = he3_model(spherical)
    M, Q = random_overlaps(model, seed=3)
    if spherical:   # unit rows of W: Q_jj = 1
        norms = np.sqrt(np.diag(Q))
        M, Q = M / norms[:, None], Q / np.outer(norms, norms)
    a = np.array([0.8, -1.1]) if model.student.train_readout else np.array(model.student.a)
    compiled = CompiledModel(model)
    parts = compiled.drift_parts(M, Q, a)
    expected = reference_parts(model, M, Q, a)
    assert set(parts) == {"gradient", "noise", "variance", "decay"}
    for name in parts:
        for got, want in zip(parts[name], expected[name], strict=True):
            if want is None:
                assert got is None
            else:
                np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=name)
    assert np.abs(parts["noise"][1]).max() > 1e-3 and np.abs(parts["variance"][1]).max() > 1e-3
    if not spherical:
        assert np.abs(parts["decay"][0]).max() > 1e-3
    else:   # every part keeps Q_jj = 1 on its own
        for name in parts:
            np.testing.assert_array_equal(np.diag(parts[name][1]), 0.0)
    # a model keeping some parts: its drift, its exact Jacobian (against central differences
    # of its drift) and its written-out equations are those parts' sums
    y = compiled.pack(M, Q, a if model.student.train_readout else None)
    for terms in (["gradient", "variance"], "classic", ["noise", "decay"]):
        switched = CompiledModel(with_terms(model, terms))
        assert switched.from_cache        # the same kernels: switching compiles nothing
        kept = switched.model.protocol.terms.names
        drift = switched.drift(M, Q, a)
        for i, rate in enumerate(drift):
            if rate is not None:
                np.testing.assert_allclose(rate, sum(parts[n][i] for n in kept), rtol=1e-12,
                                           atol=1e-15)
        h = 1e-6
        columns = [(switched.rhs(0, y + h * e) - switched.rhs(0, y - h * e)) / (2 * h)
                   for e in np.eye(y.size)]
        np.testing.assert_allclose(switched.jacobian(0, y), np.column_stack(columns),
                                   rtol=1e-6, atol=1e-8)
        dM, dQ, da, _ = drift_equations(switched.model).evaluate(M, Q, a)
        np.testing.assert_allclose(dM, drift[0], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(dQ, drift[1], rtol=1e-10, atol=1e-13)


def load_classic_limit():
    """The model and the stored data of Arnaboldi et al. 2023's classic-limit erf run.

    Their conventions (``committee_learning/ode/erf.pyx``, ``base.py``, ``_cython/risk.pyx`` of
    IdePHICS/DimensionlessDynamicsSGD): ŷ = (1/p) Σ erf(λ_j/√2), y = (1/k) Σ erf(ν_r/√2) +
    √Δ ζ, step (γ/p)(y − ŷ) erf'(λ) x/√d, so c_p = 1/p, c_k = 1/k, η = γ and their time is
    t_A = t γ/p; their risk leaves out the noise, R_A = R − Δ/2 (their I2 is half our E[σσ]);
    their Euler state saved under the time label τ is the state at τ − dt (``_save_step`` is
    called before the step, with the label of the step after it). P is the identity to 2e-16.
    """
    data = json.loads(DATA.read_text())
    s = data["settings"]
    p, eta, Delta = s["p"], s["gamma_over_p"] * s["p"], s["noise"]
    model = Model(Target(k=s["k"], activation="erf", noise=Delta),
                  Student(p=p, activation="erf"), Protocol(eta=eta, terms="classic"),
                  name="arnaboldi-2023-classic-limit")
    assert model.target.c_k == 1 / s["k"] and model.student.c_p == 1 / p
    t_A = np.array(data["times"]) - s["dt"]
    return model, data, t_A, np.array(data["risks"]), p / eta


def test_classic_limit_reproduces_the_stored_curve_of_arnaboldi_et_al_2023():
    model, data, t_A, R_A, scale = load_classic_limit()
    dt, Delta = data["settings"]["dt"], data["settings"]["noise"]
    M0, Q0 = np.array(data["M0"]), np.array(data["Q0"])
    compiled = CompiledModel(model)

    def excess(y):
        M, Q, _ = compiled.unpack(y)
        return compiled.risk(M, Q) - Delta / 2

    # 1. their scheme — explicit Euler, step dt in t_A — with our drift gives their numbers
    # to rounding on t_A ≤ 10: the classic drift is theirs, term by term
    early = t_A <= 10.0 + 1e-9
    steps = np.round(t_A[early] / dt).astype(int)

    def euler(h):
        y, risks = compiled.pack(M0, Q0), {}
        wanted = set((steps * round(dt / h)).tolist())
        for n in range(1, int(round(10.0 / h)) + 1):
            y = y + h * scale * compiled.rhs(0.0, y)
            if n in wanted:
                risks[n] = excess(y)
        return np.array([risks[n * round(dt / h)] for n in steps])

    coarse, fine = euler(dt), euler(dt / 2)
    np.testing.assert_allclose(coarse, R_A[early], rtol=1e-12)
    # 2. the ODE, integrated tightly, on the whole stored range to t_A ≈ 10⁴
    grid = SaveAt.at(np.concatenate([[0.0], t_A]) * scale)
    solver = Solver("LSODA", rtol=1e-10, atol=1e-12)
    run = integrate(compiled, (M0, Q0), grid, solver=solver)
    ode = run.risk[1:] - Delta / 2
    # on t_A ≤ 10 (the fast drop) their Euler error reaches 4.0e-4 relative: the ODE matches
    # the Richardson limit 2·Euler(dt/2) − Euler(dt) of their scheme instead (3.6e-8)
    richardson = 2 * fine - coarse
    assert np.abs(ode[early] / R_A[early] - 1).max() == pytest.approx(4.0e-4, rel=0.02)
    np.testing.assert_allclose(ode[early], richardson, rtol=1e-6)
    # beyond it, to the noise floor R_A ≈ 5.7e-7, the stored curve itself (5e-5 at most)
    np.testing.assert_allclose(ode[~early], R_A[~early], rtol=2e-4)
    assert data["time_last"] == data["times"][-1]
    np.testing.assert_allclose(run.M[-1], np.array(data["M_last"]), atol=1e-5)
    # the switch is what makes it match: with the I4 part kept the late curve is 1e-3 off,
    # without the noise part the floor is gone
    loose = Solver("LSODA", rtol=1e-8, atol=1e-11)
    late = SaveAt.at(np.concatenate([[0.0], t_A[~early]]) * scale)
    full = integrate(with_terms(model, "all"), (M0, Q0), late, solver=loose)
    assert np.abs((full.risk[1:] - Delta / 2) / R_A[~early] - 1).max() > 1e-3
    flow = integrate(with_terms(model, "gradient-flow"), (M0, Q0), late, solver=loose)
    assert (flow.risk[-1] - Delta / 2) / R_A[-1] < 0.3


def test_gradient_flow_is_the_small_learning_rate_limit_of_the_full_ode():
    """In τ = ηt the full ODE is the gradient flow plus η/n_b times the variance: their
    difference at equal τ shrinks ∝ η, and the gradient flow does not depend on η."""
    base = Model(Target(k=2, activation="erf", c_k=1.0, noise=0.05),
                 Student(p=2, activation="erf", c_p=1.0), Protocol(eta=0.1, weight_decay=0.01))
    M0 = np.array([[0.3, 0.05], [0.1, 0.25]])
    Q0 = np.array([[0.5, 0.1], [0.1, 0.4]])
    taus = np.linspace(0.0, 5.0, 11)
    solver = Solver("DOP853", rtol=1e-11, atol=1e-13)

    def run(eta, terms):
        model = dataclasses.replace(base, protocol=dataclasses.replace(
            base.protocol, eta=eta, terms=terms))
        trajectory = integrate(model, (M0, Q0), SaveAt.at(taus / eta), solver=solver)
        return np.concatenate([trajectory.M.reshape(len(taus), -1),
                               trajectory.Q.reshape(len(taus), -1)], axis=1)

    flow = run(0.1, "gradient-flow")
    np.testing.assert_allclose(run(0.025, "gradient-flow"), flow, rtol=1e-8, atol=1e-10)
    gaps = np.array([np.abs(run(eta, "all") - flow).max() for eta in (0.1, 0.05, 0.025)])
    assert gaps[0] > 1e-3
    np.testing.assert_allclose(gaps[:-1] / gaps[1:], 2.0, rtol=0.05)   # ∝ η


def test_switches_in_the_state_evolution():
    """One step of the map per part, against the formulas with the reference cubature and
    NumPy's pseudo-inverse: gradient = the mean step (η E[G z], η(E[G λ] + E[G λ]ᵀ) +
    η² E[Gφ]ᵀ Ω⁺ E[Gφ], η_a c_p E[e σ]), noise and variance = their parts of η² B/α."""
    model = dataclasses.replace(he3_model(), protocol=Protocol(eta=0.3, n_b=2))
    M, Q = random_overlaps(model, seed=5)
    a = np.array([0.9, 1.2])
    alpha = 2.0
    Az, Al, B, D, _ = reference_terms(model, M, Q, a)
    B_var = reference_terms(dataclasses.replace(
        model, target=dataclasses.replace(model.target, noise=0.0)), M, Q, a)[2]
    eta, eta_a, c_p = model.protocol.eta, model.student.eta_a, model.student.c_p
    omega = np.block([[Q, M], [M.T, model.target.gram]])
    mean = np.concatenate([Al.T, Az.T])            # column j: E[G_j φ]
    steps = {"gradient": (eta * Az, eta * (Al + Al.T) + eta**2 * mean.T @ np.linalg.pinv(omega)
                          @ mean, eta_a * c_p * D),
             "noise": (0.0, eta**2 * (B - B_var) / alpha, 0.0),
             "variance": (0.0, eta**2 * B_var / alpha, 0.0)}
    for terms in (["gradient"], ["noise"], ["variance"], ["gradient", "noise"], "all"):
        switched = with_terms(model, terms)
        one = evolve(switched, (M, Q, a), 1, alpha)
        kept = [name for name in switched.protocol.terms.names if name in steps]
        for i, (start, moved) in enumerate(((M, one.M[1]), (Q, one.Q[1]), (a, one.a[1]))):
            np.testing.assert_allclose(moved - start, sum(steps[n][i] for n in kept),
                                       rtol=1e-9, atol=1e-13, err_msg=str(terms))
    # weight decay: the map has none; with 'decay' left out a model with ω > 0 runs, and
    # runs as the one without ω
    decayed = dataclasses.replace(model, protocol=Protocol(eta=0.3, n_b=2, weight_decay=0.1))
    with pytest.raises(OverlapdynError, match="no weight-decay term.*leave 'decay' out"):
        evolve(decayed, (M, Q, a), 1, alpha)
    kept = evolve(with_terms(decayed, ["gradient", "noise", "variance"]), (M, Q, a), 1, alpha)
    np.testing.assert_array_equal(kept.Q, evolve(model, (M, Q, a), 1, alpha).Q)


def test_fixed_points_with_and_without_the_noise_part():
    """A realizable target with label noise Δ: without the noise part the teacher is a fixed
    point with zero excess risk (e = √Δ ξ there, so the I4 part and the gradient vanish);
    with it the fixed point moves off, to an excess risk ∝ η."""
    def model(eta, terms):
        return Model(Target(k=1, activation="erf", c_k=1.0, noise=0.1),
                     Student(p=1, activation="erf", c_p=1.0), Protocol(eta=eta, terms=terms))

    guess = (np.array([[0.9]]), np.array([[0.95]]))
    quiet = find_fixed_point(CompiledModel(model(0.5, ["gradient", "variance"])), *guess)
    np.testing.assert_allclose(quiet.M, [[1.0]], atol=1e-10)
    np.testing.assert_allclose(quiet.Q, [[1.0]], atol=1e-10)
    assert quiet.risk - 0.05 == pytest.approx(0.0, abs=1e-12)
    assert quiet.growth_rate < 0 and "drift terms kept: gradient + variance" in quiet.describe()
    excess = []
    for eta in (0.2, 0.1, 0.05):
        noisy = find_fixed_point(CompiledModel(model(eta, "all")), *guess)
        assert noisy.growth_rate < 0 and noisy.Q[0, 0] > 1.0
        excess.append(noisy.risk - 0.05)
    assert excess[-1] > 1e-4
    np.testing.assert_allclose(np.array(excess[:-1]) / excess[1:], 2.0, rtol=0.05)
    # the classic limit's fixed point lies between: the noise kept, the I4 part dropped
    classic = find_fixed_point(CompiledModel(model(0.2, "classic")), *guess)
    assert 0 < classic.risk - 0.05 < excess[0]
