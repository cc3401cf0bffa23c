r"""Sweep tasks: one unit of work (an ODE run, a simulation, an escape time …) and its kinds.

A :class:`Task` is a model, its run settings (the ``[integrate]`` section:
:class:`~overlapdyn.ode.config.IntegrateConfig` — time grid, d, seed, warm start, solver) and
the options of its :class:`TaskKind`. Its :attr:`Task.key` hashes all of that (the model's
name left out, the kind's version in), so equal work has equal keys: that is how a result
store recognises finished tasks.

Kinds form a small registry (:func:`register_kind`, :func:`task_kind`). A kind is a plain
function ``run(task) -> {name: number or array}`` plus the dimension names of its array
values, its options and their defaults; :func:`execute` runs any kind on a worker and turns
its outcome — values, or the exception it raised — into a record. The built-in kinds:

============  ==========================================================================
``ode``       :func:`~overlapdyn.ode.integrator.integrate` from the random start at (d, seed)
              or the warm start; values ``t``, ``risk`` (T,) on the saved grid (NaN after
              a terminal event), ``final_risk``, ``t_final``, ``event_time`` (first
              terminal event, NaN if none), ``M_final`` (p, k), ``Q_final`` (p, p), ``nfev``.
``simulate``  one finite-d SGD run (:func:`~overlapdyn.sgd.simulator.simulate`) at (d, seed);
              the same values (no ``event_time``/``nfev``) plus ``test_risk`` (T,) when
              the option ``n_test`` > 0; the grid times are rounded to whole steps.
``validate``  :func:`~overlapdyn.sgd.validation.validate` over the option ``ds`` with ``seeds``
              runs per d on the ``[integrate]`` grid; values ``exponent_<q>``, ``passed``
              (1 PASS, 0 FAIL), ``gap_<q>`` (per d, dimension ``d_validate``) for
              q ∈ {risk, M, Q}, and what they stand on: ``t_compared`` (the common range
              [0, t] of every run) and ``points_compared`` (the fewest saved times any d
              compared). An UNDETERMINED verdict (a run failed, or too few times left) is a
              failed record naming the cause.
``escape``    :mod:`overlapdyn.scaling.escape` at (d, seed): ``escape_time`` (t), ``escape_samples``
              (n = t·d·n_b), ``eta_used`` (η(d) = η₀ d^−(ℓ−2)/2 unless ``scale_eta = false``),
              ``predicted_exponent``; options ``route`` (``ode``: M₀ = Z/√d with Z drawn
              with the seed, or ``aligned``; ``simulation``), ``threshold``.
============  ==========================================================================

A failing task (an :class:`~overlapdyn.errors.IntegrationError` from a learning rate that
blows up, a simulation that diverges) is a failed record carrying the message; it never
stops the others. Adding a kind takes a function and one :func:`register_kind` call (the
``escape`` kind below is such a wrapper around :mod:`overlapdyn.scaling.escape`)::

    def run_lyapunov(task):
        ...                                    # task.model, task.run, task.option("…")
        return {"growth_rate": rate}

    register_kind(TaskKind("lyapunov", run_lyapunov, options={"delta": 1e-6}))

Compiled code on workers. A task builds its
:class:`~overlapdyn.compile.compiled.CompiledModel` (or the simulator) through
:mod:`overlapdyn.compile.cache`: the generated module is imported once per process and
kept in ``sys.modules``, and Numba's machine code sits in the on-disk cache
(``$OVERLAPDYN_CACHE_DIR``), so a worker never recompiles for a second task of the same
activations, and a fresh worker whose cache folder is warm loads instead of compiling.
:func:`warm_up` (called by the sweep on the client before submitting) fills that folder once
per distinct kernel set; each record counts the Numba compilations its task triggered
(``numba_compiles``, exact with one thread per worker) so this can be checked.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np

from ..errors import ConfigError, OverlapdynError
from ..model.spec import Model
from ..ode.config import IntegrateConfig
from ..storage.encoding import json_digest, jsonable
from ..storage.versions import __version__

__all__ = ["KINDS", "STARTED_TOPIC", "KindRegistry", "Task", "TaskKind", "execute", "record",
           "register_kind", "task_kind", "warm_up"]

#: the scheduler event topic on which :func:`execute` announces that a task's body starts
#: (``{"key": Dask key, "worker": address}``): the sweep's task timeout counts from there
STARTED_TOPIC = "overlapdyn-task-started"


@dataclass(frozen=True)
class TaskKind:
    """A kind of sweep task.

    Attributes:
        name: as written in ``[sweep] kind``.
        run: ``run(task) -> {name: number | array}``; raise to fail the task.
        dims: dimension names of the array values, e.g. ``{"risk": ("t",)}``; values not
            listed are scalars. A value named like its only dimension (``"t"``) becomes
            that dimension's coordinate when it is the same in every task.
        options: the allowed ``[sweep.options]`` keys with their defaults.
        ignores: ``[integrate]`` keys this kind does not use (an axis over one is refused).
        version: bump when the kind's results change; part of every task key.
        warm_up: ``warm_up(task)`` compiles what the kind needs (at a negligible size), or
            None.
        plot: the value a sweep plots by default.
        description: one line, listed in the error for an unknown kind.
    """

    name: str
    run: Callable[[Task], Mapping[str, Any]]
    dims: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    ignores: tuple[str, ...] = ()
    version: int = 1
    warm_up: Callable[[Task], None] | None = None
    plot: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ConfigError(f"a task kind's name must be an identifier, got {self.name!r}")
        object.__setattr__(self, "dims", MappingProxyType(
            {k: tuple(v) for k, v in self.dims.items()}))
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def __reduce__(self):
        # field by field (the read-only mappings do not pickle); the functions travel by
        # reference, so a worker imports the module that defines them
        return (TaskKind, (self.name, self.run, dict(self.dims), dict(self.options),
                           self.ignores, self.version, self.warm_up, self.plot,
                           self.description))


class KindRegistry:
    """Task kinds by name: what ``[sweep] kind = "<name>"`` refers to.

    One instance, :data:`KINDS`, holds the built-in kinds (``ode``, ``simulate``,
    ``validate``, ``escape``) and those a user registers; it is the only state of this
    module, and :meth:`register` / :meth:`unregister` are the only ways to change it.
    """

    def __init__(self) -> None:
        self._kinds: dict[str, TaskKind] = {}

    def register(self, kind: TaskKind, *, replace: bool = False) -> TaskKind:
        """Make ``kind`` available by name; returns it.

        Raises:
            ConfigError: the name is taken and ``replace`` is False.
        """
        if kind.name in self._kinds and not replace:
            raise ConfigError(f"a task kind {kind.name!r} is already registered; pass "
                              "replace=True to override it")
        self._kinds[kind.name] = kind
        return kind

    def unregister(self, name: str) -> TaskKind:
        """Forget the kind called ``name``; returns it (KeyError if unknown)."""
        return self._kinds.pop(name)

    def get(self, name: str | TaskKind) -> TaskKind:
        """The kind called ``name`` (a :class:`TaskKind` is returned as is).

        Raises:
            ConfigError: no kind has that name (the message lists the known ones).
        """
        if isinstance(name, TaskKind):
            return name
        try:
            return self._kinds[name]
        except KeyError:
            known = "; ".join(f"{kind.name} ({kind.description})" if kind.description
                              else kind.name for kind in sorted(self._kinds.values(),
                                                                key=lambda k: k.name))
            raise ConfigError(f"unknown task kind {name!r}; known kinds: {known} (register "
                              "new ones with overlapdyn.sweeps.register_kind)") from None

    def names(self) -> tuple[str, ...]:
        """The registered names, sorted."""
        return tuple(sorted(self._kinds))


#: The registry of task kinds (see :class:`KindRegistry`).
KINDS = KindRegistry()


def register_kind(kind: TaskKind, *, replace: bool = False) -> TaskKind:
    """``KINDS.register(kind, replace=replace)``: make ``kind`` available by name."""
    return KINDS.register(kind, replace=replace)


def task_kind(name: str | TaskKind) -> TaskKind:
    """``KINDS.get(name)``: the registered kind called ``name``."""
    return KINDS.get(name)


def frozen(value):
    """An option or axis value as an immutable, hashable value: lists (TOML arrays, NumPy
    arrays) as tuples, NumPy scalars as Python numbers."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return tuple(frozen(v) for v in value)
    return value


