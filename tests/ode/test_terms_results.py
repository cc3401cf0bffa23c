"""``protocol.terms``: the vocabulary and its errors, the dict and TOML round trips, results
that save and load the switch with their model, and the CLI reading it."""

import json

import numpy as np
import pytest
from configs import SAAD_SOLLA_TOML

from overlapdyn.cli import main
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.errors import ConfigError, UnknownTermError
from overlapdyn.io.toml import load_model, load_run
from overlapdyn.model.spec import Model, Protocol, Student, Target, model_from_dict
from overlapdyn.model.terms import PRESETS, TERM_NAMES, Terms
from overlapdyn.ode.analysis import FixedPoint, find_fixed_point
from overlapdyn.ode.integrator import SaveAt, integrate
from overlapdyn.ode.state_evolution import evolve
from overlapdyn.ode.trajectory import Trajectory
from overlapdyn.reuse.online import OnlineReuse
from overlapdyn.sgd.simulator import simulate


def erf_model(terms="all", noise: float = 0.01) -> Model:
    return Model(Target(k=2, activation="erf", c_k=1.0, noise=noise),
                 Student(p=2, activation="erf", c_p=1.0), Protocol(eta=0.5, terms=terms))


def test_vocabulary_presets_and_coefficients():
    assert TERM_NAMES == ("gradient", "noise", "variance", "decay")
    assert Terms() == Terms.of(None) == Terms.of("all") == Terms.of(list(reversed(TERM_NAMES)))
    assert Terms().full and Terms().preset == "all"
    classic = Terms.of("classic")
    assert classic == Terms(variance=False) == Terms.of(["noise", "decay", "gradient", "noise"])
    assert classic.names == PRESETS["classic"] and str(classic) == (
        "gradient + noise + decay (classic)")
    assert Terms.of("gradient-flow").names == ("gradient", "decay")
    assert Terms.of("variance").names == ("variance",) and Terms.of("variance").preset is None
    np.testing.assert_array_equal(classic.coefficients, [1.0, 1.0, 0.0, 1.0])
    assert Terms.of(classic.to_value()) == classic
    assert Protocol(eta=0.1, terms=("gradient", "decay")).terms == Terms.of("gradient-flow")


@pytest.mark.parametrize(("terms", "error", "message"), [
    (["gradient", "nosie"], UnknownTermError,
     r"unknown drift term \['nosie'\].*\['gradient', 'noise', 'variance', 'decay'\].*presets "
     r"\['all', 'gradient-flow', 'classic'\]"),
    ("clasic", UnknownTermError, r"unknown drift term \['clasic'\]"),
    (["classic"], UnknownTermError, r"'classic' is a preset.*protocol.terms = 'classic'"),
    (["I4", "label-noise"], UnknownTermError, r"unknown drift terms \['I4', 'label-noise'\]"),
    ([], ConfigError, "protocol.terms is empty: every drift term would be off"),
    (5, ConfigError, "protocol.terms must be a list of drift terms"),
    (["gradient", 1], ConfigError, "protocol.terms lists names, got 1"),
])
def test_bad_terms_are_named_errors(terms, error, message):
    with pytest.raises(error, match=message):
        Protocol(eta=0.1, terms=terms)
    assert issubclass(UnknownTermError, ConfigError)


def test_switching_off_every_term_that_acts_is_refused():
    with pytest.raises(ConfigError, match="every drift term is switched off"):
        Terms(gradient=False, noise=False, variance=False, decay=False)
    with pytest.raises(ConfigError, match="Terms.noise must be true or false"):
        Terms(noise="yes")
    # parts the model does not have: no label noise, no weight decay
    with pytest.raises(ConfigError, match=r"keeps only \['noise', 'decay'\].*Δ = 0.*ω = 0"):
        erf_model(["noise", "decay"], noise=0.0)
    erf_model(["noise"])                       # Δ > 0: the noise part moves Q


