"""Figures of escape scaling: escape samples against d, the escape curves, saddle to saddle.

The cosine overlap of latent direction r is ``max_j |M_jr|/√(Q_jj P_rr)``
(:func:`overlapdyn.scaling.escape.learned_overlaps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import OverlapdynError
from ..ode.trajectory import Trajectory
from ..scaling.escape import learned_overlaps
from .axes import log_scales, new_axes, new_figure
from .trajectories import TIME_LABEL

COSINE_LABEL = r"cosine $\max_j |M_{jr}| / \sqrt{Q_{jj} P_{rr}}$"

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..scaling.escape import EscapeTimes
    from ..scaling.saddles import SaddleToSaddle

__all__ = ["plot_escape_curves", "plot_escape_scaling", "plot_saddles"]


def _cosine(trajectory: Trajectory, direction: int | None = None) -> np.ndarray:
    """The cosine overlap of ``direction`` (default: the best over r) per saved time: (T,)."""
    cosines = learned_overlaps(trajectory)
    return cosines.max(axis=1) if direction is None else cosines[:, direction]


def plot_escape_scaling(escapes: EscapeTimes | Sequence[EscapeTimes], *,
                        ax: Axes | None = None) -> Figure:
    """Escape sample count ``n`` against d, log-log: medians (with the 16–84 % band over
    seeds for simulations), the fitted power law, and the predicted slope ``max(ℓ−1, 1)``
    (``max(k*−1, 1)`` for a measurement with data reuse, whose prediction is the reuse column)
    drawn through the data's centre (dashed; × log d at ℓ = 2). When nothing escaped at
    any d the figure says so (and which ``t_max``) instead of drawing empty log axes.
    """
    escapes = [escapes] if not isinstance(escapes, Sequence) else list(escapes)
    if not escapes:
        raise OverlapdynError("plot_escape_scaling needs at least one EscapeTimes")
    fig, ax = new_axes(ax)
    for index, escape in enumerate(escapes):
        color = f"C{index % 10}"
        ds = np.asarray(escape.ds, dtype=float)
        n = np.where(np.isfinite(escape.samples), escape.samples, np.inf)
        median = escape.median_samples
        keep = np.isfinite(median)
        prediction = escape.prediction
        protocol = "" if escape.reuse is None else f", {escape.protocol}"
        label = (f"{escape.route}{protocol}, {prediction.symbol} = {prediction.governing}"
                 f" ({prediction.target})")
        if n.shape[1] > 1:
            low, high = np.percentile(n, [16, 84], axis=1)
            high = np.where(np.isfinite(high), high, median)
            ax.errorbar(ds[keep], median[keep], yerr=[median[keep] - low[keep],
                                                      high[keep] - median[keep]],
                        fmt="o", color=color, capsize=3, label=label)
        else:
            ax.plot(ds[keep], median[keep], "o", color=color, label=label)
        if escape.fittable:
            fit = escape.fit()
            factor = np.log(ds) if fit.log_factor else 1.0
            ax.plot(ds, np.exp(fit.intercept) * ds**fit.exponent * factor, "-", color=color,
                    lw=1, label=f"fit: slope {fit.exponent:.2f}")
            predicted = escape.prediction.samples(ds)
            centre = np.exp(np.mean(np.log(median[keep]) - np.log(predicted[keep])))
            ax.plot(ds, centre * predicted, "--", color=color, lw=1,
                    label=f"predicted: d^{escape.prediction.sample_exponent}"
                          + (" log d" if escape.prediction.log_factor else ""))
    escaped = any(np.isfinite(escape.median_samples).any() for escape in escapes)
    if escaped:
        log_scales(ax, True, True)
        ax.legend(fontsize="small")
    else:  # no point to draw: log axes would have no range (Matplotlib refuses them)
        horizon = max((t for escape in escapes for t in escape.t_max), default=np.nan)
        ax.text(0.5, 0.5, f"nothing escaped (cos ≥ {escapes[0].threshold:g}) before "
                f"t_max = {horizon:.4g}:\nraise --t-max, or lower the threshold",
                ha="center", va="center", transform=ax.transAxes)
        log_scales(ax, True, False)
        ax.set_xlim(min(min(escape.ds) for escape in escapes) / 1.5,
                    max(max(escape.ds) for escape in escapes) * 1.5)
    ax.set_xlabel("dimension $d$")
    ax.set_ylabel(f"samples $n$ to escape  (cosine ≥ {escapes[0].threshold:g})")
    return fig


def plot_escape_curves(trajectories: Sequence[Trajectory], labels: Sequence[str], *,
                       ax: Axes | None = None, direction: int | None = None) -> Figure:
    """Overlap ``max_j |M_jr|/√(Q_jj P_rr)`` against samples per dimension ``n/d = t·n_b``,
    log-log: the information-exponent escape plot (one line per trajectory)."""
    if len(labels) != len(trajectories):
        raise OverlapdynError(f"got {len(labels)} labels for {len(trajectories)} trajectories")
    fig, ax = new_axes(ax)
    for trajectory, label in zip(trajectories, labels, strict=True):
        ax.plot(trajectory.t * trajectory.model.protocol.n_b, _cosine(trajectory, direction),
                label=label)
    log_scales(ax, True, True)
    ax.set_xlabel("samples per dimension $n/d$")
    ax.set_ylabel(COSINE_LABEL)
    ax.legend(fontsize="small")
    return fig


def plot_saddles(trajectory: Trajectory, saddles: SaddleToSaddle) -> Figure:
    """Saddle to saddle: the risk with its plateaus shaded (top) and each direction's cosine
    overlap with its learning time marked (bottom), against t on a log axis."""
    fig = new_figure((5.6, 5.2))
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(trajectory.t, trajectory.risk, color="k")
    for plateau in saddles.plateaus:
        top.axvspan(plateau.t_start, plateau.t_end, color="0.85", lw=0)
    top.set_ylabel("population risk $R$")
    for r in range(trajectory.M.shape[-1]):
        color = f"C{r % 10}"
        bottom.plot(trajectory.t, _cosine(trajectory, r), color=color, label=f"z{r + 1}")
        if np.isfinite(saddles.learn_times[r]):
            for ax in (top, bottom):
                ax.axvline(saddles.learn_times[r], color=color, ls=":", lw=1)
    bottom.axhline(saddles.threshold, color="0.5", lw=0.8)
    bottom.set_ylabel(COSINE_LABEL)
    bottom.set_xlabel(TIME_LABEL)
    bottom.legend(fontsize="small")
    log_scales(top, True)
    return fig
