"""Events: scalar functions of the overlaps whose zero crossing is recorded, and may stop a run.

Every event satisfies one protocol (:class:`EventLike`), which :func:`~overlapdyn.ode.integrate`
reads and nothing else:

* ``name`` — how it is reported in :attr:`Trajectory.events
  <overlapdyn.ode.trajectory.Trajectory.events>`;
* ``function(M, Q, a, risk) -> float`` — the event fires where it changes sign (M p×k,
  Q p×p, a (p,), risk the population risk R of SPEC at that state);
* ``terminal`` — stop the run when it fires;
* ``direction`` — as in ``solve_ivp``: 0 any crossing, −1 downwards only, +1 upwards only.

:class:`RiskBelow` and :class:`OverlapCrosses` are small frozen dataclasses: equal settings,
equal events (they compare, hash and pickle by value, so a run config holding them does too).
:class:`Event` wraps any function for the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from ..errors import ConfigError
from ..model.checks import check_flag, check_integer, check_real
from .state import overlap_cosines

__all__ = ["Event", "EventLike", "OverlapCrosses", "RiskBelow", "check_events"]


@runtime_checkable
class EventLike(Protocol):
    """What an event is to the integrator (see the module docstring)."""

    name: str
    terminal: bool
    direction: float

    def function(self, M: np.ndarray, Q: np.ndarray, a: np.ndarray, risk: float) -> float:
        ...


@dataclass(frozen=True)
class Event:
    """Any scalar function of the state as an event.

    Attributes:
        name: how it is reported in :attr:`Trajectory.events
            <overlapdyn.ode.trajectory.Trajectory.events>`.
        function: ``f(M, Q, a, risk) -> float``; the event fires where it changes sign.
        terminal: stop the integration when it fires.
        direction: as in ``solve_ivp``: 0 any crossing, −1 downwards only, +1 upwards only.

    Two events are equal when their functions are the same object; :class:`RiskBelow` and
    :class:`OverlapCrosses` compare by their settings.
    """

    name: str
    function: Callable[[np.ndarray, np.ndarray, np.ndarray, float], float]
    terminal: bool = True
    direction: float = 0.0


def _threshold(value, name: str) -> float:
    if isinstance(value, str | bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    return check_real(value, name, positive=True)


@dataclass(frozen=True)
class RiskBelow:
    """Fires when the population risk R falls to ``level`` (> 0): ``R − level`` crossing
    zero downwards.

    Attributes:
        level: the risk level.
        terminal: stop the integration when it fires.
    """

    level: float
    terminal: bool = True

    direction: ClassVar[float] = -1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", _threshold(self.level, "RiskBelow.level"))
        object.__setattr__(self, "terminal", check_flag(self.terminal, "RiskBelow.terminal"))

    @property
    def name(self) -> str:
        """``risk<level``, e.g. ``risk<0.0001``."""
        return f"risk<{self.level:g}"

    def function(self, M: np.ndarray, Q: np.ndarray, a: np.ndarray, risk: float) -> float:
        """``R − level``."""
        return risk - self.level


@dataclass(frozen=True)
class OverlapCrosses:
    """Fires when the overlap ``|M_jr|`` rises to ``threshold`` (an escape).

    ``j``/``r`` None mean the largest over the students j or the directions r. With
    ``normalized`` the overlap is the cosine ``|M_jr| / √(Q_jj P_rr)`` (P the target's Gram
    matrix, default I), which a growing norm of w_j cannot inflate (the same as ``|M_jr|``
    for spherical SGD and P = I).

    Attributes:
        threshold: the level (> 0) of ``max |M_jr|`` (or of the cosine).
        j: a student index (0-based), or None for all.
        r: a latent direction (0-based), or None for all.
        terminal: stop the integration when it fires.
        normalized: the cosine instead of ``|M_jr|``.
        P: the target Gram matrix (k×k) of the cosine, stored as a tuple of rows; None is I.
    """

    threshold: float
    j: int | None = None
    r: int | None = None
    terminal: bool = True
    normalized: bool = False
    P: tuple[tuple[float, ...], ...] | None = None

    direction: ClassVar[float] = 1.0

    def __post_init__(self) -> None:
        def put(name, value):
            object.__setattr__(self, name, value)

        put("threshold", _threshold(self.threshold, "OverlapCrosses.threshold"))
        for index in ("j", "r"):
            if getattr(self, index) is not None:
                put(index, check_integer(getattr(self, index), f"OverlapCrosses.{index}", 0))
        put("terminal", check_flag(self.terminal, "OverlapCrosses.terminal"))
        put("normalized", check_flag(self.normalized, "OverlapCrosses.normalized"))
        if self.P is not None:
            P = np.asarray(self.P, dtype=float)
            if P.ndim != 2 or P.shape[0] != P.shape[1] or not np.all(np.isfinite(P)):
                raise ConfigError(f"OverlapCrosses.P must be the target's k×k Gram matrix of "
                                  f"finite numbers, got shape {P.shape}")
            put("P", tuple(tuple(float(v) for v in row) for row in P))

    @property
    def name(self) -> str:
        """``|M[j,r]|>threshold`` (``cos(M[j,r])>…`` when normalized; ``*`` for a max)."""
        where = (f"M[{'*' if self.j is None else self.j},"
                 f"{'*' if self.r is None else self.r}]")
        overlap = f"cos({where})" if self.normalized else f"|{where}|"
        return f"{overlap}>{self.threshold:g}"

    @cached_property
    def _P_diagonal(self) -> np.ndarray | None:
        return None if self.P is None else np.diag(np.array(self.P))

    def function(self, M: np.ndarray, Q: np.ndarray, a: np.ndarray, risk: float) -> float:
        """``max |M_jr| − threshold`` over the chosen j and r (the cosine if normalized)."""
        block = overlap_cosines(M, Q, self._P_diagonal) if self.normalized else np.abs(M)
        block = block if self.j is None else block[self.j:self.j + 1]
        block = block if self.r is None else block[:, self.r:self.r + 1]
        return float(block.max() - self.threshold)


def check_events(events: Iterable) -> tuple[EventLike, ...]:
    """``events`` as a tuple, each checked to satisfy :class:`EventLike`.

    Raises:
        ConfigError: ``events`` is not a sequence, or holds something that is not an event
            (naming what to pass instead).
    """
    if isinstance(events, EventLike) or not isinstance(events, Iterable):
        raise ConfigError(f"events must be a sequence of events, got {events!r}; write "
                          "events=(RiskBelow(1e-4),) for one")
    events = tuple(events)
    for event in events:
        if not isinstance(event, EventLike) or not callable(event.function):
            raise ConfigError(
                f"{event!r} is not an event: pass RiskBelow(level), OverlapCrosses(threshold) "
                "or Event(name, function, terminal, direction), function(M, Q, a, risk)")
    return events
