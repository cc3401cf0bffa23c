"""Benchmarks of overlapdyn's sweeps (Dask local cluster, result store, xarray aggregation).

Prints plain-text tables of

1. the per-task overhead of a sweep: N tiny ODE tasks (linear p = k = 1 committee,
   t_end = 0.01, 2 saved points) through :func:`overlapdyn.sweeps.run_sweep` on an already running
   local cluster of 1 and of 2 single-threaded worker processes, against the tasks' own
   run time (``wall_time_s`` of their records): overhead per task =
   (wall · workers − Σ task time) / N — scheduling, pickling, the client's atomic record
   write and the progress bookkeeping. Cluster start-up (reported on its own) is excluded;
2. the speed-up of 2 workers over 1 on a sweep of ODE tasks (Saad–Solla erf K = M = 2 to
   t = 300, 20 seeds × 2 learning rates) and of simulation tasks (linear p = k = 1,
   d = 1000 to t = 20, 24 seeds): wall time with 1 and 2 workers, both on running clusters,
   kernels warm;
3. the time to aggregate 10,000 results: a store filled with 10,000 ODE-like records
   (100 learning rates × 100 seeds, 200 saved times each), then :func:`overlapdyn.io.aggregate`
   into an ``xarray.Dataset``, :func:`overlapdyn.io.save_dataset` (netCDF-3 via SciPy) and
   :func:`overlapdyn.io.load_dataset`; plus the store's write time per record.

Everything runs in a fresh temporary ``OVERLAPDYN_CACHE_DIR`` and store folders (set before
overlapdyn is imported, removed at the end); the first warm-up's compile is reported.
``python benchmarks/bench_sweep.py`` (``--quick``: smaller sweeps) takes about two minutes
on two cores; on a shared machine the speed-ups are bounded by the free cores.
"""

# ruff: noqa: E402  (the cache folder must be chosen before overlapdyn is imported)

from __future__ import annotations

import os
import tempfile

# Worker processes are spawned and import this script again: they inherit the folder
if "OVERLAPDYN_BENCH_SWEEP_CACHE" not in os.environ:
    os.environ["OVERLAPDYN_BENCH_SWEEP_CACHE"] = tempfile.mkdtemp(prefix="overlapdyn-bench-sweep-")
CACHE_DIR = os.environ["OVERLAPDYN_BENCH_SWEEP_CACHE"]
os.environ["OVERLAPDYN_CACHE_DIR"] = CACHE_DIR

import argparse
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import dask
import distributed
import numpy as np
import xarray
from _tables import print_machine, print_table

import overlapdyn as od
from overlapdyn.storage.store import ResultStore
from overlapdyn.sweeps.runner import _warm
from overlapdyn.sweeps.tasks import execute

LINEAR = od.Model(od.Target(k=1, activation="linear"), od.Student(p=1, activation="linear"),
                  od.Protocol(eta=0.5))
SAAD_SOLLA = od.Model(od.Target(k=2, activation="erf", c_k=1.0),
                      od.Student(p=2, activation="erf", c_p=1.0), od.Protocol(eta=0.5))


def cluster(workers: int):
    """A running local cluster of ``workers`` single-threaded processes, and its start time."""
    start = time.perf_counter()
    local = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                     dashboard_address=":0")
    return local, time.perf_counter() - start


def timed_sweep(sweep: od.sweeps.Sweep, address: str, folder: Path) -> tuple[float, float, int]:
    """(wall time, Σ task times, tasks) of ``sweep`` run into a fresh store."""
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    summary = od.sweeps.run_sweep(sweep, folder, scheduler=address, progress=False, warm=False)
    wall = time.perf_counter() - start
    records = [record for _, record in ResultStore(folder).records()]
    assert summary.done == len(records) == sweep.size, summary
    return wall, sum(r["wall_time_s"] for r in records), len(records)


