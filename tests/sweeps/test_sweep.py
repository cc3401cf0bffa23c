"""Sweeps: spec and TOML, task kinds, result store, aggregation, plot, and real Dask runs.

The Dask tests start real processes on loopback: ``overlapdyn sweep`` on a local cluster of
2 workers (terminated halfway, then resumed), and a ``dask scheduler`` with two ``dask
worker`` processes. Every process they start lives in its own session and is killed at
teardown, whatever happened. Models are linear p = k = 1 committees (kernels compile in
seconds once, then come from the cache); the 80-task sweep is 4 learning rates × 20 seeds of
finite-d SGD at d = 200 to t = 10, where η = 50 diverges (those 20 tasks fail).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import overlapdyn as od
from overlapdyn.cli import main
from overlapdyn.errors import ConfigError, OverlapdynError
from overlapdyn.io.netcdf import STATUS, aggregate, load_dataset, save_dataset
from overlapdyn.io.toml import load_sweep
from overlapdyn.ode.config import IntegrateConfig
from overlapdyn.ode.integrator import SaveAt
from overlapdyn.plot.sweeps import plot_sweep
from overlapdyn.storage.store import ResultStore
from overlapdyn.sweeps.runner import pending, run_sweep
from overlapdyn.sweeps.sweep import Sweep, sweep_from_dict
from overlapdyn.sweeps.tasks import Task, TaskKind, execute

BIN = Path(sys.executable).parent
# Waits on other processes end when what they wait for happens; this limit only turns a
# hang into a failure, far beyond what any loaded machine needs.
HANG_GUARD_S = 900
LINEAR = od.Model(od.Target(k=1, activation="linear"), od.Student(p=1, activation="linear"),
                  od.Protocol(eta=0.5))
SHORT = IntegrateConfig(SaveAt(3.0, 12), d=100)

SWEEP_TOML = """
[target]
k = 1
activation = "linear"
[student]
p = 1
activation = "linear"
[protocol]
eta = 0.1
[integrate]
t_end = 10.0
n_points = 12
t_first = 0.1
d = 200
[sweep]
kind = "simulate"
[sweep.axes]
eta = [0.1, 0.2, 0.5, 50.0]
seed = [{seeds}]
"""
N_SEEDS = 20
N_TASKS = 4 * N_SEEDS     # η × seed; the η = 50 tasks diverge
DIVERGING_ETA = 50.0


# ---------------------------------------------------------------- spec and TOML

def test_axes_resolve_bare_dotted_and_shorthand_names():
    sweep = Sweep(LINEAR, {"eta": [0.1, 0.2], "student.p": [1, 2], "d": [100, 200],
                           "seed": range(3)}, run=SHORT)
    assert [(a.name, a.path) for a in sweep.axes] == [
        ("eta", "protocol.eta"), ("student.p", "student.p"), ("d", "integrate.d"),
        ("seed", "integrate.seed")]
    assert sweep.shape == (2, 2, 2, 3) and sweep.size == 24
    tasks = sweep.tasks()
    assert len(tasks) == 24
    # C order: the last axis (seed) fastest; the width axis rebuilds a and c_p = 1/p
    assert [t.run.seed for t in tasks[:3]] == [0, 1, 2]
    assert tasks[6].model.student.p == 2 and tasks[6].model.student.a == (1.0, 1.0)
    assert tasks[6].model.student.c_p == 0.5 and tasks[0].model.student.c_p == 1.0
    assert tasks[-1].model.protocol.eta == 0.2 and tasks[-1].run.d == 200
    assert len({t.key for t in tasks}) == 24


@pytest.mark.parametrize(("axes", "message"), [
    ({"etta": [1.0]}, "unknown sweep axis 'etta'"),
    ({"seeds": [1, 2]}, "write seed = \\[0, 1, …\\]"),
    ({"activation": ["relu"]}, "ambiguous.*target.activation.*student.activation"),
    ({"protocol.etaa": [1.0]}, "\\[protocol\\] has no key 'etaa'"),
    ({"model.eta": [1.0]}, "unknown section 'model'"),
    ({"eta": 0.5}, "must be a list of values"),
    ({"eta": []}, "has no values"),
    ({"eta": [0.1, 0.1]}, "repeats a value"),
    ({"eta": [0.1], "protocol.eta": [0.2]}, "same field"),
])
def test_malformed_axes_name_the_axis_and_the_fix(axes, message):
    with pytest.raises(ConfigError, match=message):
        Sweep(LINEAR, axes, run=SHORT)


def test_kind_specific_checks():
    with pytest.raises(ConfigError, match="'validate' tasks do not use integrate.d.*ds"):
        Sweep(LINEAR, {"d": [100, 200]}, kind="validate")
    with pytest.raises(ConfigError, match="unknown \\[sweep.options\\] \\['n_tset'\\].*n_test"):
        Sweep(LINEAR, {"seed": [0]}, kind="simulate", options={"n_tset": 5})
    with pytest.raises(ConfigError, match="unknown task kind .lyapunov..*register_kind"):
        Sweep(LINEAR, {"seed": [0]}, kind="lyapunov")
    clashing = TaskKind("clashing", _square, dims={"row": ("n_b",)})
    with pytest.raises(ConfigError, match="axes \\['n_b'\\] clash.*<section>.<key>"):
        Sweep(LINEAR, {"n_b": [1, 2]}, kind=clashing)
    assert Sweep(LINEAR, {"protocol.n_b": [1, 2]}, kind=clashing).size == 2
    assert Sweep(LINEAR, {"options.n_test": [0, 10]}, kind="simulate").tasks()[1].option(
        "n_test") == 10


def test_toml_sweep_round_trips_and_bad_tables_fail(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(SWEEP_TOML.format(seeds="0, 1, 2"))
    sweep = load_sweep(path)
    assert sweep.name == "grid" and sweep.kind.name == "simulate" and sweep.shape == (4, 3)
    again = sweep_from_dict(json.loads(json.dumps(sweep.to_dict())))
    assert [t.key for t in again.tasks()] == [t.key for t in sweep.tasks()]
    assert again.fingerprint() == sweep.fingerprint()
    config = {"target": {"k": 1, "activation": "linear"},
              "student": {"p": 1, "activation": "linear", "a": [1.0]},
              "protocol": {"eta": 0.1}}
    with pytest.raises(ConfigError, match="no \\[sweep\\] section"):
        sweep_from_dict(config)
    with pytest.raises(ConfigError, match="unknown keys \\['axis'\\] in \\[sweep\\]"):
        sweep_from_dict({**config, "sweep": {"axis": {"eta": [1.0]}}})
    with pytest.raises(ConfigError, match="sweep.axes must be a table"):
        sweep_from_dict({**config, "sweep": {"axes": [1, 2]}})
    # the base pins a = [1.0]: a width of 2 is not a valid point, and the error says which
    with pytest.raises(ConfigError, match="sweep point p = 2 .*student.a must have 2"):
        sweep_from_dict({**config, "sweep": {"axes": {"p": [1, 2]}}}).tasks()


def test_task_keys_ignore_the_name_and_follow_everything_else():
    task = Task("ode", LINEAR, SHORT)
    renamed = Task("ode", od.Model(LINEAR.target, LINEAR.student, LINEAR.protocol, name="x"),
                   SHORT)
    assert renamed.key == task.key
    assert Task("simulate", LINEAR, SHORT).key != task.key
    assert Task("ode", LINEAR, IntegrateConfig(SaveAt(3.0, 12), d=100, seed=1)
                ).key != task.key
    assert Task("simulate", LINEAR, SHORT, (("n_test", 5),)).key != \
        Task("simulate", LINEAR, SHORT).key


# -------------------------------------------------------- tasks, store, dataset

def test_execute_records_values_or_the_error():
    done = execute(Task("ode", LINEAR, SHORT))
    assert done["status"] == "done" and done["error"] is None
    assert len(done["values"]["risk"]) == 12 and done["values"]["t"][-1] == 3.0
    assert done["values"]["risk"][-1] < done["values"]["risk"][0]
    blown = od.Model(LINEAR.target, LINEAR.student, od.Protocol(eta=5.0))
    failed = execute(Task("ode", blown, SHORT))
    assert failed["status"] == "failed" and failed["values"] == {}
    assert failed["error"].startswith("IntegrationError: the overlaps blew up")
    assert "η = 5" in failed["error"] and "Traceback" in failed["traceback"]
    # the kernels are loaded once per process: a second task compiles nothing
    assert execute(Task("ode", LINEAR, IntegrateConfig(SaveAt(2.0), d=100)))[
        "numba_compiles"] == 0


def test_validate_tasks_give_exponents_per_point(tmp_path):
    sweep = Sweep(LINEAR, {"eta": [0.2, 0.5]}, kind="validate",
                  run=IntegrateConfig(SaveAt(2.0, 8, t_first=0.1)),
                  options={"ds": [50, 200], "seeds": 2})
    store = ResultStore(tmp_path)
    od.sweeps.tasks.warm_up(sweep.tasks()[0])
    for task in sweep.tasks():
        record = execute(task)
        assert record["numba_compiles"] == 0   # the warm-up compiled what validate runs
        store.put(task.key, record)
    ds = aggregate(sweep, store)
    assert ds.d_validate.values.tolist() == [50, 200] and ds.gap_risk.dims == (
        "eta", "d_validate")
    assert (ds.gap_risk.sel(d_validate=200) < ds.gap_risk.sel(d_validate=50)).all()
    assert np.isfinite(ds.exponent_risk).all() and (ds.status == STATUS["done"]).all()
    assert (ds.points_compared == 8).all() and (ds.t_compared == 2.0).all()



def test_a_validate_task_whose_runs_blew_up_fails_with_the_cause():
    """η = 50 diverges at once: only t = 0 is left to compare. This used to be a done record
    with passed = 1 and NaN exponents."""
    sweep = Sweep(LINEAR, {"eta": [50.0]}, kind="validate",
                  run=IntegrateConfig(SaveAt(2.0, 8, t_first=0.1)),
                  options={"ds": [50, 200], "seeds": 2})
    record = execute(sweep.tasks()[0])
    assert record["status"] == "failed" and record["values"] == {}
    assert "validation undetermined" in record["error"]
    assert "η is probably too large" in record["error"]

def test_escape_tasks_wrap_the_escape_module():
    sweep = Sweep(LINEAR, {"d": [100, 10000], "seed": [0, 1]}, kind="escape")
    records = [execute(task) for task in sweep.tasks()]
    assert [r["status"] for r in records] == ["done"] * 4
    samples = np.array([r["values"]["escape_samples"] for r in records]).reshape(2, 2)
    # information exponent 1: n ∝ d, here to within 20 %
    np.testing.assert_allclose(samples[1] / samples[0], 100, rtol=0.2)
    assert records[0]["values"]["predicted_exponent"] == 1
    with pytest.raises(ConfigError, match="'escape' tasks do not use integrate.t_end"):
        Sweep(LINEAR, {"integrate.t_end": [1.0, 2.0]}, kind="escape")


def test_solver_keys_are_axes_of_ode_sweeps_only():
    sweep = Sweep(LINEAR, {"method": ["LSODA", "Radau"], "integrate.jacobian": ["auto",
                                                                                "solver"]})
    solvers = [task.run.solver for task in sweep.tasks()]
    assert solvers == [od.Solver(m, jacobian=j) for m in ("LSODA", "Radau")
                       for j in ("auto", "solver")]
    assert len({task.key for task in sweep.tasks()}) == 4
    with pytest.raises(ConfigError, match="'simulate' tasks do not use integrate.jacobian"):
        Sweep(LINEAR, {"integrate.jacobian": ["auto", "solver"]}, kind="simulate")


def _square(task):
    eta = task.model.protocol.eta
    return {"square": eta ** 2, "row": np.arange(task.run.seed + 1.0), "eta": 2 * eta}


def test_a_new_kind_is_a_function_and_a_registration(tmp_path):
    kind = TaskKind("square", _square, dims={"row": ("i",)})
    sweep = Sweep(LINEAR, {"eta": [1.0, 3.0], "seed": [0, 2]}, kind=kind)
    store = ResultStore(tmp_path)
    for task in sweep.tasks():
        store.put(task.key, execute(task))
    ds = aggregate(sweep, store)
    np.testing.assert_array_equal(ds.square.values, [[1.0, 1.0], [9.0, 9.0]])
    # rows of different lengths are padded with NaN
    np.testing.assert_array_equal(ds.row.sel(eta=3.0, seed=0).values, [0.0, np.nan, np.nan])
    # a value named like an axis does not replace the axis' coordinate
    np.testing.assert_array_equal(ds.eta.values, [1.0, 3.0])
    np.testing.assert_array_equal(ds.eta_values.values[:, 0], [2.0, 6.0])
    assert od.sweeps.register_kind(kind) is kind and od.sweeps.tasks.task_kind("square") is kind
    with pytest.raises(ConfigError, match="already registered"):
        od.sweeps.register_kind(kind)
    od.sweeps.tasks.KINDS.unregister("square")


def test_store_is_atomic_keyed_and_refuses_other_folders(tmp_path):
    store = ResultStore(tmp_path / "s")
    store.put("abc1", {"status": "done", "values": {"x": [1.0, float("nan")]}})
    (store.tasks / ".abc2.json.0123.tmp").write_text("{half")   # an interrupted write
    assert store.keys() == {"abc1"} and "abc1" in store and len(store) == 1
    assert np.isnan(store.get("abc1")["values"]["x"][1]) and store.get("zzz9") is None
    store.put("abc1", {"status": "failed"})   # same key: replaced, never duplicated
    assert len(list(store.tasks.iterdir())) == 2 and store.get("abc1")["status"] == "failed"
    with pytest.raises(OverlapdynError, match="alphanumeric"):
        store.put("../x", {})
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "manifest.json").write_text(json.dumps(
        {"format": "overlapdyn.validation-store", "version": 1}))
    with pytest.raises(OverlapdynError, match="not a store of 'overlapdyn.ode.trajectory-store'"):
        ResultStore(tmp_path / "v")


def test_pending_skips_stored_tasks_and_retries_failures_on_request(tmp_path):
    sweep = Sweep(LINEAR, {"eta": [0.5, 5.0]}, run=SHORT)
    ok, blown = sweep.tasks()
    store = ResultStore(tmp_path)
    assert pending([ok, blown], store) == [ok, blown]
    for task in (ok, blown):
        store.put(task.key, execute(task))
    assert pending([ok, blown], store) == []
    assert pending([ok, blown], store, retry_failed=True) == [blown]


def test_aggregate_refuses_a_folder_that_holds_no_store(tmp_path):
    with pytest.raises(OverlapdynError, match="no result store"):
        aggregate(Sweep(LINEAR, {"seed": [0]}, run=SHORT), tmp_path / "typo")
    assert not (tmp_path / "typo").exists()


def test_aggregate_labels_pads_flags_and_round_trips(tmp_path):
    blown = {"eta": [0.5, 5.0], "p": [1, 2], "seed": [0, 1]}
    sweep = Sweep(LINEAR, blown, run=SHORT)
    store = ResultStore(tmp_path / "store")
    tasks = sweep.tasks()
    for task in tasks[:-1]:                  # the last point is left missing
        store.put(task.key, execute(task))
    ds = aggregate(sweep, store)
    assert dict(ds.sizes) == {"eta": 2, "p": 2, "seed": 2, "t": 12, "j": 2, "r": 1, "l": 2}
    np.testing.assert_array_equal(ds.t.values, SHORT.save.grid())
    assert ds.status.sel(eta=0.5).values.tolist() == [[1, 1], [1, 1]]
    assert ds.status.values[-1, -1, -1] == STATUS["missing"]
    assert ds.status.sel(eta=5.0, p=1).values.tolist() == [STATUS["failed"]] * 2
    assert "η = 5" in str(ds.error.sel(eta=5.0, p=1, seed=0).values)
    assert np.isnan(ds.final_risk.sel(eta=5.0, p=1)).all()
    # M_final is (p, k) per task: padded with NaN where p = 1
    assert np.isnan(ds.M_final.sel(p=1).values[..., 1, :]).all()
    assert np.isfinite(ds.M_final.sel(eta=0.5, p=2).values).all()
    single = store.get(tasks[0].key)["values"]
    np.testing.assert_array_equal(ds.risk.values[0, 0, 0], single["risk"])
    counts = {s: int((ds.status.values == STATUS[s]).sum()) for s in ("done", "failed", "missing")}
    assert counts["missing"] == 1 and counts["failed"] >= 2
    assert {s: ds.attrs[f"tasks_{s}"] for s in counts} == counts
    save_dataset(ds, tmp_path / "results.nc")
    back = load_dataset(tmp_path / "results.nc")
    for name in ("risk", "final_risk", "M_final", "status"):
        np.testing.assert_array_equal(back[name].values, ds[name].values)
    assert back.error.values.tolist() == ds.error.values.tolist()
    assert json.loads(back.attrs["sweep"]) == sweep.to_dict()


def test_plot_sweep_draws_one_line_per_hue_value(tmp_path):
    sweep = Sweep(LINEAR, {"eta": [0.2, 0.5, 1.0], "d": [100, 400], "seed": [0, 1]},
                  run=SHORT)
    store = ResultStore(tmp_path)
    for task in sweep.tasks():
        store.put(task.key, execute(task))
    ds = aggregate(sweep, store)
    fig = plot_sweep(ds.risk.sel(t=1.0, method="nearest"), "eta", hue="d", logy=True)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.get_xlabel() == "eta"
    expected = ds.risk.sel(t=1.0, method="nearest").sel(d=100).mean("seed").values
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected)
    with pytest.raises(OverlapdynError, match="'n_b' is not a dimension"):
        plot_sweep(ds.final_risk, "n_b")


# ------------------------------------------------------------ real Dask processes

def _in_group(pgid: int) -> list[int]:
    """The live processes of process group ``pgid`` (zombies excluded)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            alive.append(int(entry))
    return alive


