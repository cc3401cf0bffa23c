"""Folders of finished results that survive crashes: the store behind every resumable run.

Two pieces, shared by the validation (:mod:`overlapdyn.sgd.validation`) and the sweeps
(:mod:`overlapdyn.sweeps.sweep`):

* :func:`open_manifest` — ``FOLDER/manifest.json`` says what a store holds (a format name,
  a version, and whatever else must match: a model fingerprint, a time grid …). A new
  folder gets one; a rerun into an existing folder is refused, naming what differs, when
  the manifest does not match — results of another experiment are never mixed in.
* :class:`ResultStore` — one JSON record per finished task, ``FOLDER/tasks/<key>.json``,
  keyed by a hash of the task's spec. Every file is written atomically
  (:func:`overlapdyn.storage.files.atomic_write`: temporary name, fsync, rename), so a crash leaves
  either the whole record or none of it, and a record's name is its key, so a task can
  never be stored twice. A rerun lists the keys present and runs only the others.

Records are JSON (Python's dialect: ``NaN`` and ``Infinity`` allowed for missing numbers):
human-readable, a few kB each, and fast to read back by the thousand (see
``benchmarks/bench_sweep.py``). Arrays are stored as nested lists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import OverlapdynError
from .files import atomic_write_text, remove_stale_temporaries

__all__ = ["ResultStore", "open_manifest"]


def open_manifest(folder: str | os.PathLike, manifest: dict, *,
                  checked: Sequence[tuple[str, str]] = (), what: str = "results") -> dict:
    """Create ``folder`` with ``manifest.json``, or check an existing manifest against it.

    Args:
        folder: the store folder (created if needed).
        manifest: plain JSON types; must hold ``"format"``, compared on reopen like
            ``"version"``.
        checked: ``(label, key)`` pairs: manifest entries that must be equal on reopen
            (compared after a JSON round trip, so lists of floats compare exactly); the
            labels name them in the error.
        what: what the store holds, for the error message ("runs", "results").

    Returns:
        The manifest found on disk (or the one just written).

    Raises:
        OverlapdynError: the folder holds a manifest of another format or version, or one
            whose checked entries differ (naming them), or an unreadable one.
    """
    folder = Path(folder)
    path = folder / "manifest.json"
    manifest = json.loads(json.dumps(manifest))
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(manifest, indent=2) + "\n")
        return manifest
    try:
        old = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise OverlapdynError(f"{path} is not a store manifest ({error}); pick another "
                              "folder") from error
    if old.get("format") != manifest["format"]:
        raise OverlapdynError(f"{folder} is not a store of {manifest['format']!r} (its manifest "
                              f"says {old.get('format')!r}); pick another folder (--out)")
    if old.get("version", manifest.get("version")) != manifest.get("version"):
        raise OverlapdynError(f"{folder} was written by store version {old.get('version')}; "
                              f"this overlapdyn writes version {manifest.get('version')}: "
                              "pick another folder (--out)")
    wrong = [(label, key) for label, key in checked if old.get(key) != manifest.get(key)]
    if wrong:
        differences = "; ".join(f"{label}: {_short(old.get(key))} there, "
                                f"{_short(manifest.get(key))} here" for label, key in wrong)
        raise OverlapdynError(
            f"the store {folder} holds {what} with another {', '.join(l for l, _ in wrong)} "
            f"({differences}); pick another folder (--out) or delete that one")
    return old


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


class ResultStore:
    """A folder of task records keyed by a hash of the task spec (see the module docstring).

    Args:
        folder: the store folder; ``folder/manifest.json`` is created or checked by
            :func:`open_manifest` (a store holds the tasks of any number of sweeps, each
            under its own key).
        create: make the store if the folder holds none, and remove the temporaries of
            writers killed mid-write (:func:`~overlapdyn.storage.files.remove_stale_temporaries`);
            False (reading results) raises instead of leaving an empty store behind a
            mistyped path, and changes nothing.

    A record is a dict of JSON types; :meth:`put` writes it as ``tasks/<key>.json``.
    """

    FORMAT = "overlapdyn.ode.trajectory-store"
    VERSION = 1

    def __init__(self, folder: str | os.PathLike, *, create: bool = True) -> None:
        self.folder = Path(folder)
        if not create and not (self.folder / "manifest.json").is_file():
            raise OverlapdynError(f"no result store at {self.folder} (no manifest.json): check "
                                  "the path, or run the sweep first")
        open_manifest(self.folder, {"format": self.FORMAT, "version": self.VERSION})
        self.tasks = self.folder / "tasks"
        self.tasks.mkdir(exist_ok=True)
        if create:  # a run that writes here clears what killed writers left behind
            remove_stale_temporaries(self.tasks)

    def __repr__(self) -> str:
        return f"ResultStore({str(self.folder)!r})"

    def _path(self, key: str) -> Path:
        if not key or not key.isalnum():
            raise OverlapdynError(f"a store key must be alphanumeric, got {key!r}")
        return self.tasks / f"{key}.json"

    def keys(self) -> set[str]:
        """The keys of every stored record (temporary files of interrupted writes ignored)."""
        return {entry.name[:-5] for entry in os.scandir(self.tasks)
                if entry.name.endswith(".json") and not entry.name.startswith(".")}

    def __contains__(self, key: str) -> bool:
        return self._path(key).exists()

    def __len__(self) -> int:
        return len(self.keys())

    def put(self, key: str, record: dict) -> Path:
        """Write ``record`` under ``key`` atomically (replacing any record of that key)."""
        path = self._path(key)
        atomic_write_text(path, json.dumps(record, separators=(",", ":")) + "\n")
        return path

    def get(self, key: str) -> dict | None:
        """The record of ``key``, or None if there is none.

        Raises:
            OverlapdynError: the file exists but is not a JSON record (names it).
        """
        path = self._path(key)
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise OverlapdynError(f"{path} is not a JSON record ({error}); delete it and rerun "
                                  "to recompute that task") from error

    def records(self) -> Iterator[tuple[str, dict]]:
        """Every ``(key, record)`` in the store, in key order."""
        for key in sorted(self.keys()):
            record = self.get(key)
            if record is not None:
                yield key, record
