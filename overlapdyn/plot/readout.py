"""The giant-step readout's learning curve: the test error of the ridge readout against
α = n/d — the d → ∞ theory (a line), finite-d simulations (points with standard-error bars,
one colour per d) and the random-features baseline (η̃ = 0); and the spectrum of the
learned features' covariance after the step (bulk histogram, predicted and measured
outliers, the random features for comparison); and the staircase of several steps (the
overlaps per step, theory and simulation, and the test error after each step)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .axes import axes_grid, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..readout import (
        BulkDensity,
        FeatureSpectrum,
        ReadoutRisk,
        ReadoutSimulation,
        StaircaseOverlaps,
        StaircaseSimulation,
    )

__all__ = ["plot_feature_spectrum", "plot_readout_curve", "plot_staircase"]


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


def plot_feature_spectrum(spectrum: FeatureSpectrum, bins: int = 60,
                          ax: Axes | None = None, bulk: BulkDensity | None = None,
                          baseline_bulk: BulkDensity | None = None) -> Figure:
    """The eigenvalues of ``σ(WX)σ(WX)ᵀ/n`` after the step, every seed pooled, on log
    axes: the histogram (density) of the step's spectrum and of the random features
    (η̃ = 0, outline) on the same W⁰ and X, the measured outliers (ticks), the predicted
    outlier (line) with its finite-n spread (band), the outlier threshold and, when given,
    the predicted bulk densities (:func:`~overlapdyn.readout.bulk_density`: solid after the
    step, dashed for the random features)."""
    fig, ax = new_axes(ax)
    values = np.concatenate([spectrum.eigenvalues.ravel(), spectrum.baseline.ravel()])
    low = max(float(values[values > 0].min()) if np.any(values > 0) else 1e-6, 1e-6)
    edges = np.geomspace(low, float(values.max()) * 1.05, bins + 1)
    threshold = spectrum.edge_factor * spectrum.bulk_edge.mean()
    ax.hist(np.clip(spectrum.eigenvalues.ravel(), low, None), edges, density=True, alpha=0.6,
            color="C0", label=f"after the step (η̃ = {spectrum.step.eta_tilde:g}, "
            f"α₀ = {spectrum.step.alpha0:g})")
    ax.hist(np.clip(spectrum.baseline.ravel(), low, None), edges, density=True,
            histtype="step", color="C7", label="random features (η̃ = 0)")
    for density, style, name in ((bulk, "-", "after the step"),
                                 (baseline_bulk, "--", "random features")):
        if density is not None:
            shown = density.density > 1e-4 * density.density.max()
            ax.plot(density.x[shown], density.density[shown], style, color="k", lw=1,
                    label=f"predicted bulk, {name}")
    outliers = spectrum.eigenvalues[spectrum.eigenvalues > threshold]
    ax.plot(outliers, np.zeros_like(outliers), "|", ms=14, mew=2, color="C3",
            label=f"measured outliers ({outliers.size} in {len(spectrum.seeds)} seeds)")
    prediction = spectrum.prediction
    if np.isfinite(prediction.location):
        ax.axvline(prediction.location, color="C1", label=f"predicted outlier "
                   f"{prediction.location:.3g}")
        if prediction.spread > 0:
            ax.axvspan(prediction.location - prediction.spread,
                       prediction.location + prediction.spread, color="C1", alpha=0.2)
    ax.axvline(threshold, ls=":", color="k", lw=1, label="outlier threshold")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("eigenvalue of $\\sigma(WX)\\sigma(WX)^T/n$")
    ax.set_ylabel("density")
    ax.set_title(f"{spectrum.step.target.written}, σ = {spectrum.step.activation}, "
                 f"d = {spectrum.d}, p = {spectrum.p}, n = {spectrum.n}", fontsize="medium")
    ax.legend(fontsize="small")
    return fig


def plot_staircase(theory: StaircaseOverlaps,
                   simulations: Sequence[StaircaseSimulation] = ()) -> Figure:
    """Several giant steps in two panels. Left: each sign group's overlap ``M_gr`` with each
    direction against the step, the d → ∞ theory (lines; one colour per direction, solid
    for a = +1, dashed for a = −1) and the simulations (points with standard-error bars, one
    marker per d). Right: the test error of the refitted readout against α after each step
    (one colour per step), from the simulation of the largest d."""
    fig, (left, right) = axes_grid(2, width=4.4, height=3.4)
    steps = np.arange(theory.M.shape[0])
    names = theory.steps.target.latent_names
    markers = "osD^v"
    for g, sign in enumerate(theory.steps.signs):
        style = "-" if sign > 0 else "--"
        for r, name in enumerate(names):
            left.plot(steps, theory.M[:, g, r], style, color=f"C{r}",
                      label=f"$M_{{{name}}}$, a = {sign:+.0f}")
            for index, simulation in enumerate(simulations):
                left.errorbar(steps, simulation.M.mean(axis=0)[:, g, r],
                              simulation.standard_error("M")[:, g, r], fmt=markers[index % 5],
                              ms=4, capsize=2, color=f"C{r}", mfc="none" if sign < 0 else None,
                              label=f"simulation d = {simulation.d}" if g == r == 0 else None)
    left.axhline(0.0, color="0.7", lw=0.8)
    left.set_xticks(steps)
    left.set_xlabel("giant step t")
    left.set_ylabel("overlap $M^t_{gr}$ (one neuron, SPEC units)")
    left.set_title(f"{theory.steps.target.written}, σ = {theory.steps.activation}",
                   fontsize="medium")
    left.legend(fontsize="x-small")
    if simulations:
        simulation = max(simulations, key=lambda s: s.d)
        mean, error = simulation.test_error.mean(axis=0), simulation.standard_error("test_error")
        for t in range(mean.shape[0]):
            right.errorbar(simulation.alpha, mean[t], error[t], fmt="o-", ms=4, capsize=2,
                           color=f"C{t}", label=f"after step {t}" if t else "random features")
        right.set_xlabel("α = n/d (ridge samples)")
        right.set_ylabel("test error $E[(y - \\hat y)^2]$")
        right.set_title(f"d = {simulation.d}, p = {simulation.p}, λ = {simulation.ridge:g}",
                        fontsize="medium")
        right.legend(fontsize="x-small")
    else:
        right.set_axis_off()
    return fig