@dataclass(frozen=True)
class Task:
    """One unit of sweep work: a kind, a model, its run settings and the kind's options.

    Attributes:
        kind: the :class:`TaskKind`.
        model: the model spec.
        run: the ``[integrate]`` settings (time grid, d, seed, warm start, solver, events).
        options: the kind's options, all of them (defaults filled in), as sorted items.
    """

    kind: TaskKind
    model: Model
    run: IntegrateConfig = field(default_factory=IntegrateConfig)
    options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        kind = task_kind(self.kind)
        object.__setattr__(self, "kind", kind)
        given = dict(self.options)
        unknown = sorted(set(given) - set(kind.options))
        if unknown:
            raise ConfigError(f"unknown options {unknown} for {kind.name!r} tasks; allowed: "
                              f"{sorted(kind.options) or 'none'}")
        merged = {**kind.options, **given}
        object.__setattr__(self, "options", tuple(sorted(
            (name, frozen(value)) for name, value in merged.items())))

    def option(self, name: str) -> Any:
        """The value of option ``name``."""
        return dict(self.options)[name]

    def spec(self) -> dict:
        """Everything that determines the task's result, as JSON types (the model's name left
        out; the kind's name and version in)."""
        model = self.model.to_dict()
        model.pop("name")
        return {"kind": self.kind.name, "kind_version": self.kind.version, "model": model,
                "run": self.run.to_dict(),
                "options": {name: jsonable(value, f"option {name!r}")
                            for name, value in self.options}}

    @cached_property
    def key(self) -> str:
        """A hash of :meth:`spec` (20 hex digits): equal work, equal key."""
        return json_digest(self.spec(), length=20)


