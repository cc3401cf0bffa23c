"""The one conversion of results and configurations to JSON, and the digest that
identifies a configuration."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np

from ..errors import OverlapdynError

__all__ = ["json_digest", "jsonable"]



def json_digest(payload, length: int = 16) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``payload`` as canonical JSON (keys
    sorted): the identity of a spec, a sweep or a task."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:length]


def jsonable(value, where: str, *, strict: bool = False):
    """``value`` with numpy scalars/arrays and tuples turned into JSON types; fails naming
    the offending entry.

    Args:
        value: numbers, strings, None, lists, tuples, dicts with string keys, NumPy arrays
            and scalars, nested.
        where: the value's name in errors.
        strict: non-finite floats become None (``null``: strict JSON has no NaN or
            Infinity); otherwise they are kept (``json.dumps`` writes ``NaN``).
    """
    if strict and isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic | np.ndarray):
        return jsonable(value.tolist(), where, strict=strict)
    if isinstance(value, list | tuple):
        return [jsonable(v, f"{where}[{i}]", strict=strict) for i, v in enumerate(value)]
    if isinstance(value, dict):
        bad = [key for key in value if not isinstance(key, str)]
        if bad:
            raise OverlapdynError(f"{where} has non-string keys {bad!r}; JSON keys must be "
                                  f"strings")
        return {key: jsonable(v, f"{where}[{key!r}]", strict=strict)
                for key, v in value.items()}
    raise OverlapdynError(f"{where} is a {type(value).__name__} ({value!r:.80}), which cannot be "
                          f"saved as JSON; convert it to numbers, strings, lists or dicts")
