"""Figures of a :class:`~overlapdyn.sgd.ValidationReport`: the ODE against the simulations
at one d, and how their gap shrinks with d (theory ``∝ d^(−1/2)``)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

from ..errors import OverlapdynError
from ..ode.trajectory import Trajectory
from ..sgd.validation import summary_curves
from .axes import axes_grid, log_scales, new_axes
from .trajectories import TIME_LABEL

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..sgd.validation import ValidationReport

__all__ = ["plot_gap_scaling", "plot_validation"]


def _panels(trajectory: Trajectory) -> list[tuple[str, np.ndarray]]:
    """The panels of :func:`plot_validation`: (y label, curve (T,)) for each summary curve
    of :func:`~overlapdyn.sgd.validation.summary_curves`, one per latent r for the alignment."""
    curves = summary_curves(trajectory)
    panels = [("population risk $R$", curves["risk"])]
    panels += [(f"$\\max_j |M_{{j{r + 1}}}|$", column)
               for r, column in enumerate(curves["alignment"].T)]
    panels.append(("mean$_j$ $Q_{jj}$", curves["self_overlap"]))
    if "readout" in curves:
        panels.append(("mean$_j$ $a_j$", curves["readout"]))
    return panels


def plot_validation(report: ValidationReport, d: int | None = None) -> Figure:
    """The ODE against the simulations at one dimension d (default: the largest).

    One panel per curve: the risk R(t), ``max_j |M_jr|(t)`` for each latent r, the mean of
    ``Q_jj(t)`` and, with a trained readout, the mean of ``a_j(t)``: ``1 + k + 1 (+1)`` axes.
    Each shows the simulations' seed mean (solid) and 10–90 % percentile band (shaded) and the
    ODE started at each seed's measured overlaps, averaged over seeds (dashed), against
    ``t = steps/d`` on a log axis (t = 0 left out); the risk on a log axis too (when its band is
    positive). Runs that stopped early are cut to the shortest one.
    """
    d = max(report.ds) if d is None else int(d)
    if d not in report.ds:
        raise OverlapdynError(f"the report has no runs at d = {d}; it has d ∈ {report.ds}")
    i = report.ds.index(d)
    sims, odes = report.simulations[i].trajectories, report.odes[i]
    length = min(len(tr.t) for tr in (*sims, *odes))
    t = sims[0].t[:length]
    sim_panels = [_panels(tr) for tr in sims]
    ode_panels = [_panels(tr) for tr in odes]
    labels = [label for label, _ in sim_panels[0]]
    fig, axes = axes_grid(len(labels))
    for index, (ax, label) in enumerate(zip(axes, labels, strict=True)):
        sim = np.array([panels[index][1][:length] for panels in sim_panels])     # (seeds, T)
        ode = np.mean([panels[index][1][:length] for panels in ode_panels], axis=0)
        low, high = np.percentile(sim, [10, 90], axis=0)
        ax.fill_between(t, low, high, alpha=0.3, color="C0", lw=0,
                        label=f"simulation 10–90 % ({len(sims)} seeds)")
        ax.plot(t, sim.mean(axis=0), color="C0", label="simulation mean")
        ax.plot(t, ode, "--", color="C3", label="ODE")
        # the risk spans decades once learned: log-y, where the band is positive
        log_scales(ax, bool(np.any(t > 0)), logy=index == 0 and bool(np.all(low > 0)))
        ax.set_xlabel(TIME_LABEL)
        ax.set_ylabel(label)
    axes[0].legend(fontsize="small")
    fig.suptitle(f"{sims[0].model.name}: ODE vs SGD at d = {d}")
    return fig


def plot_gap_scaling(report: ValidationReport) -> Figure:
    """Gap between simulation and ODE against d, log-log, one panel per quantity.

    Dots: each seed's sup-norm gap; circles: their mean, with the fitted power law
    ``∝ d^exponent`` (solid, :meth:`~overlapdyn.sgd.ValidationReport.fitted_gap`; the
    report's exponent in the title); squares: the gap of the seed means; dotted grey: the
    theory ``∝ d^(−1/2)`` through the first mean. Quantities conserved exactly
    (``report.exact``) have no panel; a report with no exponent at all (every run failed
    at once) gets one empty panel stating its verdict and why.
    """
    from matplotlib.ticker import NullLocator

    ds = np.array(report.ds, dtype=float)
    if not report.exponents:        # nothing fitted (every run failed at once, or all exact)
        fig, ax = new_axes()
        ax.set_axis_off()
        ax.text(0.5, 0.5, textwrap.fill(f"no gap exponent to plot: verdict "
                                        f"{report.verdict.value}, {report.reason}", 60),
                ha="center", va="center", transform=ax.transAxes, fontsize="small")
        return fig
    fig, axes = axes_grid(len(report.exponents))
    for ax, (q, exponent) in zip(axes, report.exponents.items(), strict=True):
        gaps = report.gaps[q]                                      # (len(ds), seeds)
        mean = gaps.mean(axis=1)
        ax.plot(np.repeat(ds, gaps.shape[1]), gaps.ravel(), ".", color="C0", alpha=0.4,
                label="per seed")
        ax.plot(ds, mean, "o", color="C0", label="seed average")
        ax.plot(ds, report.fitted_gap(q), "-", color="C0", label="fit")
        ax.plot(ds, report.mean_gaps[q], "s", mfc="none", color="C1", label="gap of means")
        ax.plot(ds, mean[0] * (ds / ds[0]) ** -0.5, ":", color="0.4", label="$d^{-1/2}$")
        log_scales(ax, True, True)
        ax.set_xticks(ds, [str(int(d)) for d in ds], minor=False)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("dimension $d$")
        ax.set_ylabel(f"sup-norm gap of {q}")
        ax.set_title(f"{q}: slope {exponent:.2f} (theory −0.5)")
    axes[0].legend(fontsize="small")
    return fig