def execute(task: Task) -> dict:
    """Run ``task`` (on a worker) and return its record; never raises for a failing task.

    The record (JSON types): ``key``, ``task`` (:meth:`Task.spec`), ``status`` (``"done"``
    or ``"failed"``), ``values`` (the kind's values; empty if failed), ``error``
    (``"ExceptionType: message"`` or None), ``traceback``, ``wall_time_s``,
    ``numba_compiles`` (Numba compilations during the task), ``worker`` (host and pid),
    ``finished`` (UTC) and ``overlapdyn`` (the version).
    """
    from numba.core import event

    _announce_start()
    start = time.perf_counter()
    error = trace = None
    values: dict = {}
    with event.install_recorder("numba:compile") as compiles:
        try:
            values = {name: jsonable(value, f"value {name!r}")
                      for name, value in task.kind.run(task).items()}
        except Exception as failure:  # any failure is data: recorded, the sweep goes on
            error = f"{type(failure).__name__}: {failure}"
            trace = traceback.format_exc(limit=8)
            values = {}
    return record(task, values, error=error, traceback_=trace,
                  wall_time_s=time.perf_counter() - start,
                  numba_compiles=sum(1 for _, e in compiles.buffer if e.is_start),
                  worker={"host": socket.gethostname(), "pid": os.getpid()})


