r"""Running a :class:`~overlapdyn.sweeps.sweep.Sweep` on Dask, into a resumable result store.

:func:`run_sweep` expands the sweep, skips every task whose record is already in the store
(:class:`~overlapdyn.storage.store.ResultStore`, keyed by :attr:`Task.key
<overlapdyn.sweeps.tasks.Task.key>`), and hands the others to Dask: by default a
:class:`distributed.LocalCluster` on this machine's cores (one single-threaded worker process
per core, no set-up), or any running Dask cluster given its scheduler address
(``scheduler="tcp://host:8786"``) — the code does not change. The client writes each record
as its task finishes (atomically; :func:`overlapdyn.sweeps.tasks.execute` turns a task's exception
into a failed record, and a worker that dies is recorded the same way), so a crash or a
``kill`` loses only the tasks in flight, and rerunning the same sweep runs exactly those
and the ones never started. Records are written by the client alone: the workers need no
shared file system, and no two processes ever write the same record.

Compiled code: before submitting, the client warms the kernel cache once per distinct
kernel set (:func:`overlapdyn.sweeps.tasks.warm_up`); worker processes started on this machine
inherit ``$OVERLAPDYN_CACHE_DIR`` and load the machine code from there. Workers of a remote
cluster use their own cache folder (set ``OVERLAPDYN_CACHE_DIR`` to a shared one in their
environment to compile once for all), and in any case compile at most once per process:
the generated module stays imported between tasks.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..derive.kernels import kernel_identity
from ..errors import ConfigError, ResourceError, SchedulerError
from ..model.checks import check_integer, check_real
from ..progress import progress_bar
from ..storage.files import atomic_write_text
from ..storage.results import Result
from ..storage.store import ResultStore
from .sweep import Sweep
from .tasks import STARTED_TOPIC, Task, execute, record, warm_up

__all__ = ["MAX_TASKS", "MAX_WORKER_LOSSES", "NO_WORKER_TIMEOUT_S", "SweepSummary",
           "check_cluster_limits", "check_run_options", "check_scheduler", "check_size",
           "pending", "run_sweep"]


@dataclass(frozen=True)
class SweepSummary(Result):
    """What one :func:`run_sweep` call did.

    Attributes:
        total: distinct tasks in the sweep (grid points with equal specs count once).
        done: tasks finished in this call.
        failed: tasks that failed in this call (their records hold the error).
        skipped: tasks already in the store (done or failed before), not run again.
        wall_time_s: the call's wall time, cluster start-up included.
        failures: ``(key, error)`` of this call's failed tasks.
        store: the store folder.
        stopped: why the call stopped waiting on a broken cluster (no worker left, or
            workers lost again and again), its unfinished tasks recorded as failed with that
            reason; empty when every task ran.

    ``str(summary)`` is :meth:`describe`.
    """

    FORMAT = "overlapdyn.SweepSummary"
    VERSION = 2
    READS = (1, 2)

    total: int
    done: int
    failed: int
    skipped: int
    wall_time_s: float
    failures: tuple[tuple[str, str], ...] = ()
    store: str = ""
    stopped: str = ""

    def describe(self) -> str:
        """The counts and the first ten failures."""
        lines = [f"{self.total} tasks: {self.done} done, {self.failed} failed, "
                 f"{self.skipped} skipped (already in {self.store}) in "
                 f"{self.wall_time_s:.1f} s"]
        for key, error in self.failures[:10]:
            lines.append(f"  failed {key}: {error}")
        if len(self.failures) > 10:
            lines.append(f"  … and {len(self.failures) - 10} more failures (status in the "
                         "dataset, messages in the records)")
        if self.stopped:
            lines.append(f"stopped early: {self.stopped}")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"total": self.total, "done": self.done, "failed": self.failed,
                "skipped": self.skipped, "wall_time_s": self.wall_time_s,
                "failures": self.failures, "store": self.store, "stopped": self.stopped}, {}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> SweepSummary:
        return cls(header["total"], header["done"], header["failed"], header["skipped"],
                   header["wall_time_s"], tuple(tuple(pair) for pair in header["failures"]),
                   header["store"], header.get("stopped", ""))   # version 1 had none


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int | None, threads_per_worker: int
            ) -> Iterator:
    """A Dask client of the cluster at ``scheduler``, or of a new local one (closed after)."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError, ValueError) as error:
            raise SchedulerError(f"--scheduler {scheduler}: no Dask scheduler answers there "
                                 f"({type(error).__name__}: {error}); start one (`dask "
                                 f"scheduler`) or drop --scheduler for a local cluster"
                                 ) from error
        with client:
            yield client
        return
    if _starting_as_a_worker():
        raise ConfigError(
            "run_sweep was called while this process was starting as a Dask worker: a local "
            "cluster starts each worker by running the calling script again, so a script "
            "must call run_sweep under `if __name__ == \"__main__\":` (as the sweeps guide "
            "shows); notebooks and `overlapdyn sweep` need nothing")
    workers = workers or os.cpu_count() or 1
    try:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker,
                               processes=True, dashboard_address=":0")
    except RuntimeError as error:
        if "failed to start" not in str(error):
            raise
        raise SchedulerError(
            f"the local Dask cluster's workers failed to start ({error}); from a script, call "
            "run_sweep under `if __name__ == \"__main__\":` (each worker runs the script "
            "again); otherwise see the workers' errors above") from error
    with cluster, Client(cluster) as client:
        yield client


