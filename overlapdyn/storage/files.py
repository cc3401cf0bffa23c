"""Atomic file writes, shared by the result files, the validation store and the code cache."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import DiskFullError

__all__ = ["atomic_write", "atomic_write_text", "remove_stale_temporaries"]

#: A temporary older than this (in seconds) is stale whoever wrote it: a write of a record
#: takes milliseconds, so only a writer killed mid-write (on another machine sharing the
#: folder, whose processes cannot be asked) leaves one this old.
STALE_AFTER_S = 3600.0

_TEMPORARY = re.compile(r"^\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{12}\.tmp$")


def _host_tag() -> str:
    """8 hex digits naming this machine in temporary names (any hostname, fixed length)."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through ``write(handle)`` so that readers never see a partial file.

    The bytes go to a temporary file in the same folder, ``.NAME.HOST-PID-RANDOM.tmp``, are
    fsynced, then renamed over ``path`` (atomic on POSIX); on any failure, an interrupt
    included, the temporary is removed and ``path`` is left as it was. A writer killed
    outright leaves its temporary behind; the host and process in its name let
    :func:`remove_stale_temporaries` tell it from a write in progress. A full disk or quota
    raises :class:`~overlapdyn.errors.DiskFullError`. Not ``tempfile.mkstemp``: its 0600
    mode would survive the rename, while this honours the umask.
    """
    path = Path(path)
    temporary = path.parent / (f".{path.name}.{_host_tag()}-{os.getpid()}-"
                               f"{secrets.token_hex(6)}.tmp")
    # the file is created inside the try: an interrupt that lands just after os.open
    # returns still removes it
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
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


def remove_stale_temporaries(folder: Path) -> int:
    """Remove the temporaries that writers killed mid-write left in ``folder``.

    A temporary of :func:`atomic_write` is stale when the process named in it is gone from
    this machine, or, written on another machine, when it is older than
    ``STALE_AFTER_S`` (an hour). Writes in progress are left alone. Returns the number removed.
    """
    host, removed = _host_tag(), 0
    now = time.time()
    for entry in os.scandir(folder):
        match = _TEMPORARY.match(entry.name)
        if match is None:
            continue
        try:
            stale = (not _running(int(match["pid"])) if match["host"] == host
                     else now - entry.stat().st_mtime > STALE_AFTER_S)
            if stale:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:   # renamed or removed meanwhile
            continue
    return removed


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (signal 0 checks, sends nothing)."""
    if os.name == "nt":     # there os.kill would terminate it: count it as running
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:     # another user's process
        return True
    return True
