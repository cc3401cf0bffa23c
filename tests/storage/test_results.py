"""The result protocol: every result type saves to one .npz and loads back field for field.

Each instance is small and built cheaply (tiny models, a few saved times, hand-made arrays
where a real run would take long); the comparison walks the dataclass fields, so a field
that :meth:`archive` forgets, or that :meth:`from_archive` rebuilds with another type
(a list for a tuple …), fails the test.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest
import sympy

from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.depth.config import DepthConfig, KappaSweep, Network, Training
from overlapdyn.depth.experiment import DepthResult
from overlapdyn.depth.first_layer import Stage1Validation
from overlapdyn.depth.recovery import WeakRecovery
from overlapdyn.depth.targets import HierarchicalTarget, Thresholds, thresholds
from overlapdyn.errors import OverlapdynError
from overlapdyn.jobs.scaling import ScalingReport
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.analysis import FixedPoint
from overlapdyn.ode.trajectory import Outcome, SgdRun, SolverStats, Trajectory
from overlapdyn.scaling.escape import EscapeTimes
from overlapdyn.scaling.leaps import leap
from overlapdyn.scaling.prediction import fit_exponent, predict_scaling
from overlapdyn.scaling.saddles import Plateau, SaddleToSaddle
from overlapdyn.sgd.simulator import Simulation, simulate
from overlapdyn.sgd.validation import validate
from overlapdyn.storage.results import Result
from overlapdyn.sweeps.runner import SweepSummary

ERF = Model(Target(k=2, activation="erf", c_k=1.0), Student(p=2, activation="erf", c_p=1.0),
            Protocol(eta=0.5), name="erf")
ONE = Model(Target(k=1, activation="He3"), Student(p=1, activation="He3"), Protocol(eta=0.1),
            name="he3")


def trajectory(model: Model = ONE, T: int = 4, **fields) -> Trajectory:
    t = np.linspace(0.0, 3.0, T)
    M = np.linspace(0.05, 0.9, T * model.p * model.k).reshape(T, model.p, model.k)
    Q = np.tile(np.eye(model.p), (T, 1, 1))
    return Trajectory(t=t, M=M, Q=Q, a=np.ones((T, model.p)), risk=np.exp(-t), model=model,
                      **fields)


def ode_run() -> Trajectory:
    return trajectory(outcome=Outcome.EVENT, message="stopped", events={"risk<0.1": (2.5,)},
                      solver=SolverStats("LSODA", 1e-8, 1e-10, 321), kernels="exact",
                      truncation_errors={"sigma": 1e-3}, wall_time_s=0.125,
                      versions={"numpy": np.__version__}, metadata={"note": [1, 2]})


def simulated_run() -> Trajectory:
    return trajectory(outcome=Outcome.FAILED, message="diverged", test_risk=[1.0, 0.5, np.nan,
                                                                            0.2],
                      sgd=SgdRun(d=50, seed=3, n_test=100, failed_at=120))


def evolved_run() -> Trajectory:
    return trajectory(alpha=2.0, kernels="hermite")


def fixed_point() -> FixedPoint:
    compiled = CompiledModel(ERF)
    M, Q = np.array([[0.3, 0.1], [0.2, 0.4]]), np.array([[1.0, 0.2], [0.2, 0.9]])
    a = np.ones(2)
    # the record only: the eigenpairs of a fixed 7×7 matrix (7 free coordinates) stand in
    # for the Jacobian's, whose module would be a second cold build (tested in
    # tests/compile/test_jacobian.py); complex pairs included
    values, vectors = np.linalg.eig(np.random.default_rng(0).normal(size=(7, 7)))
    return FixedPoint(M, Q, a, compiled.risk(M, Q), values, vectors, 1e-9, compiled)


def simulation():
    return simulate(ERF, 20, np.array([0.0, 0.5, 1.0]), seeds=(0, 1), n_test=10)


def validation_report():
    return validate(ERF, (20, 40), np.array([0.0, 0.5, 1.0]), seeds=2)


def escape_times(route: str = "ode") -> EscapeTimes:
    prediction = predict_scaling(ONE)
    times = np.array([[1.0, 2.0], [3.0, np.nan], [9.0, 8.0]])
    runs = tuple(tuple(trajectory(T=3 + s) for s in range(2)) for _ in range(3))
    settings = (dict(seeds=None, method="LSODA") if route == "ode" else
                dict(seeds=(0, 1), n_saves=30, wall_time_s=(0.1, 0.2, 0.4)))
    return EscapeTimes(route, ONE, (64, 128, 256), (0.1, 0.07, 0.05), times, 0.5, prediction,
                       runs, t_max=(10.0, 20.0, 40.0), direction=0, scale_eta=False, **settings)


def saddles() -> SaddleToSaddle:
    return SaddleToSaddle((1.0, math.nan, 3.0), (Plateau(0.1, 1.0, 0.5),
                                                 Plateau(2.0, 5.0, 0.25)), 0.5)


def depth_result() -> DepthResult:
    config = DepthConfig(HierarchicalTarget(d=16), Network(p1=32, p2=8), Training(steps1=2),
                         KappaSweep(kappa_min=1.0, kappa_max=2.0, points=3, seeds=2))
    values = {"M_W": np.array([[0.3, 0.3], [0.5, 0.6], [0.9, 0.9]]),
              "error_kernel": np.array([[1.0, np.nan], [0.5, 0.6], [0.2, 0.1]])}
    return DepthResult(config, np.array([1.0, 1.5, 2.0]), np.array([16, 64, 256]), values,
                       np.ones(2), 12.5)


def stage1() -> Stage1Validation:
    rng = np.random.default_rng(0)
    return Stage1Validation(np.array([64, 256]), rng.random((2, 3, 5)), rng.random((2, 3, 5)),
                            np.array([1.5, 4.0]), np.array([8, 16]), np.array([2048, 16384]),
                            {"eps": 0.5, "inner": "P3", "seeds": 3})


def scaling_report() -> ScalingReport:
    return ScalingReport(ONE, predict_scaling(ONE), (escape_times("ode"),
                                                      escape_times("simulation")),
                         saddles(), 0.15)


RESULTS = {
    "Trajectory (ODE)": ode_run,
    "Trajectory (simulated)": simulated_run,
    "Trajectory (state evolution)": evolved_run,
    "FixedPoint": fixed_point,
    "Simulation": simulation,
    "ValidationReport": validation_report,
    "Leap (exact)": lambda: leap("z1 + z1*z2*z3", 3),
    "Leap (truncated)": lambda: leap("relu(z1)", 1, order=4),
    "ScalingPrediction": lambda: predict_scaling("z1*z2", 2),
    "ExponentFit (regression)": lambda: fit_exponent([10, 20, 40, 80], [11.0, 39.0, 170.0,
                                                                      630.0]),
    "ExponentFit (bootstrap)": lambda: fit_exponent([10, 20, 40], [[9.0, 12.0], [41.0, 35.0],
                                                                   [160.0, np.inf]],
                                                    n_bootstrap=50),
    "EscapeTimes (ODE)": escape_times,
    "EscapeTimes (simulation)": lambda: escape_times("simulation"),
    "SaddleToSaddle": saddles,
    "DepthResult": depth_result,
    "WeakRecovery": lambda: WeakRecovery(64, 8, 0.5, 0.5, 0.9, 0.45, 1138.0, 1.69),
    "WeakRecovery (no signal)": lambda: WeakRecovery(64, 8, 0.5, 0.0, 0.0, 0.0, math.inf,
                                                     math.inf),
    "Stage1Validation": stage1,
    "Thresholds": lambda: thresholds((0.6, 0.3), 3, 2),
    "SweepSummary": lambda: SweepSummary(5, 3, 1, 1, 2.5, (("abc123", "ValueError: no"),),
                                         "/tmp/store", "NoWorkerError: none left"),
    "ScalingReport": scaling_report,
}


def assert_same(a, b, where: str = "result") -> None:
    """``b`` equals ``a`` field by field (arrays exactly, NaN equal to NaN), with the same
    container types."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), f"{where}: {type(b).__name__}, not an array"
        assert a.shape == b.shape and a.dtype.kind == b.dtype.kind, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, CompiledModel):
        assert isinstance(b, CompiledModel), where
        assert_same(a.model, b.model, f"{where}.model")
        assert a.derivation == b.derivation and a.method == b.method, where
    elif dataclasses.is_dataclass(a):
        assert type(b) is type(a), f"{where}: {type(b).__name__}, not {type(a).__name__}"
        for field in dataclasses.fields(a):
            assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert type(b) is type(a), f"{where}: {type(b).__name__}, not {type(a).__name__}"
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float | np.floating) and math.isnan(a):
        assert math.isnan(b), where
    elif isinstance(a, sympy.Basic):
        assert a == b, where
    else:
        assert a == b, f"{where}: {b!r} != {a!r}"
        assert isinstance(b, bool) == isinstance(a, bool | np.bool_), where


