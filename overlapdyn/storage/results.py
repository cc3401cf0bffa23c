"""The one result protocol: every result type saves to, and loads from, one ``.npz`` file.

A result is a frozen dataclass deriving from :class:`Result`. It names its file format
(:attr:`Result.FORMAT`, e.g. ``"overlapdyn.Trajectory"``) and version
(:attr:`Result.VERSION`), and implements two hooks:

* :meth:`Result.archive` — its fields as JSON types (the full configuration included, e.g.
  ``model.to_dict()``) and its arrays by name;
* :meth:`Result.from_archive` — the inverse.

:meth:`Result.save` then writes one ``.npz``: the arrays, plus an array ``header`` holding
JSON with the format, the version, the library versions
(:func:`~overlapdyn.storage.versions.library_versions`) and the fields. npz is portable and
numpy-native, JSON keeps the configuration human-readable, and neither needs anything beyond
numpy. The write is atomic (:func:`~overlapdyn.storage.files.atomic_write`): an interrupted
save never leaves a truncated file. A type with a JSON summary (a ``to_dict()`` method) also
writes it beside the record, as ``<name>.json``, for people and scripts that want the
numbers without numpy; :meth:`Result.load` reads the ``.npz`` only.

Results made of results (a simulation of trajectories, a report of escape times …) archive
each part with :func:`archive_part` under a prefix (``"runs/0"``: arrays ``runs/0/<name>``)
and restore it with :func:`restore_part` (sequences of parts, nested or not:
:func:`archive_parts`, :func:`restore_parts`); each part's header carries its own format
and version.

Every result also has one text method, :meth:`Result.describe`, which ``str()`` returns.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np

from ..errors import OverlapdynError
from .encoding import jsonable
from .files import atomic_write, atomic_write_text
from .versions import library_versions

__all__ = ["Result", "archive_part", "archive_parts", "restore_part", "restore_parts",
           "saved_format"]

T = TypeVar("T")

# header entries written by Result.save itself; a result's fields may not use these names
_RESERVED = ("format", "version", "library_versions")


class Result:
    """Base of the result dataclasses: ``save``/``load`` through one ``.npz``, ``describe``.

    Subclasses set :attr:`FORMAT` and :attr:`VERSION` and implement :meth:`archive`,
    :meth:`from_archive` and :meth:`describe`. A subclass whose layout changed sets
    :attr:`READS` to every version its :meth:`from_archive` still understands (the header
    passed to it holds ``"version"``).
    """

    #: the file format's name, ``"overlapdyn.<Type>"``
    FORMAT: ClassVar[str]
    #: the layout version ``save`` writes
    VERSION: ClassVar[int] = 1
    #: the versions ``load`` accepts (default: ``VERSION`` only)
    READS: ClassVar[tuple[int, ...] | None] = None

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        """``(fields, arrays)``: everything needed to rebuild this result.

        ``fields`` are JSON-able (numpy scalars and arrays, tuples allowed: they are
        converted, arrays to lists) and hold the full configuration; ``arrays`` are saved as
        they are (any dtype numpy stores without pickling).
        """
        raise NotImplementedError

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> Self:
        """Rebuild a result from what :meth:`archive` returned (after a JSON round trip:
        tuples come back as lists); ``header`` also holds ``"format"`` and ``"version"``."""
        raise NotImplementedError

    def describe(self) -> str:
        """A plain-text report of the result."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()

    def save(self, path: str | os.PathLike) -> Path:
        """Write the result to ``path`` (one ``.npz``, atomically); returns the path.

        A type with a JSON summary (``to_dict()``) also writes it to ``path`` with the suffix
        ``.json``, after the record (both are built before anything is written); the summary
        carries the library versions too (``library_versions``), so a figure or table made
        from it alone still says what produced it.

        Raises:
            OverlapdynError: a field holds something JSON cannot store, named (nothing is
                written); or ``path`` ends in ``.json``, the summary's name.
        """
        path = Path(path)
        summary = getattr(self, "to_dict", None)
        if summary is not None and path.suffix == ".json":
            raise OverlapdynError(f"{path}: a {type(self).__name__} is saved as an .npz record "
                                  "with its JSON summary beside it; give a path ending in .npz")
        fields, arrays = self.archive()
        clash = sorted((set(fields) & set(_RESERVED)) | (set(arrays) & {"header"}))
        if clash:
            raise OverlapdynError(f"{type(self).__name__}.archive() uses the reserved names "
                                  f"{clash}")
        name = type(self).__name__
        header = json.dumps({"format": self.FORMAT, "version": self.VERSION,
                             "library_versions": library_versions(),
                             **{key: jsonable(value, f"{name}.{key}")
                                for key, value in fields.items()}})
        text = None if summary is None else json.dumps(
            _with_versions(jsonable(summary(), f"{name}.to_dict()")), indent=2) + "\n"
        arrays = {**arrays, "header": np.array(header)}
        atomic_write(path, lambda handle: np.savez_compressed(handle, **arrays))
        if text is not None:
            atomic_write_text(path.with_suffix(".json"), text)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Self:
        """Read a result written by :meth:`save`.

        Raises:
            OverlapdynError: the file is not a saved result of this type (names the path and
                why: another format, a version this overlapdyn does not read, a damaged file).
            OSError: the file cannot be opened.
        """
        def build(header: dict, data) -> Self:
            _check(cls, header)
            return cls.from_archive(header, {name: data[name] for name in data.files
                                             if name != "header"})

        return _read_saved(path, cls.__name__, build)


