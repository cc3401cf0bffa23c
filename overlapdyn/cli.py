"""Command line: overlapdyn demo|expect|hermite|equations|ode|point|validate|sweep|scaling|
learnability|depth|plot|cache.

Run ``overlapdyn COMMAND --help`` for the options of each command. Each command is a module
of :mod:`overlapdyn.jobs` (``add_arguments(parser)``, ``run(args)``, and an optional
``EPILOG`` shown after the options), listed with its one-line help in
:data:`overlapdyn.jobs.COMMANDS`; this module only assembles the parser and reports errors.
It imports the module of the command that runs and no other, so ``overlapdyn --help`` starts
without SymPy, SciPy or Numba.

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
import importlib
import signal
import sys
import threading
from collections.abc import Iterable
from types import ModuleType

from .errors import OverlapdynError
from .jobs import COMMANDS
from .storage.versions import __version__

__all__ = ["build_parser", "job", "main", "one_line"]

# commands whose finished runs are kept in a store: an interrupted one resumes when rerun
RESUMABLE = ("validate", "sweep")


def job(command: str) -> ModuleType:
    """The module of :mod:`overlapdyn.jobs` behind ``command`` (a key of ``COMMANDS``)."""
    return importlib.import_module(f".jobs.{command}", __package__)


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The ``overlapdyn`` parser: one sub-command per entry of
    :data:`~overlapdyn.jobs.COMMANDS`, its job's function stored as ``args.run``.

    Args:
        commands: the commands whose options are added (their job modules imported); the
            others are listed with their help only. Default: all.
    """
    chosen = set(COMMANDS if commands is None else commands)
    parser = argparse.ArgumentParser(prog="overlapdyn", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error instead of one line")
    parser.add_argument("--version", action="version", version=f"overlapdyn {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, summary in COMMANDS.items():
        command = subparsers.add_parser(name, help=summary, description=summary)
        if name in chosen:
            module = job(name)
            command.epilog = getattr(module, "EPILOG", None)
            module.add_arguments(command)
            command.set_defaults(run=module.run)
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
    argv = sys.argv[1:] if argv is None else list(argv)
    # the command is the first word that is not an option (the top level's take no value)
    args = build_parser([word for word in argv if not word.startswith("-")][:1]).parse_args(argv)
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