def _kill_group(process: subprocess.Popen) -> None:
    if process.poll() is None or _in_group(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=HANG_GUARD_S)


def _records(folder: Path) -> dict[str, dict]:
    """Every record file of a store, failing on a file that is not exactly one record."""
    files = sorted((folder / "tasks").iterdir())
    assert not [f for f in files if f.name.startswith(".")], "temporary files left behind"
    records = {}
    for file in files:
        record = json.loads(file.read_text())
        assert file.name == f"{record['key']}.json" and record["key"] not in records
        records[record["key"]] = record
    return records


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """`overlapdyn sweep` of N_TASKS tasks on a local 2-worker cluster: terminated once some
    results exist, then rerun to completion. Returns what the test needs to check."""
    folder = tmp_path_factory.mktemp("sweep")
    config = folder / "grid.toml"
    config.write_text(SWEEP_TOML.format(seeds=", ".join(map(str, range(N_SEEDS)))))
    out = folder / "results"
    command = [str(BIN / "overlapdyn"), "sweep", str(config), "--out", str(out),
               "--workers", "2", "--no-progress"]
    first = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        # the sweep either stores results or exits, however slow the machine
        guard = time.monotonic() + HANG_GUARD_S
        while first.poll() is None and time.monotonic() < guard and not (
                (out / "tasks").is_dir() and len(os.listdir(out / "tasks")) >= 5):
            time.sleep(0.02)
        first.send_signal(signal.SIGTERM)       # the command itself, not its workers
        output, _ = first.communicate(timeout=HANG_GUARD_S)
        before = len(ResultStore(out, create=False))    # records, not temporaries
        guard = time.monotonic() + HANG_GUARD_S  # its workers go down with it
        while _in_group(first.pid) and time.monotonic() < guard:
            time.sleep(0.1)
        orphans = _in_group(first.pid)
    finally:
        _kill_group(first)
    second = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = second.communicate(timeout=HANG_GUARD_S)
    finally:
        _kill_group(second)    # its cluster too, should the run hang or the test fail
    second = subprocess.CompletedProcess(command, second.returncode, stdout, stderr)
    return {"out": out, "sweep": load_sweep(config), "first_rc": first.returncode,
            "first_output": output, "before": before, "orphans": orphans,
            "second": second}


