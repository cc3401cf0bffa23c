"""The figure class of every overlapdyn plot: a matplotlib figure that Jupyter shows.

A :class:`matplotlib.figure.Figure` made without pyplot has no display of its own: left as a
cell's value it prints as ``<Figure size 500x360 with 1 Axes>``. ``ShownFigure`` adds
the PNG representation IPython looks for. It lives in a module of its own, imported by
:func:`overlapdyn.plot.axes.new_figure` when the first figure is made, so that importing
:mod:`overlapdyn.plot` does not import matplotlib (and the class is not re-exported there).
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__: list[str] = []


class ShownFigure(Figure):
    """A :class:`matplotlib.figure.Figure` that IPython displays as a PNG (100 dpi)."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
