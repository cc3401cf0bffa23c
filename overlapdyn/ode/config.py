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
    d = 10000                 # dimension of the random start, and of the samples n = t·d·n_b
    seed = 0
    # M0 = [[0.4]]            # warm start M (p×k) and Q (p×p): both or neither
    # Q0 = [[1.0]]
    # risk_below = 1e-4       # stop when R(t) falls to this level
    # overlap_above = 0.9     # stop when max_jr |M_jr| reaches this value

``examples/`` holds annotated files; ``overlapdyn ode examples/<file>.toml`` runs one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..model.checks import check_dimension, check_integer, check_real, check_section
from ..model.spec import Model
from ..storage.encoding import jsonable
from .integrator import Event, OverlapCrosses, RiskBelow, SaveAt
from .state import initial_overlaps

__all__ = ["IntegrateConfig"]

METHODS = ("LSODA", "RK45", "RK23", "DOP853", "Radau", "BDF")


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
        overlap_above: stop when ``max_jr |M_jr|`` reaches this value.
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
    overlap_above: float | None = None

    def __post_init__(self) -> None:
        def put(name, value):
            object.__setattr__(self, name, value)

        for name in ("t_end", "t_first", "rtol", "atol"):
            put(name, _number(getattr(self, name), f"integrate.{name}"))
        put("n_points", check_integer(self.n_points, "integrate.n_points", 2))
        put("d", check_integer(self.d, "integrate.d", 1))
        put("seed", check_integer(self.seed, "integrate.seed", 0))
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
        for name in ("risk_below", "overlap_above"):
            if getattr(self, name) is not None:
                put(name, _number(getattr(self, name), f"integrate.{name}"))

    @classmethod
    def from_dict(cls, values: dict) -> IntegrateConfig:
        """Build from the ``[integrate]`` table; unknown keys fail, listing the allowed."""
        if "escape_overlap" in values:
            raise ConfigError("integrate.escape_overlap is now overlap_above (stop when "
                              "max_jr |M_jr| reaches it); 'escape' means only the cosine "
                              "overlap of overlapdyn.scaling")
        return cls(**check_section(values, "integrate", cls))

    def to_dict(self) -> dict:
        """Plain JSON types (matrices as lists of rows; unset options left out)."""
        return {f.name: jsonable(getattr(self, f.name), f.name)
                for f in dataclasses.fields(self) if getattr(self, f.name) is not None}

    def save_at(self) -> SaveAt:
        return SaveAt(self.t_end, self.n_points, self.log, self.t_first)

    def events(self) -> list[Event]:
        """The terminal events asked for: :func:`RiskBelow`, :func:`OverlapCrosses`."""
        events = []
        if self.risk_below is not None:
            events.append(RiskBelow(self.risk_below))
        if self.overlap_above is not None:
            events.append(OverlapCrosses(self.overlap_above))
        return events

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


