"""The ``overlapdyn plot RESULT`` job: the figures of a saved result, drawn again."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..plot.axes import save_figure
from ..plot.results import FIGURES, load_result, result_figures
from .folders import writable_folder

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn plot``."""
    kinds = ", ".join(kind.__name__ for kind in FIGURES)
    parser.add_argument("result", help=f"a result saved by overlapdyn (.npz): {kinds}")
    parser.add_argument("--out", default=None,
                        help="folder for the figures (default: the result's own)")


def run(args: argparse.Namespace) -> None:
    """``overlapdyn plot``: write each figure of the result as ``<result>-<figure>.png`` and
    print the paths."""
    path = Path(args.result)
    result = load_result(path)
    out = writable_folder(path.parent if args.out is None else args.out)
    for name, figure in result_figures(result).items():
        target = out / f"{path.stem}-{name}.png"
        save_figure(figure, target)
        print(target)
