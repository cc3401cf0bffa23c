"""The on-disk cache of generated modules, and one place to see and clear every cache.

A generated module is written into the cache folder and imported from there; Numba stores
its functions' machine code beside it (``__pycache__``), so a warm start skips both SymPy
and LLVM. The folder is ``$OVERLAPDYN_CACHE_DIR`` or ``~/.cache/overlapdyn``, created when
the first module is written. Every module is keyed by a hash of what determines its text
(:func:`source_key`; library version, template digest and model included) and starts with a
checksum of its body: a truncated or corrupted file fails the check and is rebuilt, and
files are written to a temporary name then renamed (atomic on POSIX,
:func:`overlapdyn.storage.files.atomic_write_text`), so concurrent writers never expose a
half-written module. An imported module stays in :data:`sys.modules` for the process.

:func:`info` reports the folder, what is on disk and every in-memory cache of the package
(the registry of :mod:`overlapdyn.storage.memo`: derive's moments, expectations, rules and
kernel sets, and the modules loaded here); :func:`clear` empties all of them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..storage.files import atomic_write_text
from ..storage.memo import MemoInfo, clear_memos, memo_info, register_memo

__all__ = ["CacheInfo", "cache_dir", "clear", "info", "load_module", "source_key"]

_HEADER = "# overlapdyn generated module; sha256 of the body: "
_FILE_PREFIX = "overlapdyn_"             # overlapdyn_{key}.py, and Numba's files for it
_MODULE_PREFIX = "overlapdyn_generated_"  # its name in sys.modules


def cache_dir() -> Path:
    """Where generated modules live: ``$OVERLAPDYN_CACHE_DIR`` or ``~/.cache/overlapdyn``.

    Asking creates nothing; the folder is made when the first module is written.
    """
    root = os.environ.get("OVERLAPDYN_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "overlapdyn"


def source_key(*parts: object) -> str:
    """A short stable hash of ``parts`` (their ``repr``), for file names."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def _read_valid(path: Path) -> bool:
    try:
        header, body = path.read_text().split("\n", 1)
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return header == _HEADER + _checksum(body)


def _import(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


class _LoadedModules:
    """The generated modules imported in this process (kept in :data:`sys.modules`), as a
    memo of the registry: hits are loads that found the module already imported."""

    def __init__(self) -> None:
        self.hits = self.misses = 0

    def names(self) -> list[str]:
        return [name for name in list(sys.modules) if name.startswith(_MODULE_PREFIX)]

    def cache_info(self) -> MemoInfo:
        return MemoInfo(self.hits, self.misses, None, len(self.names()))

    def cache_clear(self) -> None:
        for name in self.names():
            sys.modules.pop(name, None)
        self.hits = self.misses = 0


_LOADED = register_memo(f"{__name__}.load_module", _LoadedModules())


def load_module(key: str, build_source: Callable[[], str]) -> tuple[ModuleType, bool]:
    """Import the generated module ``key``, building and caching it when needed.

    Args:
        key: the cache key (see :func:`source_key`).
        build_source: returns the module's source; called only on a cache miss, a corrupt
            file, or a file that fails to import.

    Returns:
        ``(module, from_cache)``.
    """
    name = f"{_MODULE_PREFIX}{key}"
    if name in sys.modules:
        _LOADED.hits += 1
        return sys.modules[name], True
    _LOADED.misses += 1
    path = cache_dir() / f"{_FILE_PREFIX}{key}.py"
    if _read_valid(path):
        try:
            return _import(path, name), True
        except Exception:  # a stale or damaged module: rebuild it below
            pass
    body = build_source()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, _HEADER + _checksum(body) + "\n" + body)
    return _import(path, name), False


@dataclass(frozen=True)
class CacheInfo:
    """What the caches hold (:func:`info`).

    Attributes:
        folder: the cache folder (:func:`cache_dir`; it may not exist yet).
        modules: generated modules on disk.
        disk_bytes: their size, with Numba's machine code and Python's bytecode for them.
        memory: every in-memory cache of the package by dotted name — derive's memos and
            ``overlapdyn.compile.cache.load_module`` (the generated modules imported in this
            process) — with hits, misses, maxsize (None: unbounded) and currsize (entries).
    """

    folder: Path
    modules: int
    disk_bytes: int
    memory: Mapping[str, MemoInfo]


def _cache_files(folder: Path) -> Iterator[Path]:
    """The cache's files in ``folder``: the modules, temporaries of interrupted writes,
    and (in ``__pycache__``) Numba's index and machine code and Python's bytecode."""
    for pattern in (f"{_FILE_PREFIX}*.py", f".{_FILE_PREFIX}*.tmp",
                    f"__pycache__/{_FILE_PREFIX}*"):
        yield from (path for path in folder.glob(pattern) if path.is_file())


def info() -> CacheInfo:
    """The cache folder, its generated modules and bytes on disk, and every in-memory cache.

    Reads only: a folder that does not exist reports 0 modules and 0 bytes.
    """
    folder = cache_dir()
    files = list(_cache_files(folder))
    modules = sum(1 for path in files if path.parent == folder and path.suffix == ".py")
    return CacheInfo(folder, modules, sum(path.stat().st_size for path in files),
                     memo_info())


def clear() -> None:
    """Remove the generated modules and Numba's cache files for them from the cache folder,
    and empty every in-memory cache (the loaded modules are forgotten by :data:`sys.modules`;
    objects already built, e.g. a :class:`~overlapdyn.compile.CompiledModel`, keep working).

    Only files named like the cache's own are removed (``overlapdyn_*``); Numba's files go
    only when they sit beside the modules, its default (not under ``$NUMBA_CACHE_DIR``).
    """
    for path in _cache_files(cache_dir()):
        path.unlink(missing_ok=True)
    clear_memos()
