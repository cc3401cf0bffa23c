"""Lazy package namespaces: a package names what it exports and the module each lives in,
and imports that module only when the name is first used (import time stays small)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable

__all__ = ["lazy_namespace"]


def lazy_namespace(package: str, homes: dict[str, tuple[str, ...]], *,
                   submodules: bool = False) -> tuple[Callable, Callable]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``.

    ``homes`` maps a submodule's name to the names it defines; the first lookup of a name
    imports its submodule and binds the name in the package (later lookups are plain
    attributes). With ``submodules``, any other public name that is a submodule is imported,
    as an eager namespace would have it.
    """
    home_of = {name: home for home, names in homes.items() for name in names}

    def __getattr__(name: str):
        namespace = vars(sys.modules[package])
        if name in home_of:
            value = getattr(importlib.import_module(f".{home_of[name]}", package), name)
            namespace[name] = value
            return value
        if (submodules and not name.startswith("_")
                and importlib.util.find_spec(f"{package}.{name}")):
            return importlib.import_module(f".{name}", package)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        namespace = vars(sys.modules[package])
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
