"""The on-disk cache of generated modules and the one view of every cache (info, clear)."""

import os
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from numba.core import event

from overlapdyn.compile import cache
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.errors import CacheWarning, ConfigError
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.storage.memo import clear_memos

# the cheapest model to compile: linear student and teacher
LINEAR = Model(Target(k=1, activation="He1"), Student(p=1, activation="He1"), Protocol(eta=0.5))


def _shared_loops_file() -> Path:
    """The generated module of the drift's loops in the suite's cache folder (built there
    first if needed)."""
    CompiledModel(LINEAR)
    loops = [module for name, module in sys.modules.items()
             if name.startswith("overlapdyn_generated_")
             and "the drift's loops" in (module.__doc__ or "")]
    return Path(loops[0].__file__)


def _seed_shared_loops(folder: Path, source: Path) -> None:
    """Copy the drift's loops (the module and Numba's machine code, modification times
    kept: Numba's index checks them) into ``folder``. The loops are the same for every
    model: recompiling them in a fresh folder (8 s) would test nothing more."""
    (folder / "__pycache__").mkdir(exist_ok=True)
    shutil.copy2(source, folder / source.name)
    for path in (source.parent / "__pycache__").glob(f"{source.stem}.*"):
        shutil.copy2(path, folder / "__pycache__" / path.name)


def _compiles(function) -> int:
    """Numba compilations while ``function()`` runs."""
    with event.install_recorder("numba:compile") as recorder:
        function()
    return sum(1 for _, e in recorder.buffer if e.is_start)


def test_cache_rebuilds_a_corrupt_module(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(tmp_path))
    built = []

    def source():
        built.append(1)
        return "VALUE = 42\n"

    module, from_cache = cache.load_module("testkey", source)
    assert module.VALUE == 42 and not from_cache and built == [1]
    path = tmp_path / "overlapdyn_testkey.py"
    path.write_text(path.read_text().replace("42", "43"))  # checksum no longer matches

    sys.modules.pop("overlapdyn_generated_testkey")
    with pytest.warns(CacheWarning, match="fails its checksum"):
        module, from_cache = cache.load_module("testkey", source)
    assert module.VALUE == 42 and not from_cache and built == [1, 1]
    sys.modules.pop("overlapdyn_generated_testkey")
    module, from_cache = cache.load_module("testkey", source)
    assert from_cache and built == [1, 1]
    assert not list(tmp_path.glob("*.tmp"))


def test_asking_where_the_cache_is_creates_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "not yet"
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(folder))
    assert cache.cache_dir() == folder
    report = cache.info()
    assert report.folder == folder and report.modules == 0 and report.disk_bytes == 0
    assert not folder.exists()
    module, from_cache = cache.load_module("folder_test_key", lambda: "VALUE = 7\n")
    assert folder.is_dir() and module.VALUE == 7 and not from_cache
    assert cache.info().modules == 1
    sys.modules.pop("overlapdyn_generated_folder_test_key")


def test_info_and_clear_cover_the_disk_and_every_memory_cache(tmp_path, monkeypatch):
    loops = _shared_loops_file()
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(tmp_path))
    cache.clear()  # this model's module may be loaded already, from the suite's cache folder
    _seed_shared_loops(tmp_path, loops)
    unrelated = [tmp_path / "notes.txt", tmp_path / "__pycache__" / "other.py311.nbi"]
    for path in unrelated:
        path.write_text("not the cache's")
    M, Q = np.array([[0.3]]), np.array([[0.9]])
    first = CompiledModel(LINEAR)
    assert not first.from_cache
    drift = first.drift(M, Q)

    report = cache.info()   # the model's kernels, and the drift's loops shared by every model
    assert report.folder == tmp_path and report.modules == 2
    numba_files = list((tmp_path / "__pycache__").glob("overlapdyn_*.nb[ic]"))
    assert numba_files  # the machine code sits beside the module, and is counted
    assert report.disk_bytes >= sum(p.stat().st_size for p in [
        *numba_files, *tmp_path.glob("overlapdyn_*.py")])
    assert report.memory["overlapdyn.compile.cache.load_module"].currsize >= 1
    assert report.memory["overlapdyn.derive.kernels._derive"].currsize >= 1

    cache.clear()
    report = cache.info()
    assert report.modules == 0 and report.disk_bytes == 0
    assert not list(tmp_path.rglob("overlapdyn_*"))
    assert all(path.exists() for path in unrelated)
    assert all(memo.currsize == 0 and memo.hits == memo.misses == 0
               for memo in report.memory.values()), report.memory
    np.testing.assert_array_equal(first.drift(M, Q)[0], drift[0])  # built objects still work

    _seed_shared_loops(tmp_path, loops)
    built = []   # derived, generated and compiled anew (the kernels when built, for their types)
    assert _compiles(lambda: built.append(CompiledModel(LINEAR))) > 0
    again = built.pop()
    assert not again.from_cache
    for mine, before in zip(again.drift(M, Q), drift, strict=True):
        np.testing.assert_array_equal(mine, before)

    clear_memos()  # memory only: the module and its machine code load from disk
    assert _compiles(lambda: built.append(CompiledModel(LINEAR))) == 0
    loaded = built.pop()
    assert loaded.from_cache and loaded.source == again.source
    assert _compiles(lambda: loaded.drift(M, Q)) == 0
    for mine, before in zip(loaded.drift(M, Q), drift, strict=True):
        np.testing.assert_array_equal(mine, before)


# a generated module in miniature: one function whose machine code Numba caches beside it
TINY = "from numba import njit\n\n\n@njit(cache=True)\ndef twice(x):\n    return 2.0 * x\n"


