"""Progress bars: tqdm's, with the display code imported only when a bar is shown.

Every long run takes ``progress`` (a bool) and turns it into a bar here. ``tqdm.auto`` picks
the notebook widget in Jupyter (and warns when ipywidgets is missing), so it is imported only
when the bar is wanted: a run with ``progress=False`` imports no display code and prints
nothing, in a terminal or a notebook.
"""

from __future__ import annotations

__all__ = ["progress_bar"]


def progress_bar(shown: bool, iterable=None, **options):
    """A tqdm bar over ``iterable`` (or, without one, advanced by ``update``).

    Args:
        shown: ``tqdm.auto``'s bar (a widget in Jupyter, text elsewhere), else a disabled
            plain one, which costs nothing.
        iterable: what the bar iterates over, if anything.
        options: tqdm's (``total``, ``desc``, ``unit``, ``delay`` …).
    """
    if shown:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(iterable, disable=not shown, **options)
