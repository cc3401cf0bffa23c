"""Config files, formulas and saved results are data, never code (issue 16).

Each attack string goes through every entry point that takes a formula — the API, each
``overlapdyn`` command that reads a file or a formula, a sweep axis — and through the
loaders of saved results. Each must be refused with an error that names the offending piece,
before anything is compiled or run, and the command it carries must not have run: the
marker file it would create does not exist afterwards. (With the SymPy-eval reader these
formulas ran their commands.)
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import numpy as np
import pytest
import sympy

import overlapdyn as od
from overlapdyn.cli import main
from overlapdyn.depth.config import DepthConfig
from overlapdyn.depth.targets import HierarchicalTarget, inner_polynomial
from overlapdyn.derive.cubature import numeric_expectation
from overlapdyn.derive.gaussian import GaussianFields, expectation
from overlapdyn.derive.hermite import hermite_expansion, information_exponent
from overlapdyn.derive.multihermite import multivariate_hermite
from overlapdyn.errors import ConfigError, OverlapdynError
from overlapdyn.io.toml import load_model
from overlapdyn.model.activations import activation
from overlapdyn.model.spec import Model, Protocol, Student, Target, model_from_dict
from overlapdyn.ode.trajectory import Trajectory
from overlapdyn.scaling.leaps import Leap, is_merged_staircase, leap
from overlapdyn.scaling.prediction import predict_scaling
from overlapdyn.sweeps.sweep import Sweep

PACKAGE = Path(od.__file__).resolve().parent


def attacks(marker: Path, v: str) -> dict[str, tuple[str, str]]:
    """name → (formula in the variable ``v`` that would create ``marker``, a piece of it the
    error must name)."""
    return {
        "os.system": (f"{v} + 0*__import__('os').system('touch {marker}')", "__import__"),
        "dunder walk": (f"{v} + 0*len(().__class__.__bases__[0].__subclasses__())",
                        "attribute access"),
        "eval": (f"{v} + 0*eval(\"len(str(open('{marker}', 'w')))\")", "calls eval"),
        "exec": (f"{v} + 0*(exec(\"open('{marker}', 'w').close()\") or 0)", "calls exec"),
        "lambda": (f"{v} + 0*(lambda: len(str(open('{marker}', 'w'))))()", "lambda"),
        "open": (f"{v} + 0*len(str(open('{marker}', 'w')))", "calls open"),
    }


ATTACKS = list(attacks(Path("m"), "x"))


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a formula ran a command"


def refused(call, fragment: str, error=OverlapdynError) -> str:
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value), str(info.value)
    return str(info.value)


# ------------------------------------------------------------------------------- the API

MODEL_ENTRY_POINTS = {
    "Target(expression)": ("z1", lambda f: Target(k=1, expression=f)),
    "Target(activation)": ("x", lambda f: Target(k=1, activation=f)),
    "Student(activation)": ("x", lambda f: Student(p=1, activation=f)),
    "activation()": ("x", activation),
    "model_from_dict": ("z1", lambda f: model_from_dict({
        "target": {"k": 1, "expression": f}, "student": {"p": 1, "activation": "He2"},
        "protocol": {"eta": 0.1}})),
    "hermite_expansion": ("x", lambda f: hermite_expansion(f, 4)),
    "information_exponent": ("x", information_exponent),
    "multivariate_hermite": ("z1", lambda f: multivariate_hermite(f, 1)),
    "leap": ("z1", lambda f: leap(f, 1)),
    "is_merged_staircase": ("z1", lambda f: is_merged_staircase(f, 1)),
    "predict_scaling": ("z1", lambda f: predict_scaling(f, 1)),
    "expectation": ("lambda1", lambda f: expectation(f, GaussianFields.overlaps(p=1, k=1))),
    "numeric_expectation": ("x1", lambda f: numeric_expectation(f, ["x1"], np.eye(1))),
    "HierarchicalTarget(inner)": ("x", lambda f: HierarchicalTarget(d=64, inner=f)),
    "HierarchicalTarget(outer)": ("x", lambda f: HierarchicalTarget(d=64, outer=f)),
    "inner_polynomial": ("x", inner_polynomial),
    "DepthConfig(outer)": ("x", lambda f: DepthConfig.from_dict({"target": {"d": 64,
                                                                            "outer": f}})),
}


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("entry", MODEL_ENTRY_POINTS)
def test_api_refuses_code_in_formulas(entry, attack, marker):
    variable, call = MODEL_ENTRY_POINTS[entry]
    formula, fragment = attacks(marker, variable)[attack]
    refused(lambda: call(formula), fragment)


@pytest.mark.parametrize("entry", [e for e in MODEL_ENTRY_POINTS if e not in (
    "expectation", "numeric_expectation")])
def test_api_refuses_a_python_name(entry):
    """``open`` is not a variable of a target or an activation: refused by name."""
    variable, call = MODEL_ENTRY_POINTS[entry]
    refused(lambda: call(f"{variable} + open"), "['open']")


def test_integrands_may_name_parameters_but_only_as_symbols(marker):
    """An integrand's names are fields or declared parameters; ``open`` is neither."""
    fields = GaussianFields.overlaps(p=1, k=1)
    refused(lambda: expectation("open*lambda1", fields), "['open']")
    assert expectation("a*lambda1*z1", fields, parameters=["a"]) == expectation(
        "lambda1*z1", fields) * sympy.Symbol("a")


