"""Model specs: validation errors that name the key and the fix, the dict/TOML round trip,
fingerprints, and every file of ``examples/`` parsing."""

from pathlib import Path

import numpy as np
import pytest

from overlapdyn.errors import ConfigError, CovarianceError, UnknownActivationError
from overlapdyn.io.toml import load_model
from overlapdyn.model.spec import Model, Protocol, Student, Target, model_from_dict

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))

CONFIG = {
    "target": {"k": 2, "activation": "erf", "c_k": 1.0},
    "student": {"p": 2, "activation": "erf", "c_p": 1.0},
    "protocol": {"eta": 0.5},
}


def committee(**protocol) -> Model:
    return Model(Target(k=2, activation="He2"), Student(p=2, activation="He2"),
                 Protocol(**{"eta": 0.3, **protocol}))


def test_unknown_activation_lists_the_known_names():
    with pytest.raises(UnknownActivationError, match="known names: .*erf.*He<n>"):
        Target(k=1, activation="rleu")
    with pytest.raises(UnknownActivationError, match="relu"):
        Student(p=1, activation="reLu_")


@pytest.mark.parametrize("kwargs", [{}, {"activation": "erf", "expression": "z1"}])
def test_target_needs_exactly_one_of_activation_and_expression(kwargs):
    with pytest.raises(ConfigError, match="exactly one of 'activation'.*'expression'"):
        Target(k=1, **kwargs)


def test_expression_fields_must_exist():
    message = r"\(k = 2\) 'z1\*z3' uses \['z3'\].*variables \['z1', 'z2'\]"
    with pytest.raises(ConfigError, match=message):
        Target(k=2, expression="z1*z3")
    assert Target(k=3, expression="z1*z3").latent_names == ("z1", "z2", "z3")


def test_committee_weights_and_expression_coefficients():
    with pytest.raises(ConfigError, match=r"target.b must have 2 entries \(one per latent "
                       r"direction, target.k = 2\), got 3: give 2, e.g. \[1.0, 1.0\], or "
                       r"leave target.b out for all ones"):
        Target(k=2, activation="erf", b=[1.0, 1.0, 1.0])
    with pytest.raises(ConfigError, match="put the coefficients into the expression"):
        Target(k=1, expression="z1", c_k=2.0)


@pytest.mark.parametrize("P", [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]]])
def test_teacher_gram_must_be_positive_definite(P):
    with pytest.raises(CovarianceError, match="P"):
        Target(k=2, activation="erf", P=P)


def test_teacher_gram_shape():
    with pytest.raises(CovarianceError, match="2×2"):
        Target(k=2, activation="erf", P=[[1.0]])


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Target(k=1, activation="erf", noise=-0.1), r"target.noise \(Δ\) must be ≥ 0"),
    (lambda: Target(k=0, activation="erf"), "target.k must be ≥ 1"),
    (lambda: Student(p=2.0, activation="erf"), "student.p must be an integer"),
    (lambda: Student(p=1, activation="erf", a=[1.0, 2.0]), "student.a must have 1 entries"),
    (lambda: Student(p=1, activation="erf", train_readout=True), "positive student.eta_a"),
    (lambda: Protocol(eta=0.0), "protocol.eta must be > 0"),
    (lambda: Protocol(eta=-0.1), "protocol.eta must be > 0"),
    (lambda: Protocol(eta=0.1, n_b=0), "protocol.n_b must be ≥ 1"),
    (lambda: Protocol(eta=0.1, n_b=True), "protocol.n_b must be an integer"),
    (lambda: Protocol(eta=0.1, loss="hinge"), "protocol.loss must be one of .*mse"),
    (lambda: Protocol(eta=0.1, weight_decay=-1.0), "protocol.weight_decay"),
])
def test_bad_values_name_the_key(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_spherical_sgd_refuses_weight_decay():
    with pytest.raises(ConfigError, match="weight decay has no effect with spherical"):
        committee(spherical=True, weight_decay=0.1)


def test_numpy_integers_are_accepted():
    model = Model(Target(k=np.int64(2), activation="erf"),
                  Student(p=np.int32(3), activation="erf"), Protocol(eta=0.1, n_b=np.int64(8)))
    assert (model.k, model.p, model.protocol.n_b) == (2, 3, 8)
    assert all(type(v) is int for v in (model.k, model.p, model.protocol.n_b))


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c["student"].update(eta=0.1),
     r"unknown keys \['eta'\] in \[student\]; allowed: .*'activation'"),
    (lambda c: c.update(protocl={"eta": 0.1}), r"unknown config sections \['protocl'\]"),
    (lambda c: c.pop("protocol"), r"no \[protocol\] section"),
    (lambda c: c["protocol"].pop("eta"), r"\[protocol\].*'eta'"),
    (lambda c: c["student"].pop("p"), r"\[student\].*'p'"),
])
def test_config_dict_errors(change, message):
    config = {key: dict(value) for key, value in CONFIG.items()}
    change(config)
    with pytest.raises(ConfigError, match=message):
        model_from_dict(config)


