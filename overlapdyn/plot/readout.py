"""The giant-step readout's learning curve: the test error of the ridge readout against
α = n/d — the d → ∞ theory (a line), finite-d simulations (points with standard-error bars,
one colour per d) and the random-features baseline (η̃ = 0); and the spectrum of the
learned features' covariance after the step (bulk histogram, predicted and measured
outliers, the random features for comparison)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .axes import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..readout import FeatureSpectrum, ReadoutRisk, ReadoutSimulation

__all__ = ["plot_feature_spectrum", "plot_readout_curve"]


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
                          ax: Axes | None = None) -> Figure:
    """The eigenvalues of ``σ(WX)σ(WX)ᵀ/n`` after the step, every seed pooled, on a log
    axis: the histogram (density per log-bin) of the step's spectrum and of the random
    features (η̃ = 0, outline) on the same W⁰ and X, the measured outliers (ticks), the
    predicted outlier (line) with its finite-n spread (band) and the outlier threshold."""
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
