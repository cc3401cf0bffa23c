"""Figures of full-batch GD on reused data: the DMFT's overlaps and risks against the step,
with a finite-d simulation beside them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import OverlapdynError
from .axes import axes_grid

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..reuse import DMFTSolution, GDSimulation

__all__ = ["plot_dmft"]


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
