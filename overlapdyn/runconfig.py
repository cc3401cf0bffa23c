"""The ``[integrate]`` section of a model file, and the job behind ``overlapdyn ode CONFIG``.

One TOML file holds the model (``[target]``, ``[student]``, ``[protocol]``; see
:mod:`overlapdyn.spec`) and, optionally, how to integrate its overlap ODEs (SPEC)::

    [integrate]
    t_end = 1000.0            # final time t = steps/d
    n_points = 200            # saved times, t = 0 included
    log = true                # log-spaced times from t_first (else uniform)
    t_first = 0.01
    method = "LSODA"          # any scipy.integrate.solve_ivp method
    rtol = 1e-8
    atol = 1e-10
    d = 10000                 # dimension of the random start, and of the samples n = t·d·n_b
    seed = 0
    # M0 = [[0.4]]            # warm start M (p×k) and Q (p×p): both or neither
    # Q0 = [[1.0]]
    # risk_below = 1e-4       # stop when R(t) falls to this level
    # escape_overlap = 0.9    # stop when max_jr |M_jr| reaches this value

``examples/`` holds annotated files; ``overlapdyn ode examples/<file>.toml`` runs one.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .drift import CompiledModel
from .integrate import (
    Event,
    IntegrationError,
    OverlapCrosses,
    RiskBelow,
    SaveAt,
    initial_overlaps,
    integrate,
)
from .result import Trajectory
from .spec import ConfigError, Model, _integer, _real, model_from_dict, read_toml

__all__ = ["IntegrateConfig", "load_run", "run_ode"]

METHODS = ("LSODA", "RK45", "RK23", "DOP853", "Radau", "BDF")
OUTPUTS = ("trajectory.npz", "config.json", "learning_curve.png", "overlaps.png",
           "overlap_heatmap.png")


def _number(value, name: str) -> float:
    """A finite float > 0; strings and booleans refused (TOML would quote a typo)."""
    if isinstance(value, str | bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    return _real(value, name, positive=True)


def _matrix(value, name: str) -> tuple[tuple[float, ...], ...]:
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{name} must be a matrix (a list of rows of numbers), got "
                          f"{value!r}") from error
    if array.ndim != 2 or not np.all(np.isfinite(array)):
        raise ConfigError(f"{name} must be a matrix of finite numbers written as a list of "
                          f"rows, e.g. [[0.4]]; got {value!r}")
    return tuple(tuple(float(v) for v in row) for row in array)


@dataclass(frozen=True)
class IntegrateConfig:
    """How ``overlapdyn ode`` integrates a model: the ``[integrate]`` section.

    Attributes:
        t_end: final time ``t = steps/d`` (> 0).
        n_points: saved times, t = 0 included (≥ 2).
        log: log-spaced times from ``t_first`` (else uniform on [0, t_end]).
        t_first: first positive saved time when ``log`` (0 < t_first < t_end).
        method, rtol, atol: passed to :func:`scipy.integrate.solve_ivp`.
        d: input dimension of the random start (``initial_overlaps``: ``M = O(d^-1/2)``,
            ``Q ≈ I``) and of the samples axis ``n = t·d·n_b``.
        seed: seed of the random start.
        M0, Q0: a warm start, ``M`` (p×k) and ``Q`` (p×p) as lists of rows; both or neither.
            Stored as tuples of tuples (the config is immutable).
        risk_below: stop when the population risk R(t) falls to this level.
        escape_overlap: stop when ``max_jr |M_jr|`` reaches this value.
    """

    t_end: float = 1000.0
    n_points: int = 200
    log: bool = True
    t_first: float = 0.01
    method: str = "LSODA"
    rtol: float = 1e-8
    atol: float = 1e-10
    d: int = 10000
    seed: int = 0
    M0: tuple[tuple[float, ...], ...] | None = None
    Q0: tuple[tuple[float, ...], ...] | None = None
    risk_below: float | None = None
    escape_overlap: float | None = None

    def __post_init__(self) -> None:
        def put(name, value):
            object.__setattr__(self, name, value)

        for name in ("t_end", "t_first", "rtol", "atol"):
            put(name, _number(getattr(self, name), f"integrate.{name}"))
        put("n_points", _integer(self.n_points, "integrate.n_points", 2))
        put("d", _integer(self.d, "integrate.d", 1))
        put("seed", _integer(self.seed, "integrate.seed", 0))
        if not isinstance(self.log, bool | np.bool_):
            raise ConfigError(f"integrate.log must be true or false, got {self.log!r}")
        put("log", bool(self.log))
        if self.log and not self.t_first < self.t_end:
            raise ConfigError(f"integrate.t_first = {self.t_first:g} must be below t_end = "
                              f"{self.t_end:g} (the first log-spaced time); lower t_first or "
                              "set log = false")
        if self.method not in METHODS:
            raise ConfigError(f"integrate.method must be one of {METHODS}, got "
                              f"{self.method!r}")
        if (self.M0 is None) != (self.Q0 is None):
            raise ConfigError("a warm start needs both integrate.M0 (p×k) and integrate.Q0 "
                              "(p×p); give both, or neither for a random start")
        if self.M0 is not None:
            put("M0", _matrix(self.M0, "integrate.M0"))
            put("Q0", _matrix(self.Q0, "integrate.Q0"))
        for name in ("risk_below", "escape_overlap"):
            if getattr(self, name) is not None:
                put(name, _number(getattr(self, name), f"integrate.{name}"))

    @classmethod
    def from_dict(cls, values: dict) -> IntegrateConfig:
        """Build from the ``[integrate]`` table; unknown keys fail, listing the allowed."""
        allowed = [f.name for f in dataclasses.fields(cls)]
        extra = sorted(set(values) - set(allowed))
        if extra:
            raise ConfigError(f"unknown keys {extra} in [integrate]; allowed: {allowed}")
        return cls(**values)

    def to_dict(self) -> dict:
        """Plain JSON types (matrices as lists of rows; unset options left out)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = [list(row) for row in value] if f.name in ("M0", "Q0") else value
        return out

    def save_at(self) -> SaveAt:
        return SaveAt(self.t_end, self.n_points, self.log, self.t_first)

    def events(self) -> list[Event]:
        """The terminal events asked for: :func:`RiskBelow`, :func:`OverlapCrosses`."""
        events = []
        if self.risk_below is not None:
            events.append(RiskBelow(self.risk_below))
        if self.escape_overlap is not None:
            events.append(OverlapCrosses(self.escape_overlap))
        return events

    def initial_state(self, model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(M, Q, a)``: the warm start if given, else the random start at dimension d.

        Shapes: M (p, k), Q (p, p), a (p,) (the spec's readout).
        """
        p, k = model.p, model.k
        if self.M0 is None:
            if self.d < p + k:
                raise ConfigError(f"integrate.d = {self.d} must be at least p + k = {p + k} "
                                  "to draw the random start")
            return initial_overlaps(model, self.d, self.seed)
        M, Q = np.array(self.M0), np.array(self.Q0)
        if M.shape != (p, k):
            raise ConfigError(f"integrate.M0 must be p×k = {p}×{k} (one row per student "
                              f"neuron, one column per latent direction), got {M.shape}")
        if Q.shape != (p, p):
            raise ConfigError(f"integrate.Q0 must be p×p = {p}×{p}, got {Q.shape}")
        return M, Q, np.array(model.student.a)


def load_run(path: str | Path) -> tuple[Model, IntegrateConfig]:
    """Read a model and its ``[integrate]`` section (defaults if absent) from one TOML file."""
    path = Path(path)
    config = read_toml(path)
    model = model_from_dict(config, name=path.stem)
    section = config.get("integrate", {})
    if not isinstance(section, dict):
        raise ConfigError("'integrate' must be a table: write [integrate] and its keys below")
    return model, IntegrateConfig.from_dict(section)


def run_ode(path: str | Path, out_dir: str | Path, *, t_end: float | None = None
            ) -> Trajectory:
    """Integrate the model of the TOML file ``path`` and write the results into ``out_dir``.

    Writes ``trajectory.npz`` (:meth:`Trajectory.save`), ``config.json`` (model, integrate
    config, run metadata), ``learning_curve.png`` (R(t), log-log), ``overlaps.png`` (M_jr(t),
    Q_jl(t)) and ``overlap_heatmap.png`` (M at the last time), then prints a summary.

    Args:
        t_end: overrides ``integrate.t_end``.

    Raises:
        ConfigError: a malformed file. IntegrationError: a blow-up, raised after the partial
        trajectory (status −1) and the other outputs have been written.
    """
    model, config = load_run(path)
    if t_end is not None:
        config = dataclasses.replace(config, t_end=t_end)
    init = config.initial_state(model)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    compiled = CompiledModel(model)
    compile_s = time.perf_counter() - start
    failure = None
    try:
        trajectory = integrate(compiled, init, config.save_at(), events=config.events(),
                               method=config.method, rtol=config.rtol, atol=config.atol)
    except IntegrationError as error:
        if error.trajectory is None:
            raise
        failure, trajectory = error, error.trajectory
    _write_outputs(trajectory, config, out, source=Path(path), compile_s=compile_s,
                   from_cache=compiled.from_cache)
    _print_summary(trajectory, config, out, compile_s)
    if failure is not None:
        raise failure
    return trajectory


def _write_outputs(trajectory: Trajectory, config: IntegrateConfig, out: Path, *,
                   source: Path, compile_s: float, from_cache: bool) -> None:
    # Matplotlib only when figures are drawn: a sweep imports this module for IntegrateConfig
    from .plot import plot_learning_curve, plot_overlap_heatmap, plot_overlaps, save_figure

    tr, meta = trajectory, trajectory.metadata
    tr.save(out / "trajectory.npz")
    run = {
        "source": str(source), "status": tr.status, "message": tr.message,
        "events": meta.get("events", {}), "t_final": float(tr.t[-1]),
        "samples_final": float(tr.samples(config.d)[-1]), "final_risk": float(tr.risk[-1]),
        "kernels": meta.get("kernels"), "solver": meta.get("solver"),
        "compile_time_s": compile_s, "kernels_from_cache": from_cache,
        "wall_time_s": meta.get("wall_time_s"), "fingerprint": tr.model.fingerprint(),
        "versions": meta.get("versions", {"overlapdyn": __version__}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    payload = {"model": tr.model.to_dict(), "integrate": config.to_dict(), "run": run}
    (out / "config.json").write_text(json.dumps(payload, indent=2) + "\n")
    # A run that failed before its first positive saved time has nothing to show on log axes
    # (Matplotlib would warn); fall back to linear ones.
    logx = bool(np.any(tr.t > 0))
    logy = bool(np.any(tr.risk > 0))
    save_figure(plot_learning_curve(tr, logx=logx, logy=logy), out / "learning_curve.png")
    save_figure(plot_overlaps(tr, logx=logx), out / "overlaps.png")
    save_figure(plot_overlap_heatmap(tr), out / "overlap_heatmap.png")


def _print_summary(tr: Trajectory, config: IntegrateConfig, out: Path, compile_s: float
                   ) -> None:
    model, meta = tr.model, tr.metadata
    fired = meta.get("events", {})
    events = ", ".join(f"{name} at t = {times[0]:.4g}" for name, times in fired.items())
    outcome = {0: "reached t_end", 1: "stopped by an event",
               -1: "FAILED; last healthy state"}[tr.status]
    print(f"{model.name}: p = {model.p}, k = {model.k}, σ = {model.student.activation}, "
          f"η = {model.protocol.eta:g}, n_b = {model.protocol.n_b} "
          f"[fingerprint {model.fingerprint()}]")
    print(f"  {outcome} at t = {tr.t[-1]:.4g} (n = t·d·n_b = {tr.samples(config.d)[-1]:.3g} "
          f"samples at d = {config.d}); final risk R = {tr.risk[-1]:.4g}")
    print(f"  events: {events or 'none'}")
    print(f"  {config.method} ({meta.get('kernels')} kernels): solve "
          f"{meta.get('wall_time_s', 0.0):.2f} s, compile/load {compile_s:.2f} s")
    print(f"  wrote {', '.join(OUTPUTS)} to {out}")