@pytest.mark.parametrize("axis,variable", [("target.expression", "z1"),
                                           ("student.activation", "x")])
@pytest.mark.parametrize("attack", ATTACKS)
def test_a_sweep_axis_value_is_refused_before_any_task(axis, variable, attack, marker):
    base = {"target": {"k": 1, "expression": "He2(z1)"}, "student": {"p": 1,
                                                                     "activation": "He2"},
            "protocol": {"eta": 0.1}}
    formula, fragment = attacks(marker, variable)[attack]
    good = "He2(z1)" if variable == "z1" else "He2"
    sweep = Sweep(base, {axis: [good, formula]})
    message = refused(sweep.tasks, fragment, ConfigError)
    assert "sweep point" in message


# --------------------------------------------------------------------- the command line

MODEL_TOML = """
[target]
k = 1
expression = {expression}
[student]
p = 1
activation = {activation}
[protocol]
eta = 0.1
[integrate]
t_end = 1.0
"""
SWEEP_TOML = MODEL_TOML + """
[sweep]
kind = "ode"
[sweep.axes]
"target.expression" = ["He2(z1)", {axis_value}]
"""
DEPTH_TOML = """
[target]
d = 64
inner = {inner}
outer = {outer}
"""


def toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def model_file(tmp_path, expression="He2(z1)", student="He2") -> Path:
    path = tmp_path / "model.toml"
    path.write_text(MODEL_TOML.format(expression=toml_string(expression),
                                      activation=toml_string(student)))
    return path


COMMANDS = {
    "ode": lambda path, out: ["ode", str(path), "--out", str(out)],
    "point": lambda path, out: ["point", str(path), "--M", "[[0.1]]", "--Q", "[[1.0]]"],
    "validate": lambda path, out: ["validate", str(path), "--d", "50", "--seeds", "1",
                                   "--out", str(out)],
    "scaling": lambda path, out: ["scaling", str(path), "--d", "50", "100", "--out", str(out)],
    "sweep": lambda path, out: ["sweep", str(path), "--out", str(out), "--workers", "1",
                                "--no-progress"],
}


def run_cli(argv, capsys) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "error:" in captured.err
    return captured.err


@pytest.mark.parametrize("attack", ["os.system", "eval", "open"])
@pytest.mark.parametrize("where", ["expression", "student"])
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_refuses_a_config_with_code(command, where, attack, tmp_path, marker,
                                                  capsys):
    variable = "z1" if where == "expression" else "x"
    formula, fragment = attacks(marker, variable)[attack]
    path = model_file(tmp_path, **{where: formula})
    if command == "sweep":
        path.write_text(path.read_text() + '[sweep]\n[sweep.axes]\nseed = [0, 1]\n')
    out = tmp_path / "out"
    err = run_cli(COMMANDS[command](path, out), capsys)
    assert fragment in err
    assert not out.exists() or not any(out.rglob("*.npz"))


@pytest.mark.parametrize("attack", ["os.system", "exec", "lambda"])
def test_sweep_command_refuses_code_on_an_axis(attack, tmp_path, marker, capsys):
    formula, fragment = attacks(marker, "z1")[attack]
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP_TOML.format(expression=toml_string("He2(z1)"),
                                      activation=toml_string("He2"),
                                      axis_value=toml_string(formula)))
    out = tmp_path / "out"
    err = run_cli(["sweep", str(path), "--out", str(out), "--workers", "1", "--no-progress"],
                  capsys)
    assert fragment in err and "sweep point" in err
    assert not out.exists()  # refused before the store or a Dask worker existed


