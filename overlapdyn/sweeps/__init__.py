"""Parameter sweeps: a base config and axes expanded to tasks, run on Dask into a
resumable store.
"""

from .runner import (
    SweepSummary,
    pending,
    run_sweep,
)
from .sweep import (
    Axis,
    Sweep,
    sweep_from_dict,
)
from .tasks import (
    KINDS,
    KindRegistry,
    Task,
    TaskKind,
    execute,
    record,
    register_kind,
    task_kind,
    warm_up,
)

__all__ = [
    "KINDS",
    "KindRegistry",
    "Axis",
    "execute",
    "pending",
    "record",
    "register_kind",
    "run_sweep",
    "Sweep",
    "sweep_from_dict",
    "SweepSummary",
    "Task",
    "task_kind",
    "TaskKind",
    "warm_up",
]
