"""Resumable validation (store), its JSON report, its figures and `overlapdyn validate`.

Small sizes: the Saad–Solla erf K = M = 2 committee (c_p = c_k = 1, η = 0.5), d ∈ {100, 400},
t ≤ 5.
"""

import dataclasses
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from configs import SAAD_SOLLA_TOML

from overlapdyn import Model, OverlapdynError, Protocol, Student, Target
from overlapdyn.cli import main
from overlapdyn.plot.validation import plot_gap_scaling, plot_validation
from overlapdyn.sgd.validation import ValidationReport, Verdict, summary_curves, validate

validation = importlib.import_module("overlapdyn.sgd.validation")
SIMULATE = validation.simulate

SAAD_SOLLA = Model(Target(k=2, activation="erf", c_k=1.0),
                   Student(p=2, activation="erf", c_p=1.0), Protocol(eta=0.5))
TIMES = np.concatenate([[0.0], np.geomspace(0.1, 5.0, 10)])
DS = (100, 400)

CONFIG = SAAD_SOLLA_TOML + """
[integrate]
t_end = 2000.0
n_points = 300
t_first = 0.1
"""


@pytest.fixture(scope="module")
def report():
    """The batched (no store) validation every stored one must reproduce exactly."""
    return validate(SAAD_SOLLA, DS, TIMES, seeds=3)


def _counting(monkeypatch, fail_at_d=None):
    """Wrap ``simulate`` to record the (d, seeds) it is asked for; optionally interrupt."""
    calls = []

    def wrapper(model, d, times, *, seeds, **kwargs):
        if d == fail_at_d:
            raise KeyboardInterrupt
        calls.append((d, tuple(seeds)))
        return SIMULATE(model, d, times, seeds=seeds, **kwargs)

    monkeypatch.setattr(validation, "simulate", wrapper)
    return calls


def test_store_keeps_every_run_and_a_rerun_recomputes_nothing(report, tmp_path, monkeypatch):
    store = tmp_path / "store"
    first = validate(SAAD_SOLLA, DS, TIMES, seeds=3, store=store)
    names = {path.name for path in store.iterdir()}
    assert names == {"manifest.json"} | {f"sim_d{d}_seed{s}.npz" for d in DS for s in range(3)}
    assert json.loads((store / "manifest.json").read_text())["fingerprint"] == \
        SAAD_SOLLA.fingerprint()
    # seed by seed (stored) and batched (no store) give the same runs, hence the same report
    assert first.to_dict() == report.to_dict()

    calls = _counting(monkeypatch)
    again = validate(SAAD_SOLLA, DS, TIMES, seeds=3, store=store)
    assert calls == []
    assert again.to_dict() == first.to_dict() and again.describe() == first.describe()
    for old, new in zip(first.simulations, again.simulations, strict=True):
        np.testing.assert_array_equal(old.stack("Q"), new.stack("Q"))
        assert new.loaded_from_store == 3

    more = validate(SAAD_SOLLA, DS, TIMES, seeds=4, store=store)   # only seed 3 is new
    assert calls == [(100, (3,)), (400, (3,))]
    np.testing.assert_array_equal(more.gaps["risk"][:, :3], first.gaps["risk"])


def test_interrupted_run_keeps_finished_runs_and_resumes(report, tmp_path, monkeypatch):
    store = tmp_path / "store"
    _counting(monkeypatch, fail_at_d=400)
    with pytest.raises(KeyboardInterrupt):
        validate(SAAD_SOLLA, DS, TIMES, seeds=3, store=store)
    assert sorted(path.name for path in store.glob("*.npz")) == \
        [f"sim_d100_seed{s}.npz" for s in range(3)]
    assert not list(store.glob(".*tmp"))
    calls = _counting(monkeypatch)
    resumed = validate(SAAD_SOLLA, DS, TIMES, seeds=3, store=store)
    assert {d for d, _ in calls} == {400}                          # in chunks of threads
    assert sorted(s for _, seeds in calls for s in seeds) == [0, 1, 2]
    assert resumed.to_dict() == report.to_dict()


