"""The exact Jacobian of the drift against central differences of the drift itself.

Central differences with step 1e-6 carry an O(h²) truncation error of about 1e-10 relative
for these smooth drifts: an exact Jacobian must agree to that level, while any missing
chain-rule term (a kernel argument scattered to the wrong state entry, a forgotten ∂u/∂a,
a product-rule term of the spherical drift) shows as an O(1) relative difference.
"""

import numpy as np
import pytest
from configs import MODELS
from reference import random_overlaps

from overlapdyn.compile import CompiledModel
from overlapdyn.errors import OverlapdynError
from overlapdyn.model import Model, Protocol, Student, Target
from overlapdyn.ode import SaveAt, Solver, integrate, jacobian, stability
from overlapdyn.ode.analysis import _central_differences, _embedding, _full, _independent

SPHERICAL_HE2 = Model(Target(k=1, activation="He2"), Student(p=2, activation="He2"),
                      Protocol(eta=0.2, spherical=True, n_b=4))
CASES = {
    "He2 committee, mse": MODELS["He2 committee p=k=2"],
    "He2 committee, correlation loss": MODELS["correlation loss He2, n_b=8"],
    "He2 committee, spherical": SPHERICAL_HE2,
    "multi-index target, trained readout, weight decay":
        MODELS["trained readout + weight decay"],
}


def _state(compiled: CompiledModel, seed: int) -> np.ndarray:
    model = compiled.model
    M, Q = random_overlaps(model, seed)
    if model.protocol.spherical:
        norms = np.sqrt(np.diag(Q))
        M, Q = M / norms[:, None], Q / np.outer(norms, norms)
    a = np.array(model.student.a) + 0.2 if model.student.train_readout else None
    return compiled.pack(M, Q, a)


@pytest.mark.parametrize("name", CASES)
def test_exact_jacobian_matches_central_differences(name):
    compiled = CompiledModel(CASES[name])
    assert compiled.has_exact_jacobian
    for seed in (1, 2):
        y = _state(compiled, seed)
        exact = compiled.jacobian(0.0, y)
        numeric = _central_differences(lambda v: compiled.rhs(0.0, v), y, 1e-6)
        assert exact.shape == (y.size, y.size)
        scale = np.abs(numeric).max()
        assert np.abs(exact - numeric).max() < 1e-7 * scale, name


def test_stability_uses_the_exact_jacobian_over_the_free_coordinates():
    compiled = CompiledModel(CASES["He2 committee, mse"])
    y = _state(compiled, 3)
    M, Q, _ = compiled.unpack(y)
    Q = (Q + Q.T) / 2
    values, _ = stability(compiled, M, Q)
    y = compiled.pack(M, Q)
    free = _independent(compiled)
    numeric = _central_differences(lambda x: compiled.rhs(0.0, _full(compiled, x, y))[free],
                                   y[free], 1e-6)
    expected = np.sort_complex(np.linalg.eigvals(numeric))
    np.testing.assert_allclose(np.sort_complex(values), expected, rtol=1e-6, atol=1e-8)
    # and it is the exact one: the eigenvalues of the exact Jacobian's reduction, to the bit
    exact = compiled.jacobian(0.0, y)[free] @ _embedding(compiled)
    np.testing.assert_array_equal(np.sort_complex(values),
                                  np.sort_complex(np.linalg.eigvals(exact)))


def test_radau_with_the_exact_jacobian_follows_the_same_curve():
    compiled = CompiledModel(CASES["He2 committee, mse"])
    M0 = np.array([[0.3, 0.05], [0.02, 0.25]])
    runs = {how: integrate(compiled, (M0, np.eye(2)), SaveAt(50.0, 20),
                           solver=Solver("Radau", jacobian=how)) for how in ("exact", "solver")}
    assert runs["exact"].solver.jacobian == "exact"
    assert runs["solver"].solver.jacobian == "solver"
    np.testing.assert_allclose(runs["exact"].risk, runs["solver"].risk, rtol=1e-6, atol=1e-9)
    # the default: exact for BDF/Radau, the solver's own for LSODA
    auto = integrate(compiled, (M0, np.eye(2)), SaveAt(1.0, 3), solver=Solver("Radau"))
    assert auto.solver.jacobian == "exact"
    lsoda = integrate(compiled, (M0, np.eye(2)), SaveAt(1.0, 3))
    assert lsoda.solver.jacobian == "solver"


def test_an_exact_jacobian_for_an_explicit_method_is_refused():
    # refused when the solver is chosen, before any integration
    with pytest.raises(OverlapdynError, match="uses no Jacobian"):
        Solver("RK45", jacobian="exact")
    with pytest.raises(OverlapdynError, match="jacobian must be"):
        Solver(jacobian="symbolic")


def test_quadrature_kernels_fall_back_to_central_differences():
    # the model of test_quadrature_kernels_match_cubature_for_any_activation (compiled once)
    model = Model(Target(k=1, activation="tanh", noise=0.1), Student(p=2, activation="tanh"),
                  Protocol(eta=0.5))
    compiled = CompiledModel(model)
    assert compiled.method == "quadrature" and not compiled.has_exact_jacobian
    y = _state(compiled, 2)
    with pytest.raises(OverlapdynError, match="no formula"):
        compiled.jacobian(0.0, y)
    np.testing.assert_array_equal(
        jacobian(compiled, y), _central_differences(lambda v: compiled.rhs(0.0, v), y, 1e-6))
    with pytest.raises(OverlapdynError, match="jacobian='solver'"):
        integrate(compiled, compiled.unpack(y)[:2], 1.0, solver=Solver("BDF", jacobian="exact"))
