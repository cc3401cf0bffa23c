"""Figures of learning with data reuse: escape samples against d for one-pass SGD and the
reuse protocols side by side, each direction's cosine against ``n/(d log d)`` (the hard case
of a multi-index target), and full-batch GD on reused data — the DMFT's overlaps and risks
against the step, with a finite-d simulation beside them.

The cosine overlap of latent direction r is ``max_j |M_jr|/√(Q_jj P_rr)``
(:func:`overlapdyn.scaling.escape.learned_overlaps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import OverlapdynError
from ..scaling.escape import learned_overlaps
from .axes import axes_grid, log_scales
from .scaling import COSINE_LABEL

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..reuse import DMFTSolution, GDSimulation
    from ..reuse.escape import DirectionLearning
    from ..scaling.escape import EscapeTimes

__all__ = ["plot_direction_learning", "plot_dmft", "plot_reuse_escape"]


def plot_reuse_escape(escapes: Sequence[EscapeTimes]) -> Figure:
    """Two panels: the escape sample count ``n`` against d, log-log, for every measurement
    (one-pass SGD and the reuse protocols: medians, the fitted power law solid, the
    predicted one dashed through the data's centre — ``d^{max(ℓ−1,1)}`` for one pass,
    ``d^{max(k*−1,1)}`` (× log d at 2) with reuse), and the escape curves — the cosine
    against ``n/d`` — of each measurement's largest d (its first run), with the thresholds
    dotted."""
    escapes = list(escapes)
    if not escapes:
        raise OverlapdynError("plot_reuse_escape needs at least one EscapeTimes")
    fig, (left, right) = axes_grid(2, width=5.2, height=4.0)
    for index, escape in enumerate(escapes):
        color = f"C{index % 10}"
        prediction = escape.prediction
        label = f"{prediction.target}, {escape.protocol} ({escape.route})"
        ds = np.asarray(escape.ds, dtype=float)
        median = escape.median_samples
        keep = np.isfinite(median)
        if escape.fittable:
            fit = escape.fit()
            factor = np.log(ds) if fit.log_factor else 1.0
            left.plot(ds, np.exp(fit.intercept) * ds**fit.exponent * factor, "-", color=color,
                      lw=1)
            predicted = prediction.samples(ds)
            centre = np.exp(np.mean(np.log(median[keep]) - np.log(predicted[keep])))
            left.plot(ds, centre * predicted, "--", color=color, lw=1)
            label += (f": slope {fit.exponent:.2f}, predicted {prediction.sample_exponent}"
                      f"{' (n/log d)' if fit.log_factor else ''}, {prediction.symbol} = "
                      f"{prediction.governing}")
        left.plot(ds[keep], median[keep], "o", color=color, label=label)
        if escape.trajectories:
            trajectory = escape.trajectories[-1][0]
            right.plot(trajectory.t * trajectory.model.protocol.n_b,
                       _best_cosine(trajectory, escape.direction), color=color,
                       label=f"{prediction.target}, {escape.protocol}, d = {escape.ds[-1]}")
    for threshold in sorted({escape.threshold for escape in escapes}):
        right.axhline(threshold, color="0.5", lw=0.8, ls=":")
    log_scales(left, True, True)
    left.set_xlabel("dimension $d$")
    left.set_ylabel("samples $n$ to escape")
    left.legend(fontsize="x-small")
    log_scales(right, True, True)
    right.set_xlabel("samples per dimension $n/d$")
    right.set_ylabel(COSINE_LABEL)
    right.legend(fontsize="x-small")
    return fig


def _best_cosine(trajectory, direction: int | None) -> np.ndarray:
    cosines = learned_overlaps(trajectory)
    return cosines.max(axis=1) if direction is None else cosines[:, direction]


def plot_direction_learning(results: DirectionLearning | Sequence[DirectionLearning]
                            ) -> Figure:
    """One panel per latent direction r: its cosine (seed mean ± standard error) against
    ``n/(d log d)``, one line per d and per result (e.g. ``sign(z1 z2 z3)`` beside the
    staircase), with the random level ``d^(−1/2)`` dashed."""
    results = [results] if not isinstance(results, Sequence) else list(results)
    if not results:
        raise OverlapdynError("plot_direction_learning needs at least one DirectionLearning")
    k = max(result.cosines.shape[-1] for result in results)
    fig, axes = axes_grid(k)
    styles = ("-", "--", ":", "-.")
    for number, result in enumerate(results):
        mean, sem = result.mean(), result.sem()
        target = result.spec.model.target.written
        for i, d in enumerate(result.ds):
            color = f"C{i % 10}"
            for r in range(result.cosines.shape[-1]):
                ax = axes[r]
                ax.plot(result.x[1:], mean[i, 1:, r], styles[number % len(styles)],
                        color=color, label=f"{target}, d = {d}")
                if np.isfinite(sem[i]).all():
                    ax.fill_between(result.x[1:], mean[i, 1:, r] - sem[i, 1:, r],
                                    mean[i, 1:, r] + sem[i, 1:, r], color=color, alpha=0.2,
                                    lw=0)
    for r, ax in enumerate(axes):
        for i, d in enumerate(results[0].ds):
            ax.axhline(1 / np.sqrt(d), color=f"C{i % 10}", lw=0.6, ls=":")
        log_scales(ax, True)
        ax.set_xlabel(r"samples $n / (d \log d)$")
        ax.set_title(f"direction z{r + 1}", fontsize="medium")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("cosine $\\max_j |M_{jr}| / \\sqrt{Q_{jj} P_{rr}}$")
    axes[0].legend(fontsize="x-small")
    return fig


def plot_dmft(solution: DMFTSolution, simulation: GDSimulation | None = None) -> Figure:
    """``M^t_jr`` against the step t, one panel per latent direction r (a line per neuron j,
    with the DMFT's Monte Carlo error as a band), and a last panel with the training and
    test risks; ``k + 1`` axes. A simulation, when given, is drawn beside it as points with
    its seed mean ± standard error (up to the steps both have).

    Raises:
        OverlapdynError: the simulation is of another spec.
    """
    if simulation is not None and simulation.spec != solution.spec:
        raise OverlapdynError("the simulation is of another spec than the DMFT solution:\n"
                              f"  {simulation.spec.describe()}\n  {solution.spec.describe()}")
    p, k = solution.spec.p, solution.spec.k
    fig, axes = axes_grid(k + 1)
    steps = np.arange(solution.steps + 1)
    if simulation is not None:
        shown = min(solution.steps, simulation.steps) + 1
        M_sim, M_sem = simulation.mean("M")[:shown], simulation.sem("M")[:shown]
    for r, ax in enumerate(axes[:k]):
        for j in range(p):
            color = f"C{j % 10}"
            ax.plot(steps, solution.M[:, j, r], "-", color=color, label=f"DMFT, neuron {j + 1}")
            ax.fill_between(steps, solution.M[:, j, r] - 2 * solution.M_error[:, j, r],
                            solution.M[:, j, r] + 2 * solution.M_error[:, j, r], color=color,
                            alpha=0.25, lw=0)
            if simulation is not None:
                ax.errorbar(np.arange(shown), M_sim[:, j, r], M_sem[:, j, r], fmt="o", ms=4,
                            capsize=2, color=color, mfc="none",
                            label=f"simulation d = {simulation.d}" if j == 0 else None)
        ax.axhline(0.0, color="0.7", lw=0.6)
        ax.set_xlabel("GD step t")
        ax.set_ylabel(f"$M^t_{{j{r + 1}}}$")
    axes[0].legend(fontsize="small")
    ax = axes[k]
    for name, values, errors, color in (
            ("train", solution.train_risk, solution.train_risk_error, "C0"),
            ("test", solution.test_risk, solution.test_risk_error, "C1")):
        ax.errorbar(steps, values, 2 * errors, fmt="-", color=color, label=f"DMFT, {name}")
        if simulation is not None:
            key = f"{name}_risk"
            ax.errorbar(np.arange(shown), simulation.mean(key)[:shown],
                        simulation.sem(key)[:shown], fmt="o", ms=4, capsize=2, color=color,
                        mfc="none", label=f"simulation, {name}")
    ax.set_xlabel("GD step t")
    ax.set_ylabel("risk $\\frac{1}{2}E[(y - \\hat y)^2]$")
    ax.legend(fontsize="small")
    fig.suptitle(f"full-batch GD, α = {solution.spec.alpha:g}, η = {solution.spec.eta:g} "
                 f"(DMFT: {solution.curvature} curvature)", fontsize="medium")
    return fig