def test_store_of_another_model_or_grid_is_refused(tmp_path, monkeypatch):
    store = tmp_path / "store"
    validation._open_store(store, SAAD_SOLLA, TIMES, None, 0)       # as a first run leaves it
    _counting(monkeypatch, fail_at_d=100)                           # nothing may be simulated
    other = Model(SAAD_SOLLA.target, SAAD_SOLLA.student, Protocol(eta=0.4))
    with pytest.raises(OverlapdynError, match="model \\(fingerprint\\).*another folder"):
        validate(other, DS, TIMES, seeds=2, store=store)
    with pytest.raises(OverlapdynError, match="time grid"):
        validate(SAAD_SOLLA, DS, TIMES[:-1], seeds=2, store=store)


def test_report_json_is_strict_and_complete(report, tmp_path):
    report.save(tmp_path / "report.npz")
    payload = json.loads((tmp_path / "report.json").read_text())
    assert payload == json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert payload["ds"] == list(DS) and payload["seeds"] == [0, 1, 2]
    assert set(payload["gaps"]) == {"risk", "M", "Q"} == set(payload["exponents"])
    assert len(payload["gaps"]["M"]["mean"]) == 2 and len(payload["gaps"]["M"]["per_seed"][0]) == 3
    assert payload["passed"] == report.passed and payload["model"]["student"]["p"] == 2


def test_plots_have_one_panel_per_quantity(report):
    assert len(plot_validation(report).axes) == 1 + 2 + 1          # R, max_j|M_j1|, …|M_j2|, Q_jj
    assert "d = 100" in plot_validation(report, d=100)._suptitle.get_text()
    with pytest.raises(OverlapdynError, match="no runs at d = 50"):
        plot_validation(report, d=50)
    assert len(plot_gap_scaling(report).axes) == 3                  # risk, M, Q


def test_summary_curves_are_what_the_validation_plot_shows(report):
    run = report.simulations[0].trajectories[0]
    curves = summary_curves(run)
    assert list(curves) == ["risk", "alignment", "self_overlap"]      # readout not trained
    np.testing.assert_array_equal(curves["risk"], run.risk)
    np.testing.assert_array_equal(curves["alignment"][:, 1], np.abs(run.M[:, :, 1]).max(axis=1))
    np.testing.assert_allclose(curves["self_overlap"], (run.Q[:, 0, 0] + run.Q[:, 1, 1]) / 2)
    panel = plot_validation(report, d=100).axes[1]                    # max_j |M_j1|
    sims = report.simulations[0].trajectories
    np.testing.assert_allclose(panel.get_lines()[0].get_ydata(),
                               np.mean([summary_curves(tr)["alignment"][:, 0] for tr in sims], 0))


def test_fitted_gap_is_the_power_law_of_the_exponent(report):
    for q, exponent in report.exponents.items():
        fitted = report.fitted_gap(q)
        slope = np.log(fitted[1] / fitted[0]) / np.log(DS[1] / DS[0])
        assert slope == pytest.approx(exponent, rel=1e-12)
        # two dimensions: the least-squares line goes through both mean gaps
        np.testing.assert_allclose(fitted, report.gaps[q].mean(axis=1), rtol=1e-12)
        line = plot_gap_scaling(report).axes[list(report.exponents).index(q)].get_lines()[2]
        np.testing.assert_allclose(line.get_ydata(), fitted)


def test_cli_writes_reports_and_figures_and_resumes(tmp_path, capsys):
    config = tmp_path / "erf.toml"
    config.write_text(CONFIG)
    out = tmp_path / "out"
    argv = ["validate", str(config), "--d", "100", "400", "--seeds", "2", "--t-end", "5",
            "--points", "8", "--out", str(out)]
    assert main(argv) == 1          # FAIL: 2 seeds are too few, the M exponent is −0.22
    for name in ("report.txt", "report.json", "validation.png", "gap_scaling.png"):
        assert (out / name).stat().st_size > 0
    assert len(list((out / "store").glob("sim_*.npz"))) == 4
    printed = capsys.readouterr().out
    assert "verdict:" in printed and "verdict:" in (out / "report.txt").read_text()
    assert json.loads((out / "report.json").read_text())["ds"] == [100, 400]
    assert main(argv) == 1                                         # resumes from the store
    assert main([*argv[:-4], "--points", "9", "--out", str(out)]) == 2   # another grid
    assert "another folder" in capsys.readouterr().err


