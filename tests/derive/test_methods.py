"""The derivation methods: their checks, their labels, what Auto picks, and their saved form."""

import json
import math

import pytest

import overlapdyn as od
from overlapdyn.derive.kernels import derive_kernels
from overlapdyn.derive.methods import (
    Auto,
    ClosedForm,
    Derivation,
    Exact,
    HermiteTruncation,
    Quadrature,
    derivation_from_dict,
)
from overlapdyn.errors import NotPolynomialError, OverlapdynError
from overlapdyn.model.spec import Model, Protocol, Student, Target

PROTOCOL = Protocol(eta=0.5)
HE2 = Model(Target(k=2, activation="He2"), Student(p=2, activation="He2"), PROTOCOL)
ERF = Model(Target(k=2, activation="erf"), Student(p=2, activation="erf"), PROTOCOL)
TANH_COMMITTEE = Model(Target(k=1, activation="tanh"), Student(p=2, activation="tanh"), PROTOCOL)
TANH_MULTI_INDEX = Model(Target(k=2, expression="tanh(z1 + z2)"),
                         Student(p=2, activation="He1(x) + He2(x)"), PROTOCOL)


def test_each_method_has_its_stable_label():
    assert [cls.label for cls in (Exact, ClosedForm, HermiteTruncation, Quadrature, Auto)] == [
        "exact", "closed-form", "hermite", "quadrature", "auto"]
    assert HermiteTruncation().order == 6 and Quadrature().nodes == 16
    assert Auto() == Auto(HermiteTruncation(6), Quadrature(16))


@pytest.mark.parametrize("build, message", [
    (lambda: HermiteTruncation(0), "HermiteTruncation.order must be ≥ 1, got 0"),
    (lambda: HermiteTruncation(2.5), "HermiteTruncation.order must be an integer"),
    (lambda: Quadrature(1), "Quadrature.nodes must be ≥ 2, got 1"),
    (lambda: Auto(truncation=Quadrature(8)), "Auto.truncation must be a HermiteTruncation"),
    (lambda: Auto(quadrature=HermiteTruncation(3)), "Auto.quadrature must be a Quadrature"),
    (lambda: Auto(tolerance=0.0), "Auto.tolerance must be > 0"),
    (lambda: Auto(tolerance=float("nan")), "Auto.tolerance must be finite"),
    (lambda: Derivation(), "base class"),
    (lambda: od.CompiledModel(HE2, "hermite"), "HermiteTruncation\\(order\\)"),
])
def test_bad_arguments_are_refused_naming_them(build, message):
    with pytest.raises(OverlapdynError, match=message):
        build()


def test_methods_are_immutable_and_hashable():
    method = HermiteTruncation(4)
    with pytest.raises(AttributeError):
        method.order = 5
    assert {method: 1}[HermiteTruncation(4)] == 1


@pytest.mark.parametrize("model, expected", [
    (HE2, Exact()), (ERF, ClosedForm()), (TANH_COMMITTEE, Quadrature(16)),
    (TANH_MULTI_INDEX, Quadrature(16))])
def test_auto_picks_the_first_method_that_applies(model, expected):
    assert Auto().resolve(model) == expected


@pytest.mark.parametrize("model, label", [(HE2, "exact"), (ERF, "closed-form"),
                                          (TANH_COMMITTEE, "quadrature")])
def test_the_kernels_report_the_label_of_the_method_used(model, label):
    assert derive_kernels(model).method == label
    assert derive_kernels(model, Auto()).method == label


def test_auto_passes_its_resolution_on():
    assert Auto(quadrature=Quadrature(8)).resolve(TANH_COMMITTEE) == Quadrature(8)
    assert Auto(quadrature=Quadrature(8)).resolve(TANH_MULTI_INDEX) == Quadrature(8)
    assert Auto(truncation=HermiteTruncation(3), tolerance=0.5).resolve(
        TANH_MULTI_INDEX) == HermiteTruncation(3)


def test_auto_truncates_a_multi_index_target_only_where_the_truncation_is_accurate():
    """tanh(z1 + z2) at order 6 misses by 0.1138 in relative L²(N(0, I)) — measured
    independently here by a 200-node Gauss–Hermite rule along z1 + z2 (g depends on it
    alone, with variance 2; Auto's 32² grid is 6e-5 off) — so Auto takes quadrature, and
    reports that error either way."""
    import numpy as np
    from scipy.special import roots_hermitenorm

    nodes, weights = roots_hermitenorm(200)
    weights = weights / weights.sum()
    values = np.tanh(np.sqrt(2.0) * nodes)       # g along the unit direction (z1 + z2)/√2
    he = [np.ones_like(nodes), nodes]
    for n in range(1, 6):
        he.append(nodes * he[n] - n * he[n - 1])
    captured = sum((weights @ (values * he[n])) ** 2 / math.factorial(n) for n in range(7))
    expected = math.sqrt(1 - captured / (weights @ values**2))

    choice = Auto().choose(TANH_MULTI_INDEX)
    assert choice.method == Quadrature(16)
    assert choice.truncation_errors["g = tanh(z1 + z2)"] == pytest.approx(expected, rel=1e-4)
    assert "1.1e-01 > 0.0001" in choice.reason
    loose = Auto(tolerance=0.2).choose(TANH_MULTI_INDEX)
    assert loose.method == HermiteTruncation(6)
    assert loose.truncation_errors == choice.truncation_errors
    # a tanh student is measured too (relative error 0.061 at order 6)
    tanh_student = Model(Target(k=1, expression="z1"), Student(p=1, activation="tanh"), PROTOCOL)
    errors = Auto().choose(tanh_student).truncation_errors
    assert list(errors) == ["σ = tanh"] and errors["σ = tanh"] == pytest.approx(0.061, abs=1e-3)


