"""The compiled drift against SPEC's expectations integrated over the full Ω.

``tests/reference.py`` writes every drift term out in full over all p + k fields and
integrates it by Gauss–Hermite cubature (exact for polynomial models), with no kernel, no
generated code and no loop of the library: an independent computation.
"""

import numpy as np
import pytest
from configs import MODELS
from reference import random_overlaps, reference_drift, reference_terms

from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.derive.methods import Exact, HermiteTruncation
from overlapdyn.model.spec import Model, Protocol, Student, Target


def spherical_point(M, Q):
    norms = np.sqrt(np.diag(Q))
    return M / norms[:, None], Q / np.outer(norms, norms)


@pytest.mark.parametrize("name", MODELS)
def test_polynomial_drift_matches_full_cubature(name):
    model = MODELS[name]
    compiled = CompiledModel(model)
    assert compiled.method == "exact"
    for seed in (0, 1):
        M, Q = random_overlaps(model, seed)
        if model.protocol.spherical:
            M, Q = spherical_point(M, Q)
        got, expected = compiled.drift(M, Q), reference_drift(model, M, Q)
        for mine, theirs in zip(got, expected, strict=True):
            if theirs is None:
                assert mine is None
                continue
            np.testing.assert_allclose(mine, theirs, rtol=1e-9,
                                       atol=1e-9 * np.max(np.abs(theirs)))
        assert compiled.risk(M, Q) == pytest.approx(reference_terms(model, M, Q)[4], rel=1e-9)


def test_erf_closed_forms_match_cubature():
    model = Model(Target(k=2, activation="erf", c_k=1.0, noise=0.05),
                  Student(p=2, activation="erf", c_p=1.0), Protocol(eta=0.5))
    compiled = CompiledModel(model)
    assert compiled.method == "closed-form"
    M, Q = random_overlaps(model, 3)
    for mine, theirs in zip(compiled.drift(M, Q)[:2],
                            reference_drift(model, M, Q, n_nodes=40)[:2], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-8, atol=1e-9)


def test_hermite_truncation_is_within_its_error():
    """tanh student on a tanh committee: truncated kernels vs cubature of the true tanh.

    The reported truncation error is in L²(γ), i.e. for unit variances, so the check is made
    at Q_jj = 1 (away from it the truncated polynomial's growth makes the gap larger).
    """
    model = Model(Target(k=1, activation="tanh"), Student(p=2, activation="tanh"),
                  Protocol(eta=0.5))
    M, Q = spherical_point(*random_overlaps(model, 4))
    exact = reference_drift(model, M, Q, n_nodes=30)
    gaps = []
    for order in (1, 3):
        compiled = CompiledModel(model, HermiteTruncation(order))
        error = max(compiled.truncation_errors.values())
        got = compiled.drift(M, Q)
        gap = max(np.max(np.abs(g - e)) / np.max(np.abs(e)) for g, e in zip(got[:2], exact[:2],
                                                                              strict=True))
        assert gap < 10 * error, (order, gap, error)
        gaps.append(gap)
    assert gaps[-1] < gaps[0]


def test_bad_state_shapes_are_named():
    compiled = CompiledModel(MODELS["He2 committee p=k=2"])
    with pytest.raises(ValueError, match=r"M must have shape \(p, k\) = \(2, 2\)"):
        compiled.drift(np.zeros((2, 3)), np.eye(2))
    with pytest.raises(ValueError, match="Q must have shape"):
        compiled.drift(np.zeros((2, 2)), np.eye(3))


def test_quadrature_kernels_match_cubature_for_any_activation():
    model = Model(Target(k=1, activation="tanh", noise=0.1), Student(p=2, activation="tanh"),
                  Protocol(eta=0.5))
    compiled = CompiledModel(model)  # auto: a non-polynomial committee → quadrature
    assert compiled.method == "quadrature"
    M, Q = random_overlaps(model, 2)
    reference = reference_drift(model, M, Q, n_nodes=40)
    for mine, theirs in zip(compiled.drift(M, Q)[:2], reference[:2], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=5e-3, atol=5e-3 * np.abs(theirs).max())
    assert compiled.risk(M, Q) == pytest.approx(
        reference_terms(model, M, Q, n_nodes=40)[4], rel=1e-4)


def test_non_polynomial_multi_index_target_by_hermite_truncation():
    model = Model(Target(k=2, expression="tanh(z1 + z2)"),
                  Student(p=2, activation="He1(x) + He2(x)"), Protocol(eta=0.5))
    M, Q = spherical_point(*random_overlaps(model, 5))
    exact = reference_drift(model, M, Q, n_nodes=30)
    gaps, errors = [], []
    for order in (3, 7):
        compiled = CompiledModel(model, HermiteTruncation(order))
        assert compiled.method == "hermite"
        errors.append(compiled.truncation_errors["g = tanh(z1 + z2)"])
        got = compiled.drift(M, Q)
        gaps.append(max(np.max(np.abs(g - e)) / np.max(np.abs(e))
                        for g, e in zip(got[:2], exact[:2], strict=True)))
    assert errors[1] < errors[0] and gaps[1] < gaps[0]
    assert all(gap < error for gap, error in zip(gaps, errors, strict=True))
    with pytest.raises(ValueError, match="HermiteTruncation"):
        CompiledModel(model, Exact())