def _load_tiny(key: str):
    sys.modules.pop(f"overlapdyn_generated_{key}", None)  # read it from disk
    return cache.load_module(key, lambda: TINY, required=("twice",))


def _damage(path, how: str) -> None:
    data = path.read_bytes()
    path.write_bytes({"truncated": data[:len(data) // 2], "garbage": b"\x80\x05garbage" * 9,
                      "empty": b""}[how])


@pytest.mark.parametrize(("suffix", "how"), [
    (".nbc", "truncated"), (".nbc", "empty"), (".nbc", "garbage"), (".nbi", "garbage"),
    (".nbi", "truncated"), (".nbi", "empty")])
def test_damaged_numba_files_are_deleted_and_recompiled(suffix, how, tmp_path, monkeypatch):
    """Before: UnpicklingError/EOFError from the function's first call."""
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(tmp_path))
    key = f"tiny_{suffix[1:]}_{how}"
    module, _ = _load_tiny(key)
    assert module.twice(1.5) == 3.0
    damaged = sorted((tmp_path / "__pycache__").glob(f"overlapdyn_{key}.twice*{suffix}"))
    assert damaged
    for path in damaged:
        _damage(path, how)
    with pytest.warns(CacheWarning, match="could not be read.*recompiled"):
        module, from_cache = _load_tiny(key)
    assert from_cache  # the module itself was sound
    assert _compiles(lambda: module.twice(2.5)) == 1 and module.twice(2.5) == 5.0
    with warnings.catch_warnings():  # healed: the rewritten files load silently, no compile
        warnings.simplefilter("error", CacheWarning)
        module, _ = _load_tiny(key)
        assert _compiles(lambda: module.twice(2.5)) == 0 and module.twice(2.5) == 5.0
    sys.modules.pop(f"overlapdyn_generated_{key}")


def test_a_module_missing_a_function_is_rebuilt(tmp_path, monkeypatch):
    """A valid checksum but no ``twice``: before, an AttributeError at the caller."""
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(tmp_path))
    _load_tiny("tiny_missing")
    path = tmp_path / "overlapdyn_tiny_missing.py"
    body = TINY.replace("def twice(", "def thrice(")
    path.write_text(cache._HEADER + cache._checksum(body) + "\n" + body)
    with pytest.warns(CacheWarning, match="lacks twice"):
        module, from_cache = _load_tiny("tiny_missing")
    assert module.twice(4.0) == 8.0 and not from_cache
    assert "def twice(" in path.read_text()
    sys.modules.pop("overlapdyn_generated_tiny_missing")


def _unusable_folders(tmp_path):
    (tmp_path / "a file").write_text("not a folder")
    folders = [tmp_path / "a file", tmp_path / "a file" / "cache"]
    read_only = Path("/sys/fs/overlapdyn-cache")  # sysfs: read-only even for root
    try:
        read_only.mkdir()
    except OSError:
        folders.append(read_only)
    else:
        read_only.rmdir()
    return folders


def test_an_unwritable_cache_folder_falls_back_to_a_temporary_one(tmp_path, monkeypatch):
    """A cache path that is a file, lies inside one, or is read-only: before,
    FileExistsError/NotADirectoryError/PermissionError; now a warning with the fix."""
    for number, folder in enumerate(_unusable_folders(tmp_path)):
        monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(folder))
        key = f"unwritable_{number}"
        with pytest.warns(CacheWarning, match="cannot be written.*OVERLAPDYN_CACHE_DIR"):
            module, from_cache = cache.load_module(key, lambda: "VALUE = 5\n")
        assert module.VALUE == 5 and not from_cache
        assert not Path(module.__file__).is_relative_to(folder)
        sys.modules.pop(f"overlapdyn_generated_{key}")
    assert (tmp_path / "a file").read_text() == "not a folder"


def test_the_least_recently_used_modules_go_when_the_cache_passes_its_limit(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(tmp_path))
    body = "VALUE = 1\n" + "# padding\n" * 1000   # about 10 kB a module
    for key in ("old", "middle", "new"):
        cache.load_module(f"lru_{key}", lambda: body)
        sys.modules.pop(f"overlapdyn_generated_lru_{key}")
    path = {key: tmp_path / f"overlapdyn_lru_{key}.py" for key in ("old", "middle", "new")}
    for age, key in enumerate(("new", "middle", "old"), start=1):
        os.utime(path[key], (1e9 - age, 1e9 - age))   # built long ago, "old" first
    cache.load_module("lru_old", lambda: body)          # used now: the most recent
    sys.modules.pop("overlapdyn_generated_lru_old")
    size = path["old"].stat().st_size
    monkeypatch.setenv("OVERLAPDYN_CACHE_MAX_MB", str(2.5 * size / 2**20))
    assert cache.info().limit_bytes == int(2.5 * size)

    cache.load_module("lru_newest", lambda: body)       # four modules: two must go
    assert path["old"].exists() and (tmp_path / "overlapdyn_lru_newest.py").exists()
    assert not path["middle"].exists() and not path["new"].exists()
    assert cache.info().modules == 2
    sys.modules.pop("overlapdyn_generated_lru_newest")


@pytest.mark.parametrize("value", ["lots", "0", "-5", "inf", "nan"])
def test_a_cache_limit_that_is_no_positive_number_is_refused(value, monkeypatch):
    monkeypatch.setenv("OVERLAPDYN_CACHE_MAX_MB", value)
    with pytest.raises(ConfigError, match="OVERLAPDYN_CACHE_MAX_MB"):
        cache.cache_limit()