def test_a_conserved_quantity_is_exact_and_left_out_of_the_verdict():
    he3 = Model(Target(k=1, activation="He3"), Student(p=1, activation="He3", c_p=1.0),
                Protocol(eta=0.002, spherical=True))            # Q = 1 on both sides
    report = validate(he3, (100, 200), TIMES[:6], seeds=2,
                      init=(np.array([[0.5]]), np.eye(1)))
    assert report.exact == ("Q",) and set(report.exponents) == {"risk", "M"}
    assert report.describe().splitlines()[3].split()[-1] == "exact"
    assert report.to_dict()["exact"] == ["Q"]
    assert len(plot_gap_scaling(report).axes) == 2


BLOWS_UP = """
[target]
k = 2
activation = "He3"
c_k = 1.0
[student]
p = 2
activation = "He3"
c_p = 1.0
[protocol]
eta = 0.05
[integrate]
t_end = 5.0
n_points = 11
t_first = 0.1
"""


def test_a_model_that_blew_up_is_undetermined_never_pass(tmp_path, capsys):
    """The Saad–Solla file switched to He3 at η = 0.05: every ODE blows up before t = 0.1
    and one simulation within 8 steps. Only t = 0 is left, where the two agree by
    construction; this used to read PASS with every quantity "exact", then crash plotting
    (and the simulation dead after 8 steps first crashed with "times must increase")."""
    config = tmp_path / "he3.toml"
    config.write_text(BLOWS_UP)
    out = tmp_path / "out"
    assert main(["validate", str(config), "--d", "100", "400", "--seeds", "2",
                 "--out", str(out)]) == 3                            # exit status UNDETERMINED
    text = (out / "report.txt").read_text()
    assert "verdict: UNDETERMINED" in text and "PASS" not in text
    assert "compared on t ∈ [0, 0]: 1 of 11, 1 of 11 saved times" in text
    assert "η is probably too large" in text and "exact" not in text
    payload = json.loads((out / "report.json").read_text())
    assert payload["verdict"] == "UNDETERMINED" and payload["passed"] is False
    assert payload["exact"] == [] and payload["exponents"] == {}
    assert payload["compared"] == {"t_end": 0.0, "points": [1, 1], "grid_points": [11, 11]}
    assert len(payload["failures"]) == 8                # 2 d × 2 seeds × (simulation, ODE)
    for name in ("validation.png", "gap_scaling.png"):
        assert (out / name).stat().st_size > 0
    assert "UNDETERMINED" in capsys.readouterr().out


def test_partial_divergence_compares_the_common_range_and_says_so():
    """η = 0.02: runs end between t ≈ 0.1 and 2.6. Every gap is taken on [0, T], T the
    earliest end, not on each run's own range; the verdict is UNDETERMINED."""
    model = Model(Target(k=2, activation="He3", c_k=1.0), Student(p=2, activation="He3",
                                                                  c_p=1.0), Protocol(eta=0.02))
    report = validate(model, DS, TIMES[:8], seeds=2)
    runs = [tr for sims, odes in zip(report.simulations, report.odes, strict=True)
            for tr in (*sims.trajectories, *odes)]
    t_end = min(tr.t[-1] for tr in runs)
    assert report.compared.t_end == t_end and max(tr.t[-1] for tr in runs) > t_end
    assert report.verdict is Verdict.UNDETERMINED and not report.passed
    for i, (sims, odes) in enumerate(zip(report.simulations, report.odes, strict=True)):
        n = report.compared.points[i]
        assert n == np.count_nonzero(max((tr.t for tr in sims.trajectories), key=len) <= t_end)
        for s, (sim, ode) in enumerate(zip(sims.trajectories, odes, strict=True)):
            expected = np.max(np.abs(sim.Q[:n] - ode.Q[:n])) if n > 1 else np.nan
            np.testing.assert_array_equal(report.gaps["Q"][i, s], expected)
    assert f"{report.compared.t_end:.4g}" in report.describe()


