"""Task kinds that break their Dask worker, for the sweep tests.

A module of its own, so that a fresh worker process unpickling one of these functions
imports only this and overlapdyn.sweeps.tasks, not the test module's plotting and xarray.
"""

import os
from pathlib import Path

from overlapdyn.sweeps.tasks import TaskKind

#: the environment variable naming the file whose existence makes the tasks crash
CRASH_MARKER = "OVERLAPDYN_TEST_CRASH_MARKER"


def crashes_while_marked(task):
    """Kill the own worker process while the file named by ``$OVERLAPDYN_TEST_CRASH_MARKER``
    exists (a worker that runs out of memory or is killed, again and again); return at once
    otherwise. The file is outside the task spec, so the tasks keep their keys."""
    if Path(os.environ[CRASH_MARKER]).exists():
        os._exit(1)
    return {"seed_value": float(task.run.seed)}


CRASHES = TaskKind("crashes", crashes_while_marked, plot="seed_value")
