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
from .axes import log_scales, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_learning_curve", "plot_overlap_heatmap", "plot_overlaps", "trajectory_figures"]


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
        logx, logy: logarithmic axes (non-positive points are left out).
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
        ax.plot(x, tr.risk, label=label)
    log_scales(ax, logx, logy)
    ax.set_xlabel("t = steps/d" if d is None else f"samples n = t·d·n_b  (d = {d})")
    ax.set_ylabel("population risk R")
    if any(label is not None for label in labels):
        ax.legend()
    return fig


def plot_overlaps(trajectory: Trajectory, *, ax: Axes | None = None,
                  logx: bool = True) -> Figure:
    """Every student–teacher overlap ``M_jr(t)`` (solid) and every off-diagonal
    student–student overlap ``Q_jl(t)``, ``j < l`` (dashed), against ``t = steps/d``:
    ``p·k + p(p−1)/2`` lines, labelled with 1-based indices."""
    fig, ax = new_axes(ax)
    tr = trajectory
    p, k = tr.model.p, tr.model.k
    for j in range(p):
        for r in range(k):
            ax.plot(tr.t, tr.M[:, j, r], "-", label=f"$M_{{{j + 1},{r + 1}}}$")
    for j in range(p):
        for l in range(j + 1, p):
            ax.plot(tr.t, tr.Q[:, j, l], "--", label=f"$Q_{{{j + 1},{l + 1}}}$")
    log_scales(ax, logx)
    ax.set_xlabel("t = steps/d")
    ax.set_ylabel("overlap")
    ax.legend(fontsize="small", ncols=max(1, (p * k + p * (p - 1) // 2) // 8))
    return fig


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
    ax.set_xlabel("latent r")
    ax.set_ylabel("student j")
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