def _announce_start() -> None:
    """Tell the sweep's client that this task's body starts now (nothing off a worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # a direct call, not on a Dask worker
        return
    worker.log_event(STARTED_TOPIC, {"key": worker.get_current_task(),
                                     "worker": worker.address})


def record(task: Task, values: dict, *, error: str | None = None, traceback_: str | None = None,
           wall_time_s: float = float("nan"), numba_compiles: int = 0,
           worker: dict | None = None) -> dict:
    """A task's record (layout in :func:`execute`): ``status`` is ``"failed"`` when there is
    an ``error``; ``finished`` is now."""
    return {
        "key": task.key, "task": task.spec(), "status": "failed" if error else "done",
        "values": values, "error": error, "traceback": traceback_,
        "wall_time_s": wall_time_s, "numba_compiles": numba_compiles, "worker": worker,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "overlapdyn": __version__,
    }


def warm_up(task: Task) -> None:
    """Compile (or load from the disk cache) everything ``task``'s kind will run, at a
    negligible size, so that the workers that share this cache folder never compile."""
    if task.kind.warm_up is not None:
        task.kind.warm_up(task)


# ------------------------------------------------------------------ the built-in kinds


def _on_grid(t_saved: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``values`` (T_saved, …) placed on ``grid`` (G,): NaN where the run did not save."""
    out = np.full((len(grid), *values.shape[1:]), np.nan)
    index = np.searchsorted(grid, t_saved)
    hit = (index < len(grid)) & (grid[np.minimum(index, len(grid) - 1)] == t_saved)
    out[index[hit]] = values[hit]
    return out


def _run_ode(task: Task) -> dict:
    from ..compile.compiled import CompiledModel
    from ..ode.integrator import integrate

    run = task.run
    compiled = CompiledModel(task.model)
    trajectory = integrate(compiled, run.initial_state(task.model), run.save,
                           events=run.events, solver=run.solver,
                           max_evaluations=run.max_evaluations)
    grid = run.save.grid()
    fired = [times[0] for times in trajectory.events.values() if times]
    return {"t": grid, "risk": _on_grid(trajectory.t, trajectory.risk, grid),
            "final_risk": trajectory.risk[-1], "t_final": trajectory.t[-1],
            "event_time": min(fired) if trajectory.status == 1 and fired else float("nan"),
            "M_final": trajectory.M[-1], "Q_final": trajectory.Q[-1],
            "nfev": trajectory.solver.nfev}


def _warm_up_ode(task: Task) -> None:
    from ..compile.compiled import CompiledModel
    from ..ode.integrator import SaveAt, integrate

    compiled = CompiledModel(task.model)
    M, Q, a = task.run.initial_state(task.model)
    integrate(compiled, (M, Q, a), SaveAt(1e-6, 2, log=False), on_failure="return")


def _simulation_init(task: Task):
    run = task.run
    return None if run.M0 is None else (np.array(run.M0), np.array(run.Q0))


def _run_simulate(task: Task) -> dict:
    from ..compile.compiled import CompiledModel
    from ..sgd.simulator import simulate

    run, n_test = task.run, int(task.option("n_test"))
    grid = run.save.grid()
    simulation = simulate(task.model, run.d, grid, seeds=(run.seed,), n_test=n_test,
                          init=_simulation_init(task), compiled=CompiledModel(task.model))
    trajectory = simulation.trajectories[0]
    if trajectory.status != 0:
        raise OverlapdynError(trajectory.message)
    # the simulator saves at whole steps: put each saved step back on the grid time asked
    saved_steps = np.round(trajectory.t * run.d).astype(np.int64)
    asked = np.round(grid * run.d).astype(np.int64)
    where = np.searchsorted(saved_steps, asked)
    values = {"t": grid, "risk": trajectory.risk[where],
              "final_risk": trajectory.risk[-1], "t_final": trajectory.t[-1],
              "M_final": trajectory.M[-1], "Q_final": trajectory.Q[-1]}
    if n_test:
        values["test_risk"] = trajectory.test_risk[where]
    return values


def _warm_up_simulate(task: Task, seeds: int = 1) -> None:
    from ..compile.compiled import CompiledModel
    from ..sgd.simulator import simulate

    model = task.model
    d = model.p + model.k + 1
    # the compiled loop is specialised on the number of seeds run together
    simulate(model, d, np.array([0.0, 1.0 / d]), seeds=tuple(range(seeds)),
             n_test=min(1, int(task.option("n_test"))), init=_simulation_init(task),
             compiled=CompiledModel(model))