def test_killed_sweep_resumes_with_every_result_exactly_once(killed_and_resumed):
    run = killed_and_resumed
    assert run["first_rc"] == 130, run["first_output"]
    assert "interrupted" in run["first_output"]
    assert run["orphans"] == [], "worker processes outlived the terminated sweep"
    assert 0 < run["before"] < N_TASKS, "the sweep was not caught halfway"
    second = run["second"]
    assert second.returncode == 0, second.stdout + second.stderr
    # the rerun skips exactly what the terminated run had stored
    summary = [line for line in second.stdout.splitlines() if line.startswith(f"{N_TASKS} tasks:")]
    assert summary and f", {run['before']} skipped" in summary[0], second.stdout
    records = _records(run["out"])
    expected = {task.key for task in run["sweep"].tasks()}
    assert len(expected) == N_TASKS and set(records) == expected
    failed = {k for k, r in records.items() if r["status"] == "failed"}
    assert {records[k]["task"]["model"]["protocol"]["eta"] for k in failed} == {DIVERGING_ETA}
    assert len(failed) == N_SEEDS
    assert all("error turned non-finite" in records[k]["error"] for k in failed)
    assert all(len(r["values"]["risk"]) == 12 for k, r in records.items() if k not in failed)
    # compiled once (by the client's warm-up); no task on any worker compiled anything
    assert {r["numba_compiles"] for r in records.values()} == {0}
    assert len({r["worker"]["pid"] for r in records.values()}) >= 2
    assert (run["out"] / "final_risk.png").stat().st_size > 0
    ds = load_dataset(run["out"] / "results.nc")
    assert ds.attrs["tasks_done"] == 3 * N_SEEDS and ds.attrs["tasks_failed"] == N_SEEDS
    assert (ds.status.sel(eta=0.1) == STATUS["done"]).all()