def _starting_as_a_worker() -> bool:
    """Whether this process is a child started by ``spawn`` that is still importing the
    parent's main script: the flag ``multiprocessing`` itself checks before refusing to
    start a process then (``_inheriting``; its RuntimeError names no script)."""
    import multiprocessing

    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def _warm(tasks: list[Task]) -> None:
    """Compile each distinct kernel set once, here (its failures are left to the tasks).

    Tasks of one kind with equal :func:`~overlapdyn.derive.kernels.kernel_identity`, readout
    training, kind of start and options compile the same code."""
    seen = set()
    for task in tasks:
        model = task.model
        identity = (task.kind.name, kernel_identity(model), model.student.train_readout,
                    task.run.M0 is None, task.options)
        if identity in seen:
            continue
        seen.add(identity)
        with contextlib.suppress(Exception):
            warm_up(task)


def _lost(task: Task, error: BaseException, reason: str | None = None) -> dict:
    """The record of a task that did not return: its worker died, Dask could not run it, or
    it was stopped for running past the task timeout (``reason``)."""
    message = reason or (f"{type(error).__name__}: {error} (the task's worker died or Dask "
                         "could not run it)")
    return record(task, {}, error=message)


class _Watchdog:
    """Finds tasks whose body has been running longer than ``limit`` seconds.

    A running task cannot be interrupted (it may sit in compiled code), so an overdue one is
    stopped by cancelling its future and restarting its worker through the worker's nanny.
    A task's clock starts when its body starts on the worker: :func:`execute
    <overlapdyn.sweeps.tasks.execute>` announces it on the scheduler's event topic
    :data:`~overlapdyn.sweeps.tasks.STARTED_TOPIC`, and the clock starts when that message
    reaches this client. Queueing, a fresh worker's imports and a loaded machine's delays
    before the body runs therefore never count against the limit.
    """

    def __init__(self, limit: float) -> None:
        self.limit = float(limit)
        self.since: dict[str, tuple[str, float]] = {}   # Dask key → (worker, start)
        self.lock = threading.Lock()

    def started(self, event) -> None:
        """Handler of the topic's events ``(time, {"key": …, "worker": …})``."""
        _, message = event
        with self.lock:
            self.since[message["key"]] = (message["worker"], time.monotonic())

    def finished(self, key: str) -> None:
        """Forget ``key``'s clock: it finished, or it was stopped."""
        with self.lock:
            self.since.pop(key, None)

    def overdue(self) -> list[tuple[str, str]]:
        """``(Dask key, worker)`` of the tasks running longer than the limit."""
        now = time.monotonic()
        with self.lock:
            return [(key, worker) for key, (worker, start) in self.since.items()
                    if now - start > self.limit]


def pending(tasks: Iterable[Task], store: ResultStore, *, retry_failed: bool = False
            ) -> list[Task]:
    """The tasks without a record in ``store`` (and, with ``retry_failed``, those whose
    record is a failure), in the given order."""
    present = store.keys()
    out = []
    for task in tasks:
        key = task.key
        if key not in present or (retry_failed and (store.get(key) or {}).get(
                "status") != "done"):
            out.append(task)
    return out


#: worker losses with no task finishing in between after which a sweep stops waiting
MAX_WORKER_LOSSES = 10
#: seconds a cluster may have no worker at all before a sweep stops waiting
NO_WORKER_TIMEOUT_S = 120.0


