"""Atomic file writes, shared by the result files, the validation store and the code cache."""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import DiskFullError

__all__ = ["atomic_write", "atomic_write_text"]



def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through ``write(handle)`` so that readers never see a partial file.

    The bytes go to a temporary file in the same folder, are fsynced, then renamed over
    ``path`` (atomic on POSIX); on any failure the temporary is removed and ``path`` is left
    as it was. A full disk or quota raises :class:`~overlapdyn.errors.DiskFullError`. Not
    ``tempfile.mkstemp``: its 0600 mode would survive the rename, while this honours the
    umask.
    """
    path = Path(path)
    temporary = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(f"cannot write {path}: no space left on the device (or over "
                                f"the quota); it was left as it was — free some space and "
                                f"run again") from error
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write` of UTF-8 text."""
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))
