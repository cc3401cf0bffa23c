"""Figures of the spectral estimators at finite d (:mod:`overlapdyn.limits.spectral`): the
subspace overlap against α with the threshold α_c (and, where given, the Bayes-optimal
curve), and the spectrum of the asymmetric matrix L in the complex plane with its predicted
bulk circle and outliers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .axes import axes_grid, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..limits.bayes import BayesOptimalCurve
    from ..limits.spectral import AsymmetricSpectrum, SpectralOverlaps

__all__ = ["plot_asymmetric_spectrum", "plot_spectral_overlaps"]


def plot_spectral_overlaps(result: SpectralOverlaps, *,
                           bayes: BayesOptimalCurve | None = None) -> Figure:
    """Two panels: the subspace overlap of the symmetric and the asymmetric estimator
    against α (mean ± one standard deviation over seeds, one line per d) with the line
    α = α_c and, when ``bayes`` is given, the Bayes-optimal overlap √q(α) of the same
    channel (the state evolution's q is a squared overlap); and the largest real part
    among L's eigenvalues against α with its prediction max(α/α_c, √(α/α_c))."""
    fig, axes = axes_grid(3, width=3.6, height=3.0)
    for ax, method, title in ((axes[0], "symmetric", "symmetric D = Σ T(y) ⊗ x xᵀ / n"),
                              (axes[1], "asymmetric", "asymmetric L (nk × nk)")):
        mean, std = result.mean(method), result.std(method)
        for i, d in enumerate(result.ds):
            line, = ax.plot(result.alphas, mean[i], "o-", ms=3, label=f"d = {int(d)}")
            ax.fill_between(result.alphas, mean[i] - std[i], mean[i] + std[i],
                            color=line.get_color(), alpha=0.2, lw=0)
        if bayes is not None:
            ax.plot(bayes.alphas, np.sqrt(bayes.uninformed), "k-", lw=1,
                    label="Bayes-optimal √q (SE)")
        ax.axvline(result.alpha_c, color="0.4", ls="--", label=f"α_c = {result.alpha_c:.4g}")
        ax.set(xlabel="α = n/d", ylabel="subspace overlap", title=title, ylim=(0, 1.02))
        ax.legend(fontsize="small")
    ax = axes[2]
    top = result.mean("outlier")
    for i, d in enumerate(result.ds):
        ax.plot(result.alphas, top[i], "o", ms=3, label=f"d = {int(d)}")
    grid = np.linspace(result.alphas.min(), result.alphas.max(), 200)
    ratio = grid / result.alpha_c
    ax.plot(grid, np.maximum(ratio, np.sqrt(ratio)), "k-", lw=1,
            label="max(α/α_c, √(α/α_c))")
    ax.axvline(result.alpha_c, color="0.4", ls="--")
    ax.set(xlabel="α = n/d", ylabel="largest Re λ(L)", title=f"y = {result.link}")
    ax.legend(fontsize="small")
    return fig


def plot_asymmetric_spectrum(spectrum: AsymmetricSpectrum, *, ax: Axes | None = None) -> Figure:
    """The computed eigenvalues of L in the complex plane (those of largest modulus), the
    predicted bulk circle of radius √(α/α_c) and the predicted outliers α μ_i."""
    fig, ax = new_axes(ax, figsize=(4.4, 4.0))
    values = spectrum.eigenvalues
    ax.plot(values.real, values.imag, ".", ms=4, color="C0",
            label=f"{values.size} eigenvalues of largest |λ|")
    angle = np.linspace(0, 2 * np.pi, 400)
    ax.plot(spectrum.radius * np.cos(angle), spectrum.radius * np.sin(angle), "k--", lw=1,
            label=f"√(α/α_c) = {spectrum.radius:.3g}")
    outliers = spectrum.predicted_outliers
    if outliers.size:
        ax.plot(outliers, np.zeros_like(outliers), "x", color="C3", ms=9, mew=2,
                label="predicted outliers α μ_i")
    ax.set_aspect("equal")
    ax.set(xlabel="Re λ", ylabel="Im λ",
           title=f"L for y = {spectrum.link}: d = {spectrum.d}, α = {spectrum.alpha:.3g}")
    ax.legend(fontsize="small", loc="upper left")
    return fig
