r"""Saddle-to-saddle dynamics: when each latent direction is learned, and the plateaus between.

On a staircase or leap target SGD picks the support up one piece at a time (Abbe,
Boix-Adserà & Misiakiewicz 2023): the risk falls in steps separated by plateaus (saddles of
the population risk), and the latent directions z_r become correlated with the neurons one
after the other. From a learning curve (ODE or simulated
:class:`~overlapdyn.ode.trajectory.Trajectory`):

* direction r is *learned* at the first time its cosine overlap
  ``m_r(t) = max_j |M_jr| / √(Q_jj P_rr)`` reaches ``threshold`` (interpolated in log t);
* a *plateau* is a stretch of at least ``min_span`` in ``log t`` where the risk moves slowly,
  ``|dR/d log t| ≤ flatness · (R_max − R_min)``, and it sits at the risk level it holds there.

:meth:`SaddleToSaddle.agrees_with` compares the order of learning with the order in which the
leap's minimising ordering (:mod:`overlapdyn.scaling.leaps`) introduces the coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import OverlapdynError
from ..ode.trajectory import Trajectory
from ..storage.encoding import jsonable
from ..storage.results import Result
from .escape import crossing_time, learned_overlaps
from .leaps import Leap

__all__ = ["Plateau", "SaddleToSaddle", "saddle_to_saddle"]


@dataclass(frozen=True)
class Plateau:
    """A stretch ``[t_start, t_end]`` of slowly moving risk, at level ``risk`` (its median)."""

    t_start: float
    t_end: float
    risk: float


@dataclass(frozen=True)
class SaddleToSaddle(Result):
    """Learning times per latent direction and the plateaus of the risk.

    Attributes:
        learn_times: per direction r (length k), the time it is learned (``nan``: never).
        plateaus: the plateaus, in time order.
        threshold: the cosine overlap that counts as learned.
    """

    FORMAT = "overlapdyn.SaddleToSaddle"
    VERSION = 1

    learn_times: tuple[float, ...]
    plateaus: tuple[Plateau, ...]
    threshold: float

    @property
    def order(self) -> tuple[int, ...]:
        """The learned directions (0-based), earliest first."""
        learned = [r for r, t in enumerate(self.learn_times) if math.isfinite(t)]
        return tuple(sorted(learned, key=lambda r: self.learn_times[r]))

    @property
    def unlearned(self) -> tuple[int, ...]:
        """The directions (0-based) never learned within the horizon."""
        return tuple(r for r, t in enumerate(self.learn_times) if not math.isfinite(t))

    def plateaus_between(self) -> tuple[Plateau | None, ...]:
        """For each consecutive pair of learned directions, a plateau lying between their
        learning times (``None`` where there is none)."""
        times = [self.learn_times[r] for r in self.order]
        found = []
        for early, late in zip(times, times[1:], strict=False):
            inside = [p for p in self.plateaus if p.t_end > early and p.t_start < late]
            found.append(max(inside, key=lambda p: p.t_end / p.t_start) if inside else None)
        return tuple(found)

    def agrees_with(self, leap: Leap) -> bool:
        """Whether the directions were learned in the order the leap's ordering introduces
        them: directions of a later step of :attr:`Leap.groups` never before those of an
        earlier one (any order within a step), and no unlearned direction belongs to an
        earlier step than a learned one."""
        rank = {r: g for g, group in enumerate(leap.groups) for r in group}
        learned = [rank.get(r, len(rank)) for r in self.order]
        if learned != sorted(learned):
            return False
        unlearned = [rank.get(r, len(rank)) for r in self.unlearned]
        return not learned or not unlearned or min(unlearned) >= max(learned)

    def describe(self, names: tuple[str, ...] | None = None) -> str:
        names = names or tuple(f"z{r + 1}" for r in range(len(self.learn_times)))
        order = " → ".join(f"{names[r]} (t = {self.learn_times[r]:.4g})" for r in self.order)
        lines = [f"learned (cosine ≥ {self.threshold:g}): {order or 'nothing'}"]
        if self.unlearned:
            lines.append(f"never learned: {', '.join(names[r] for r in self.unlearned)}")
        for p in self.plateaus:
            lines.append(f"plateau  t ∈ [{p.t_start:.4g}, {p.t_end:.4g}]  R ≈ {p.risk:.4g}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"learn_times": jsonable(self.learn_times, "learn_times", strict=True),
                "order": list(self.order), "threshold": self.threshold,
                "plateaus": [[p.t_start, p.t_end, p.risk] for p in self.plateaus]}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"learn_times": self.learn_times, "threshold": self.threshold,
                "plateaus": [[p.t_start, p.t_end, p.risk] for p in self.plateaus]}, {}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> SaddleToSaddle:
        return cls(tuple(header["learn_times"]),
                   tuple(Plateau(*plateau) for plateau in header["plateaus"]),
                   header["threshold"])


def _plateaus(t: np.ndarray, risk: np.ndarray, flatness: float, min_span: float
              ) -> list[Plateau]:
    positive = t > 0
    t, risk = t[positive], risk[positive]
    if t.size < 3:
        return []
    log_t = np.log(t)
    scale = float(risk.max() - risk.min())
    if scale <= 0:
        return [Plateau(float(t[0]), float(t[-1]), float(risk[0]))]
    slope = np.abs(np.gradient(risk, log_t))
    flat = slope <= flatness * scale
    plateaus, start = [], None
    for i, is_flat in enumerate(np.append(flat, False)):
        if is_flat and start is None:
            start = i
        elif not is_flat and start is not None:
            if log_t[i - 1] - log_t[start] >= min_span:
                plateaus.append(Plateau(float(t[start]), float(t[i - 1]),
                                        float(np.median(risk[start:i]))))
            start = None
    return plateaus


def saddle_to_saddle(
    trajectory: Trajectory,
    *,
    threshold: float = 0.5,
    flatness: float = 0.02,
    min_span: float = math.log(2.0),
) -> SaddleToSaddle:
    """Detect learning times and plateaus on a learning curve.

    Args:
        trajectory: an ODE or simulated trajectory; log-spaced saved times work best.
        threshold: cosine overlap at which a direction counts as learned.
        flatness: a plateau has ``|dR/d log t|`` at most this fraction of the risk's range.
        min_span: the shortest plateau, in ``log t`` (default ln 2: a doubling of time).

    Raises:
        OverlapdynError: if the trajectory has fewer than three saved times.
    """
    if trajectory.t.size < 3:
        raise OverlapdynError("a saddle-to-saddle analysis needs at least three saved times")
    overlaps = learned_overlaps(trajectory)
    learn_times = tuple(crossing_time(trajectory.t, overlaps[:, r], threshold)
                        for r in range(overlaps.shape[1]))
    plateaus = _plateaus(np.asarray(trajectory.t), np.asarray(trajectory.risk), flatness,
                         min_span)
    return SaddleToSaddle(learn_times, tuple(plateaus), threshold)