def _run_validate(task: Task) -> dict:
    from ..sgd.validation import Verdict, validate

    run = task.run
    ds = tuple(int(d) for d in task.option("ds"))
    report = validate(task.model, ds, run.save.grid(), seeds=int(task.option("seeds")),
                      n_test=int(task.option("n_test")), init=_simulation_init(task),
                      tolerance=tuple(float(x) for x in task.option("tolerance")))
    if report.verdict is Verdict.UNDETERMINED:   # a failed record with the cause
        raise OverlapdynError(f"validation undetermined: {report.reason}")
    compared = report.compared
    values = {"d_validate": np.array(ds), "passed": float(report.passed),
              "t_compared": compared.t_end, "points_compared": float(min(compared.points))}
    for q in ("risk", "M", "Q"):
        values[f"exponent_{q}"] = report.exponents.get(q, float("nan"))
        values[f"gap_{q}"] = report.gaps[q].mean(axis=1)
    return values


def _warm_up_validate(task: Task) -> None:
    _warm_up_ode(task)
    _warm_up_simulate(Task("simulate", task.model, task.run,
                           (("n_test", task.option("n_test")),)), int(task.option("seeds")))


ODE = register_kind(TaskKind(
    "ode", _run_ode, dims={"t": ("t",), "risk": ("t",), "M_final": ("j", "r"),
                           "Q_final": ("j", "l")},
    warm_up=_warm_up_ode, plot="final_risk",
    description="integrate the overlap ODEs from the start at (d, seed) or the warm start"))

SIMULATE = register_kind(TaskKind(
    "simulate", _run_simulate, dims={"t": ("t",), "risk": ("t",), "test_risk": ("t",),
                                     "M_final": ("j", "r"), "Q_final": ("j", "l")},
    options={"n_test": 0}, ignores=("method", "rtol", "atol", "jacobian", "risk_below",
                                    "overlap_above"),
    warm_up=_warm_up_simulate, plot="final_risk",
    description="one finite-d online SGD run at (d, seed)"))

VALIDATE = register_kind(TaskKind(
    "validate", _run_validate,
    dims={"d_validate": ("d_validate",), "gap_risk": ("d_validate",),
          "gap_M": ("d_validate",), "gap_Q": ("d_validate",)},
    options={"ds": (250, 1000), "seeds": 4, "n_test": 0, "tolerance": (-0.75, -0.3)},
    ignores=("d", "seed", "method", "rtol", "atol", "jacobian", "risk_below",
             "overlap_above"),
    version=2, warm_up=_warm_up_validate, plot="exponent_risk",
    description="ODE vs simulation over the dimensions ds: gaps and exponents"))


def _run_escape(task: Task) -> dict:
    from ..scaling.escape import measure_escape_ode, measure_escape_simulated

    route, run = task.option("route"), task.run
    common = {"threshold": float(task.option("threshold")),
              "scale_eta": bool(task.option("scale_eta"))}
    if route == "ode":
        seeds = None if task.option("aligned") else (run.seed,)
        escape = measure_escape_ode(task.model, (run.d,), seeds=seeds, **common)
    elif route == "simulation":
        escape = measure_escape_simulated(task.model, (run.d,), seeds=(run.seed,), **common)
    else:
        raise ConfigError(f"escape option route must be 'ode' or 'simulation', got {route!r}")
    return {"escape_time": escape.times[0, 0], "escape_samples": escape.samples[0, 0],
            "eta_used": escape.etas[0], "predicted_exponent": escape.prediction.sample_exponent}


def _warm_up_escape(task: Task) -> None:
    _warm_up_ode(task)
    if task.option("route") == "simulation":
        _warm_up_simulate(Task("simulate", task.model, task.run))


ESCAPE = register_kind(TaskKind(
    "escape", _run_escape,
    options={"route": "ode", "threshold": 0.5, "scale_eta": True, "aligned": False},
    ignores=("t_end", "n_points", "log", "t_first", "method", "rtol", "atol", "jacobian",
             "M0", "Q0", "risk_below", "overlap_above"),
    warm_up=_warm_up_escape, plot="escape_samples",
    description="escape time from a random start at (d, seed), overlapdyn.scaling.escape "
                "(route ode: M₀ = Z/√d, Z drawn with the seed, or aligned; route simulation)"))
