"""The ``[integrate]`` section of a model file, and the job behind ``overlapdyn ode CONFIG``.

One TOML file holds the model (``[target]``, ``[student]``, ``[protocol]``; see
:mod:`overlapdyn.model.spec`) and, optionally, how to integrate its overlap ODEs (SPEC)::

    [integrate]
    t_end = 1000.0            # final time t = steps/d
    n_points = 200            # saved times, t = 0 included
    log = true                # log-spaced times from t_first (else uniform)
    t_first = 0.01
    method = "LSODA"          # any scipy.integrate.solve_ivp method
    rtol = 1e-8
    atol = 1e-10
    # jacobian = "auto"       # or "exact" / "solver": what implicit methods differentiate
    # max_evaluations = 1000000  # the most drift evaluations (a diverging run stops there)
    d = 10000                 # dimension of the random start, and of the samples n = t·d·n_b
    seed = 0
    # M0 = [[0.4]]            # warm start M (p×k) and Q (p×p): both or neither
    # Q0 = [[1.0]]
    # risk_below = 1e-4       # stop when R(t) falls to this level
    # overlap_above = 0.9     # stop when max_jr |M_jr| reaches this value

The section is flat, but :class:`IntegrateConfig` holds the objects that
:func:`~overlapdyn.ode.integrate` takes: ``t_end, n_points, log, t_first`` make its
:class:`~overlapdyn.ode.integrator.SaveAt`, ``method, rtol, atol, jacobian`` its
:class:`~overlapdyn.ode.integrator.Solver`, and ``risk_below``/``overlap_above`` its events
(:class:`~overlapdyn.ode.events.RiskBelow`, :class:`~overlapdyn.ode.events.OverlapCrosses`).
:meth:`IntegrateConfig.from_dict` builds them from the keys, :meth:`IntegrateConfig.to_dict`
writes the keys back.

``examples/`` holds annotated files; ``overlapdyn ode examples/<file>.toml`` runs one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import ConfigError
from ..model.checks import (
    check_dimension,
    check_flag,
    check_integer,
    check_real,
    check_section,
)
from ..model.spec import Model
from .events import EventLike, OverlapCrosses, RiskBelow, check_events
from .integrator import MAX_EVALUATIONS, SaveAt, Solver, check_solver
from .state import initial_overlaps

__all__ = ["IntegrateConfig"]


def _number(value, name: str) -> float:
    """A finite float > 0; strings and booleans refused (TOML would quote a typo)."""
    if isinstance(value, str | bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    return check_real(value, name, positive=True)


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


def _save_at(values: Mapping) -> SaveAt:
    """The :class:`SaveAt` of the keys ``t_end, n_points, log, t_first``."""
    t_end = _number(values["t_end"], "integrate.t_end")
    t_first = _number(values["t_first"], "integrate.t_first")
    n_points = check_integer(values["n_points"], "integrate.n_points", 2)
    log = check_flag(values["log"], "integrate.log")
    if log and not t_first < t_end:
        raise ConfigError(f"integrate.t_first = {t_first:g} must be below t_end = {t_end:g} "
                          "(the first log-spaced time); lower t_first or set log = false")
    return SaveAt(t_end, n_points, log, t_first)


def _events(values: Mapping) -> tuple[EventLike, ...]:
    """The events of the keys ``risk_below`` and ``overlap_above``, in this order."""
    events = []
    if values.get("risk_below") is not None:
        events.append(RiskBelow(_number(values["risk_below"], "integrate.risk_below")))
    if values.get("overlap_above") is not None:
        events.append(OverlapCrosses(_number(values["overlap_above"],
                                             "integrate.overlap_above")))
    return tuple(events)


def _event_keys(events) -> dict:
    """The keys ``risk_below``/``overlap_above`` that write ``events``; the others have none."""
    keys: dict = {}
    for event in events:
        if type(event) is RiskBelow and event == RiskBelow(event.level):
            key, value = "risk_below", event.level
        elif type(event) is OverlapCrosses and event == OverlapCrosses(event.threshold):
            key, value = "overlap_above", event.threshold
        else:
            raise ConfigError(
                f"the event {event.name!r} has no [integrate] key: only a terminal "
                "RiskBelow(level) (risk_below) and OverlapCrosses(threshold) with its other "
                "settings at their defaults (overlap_above) can be written; pass other events "
                "to integrate() directly")
        if key in keys:
            raise ConfigError(f"[integrate] holds one {key}: the config has two such events "
                              f"({keys[key]:g} and {value:g})")
        keys[key] = value
    return {key: keys[key] for key in ("risk_below", "overlap_above") if key in keys}


@dataclass(frozen=True)
class IntegrateConfig:
    """How ``overlapdyn ode`` integrates a model: the ``[integrate]`` section.

    Attributes:
        save: where the trajectory is recorded (TOML keys ``t_end``, ``n_points``, ``log``,
            ``t_first``).
        solver: the ODE solver (keys ``method``, ``rtol``, ``atol``, ``jacobian``).
        events: the events to record, a tuple (keys ``risk_below``: stop when the population
            risk R(t) falls to it, :class:`~overlapdyn.ode.events.RiskBelow`;
            ``overlap_above``: stop when ``max_jr |M_jr|`` reaches it,
            :class:`~overlapdyn.ode.events.OverlapCrosses`). Other events may be held, but
            such a config has no :meth:`to_dict`.
        d: input dimension of the random start (``initial_overlaps``: ``M = O(d^-1/2)``,
            ``Q ≈ I``) and of the samples axis ``n = t·d·n_b``.
        seed: seed of the random start.
        M0, Q0: a warm start, ``M`` (p×k) and ``Q`` (p×p) as lists of rows; both or neither.
            Stored as tuples of tuples (the config is immutable).
        max_evaluations: the most drift evaluations of the run (key ``max_evaluations``,
            default :data:`~overlapdyn.ode.integrator.MAX_EVALUATIONS`): a run past it
            fails with an :class:`~overlapdyn.errors.IntegrationError` (see
            :func:`~overlapdyn.ode.integrate`).
    """

    #: the keys of the ``[integrate]`` section
    KEYS: ClassVar[tuple[str, ...]] = (
        "t_end", "n_points", "log", "t_first", "method", "rtol", "atol", "jacobian", "d",
        "seed", "M0", "Q0", "risk_below", "overlap_above", "max_evaluations")

    save: SaveAt = SaveAt(1000.0, 200, log=True, t_first=0.01)
    solver: Solver = Solver()
    events: tuple[EventLike, ...] = ()
    d: int = 10000
    seed: int = 0
    M0: tuple[tuple[float, ...], ...] | None = None
    Q0: tuple[tuple[float, ...], ...] | None = None
    max_evaluations: int = MAX_EVALUATIONS

    def __post_init__(self) -> None:
        def put(name, value):
            object.__setattr__(self, name, value)

        if not isinstance(self.save, SaveAt):
            raise ConfigError(f"IntegrateConfig.save must be a SaveAt, e.g. SaveAt(1000.0, "
                              f"200), got {self.save!r}")
        if not isinstance(self.solver, Solver):
            raise ConfigError(f"IntegrateConfig.solver must be a Solver, e.g. "
                              f"Solver('DOP853'), got {self.solver!r}")
        put("events", check_events(self.events))
        put("d", check_integer(self.d, "integrate.d", 1))
        put("seed", check_integer(self.seed, "integrate.seed", 0))
        put("max_evaluations", check_integer(self.max_evaluations,
                                             "integrate.max_evaluations", 1))
        if (self.M0 is None) != (self.Q0 is None):
            raise ConfigError("a warm start needs both integrate.M0 (p×k) and integrate.Q0 "
                              "(p×p); give both, or neither for a random start")
        if self.M0 is not None:
            put("M0", _matrix(self.M0, "integrate.M0"))
            put("Q0", _matrix(self.Q0, "integrate.Q0"))

    @classmethod
    def from_dict(cls, values: Mapping) -> IntegrateConfig:
        """Build from the ``[integrate]`` table (missing keys take the defaults); unknown keys
        fail, listing the allowed (:attr:`KEYS`)."""
        if isinstance(values, Mapping) and "escape_overlap" in values:
            raise ConfigError("integrate.escape_overlap is now overlap_above (stop when "
                              "max_jr |M_jr| reaches it); 'escape' means only the cosine "
                              "overlap of overlapdyn.scaling")
        given = check_section(values, "integrate", cls.KEYS)
        values = {**cls().to_dict(), "jacobian": "auto", **given}
        save = _save_at(values)
        solver = Solver(*check_solver(values["method"], values["rtol"], values["atol"],
                                      values["jacobian"], "integrate."))
        return cls(save, solver, _events(values), d=values["d"], seed=values["seed"],
                   M0=values.get("M0"), Q0=values.get("Q0"),
                   max_evaluations=values.get("max_evaluations", MAX_EVALUATIONS))

    def to_dict(self) -> dict:
        """The flat ``[integrate]`` keys as plain JSON types (matrices as lists of rows);
        unset options are left out, and so are ``jacobian`` when ``"auto"`` and
        ``max_evaluations`` at its default.

        Raises:
            ConfigError: the config saves at explicit times (:meth:`SaveAt.at
                <overlapdyn.ode.integrator.SaveAt.at>`) or holds an event that has no key.
        """
        save, solver = self.save, self.solver
        if save.times is not None:
            raise ConfigError("a config saving at explicit times (SaveAt.at) has no "
                              "[integrate] keys: use SaveAt(t_end, n_points, log, t_first)")
        values = {"t_end": float(save.t_end), "n_points": int(save.n_points),
                  "log": bool(save.log), "t_first": float(save.t_first),
                  "method": solver.method, "rtol": solver.rtol, "atol": solver.atol}
        if solver.jacobian != "auto":
            values["jacobian"] = solver.jacobian
        values.update(d=self.d, seed=self.seed)
        if self.max_evaluations != MAX_EVALUATIONS:
            values["max_evaluations"] = self.max_evaluations
        if self.M0 is not None:
            values.update(M0=[list(row) for row in self.M0], Q0=[list(row) for row in self.Q0])
        return {**values, **_event_keys(self.events)}

    def initial_state(self, model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(M, Q, a)``: the warm start if given, else the random start at dimension d.

        Shapes: M (p, k), Q (p, p), a (p,) (the spec's readout).
        """
        p, k = model.p, model.k
        if self.M0 is None:
            check_dimension(self.d, p, k, "integrate.d", " to draw the random start")
            return initial_overlaps(model, self.d, self.seed)
        M, Q = np.array(self.M0), np.array(self.Q0)
        if M.shape != (p, k):
            raise ConfigError(f"integrate.M0 must be p×k = {p}×{k} (one row per student "
                              f"neuron, one column per latent direction), got {M.shape}")
        if Q.shape != (p, p):
            raise ConfigError(f"integrate.Q0 must be p×p = {p}×{p}, got {Q.shape}")
        return M, Q, np.array(model.student.a)


