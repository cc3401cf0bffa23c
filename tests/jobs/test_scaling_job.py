"""`overlapdyn scaling`: the report, the JSON with the configuration, the figures."""

import json
from pathlib import Path

import pytest

import overlapdyn as od
from overlapdyn.cli import main
from overlapdyn.jobs.scaling import ScalingReport, run_scaling
from overlapdyn.scaling.saddles import SaddleToSaddle

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_scaling_command_on_a_single_index_target(tmp_path, capsys):
    out = tmp_path / "he3"
    assert main(["scaling", str(EXAMPLES / "he3_escape.toml"), "--d", "64", "128", "256",
                 "--route", "both", "--sim-d", "64", "128", "--seeds", "4",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "information exponent ℓ = 3" in printed and "n ≍ d^2" in printed
    # η_c = m(1 − m²)/(3 + 36m² + 54m⁴) at m = 1/8 (tests/scaling/test_escape.py)
    assert "critical learning rate of the random start" in printed
    assert "d =     64: η_c = 0.0344, η = 0.0125 — escapes" in printed
    saved = json.loads((out / "scaling.json").read_text())
    assert saved["model"] == od.load_model(EXAMPLES / "he3_escape.toml").to_dict()
    routes = {escape["route"]: escape for escape in saved["escapes"]}
    assert set(routes) == {"ode", "simulation"}
    assert abs(routes["ode"]["fit"]["exponent"] - 2.0) <= 0.15
    assert routes["ode"]["ds"] == [64, 128, 256] and routes["simulation"]["ds"] == [64, 128]
    assert routes["simulation"]["etas"] == pytest.approx([0.1 / 8, 0.1 / 128**0.5])
    assert "simulation route at d = 64, 128 (4 seeds each)" in printed
    for name in ("report.txt", "escape_scaling.png", "escape_curves.png", "escape_ode.json",
                 "escape_simulation.json"):
        assert (out / name).stat().st_size > 0
    assert not (out / "saddles.png").exists()


def test_scaling_reports_the_saddles_of_a_staircase(tmp_path):
    model = od.load_model(EXAMPLES / "staircase_saddles.toml")
    report = run_scaling(model, [1000, 10000], tmp_path, threshold=0.3, progress=False)
    assert report.prediction.exponent == 1
    assert report.saddles.order == (0, 1, 2)
    assert report.saddles.agrees_with(report.prediction.leap)
    assert (tmp_path / "saddles.png").stat().st_size > 0
    assert "order of learning as the leap predicts (z1 → z2 → z3): yes" in report.describe()


def test_a_direction_not_learned_in_the_horizon_is_said_to_be_unseen():
    """z1 learned, z2 and z3 never within the horizon: the order is consistent with the leap
    so far, and the report says how far that goes."""
    model = od.load_model(EXAMPLES / "staircase_saddles.toml")
    saddles = SaddleToSaddle((12.0, float("nan"), float("nan")), (), 0.3)
    report = ScalingReport(model, od.predict_scaling(model), (), saddles, 0.15)
    assert saddles.unlearned == (1, 2) and saddles.order == (0,)
    assert saddles.agrees_with(report.prediction.leap)
    assert ("order of learning as the leap predicts (z1 → z2 → z3): yes (as far as the "
            "horizon shows: 2 directions not learned in it)") in report.describe()


def test_scaling_errors(tmp_path, capsys):
    config = str(EXAMPLES / "he3_escape.toml")
    assert main(["scaling", config, "--d", "256", "--out", str(tmp_path)]) == 2
    assert "at least two different dimensions" in capsys.readouterr().err
    assert main(["scaling", config, "--d", "64", "128", "--eta", "fast",
                 "--out", str(tmp_path)]) == 2
    assert "--eta must be a number or auto, got 'fast'" in capsys.readouterr().err
    assert main(["scaling", config, "--d", "64", "128", "--route", "both", "--sim-d", "64",
                 "--out", str(tmp_path)]) == 2
    assert "at least two different dimensions (--sim-d), got [64]" in capsys.readouterr().err
