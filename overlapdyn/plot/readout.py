"""The giant-step readout's learning curve: the test error of the ridge readout against
α = n/d — the d → ∞ theory (a line), finite-d simulations (points with standard-error bars,
one colour per d) and the random-features baseline (η̃ = 0)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .axes import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..readout import ReadoutRisk, ReadoutSimulation

__all__ = ["plot_readout_curve"]


def plot_readout_curve(theory: ReadoutRisk, simulations: Sequence[ReadoutSimulation] = (),
                       baseline: ReadoutRisk | None = None,
                       baseline_simulations: Sequence[ReadoutSimulation] = (),
                       ax: Axes | None = None) -> Figure:
    """Test error ``E[(y − ŷ)²]`` against α: theory line, simulation points (seed mean ±
    standard error), and the random-features baseline (dashed, hollow markers)."""
    fig, ax = new_axes(ax)
    step = theory.step
    ax.plot(theory.alpha, theory.test_error, color="C0",
            label=f"theory, one step (η̃ = {step.eta_tilde:g}, α₀ = {step.alpha0:g})")
    if baseline is not None:
        ax.plot(baseline.alpha, baseline.test_error, "--", color="C7",
                label="theory, random features (η̃ = 0)")
    for index, simulation in enumerate(simulations):
        ax.errorbar(simulation.alpha, simulation.mean, simulation.standard_error, fmt="o",
                    ms=4, capsize=2, color=f"C{index + 1}",
                    label=f"simulation d = p = {simulation.d} ({len(simulation.seeds)} seeds)"
                    if simulation.p == simulation.d else
                    f"simulation d = {simulation.d}, p = {simulation.p}")
    for index, simulation in enumerate(baseline_simulations):
        ax.errorbar(simulation.alpha, simulation.mean, simulation.standard_error, fmt="o",
                    ms=4, capsize=2, mfc="none", color=f"C{index + 1}")
    ax.set_xlabel("α = n/d (ridge samples)")
    ax.set_ylabel("test error $E[(y - \\hat y)^2]$")
    ax.set_yscale("log")
    ax.set_title(f"{step.target.written}, σ = {step.activation}, λ = {theory.ridge:g}",
                 fontsize="medium")
    ax.legend(fontsize="small")
    return fig
