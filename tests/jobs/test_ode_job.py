"""The ``[integrate]`` section and ``overlapdyn ode``: validation, end-to-end runs, blow-ups.

The models reuse kernels that ``test_drift.py`` compiles anyway (erf/erf closed forms, He3/He3
committee): the generated module depends only on the activations, not on p, k or η.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from configs import SAAD_SOLLA_TOML

from overlapdyn.cli import main
from overlapdyn.errors import ConfigError, IntegrationError
from overlapdyn.io.toml import load_run
from overlapdyn.jobs.ode import OUTPUTS, run_ode
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.config import IntegrateConfig
from overlapdyn.ode.events import OverlapCrosses, RiskBelow
from overlapdyn.ode.trajectory import Trajectory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ERF = SAAD_SOLLA_TOML + """
[integrate]
t_end = 50.0
n_points = 30
d = 1000
seed = 3
"""

BLOWUP = """
[target]
k = 2
activation = "He3"
[student]
p = 2
activation = "He3"
[protocol]
eta = 0.3
[integrate]
t_end = 10.0
n_points = 30
t_first = 0.001
"""


def write(tmp_path, text: str, name: str = "run.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_examples_load_with_their_integrate_section(path):
    model, config = load_run(path)
    assert model.name == path.stem
    assert config.save.grid()[-1] == config.save.t_end
    config.initial_state(model)  # warm-start shapes match the model, or d is large enough


def test_defaults_without_integrate_section(tmp_path):
    text = ERF.split("[integrate]")[0]
    model, config = load_run(write(tmp_path, text))
    assert config == IntegrateConfig()
    assert (config.save.t_end, config.save.n_points, config.solver.method, config.d) == (
        1000.0, 200, "LSODA", 10000)
    assert config.events == ()


@pytest.mark.parametrize(("values", "message"), [
    ({"t_end": 0.0}, "integrate.t_end must be > 0"),
    ({"t_end": "10"}, "integrate.t_end must be a number"),
    ({"n_points": 1}, "integrate.n_points must be ≥ 2"),
    ({"n_points": 10.5}, "integrate.n_points must be an integer"),
    ({"t_first": 5.0, "t_end": 1.0}, "t_first = 5 must be below t_end = 1"),
    ({"log": "yes"}, "integrate.log must be true or false"),
    ({"method": "Euler"}, "integrate.method must be one of .*DOP853"),
    ({"rtol": -1e-6}, "integrate.rtol must be > 0"),
    ({"atol": "1e-10"}, "integrate.atol must be a number"),
    ({"jacobian": "symbolic"}, "integrate.jacobian must be 'auto', 'exact' or 'solver'"),
    ({"method": "RK45", "jacobian": "exact"}, "method 'RK45' uses no Jacobian"),
    ({"d": 0}, "integrate.d must be ≥ 1"),
    ({"seed": -1}, "integrate.seed must be ≥ 0"),
    ({"M0": [[0.1]]}, "needs both integrate.M0 .* and integrate.Q0"),
    ({"M0": [0.1], "Q0": [[1.0]]}, "integrate.M0 must be a matrix"),
    ({"M0": [[0.1], [0.2, 0.3]], "Q0": [[1.0]]}, "integrate.M0 must be a matrix"),
    ({"risk_below": 0.0}, "integrate.risk_below must be > 0"),
    ({"overlap_above": float("nan")}, "integrate.overlap_above"),
    ({"escape_overlap": 0.9}, "integrate.escape_overlap is now overlap_above"),
    ({"tend": 5.0}, r"unknown keys \['tend'\] in \[integrate\]; allowed: .*'t_end'"),
])
def test_integrate_config_validation(values, message):
    with pytest.raises(ConfigError, match=message):
        IntegrateConfig.from_dict(values)


def test_warm_start_shapes_and_events():
    model = Model(Target(k=2, activation="erf"), Student(p=3, activation="erf"),
                  Protocol(eta=0.1))
    with pytest.raises(ConfigError, match="integrate.M0 must be p×k = 3×2"):
        IntegrateConfig(M0=[[0.1, 0.0]], Q0=[[1.0]]).initial_state(model)
    with pytest.raises(ConfigError, match="integrate.Q0 must be p×p = 3×3"):
        IntegrateConfig(M0=np.zeros((3, 2)), Q0=[[1.0]]).initial_state(model)
    with pytest.raises(ConfigError, match="integrate.d = 4 must be at least p \\+ k = 5"):
        IntegrateConfig(d=4).initial_state(model)
    config = IntegrateConfig(M0=np.full((3, 2), 0.1).tolist(), Q0=np.eye(3).tolist(),
                             events=(RiskBelow(1e-3), OverlapCrosses(0.9)))
    M, Q, a = config.initial_state(model)
    assert M.shape == (3, 2) and Q.shape == (3, 3) and a.shape == (3,)
    assert [e.name for e in config.events] == ["risk<0.001", "|M[*,*]|>0.9"]
    assert IntegrateConfig.from_dict(config.to_dict()) == config
    json.dumps(config.to_dict())


def test_run_ode_end_to_end(tmp_path, capsys):
    path = write(tmp_path, ERF)
    trajectory = run_ode(path, tmp_path / "out")
    for name in OUTPUTS:
        assert (tmp_path / "out" / name).stat().st_size > 0
    loaded = Trajectory.load(tmp_path / "out" / "trajectory.npz")
    model, config = load_run(path)
    assert loaded.model == model and loaded.model.name == "run"
    assert loaded.status == 0 and loaded.t[-1] == pytest.approx(50.0)
    assert loaded.t.shape == (30,)
    np.testing.assert_array_equal(loaded.M, trajectory.M)
    assert loaded.risk[-1] < loaded.risk[0]
    payload = json.loads((tmp_path / "out" / "config.json").read_text())
    assert set(payload) == {"model", "integrate", "run"}
    assert payload["model"] == model.to_dict()
    assert payload["integrate"]["seed"] == 3 and payload["integrate"]["t_end"] == 50.0
    run = payload["run"]
    assert run["status"] == 0 and run["final_risk"] == pytest.approx(loaded.risk[-1])
    assert run["samples_final"] == pytest.approx(50.0 * 1000)
    assert run["fingerprint"] == model.fingerprint() and run["versions"]["overlapdyn"]
    assert {"events", "wall_time_s", "kernels", "solver", "message"} <= set(run)
    out = capsys.readouterr().out
    assert "final risk" in out and "events: none" in out and str(tmp_path / "out") in out


def test_warm_start_and_terminal_event(tmp_path):
    text = ERF.replace("seed = 3", "M0 = [[0.8, 0.1], [0.1, 0.8]]\nQ0 = [[1.0, 0.1], "
                       "[0.1, 1.0]]\nrisk_below = 5e-3")
    trajectory = run_ode(write(tmp_path, text), tmp_path / "out")
    assert trajectory.status == 1
    np.testing.assert_allclose(trajectory.M[0], [[0.8, 0.1], [0.1, 0.8]])
    fired = trajectory.events["risk<0.005"]
    assert len(fired) == 1 and trajectory.t[-1] <= fired[0] < 50.0


def test_cli_ode(tmp_path, capsys):
    path = write(tmp_path, ERF)
    assert main(["ode", str(path), "--out", str(tmp_path / "cli"), "--t-end", "20"]) == 0
    loaded = Trajectory.load(tmp_path / "cli" / "trajectory.npz")
    assert loaded.t[-1] == pytest.approx(20.0)
    assert "wrote trajectory.npz" in capsys.readouterr().out


def test_cli_ode_config_errors_exit_2(tmp_path, capsys):
    assert main(["ode", str(tmp_path / "missing.toml"), "--out", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err
    path = write(tmp_path, ERF.replace("d = 1000", "d = 1000\nrtol = 0"))
    assert main(["ode", str(path), "--out", str(tmp_path / "x")]) == 2
    assert "integrate.rtol must be > 0" in capsys.readouterr().err
    assert main(["ode", str(path), "--out", str(tmp_path / "x"), "--t-end", "-1"]) == 2


def test_blowup_keeps_the_partial_trajectory(tmp_path, capsys):
    path = write(tmp_path, BLOWUP, "blowup.toml")
    assert main(["ode", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "blew up" in capsys.readouterr().err
    loaded = Trajectory.load(tmp_path / "out" / "trajectory.npz")
    assert loaded.status == -1 and "blew up" in loaded.message
    assert 0 < loaded.t[-1] < 1.0 and np.all(np.isfinite(loaded.M))
    assert json.loads((tmp_path / "out" / "config.json").read_text())["run"]["status"] == -1
    with pytest.raises(IntegrationError) as caught:
        run_ode(path, tmp_path / "again")
    assert caught.value.trajectory.status == -1
    assert (tmp_path / "again" / "trajectory.npz").exists()


CONSTANT = """
[target]
k = 1
expression = "1"      # y = 1 + √Δ ξ: nothing to learn but the mean (pure-noise learning)
noise = 0.5
[student]
p = 1
activation = "tanh"
[protocol]
eta = 0.2
[integrate]
t_end = 5.0
n_points = 10
d = 1000
"""


def test_a_constant_target_runs_through_the_ode_command(tmp_path, capsys):
    """`overlapdyn ode` on `expression = "1"` hung (issue 16: Auto truncated the tanh
    student and the kernels' code generation never ended); now it runs on quadrature
    kernels. tanh is odd, so E[σ] = 0 and the risk is ½(Δ + 1 + E[tanh(λ)²]) at every time,
    checked here by one-dimensional quadrature at the saved Q."""
    path = write(tmp_path, CONSTANT, "constant.toml")
    assert main(["ode", str(path), "--out", str(tmp_path / "out")]) == 0
    assert "(quadrature kernels)" in capsys.readouterr().out
    loaded = Trajectory.load(tmp_path / "out" / "trajectory.npz")
    assert loaded.status == 0 and loaded.kernels == "quadrature"
    assert loaded.truncation_errors == pytest.approx({"σ = tanh": 0.0610}, abs=2e-4)
    nodes, weights = np.polynomial.hermite_e.hermegauss(120)
    weights = weights / weights.sum()
    for q, risk in zip(loaded.Q[:, 0, 0], loaded.risk, strict=True):
        expected = 0.5 * (0.5 + 1.0 + weights @ np.tanh(np.sqrt(q) * nodes) ** 2)
        assert risk == pytest.approx(expected, rel=1e-6)
    assert loaded.Q[-1, 0, 0] != pytest.approx(loaded.Q[0, 0, 0], rel=1e-3)  # it moved


@pytest.mark.parametrize(("expression", "message"), [
    ('"He0"', "'He0' uses \\['He0'\\], not a variable here"),
    ('"True"', "'True' contains the constant 'True'"),
    ('"z1, z2"', "contains the tuple 'z1, z2'"),
    ("true", "must be a formula written as a string.*got True \\(bool\\)"),
])
def test_constant_like_expressions_that_are_not_formulas_are_config_errors(
        tmp_path, capsys, expression, message):
    path = write(tmp_path, CONSTANT.replace('"1"', expression), "bad.toml")
    with pytest.raises(ConfigError, match=message):
        load_run(path)
    assert main(["ode", str(path), "--out", str(tmp_path / "out")]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_constant_number_is_a_constant_target(tmp_path):
    model, _ = load_run(write(tmp_path, CONSTANT.replace('"1"', "1"), "number.toml"))
    assert model.target.expression == "1" and model.target.function() == 1


def test_set_overrides_values_of_the_file_and_the_record_says_which(tmp_path, capsys):
    config = tmp_path / "erf.toml"
    config.write_text(ERF)
    out = tmp_path / "out"
    assert main(["ode", str(config), "--out", str(out), "--set", "protocol.eta=0.25",
                 "--set", "integrate.seed=7", "--set", "integrate.t_end=5",
                 "--set", "student.activation=erf"]) == 0
    record = json.loads((out / "config.json").read_text())
    assert record["model"]["protocol"]["eta"] == 0.25
    assert (record["integrate"]["seed"], record["integrate"]["t_end"]) == (7, 5.0)
    assert record["run"]["overrides"] == ["protocol.eta=0.25", "integrate.seed=7",
                                          "integrate.t_end=5", "student.activation=erf"]
    assert Trajectory.load(out / "trajectory.npz").model.protocol.eta == 0.25
    capsys.readouterr()
    for bad, message in [("eta=0.3", "is not TABLE.KEY=VALUE"),
                         ("protocol.eta", "is not TABLE.KEY=VALUE"),
                         ("protocol.etaa=0.3", "etaa")]:
        assert main(["ode", str(config), "--out", str(out), "--set", bad]) == 2
        assert message in capsys.readouterr().err


def test_override_values_are_toml_or_plain_text_and_the_file_is_kept():
    from overlapdyn.io.toml import apply_overrides

    config = {"target": {"k": 2}, "name": "x"}
    result = apply_overrides(config, ["target.expression=z1*z2", 'student.activation="tanh"',
                                      "sweep.eta=[0.1, 0.2]", "protocol.spherical=true"])
    assert result["target"] == {"k": 2, "expression": "z1*z2"}
    assert config == {"target": {"k": 2}, "name": "x"}
    assert result["student"] == {"activation": "tanh"} and result["sweep"] == {"eta": [0.1, 0.2]}
    assert result["protocol"]["spherical"] is True
    with pytest.raises(ConfigError, match="'name' is not a table"):
        apply_overrides(config, ["name.x=1"])
