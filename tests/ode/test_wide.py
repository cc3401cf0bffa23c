"""Reduced states of wide networks (overlapdyn.ode.wide) against the full drift and ODE.

Independent computations: the full compiled drift (CompiledModel.drift) at the reduced
state's full overlaps, and the full ODE (overlapdyn.ode.integrate) from the same start. The
symmetric ansatz is exact at every p (agreement to the solvers' tolerance); the
orthogonal-diagonal reduction is exact for the correlation loss and off by O(c_p) for mse,
which the test measures as a gap halving with each doubling of p.
"""

import dataclasses

import numpy as np
import pytest

from overlapdyn.compile import CompiledModel
from overlapdyn.errors import ReductionError
from overlapdyn.model import Model, Protocol, Student, Target
from overlapdyn.ode import SaveAt, Solver, integrate
from overlapdyn.ode.wide import OrthogonalReduction, SymmetricReduction, WideTrajectory

TIGHT = Solver("DOP853", rtol=1e-9, atol=1e-11)


def _committee(p, *, loss="mse", terms="all", spherical=False, noise=1e-2, eta=0.5, **student):
    return Model(Target(2, activation="erf", noise=noise), Student(p, "erf", **student),
                 Protocol(eta, loss=loss, terms=terms, spherical=spherical))


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("spherical", [False, True])
def test_symmetric_drift_is_the_full_drift_on_the_set(groups, spherical):
    model = _committee(8, spherical=spherical)
    reduction = SymmetricReduction(model, groups=groups)
    y = np.array([0.3, 0.1, 1.0 if spherical else 0.9, 0.2, 0.15])
    if groups == 1:
        y[1], y[4] = y[0], y[3]
    M, Q = reduction.matrices(y)
    full = CompiledModel(model)
    dM, dQ, _ = full.drift(M, Q)
    expected = [dM[0, 0], dM[0, 1] if groups > 1 else 0.0, dQ[0, 0], dQ[0, 1],
                dQ[0, 7] if groups > 1 else 0.0]
    dy = reduction.rhs(0.0, y)
    np.testing.assert_allclose(dy, expected, rtol=0, atol=1e-14)
    # the full drift stays on the set: every entry of one kind moves alike (the overlaps
    # of the set are linear in its five numbers)
    M_next, Q_next = reduction.matrices(y + dy)
    np.testing.assert_allclose(M_next - M, dM, atol=1e-14)
    np.testing.assert_allclose(Q_next - Q, dQ, atol=1e-14)
    assert reduction.risk(y) == pytest.approx(full.risk(M, Q), abs=1e-14)
    assert reduction.state(M, Q) == pytest.approx(y, abs=1e-15)


def test_symmetric_learning_curve_is_the_full_odes():
    """Every part of the drift (label noise, I4 variance), two groups, p = 8: the reduction
    and the full ODE agree to the solvers' tolerance (the whole curve moves by 0.1)."""
    model = _committee(8, eta=4.0, c_p=1 / 8)
    reduction = SymmetricReduction(model, groups=2)
    y0 = np.array([0.05, 0.01, 0.8, 0.1, 0.05])
    save = SaveAt(20.0, 12)
    reduced = reduction.integrate(y0, save)
    full = integrate(model, reduction.matrices(y0), save, solver=TIGHT)
    assert full.risk[0] - full.risk[-1] > 0.09
    np.testing.assert_allclose(reduced.risk, full.risk, atol=1e-8)
    M, Q = reduction.matrices(reduced.states[-1])
    np.testing.assert_allclose(M, full.M[-1], atol=1e-7)
    np.testing.assert_allclose(Q, full.Q[-1], atol=1e-7)


