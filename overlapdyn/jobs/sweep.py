"""The ``overlapdyn sweep CONFIG`` job: run a sweep file on Dask into a resumable store,
then write the labelled dataset (results.nc) and a figure (see
:mod:`overlapdyn.sweeps.runner`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..errors import ConfigError, SchedulerError
from ..io.netcdf import aggregate, save_dataset
from ..io.toml import load_sweep
from ..plot.axes import save_figure
from ..plot.sweeps import plot_sweep
from ..sweeps.runner import (
    MAX_TASKS,
    MAX_WORKER_LOSSES,
    NO_WORKER_TIMEOUT_S,
    check_cluster_limits,
    check_run_options,
    check_size,
    run_sweep,
)
from ..sweeps.sweep import Sweep
from .folders import output_folder, writable_folder

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn sweep``."""
    parser.add_argument("config", help="TOML file: the model, [integrate] and [sweep] with "
                        "[sweep.axes] (see examples/sweep_eta_d.toml)")
    parser.add_argument("--out", default=None, help="result folder (default: "
                        "outputs/sweep-<config file stem>); rerunning the same command skips "
                        "the finished tasks")
    parser.add_argument("--scheduler", default=None, help="address of a running Dask "
                        "scheduler, e.g. tcp://10.0.0.1:8786 (default: a local cluster)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run again the tasks recorded as failed")
    parser.add_argument("--task-timeout", type=float, default=None, metavar="SECONDS",
                        help="record a task still running after SECONDS as failed and restart "
                        "its worker (default: no limit)")
    parser.add_argument("--no-worker-timeout", type=float, default=NO_WORKER_TIMEOUT_S,
                        metavar="SECONDS", help="stop waiting when the cluster has had no "
                        "worker at all for SECONDS: the unfinished tasks are recorded as "
                        "failed, and --retry-failed reruns them (default: %(default)g)")
    parser.add_argument("--max-worker-losses", type=int, default=MAX_WORKER_LOSSES,
                        metavar="N", help="stop the same way when the cluster has lost N "
                        "workers (processes that died or were killed) with no task finishing "
                        "in between (default: %(default)s)")
    parser.add_argument("--plot", default=None, help="the value to plot (default: the "
                        "kind's, e.g. final_risk)")
    parser.add_argument("--x", default=None, help="the axis on the plot's x axis (default: "
                        "the first with more than one value, seed last)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--max-tasks", type=int, default=MAX_TASKS, metavar="N",
                        help="refuse a sweep of more than N tasks (default: %(default)s)")


def run(args: argparse.Namespace) -> None:
    """``overlapdyn sweep``: run the tasks not in the store yet, aggregate every record into
    OUT/results.nc and plot the value ``--plot`` against ``--x``.

    Raises:
        SchedulerError: after writing what finished, when the sweep stopped waiting on a
            broken cluster (no worker left, or workers lost again and again).
    """
    sweep = load_sweep(args.config)
    out = output_folder(args.out, args.config, "sweep")
    dims = [axis.name for axis in sweep.axes]
    if args.x is not None and args.x not in dims:  # before the run, not after
        raise ConfigError(f"--x {args.x!r} is not an axis of the sweep; its axes: {dims}")
    check_size(sweep, args.max_tasks)
    check_run_options(sweep, args.workers, 1, args.task_timeout)  # before the plan is printed
    check_cluster_limits(args.no_worker_timeout, args.max_worker_losses)
    sweep.tasks()  # every axis value read (formulas parsed) before anything is written
    writable_folder(out)
    where = args.scheduler or (f"a local Dask cluster of {args.workers or 'one per core'} "
                               "worker(s)")
    print(f"{sweep.name}: {sweep.size} {sweep.kind.name} tasks over "
          f"{' × '.join(f'{a.name} ({len(a.values)})' for a in sweep.axes) or 'no axes'} "
          f"on {where}; results kept in {out}")
    summary = run_sweep(sweep, out, scheduler=args.scheduler, workers=args.workers,
                        retry_failed=args.retry_failed, task_timeout=args.task_timeout,
                        progress=not args.no_progress, max_tasks=args.max_tasks,
                        no_worker_timeout=args.no_worker_timeout,
                        max_worker_losses=args.max_worker_losses)
    dataset = aggregate(sweep, out)
    save_dataset(dataset, out / "results.nc")
    print(summary)
    wrote = ["results.nc", *_plot(sweep, dataset, out, value=args.plot or sweep.kind.plot,
                                  x=args.x, asked=args.plot is not None)]
    print(f"wrote {', '.join(wrote)} to {out} (records in {out / 'tasks'})")
    if summary.stopped:
        unfinished = sum(error == summary.stopped for _, error in summary.failures)
        raise SchedulerError(f"stopped early: {summary.stopped.split(': ', 1)[1]} ("
                             f"{unfinished} unfinished tasks recorded as failed, "
                             f"{summary.done} done; results.nc holds what finished)")


def _plot(sweep: Sweep, dataset, out: Path, *, value: str, x: str | None,
          asked: bool = False) -> list[str]:
    """Write ``<value>.png``: ``value`` against ``x`` (default: the first axis with more than
    one value, seed last), one line per value of the next such axis other than seed; returns
    the files written.

    Raises:
        ConfigError: ``x`` is not an axis, or ``value`` was ``asked`` for (``--plot``) and
            the dataset has no such value (named, with the values it has). The kind's
            default value is skipped, with a word, when no task produced it (all failed).
    """
    dims = [a.name for a in sweep.axes]
    if x is not None and x not in dims:
        raise ConfigError(f"--x {x!r} is not an axis of the sweep; its axes: {dims}")
    if value not in dataset:
        values = sorted(name for name in dataset.data_vars
                        if dataset[name].dtype.kind == "f")
        if asked:
            raise ConfigError(f"--plot {value!r}: the results have no such value; they have "
                              f"{values} (results.nc is written)")
        print(f"no {value}.png: no task produced {value!r} (see the failures above)")
        return []
    # an axis that varies, seeds last: a one-value axis would draw a single point
    varying = sorted(dims, key=lambda d: (dataset.sizes[d] < 2, d == "seed"))
    x = x or varying[0]
    hue = next((d for d in varying if d not in (x, "seed") and dataset.sizes[d] > 1), None)
    save_figure(plot_sweep(dataset[value], x, hue=hue, logx=_wide(dataset[x].values),
                           logy=_wide(dataset[value].values)), out / f"{value}.png")
    return [f"{value}.png"]


def _wide(values) -> bool:
    """Positive numbers spanning 30× or more: drawn on a log axis."""
    values = np.asarray(values)
    values = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    return bool(values.dtype.kind in "if" and values.size and values.min() > 0
                and values.max() >= 30 * values.min())
