"""Command line: overlapdyn demo|expect|hermite|ode|point|validate|scaling|sweep|depth|cache.

Run ``overlapdyn COMMAND --help`` for the options of each command. Each command is a module
of :mod:`overlapdyn.jobs` (``HELP``, ``add_arguments(parser)``, ``run(args)``, and an optional
``EPILOG`` shown after the options); this module only assembles the parser and reports
errors.

Exit status: 0 done; a command whose result is a verdict returns its own status from
``run`` (``validate``: 0 PASS, 1 FAIL, 3 UNDETERMINED; see
:data:`overlapdyn.jobs.validate.EXIT_STATUS`).

Errors: an :class:`~overlapdyn.errors.OverlapdynError` (a bad input, a failed run, an
unusable output folder, a refused estimate) is one line on stderr and exit status 2; any other
exception (a bug) is one line too, with exit status 1 and a pointer to ``--debug``, which
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import ModuleType

from .errors import OverlapdynError
from .jobs import cache, demo, depth, expect, hermite, ode, point, scaling, sweep, validate
from .storage.versions import __version__

__all__ = ["JOBS", "build_parser", "main", "one_line"]

#: the commands, in the order ``overlapdyn --help`` lists them; each named after its module
JOBS: tuple[ModuleType, ...] = (demo, expect, hermite, ode, point, validate, sweep, scaling,
                                depth, cache)

# commands whose finished runs are kept in a store: an interrupted one resumes when rerun
RESUMABLE = ("validate", "sweep")


def build_parser() -> argparse.ArgumentParser:
    """The ``overlapdyn`` parser: one sub-command per module of :data:`JOBS`, its function
    stored as ``args.run``."""
    parser = argparse.ArgumentParser(prog="overlapdyn", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error instead of one line")
    parser.add_argument("--version", action="version", version=f"overlapdyn {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for job in JOBS:
        name = job.__name__.rsplit(".", 1)[-1]
        command = commands.add_parser(name, help=job.HELP, description=job.HELP,
                                      epilog=getattr(job, "EPILOG", None))
        job.add_arguments(command)
        command.set_defaults(run=job.run)
    return parser


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def one_line(error: BaseException) -> str:
    """The error's message on one line (matrices in it are printed row after row)."""
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``overlapdyn`` command; returns the exit status: 0 done (or the
    status a command's ``run`` returns: ``validate`` gives 1 for FAIL, 3 for UNDETERMINED),
    2 an :class:`~overlapdyn.errors.OverlapdynError` (or bad options), 1 an unexpected
    error, 130 interrupted. With ``--debug`` an error is raised, traceback and all."""
    args = build_parser().parse_args(argv)
    previous = None
    if args.command == "sweep" and threading.current_thread() is threading.main_thread():
        # `kill` (SIGTERM) unwinds like Ctrl-C: the local cluster's workers are shut down
        # and every record already written stays in the store.
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        status = args.run(args)
    except OverlapdynError as error:
        if args.debug:
            raise
        print(f"overlapdyn {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"overlapdyn {args.command}: interrupted" + (
            "; finished runs are kept in the store, rerun the same command to resume"
            if args.command in RESUMABLE else ""), file=sys.stderr)
        return 130
    except Exception as error:  # a bug: one line still, the traceback on demand
        if args.debug:
            raise
        print(f"overlapdyn {args.command}: internal error: {type(error).__name__}: "
              f"{one_line(error)} (rerun with --debug for the traceback, and please report "
              f"it)", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0 if status is None else status


if __name__ == "__main__":
    sys.exit(main())