def _completed(client, todo: list[Task], task_timeout: float | None,
               health: _ClusterHealth) -> Iterator[dict]:
    """Submit ``todo`` and yield each task's record as it finishes (failures included); with
    a ``task_timeout``, overdue tasks are stopped (see :class:`_Watchdog`). A cluster that
    ``health`` finds broken (no worker for too long, or too many lost with no task finishing)
    ends the wait: every task not finished yet gets a failed record saying why
    (:func:`_abandon`) and ``health.stopped`` holds the reason."""
    from distributed import as_completed

    watchdog = None
    if task_timeout is not None:
        watchdog = _Watchdog(task_timeout)
        client.subscribe_topic(STARTED_TOPIC, watchdog.started)
    futures = client.map(execute, todo, key=[f"overlapdyn-{t.kind.name}-{t.key}" for t in todo],
                         pure=False)
    running = {future.key: (future, task) for future, task in zip(futures, todo, strict=True)}
    completed = as_completed(futures)
    del futures  # each future is released as soon as its record is yielded
    stopped: dict[str, str] = {}
    try:
        while not completed.is_empty():
            if completed.has_ready():
                ready = completed.next_batch(block=False)
            else:
                ready = []
                time.sleep(0.05)
                if watchdog is not None:
                    _stop_overdue(client, watchdog, running, stopped, task_timeout, health)
                if health.broken() is not None:
                    yield from _abandon(client, running, health.stopped)
                    return
            for future in ready:
                _, task = running.pop(future.key)
                if watchdog is not None:
                    watchdog.finished(future.key)
                health.finished()
                yield _outcome(future, task, stopped.get(future.key))
    finally:
        if watchdog is not None:
            client.unsubscribe_topic(STARTED_TOPIC)


class _ClusterHealth:
    """Whether the cluster can still finish the sweep, so that a broken one is never waited
    on forever. It is broken when

    * it has had no worker at all for ``no_worker_timeout`` seconds (every worker died or was
      removed; asked of the scheduler at most once a second), or
    * it lost ``max_worker_losses`` workers with no task finishing in between: their
      processes keep dying (memory, a crash in compiled code, something killing them), and
      Dask would go on restarting them and rerunning the tasks. A loss is a removal the
      scheduler did not expect (its ``remove-worker`` event on the ``"all"`` topic), not a
      restart ordered by the task timeout (:meth:`restarting`).

    :meth:`broken` returns the reason once (kept in :attr:`stopped`), None while healthy.
    """

    def __init__(self, client, no_worker_timeout: float, max_worker_losses: int) -> None:
        self.client = client
        self.no_worker_timeout = no_worker_timeout
        self.max_worker_losses = max_worker_losses
        self.asked = -np.inf
        self.alone_since: float | None = None
        self.lost: list[str] = []              # addresses lost since a task last finished
        self.restarted: set[str] = set()       # addresses the task timeout restarted
        self.lock = threading.Lock()
        self.stopped: str | None = None

    def __enter__(self) -> _ClusterHealth:
        self.client.subscribe_topic("all", self.event)
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):   # the scheduler may be gone already
            self.client.unsubscribe_topic("all")

    def event(self, event) -> None:
        """Handler of the scheduler's ``"all"`` events ``(time, {"action": …, …})``."""
        _, message = event
        if not isinstance(message, dict) or message.get("action") != "remove-worker" \
                or message.get("expected"):
            return
        with self.lock:
            if message.get("worker") not in self.restarted:
                self.lost.append(str(message.get("worker")))

    def restarting(self, worker: str) -> None:
        """``worker`` is being restarted on purpose: its removal is not a loss."""
        with self.lock:
            self.restarted.add(worker)

    def finished(self) -> None:
        """A task finished: the cluster works, the count of losses starts again."""
        with self.lock:
            self.lost.clear()

    def none_for(self) -> float:
        """Seconds since the scheduler was first seen without workers (0 while it has some)."""
        now = time.monotonic()
        if now - self.asked >= 1.0:
            self.asked = now
            count = len(self.client.scheduler_info().get("workers", {}))
            self.alone_since = None if count else (self.alone_since or now)
        return 0.0 if self.alone_since is None else now - self.alone_since

    def broken(self) -> str | None:
        """Why the sweep must stop waiting, or None."""
        with self.lock:
            lost = list(self.lost)
        if len(lost) >= self.max_worker_losses:
            self.stopped = (
                f"WorkerLossError: the Dask cluster lost {len(lost)} "
                f"worker{'s' if len(lost) > 1 else ''} with no task finishing in between (the "
                f"last {lost[-1]}): worker processes keep dying — out of memory, a crash in "
                "compiled code, or something killing them (see the workers' logs) — so this "
                "task was not finished; fix that and rerun with "
                "--retry-failed (retry_failed=True), or allow more losses "
                f"(--max-worker-losses, now {self.max_worker_losses})")
        elif self.none_for() > self.no_worker_timeout:
            self.stopped = (
                f"NoWorkerError: the Dask cluster had no worker left for "
                f"{self.no_worker_timeout:g} s (all of them died or were removed), so this "
                "task never ran; rerun the sweep with --retry-failed (retry_failed=True) once "
                "workers are back, or wait longer (--no-worker-timeout)")
        return self.stopped