def _scheduler_address(scheduler_file, scheduler):
    """The address in `scheduler_file`, once the scheduler has finished writing it.

    The file appears before its JSON is written (CI once read it empty), so wait for a
    parse, not for the file.
    """
    guard = time.monotonic() + HANG_GUARD_S
    while scheduler.poll() is None and time.monotonic() < guard:
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            time.sleep(0.1)
    pytest.fail(f"the dask scheduler wrote no address to {scheduler_file} "
                f"(exit code {scheduler.poll()})")


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A `dask scheduler` and two `dask worker` processes on 127.0.0.1 (killed after)."""
    folder = tmp_path_factory.mktemp("cluster")
    scheduler_file = folder / "scheduler.json"
    common = {"start_new_session": True, "stdout": subprocess.DEVNULL,
              "stderr": subprocess.DEVNULL, "cwd": folder}
    processes = [subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--no-dashboard", "--scheduler-file", str(scheduler_file)], **common)]
    try:
        address = _scheduler_address(scheduler_file, processes[0])
        for name in ("w1", "w2"):
            processes.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--host", "127.0.0.1",
                 "--nthreads", "1", "--name", name, "--no-dashboard",
                 "--death-timeout", str(HANG_GUARD_S)], **common))
        from distributed import Client

        with Client(address, timeout=f"{HANG_GUARD_S}s") as client:
            client.wait_for_workers(2, timeout=HANG_GUARD_S)
            assert address.startswith("tcp://127.0.0.1:")
        yield address
    finally:
        for process in processes[::-1]:
            _kill_group(process)


def test_an_external_cluster_gives_identical_results(killed_and_resumed, dask_cluster,
                                                     tmp_path):
    sweep = killed_and_resumed["sweep"]
    summary = run_sweep(sweep, tmp_path / "remote", scheduler=dask_cluster, progress=False)
    assert (summary.total, summary.done, summary.failed, summary.skipped) == (
        N_TASKS, 3 * N_SEEDS, N_SEEDS, 0)
    local, remote = _records(killed_and_resumed["out"]), _records(tmp_path / "remote")
    assert set(local) == set(remote)
    for key, record in local.items():
        assert remote[key]["status"] == record["status"]
        assert remote[key]["values"] == record["values"], key
        assert remote[key]["error"] == record["error"]
    local_ds = aggregate(sweep, killed_and_resumed["out"])
    remote_ds = aggregate(sweep, tmp_path / "remote")
    drop = ["wall_time_s"]
    assert local_ds.drop_vars(drop).identical(remote_ds.drop_vars(drop).assign_attrs(
        created=local_ds.attrs["created"]))
    # a rerun against the cluster finds everything stored and runs nothing
    again = run_sweep(sweep, tmp_path / "remote", scheduler=dask_cluster, progress=False)
    assert (again.done, again.failed, again.skipped) == (0, 0, N_TASKS)


def _stuck_on_seed_1(task):
    """Seed 1 waits for an event nobody sets (a task stuck in compiled code); the others
    return at once, so that no machine is slow enough for them to reach the timeout, which
    counts from the start of a task's body."""
    if task.run.seed == 1:
        threading.Event().wait()
    return {"seed": float(task.run.seed)}


