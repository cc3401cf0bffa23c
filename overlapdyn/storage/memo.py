"""In-memory caches, registered so that one call reports or clears them all.

Every memo of the package is made by :func:`memoised` (a registered
:func:`functools.lru_cache`) or is passed to :func:`register_memo` (a :class:`BoundedCache`,
the generated modules' loader). The registry maps a dotted name
(``overlapdyn.derive.gaussian.moment``) to an object with ``cache_info()`` and
``cache_clear()``, the interface of :func:`functools.lru_cache`.
:func:`overlapdyn.compile.cache.info` and :func:`overlapdyn.compile.cache.clear` read it, and
:func:`overlapdyn.derive.clear_caches` clears the derive stage's part. The registry lives in
this bottom layer so that a memo in any layer can join it without an upward import.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import NamedTuple, Protocol, TypeVar

__all__ = ["BoundedCache", "Memo", "MemoInfo", "clear_memos", "memo_info", "memoised",
           "register_memo"]

F = TypeVar("F", bound=Callable)


class MemoInfo(NamedTuple):
    """One memo's statistics, the fields of :func:`functools.lru_cache`'s ``cache_info()``."""

    hits: int
    misses: int
    maxsize: int | None
    currsize: int


class Memo(Protocol):
    """What the registry needs of a memo."""

    def cache_info(self) -> tuple[int, int, int | None, int]: ...

    def cache_clear(self) -> None: ...


M = TypeVar("M", bound=Memo)

_MEMOS: dict[str, Memo] = {}  # the registry itself: names → memos, never cleared


def register_memo(name: str, memo: M) -> M:
    """Add ``memo`` to the registry under ``name`` (a dotted path) and return it."""
    _MEMOS[name] = memo
    return memo


def memoised(maxsize: int | None = 128) -> Callable[[F], F]:
    """:func:`functools.lru_cache` (``maxsize=None``: unbounded), registered under the
    function's module and qualified name."""

    def decorate(function: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(function)
        register_memo(f"{function.__module__}.{function.__qualname__}", cached)
        return cached

    return decorate


def memo_info(prefix: str = "") -> dict[str, MemoInfo]:
    """Statistics of every registered memo whose name starts with ``prefix``, by name."""
    return {name: MemoInfo(*memo.cache_info()) for name, memo in sorted(_MEMOS.items())
            if name.startswith(prefix)}


def clear_memos(prefix: str = "") -> None:
    """Empty every registered memo whose name starts with ``prefix`` (statistics too)."""
    for name, memo in _MEMOS.items():
        if name.startswith(prefix):
            memo.cache_clear()


class BoundedCache:
    """A bounded mapping from canonical inputs to results (least recently used out), for
    memos whose key is computed by the caller rather than taken from the arguments."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize, self.data = maxsize, OrderedDict()
        self.hits = self.misses = 0

    def get(self, key: Hashable):
        """The value stored under ``key`` (now the most recently used), else None."""
        if key in self.data:
            self.hits += 1
            self.data.move_to_end(key)
            return self.data[key]
        self.misses += 1
        return None

    def put(self, key: Hashable, value) -> None:
        """Store ``value`` under ``key``, dropping the least recently used beyond maxsize."""
        self.data[key] = value
        self.data.move_to_end(key)
        while len(self.data) > self.maxsize:
            self.data.popitem(last=False)

    def cache_info(self) -> MemoInfo:
        return MemoInfo(self.hits, self.misses, self.maxsize, len(self.data))

    def cache_clear(self) -> None:
        self.data.clear()
        self.hits = self.misses = 0
