"""End-to-end tests of the command line (what `make demo` runs)."""

import json
import sys

from overlapdyn.cli import main
from overlapdyn.compile.cache import load_module
from overlapdyn.model import Model, Protocol, Student, Target


def test_demo_writes_its_outputs(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--order", "6"]) == 0
    payload = json.loads((tmp_path / "demo.json").read_text())
    exponents = {row["activation"]: row["information_exponent"] for row in payload["activations"]}
    assert exponents["relu"] == 1 and exponents["abs"] == 2 and exponents["He4"] == 4
    assert exponents["He3(x) + He4(x)"] == 3
    assert all(row["relative_gap"] < 1e-9 for row in payload["expectations"])
    assert payload["config"]["order"] == 6 and payload["versions"]["overlapdyn"]
    assert "\\begin{equation}" in (tmp_path / "expectations.tex").read_text()
    assert "information exponents" in (tmp_path / "report.txt").read_text()
    assert "E[He3(λ1) He3(z1)]" in capsys.readouterr().out
    curves = {row["model"]: row for row in payload["learning_curves"]}
    assert curves["saad_solla_erf_K2"]["final_risk"] < 1e-6  # specialised and learned
    rises = curves["staircase"]["t_alignment_0.2"]
    assert rises[0] < rises[1] < rises[2]
    # the showcase learns: the risk falls tenfold (2.56 → 0.26), not to a plateau at 1.01
    staircase = curves["staircase"]
    assert staircase["final_risk"] < 0.15 * staircase["initial_risk"]
    for name in ("saad_solla_erf_K2", "staircase"):
        assert (tmp_path / f"{name}.npz").stat().st_size > 0
        assert (tmp_path / f"{name}_risk.png").stat().st_size > 0


def test_expect_prints_the_exact_expectation(capsys):
    assert main(["expect", "He3(lambda1)*He3(z1)", "--unit-teacher"]) == 0
    assert capsys.readouterr().out.strip() == "6*M_11**3"
    assert main(["expect", "a*lambda1*z2", "--k", "2", "--param", "a", "--latex"]) == 0
    assert capsys.readouterr().out.strip() == "M_{12} a"


def test_errors_are_reported_not_raised(capsys):
    assert main(["hermite", "rleu"]) == 2
    assert "known names" in capsys.readouterr().err
    assert main(["expect", "tanh(lambda1)*z1"]) == 2
    assert "not a polynomial" in capsys.readouterr().err


def test_hermite_command(capsys):
    assert main(["hermite", "He3(x) + He4(x)", "--order", "5"]) == 0
    assert "information exponent: 3" in capsys.readouterr().out


def test_point_command_finds_the_plateau(capsys):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "saad_solla_erf_K2.toml"
    argv = ["point", str(example), "--M", "[[0.45, 0.45], [0.45, 0.45]]",
            "--Q", "[[0.6, 0.5], [0.5, 0.6]]", "--fixed-point"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "risk R* = 0.0146448" in out and "growth rate λ₊ = 0.0316" in out
    assert main(["point", str(example), "--M", "[[0.45, oops]]"]) == 2
    assert "JSON" in capsys.readouterr().err


def test_point_command_leaves_numpy_print_options_alone(capsys):
    from pathlib import Path

    import numpy as np

    example = Path(__file__).resolve().parents[2] / "examples" / "saad_solla_erf_K2.toml"
    before = np.get_printoptions()
    assert main(["point", str(example), "--M", "[[0.45, 0.45], [0.45, 0.45]]",
                 "--Q", "[[0.6, 0.5], [0.5, 0.6]]"]) == 0
    assert np.get_printoptions() == before
    # the arrays were still printed with 6 digits
    assert "dM/dt =\n[[0.012164 0.012164]" in capsys.readouterr().out


def test_parser_has_one_command_per_job_module_in_order():
    import argparse

    from overlapdyn.cli import build_parser, job
    from overlapdyn.jobs import COMMANDS

    commands = next(action for action in build_parser()._actions
                    if isinstance(action, argparse._SubParsersAction))
    assert list(commands.choices) == ["demo", "expect", "hermite", "equations", "ode", "point",
                                      "validate", "sweep", "scaling", "learnability", "depth",
                                      "plot", "cache"]
    for name, summary in COMMANDS.items():
        parser = commands.choices[name]
        assert parser.get_default("run") is job(name).run
        assert "\n" not in summary and parser.description == summary
        assert parser.epilog == getattr(job(name), "EPILOG", None)
    args = build_parser().parse_args(["validate", "run.toml"])
    assert (args.d, args.seeds, args.n_test, args.out) == ([250, 1000, 4000], 8, 0, None)


def test_the_top_level_help_imports_no_job():
    """Nor NumPy: the version comes from the metadata, the other storage names on first
    use (``overlapdyn --help`` takes 0.15 s, 0.25 s when it imported NumPy)."""
    import subprocess
    import sys

    code = ("import sys\nfrom overlapdyn.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print([m for m in sys.modules if m.startswith('overlapdyn.jobs.')\n"
            "       or m in ('numpy', 'sympy', 'numba', 'scipy')], file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert "cache" in result.stdout and "depth" in result.stdout
    assert result.stderr.strip() == "[]"


def test_version_is_the_installed_one(capsys):
    from importlib.metadata import version

    import pytest

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"overlapdyn {version('overlapdyn')}\n"


def test_the_command_line_imports_no_heavy_library():
    """`overlapdyn --help` stays fast: Numba, Matplotlib, Dask and xarray are imported by the
    jobs that use them, when they run."""
    import subprocess
    import sys

    heavy = ("numba", "matplotlib", "dask", "distributed", "xarray")
    code = ("import sys, overlapdyn.cli; "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_output_folder_is_the_given_one_or_named_after_the_config():
    from pathlib import Path

    from overlapdyn.jobs.folders import output_folder

    assert output_folder("here", "examples/run.toml", "sweep") == Path("here")
    assert output_folder(None, "examples/run.toml", "sweep") == Path("outputs/sweep-run")
    assert output_folder(None, "examples/run.toml") == Path("outputs/run")


def test_point_refuses_a_non_symmetric_Q_and_an_ignored_readout(capsys):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "saad_solla_erf_K2.toml"
    point = ["point", str(example), "--M", "[[0.45, 0.45], [0.45, 0.45]]"]
    assert main([*point, "--Q", "[[0.6, 0.5], [0.4, 0.6]]"]) == 2
    assert "--Q must be symmetric" in capsys.readouterr().err
    assert main([*point, "--Q", "[[0.6, 0.5], [0.5, 0.6]]", "--a", "[2.0, 2.0]"]) == 2
    assert "readout is fixed" in capsys.readouterr().err


def test_scaling_refuses_a_nan_tolerance(tmp_path, capsys):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "he3_escape.toml"
    assert main(["scaling", str(example), "--d", "100", "200", "--tolerance", "nan",
                 "--out", str(tmp_path)]) == 2
    assert "tolerance (--tolerance) must be finite" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())                             # refused before any run


def test_cache_command_reports_and_clears_the_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(tmp_path / "code"))
    monkeypatch.setenv("OVERLAPDYN_CACHE_MAX_MB", "64")
    assert main(["cache", "info"]) == 0
    shown = capsys.readouterr().out
    assert f"folder : {tmp_path / 'code'} (not created yet)" in shown
    assert "modules: 0" in shown and "0.0 MB of at most 64.0 MB" in shown
    load_module("cli_cache_test", lambda: "VALUE = 3\n" + "# padding\n" * 20000)
    sys.modules.pop("overlapdyn_generated_cli_cache_test")
    assert main(["cache", "info"]) == 0
    shown = capsys.readouterr().out
    assert "modules: 1" in shown and "0.2 MB of at most 64.0 MB" in shown
    assert main(["cache", "clear"]) == 0
    assert capsys.readouterr().out.startswith("removed 1 generated modules (0.2 MB) from ")
    assert not list((tmp_path / "code").glob("overlapdyn_*"))


def test_plot_command_redraws_a_saved_trajectory_and_refuses_what_it_cannot(tmp_path, capsys):
    import numpy as np

    from overlapdyn import integrate
    from overlapdyn.limits.generative import generative_exponent
    from overlapdyn.ode import SaveAt
    from overlapdyn.storage.results import saved_format

    erf = Model(Target(k=2, activation="erf"), Student(p=2, activation="erf"),
                Protocol(eta=0.5))
    trajectory = integrate(erf, (np.full((2, 2), 0.1), 0.5 * np.eye(2)),
                           SaveAt.at(np.linspace(0.0, 5.0, 11)))
    saved = trajectory.save(tmp_path / "run.npz")
    assert saved_format(saved) == "overlapdyn.Trajectory"
    assert main(["plot", str(saved), "--out", str(tmp_path / "figures")]) == 0
    written = capsys.readouterr().out.split()
    names = ("learning_curve", "overlaps", "overlap_heatmap")
    assert written == [str(tmp_path / "figures" / f"run-{name}.png") for name in names]
    for path in written:
        with open(path, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"

    other = generative_exponent("z**2").save(tmp_path / "exponent.npz")
    assert main(["plot", str(other)]) == 2
    error = capsys.readouterr().err
    assert "holds a GenerativeExponent, which has no figure" in error and "Trajectory" in error
    (tmp_path / "notes.npz").write_text("not a result")
    assert main(["plot", str(tmp_path / "notes.npz")]) == 2
    assert "is not a saved overlapdyn result: it is not an .npz" in capsys.readouterr().err