@pytest.mark.parametrize("attack", ["os.system", "eval", "dunder walk"])
@pytest.mark.parametrize("key", ["inner", "outer"])
def test_depth_command_refuses_code_in_inner_and_outer(key, attack, tmp_path, marker,
                                                       capsys):
    formula, fragment = attacks(marker, "x")[attack]
    values = {"inner": toml_string("P3"), "outer": toml_string("tanh(3*x)")}
    values[key] = toml_string(formula)
    path = tmp_path / "depth.toml"
    path.write_text(DEPTH_TOML.format(**values))
    err = run_cli(["depth", str(path), "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert fragment in err


@pytest.mark.parametrize("attack", ATTACKS)
def test_formula_commands_refuse_code(attack, marker, capsys):
    formula, fragment = attacks(marker, "x")[attack]
    assert fragment in run_cli(["hermite", formula], capsys)
    formula, fragment = attacks(marker, "lambda1")[attack]
    assert fragment in run_cli(["expect", formula], capsys)


def test_load_model_refuses_code(tmp_path, marker):
    formula, fragment = attacks(marker, "z1")["os.system"]
    refused(lambda: load_model(model_file(tmp_path, expression=formula)), fragment,
            ConfigError)


# ------------------------------------------------------------------- saved results

def rewrite_header(path: Path, change) -> None:
    """Rewrite the JSON header of a saved result (as a tampered file would)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    header = json.loads(str(arrays["header"][()]))
    change(header)
    arrays["header"] = np.array(json.dumps(header))
    np.savez_compressed(path, **arrays)


def test_a_saved_leap_is_read_never_evaluated(tmp_path, marker):
    path = leap("z1 + z1*z2", 2).save(tmp_path / "leap.npz")
    formula, _ = attacks(marker, "1")["os.system"]

    def poison(header):
        header["expansion"]["coefficients"][0][1] = formula

    rewrite_header(path, poison)
    message = refused(lambda: Leap.load(path), "__import__")
    assert "saved exact coefficient" in message


def test_a_saved_trajectorys_model_is_read_never_evaluated(tmp_path, marker):
    model = Model(Target(k=1, expression="He2(z1)"), Student(p=1, activation="He2"),
                  Protocol(eta=0.1))
    t = np.linspace(0.0, 1.0, 3)
    trajectory = Trajectory(t=t, M=np.full((3, 1, 1), 0.1), Q=np.ones((3, 1, 1)),
                            a=np.ones((3, 1)), risk=np.ones(3), model=model)
    path = trajectory.save(tmp_path / "run.npz")
    assert Trajectory.load(path).model == model
    formula, fragment = attacks(marker, "z1")["os.system"]
    rewrite_header(path, lambda header: header["model"]["target"].update(expression=formula))
    refused(lambda: Trajectory.load(path), fragment)


class _Unpickled:
    """An object whose unpickling creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_loading_a_result_never_unpickles(tmp_path, marker):
    path = tmp_path / "run.npz"
    model = Model(Target(k=1, activation="He2"), Student(p=1, activation="He2"),
                  Protocol(eta=0.1))
    Trajectory(t=[0.0], M=[[[0.1]]], Q=[[[1.0]]], a=[[1.0]], risk=[1.0], model=model).save(path)
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["risk"] = np.array([_Unpickled(marker)], dtype=object)
    np.savez(path, allow_pickle=True, **arrays)  # a pickled object array inside the .npz
    refused(lambda: Trajectory.load(path), "allow_pickle")


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func)


def test_no_loader_can_unpickle_or_evaluate():
    """Every ``np.load`` in the package passes ``allow_pickle=False``; nothing imports
    pickle-like or YAML loaders or SymPy's parser, or calls eval/exec or ``sympify``:
    formulas go through model.formula.parse_formula, numbers through as_expression."""
    forbidden_imports = {"pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle",
                         "joblib", "yaml"}
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        where = path.relative_to(PACKAGE)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                    node.module or ""]
                if any(m.split(".")[0] in forbidden_imports for m in modules) or any(
                        m.startswith("sympy.parsing") for m in modules):
                    problems.append(f"{where}:{node.lineno} imports {modules}")
        for call, name in _calls(tree):
            if name in ("np.load", "numpy.load"):
                pickle = [k for k in call.keywords if k.arg == "allow_pickle"]
                if not pickle or not (isinstance(pickle[0].value, ast.Constant)
                                      and pickle[0].value.value is False):
                    problems.append(f"{where}:{call.lineno} np.load without allow_pickle=False")
            if name in ("eval", "exec", "parse_expr", "sympy.parse_expr", "sympy.S",
                        "__import__", "sympify", "sympy.sympify"):
                problems.append(f"{where}:{call.lineno} calls {name}")
    assert not problems, problems