@pytest.mark.parametrize("name", list(RESULTS))
def test_every_result_type_round_trips(name, tmp_path):
    result = RESULTS[name]()
    assert isinstance(result, Result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(result, dataclasses.fields(result)[0].name, None)
    path = result.save(tmp_path / "result.npz")
    back = type(result).load(path)
    assert_same(result, back)
    assert back.describe() == result.describe() == str(result)
    with np.load(path) as data:
        header = json.loads(str(data["header"]))
    assert header["format"] == type(result).FORMAT == f"overlapdyn.{type(result).__name__}"
    assert header["version"] == type(result).VERSION
    assert set(header["library_versions"]) >= {"overlapdyn", "numpy", "scipy", "numba"}
    summary = tmp_path / "result.json"
    if hasattr(result, "to_dict"):     # the JSON summary is written beside the record
        written = json.loads(summary.read_text())
        assert set(written.pop("library_versions")) >= {"overlapdyn", "numpy", "scipy"}
        expected = json.loads(json.dumps(result.to_dict()))
        expected.pop("library_versions", None)
        assert written == expected
    else:
        assert not summary.exists()


def test_the_configuration_is_in_the_header(tmp_path):
    path = escape_times().save(tmp_path / "escape.npz")
    with np.load(path) as data:
        header = json.loads(str(data["header"]))
    assert header["model"] == ONE.to_dict()
    assert header["prediction"]["format"] == "overlapdyn.ScalingPrediction"
    assert header["runs"][0][1]["format"] == "overlapdyn.Trajectory"


def test_a_file_of_another_type_or_version_is_refused_with_its_path(tmp_path):
    path = saddles().save(tmp_path / "saddles.npz")
    with pytest.raises(OverlapdynError, match="is not a saved overlapdyn Thresholds: its "
                                              "header has format 'overlapdyn.SaddleToSaddle'"):
        Thresholds.load(path)
    with np.load(path) as data:
        arrays = dict(data)
    header = json.loads(str(arrays["header"]))
    arrays["header"] = np.array(json.dumps({**header, "version": 99}))
    with path.open("wb") as handle:
        np.savez(handle, **arrays)
    with pytest.raises(OverlapdynError, match=rf"{path}.*version 99.*reads "
                                              "overlapdyn.SaddleToSaddle version 1"):
        SaddleToSaddle.load(path)


def test_a_result_with_a_summary_is_not_saved_under_the_summary_name(tmp_path):
    with pytest.raises(OverlapdynError, match="ending in .npz"):
        saddles().save(tmp_path / "saddles.json")
    assert list(tmp_path.iterdir()) == []


def test_outcomes_are_messages_with_scipy_codes():
    assert [o.status for o in Outcome] == [0, 1, -1]
    assert all(Outcome.from_status(o.status) is o for o in Outcome)
    assert Outcome.EVENT.value == "a terminal event stopped the run"
    with pytest.raises(OverlapdynError, match="−1, 0 or 1"):
        Outcome.from_status(2)
    with pytest.raises(OverlapdynError, match="−1, 0 or 1"):
        Outcome.from_status(True)
    assert simulated_run().status == -1 and ode_run().status == 1


def test_simulation_failure_points_come_from_its_runs():
    runs = (simulated_run(), trajectory(sgd=SgdRun(50, 4)))
    simulation = Simulation(runs, 50, (3, 4), wall_time_s=1.0, steps=150)
    assert simulation.failed_at == (120, -1)
    assert simulation.samples_per_seed == 150 * ONE.protocol.n_b


def test_depth_results_saved_before_the_protocol_still_load(tmp_path):
    """The old layout: a header-less .npz of arrays, the configuration in the .json."""
    result = depth_result()
    path = tmp_path / "result.npz"
    with path.open("wb") as handle:
        np.savez(handle, kappa=result.kappa, n=result.n, null_error=result.null_error,
                 **{f"values/{k}": v for k, v in result.values.items()})
    path.with_suffix(".json").write_text(json.dumps({"config": result.config.to_dict(),
                                                     "wall_s": result.wall_s}))
    assert_same(result, DepthResult.load(path))
    path.with_suffix(".json").write_text("{}")
    with pytest.raises(OverlapdynError, match="is not a saved overlapdyn DepthResult"):
        DepthResult.load(path)


def test_a_full_disk_is_a_named_error_and_leaves_the_old_file(tmp_path):
    """A full disk used to leave a 0-byte overlaps.png: figures go through the atomic writer
    too, and ENOSPC is a DiskFullError naming the file."""
    import errno

    from overlapdyn.errors import DiskFullError
    from overlapdyn.plot.axes import new_axes, save_figure

    figure, _ = new_axes()
    path = tmp_path / "overlaps.png"
    save_figure(figure, path)
    before = path.read_bytes()

    def full(handle, **_):
        handle.write(b"\x89PNG partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    figure.savefig = full
    with pytest.raises(DiskFullError, match="cannot write .*overlaps.png: no space left"):
        save_figure(figure, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_an_interrupt_as_the_temporary_is_created_leaves_nothing(tmp_path, monkeypatch):
    """CI once found a record's temporary left behind by a sweep stopped with SIGTERM: the
    interrupt landed after os.open returned, before the clean-up took over."""
    import os

    from overlapdyn.storage import files

    real_open = os.open

    def open_then_interrupt(*args, **kwargs):
        real_open(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "open", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write_text(tmp_path / "record.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_are_removed_and_writes_in_progress_kept(tmp_path):
    """A writer killed outright (SIGKILL, power loss) leaves its temporary; the next run that
    writes into the store removes it — but never the temporary of a live writer."""
    import os
    import subprocess
    import sys

    from overlapdyn.storage import ResultStore, atomic_write
    from overlapdyn.storage.files import STALE_AFTER_S

    store = ResultStore(tmp_path)
    seen = []       # this process's temporary, as a write in progress names it
    atomic_write(store.tasks / "a0.json", lambda handle: seen.extend(os.listdir(store.tasks)))
    ours, = seen
    prefix, host, pid, token = re.fullmatch(
        r"(\.a0\.json\.)([0-9a-f]{8})-(\d+)-([0-9a-f]{12})\.tmp", ours).groups()
    assert int(pid) == os.getpid()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    names = {
        "killed here": f".a1.json.{host}-{dead}-{token}.tmp",
        "live here": f".a2.json.{host}-{pid}-{token}.tmp",
        "fresh elsewhere": f".a3.json.0000beef-{dead}-{token}.tmp",
        "old elsewhere": f".a4.json.0000beef-{pid}-{token}.tmp",
        "not ours": ".notes.tmp",
    }
    for name in names.values():
        (store.tasks / name).write_text("{half")
    old = (store.tasks / names["old elsewhere"]).stat().st_mtime - STALE_AFTER_S - 60
    os.utime(store.tasks / names["old elsewhere"], (old, old))
    ResultStore(tmp_path, create=False)          # a reader changes nothing
    assert len(list(store.tasks.iterdir())) == 6
    ResultStore(tmp_path)                         # a writer clears the stale ones
    assert sorted(p.name for p in store.tasks.iterdir()) == sorted(
        ["a0.json"] + [names[k] for k in ("live here", "fresh elsewhere", "not ours")])