def _abandon(client, running: dict, reason: str) -> Iterator[dict]:
    """Cancel every unfinished task and yield its failed record: the cluster is broken."""
    client.cancel([future for future, _ in running.values()])
    for _, task in running.values():
        yield record(task, {}, error=reason)
    running.clear()


def _stop_overdue(client, watchdog: _Watchdog, running: dict, stopped: dict[str, str],
                  task_timeout: float, health: _ClusterHealth) -> None:
    """Cancel every overdue task and restart its worker; remember why in ``stopped``."""
    for key, worker in watchdog.overdue():
        watchdog.finished(key)
        if key in stopped or key not in running or running[key][0].done():
            continue
        stopped[key] = (f"TimeoutError: still running after the task timeout of "
                        f"{task_timeout:g} s on {worker}; stopped by restarting that worker")
        client.cancel([running[key][0]])
        health.restarting(worker)
        client.restart_workers([worker], raise_for_error=False)


def _outcome(future, task: Task, reason: str | None) -> dict:
    """The record a finished future carries, or the record of a lost task."""
    try:
        result = future.result()
    except BaseException as error:  # a worker died, Dask gave up, or it was stopped
        if isinstance(error, KeyboardInterrupt | SystemExit):
            raise
        result = _lost(task, error, reason)
    future.release()
    return result


#: the most tasks a sweep runs unless told otherwise (``max_tasks``, ``--max-tasks``)
MAX_TASKS = 100_000


def check_scheduler(address: str, timeout: float = 5.0) -> str:
    """Fail fast on a ``--scheduler`` address that is malformed or where nothing listens
    (a plain TCP connection within ``timeout`` seconds), instead of Dask's 30 s wait.

    ``address`` is ``[scheme://]host:port``; the connection is tried for ``tcp`` and
    ``tls`` only (other Dask transports are left to Dask).

    Raises:
        SchedulerError: naming the address and what to do.
    """
    import socket

    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    fix = "; give tcp://HOST:PORT of a running `dask scheduler`, or drop --scheduler"
    if scheme not in ("", "tcp", "tls", "inproc", "ucx", "ws", "wss") or not host \
            or not port.isdigit() or not 0 < int(port) < 65536:
        raise SchedulerError(f"--scheduler {address!r} is not an address like "
                             f"tcp://10.0.0.1:8786{fix}")
    if scheme in ("", "tcp", "tls"):
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        except OSError as error:
            raise SchedulerError(f"--scheduler {address}: nothing answers there within "
                                 f"{timeout:g} s ({error.strerror or error}){fix}") from error
    return address


def check_size(sweep: Sweep, max_tasks: int | None) -> None:
    """Refuse a sweep of more than ``max_tasks`` tasks (None: no limit) before building
    them: a grid of 10⁶ points is more often a typo than a plan."""
    if max_tasks is not None and sweep.size > max_tasks:
        shape = " × ".join(f"{axis.name} ({len(axis.values)})" for axis in sweep.axes)
        raise ResourceError(f"the sweep has {sweep.size} tasks ({shape}), more than the limit "
                            f"of {max_tasks}; shrink the axes, or raise the limit "
                            f"(--max-tasks {sweep.size}) to run them all")


def check_run_options(sweep: Sweep, workers, threads_per_worker, task_timeout):
    """``(workers, threads_per_worker, task_timeout)`` checked: each of these bad values
    used to hang or be read as another (``workers = -1`` waited forever, a negative timeout
    stopped every task, NaN meant no limit)."""
    if not sweep.axes:
        raise ConfigError("the sweep has no axes: give [sweep.axes] at least one axis (a "
                          "single task is a plain run: overlapdyn ode, validate …)")
    if workers is not None:
        workers = check_integer(workers, "the number of workers (--workers)", 1)
    threads_per_worker = check_integer(threads_per_worker, "threads_per_worker", 1)
    if task_timeout is not None:
        task_timeout = check_real(task_timeout, "the task timeout (--task-timeout, seconds)",
                                  positive=True)
    return workers, threads_per_worker, task_timeout


def check_cluster_limits(no_worker_timeout, max_worker_losses) -> tuple[float, int]:
    """``(no_worker_timeout, max_worker_losses)`` checked: a finite number of seconds > 0 and
    a whole number ≥ 1 (see :func:`run_sweep`)."""
    return (check_real(no_worker_timeout, "the no-worker timeout (--no-worker-timeout, "
                       "seconds)", positive=True),
            check_integer(max_worker_losses, "the worker losses allowed "
                          "(--max-worker-losses)", 1))


