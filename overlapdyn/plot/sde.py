"""Figures of the overlap SDE: paths with quantile bands, escape-time ECDFs of several routes.

They read :class:`~overlapdyn.ode.sde.SDEPaths` and
:class:`~overlapdyn.scaling.escape.EscapeTimes` and compute nothing but quantiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import OverlapdynError
from .axes import new_axes
from .trajectories import TIME_LABEL

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..ode.sde import SDEPaths
    from ..scaling.escape import EscapeTimes

__all__ = ["plot_escape_ecdf", "plot_sde_bands"]


def plot_sde_bands(paths: SDEPaths, quantity: str = "cosine", *, entry: tuple[int, ...] = (),
                   n_paths: int = 5, ax: Axes | None = None) -> Figure:
    """The mean over paths of ``quantity`` (``"cosine"``, ``"M"``, ``"Q"``, ``"a"``; for M,
    Q, a the ``entry`` (j, r) / (j, l) / (j,), default the first) against t, with the
    10–90 % and 25–75 % bands over the paths still running and ``n_paths`` single paths.
    """
    values = paths.quantity(quantity)
    if quantity != "cosine":
        values = values[(slice(None), slice(None), *(entry or (0,) * (values.ndim - 2)))]
    fig, ax = new_axes(ax)
    t = paths.t
    for low, high, alpha in ((0.1, 0.9, 0.15), (0.25, 0.75, 0.3)):
        ax.fill_between(t, np.nanquantile(values, low, axis=0),
                        np.nanquantile(values, high, axis=0), color="C0", alpha=alpha,
                        lw=0, label=f"{low:.0%}–{high:.0%} of paths")
    for path in values[:n_paths]:
        ax.plot(t, path, color="C0", lw=0.6, alpha=0.6)
    ax.plot(t, np.nanmean(values, axis=0), color="C3", lw=1.5, label="mean")
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel(quantity + (str(tuple(i + 1 for i in entry)) if entry else ""))
    ax.set_title(f"SDE, d = {paths.d}, {paths.paths} paths", fontsize="small")
    ax.legend(fontsize="small")
    return fig


def plot_escape_ecdf(escapes: EscapeTimes | Sequence[EscapeTimes], *,
                     ax: Axes | None = None) -> Figure:
    """The empirical distribution function of the escape times ``t`` of each measurement
    (e.g. the ``sde`` and ``simulation`` routes) at each of its d, log time axis; runs that
    did not escape keep the curve below 1."""
    escapes = [escapes] if not isinstance(escapes, Sequence) else list(escapes)
    if not escapes:
        raise OverlapdynError("plot_escape_ecdf needs at least one EscapeTimes")
    fig, ax = new_axes(ax)
    styles = ("-", "--", ":", "-.")
    for index, escape in enumerate(escapes):
        for i, d in enumerate(escape.ds):
            row = escape.times[i]
            finite = np.sort(row[np.isfinite(row)])
            if finite.size == 0:
                continue
            fraction = np.arange(1, finite.size + 1) / row.size
            ax.step(finite, fraction, where="post", color=f"C{i % 10}",
                    ls=styles[index % len(styles)], label=f"{escape.route}, d = {d}")
    ax.set_xscale("log")
    ax.set_xlabel(f"escape time {TIME_LABEL}")
    ax.set_ylabel("fraction escaped")
    ax.legend(fontsize="small")
    return fig
