"""The ``overlapdyn cache info|clear`` job: what the code cache holds, and emptying it."""

from __future__ import annotations

import argparse

from ..compile import cache

__all__ = ["add_arguments", "run"]

EPILOG = ("The folder is $OVERLAPDYN_CACHE_DIR (default ~/.cache/overlapdyn); its size is kept "
          "under $OVERLAPDYN_CACHE_MAX_MB (default 2048) by removing the least recently used "
          "models' code when a new model is built.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn cache``."""
    parser.add_argument("action", choices=["info", "clear"],
                        help="info: the folder, its modules and size; clear: remove them all")


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def run(args: argparse.Namespace) -> None:
    """``overlapdyn cache info``: the folder, its modules, their size and the limit;
    ``overlapdyn cache clear``: remove every generated module and its machine code."""
    report = cache.info()
    if args.action == "clear":
        cache.clear()
        print(f"removed {report.modules} generated modules ({_megabytes(report.disk_bytes)}) "
              f"from {report.folder}")
        return
    print(f"folder : {report.folder}{'' if report.folder.exists() else ' (not created yet)'}")
    print(f"modules: {report.modules}")
    print(f"size   : {_megabytes(report.disk_bytes)} of at most {_megabytes(report.limit_bytes)}"
          " (least recently used models removed beyond; OVERLAPDYN_CACHE_MAX_MB sets it)")