def run_sweep(
    sweep: Sweep,
    out: str | os.PathLike,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    threads_per_worker: int = 1,
    retry_failed: bool = False,
    task_timeout: float | None = None,
    warm: bool = True,
    progress: bool = True,
    no_worker_timeout: float = NO_WORKER_TIMEOUT_S,
    max_worker_losses: int = MAX_WORKER_LOSSES,
    max_tasks: int | None = MAX_TASKS,
) -> SweepSummary:
    """Run every task of ``sweep`` not yet in the store ``out`` on Dask (module docstring).

    Args:
        sweep: the sweep.
        out: the store folder (created if needed); ``out/sweep.json`` records the sweep.
        scheduler: address of a running Dask scheduler (``tcp://host:port``); None starts a
            local cluster for this call.
        workers: worker processes of the local cluster (default: one per core).
        threads_per_worker: threads per local worker. Keep 1: the tasks are CPU bound, and
            the per-task compile count is exact only then.
        retry_failed: run again the tasks whose stored record is a failure.
        task_timeout: seconds a task's body may run on a worker (queueing and a fresh
            worker's imports do not count); a task past it is recorded as failed
            (``TimeoutError``) and its worker restarted by its nanny — the only way to stop
            a task stuck in compiled code. None: no limit.
        warm: compile the kernels here first (see the module docstring).
        progress: show a tqdm progress bar.
        no_worker_timeout: seconds the cluster may have no worker at all before the sweep
            stops waiting (:data:`NO_WORKER_TIMEOUT_S`): the unfinished tasks get failed
            records (``NoWorkerError``), :attr:`SweepSummary.stopped` says why, and a rerun
            with ``retry_failed`` runs them.
        max_worker_losses: workers the cluster may lose (processes that die or are killed;
            not the restarts of ``task_timeout``) with no task finishing in between before
            the sweep stops the same way (``WorkerLossError``; :data:`MAX_WORKER_LOSSES`).
        max_tasks: the most tasks run (:data:`MAX_TASKS`; None: no limit).

    Returns:
        A :class:`SweepSummary`.

    Raises:
        ConfigError: a grid point that is not a valid config, a sweep without axes, a
            number of workers or threads below 1, a task timeout that is not a finite
            number of seconds > 0, a no-worker timeout or a count of worker losses that is
            not (all before anything runs).
        ResourceError: more than ``max_tasks`` tasks.
        SchedulerError: ``scheduler`` is malformed or nothing answers there, or the local
            cluster's workers fail to start.
        ConfigError: (in a worker) run_sweep reached while a spawned worker re-runs a
            script that lacks ``if __name__ == "__main__":``.
        OverlapdynError: ``out`` holds something other than a result store.
    """
    workers, threads_per_worker, task_timeout = check_run_options(
        sweep, workers, threads_per_worker, task_timeout)
    check_size(sweep, max_tasks)
    if scheduler is not None:
        check_scheduler(scheduler)
    limits = check_cluster_limits(no_worker_timeout, max_worker_losses)
    start = time.perf_counter()
    tasks: dict[str, Task] = {}
    for task in sweep.tasks():
        tasks.setdefault(task.key, task)
    store = ResultStore(out)
    atomic_write_text(store.folder / "sweep.json", json.dumps(sweep.to_dict(), indent=2) + "\n")
    todo = pending(tasks.values(), store, retry_failed=retry_failed)
    skipped = len(tasks) - len(todo)
    counts = {"done": 0, "failed": 0}
    failures: list[tuple[str, str]] = []
    stopped = None
    with progress_bar(progress, total=len(tasks), initial=skipped, unit="task",
              desc=f"sweep {sweep.name}") as bar:
        if todo:
            if warm:
                _warm(todo)
            with _client(scheduler, workers, threads_per_worker) as client, \
                    _ClusterHealth(client, *limits) as health:
                for record_ in _completed(client, todo, task_timeout, health):
                    store.put(record_["key"], record_)
                    counts[record_["status"]] += 1
                    if record_["status"] != "done":
                        failures.append((record_["key"], record_["error"]))
                    bar.update(1)
                    bar.set_postfix(failed=counts["failed"], refresh=False)
                stopped = health.stopped
    return SweepSummary(len(tasks), counts["done"], counts["failed"], skipped,
                        time.perf_counter() - start, tuple(failures), str(store.folder),
                        stopped or "")
