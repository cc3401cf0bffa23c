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

The cache heals itself; each repair says so in a :class:`~overlapdyn.errors.CacheWarning`:

* a module that fails its checksum, fails to import, or lacks a function its caller needs
  (``required``) is rebuilt and rewritten;
* Numba's files for a module (its index ``.nbi`` and machine code ``.nbc``, in
  ``__pycache__``) are read once when the module is loaded; if any cannot be read (truncated,
  garbage, empty: an ``UnpicklingError``, ``EOFError``, …) all of that module's Numba files
  are deleted and its functions are recompiled on first call. No lock is needed: Numba
  writes its files atomically and treats a missing one as a cache miss, so a process that
  deletes them under another costs that one a recompilation, never a crash;
* a cache folder that cannot be written (read-only, or a path that is a file or lies inside
  one) is not an error: a module that must be built is written to a temporary folder of this
  process instead (removed at exit), and a warning names the folder and the fix —
  ``export OVERLAPDYN_CACHE_DIR=<a writable folder>``. A read-only folder that already holds
  the modules (a shared, pre-warmed cache) is used as it is. A full disk is still an error
  (:class:`~overlapdyn.errors.DiskFullError`).

The cache is bounded: its modules with their machine code stay under
``$OVERLAPDYN_CACHE_MAX_MB`` (:func:`cache_limit`; default 2048 MiB, a few hundred models).
Loading a module from disk marks it used (its file's modification time); writing a new one
removes the least recently used modules, with their machine code, until the folder is back
under the limit — never a module this process has loaded, nor the one just written. A
module removed under another process that uses it costs that process a rebuild, never an
error (it heals as above).

Beside the modules, the folder holds the derivation choice and module key of each model
built (``overlapdyn_choice_*.json``, :mod:`overlapdyn.compile.choices`), which let a warm
process skip SymPy; they are small, not counted against the limit, and removed by
:func:`clear`.

:func:`info` reports the folder, what is on disk and every in-memory cache of the package
(the registry of :mod:`overlapdyn.storage.memo`: derive's moments, expectations, rules and
kernel sets, and the modules loaded here); :func:`clear` empties all of them.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import math
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..errors import CacheWarning, ConfigError
from ..storage.files import atomic_write_text
from ..storage.memo import MemoInfo, clear_memos, memo_info, register_memo

__all__ = ["DEFAULT_LIMIT_MB", "CacheInfo", "cache_dir", "cache_limit", "clear", "info",
           "is_cached", "load_module", "source_key"]

_HEADER = "# overlapdyn generated module; sha256 of the body: "
_FILE_PREFIX = "overlapdyn_"             # overlapdyn_{key}.py, and Numba's files for it
_MODULE_PREFIX = "overlapdyn_generated_"  # its name in sys.modules


def cache_dir() -> Path:
    """Where generated modules live: ``$OVERLAPDYN_CACHE_DIR`` or ``~/.cache/overlapdyn``.

    Asking creates nothing; the folder is made when the first module is written.
    """
    root = os.environ.get("OVERLAPDYN_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "overlapdyn"


#: the default size limit of the cache folder, in MiB (``$OVERLAPDYN_CACHE_MAX_MB`` sets it)
DEFAULT_LIMIT_MB = 2048


def cache_limit() -> int:
    """The cache folder's size limit in bytes: ``$OVERLAPDYN_CACHE_MAX_MB`` MiB (a positive
    number), else :data:`DEFAULT_LIMIT_MB`.

    Raises:
        ConfigError: the variable is set to something else than a positive number.
    """
    raw = os.environ.get("OVERLAPDYN_CACHE_MAX_MB")
    if raw is None:
        return DEFAULT_LIMIT_MB * 2**20
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = math.nan
    if not megabytes > 0 or math.isinf(megabytes):
        raise ConfigError(f"OVERLAPDYN_CACHE_MAX_MB must be a positive number of MiB, got "
                          f"{raw!r}: e.g. export OVERLAPDYN_CACHE_MAX_MB=4096")
    return int(megabytes * 2**20)


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


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


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


def is_cached(key: str) -> bool:
    """Whether :func:`load_module` would find the module ``key`` without building it: it is
    imported in this process, or a file that passes its checksum is in :func:`cache_dir`.
    Reads one file's text; builds, imports and writes nothing."""
    return (f"{_MODULE_PREFIX}{key}" in sys.modules
            or _read_valid(cache_dir() / f"{_FILE_PREFIX}{key}.py"))


def load_module(key: str, build_source: Callable[[], str], required: tuple[str, ...] = ()
                ) -> tuple[ModuleType, bool]:
    """Import the generated module ``key``, building and caching it when needed.

    Args:
        key: the cache key (see :func:`source_key`).
        build_source: returns the module's source; called only on a cache miss, a corrupt
            file, a file that fails to import or lacks a ``required`` name.
        required: names the module must define (its functions the caller will use).

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
            module = _import(path, name)
        except Exception as error:  # a stale or damaged module: rebuild it below
            warnings.warn(f"the cached module {path} failed to import ({type(error).__name__}"
                          f": {error}): rebuilding it", CacheWarning, stacklevel=2)
        else:
            missing = [n for n in required if not hasattr(module, n)]
            if not missing:
                _heal_numba_files(module, path, key)
                _mark_used(path)
                return module, True
            sys.modules.pop(name, None)
            warnings.warn(f"the cached module {path} lacks {', '.join(missing)}: rebuilding "
                          "it", CacheWarning, stacklevel=2)
    elif _exists(path):
        warnings.warn(f"the cached module {path} is damaged (it fails its checksum): "
                      "rebuilding it", CacheWarning, stacklevel=2)
    body = build_source()
    path = _write_module(path, _HEADER + _checksum(body) + "\n" + body)
    _evict_least_recently_used(path.parent, cache_limit(), keep=path)
    module = _import(path, name)
    missing = [n for n in required if not hasattr(module, n)]
    if missing:  # the source itself is wrong: a bug, not a damaged cache
        sys.modules.pop(name, None)
        raise AttributeError(f"the generated module {key} defines no {', '.join(missing)}")
    return module, False


def _mark_used(path: Path) -> None:
    """Record that the module at ``path`` was used now (its modification time), for the
    least-recently-used eviction; a read-only shared cache is left as it is."""
    with contextlib.suppress(OSError):
        os.utime(path)


def _modules_by_last_use(folder: Path) -> list[tuple[float, int, list[Path]]]:
    """Each generated module in ``folder``: (last use, bytes, its files with Numba's and
    Python's files for it), least recently used first."""
    entries = []
    for module in folder.glob(f"{_FILE_PREFIX}*.py"):
        files = [module, *_numba_files(module, module.stem[len(_FILE_PREFIX):])]
        with contextlib.suppress(OSError):   # removed meanwhile by another process
            entries.append((module.stat().st_mtime, sum(f.stat().st_size for f in files),
                            files))
    return sorted(entries, key=lambda entry: entry[0])


def _evict_least_recently_used(folder: Path, limit: int, keep: Path) -> None:
    """Remove the least recently used modules of ``folder`` (and their Numba files) until
    the folder holds at most ``limit`` bytes; ``keep`` and the modules loaded in this
    process stay."""
    entries = _modules_by_last_use(folder)
    total = sum(size for _, size, _ in entries)
    loaded = {f"{_FILE_PREFIX}{name[len(_MODULE_PREFIX):]}.py" for name in _LOADED.names()}
    for _, size, files in entries:
        if total <= limit:
            return
        if files[0] == keep or files[0].name in loaded:
            continue
        for file in files:
            file.unlink(missing_ok=True)
        total -= size


def _write_module(path: Path, text: str) -> Path:
    """Write the module to ``path``, or, when its folder cannot be written, to this
    process's fallback folder (with a warning); the path written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
        return path
    except OSError as error:  # read-only, a file in the way, no permission (not a full disk)
        fallback = _fallback_dir() / path.name
        warnings.warn(
            f"the code cache folder {path.parent} cannot be written ({error.strerror or error}"
            f"); this process builds its generated code in {fallback.parent} instead, removed "
            "at exit — compiled code will not be reused across processes until you "
            "export OVERLAPDYN_CACHE_DIR=<a writable folder>", CacheWarning, stacklevel=3)
        atomic_write_text(fallback, text)
        return fallback


_FALLBACK: list[Path] = []


def _fallback_dir() -> Path:
    """This process's temporary cache folder (made on first use, removed at exit)."""
    if not _FALLBACK:
        folder = Path(tempfile.mkdtemp(prefix="overlapdyn-cache-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _FALLBACK.append(folder)
    return _FALLBACK[0]


def _numba_files(path: Path, key: str) -> list[Path]:
    """Numba's index and machine-code files (and Python's bytecode) of the module at
    ``path``; not those of ``{key}-jacobian``, whose names continue with '-'."""
    return [f for f in (path.parent / "__pycache__").glob(f"{_FILE_PREFIX}{key}.*")
            if f.is_file()]


def _heal_numba_files(module: ModuleType, path: Path, key: str) -> None:
    """Read Numba's cache files of every cached function of ``module`` as Numba will on
    first call; if any cannot be read, delete all of the module's Numba files (with a
    warning), so its functions are recompiled instead of failing."""
    error = _numba_cache_error(module)
    if error is None:
        return
    files = _numba_files(path, key)
    for file in files:
        file.unlink(missing_ok=True)
    warnings.warn(f"Numba's cache files for {path.name} could not be read "
                  f"({type(error).__name__}: {error}); deleted {len(files)} file(s), its "
                  "functions are recompiled on first use", CacheWarning, stacklevel=3)


def _numba_cache_error(module: ModuleType) -> Exception | None:
    """The first error reading a cached function's index or machine code, else None.

    Uses the cache object Numba keeps on each ``cache=True`` dispatcher (``_cache``, whose
    ``_cache_file`` reads the index and the data files); objects without one are skipped,
    so a Numba that renames these only loses the check, not the module.
    """
    for value in vars(module).values():
        cache_file = getattr(getattr(value, "_cache", None), "_cache_file", None)
        if cache_file is None or not hasattr(cache_file, "_load_index"):
            continue
        try:
            for data_name in cache_file._load_index().values():
                # a data file gone is no damage: Numba recompiles that one itself
                with contextlib.suppress(OSError):
                    cache_file._load_data(data_name)
        except Exception as error:  # noqa: BLE001 - any unreadable file is a damaged cache
            return error
    return None


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
        limit_bytes: the folder's size limit (:func:`cache_limit`).
    """

    folder: Path
    modules: int
    disk_bytes: int
    memory: Mapping[str, MemoInfo]
    limit_bytes: int


def _cache_files(folder: Path) -> Iterator[Path]:
    """The cache's files in ``folder``: the modules, the remembered derivation choices
    (:mod:`overlapdyn.compile.choices`), temporaries of interrupted writes, and (in
    ``__pycache__``) Numba's index and machine code and Python's bytecode."""
    for pattern in (f"{_FILE_PREFIX}*.py", f"{_FILE_PREFIX}*.json", f".{_FILE_PREFIX}*.tmp",
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
                     memo_info(), cache_limit())


def clear() -> None:
    """Remove the generated modules, the remembered derivation choices
    (:mod:`overlapdyn.compile.choices`) and Numba's cache files for the modules from the
    cache folder,
    and empty every in-memory cache (the loaded modules are forgotten by :data:`sys.modules`;
    objects already built, e.g. a :class:`~overlapdyn.compile.CompiledModel`, keep working).

    Only files named like the cache's own are removed (``overlapdyn_*``); Numba's files go
    only when they sit beside the modules, its default (not under ``$NUMBA_CACHE_DIR``).
    """
    for path in _cache_files(cache_dir()):
        path.unlink(missing_ok=True)
    clear_memos()
