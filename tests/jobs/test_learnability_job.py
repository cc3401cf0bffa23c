"""``overlapdyn learnability``: the table on stdout, the files with --out, a model file's
target, and one line with the fix for bad input."""

import json
from pathlib import Path

from overlapdyn.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_command_prints_the_table_and_writes_the_profile(tmp_path, capsys):
    assert main(["learnability", "z1*z2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "learnability of y = z1*z2 (k = 2, Δ = 0)" in out
    assert "n = α d, α > 0.593751" in out
    summary = json.loads((tmp_path / "learnability.json").read_text())
    assert summary["leap"] == 2 and summary["generative"]["exponent"] == 2
    assert (tmp_path / "report.txt").read_text().startswith("learnability of y = z1*z2")


def test_a_model_file_gives_its_target_and_noise_is_an_option(capsys):
    assert main(["learnability", str(EXAMPLES / "he3_escape.toml")]) == 0
    assert "leap ℓ = 3" in capsys.readouterr().out
    assert main(["learnability", str(EXAMPLES / "staircase.toml")]) == 2
    assert "label noise" in capsys.readouterr().err


def test_bad_input_ends_on_one_line(capsys):
    assert main(["learnability", "z1", "--tol", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tol must be > 0" in err
