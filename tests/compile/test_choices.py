"""The derivation choice and module key remembered on disk (overlapdyn.compile.choices): a
second call with the same inputs reads what the first computed, equal; other inputs, a
damaged file, an error or a user's derivation class are computed again."""

import warnings

import pytest

from overlapdyn.compile import cache
from overlapdyn.compile.choices import choice_inputs, choice_path, remembered_choice
from overlapdyn.derive.methods import Auto, Exact, HermiteTruncation, Quadrature
from overlapdyn.errors import KinkAccuracyWarning, NotPolynomialError
from overlapdyn.model import Model, Protocol, Student, Target

LINEAR = Model(Target(k=1, activation="linear"), Student(p=1, activation="linear"),
               Protocol(eta=0.1))
ERF = Model(Target(k=1, activation="erf"), Student(p=1, activation="erf"), Protocol(eta=0.1))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(tmp_path))
    return tmp_path


def counted(model, derivation, calls):
    def compute():
        calls.append(1)
        return derivation.choose(model), f"key-{len(calls)}", {"tables": False}
    return compute


def test_a_choice_is_computed_once_and_read_back_equal(folder):
    calls = []
    for derivation in (Auto(), Auto(HermiteTruncation(4), Quadrature(8), 1e-3), Exact()):
        first = remembered_choice(LINEAR, derivation, counted(LINEAR, derivation, calls))
        again = remembered_choice(LINEAR, derivation, counted(LINEAR, derivation, calls))
        assert again == first and again[0].method == derivation.choose(LINEAR).method
    assert len(calls) == 3 and len(list(folder.glob("overlapdyn_choice_*.json"))) == 3
    # another protocol is another input (same choice, computed again)
    other = Model(LINEAR.target, LINEAR.student, Protocol(eta=0.2))
    remembered_choice(other, Auto(), counted(other, Auto(), calls))
    assert len(calls) == 4
    assert cache.info().disk_bytes > 0
    cache.clear()
    assert list(folder.glob("overlapdyn_choice_*")) == []


def test_a_damaged_or_foreign_file_is_computed_again(folder):
    calls = []
    path = choice_path(choice_inputs(ERF, Auto()))
    path.write_text("{not json")
    choice, key, facts = remembered_choice(ERF, Auto(), counted(ERF, Auto(), calls))
    assert len(calls) == 1 and choice.method.label == "closed-form" and key == "key-1"
    assert remembered_choice(ERF, Auto(), counted(ERF, Auto(), calls)) == (choice, key, facts)
    assert len(calls) == 1


def test_an_error_is_raised_every_time_and_nothing_is_written(folder):
    for _ in range(2):
        with pytest.raises(NotPolynomialError):
            remembered_choice(ERF, Exact(), counted(ERF, Exact(), []))
    assert list(folder.glob("overlapdyn_choice_*")) == []


def test_a_derivation_class_of_the_user_is_not_remembered(folder):
    class Mine(Exact):
        pass

    calls = []
    assert choice_inputs(LINEAR, Mine()) is None
    for _ in range(2):
        remembered_choice(LINEAR, Mine(), counted(LINEAR, Mine(), calls))
    assert len(calls) == 2 and list(folder.glob("overlapdyn_choice_*")) == []


def test_a_choice_that_warns_warns_every_time_and_is_not_written(folder):
    def compute():
        warnings.warn("the kink", KinkAccuracyWarning, stacklevel=2)
        return Exact().choose(LINEAR), "key", {}

    for _ in range(2):
        with pytest.warns(KinkAccuracyWarning, match="the kink"):
            remembered_choice(LINEAR, Exact(), compute)
    assert list(folder.glob("overlapdyn_choice_*")) == []


def test_the_build_options_are_inputs(folder):
    calls = []
    for tables in (None, True, None, True):
        remembered_choice(LINEAR, Auto(), counted(LINEAR, Auto(), calls), {"tables": tables})
    assert len(calls) == 2


def test_a_warning_before_an_error_is_passed_on_with_it(folder):
    def compute():
        warnings.warn("the kink", KinkAccuracyWarning, stacklevel=2)
        raise NotPolynomialError("then this")

    with pytest.warns(KinkAccuracyWarning, match="the kink"), \
            pytest.raises(NotPolynomialError, match="then this"):
        remembered_choice(LINEAR, Exact(), compute)
    assert list(folder.glob("overlapdyn_choice_*")) == []