def section_overhead_and_speedup(work: Path, quick: bool) -> None:
    n_tiny = 100 if quick else 300
    tiny = od.sweeps.Sweep(LINEAR, {"eta": [0.1, 0.2, 0.3, 0.4, 0.5], "seed": range(n_tiny // 5)},
                    run=od.ode.IntegrateConfig(od.SaveAt(0.01, 2, log=False), d=100))
    seeds = 8 if quick else 20
    ode = od.sweeps.Sweep(SAAD_SOLLA, {"eta": [0.5, 1.0], "seed": range(seeds)},
                   run=od.ode.IntegrateConfig(od.SaveAt(300.0, 100), d=1000))
    sims = od.sweeps.Sweep(LINEAR, {"seed": range(10 if quick else 24)}, kind="simulate",
                    run=od.ode.IntegrateConfig(od.SaveAt(20.0, 20, t_first=0.1), d=1000))
    start = time.perf_counter()
    for sweep in (tiny, ode, sims):
        _warm(sweep.tasks()[:1])
    print(f"\nfirst warm-up (derive + codegen + Numba compile of the linear and erf kernels "
          f"and the simulator, cold cache): {time.perf_counter() - start:.1f} s")
    rows_overhead, rows_speed, starts = [], [], []
    results: dict = {}
    for workers in (1, 2):
        local, started = cluster(workers)
        starts.append(started)
        with local, distributed.Client(local) as client:
            client.run(lambda: None)
            address = local.scheduler_address
            # one untimed task per worker process loads the kernels there
            timed_sweep(od.sweeps.Sweep(LINEAR, {"seed": range(2 * workers)}, run=tiny.run),
                        address, work / "prime")
            for name, sweep in (("tiny", tiny), ("ode", ode), ("simulate", sims)):
                results[name, workers] = timed_sweep(sweep, address, work / name)
        wall, busy, n = results["tiny", workers]
        rows_overhead.append([str(workers), str(n), f"{wall:.2f}", f"{1e3 * busy / n:.2f}",
                              f"{1e3 * (wall * workers - busy) / n:.1f}",
                              f"{n / wall:.0f}"])
    print_table("1. per-task overhead (tiny ODE tasks, running local cluster; start-up: "
                + ", ".join(f"{w} worker(s) {s:.1f} s" for w, s in zip((1, 2), starts,
                                                                        strict=True)) + ")",
                ["workers", "tasks", "wall s", "task ms (mean)", "overhead ms/task",
                 "tasks/s"], rows_overhead)
    for name, label in (("ode", f"ODE: erf K=M=2 to t=300, {ode.size} tasks"),
                        ("simulate", f"simulate: linear d=1000 to t=20, {sims.size} tasks")):
        (w1, b1, n), (w2, b2, _) = results[name, 1], results[name, 2]
        rows_speed.append([label, f"{1e3 * b1 / n:.0f}", f"{1e3 * b2 / n:.0f}", f"{w1:.2f}",
                           f"{w2:.2f}", f"{w1 / w2:.2f}×"])
    print_table("2. speed-up of 2 workers over 1 (wall time of the sweep, cluster running)",
                ["sweep", "task ms, 1 worker", "task ms, 2 workers", "1 worker s",
                 "2 workers s", "speed-up"],
                rows_speed)


def section_aggregate(work: Path, quick: bool) -> None:
    n_eta = 30 if quick else 100
    sweep = od.sweeps.Sweep(LINEAR, {"eta": np.linspace(0.01, 1.0, n_eta).round(4),
                              "seed": range(100)},
                            run=od.ode.IntegrateConfig(od.SaveAt(10.0), d=100))
    template = execute(sweep.tasks()[0])
    assert template["status"] == "done" and len(template["values"]["risk"]) == 200
    store = ResultStore(work / "big")
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    tasks = sweep.tasks()
    for task in tasks:   # the keys (hashes of the task specs) are computed on first use
        _ = task.key
    expand = time.perf_counter() - start
    start = time.perf_counter()
    for task in tasks:
        values = dict(template["values"])
        values["risk"] = (np.asarray(values["risk"]) * rng.uniform(0.5, 1.5)).tolist()
        values["final_risk"] = values["risk"][-1]
        store.put(task.key, {**template, "key": task.key, "task": task.spec(),
                             "values": values})
    write = time.perf_counter() - start
    start = time.perf_counter()
    dataset = od.io.aggregate(sweep, store)
    gather = time.perf_counter() - start
    start = time.perf_counter()
    path = od.io.save_dataset(dataset, work / "big.nc")
    save = time.perf_counter() - start
    start = time.perf_counter()
    back = od.io.load_dataset(path)
    load = time.perf_counter() - start
    assert back.risk.shape == (n_eta, 100, 200)
    n = len(tasks)
    print_table(f"3. aggregation of {n:,} results (ODE records, 200 saved times each)", [
        "step", "total s", "per result µs"], [
        ["expand the sweep to tasks (keys)", f"{expand:.2f}", f"{1e6 * expand / n:.0f}"],
        ["write the records (atomic, fsync)", f"{write:.2f}", f"{1e6 * write / n:.0f}"],
        ["aggregate → xarray.Dataset", f"{gather:.2f}", f"{1e6 * gather / n:.0f}"],
        [f"save netCDF-3 ({path.stat().st_size / 2**20:.1f} MiB)", f"{save:.2f}",
         f"{1e6 * save / n:.0f}"],
        ["load netCDF-3", f"{load:.2f}", f"{1e6 * load / n:.0f}"]])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sweeps")
    args = parser.parse_args(argv)
    print_machine("overlapdyn sweep benchmarks")
    print(f"versions: overlapdyn {od.__version__}, dask {dask.__version__}, distributed "
          f"{distributed.__version__}, xarray {xarray.__version__}, numpy {np.__version__}")
    print(f"cache   : fresh OVERLAPDYN_CACHE_DIR = {CACHE_DIR}; one run of each, wall times")
    work = Path(tempfile.mkdtemp(prefix="overlapdyn-bench-sweep-store-"))
    try:
        section_overhead_and_speedup(work, args.quick)
        section_aggregate(work, args.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(CACHE_DIR, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