def saved_format(path: str | os.PathLike) -> str:
    """The format name (``"overlapdyn.<Type>"``) of the result saved at ``path``, read from
    its header without building the result, so that a reader can pick the type to load.

    Raises:
        OverlapdynError: ``path`` is no saved overlapdyn result (names the path and why).
        OSError: the file cannot be opened.
    """
    def format_of(header: dict, data) -> str:
        name = header["format"]
        if not isinstance(name, str):
            raise OverlapdynError(f"its header's format is {name!r}, not a name")
        return name

    return _read_saved(path, "result", format_of)


def _read_saved(path: str | os.PathLike, what: str, read: Callable[[dict, Any], T]) -> T:
    """``read(header, data)`` of the ``.npz`` at ``path`` (``data`` the open archive, its
    arrays read on access); anything that goes wrong past opening the file — not a zip,
    numpy, JSON, or ``read``'s own checks, each with its own exception type — becomes an
    :class:`OverlapdynError` saying ``path`` is not a saved overlapdyn ``what`` and why."""
    path = Path(path)
    with open(path, "rb") as handle:
        try:
            if not zipfile.is_zipfile(handle):
                raise OverlapdynError("it is not an .npz (zip) archive")
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as data:
                return read(json.loads(str(data["header"][()])), data)
        except Exception as error:
            why = error if isinstance(error, OverlapdynError) else (
                f"{type(error).__name__}: {error}")
            raise OverlapdynError(f"{path} is not a saved overlapdyn {what}: {why}") from error


def _check(cls: type[Result], header: dict) -> None:
    """Raise unless ``header`` is of ``cls``'s format and a version it reads."""
    if not isinstance(header, dict) or header.get("format") != cls.FORMAT:
        found = header.get("format") if isinstance(header, dict) else header
        raise OverlapdynError(f"its header has format {found!r}, not {cls.FORMAT!r}")
    readable = cls.READS or (cls.VERSION,)
    if header.get("version") not in readable:
        raise OverlapdynError(f"it has format version {header.get('version')!r}; this "
                              f"overlapdyn reads {cls.FORMAT} version "
                              f"{', '.join(map(str, readable))}")


def archive_part(result: Result, prefix: str) -> tuple[dict, dict[str, np.ndarray]]:
    """A part of a result, for the whole's :meth:`~Result.archive`: its header (fields,
    format and version) and its arrays renamed ``<prefix>/<name>``."""
    fields, arrays = result.archive()
    header = {"format": result.FORMAT, "version": result.VERSION, **fields}
    return header, {f"{prefix}/{name}": array for name, array in arrays.items()}


def restore_part(cls: type[Result], header: Mapping, arrays: Mapping[str, np.ndarray],
                 prefix: str) -> Result:
    """The part archived by :func:`archive_part` under ``prefix``: ``header`` is that part's
    header, ``arrays`` the whole's arrays (those under ``<prefix>/`` are taken)."""
    header = dict(header)
    _check(cls, header)
    start = prefix + "/"
    return cls.from_archive(header, {name[len(start):]: array for name, array in arrays.items()
                                     if name.startswith(start)})


def archive_parts(parts, prefix: str) -> tuple[list, dict[str, np.ndarray]]:
    """:func:`archive_part` of each of a sequence of parts (or of sequences of parts, to any
    depth) under ``<prefix>/<i>[/<j>…]``: their headers as (nested) lists, their arrays."""
    headers, arrays = [], {}
    for i, part in enumerate(parts):
        archive = archive_part if isinstance(part, Result) else archive_parts
        header, part_arrays = archive(part, f"{prefix}/{i}")
        headers.append(header)
        arrays.update(part_arrays)
    return headers, arrays


def restore_parts(cls: type[Result], headers: list, arrays: Mapping[str, np.ndarray],
                  prefix: str) -> tuple:
    """The parts archived by :func:`archive_parts`, as (nested) tuples."""
    return tuple((restore_part if isinstance(header, Mapping) else restore_parts)(
        cls, header, arrays, f"{prefix}/{i}") for i, header in enumerate(headers))


def _with_versions(summary):
    """A JSON summary with the library versions added (kept if ``to_dict`` has them)."""
    if isinstance(summary, dict) and "library_versions" not in summary:
        return {**summary, "library_versions": library_versions()}
    return summary
