"""The derivation scripts run, print, and agree with the numeric evaluator."""

import runpy
from pathlib import Path

import pytest
import sympy

SCRIPT = Path(__file__).resolve().parents[1] / "derivations" / "saad_solla_integrals.py"


@pytest.fixture(scope="module")
def script():
    return runpy.run_path(str(SCRIPT))


def test_he2_integrals_by_hand(script):
    c = {s: sympy.Symbol(f"C_{s}") for s in ("11", "12", "13", "22", "23", "33")}
    integrals = script["derive_integrals"]("He2")
    # I3 = E[2a · b · (c² − 1)] = 2(C12 (C33 − 1) + 2 C13 C23) by Isserlis
    assert sympy.expand(integrals["I3"] - 2 * (c["12"] * (c["33"] - 1)
                                               + 2 * c["13"] * c["23"])) == 0
    assert integrals["J2"] == 4 * c["12"]


@pytest.mark.parametrize("name", ["He2", "He3", "He4"])
def test_integrals_match_cubature(script, name):
    rows = script["check_integrals"](name, seed=1)
    assert {row[0] for row in rows} == {"I2", "I3", "I4", "J2"}
    assert all(row[3] < 1e-9 for row in rows)


def test_main_prints_latex_and_sympy(script, tmp_path, capsys):
    out = tmp_path / "integrals.tex"
    assert script["main"](["--activations", "He3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "C_{12}" in printed and "C_12" in printed
    assert "align" in out.read_text()


def test_leap_table_agrees_with_the_literature():
    script = runpy.run_path(str(SCRIPT.parent / "leap_table.py"))
    rows = script["table_rows"]()
    assert len(rows) >= 12 and all(row["agrees"] for row in rows)
    staircase = next(row for row in rows if row["target"] == "z1 + z1*z2 + z1*z2*z3")
    assert staircase["learned"] == "z1 → z2 → z3" and staircase["samples"] == "d^1"
    table = script["latex"](rows)
    assert table.startswith(r"\begin{tabular}") and table.count(r"\\") == len(rows) + 1


def test_weak_recovery_derivation_gives_the_library_formula():
    script = runpy.run_path(str(SCRIPT.parent / "weak_recovery.py"))
    derived = script["derive"]()
    c2, delta, h, sigma = sympy.symbols("c2 delta h sigma", real=True)
    assert sympy.simplify(derived["E[He2|h]"] - 2 * c2 * delta * h / sigma ** 2) == 0
    rows = {row[0]: row for row in script["table"](0.5, "tanh(3*x)", ds=(64,))}
    assert rows["P3"][3][0] == pytest.approx(5 / 3, abs=1e-3)        # n* = 64·8·2
    assert rows["P3-code"][2] == pytest.approx(1.5, abs=1e-3)        # λ = 4c₂²/σ² = 3/2