def test_dict_and_toml_round_trip(tmp_path):
    plain = erf_model()
    assert "terms" not in plain.to_dict()["protocol"]   # fingerprints of old models kept
    classic = erf_model("classic")
    assert classic.to_dict()["protocol"]["terms"] == ["gradient", "noise", "decay"]
    assert model_from_dict(classic.to_dict()) == classic
    assert classic.fingerprint() != plain.fingerprint()
    assert model_from_dict(json.loads(json.dumps(plain.to_dict()))) == plain
    for line, expected in (('terms = ["variance", "gradient"]', Terms(noise=False, decay=False)),
                           ('terms = "gradient-flow"', Terms.of("gradient-flow")),
                           ("", Terms())):
        path = tmp_path / "model.toml"
        path.write_text(SAAD_SOLLA_TOML + line + "\n")
        assert load_model(path).protocol.terms == expected
    path.write_text(SAAD_SOLLA_TOML + 'terms = ["gradient", "varaince"]\n')
    with pytest.raises(UnknownTermError, match=r"\['varaince'\].*'variance'"):
        load_model(path)
    path.write_text(SAAD_SOLLA_TOML)
    model, _ = load_run(path, ["protocol.terms=classic"])
    assert model.protocol.terms == Terms.of("classic")
    model, _ = load_run(path, ['protocol.terms=["gradient"]'])
    assert model.protocol.terms.names == ("gradient",)


def test_results_save_and_load_their_terms(tmp_path):
    model = erf_model("classic")
    compiled = CompiledModel(model)
    M0, Q0 = np.array([[0.3, 0.1], [0.05, 0.2]]), np.array([[0.6, 0.1], [0.1, 0.5]])
    trajectory = integrate(compiled, (M0, Q0), SaveAt(20.0, 12))
    trajectory.save(tmp_path / "run.npz")
    loaded = Trajectory.load(tmp_path / "run.npz")
    assert loaded.model == model and loaded.model.protocol.terms == Terms.of("classic")
    assert "drift terms kept: gradient + noise + decay (classic)" in loaded.describe()
    # the loaded model integrates the same ODE, not the full one
    again = integrate(loaded.model, (M0, Q0), SaveAt(20.0, 12))
    np.testing.assert_allclose(again.risk, trajectory.risk, rtol=1e-12)
    full = integrate(erf_model(), (M0, Q0), SaveAt(20.0, 12))
    assert np.abs(full.risk - trajectory.risk).max() > 1e-4
    mapped = evolve(compiled, (M0, Q0), 5, 1.0)
    mapped.save(tmp_path / "map.npz")
    assert Trajectory.load(tmp_path / "map.npz").model.protocol.terms == model.protocol.terms
    fixed = find_fixed_point(compiled, 0.9 * np.eye(2), 0.95 * np.eye(2))
    fixed.save(tmp_path / "fixed.npz")
    back = FixedPoint.load(tmp_path / "fixed.npz")
    assert back.compiled.model == model
    np.testing.assert_allclose(back.compiled.drift(back.M, back.Q)[1], 0.0, atol=1e-10)
    assert np.abs(CompiledModel(erf_model()).drift(back.M, back.Q)[1]).max() > 1e-6


def test_the_cli_reads_the_terms_and_the_simulators_refuse_them(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text(SAAD_SOLLA_TOML + 'terms = "gradient-flow"\n[integrate]\nt_end = 5.0\n'
                    "n_points = 8\nd = 500\n")
    assert main(["ode", str(path), "--out", str(tmp_path / "out")]) == 0
    assert "drift terms kept: gradient + decay (gradient-flow)" in capsys.readouterr().out
    saved = Trajectory.load(tmp_path / "out" / "trajectory.npz")
    assert saved.model.protocol.terms == Terms.of("gradient-flow")
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["model"]["protocol"]["terms"] == ["gradient", "decay"]
    assert main(["ode", str(path), "--out", str(tmp_path / "bad"),
                 "--set", 'protocol.terms=["gradient", "nois"]']) == 2
    assert "unknown drift term ['nois']" in capsys.readouterr().err
    model = erf_model("classic")
    with pytest.raises(ConfigError, match="simulator runs SGD itself.*protocol.terms = 'all'"):
        simulate(model, 50, [0.0, 1.0])
    with pytest.raises(ConfigError, match="drift terms switched off"):
        OnlineReuse(model)
