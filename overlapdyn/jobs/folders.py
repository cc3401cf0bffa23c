"""Where a job writes: the folder given, or one named after the configuration file; and the
check that it can be written before any work starts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import OutputError

__all__ = ["output_folder", "writable_folder"]


def output_folder(out: str | Path | None, config: str | Path, kind: str = "") -> Path:
    """``out`` when given, else ``outputs/<kind>-<config file stem>`` (``outputs/<stem>``
    without a ``kind``). Creates nothing (see :func:`writable_folder`)."""
    if out is not None:
        return Path(out)
    stem = Path(config).stem
    return Path("outputs") / (f"{kind}-{stem}" if kind else stem)


def writable_folder(folder: str | Path, option: str = "--out") -> Path:
    """``folder``, created if needed, once a file could be written in it.

    Jobs call this after reading their config and before computing, so an unusable folder
    costs nothing.

    Raises:
        OutputError: ``folder`` (or a parent) is a file, or the folder cannot be created or
            written (read-only disk or folder, no permission), naming it and the fix.
    """
    folder = Path(folder)
    taken = next((path for path in (folder, *folder.parents) if path.exists()
                  and not path.is_dir()), None)
    if taken is not None:
        raise OutputError(f"{option} {folder}: {taken} is a file, not a folder; give another "
                          f"{option}, or move the file away")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".overlapdyn-probe-"):
            pass
    except OSError as error:
        why = error.strerror or type(error).__name__
        raise OutputError(f"{option} {folder} cannot be written ({why}); give a folder you "
                          f"can write to, or fix its permissions") from error
    if not os.access(folder, os.W_OK):  # pragma: no cover - the probe above decides first
        raise OutputError(f"{option} {folder} is read-only; give another {option}")
    return folder