def test_other_commands_sections_are_ignored():
    model = model_from_dict({**CONFIG, "integrate": {"t_end": 5.0}, "sweep": {}})
    assert model.protocol.eta == 0.5


def test_toml_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[target]\nk = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_model(bad)
    typo = tmp_path / "typo.toml"
    typo.write_text('[target]\nk = 1\nactivaton = "erf"\n[student]\np = 1\nactivation = "erf"\n'
                    "[protocol]\neta = 0.1\n")
    with pytest.raises(ConfigError, match=r"unknown keys \['activaton'\] in \[target\]"):
        load_model(typo)


@pytest.mark.parametrize("model", [
    model_from_dict(CONFIG, name="erf"),
    Model(Target(k=2, expression="He2(z1)*He1(z2) + z2", noise=0.1,
                 P=[[1.0, 0.3], [0.3, 1.0]]),
          Student(p=3, activation="He3(x) + He4(x)", a=[1.0, -0.5, 0.3], train_readout=True,
                  eta_a=0.4),
          Protocol(eta=0.2, n_b=4, loss="correlation", weight_decay=0.05), name="poly"),
], ids=["committee", "multi-index"])
def test_dict_round_trip(model):
    config = model.to_dict()
    again = model_from_dict(config)
    assert again == model and again.name == model.name
    assert again.to_dict() == config
    assert again.fingerprint() == model.fingerprint()


def test_fingerprint():
    base = model_from_dict(CONFIG)
    assert model_from_dict(CONFIG, name="other").fingerprint() == base.fingerprint()
    # defaults filled in: writing out the default gives the same model and hash
    explicit = {**CONFIG, "protocol": {"eta": 0.5, "n_b": 1, "loss": "mse"}}
    assert model_from_dict(explicit).fingerprint() == base.fingerprint()
    changed = {**CONFIG, "protocol": {"eta": 0.25}}
    assert model_from_dict(changed).fingerprint() != base.fingerprint()
    assert len(base.fingerprint()) == 16


def test_examples_exist():
    names = {path.stem for path in EXAMPLES}
    assert {"saad_solla_erf_K2", "staircase", "he3_single_index_spherical",
            "he2_correlation_batch8", "trained_readout"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_every_example_parses(path):
    model = load_model(path)
    assert model.name == path.stem
    assert model_from_dict(model.to_dict()) == model


def test_seeds_mean_one_thing_a_count_or_the_seeds():
    from overlapdyn.model.checks import check_seeds

    assert check_seeds(3) == (0, 1, 2) and check_seeds(np.int64(2)) == (0, 1)
    assert check_seeds([4, 7]) == (4, 7) and check_seeds(range(2, 4)) == (2, 3)
    with pytest.raises(ConfigError, match="validation needs at least one seed"):
        check_seeds(0, "validation")
    with pytest.raises(ConfigError, match="a seed must be ≥ 0"):
        check_seeds([1, -2])
    with pytest.raises(ConfigError, match="a number of seeds or a sequence"):
        check_seeds(2.5)


@pytest.mark.parametrize(("section", "key", "value"), [
    ("protocol", "eta", True), ("protocol", "eta", "0.5"), ("protocol", "weight_decay", False),
    ("target", "c_k", "1.0"), ("target", "noise", True), ("target", "b", ["1", 1.0]),
    ("target", "P", [[1.0, "0"], [0.0, 1.0]]), ("student", "c_p", True),
    ("student", "a", [True, 1.0]), ("student", "a", "1 1"), ("student", "eta_a", "0.1"),
])
def test_strings_and_booleans_are_not_numbers_in_any_section(section, key, value):
    """`eta = true` used to run with η = 1 and `eta = "0.5"` with η = 0.5, while [integrate]
    refused both: every section refuses them alike, naming the key."""
    config = {name: dict(values) for name, values in CONFIG.items()}
    config[section][key] = value
    with pytest.raises(ConfigError, match=f"{section}.{key}.*must be (a number|a list of "
                                          f"numbers)"):
        model_from_dict(config)


def test_a_target_is_shown_as_written():
    assert Target(k=1, activation="He3").written == "He3(z1)"
    assert Target(k=1, activation="relu", c_k=2.0, b=[0.5]).written == "2·0.5·relu(z1)"
    assert Target(k=2, expression="z1*z2 + He2(z1)").written == "z1*z2 + He2(z1)"
    assert Target(k=2, activation="erf", c_k=1.0).written == (
        "Σ_r b_r erf(z_r), b = [1.0, 1.0]")
