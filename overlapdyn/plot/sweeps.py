"""Figures of a sweep's labelled results (:func:`overlapdyn.io.netcdf.aggregate`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import OverlapdynError
from .axes import log_scales, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_sweep"]


def plot_sweep(data, x: str, *, hue: str | None = None, ax: Axes | None = None,
               logx: bool = False, logy: bool = False, band: bool = True) -> Figure:
    """One value of a sweep (:func:`overlapdyn.io.netcdf.aggregate`) against one axis.

    ``data`` is a labelled array — a variable of the dataset, or a selection of one, e.g.
    ``ds.event_time`` (escape time vs d, one line per η: ``x="d", hue="eta"``) or
    ``ds.risk.sel(t=100, method="nearest")`` (risk at fixed t vs ``n_b``). Every dimension
    other than ``x`` and ``hue`` (seeds, typically) is averaged over, NaN (failed or missing
    tasks) left out; with ``band`` the shaded area is ± one standard deviation over them.

    Args:
        data: an :class:`xarray.DataArray`.
        x: the dimension on the horizontal axis.
        hue: a dimension drawn as one line per value (None: a single line).
        ax: axes to draw into (default: a new figure).
        logx, logy: logarithmic axes.
        band: shade ± one standard deviation over the averaged dimensions.

    Raises:
        OverlapdynError: ``x`` or ``hue`` is not a dimension of ``data``.
    """
    for dim in (x, hue):
        if dim is not None and dim not in data.dims:
            raise OverlapdynError(f"{dim!r} is not a dimension of {data.name!r}; its "
                                  f"dimensions are {list(data.dims)}")
    others = [dim for dim in data.dims if dim not in (x, hue)]
    mean = data.mean(others, skipna=True) if others else data
    spread = data.std(others, skipna=True) if others else None
    fig, ax = new_axes(ax)
    xs = np.asarray(data[x].values) if x in data.coords else np.arange(data.sizes[x])
    lines = [None] if hue is None else list(range(data.sizes[hue]))
    for index in lines:
        pick = {} if index is None else {hue: index}
        y = np.asarray(mean.isel(pick).transpose(x).values, dtype=float)
        label = None if index is None else f"{hue} = {data[hue].values[index]}"
        (line,) = ax.plot(xs, y, "o-", label=label)
        if band and spread is not None:
            s = np.asarray(spread.isel(pick).transpose(x).values, dtype=float)
            ax.fill_between(xs, y - s, y + s, color=line.get_color(), alpha=0.2, lw=0)
    log_scales(ax, logx, logy)
    ax.set_xlabel(x)
    ax.set_ylabel(str(data.name))
    if others:
        ax.set_title(f"mean over {', '.join(others)}", fontsize="small")
    if hue is not None:
        ax.legend(fontsize="small")
    return fig
