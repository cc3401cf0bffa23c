"""The bad-input corpus: every malformed input and fault ends in a named error.

Each case is an input a user can give — a config file, a command-line option, an API call, a
damaged cache, an unusable output folder — and the error it must end in: an
:class:`~overlapdyn.errors.OverlapdynError` subclass whose message names the offending key or
value. Through the command line the same case must exit with status 2 and one line on stderr,
never a traceback. Cases that could hang run in a subprocess with a generous timeout, so a
hang fails the test instead of stalling the suite; the others run in-process through
:func:`overlapdyn.cli.main`.

``python tests/test_bad_inputs.py`` prints the census: how each case ends today.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from overlapdyn.cli import main
from overlapdyn.errors import (
    ConfigError,
    CovarianceError,
    OverlapdynError,
    UnknownActivationError,
)

try:
    from overlapdyn.errors import OutputError, ResourceError, SchedulerError
except ImportError:  # the census of the code before this corpus
    OutputError = ResourceError = SchedulerError = OverlapdynError

ROOT = Path(__file__).resolve().parents[1]

# the Saad–Solla committee (its kernels are in every cache), a short run
BASE = {
    "target": {"k": "2", "activation": '"erf"', "c_k": "1.0"},
    "student": {"p": "2", "activation": '"erf"', "c_p": "1.0"},
    "protocol": {"eta": "0.5"},
    "integrate": {"t_end": "10.0", "n_points": "5"},
}


def toml(edits: dict[str, str | None] | None = None, extra: str = "") -> str:
    """The base model file with ``edits`` (``"section.key": raw TOML value``, None removes
    the key, ``"section": None`` the section) and ``extra`` lines appended."""
    sections = {name: dict(keys) for name, keys in BASE.items()}
    for where, value in (edits or {}).items():
        section, _, key = where.partition(".")
        if not key:
            sections.pop(section, None) if value is None else sections.setdefault(section, {})
        elif value is None:
            sections[section].pop(key, None)
        else:
            sections.setdefault(section, {})[key] = value
    lines = []
    for name, keys in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {value}" for key, value in keys.items()]
    return "\n".join(lines) + "\n" + extra


@dataclass(frozen=True)
class Case:
    """One bad input: ``argv`` (``{dir}`` is the case's folder, holding ``files``) must end
    in ``error`` with ``match`` in its message."""

    name: str
    argv: tuple[str, ...]
    error: type[Exception]
    match: str
    files: dict[str, str | bytes] = field(default_factory=dict)

    def prepare(self, folder: Path) -> list[str]:
        for name, content in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return [part.replace("{dir}", str(folder)) for part in self.argv]


def ode(name, edits=None, match="", error=ConfigError, extra="", options=()):
    """A case of ``overlapdyn ode`` on the base file with ``edits``."""
    return Case(name, ("ode", "{dir}/m.toml", "--out", "{dir}/out", *options), error, match,
                {"m.toml": toml(edits, extra)})


CONFIG_CASES = [
    # the file itself
    Case("config missing", ("ode", "{dir}/none.toml"), ConfigError, "not found"),
    Case("config is a folder", ("ode", "{dir}/sub"), ConfigError, "folder",
         {"sub/x.txt": ""}),
    Case("config is binary", ("ode", "{dir}/m.toml"), ConfigError, "not a text",
         {"m.toml": b"\x89PNG\r\n\x1a\n\x00\xff\xfe"}),
    Case("config is empty", ("ode", "{dir}/m.toml"), ConfigError, "target", {"m.toml": ""}),
    Case("config bad TOML", ("ode", "{dir}/m.toml"), ConfigError, "not valid TOML",
         {"m.toml": "[target\nk = 2"}),
    Case("config duplicate key", ("ode", "{dir}/m.toml"), ConfigError, "not valid TOML",
         {"m.toml": toml(extra="[target]\nk = 3\n")}),
    ode("unknown section", {"teacher.k": "2"}, "teacher"),
    ode("missing target", {"target": None}, "target"),
    ode("missing student", {"student": None}, "student"),
    ode("missing protocol", {"protocol": None}, "protocol"),
    ode("target not a table", {"target": None}, "target", extra="target = 3\n"),
    # [target]
    ode("target.k zero", {"target.k": "0"}, "target.k"),
    ode("target.k negative", {"target.k": "-1"}, "target.k"),
    ode("target.k fractional", {"target.k": "1.5"}, "target.k"),
    ode("target.k string", {"target.k": '"2"'}, "target.k"),
    ode("target.k boolean", {"target.k": "true"}, "target.k"),
    ode("target.k huge", {"target.k": "1000000000000"}, "target.k", ResourceError),
    ode("student.p wide", {"student.p": "10000"}, "p = 10000", ResourceError),
    ode("target unknown key", {"target.kk": "2"}, "kk"),
    ode("target unknown activation", {"target.activation": '"rleu"'}, "rleu",
        UnknownActivationError),
    ode("target activation number", {"target.activation": "3"}, "3", UnknownActivationError),
    ode("target activation and expression", {"target.expression": '"z1"'}, "exactly one"),
    ode("target neither activation nor expression", {"target.activation": None,
                                                    "target.c_k": None}, "exactly one"),
    ode("target expression stray field", {"target.activation": None, "target.c_k": None,
                                          "target.expression": '"z1 + z3"'}, "z3"),
    ode("target expression empty", {"target.activation": None, "target.c_k": None,
                                    "target.expression": '""'}, "''", OverlapdynError),
    ode("target expression bad syntax", {"target.activation": None, "target.c_k": None,
                                         "target.expression": '"z1 +* z2"'}, "z1 +* z2",
        OverlapdynError),
    ode("target b wrong length", {"target.b": "[1.0]"}, "target.b"),
    ode("target b NaN", {"target.b": "[1.0, nan]"}, "target.b"),
    ode("target b strings", {"target.b": '["a", "b"]'}, "target.b"),
    ode("target c_k NaN", {"target.c_k": "nan"}, "target.c_k"),
    ode("target c_k inf", {"target.c_k": "inf"}, "target.c_k"),
    ode("target c_k string", {"target.c_k": '"1"'}, "target.c_k"),
    ode("target c_k with expression", {"target.activation": None,
                                       "target.expression": '"z1*z2"'}, "c_k"),
    ode("target noise negative", {"target.noise": "-0.1"}, "noise"),
    ode("target noise NaN", {"target.noise": "nan"}, "noise"),
    ode("target noise boolean", {"target.noise": "true"}, "noise"),
    ode("target P ragged", {"target.P": "[[1.0, 0.0], [0.0]]"}, "target.P", CovarianceError),
    ode("target P not square", {"target.P": "[[1.0, 0.0]]"}, "target.P", CovarianceError),
    ode("target P 3x3 for k 2", {"target.P": "[[1.0,0,0],[0,1,0],[0,0,1]]"}, "target.P",
        CovarianceError),
    ode("target P not symmetric", {"target.P": "[[1.0, 0.5], [0.0, 1.0]]"}, "symmetric",
        CovarianceError),
    ode("target P singular", {"target.P": "[[1.0, 1.0], [1.0, 1.0]]"}, "positive definite",
        CovarianceError),
    ode("target P negative", {"target.P": "[[-1.0, 0.0], [0.0, 1.0]]"}, "P", CovarianceError),
    ode("target P NaN", {"target.P": "[[1.0, nan], [nan, 1.0]]"}, "target.P"),
    ode("target P strings", {"target.P": '[["1", "0"], ["0", "1"]]'}, "target.P"),
    ode("target P a number", {"target.P": "1.0"}, "target.P", CovarianceError),
    # [student]
    ode("student.p zero", {"student.p": "0"}, "student.p"),
    ode("student.p string", {"student.p": '"two"'}, "student.p"),
    ode("student unknown key", {"student.q": "2"}, "'q'"),
    ode("student unknown activation", {"student.activation": '"sigmoidd"'}, "sigmoidd",
        UnknownActivationError),
    ode("student c_p inf", {"student.c_p": "inf"}, "c_p"),
    ode("student a wrong length", {"student.a": "[1.0, 1.0, 1.0]"}, "student.a"),
    ode("student a NaN", {"student.a": "[1.0, nan]"}, "student.a"),
    ode("student train_readout string", {"student.train_readout": '"yes"'}, "train_readout"),
    ode("student train_readout no eta_a", {"student.train_readout": "true"}, "eta_a"),
    ode("student eta_a negative", {"student.train_readout": "true", "student.eta_a": "-1.0"},
        "eta_a"),
    # [protocol]
    ode("eta zero", {"protocol.eta": "0.0"}, "eta"),
    ode("eta negative", {"protocol.eta": "-0.5"}, "eta"),
    ode("eta NaN", {"protocol.eta": "nan"}, "eta"),
    ode("eta inf", {"protocol.eta": "inf"}, "eta"),
    ode("eta boolean", {"protocol.eta": "true"}, "eta"),
    ode("eta string", {"protocol.eta": '"0.5"'}, "eta"),
    ode("n_b zero", {"protocol.n_b": "0"}, "n_b"),
    ode("n_b fractional", {"protocol.n_b": "1.5"}, "n_b"),
    ode("loss unknown", {"protocol.loss": '"l1"'}, "loss"),
    ode("spherical string", {"protocol.spherical": '"yes"'}, "spherical"),
    ode("weight decay negative", {"protocol.weight_decay": "-0.1"}, "weight_decay"),
    ode("weight decay with spherical", {"protocol.weight_decay": "0.1",
                                        "protocol.spherical": "true"}, "spherical"),
    ode("protocol unknown key", {"protocol.lr": "0.1"}, "lr"),
    # [integrate]
    ode("integrate not a table", {"integrate": None}, "integrate", extra="integrate = 1\n"),
    ode("t_end zero", {"integrate.t_end": "0.0"}, "t_end"),
    ode("t_end negative", {"integrate.t_end": "-1.0"}, "t_end"),
    ode("t_end NaN", {"integrate.t_end": "nan"}, "t_end"),
    ode("t_end inf", {"integrate.t_end": "inf"}, "t_end"),
    ode("t_end string", {"integrate.t_end": '"10"'}, "t_end"),
    ode("n_points zero", {"integrate.n_points": "0"}, "n_points"),
    ode("n_points one", {"integrate.n_points": "1"}, "n_points"),
    ode("n_points fractional", {"integrate.n_points": "2.5"}, "n_points"),
    ode("log string", {"integrate.log": '"yes"'}, "log"),
    ode("t_first above t_end", {"integrate.log": "true", "integrate.t_first": "20.0"},
        "t_first"),
    ode("t_first negative", {"integrate.log": "true", "integrate.t_first": "-1.0"}, "t_first"),
    ode("method unknown", {"integrate.method": '"Euler"'}, "Euler"),
    ode("rtol zero", {"integrate.rtol": "0.0"}, "rtol"),
    ode("atol negative", {"integrate.atol": "-1e-9"}, "atol"),
    ode("rtol NaN", {"integrate.rtol": "nan"}, "rtol"),
    ode("jacobian unknown", {"integrate.jacobian": '"maybe"'}, "jacobian"),
    ode("d zero", {"integrate.d": "0"}, "integrate.d"),
    ode("d fractional", {"integrate.d": "10.5"}, "integrate.d"),
    ode("seed negative", {"integrate.seed": "-1"}, "seed"),
    ode("M0 without Q0", {"integrate.M0": "[[0.1, 0.0], [0.0, 0.1]]"}, "Q0"),
    ode("M0 wrong shape", {"integrate.M0": "[[0.1, 0.0]]", "integrate.Q0": "[[1.0, 0.0], "
                           "[0.0, 1.0]]"}, "M0"),
    ode("Q0 wrong shape", {"integrate.M0": "[[0.1, 0.0], [0.0, 0.1]]",
                           "integrate.Q0": "[[1.0]]"}, "Q0"),
    ode("Q0 not PSD", {"integrate.M0": "[[0.1, 0.0], [0.0, 0.1]]",
                       "integrate.Q0": "[[1.0, 2.0], [2.0, 1.0]]"}, "initial state",
        CovarianceError),
    ode("M0 too large for Q0", {"integrate.M0": "[[2.0, 0.0], [0.0, 0.1]]",
                                "integrate.Q0": "[[1.0, 0.0], [0.0, 1.0]]"}, "initial state",
        CovarianceError),
    ode("M0 ragged", {"integrate.M0": "[[0.1, 0.0], [0.1]]",
                      "integrate.Q0": "[[1.0, 0.0], [0.0, 1.0]]"}, "M0"),
    ode("Q0 NaN", {"integrate.M0": "[[0.1, 0.0], [0.0, 0.1]]",
                   "integrate.Q0": "[[nan, 0.0], [0.0, 1.0]]"}, "Q0"),
    ode("risk_below negative", {"integrate.risk_below": "-1.0"}, "risk_below"),
    ode("overlap_above NaN", {"integrate.overlap_above": "nan"}, "overlap_above"),
    ode("escape_overlap renamed", {"integrate.escape_overlap": "0.5"}, "overlap_above"),
    ode("integrate unknown key", {"integrate.tend": "10.0"}, "tend"),
    ode("max_evaluations zero", {"integrate.max_evaluations": "0"}, "max_evaluations"),
    ode("max_evaluations fractional", {"integrate.max_evaluations": "1e4"},
        "max_evaluations"),
    # the ode command's options
    ode("--t-end NaN", options=("--t-end", "nan"), match="t_end"),
    ode("--t-end negative", options=("--t-end", "-5"), match="t_end"),
    # [derivation] and --derivation
    ode("derivation unknown method", {"derivation.method": '"simpson"'}, "simpson"),
    ode("derivation nodes one", {"derivation.method": '"quadrature"', "derivation.nodes": "1"},
        "nodes"),
    ode("derivation order zero", {"derivation.method": '"hermite"', "derivation.order": "0"},
        "order"),
    ode("derivation order fractional", {"derivation.method": '"hermite"',
                                        "derivation.order": "2.5"}, "order"),
    ode("derivation unknown key", {"derivation.degree": "4"}, "degree"),
    ode("derivation key of another method", {"derivation.method": '"exact"',
                                             "derivation.nodes": "8"}, "nodes"),
    ode("derivation not a table", extra="derivation = \"exact\"\n", match="derivation"),
    ode("derivation exact for erf", {"derivation.method": '"exact"'}, "polynomial",
        OverlapdynError),
    ode("--derivation unknown", options=("--derivation", "simpson"), match="simpson"),
    ode("--derivation nodes not a number", options=("--derivation", "quadrature:many"),
        match="many"),
    ode("--derivation number for exact", options=("--derivation", "exact:3"), match="exact:3"),
]


def command(name, command_, options, match, error=ConfigError, edits=None, extra=""):
    """A case of ``overlapdyn COMMAND {dir}/m.toml OPTIONS`` on the base file."""
    return Case(name, (command_, "{dir}/m.toml", *options), error, match,
                {"m.toml": toml(edits, extra)})


def point(name, options, match, error=ConfigError, edits=None):
    return command(name, "point", options, match, error, edits)


def scaling(name, options, match, error=ConfigError):
    return command(name, "scaling", ("--out", "{dir}/out", *options), match, error)


def validate(name, options, match, error=ConfigError):
    return command(name, "validate", ("--out", "{dir}/out", *options), match, error)


DEPTH = """
[target]
d = 16
levels = [0.5]
[network]
p1 = 32
p2 = 8
rf_features = 32
[sweep]
kappa_min = 0.5
kappa_max = 1.0
points = 2
seeds = 1
n_test = 50
"""


def depth(name, options=(), match="", error=ConfigError, text=DEPTH):
    return Case(name, ("depth", "{dir}/d.toml", "--out", "{dir}/out", "--quiet", *options),
                error, match, {"d.toml": text})


SWEEP = toml({"integrate.t_end": "1.0", "integrate.n_points": "3"},
             '[sweep]\nkind = "ode"\n[sweep.axes]\neta = [0.25, 0.5]\n')


def sweep(name, options=(), match="", error=ConfigError, text=SWEEP):
    return Case(name, ("sweep", "{dir}/s.toml", "--out", "{dir}/out", "--no-progress",
                       *options), error, match, {"s.toml": text})


OPTION_CASES = [
    # point
    point("point M NaN", ("--M", "[[NaN, 0], [0, 0]]"), "M"),
    point("point M inf", ("--M", "[[Infinity, 0], [0, 0]]"), "M"),
    point("point M ragged", ("--M", "[[0.1, 0], [0]]"), "--M"),
    point("point M wrong shape", ("--M", "[[0.1, 0, 0]]"), "--M"),
    point("point M not JSON", ("--M", "[[0.45, oops]]"), "JSON"),
    point("point M strings", ("--M", '[["a", "b"], ["c", "d"]]'), "--M"),
    point("point Q NaN", ("--Q", "[[NaN, 0], [0, 1]]"), "Q"),
    point("point Q negative", ("--Q", "[[-1, 0], [0, 1]]"), "Q", CovarianceError),
    point("point Q not PSD", ("--Q", "[[1, 2], [2, 1]]"), "Q", CovarianceError),
    point("point Q zero", ("--Q", "[[0, 0], [0, 0]]"), "Q", CovarianceError),
    point("point Q not symmetric", ("--Q", "[[1, 0.5], [0, 1]]"), "symmetric"),
    point("point Q wrong shape", ("--Q", "[[1, 0, 0], [0, 1, 0], [0, 0, 1]]"), "--Q"),
    point("point M too large for Q", ("--M", "[[3, 0], [0, 0]]"), "Q", CovarianceError),
    point("point a with fixed readout", ("--a", "[1, 1]"), "--a"),
    point("point bad model", ("--M", "[[0.1, 0], [0, 0.1]]"), "eta",
          edits={"protocol.eta": "nan"}),
    # validate
    validate("validate one d", ("--d", "100"), "two"),
    validate("validate d zero", ("--d", "0", "100"), "d"),
    validate("validate d below p + k", ("--d", "3", "100"), "p + k"),
    validate("validate seeds zero", ("--seeds", "0", "--d", "50", "100"), "seed"),
    validate("validate seeds negative", ("--seeds", "-2", "--d", "50", "100"), "seed"),
    validate("validate points one", ("--points", "1", "--d", "50", "100"), "n_points"),
    validate("validate n_test negative", ("--n-test", "-1", "--d", "50", "100"), "--n-test"),
    validate("validate t_end NaN", ("--t-end", "nan", "--d", "50", "100"), "t_end"),
    validate("validate d not a number", ("--d", "abc"), "invalid int", SystemExit),
    # scaling
    scaling("scaling d zero", ("--d", "0", "100"), "d"),
    scaling("scaling one d", ("--d", "100", "100"), "two", OverlapdynError),
    scaling("scaling d negative", ("--d", "-100", "100"), "d"),
    scaling("scaling threshold above 1", ("--d", "50", "100", "--threshold", "1.5"),
            "threshold"),
    scaling("scaling threshold 1", ("--d", "50", "100", "--threshold", "1"), "threshold"),
    scaling("scaling threshold 0", ("--d", "50", "100", "--threshold", "0"), "threshold"),
    scaling("scaling threshold negative", ("--d", "50", "100", "--threshold", "-0.2"),
            "threshold"),
    scaling("scaling threshold NaN", ("--d", "50", "100", "--threshold", "nan"),
            "threshold"),
    scaling("scaling seeds zero", ("--d", "50", "100", "--route", "simulation", "--seeds",
                                   "0"), "seed"),
    scaling("scaling t_max negative", ("--d", "50", "100", "--t-max", "-1"), "t_max"),
    scaling("scaling t_max NaN", ("--d", "50", "100", "--t-max", "nan"), "t_max"),
    scaling("scaling tolerance NaN", ("--d", "50", "100", "--tolerance", "nan"),
            "tolerance"),
    scaling("scaling route unknown", ("--route", "both2",), "invalid choice", SystemExit),
    # depth
    depth("depth missing target", text="[sweep]\npoints = 2\n", match="target"),
    depth("depth unknown section", text=DEPTH + "[model]\nx = 1\n", match="model"),
    depth("depth points zero", ("--points", "0"), "points"),
    depth("depth seeds zero", ("--seeds", "0"), "seeds"),
    depth("depth d zero", ("--d", "0"), "d"),
    depth("depth kappa reversed", text=DEPTH.replace("kappa_max = 1.0", "kappa_max = 0.1"),
          match="kappa_max"),
    depth("depth unknown method", text=DEPTH + 'methods = ["deep"]\n', match="deep"),
    depth("depth huge kappa grid", text=DEPTH.replace("kappa_max = 1.0", "kappa_max = 9.0"),
          match="samples", error=ResourceError),
    depth("depth sigma unknown", text=DEPTH.replace("p2 = 8", 'p2 = 8\nsigma1 = "gelu"'),
          match="sigma1"),
    # sweep
    sweep("sweep without [sweep]", text=toml(), match="[sweep]"),
    sweep("sweep without axes", text=toml(extra='[sweep]\nkind = "ode"\n'), match="axes"),
    sweep("sweep unknown axis", text=toml(extra='[sweep]\nkind = "ode"\n[sweep.axes]\n'
                                          'bogus = [1, 2]\n'), match="bogus"),
    sweep("sweep empty axis", text=toml(extra='[sweep]\nkind = "ode"\n[sweep.axes]\n'
                                        'eta = []\n'), match="no values"),
    sweep("sweep repeated value", text=toml(extra='[sweep]\nkind = "ode"\n[sweep.axes]\n'
                                            'eta = [0.5, 0.5]\n'), match="repeats"),
    sweep("sweep unknown kind", text=toml(extra='[sweep]\nkind = "odd"\n[sweep.axes]\n'
                                          'eta = [0.5]\n'), match="odd"),
    sweep("sweep bad grid point", text=toml(extra='[sweep]\nkind = "ode"\n[sweep.axes]\n'
                                            'eta = [0.5, -1.0]\n'), match="eta"),
    sweep("sweep workers negative", ("--workers", "-1"), "workers"),
    sweep("sweep task timeout negative", ("--task-timeout", "-1"), "timeout"),
    sweep("sweep task timeout NaN", ("--task-timeout", "nan"), "timeout"),
    sweep("sweep no-worker timeout negative", ("--no-worker-timeout", "-1"),
          "no-worker timeout (--no-worker-timeout, seconds) must be > 0"),
    sweep("sweep no-worker timeout NaN", ("--no-worker-timeout", "nan"),
          "no-worker timeout (--no-worker-timeout, seconds) must be finite"),
    sweep("sweep max worker losses zero", ("--max-worker-losses", "0"),
          "worker losses allowed (--max-worker-losses) must be ≥ 1"),
    sweep("sweep x unknown", ("--x", "bogus"), "bogus"),
    sweep("sweep above --max-tasks", ("--max-tasks", "1"), "2 tasks", ResourceError),
    sweep("sweep scheduler malformed", ("--scheduler", "not an address"), "not an address",
          SchedulerError),
    sweep("sweep scheduler nobody there", ("--scheduler", "tcp://127.0.0.1:9"),
          "127.0.0.1:9", SchedulerError),
    sweep("sweep huge grid", text=toml(extra='[sweep]\nkind = "ode"\n[sweep.axes]\n'
                                       f'eta = {[0.1 + i / 1000 for i in range(1000)]}\n'
                                       f'seed = {list(range(1000))}\n'),
          match="1000000 tasks", error=ResourceError),
]

# a folder nobody may write in, even root (sysfs); chmod does not stop root
READ_ONLY = Path("/sys/fs")


def _read_only_usable() -> bool:
    try:
        (READ_ONLY / "overlapdyn-probe").mkdir()
    except OSError:
        return READ_ONLY.is_dir()
    (READ_ONLY / "overlapdyn-probe").rmdir()
    return False


def outputs(command_, options, text_name="m.toml", text=None):
    """``--out`` a file, ``--out`` inside a file, ``--out`` read-only, ``--out`` not
    creatable, for ``command_``."""
    files = {text_name: text or toml(), "taken": "a file, not a folder"}
    head = (command_, "{dir}/" + text_name, *options, "--out")
    return [
        Case(f"{command_} out is a file", (*head, "{dir}/taken"), OutputError, "taken", files),
        Case(f"{command_} out inside a file", (*head, "{dir}/taken/out"), OutputError,
             "taken", files),
        Case(f"{command_} out read-only", (*head, str(READ_ONLY)), OutputError, str(READ_ONLY),
             files),
        Case(f"{command_} out not creatable", (*head, str(READ_ONLY / "out")), OutputError,
             str(READ_ONLY / "out"), files),
    ]


OUTPUT_CASES = [
    *outputs("ode", ()),
    *outputs("validate", ("--d", "50", "100", "--seeds", "1")),
    *outputs("scaling", ("--d", "50", "100")),
    *outputs("depth", ("--quiet",), "d.toml", DEPTH),
    *outputs("sweep", ("--no-progress",), "s.toml", SWEEP),
]

CLI_CASES = CONFIG_CASES + OPTION_CASES + OUTPUT_CASES


def _ids(cases):
    return [case.name for case in cases]


def _outcome(run) -> tuple[str, BaseException | None]:
    """How ``run()`` ends: "named" (an OverlapdynError), "usage" (argparse), "traceback"
    (any other exception) or "silent" (no error at all)."""
    try:
        run()
    except OverlapdynError as error:
        return "named", error
    except SystemExit as error:
        return "usage", error
    except Exception as error:  # noqa: BLE001 - the census records every ending
        return "traceback", error
    return "silent", None


def census(cases=CLI_CASES) -> dict[str, int]:
    """Run every CLI case's job in-process and count how each ends (see :func:`_outcome`);
    a wrong class or a message without the key counts as "wrong"."""
    import signal
    import tempfile

    from overlapdyn.cli import build_parser

    class Hang(Exception):
        pass

    def hang(signum, frame):
        raise Hang

    signal.signal(signal.SIGALRM, hang)

    counts: dict[str, int] = {}
    for case in cases:
        with tempfile.TemporaryDirectory() as folder:
            argv = case.prepare(Path(folder))

            def run(argv=argv):
                args = build_parser().parse_args(argv)
                args.run(args)

            signal.alarm(60)
            try:
                kind, error = _outcome(run)
            except Hang:
                kind, error = "hang", None
            signal.alarm(0)
            kind = "hang" if isinstance(error, Hang) else kind
            if kind == "named" and not (isinstance(error, case.error)
                                        and case.match in _message(error)):
                kind = "named, wrong class or message"
            elif kind == "usage" and case.error is not SystemExit:
                kind = "usage, expected a named error"
            counts[kind] = counts.get(kind, 0) + 1
            if kind != "named" and kind != "usage":
                print(f"{case.name}: {kind}: {type(error).__name__}: "
                      f"{str(error)[:150]!r}")
    return counts


def _message(error: BaseException) -> str:
    return str(error)


@pytest.fixture(autouse=True)
def _in_a_folder(tmp_path, monkeypatch):
    """Every case runs in its own folder (a default output folder lands there)."""
    monkeypatch.chdir(tmp_path)


def _usable(case: Case) -> None:
    if str(READ_ONLY) in " ".join(case.argv) and not _read_only_usable():
        pytest.skip(f"{READ_ONLY} is writable here")


@pytest.mark.parametrize("case", CLI_CASES, ids=_ids(CLI_CASES))
def test_cli_case_is_a_named_error_on_one_line(case, tmp_path, capsys):
    """The job raises the named error, naming the key (the API path: --debug re-raises);
    the command line prints it on one line and exits with 2."""
    _usable(case)
    argv = case.prepare(tmp_path)
    with pytest.raises(case.error) as raised:
        main(["--debug", *argv])
    if case.error is SystemExit:  # argparse: usage and the error, status 2
        assert raised.value.code == 2
        err = capsys.readouterr().err
    else:
        capsys.readouterr()
        assert case.match in str(raised.value), str(raised.value)
        assert main(argv) == 2
        err = capsys.readouterr().err
    assert "Traceback" not in err
    assert case.match in err, err
    if case.error is not SystemExit:
        assert len(err.strip().splitlines()) == 1, err


def _erf_model(**protocol):
    from overlapdyn.model import Model, Protocol, Student, Target

    return Model(Target(k=2, activation="erf", c_k=1.0),
                 Student(p=2, activation="erf", c_p=1.0), Protocol(**{"eta": 0.5, **protocol}))


def _simulate(d, seeds):
    from overlapdyn.sgd import simulate

    return lambda: simulate(_erf_model(), d, [0.0, 1.0], seeds=seeds)


def _evolve(steps):
    import numpy as np

    from overlapdyn.ode import evolve

    return lambda: evolve(_erf_model(), (0.1 * np.eye(2), 0.5 * np.eye(2)), steps, 1.0)


def _save_at(**fields):
    from overlapdyn.ode import SaveAt

    return lambda: SaveAt(**fields)


def _target(expression):
    from overlapdyn.model import Target

    return lambda: Target(k=1, expression=expression)


def _run_sweep(tmp_path, **options):
    import tomllib

    from overlapdyn.sweeps import run_sweep, sweep_from_dict

    sweep_ = sweep_from_dict(tomllib.loads(SWEEP))
    return lambda: run_sweep(sweep_, tmp_path / "out", progress=False, **options)


# API-only cases: (name, make(tmp_path) -> call, error, words of the message)
API_CASES = [
    ("simulate seeds empty", lambda tmp: _simulate(50, []), ConfigError, "seed"),
    ("simulate d 1e9", lambda tmp: _simulate(10**9, [0]), ResourceError, "GiB"),
    ("evolve steps 0", lambda tmp: _evolve(0), OverlapdynError, "steps"),
    ("evolve steps negative", lambda tmp: _evolve(-3), OverlapdynError, "steps"),
    ("SaveAt t_end NaN", lambda tmp: _save_at(t_end=float("nan")), OverlapdynError, "t_end"),
    ("SaveAt t_end inf", lambda tmp: _save_at(t_end=float("inf")), OverlapdynError, "t_end"),
    ("SaveAt t_end an array", lambda tmp: _save_at(t_end=[1.0, 2.0, 5.0]), OverlapdynError,
     "SaveAt.at"),
    ("SaveAt n_points 1", lambda tmp: _save_at(t_end=1.0, n_points=1), OverlapdynError,
     "n_points"),
    ("formula unknown function", lambda tmp: _target("foo(z1)"), ConfigError, "foo"),
    ("formula unknown function in a sum", lambda tmp: _target("z1 + bar(2*z1)"), ConfigError,
     "bar"),
    ("run_sweep scheduler malformed", lambda tmp: _run_sweep(tmp, scheduler="garbage"),
     SchedulerError, "garbage"),
    ("run_sweep scheduler nobody there",
     lambda tmp: _run_sweep(tmp, scheduler="tcp://127.0.0.1:9"), SchedulerError,
     "127.0.0.1:9"),
    ("run_sweep above max_tasks", lambda tmp: _run_sweep(tmp, max_tasks=1), ResourceError,
     "2 tasks"),
    ("run_sweep no_worker_timeout 0", lambda tmp: _run_sweep(tmp, no_worker_timeout=0.0),
     ConfigError, "--no-worker-timeout"),
    ("run_sweep max_worker_losses 0.5", lambda tmp: _run_sweep(tmp, max_worker_losses=0.5),
     ConfigError, "--max-worker-losses"),
]


@pytest.mark.parametrize(("name", "make", "error", "match"), API_CASES,
                         ids=[case[0] for case in API_CASES])
def test_api_case_is_a_named_error(name, make, error, match, tmp_path, monkeypatch):
    """The call raises the named error, naming the value; the memory refusal is checked
    against a small machine ($OVERLAPDYN_MEMORY_BYTES), so nothing big is allocated."""
    monkeypatch.setenv("OVERLAPDYN_MEMORY_BYTES", str(2**30))
    with pytest.raises(error) as raised:
        make(tmp_path)()
    assert match in str(raised.value), str(raised.value)
    assert not (tmp_path / "out").exists()  # refused before any work


# Cases that hung: each runs in a fresh interpreter (this worktree's code), and a hang
# fails the test at the timeout instead of stalling the suite.
HANG_TIMEOUT_S = 300
ERF_ETA_HUGE = toml({"protocol.eta": "1e6", "integrate.max_evaluations": "20000"})


def _run_python(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=HANG_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args} hung (killed after {HANG_TIMEOUT_S} s)")


@pytest.mark.parametrize(("name", "text", "match"), [
    # erf saturates: |state| grows like a power of t, never reaching the blow-up norm, while
    # the solver's steps shrink; the evaluation budget ends it
    ("erf committee eta 1e6", ERF_ETA_HUGE, "20000 drift evaluations"),
    ("t_end NaN", toml({"integrate.t_end": "nan"}), "integrate.t_end"),
], ids=["erf committee eta 1e6", "t_end NaN"])
def test_cli_case_that_hung_ends_on_one_line(name, text, match, tmp_path):
    (tmp_path / "m.toml").write_text(text)
    done = _run_python(["-m", "overlapdyn.cli", "ode", "m.toml", "--out", "out"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and match in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


API_ERF_ETA_HUGE = """
import numpy as np
from overlapdyn.errors import IntegrationError
from overlapdyn.model import Model, Protocol, Student, Target
from overlapdyn.ode import SaveAt, integrate

model = Model(Target(k=2, activation="erf", c_k=1.0), Student(p=2, activation="erf", c_p=1.0),
              Protocol(eta=1e6))
try:
    integrate(model, (0.1 * np.eye(2), 0.5 * np.eye(2)), SaveAt(10.0, 5),
              max_evaluations=20_000)
except IntegrationError as error:
    run = error.trajectory
    print(run.solver.nfev, run.t[-1], float(np.abs(run.Q[-1]).max()), "|", error)
"""

API_T_END_NAN = """
from overlapdyn.errors import OverlapdynError
from overlapdyn.ode import SaveAt
try:
    SaveAt(t_end=float("nan"))
except OverlapdynError as error:
    print("refused:", error)
"""


def test_api_erf_committee_eta_1e6_stops_within_its_evaluations(tmp_path):
    """The run ends with an IntegrationError after the budget (not ~10⁸ evaluations later,
    at the blow-up norm), keeping the diverging states so far."""
    done = _run_python(["-c", API_ERF_ETA_HUGE], tmp_path)
    assert done.returncode == 0, done.stderr
    numbers, _, message = done.stdout.partition("|")
    nfev, t_last, q_max = (float(x) for x in numbers.split())
    assert 20_000 <= nfev <= 40_000
    assert 0 < t_last < 10.0 and q_max > 1e3  # diverged far above its start (0.5)
    assert "max_evaluations" in message and "η = 1e+06" in message


def test_api_save_at_nan_refuses_and_the_process_exits(tmp_path):
    done = _run_python(["-c", API_T_END_NAN], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "refused: t_end must be > 0, got nan" in done.stdout


if __name__ == "__main__":
    print(census())