def test_symmetric_reduction_runs_at_p_5000_and_saves(tmp_path):
    model = _committee(5000, eta=5000.0)
    reduced = SymmetricReduction(model).integrate(np.array([0.0, 0.0, 1.0, 0.0, 0.0]),
                                                  SaveAt(5.0, 6, log=False))
    assert reduced.risk[-1] < 0.5 * reduced.risk[0]
    loaded = WideTrajectory.load(reduced.save(tmp_path / "wide"))
    np.testing.assert_array_equal(loaded.states, reduced.states)
    assert loaded.model == model and loaded.reduction == "symmetric" and "p = 5000" in str(loaded)


def _orthogonal_start(p, k, P, rng):
    M = rng.normal(0, 0.4, (p, k))
    return M, M @ np.linalg.inv(P) @ M.T + np.diag(rng.uniform(0.3, 1.0, p))


@pytest.mark.parametrize("loss", ["mse", "correlation"])
@pytest.mark.parametrize("spherical", [False, True])
def test_orthogonal_drift_is_the_full_drift_and_its_leak_is_steins(loss, spherical):
    """On the set, dM and dQ⊥_jj are the full drift's; the full drift's off-diagonal dQ⊥_jl is
    zero for the correlation loss and −η u_j u_l (q⊥_j + q⊥_l) E[σ'_j σ'_l] for mse."""
    rng = np.random.default_rng(0)
    p, k = 6, 2
    P = np.array([[1.0, 0.3], [0.3, 1.2]])
    a = rng.uniform(0.5, 1.5, p)
    model = Model(Target(k, activation="erf", P=P.tolist()), Student(p, "erf", a=tuple(a)),
                  Protocol(0.7, loss=loss, terms="gradient-flow", spherical=spherical,
                           weight_decay=0.0 if spherical else 0.1))
    reduction = OrthogonalReduction(model)
    M, Q = _orthogonal_start(p, k, P, rng)
    if spherical:
        scale = np.sqrt(np.diag(Q))
        M, Q = M / scale[:, None], Q / np.outer(scale, scale)
    y = reduction.state(M, Q)
    full = CompiledModel(model)
    dM, dQ, _ = full.drift(M, Q)
    Pinv = np.linalg.inv(P)
    d_perp = dQ - dM @ Pinv @ M.T - M @ Pinv @ dM.T
    dy = reduction.rhs(0.0, y)
    np.testing.assert_allclose(dy[:p * k], dM.ravel(), atol=1e-15)
    np.testing.assert_allclose(dy[p * k:], np.diag(d_perp), atol=1e-15)
    assert reduction.risk(y) == pytest.approx(full.risk(M, Q), abs=1e-15)
    leak = d_perp - np.diag(np.diag(d_perp))
    if loss == "correlation":
        assert np.abs(leak).max() < 1e-15 and reduction.closure(y) == 0.0
        return
    qperp = y[p * k:]
    u = model.student.c_p * a
    J = np.array([[full.module.J2s(Q[j, j], Q[j, l], Q[l, l]) for l in range(p)]
                  for j in range(p)])
    stein = -0.7 * np.outer(u, u) * (qperp[:, None] + qperp[None, :]) * J
    np.fill_diagonal(stein, 0.0)
    assert np.abs(leak).max() > 1e-3
    np.testing.assert_allclose(leak, stein, atol=1e-15)
    closure = (model.student.c_p * np.abs(a[None, :] * stein)).sum(axis=1).max()
    assert reduction.closure(y) == pytest.approx(closure, rel=1e-12)


def _orthogonal_gap(p, loss):
    rng = np.random.default_rng(1)
    model = Model(Target(2, activation="erf"), Student(p, "erf"),
                  Protocol(float(p), loss=loss, terms="gradient-flow"))
    M = rng.normal(0, 0.3, (p, 2))
    Q = M @ M.T + np.diag(rng.uniform(0.5, 1.0, p))
    save = SaveAt(20.0, 8)
    reduction = OrthogonalReduction(model)
    reduced = reduction.integrate(reduction.state(M, Q), save)
    full = integrate(model, (M, Q), save, solver=TIGHT)
    return np.abs(reduced.risk - full.risk).max(), full.risk[0] - full.risk[-1]


