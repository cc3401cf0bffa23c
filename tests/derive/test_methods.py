"""The derivation methods: their checks, their labels, what Auto picks, and their saved form."""

import json

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
    (TANH_MULTI_INDEX, HermiteTruncation(6))])
def test_auto_picks_the_first_method_that_applies(model, expected):
    assert Auto().resolve(model) == expected


@pytest.mark.parametrize("model, label", [(HE2, "exact"), (ERF, "closed-form"),
                                          (TANH_COMMITTEE, "quadrature")])
def test_the_kernels_report_the_label_of_the_method_used(model, label):
    assert derive_kernels(model).method == label
    assert derive_kernels(model, Auto()).method == label


def test_auto_passes_its_resolution_on():
    assert Auto(quadrature=Quadrature(8)).resolve(TANH_COMMITTEE) == Quadrature(8)
    assert Auto(truncation=HermiteTruncation(3)).resolve(TANH_MULTI_INDEX) == HermiteTruncation(3)


def test_a_method_that_does_not_apply_says_what_would():
    with pytest.raises(NotPolynomialError, match="HermiteTruncation"):
        Exact().resolve(ERF)
    with pytest.raises(OverlapdynError, match="erf committees"):
        ClosedForm().resolve(HE2)
    assert ClosedForm().resolve(ERF) == ClosedForm()
    assert HermiteTruncation(3).resolve(TANH_COMMITTEE) == HermiteTruncation(3)


@pytest.mark.parametrize("method", [Exact(), ClosedForm(), HermiteTruncation(3), Quadrature(9),
                                    Auto(), Auto(HermiteTruncation(4), Quadrature(12))])
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
