"""What every figure shares: new figures, axes and grids of panels, log scales, PNG files.

Figures are :class:`matplotlib.figure.Figure` objects made without pyplot, so nothing is
registered with pyplot's global state and nothing leaks between calls, threads or tests.
Matplotlib is imported when the first figure is made, not with :mod:`overlapdyn.plot`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OverlapdynError
from ..storage.files import atomic_write

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["axes_grid", "log_scales", "new_axes", "new_figure", "save_figure"]


def new_figure(figsize: tuple[float, float] = (5.0, 3.6)) -> Figure:
    """An empty figure of ``figsize`` inches with a constrained layout, which Jupyter shows
    as a PNG when it is a cell's value (a figure made without pyplot has no display of its
    own: Jupyter would print ``<Figure size 500x360 with 1 Axes>``)."""
    from .figure import ShownFigure

    return ShownFigure(figsize=figsize, layout="constrained")


def new_axes(ax: Axes | None = None, figsize: tuple[float, float] = (5.0, 3.6)
             ) -> tuple[Figure, Axes]:
    """``(figure, axes)``: ``ax`` and its figure when given, else a new figure of one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def axes_grid(n: int, width: float = 3.6, height: float = 2.9) -> tuple[Figure, list[Axes]]:
    """A new figure of ``n`` panels, each ``width × height`` inches: 2 columns for 4 panels,
    else up to 3 columns, row by row; returns the figure and its ``n`` axes (n ≥ 1)."""
    if n < 1:
        raise OverlapdynError(f"a grid of panels needs at least one panel, got {n}")
    cols = 2 if n == 4 else min(n, 3)
    rows = -(-n // cols)
    fig = new_figure((width * cols, height * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig, list(axes[:n])


def log_scales(ax: Axes, logx: bool, logy: bool = False) -> None:
    """Logarithmic x and/or y axis; non-positive points are left out."""
    # "mask" drops t = 0 (the initial condition) instead of clipping it to a huge negative log.
    if logx:
        ax.set_xscale("log", nonpositive="mask")
    if logy:
        ax.set_yscale("log", nonpositive="mask")


def save_figure(fig: Figure, path: str | os.PathLike) -> None:
    """Write ``fig`` to ``path`` as a PNG at 120 dpi, atomically
    (:func:`~overlapdyn.storage.files.atomic_write`: a temporary file in the same folder,
    renamed over ``path``), so an interrupted or failed write never leaves a partial PNG.
    The folder is made if it does not exist."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda handle: fig.savefig(handle, dpi=120, format="png"))