def test_a_task_past_the_timeout_is_stopped_and_recorded(tmp_path):
    from distributed import Client, LocalCluster

    kind = TaskKind("stuck", _stuck_on_seed_1)
    sweep = Sweep(LINEAR, {"seed": [0, 1, 2, 3]}, kind=kind)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.run(importlib.import_module, __name__)   # imports done before the clock runs
        summary = run_sweep(sweep, tmp_path, scheduler=cluster.scheduler_address,
                            task_timeout=2.0, progress=False)
    assert (summary.done, summary.failed) == (3, 1), summary
    (key, error), = summary.failures
    assert key == sweep.tasks()[1].key and error.startswith("TimeoutError: still running")
    assert ResultStore(tmp_path).get(key)["status"] == "failed"


def test_cli_sweep_reports_a_bad_config_without_starting_dask(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text(SWEEP_TOML.format(seeds="0").replace("eta = [", "etta = ["))
    assert main(["sweep", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "unknown sweep axis 'etta'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("options", "message"), [
    ({"workers": -1}, r"number of workers \(--workers\) must be ≥ 1"),
    ({"workers": 0}, r"number of workers \(--workers\) must be ≥ 1"),
    ({"task_timeout": -1.0}, r"task timeout .* must be > 0"),
    ({"task_timeout": float("nan")}, r"task timeout .* must be finite"),
    ({"threads_per_worker": 0}, "threads_per_worker must be ≥ 1"),
])
def test_run_options_that_would_hang_or_mislead_are_refused_before_anything(
        tmp_path, options, message):
    """`--workers -1` hung, `--task-timeout -1` marked every task timed out then hung,
    `--task-timeout nan` meant no limit: refused before the store or a cluster exists."""
    sweep = Sweep(LINEAR, {"eta": [0.1]}, run=SHORT)
    with pytest.raises(ConfigError, match=message):
        run_sweep(sweep, tmp_path / "out", progress=False, **options)
    assert not (tmp_path / "out").exists()


def test_a_sweep_without_axes_is_refused_before_it_runs(tmp_path):
    with pytest.raises(ConfigError, match="no axes"):
        run_sweep(Sweep(LINEAR, {}, run=SHORT), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_plotting_an_unknown_value_names_the_values_there_are(tmp_path, capsys):
    from overlapdyn.jobs.sweep import _plot

    sweep = Sweep(LINEAR, {"eta": [0.1, 0.2]}, run=SHORT)
    store = ResultStore(tmp_path)
    for task in sweep.tasks():
        store.put(task.key, execute(task))
    dataset = aggregate(sweep, store)
    with pytest.raises(ConfigError, match=r"--plot 'final_rsik'.*'final_risk'"):
        _plot(sweep, dataset, tmp_path, value="final_rsik", x=None, asked=True)
    with pytest.raises(ConfigError, match=r"--x 'etta' is not an axis.*\['eta'\]"):
        _plot(sweep, dataset, tmp_path, value="final_risk", x="etta")
    assert _plot(sweep, dataset, tmp_path, value="final_risk", x=None) == ["final_risk.png"]
    assert json.loads(dataset.attrs["library_versions"])["numba"]


def test_the_default_sweep_figure_plots_an_axis_that_varies(tmp_path, monkeypatch):
    from overlapdyn.jobs import sweep as job

    sweep = Sweep(LINEAR, {"n_b": [1], "seed": [0, 1], "eta": [0.1, 0.2], "d": [50, 60]},
                  run=SHORT)
    store = ResultStore(tmp_path)
    for task in sweep.tasks():
        store.put(task.key, execute(task))
    dataset = aggregate(sweep, store)
    drawn = []
    monkeypatch.setattr(job, "plot_sweep", lambda data, x, **options: drawn.append(
        (x, options["hue"])) or plot_sweep(data, x, **options))
    job._plot(sweep, dataset, tmp_path, value="final_risk", x=None)
    assert drawn == [("eta", "d")]      # not n_b (one value), not seed


def test_a_cluster_without_workers_fails_the_tasks_instead_of_waiting_forever(tmp_path):
    """A scheduler whose workers all died (here: one that never had any) used to be waited
    on with no word; now the tasks get failed records naming why, and a rerun with
    retry_failed picks them up."""
    from distributed import LocalCluster

    sweep = Sweep(LINEAR, {"eta": [0.1, 0.2]}, run=SHORT)
    with LocalCluster(n_workers=0, dashboard_address=":0") as cluster:
        summary = run_sweep(sweep, tmp_path, scheduler=cluster.scheduler_address,
                            no_worker_timeout=1.0, warm=False, progress=False)
    assert (summary.done, summary.failed) == (0, 2)
    assert all(error.startswith("NoWorkerError: the Dask cluster had no worker")
               for _, error in summary.failures)
    assert len(pending(sweep.tasks(), ResultStore(tmp_path), retry_failed=True)) == 2


def test_a_cluster_that_keeps_losing_workers_stops_and_a_rerun_resumes(tmp_path, capsys,
                                                                       monkeypatch):
    """Every task kills its worker; the nanny restarts it and Dask runs a task again on the
    new one, and so on, while the client waited with no word. Now the sweep stops after
    --max-worker-losses losses with no task finishing (1 here, to start few processes; the
    counting is tested below), records the unfinished tasks as failed with the reason and
    the fix, and --retry-failed runs them once workers survive."""
    from worker_faults import CRASH_MARKER, CRASHES

    marker = tmp_path / "crash"
    marker.touch()
    monkeypatch.setenv(CRASH_MARKER, str(marker))         # the workers inherit it
    config = tmp_path / "s.toml"
    config.write_text(SWEEP_TOML.format(seeds="0, 1").replace('"simulate"', '"crashes"')
                      .replace("eta = [0.1, 0.2, 0.5, 50.0]\n", ""))
    out = tmp_path / "out"
    argv = ["sweep", str(config), "--out", str(out), "--workers", "1", "--no-progress",
            "--max-worker-losses", "1"]
    od.sweeps.register_kind(CRASHES)
    try:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "stopped early: the Dask cluster lost 1 worker with no task finishing" in err
        assert "--retry-failed" in err and "2 unfinished tasks recorded as failed" in err
        assert len(err.strip().splitlines()) == 1
        records = [ResultStore(out).get(task.key) for task in load_sweep(config).tasks()]
        assert [r["status"] for r in records] == ["failed", "failed"]
        assert all(r["error"].startswith("WorkerLossError: the Dask cluster lost 1 worker ")
                   for r in records)
        assert (out / "results.nc").stat().st_size > 0               # what finished is kept
        marker.unlink()                                               # workers survive now
        assert main(argv) == 0                                        # failed records kept
        assert "2 skipped" in capsys.readouterr().out
        assert main([*argv, "--retry-failed"]) == 0
        assert "2 tasks: 2 done, 0 failed" in capsys.readouterr().out
    finally:
        od.sweeps.tasks.KINDS.unregister("crashes")
    assert load_dataset(out / "results.nc").seed_value.values.tolist() == [0.0, 1.0]


class _FakeClient:
    """What :class:`_ClusterHealth` asks of a Dask client: the scheduler's workers."""

    def __init__(self, workers):
        self.workers = workers

    def scheduler_info(self):
        return {"workers": dict.fromkeys(self.workers, {})}

    def subscribe_topic(self, topic, handler):
        pass

    def unsubscribe_topic(self, topic):
        pass


def _removed(worker, expected=False):
    return (0.0, {"action": "remove-worker", "worker": worker, "expected": expected})


def test_cluster_health_counts_unexpected_losses_since_a_task_last_finished():
    from overlapdyn.sweeps.runner import _ClusterHealth

    health = _ClusterHealth(_FakeClient(["tcp://a"]), no_worker_timeout=1e9,
                            max_worker_losses=3)
    health.event(_removed("tcp://a"))
    health.event(_removed("tcp://b", expected=True))        # retired on purpose: no loss
    health.restarting("tcp://c")
    health.event(_removed("tcp://c"))                       # the task timeout's restart
    health.event((0.0, {"action": "add-worker", "worker": "tcp://d"}))
    health.event(_removed("tcp://d"))
    assert health.broken() is None                          # 2 losses of 3
    health.finished()                                       # a task finished: count again
    for worker in ("tcp://e", "tcp://f"):
        health.event(_removed(worker))
    assert health.broken() is None
    health.event(_removed("tcp://g"))
    reason = health.broken()
    assert reason.startswith("WorkerLossError: the Dask cluster lost 3 workers")
    assert "(the last tcp://g)" in reason and "--max-worker-losses, now 3" in reason
    assert health.stopped == reason


def test_cluster_health_is_broken_once_no_worker_is_left_for_the_timeout():
    from overlapdyn.sweeps.runner import _ClusterHealth

    client = _FakeClient(["tcp://a"])
    health = _ClusterHealth(client, no_worker_timeout=0.0, max_worker_losses=3)
    assert health.broken() is None and health.none_for() == 0.0
    client.workers = []
    health.asked = -np.inf                                  # ask again now
    while health.broken() is None:                          # the first look starts the clock
        pass
    assert health.stopped.startswith("NoWorkerError: the Dask cluster had no worker left")
    assert "--no-worker-timeout" in health.stopped


def test_a_script_without_the_main_guard_is_told_to_add_it(tmp_path, monkeypatch):
    """A local cluster starts each worker by running the calling script again (spawn): a
    run_sweep reached there is refused with the fix, before any cluster starts."""
    import multiprocessing
    import types

    starting = types.SimpleNamespace(_inheriting=True, name="Dask Worker process")
    monkeypatch.setattr(multiprocessing, "current_process", lambda: starting)
    sweep = Sweep(LINEAR, {"eta": [0.1, 0.2]}, run=SHORT)
    with pytest.raises(ConfigError, match='if __name__ == "__main__":'):
        run_sweep(sweep, tmp_path / "out", warm=False, progress=False)
