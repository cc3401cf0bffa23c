"""Figures of the depth experiments: the κ sweep (the paper's Fig. 2) and stage 1 of
layer-wise training against its map in a few overlaps."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..depth.recovery import unsupported, weak_recovery
from ..depth.targets import thresholds
from .axes import axes_grid, new_axes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..depth.experiment import DepthResult
    from ..depth.first_layer import Stage1Validation

__all__ = ["plot_depth", "plot_stage1"]

_METHOD_LABELS = {"three_layer": "3-layer, layer-wise",
                  "two_layer": "2-layer (trained W1 + ridge)", "kernel": "quadratic kernel",
                  "random_features": "random features", "joint": "3-layer, joint (Adam)"}


def _threshold_marks(result: DepthResult) -> dict[str, float]:
    """The κ marked on both panels of :func:`plot_depth`: the predicted thresholds 1 + ε
    (W*), kε (h*), 2 (quadratic kernel) and, for a SIGHT target, the finite-d weak-recovery
    point κ* of W* when it is finite."""
    target = result.config.target
    report = thresholds(target.levels, len(target.polynomial()) - 1, target.r)
    marks = {"1+ε (W*)": report.subspace[0], "kε (h*)": report.features[0], "2 (kernel)": 2.0}
    if not unsupported(target):
        finite = weak_recovery(target)   # where W* becomes recoverable at this d
        if np.isfinite(finite.kappa):
            marks[f"κ* = {finite.kappa:.2f} (W* at d = {target.d})"] = finite.kappa
    return marks


def plot_depth(result: DepthResult, *, band: tuple[float, float] = (25, 75)) -> Figure:
    """The paper's Fig. 2 layout: test error vs κ = log n/log d for every method (median over
    seeds and a percentile band), and the overlaps M_W, M_h of the three-layer net, with the
    predicted thresholds 1 + ε (W*), kε (h*) and 2 (quadratic kernel) marked, for a SIGHT
    target the finite-d weak-recovery point κ* of W* (:mod:`overlapdyn.depth.recovery`), and
    the κ at which each overlap has made half its rise (:meth:`DepthResult.onset`)."""
    fig, axes = axes_grid(2, width=4.4, height=3.3)
    kappa = result.kappa
    target = result.config.target
    ax = axes[0]
    for method, label in _METHOD_LABELS.items():
        key = f"error_{method}"
        if key not in result.values:
            continue
        line, = ax.plot(kappa, result.median(key), "o-", ms=3, label=label)
        ax.fill_between(kappa, result.percentile(key, band[0]), result.percentile(key, band[1]),
                        color=line.get_color(), alpha=0.2, lw=0)
    null = float(np.median(result.null_error))
    ax.axhline(null, color="0.5", ls=":", label="Var y")
    ax.set_ylim(0, 1.3 * null)   # errors above Var y (tiny n, bad ridge) are clipped
    for ax_ in axes:
        for i, (name, value) in enumerate(_threshold_marks(result).items()):
            ax_.axvline(value, color=f"C{i + 4}", ls="--", lw=0.8, label=name if ax_ is ax
                        else None)
    ax.set_xlabel(r"$\kappa = \log n / \log d$")
    ax.set_ylabel("test MSE")
    ax.set_title(f"d = {target.d}, ε = {target.levels[0]:g}, {result.config.sweep.seeds} seeds")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    for i, key in enumerate(("M_W", "M_h")):
        if key in result.values:
            ax.plot(kappa, result.median(key), "o-", ms=3, color=f"C{i}", label=key)
            ax.fill_between(kappa, result.percentile(key, band[0]),
                            result.percentile(key, band[1]), color=f"C{i}", alpha=0.2, lw=0)
            onset = result.onset(key)   # where the median has made half its rise
            if onset is not None:
                ax.axvline(onset, color=f"C{i}", ls=":", lw=1.0,
                           label=f"{key} half-rise κ ≈ {onset:.2f}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(r"$\kappa = \log n / \log d$")
    ax.set_ylabel("overlap")
    ax.legend(fontsize="small")
    return fig


def plot_stage1(validation: Stage1Validation) -> Figure:
    """Stage-1 M_W against the step number: simulation (seed mean ± std) and the map."""
    fig, ax = new_axes()
    steps = np.arange(validation.simulated.shape[2])
    for i, d in enumerate(validation.ds):
        sim = validation.simulated[i]
        ax.errorbar(steps, sim.mean(axis=0), yerr=sim.std(axis=0), fmt="o", ms=3,
                    color=f"C{i}", label=f"simulation d = {d}")
        ax.plot(steps, validation.theory[i].mean(axis=0), "-", color=f"C{i}",
                label=f"theory d = {d}")
    ax.set_xlabel("stage-1 step")
    ax.set_ylabel("$M_W$ (RMS over neurons)")
    ax.legend(fontsize="small")
    return fig
