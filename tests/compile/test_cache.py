"""The on-disk cache of generated modules and the one view of every cache (info, clear)."""

import sys

import numpy as np
from numba.core import event

from overlapdyn.compile import cache
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.storage.memo import clear_memos

# the cheapest model to compile: linear student and teacher
LINEAR = Model(Target(k=1, activation="He1"), Student(p=1, activation="He1"), Protocol(eta=0.5))


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
    monkeypatch.setenv("OVERLAPDYN_CACHE_DIR", str(tmp_path))
    cache.clear()  # this model's module may be loaded already, from the suite's cache folder
    (tmp_path / "__pycache__").mkdir()
    unrelated = [tmp_path / "notes.txt", tmp_path / "__pycache__" / "other.py311.nbi"]
    for path in unrelated:
        path.write_text("not the cache's")
    M, Q = np.array([[0.3]]), np.array([[0.9]])
    first = CompiledModel(LINEAR)
    assert not first.from_cache
    drift = first.drift(M, Q)

    report = cache.info()
    assert report.folder == tmp_path and report.modules == 1
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

    again = CompiledModel(LINEAR)  # derived, generated and compiled anew
    assert not again.from_cache
    assert _compiles(lambda: again.drift(M, Q)) > 0
    for mine, before in zip(again.drift(M, Q), drift, strict=True):
        np.testing.assert_array_equal(mine, before)

    clear_memos()  # memory only: the module and its machine code load from disk
    loaded = CompiledModel(LINEAR)
    assert loaded.from_cache and loaded.source == again.source
    assert _compiles(lambda: loaded.drift(M, Q)) == 0
    for mine, before in zip(loaded.drift(M, Q), drift, strict=True):
        np.testing.assert_array_equal(mine, before)