def test_a_saved_report_loads_back_with_its_configuration(report, tmp_path):
    report.save(tmp_path / "report.npz")
    loaded = ValidationReport.load(tmp_path / "report.npz")
    assert loaded.to_dict() == report.to_dict() and loaded.verdict is report.verdict
    np.testing.assert_array_equal(loaded.times, TIMES)
    payload = json.loads((tmp_path / "report.json").read_text())
    assert payload["times"] == TIMES.tolist() and payload["n_test"] == 0
    assert payload["init"] is None and set(payload["library_versions"]) >= {"numpy", "scipy",
                                                                           "numba"}
    assert payload["verdict"] == report.verdict.value != "UNDETERMINED"   # no run failed
    assert payload["compared"]["points"] == [11, 11]


ROOT = Path(__file__).resolve().parents[2]
ERF_CONFIG = SAAD_SOLLA_TOML + """
[integrate]
t_end = 5.0
n_points = 8
t_first = 0.1
"""


@pytest.mark.parametrize(("text", "options", "verdict", "status", "as_program"), [
    # exponents −0.50, −0.59, −0.57 (risk, M, Q) with 4 seeds over d = 200 → 800
    (ERF_CONFIG, (), "PASS", 0, True),
    # the ODE of erf's order-1 Hermite truncation (relative L² error 0.21) is not this SGD's
    # limit: its Q gap stays ≈ 0.1 at both d (exponents −0.18, −0.60, −0.22)
    (ERF_CONFIG, ("--derivation", "hermite:1"), "FAIL", 1, False),
    (BLOWS_UP, (), "UNDETERMINED", 3, False),
], ids=["pass", "fail", "undetermined"])
def test_exit_status_is_the_verdict(text, options, verdict, status, as_program, tmp_path,
                                    capsys, monkeypatch):
    """`overlapdyn validate` exits 0 PASS, 1 FAIL, 3 UNDETERMINED (it exited 0 whatever the
    verdict), and writes its report either way. Run once as a program (the status reaches
    the shell), the other verdicts through ``main`` (the status it returns)."""
    (tmp_path / "m.toml").write_text(text)
    argv = ["validate", "m.toml", "--d", "200", "800", "--seeds", "4", "--out", "out",
            *options]
    if as_program:
        done = subprocess.run(
            [sys.executable, "-m", "overlapdyn.cli", *argv], cwd=tmp_path,
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        returncode, printed = done.returncode, done.stdout + done.stderr
    else:
        monkeypatch.chdir(tmp_path)
        returncode = main(argv)
        printed = capsys.readouterr().out
    assert returncode == status, printed
    assert f"verdict: {verdict} —" in printed
    if verdict == "FAIL":  # which exponent failed, and its value
        assert re.search(r"exponent outside \[-0\.75, -0\.3\] \(theory −1/2\): "
                         r"(risk|M|Q|a) [+-]\d\.\d\d", printed), printed
        # a bias: the gaps agree between seeds, so no word of scattered runs
        assert "scatter" not in printed
        report = ValidationReport.load(tmp_path / "out" / "report.npz")
        gaps = {q: g.copy() for q, g in report.gaps.items()}
        gaps["Q"][-1] = gaps["Q"][-1].mean() * np.array([0.1, 0.2, 1.7, 2.0])
        scattered = dataclasses.replace(report, gaps=gaps, exponents={
            **report.exponents, "Q": -0.1})
        assert re.search(r"the per-seed gaps scatter \(std/mean 0\.8\d for Q at d = 800\): "
                         r"runs that leave a plateau", scattered.reason), scattered.reason
    assert json.loads((tmp_path / "out" / "report.json").read_text())["verdict"] == verdict


def test_help_documents_the_exit_status(capsys):
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 PASS" in text and "1 FAIL" in text and "3 UNDETERMINED" in text
