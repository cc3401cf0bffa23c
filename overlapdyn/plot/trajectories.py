"""Figures of one or a few learning curves: the risk, the overlaps, M as a heat map.

Symbols follow the conventions page (SPEC): ``t = steps/d``, ``n = t·d·n_b``,
``M = WUᵀ/d`` (p×k), ``Q = WWᵀ/d`` (p×p), population risk ``R(t)``; indices j (student) and
r (latent) start at 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import OverlapdynError
from ..ode.trajectory import Trajectory
from .axes import axes_grid, log_scales, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ROUND_OFF_FLOOR", "above_round_off", "plot_learning_curve", "plot_overlap_heatmap",
           "plot_overlaps", "trajectory_figures"]

#: On a log axis a risk curve stops where R first falls below this times its largest value:
#: past that point R (a difference of O(1) terms, from states known to the solver's
#: tolerances) is round-off, which would draw as noise at 1e-12…1e-15.
ROUND_OFF_FLOOR = 1e-10

TIME_LABEL = r"time $t$ = steps$/d$"


def plot_learning_curve(trajectories: Trajectory | Sequence[Trajectory], *,
                        ax: Axes | None = None, d: int | None = None,
                        labels: Sequence[str] | None = None, logx: bool = True,
                        logy: bool = True) -> Figure:
    """Population risk ``R(t)`` against ``t = steps/d``, or against the number of samples
    ``n = t·d·n_b`` when ``d`` is given; one line per trajectory.

    Args:
        trajectories: one :class:`~overlapdyn.ode.Trajectory` or a list of them.
        ax: axes to draw into (default: a new figure).
        d: input dimension; switches the x axis to samples.
        labels: one legend label per trajectory (default: the model names when there are
            several, none for a single trajectory).
        logx, logy: logarithmic axes (non-positive points are left out; with ``logy``
            each curve stops at the round-off floor, :data:`ROUND_OFF_FLOOR`).
    """
    trajs = [trajectories] if isinstance(trajectories, Trajectory) else list(trajectories)
    if not trajs:
        raise OverlapdynError("plot_learning_curve needs at least one Trajectory")
    if labels is None:
        labels = [tr.model.name for tr in trajs] if len(trajs) > 1 else [None]
    elif len(labels) != len(trajs):
        raise OverlapdynError(f"got {len(labels)} labels for {len(trajs)} trajectories")
    fig, ax = new_axes(ax)
    for tr, label in zip(trajs, labels, strict=True):
        x = tr.t if d is None else tr.samples(d)
        ax.plot(x, above_round_off(tr.risk) if logy else tr.risk, label=label)
    log_scales(ax, logx, logy)
    ax.set_xlabel(TIME_LABEL if d is None else f"samples $n = t\\,d\\,n_b$  ($d$ = {d})")
    ax.set_ylabel("population risk $R$")
    if any(label is not None for label in labels):
        ax.legend()
    return fig


def above_round_off(risk: np.ndarray) -> np.ndarray:
    """``risk`` with NaN from where it first falls below :data:`ROUND_OFF_FLOOR` times its
    largest finite value."""
    risk = np.array(risk, dtype=float)
    finite = risk[np.isfinite(risk)]
    if finite.size:
        below = np.flatnonzero(risk < ROUND_OFF_FLOOR * finite.max())
        if below.size:
            risk[below[0]:] = np.nan
    return risk


def plot_overlaps(trajectory: Trajectory, *, axes: Sequence[Axes] | None = None,
                  logx: bool = True) -> Figure:
    """The overlaps against ``t = steps/d``, in two panels: ``M_jr(t)``, one colour per
    latent direction r and one line per student j (so a direction's lines rise together when
    it is learned); and the students' squared norms ``Q_jj(t)`` (solid) with their
    off-diagonal overlaps ``Q_jl``, j < l (dashed).

    Args:
        trajectory: the run.
        axes: two axes to draw into (default: a new figure of two panels).
        logx: logarithmic time axis.
    """
    if axes is None:
        fig, axes = axes_grid(2)
    else:
        if len(axes) != 2:
            raise OverlapdynError(f"plot_overlaps draws two panels: give two axes, got "
                                  f"{len(axes)}")
        fig = axes[0].figure
    tr, (left, right) = trajectory, axes
    p, k = tr.model.p, tr.model.k
    colours = _direction_colours(k)
    for r in range(k):
        for j in range(p):
            left.plot(tr.t, tr.M[:, j, r], color=colours[r], lw=1.2,
                      label=f"$z_{{{r + 1}}}$" if j == 0 else None)
    left.set_ylabel(r"$M_{jr}$ (student $j$, direction $r$)")
    if k <= 12:
        left.legend(fontsize="small", title="direction", ncols=1 + k // 7)
    for j in range(p):
        right.plot(tr.t, tr.Q[:, j, j], "-", color="C0", lw=1.2,
                   label=r"$Q_{jj}$" if j == 0 else None)
        for l in range(j + 1, p):
            right.plot(tr.t, tr.Q[:, j, l], "--", color="0.45", lw=1.0,
                       label=r"$Q_{jl},\ j<l$" if (j, l) == (0, 1) else None)
    right.set_ylabel(r"$Q_{jl}$")
    right.legend(fontsize="small")
    for ax in (left, right):
        log_scales(ax, logx)
        ax.set_xlabel(TIME_LABEL)
    return fig


def _direction_colours(k: int) -> list:
    """k colours: the default cycle up to 10, a colour map beyond."""
    if k <= 10:
        return [f"C{r}" for r in range(k)]
    from matplotlib import colormaps

    return [colormaps["viridis"](r / (k - 1)) for r in range(k)]


def plot_overlap_heatmap(trajectory: Trajectory, time: float | None = None, *,
                         ax: Axes | None = None) -> Figure:
    """Heat map of ``M = WUᵀ/d`` (rows: student j, columns: latent r) at the grid point
    nearest to ``time`` (default: the final state), on a diverging colour scale centred on 0,
    with a colorbar."""
    state = trajectory.final if time is None else trajectory.at(time)
    fig, ax = new_axes(ax, figsize=(4.0, 3.6))
    vmax = float(np.max(np.abs(state.M))) or 1.0
    image = ax.imshow(state.M, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    p, k = state.M.shape
    ax.set_xticks(range(k), [str(r + 1) for r in range(k)])
    ax.set_yticks(range(p), [str(j + 1) for j in range(p)])
    ax.set_xlabel("latent direction $r$")
    ax.set_ylabel("student $j$")
    ax.set_title(f"$M_{{jr}}$ at t = {state.t:.4g}")
    fig.colorbar(image, ax=ax, label="$M_{jr}$")
    return fig


def trajectory_figures(trajectory: Trajectory) -> dict[str, Figure]:
    """A trajectory's figures by name: ``learning_curve``, ``overlaps`` and
    ``overlap_heatmap``. Their axes are logarithmic where the data allow: a run that failed
    before its first positive saved time (or whose risk is never positive) gets linear ones,
    where Matplotlib would warn."""
    logx = bool(np.any(trajectory.t > 0))
    logy = bool(np.any(trajectory.risk > 0))
    return {"learning_curve": plot_learning_curve(trajectory, logx=logx, logy=logy),
            "overlaps": plot_overlaps(trajectory, logx=logx),
            "overlap_heatmap": plot_overlap_heatmap(trajectory)}
