"""The phase diagram of SGD in wide two-layer networks (Veiga et al. 2022,
arXiv:2202.00293): the measured phases on the (δ, κ) grid with the paper's boundaries."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..scaling.phases import PHASES
from .axes import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..scaling.phases import PhaseDiagram

__all__ = ["PHASE_COLORS", "plot_phase_diagram"]

#: the colour of each phase, as in the paper (perfect learning green, plateau blue,
#: noise-dominated orange, no ODEs red)
PHASE_COLORS = {"perfect": "#96d096", "plateau": "#1f77b4", "noise": "#fdb06b",
                "no-ode": "#e57c7c"}


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around grid centres (half-way between neighbours), shape (n + 1,)."""
    if len(centres) == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middle = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - middle[0]], middle,
                           [2 * centres[-1] - middle[-1]]])


def plot_phase_diagram(diagram: PhaseDiagram, *, ax: Axes | None = None) -> Figure:
    """Measured phases as coloured cells (x: δ, y: κ, as the paper's Fig. 1; ``γ ∝ d^-δ``,
    ``p ∝ d^κ``), the paper's boundaries as dashed lines (plateau ``δ = −κ``, navy; no ODEs
    ``δ = −(κ + 1)/2`` for κ ≤ 1, dark red), and a black × on every point whose measured phase is
    not the paper's.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    fig, ax = new_axes(ax, figsize=(7.0, 4.2))
    kappas, deltas = np.asarray(diagram.kappas), np.asarray(diagram.deltas)
    colours = ListedColormap([PHASE_COLORS[name] for name in PHASES])
    ax.pcolormesh(_edges(deltas), _edges(kappas), diagram.phase, cmap=colours, vmin=-0.5,
                  vmax=len(PHASES) - 0.5, edgecolors="white", linewidth=0.5)
    top = max(kappas.max(), 1.0) + 0.5
    line = np.linspace(0.0, top, 50)
    ax.plot(-line, line, color="navy", lw=2, ls="--", label=r"paper: $\kappa+\delta=0$")
    inside = np.linspace(0.0, 1.0, 20)
    ax.plot(-(inside + 1) / 2, inside, color="darkred", lw=2, ls="--",
            label=r"paper: $-\delta=(\kappa+1)/2$")
    wrong = diagram.integrated & (diagram.phase != diagram.predicted)
    i, j = np.nonzero(wrong)
    if len(i):
        ax.plot(deltas[j], kappas[i], "kx", ms=7, label="differs from the paper")
    ax.set_xlim(_edges(deltas)[[0, -1]])
    ax.set_ylim(_edges(kappas)[[0, -1]])
    ax.set_xlabel(r"learning-rate exponent $\delta$  ($\gamma = \gamma_0 d^{-\delta}$)")
    ax.set_ylabel(r"width exponent $\kappa$  ($p = p_0 d^{\kappa}$)")
    handles = [Patch(color=PHASE_COLORS[name], label=label) for name, label in (
        ("perfect", "perfect learning"), ("plateau", "plateau"),
        ("noise", "noise-dominated"), ("no-ode", "no ODEs (not integrated)"))]
    ax.legend(handles=handles + ax.get_legend_handles_labels()[0], fontsize=7,
              loc="upper left", bbox_to_anchor=(1.02, 1.0))
    dims = ", ".join(f"{d:g}" for d in diagram.setup.dims)
    ax.set_title(f"measured at d = {dims}: {100 * diagram.agreement:.0f} % agree", fontsize=9)
    return fig