def test_a_constant_target_with_a_non_polynomial_student_is_not_truncated():
    """y = 1 + noise (pure-noise learning) with an erf student: the truncated erf's kernels
    took forever to generate (issue 16: `overlapdyn ode` hung); quadrature is chosen."""
    model = Model(Target(k=1, expression="1", noise=0.5), Student(p=1, activation="erf"),
                  PROTOCOL)
    choice = Auto().choose(model)
    assert choice.method == Quadrature(16) and list(choice.truncation_errors) == ["σ = erf"]
    kernels = derive_kernels(model)
    assert kernels.method == "quadrature" and float(kernels["Eg2"].expr) == pytest.approx(1.0)


def test_a_method_that_does_not_apply_says_what_would():
    with pytest.raises(NotPolynomialError, match="HermiteTruncation"):
        Exact().resolve(ERF)
    with pytest.raises(OverlapdynError, match="erf committees"):
        ClosedForm().resolve(HE2)
    assert ClosedForm().resolve(ERF) == ClosedForm()
    assert HermiteTruncation(3).resolve(TANH_COMMITTEE) == HermiteTruncation(3)


@pytest.mark.parametrize("method", [Exact(), ClosedForm(), HermiteTruncation(3), Quadrature(9),
                                    Auto(), Auto(HermiteTruncation(4), Quadrature(12), 1e-3)])
def test_the_saved_form_reads_back_through_json(method):
    saved = json.loads(json.dumps(method.to_dict()))
    assert saved["method"] == method.label
    assert derivation_from_dict(saved) == method


def test_archives_of_the_older_string_form_still_read():
    old = {"method": "auto", "hermite_order": 4, "quadrature_nodes": 12}
    assert derivation_from_dict(old) == Auto(HermiteTruncation(4), Quadrature(12))
    assert derivation_from_dict({**old, "method": "hermite"}) == HermiteTruncation(4)
    assert derivation_from_dict({**old, "method": "exact"}) == Exact()
    with pytest.raises(OverlapdynError, match="unknown derivation method 'simpson'"):
        derivation_from_dict({"method": "simpson"})
    with pytest.raises(OverlapdynError, match="bad arguments for the derivation 'hermite'"):
        derivation_from_dict({"method": "hermite", "nodes": 3})


def test_the_top_level_namespace_exports_them():
    assert (od.Exact, od.ClosedForm, od.HermiteTruncation, od.Quadrature, od.Auto) == (
        Exact, ClosedForm, HermiteTruncation, Quadrature, Auto)
    assert od.derive.Derivation is Derivation


RELU_MULTI_INDEX = Model(Target(k=2, expression="z1*z2"), Student(p=2, activation="relu"),
                         PROTOCOL)


def test_the_kink_error_is_the_gauss_hermite_error_of_relu_and_falls_as_one_over_n():
    """E relu(x) = 1/√(2π), E relu(x)² = 1/2 (x relu(x) = x² H(x) is integrated exactly by
    the symmetric rule); the error of the n-point rule on them, by hand."""
    import numpy as np

    from overlapdyn.derive.methods import kink_errors

    def by_hand(n):
        x, w = np.polynomial.hermite_e.hermegauss(n)
        return abs(w @ np.maximum(x, 0) / w.sum() - 1 / math.sqrt(2 * math.pi)) / math.sqrt(0.5)

    errors = {n: kink_errors(RELU_MULTI_INDEX, n)["σ = relu"] for n in (16, 64)}
    assert errors[16] == pytest.approx(by_hand(16), rel=1e-8)
    assert errors[64] == pytest.approx(by_hand(64), rel=1e-8)
    assert 3.5 < errors[16] / errors[64] < 4.5          # ∝ 1/n
    assert kink_errors(TANH_MULTI_INDEX, 16) == {}       # smooth: nothing to report
    abs_on_tanh = Model(Target(k=1, activation="tanh"), Student(p=1, activation="abs"),
                        PROTOCOL)
    assert set(kink_errors(abs_on_tanh, 16)) == {"σ = abs"}


def test_quadrature_across_a_kink_is_reported_and_warned_with_the_way_out():
    with pytest.warns(od.errors.KinkAccuracyWarning, match=r"1\.5e-02.*raise Quadrature"):
        choice = Auto().choose(RELU_MULTI_INDEX)
    assert choice.method == Quadrature() and "kink of σ = relu" in choice.reason
    with pytest.warns(od.errors.KinkAccuracyWarning, match="ClosedForm"):
        Quadrature().choose(Model(Target(k=2, activation="relu"),
                                  Student(p=2, activation="relu"), PROTOCOL))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Auto().choose(Model(Target(k=2, activation="relu"),
                                   Student(p=2, activation="relu"), PROTOCOL)
                             ).method == ClosedForm()
        Quadrature(64).choose(TANH_MULTI_INDEX)   # smooth: silent