def test_orthogonal_reduction_is_exact_for_the_correlation_loss():
    gap, _ = _orthogonal_gap(8, "correlation")
    assert gap < 1e-9


def test_orthogonal_reduction_gap_shrinks_like_one_over_p_for_mse():
    """c_p = 1/p, η = p (time η c_p t): measured gaps 9.1e-3, 5.0e-3, 2.6e-3 at p = 8, 16, 32
    on a curve that falls by 0.085."""
    gaps = {}
    for p in (8, 16, 32):
        gaps[p], drop = _orthogonal_gap(p, "mse")
        assert drop > 0.08
    assert 1e-3 < gaps[32] < gaps[16] < gaps[8] < 0.02
    for small, large in ((8, 16), (16, 32)):
        assert 0.4 < gaps[large] / gaps[small] < 0.65


def test_orthogonal_state_checks_the_start():
    model = _committee(4, terms="gradient-flow")
    reduction = OrthogonalReduction(model)
    M = np.full((4, 2), 0.1)
    Q = M @ M.T + np.eye(4)
    Q[0, 1] = Q[1, 0] = Q[0, 1] + 0.01
    with pytest.raises(ReductionError, match="orthogonal.*tolerance"):
        reduction.state(M, Q)
    assert reduction.state(M, Q, tolerance=0.02)[-4:] == pytest.approx(np.ones(4))
    np.testing.assert_allclose(reduction.matrices(reduction.state(M, Q, tolerance=0.02))[1],
                               M @ M.T + np.eye(4), atol=1e-15)


BAD_MODELS = [
    ("orthogonal", _committee(4), {}, "variance.*gradient-flow"),
    ("orthogonal", _committee(4, terms=["gradient", "noise"]), {}, "noise"),
    ("orthogonal", _committee(4, terms="gradient-flow", train_readout=True, eta_a=0.1), {},
     "readout"),
    ("symmetric", _committee(4, a=(1.0, 1.0, 2.0, 1.0)), {}, "equal readouts"),
    ("symmetric", _committee(5), {"groups": 2}, "multiple of 2"),
    ("symmetric", _committee(4), {"groups": 3}, "groups must be"),
    ("symmetric", Model(Target(2, activation="erf", b=(1.0, 2.0)), Student(4, "erf"),
                        Protocol(0.5)), {}, "equal committee weights"),
    ("symmetric", Model(Target(2, activation="erf", P=((1.0, 0.0), (0.0, 2.0))),
                        Student(4, "erf"), Protocol(0.5)), {}, "p_d I"),
    ("symmetric", Model(Target(2, expression="z1*z2"), Student(4, "He2"), Protocol(0.5)), {},
     "committee"),
]


@pytest.mark.parametrize("kind, model, options, match", BAD_MODELS,
                         ids=[f"{kind}-{match}" for kind, _, _, match in BAD_MODELS])
def test_a_model_that_breaks_an_assumption_is_named(kind, model, options, match):
    cls = OrthogonalReduction if kind == "orthogonal" else SymmetricReduction
    with pytest.raises(ReductionError, match=match):
        cls(model, **options)


def test_symmetric_state_refuses_a_start_off_the_set():
    reduction = SymmetricReduction(_committee(4), groups=2)
    M, Q = reduction.matrices(np.array([0.3, 0.1, 1.0, 0.2, 0.1]))
    M = M.copy()
    M[3, 0] += 0.05
    with pytest.raises(ReductionError, match="not on the symmetric set"):
        reduction.state(M, Q)


def test_the_full_drift_of_a_wide_model_is_refused_with_the_reductions_named():
    from overlapdyn.errors import ResourceError

    model = dataclasses.replace(_committee(2), student=Student(2000, "erf"))
    with pytest.raises(ResourceError, match="SymmetricReduction"):
        CompiledModel(model)
