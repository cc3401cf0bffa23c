"""Checks of user-given values: each returns the value in its canonical type or raises
a :class:`~overlapdyn.errors.ConfigError` (or CovarianceError) naming the value and
what is allowed."""

from __future__ import annotations

import dataclasses
import operator
import os
from collections.abc import Iterable, Mapping

import numpy as np

from ..errors import ConfigError, CovarianceError, ResourceError

__all__ = ["check_covariance", "check_dimension", "check_finite", "check_flag", "check_floats",
           "check_integer", "check_memory", "check_real", "check_section", "check_seeds",
           "memory_bytes", "smallest_eigenvalue"]



def check_integer(value, name: str, minimum: int) -> int:
    """``value`` as an int ≥ minimum (NumPy integers welcome, bools and floats refused)."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError as error:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from error
    if number < minimum:
        raise ConfigError(f"{name} must be ≥ {minimum}, got {number}")
    return number


def _number(value, name: str) -> float:
    """``value`` as a float if it is a number: a string (``"0.5"``) or a boolean (``true``)
    is refused, not converted, in every section alike."""
    if isinstance(value, str | bytes | bool | np.bool_):
        raise ConfigError(f"{name} must be a number, got {value!r} (a "
                          f"{type(value).__name__}); write it without quotes")
    return float(value)


def check_finite(value, name: str) -> float:
    """``value`` as a finite float (strings and booleans refused, not converted)."""
    try:
        number = _number(value, name)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{name} must be a number, got {value!r}") from error
    if not np.isfinite(number):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    return number


def check_real(value, name: str, *, positive: bool = False) -> float:
    """``value`` as a finite float ≥ 0 (> 0 if ``positive``)."""
    number = check_finite(value, name)
    if number < 0 or (positive and number == 0):
        raise ConfigError(f"{name} must be {'> 0' if positive else '≥ 0'}, got {value!r}")
    return number


def check_flag(value, name: str) -> bool:
    """A true boolean (``"false"`` from a hand-edited file is an error, not True)."""
    if not isinstance(value, bool | np.bool_):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    return bool(value)


def check_floats(values, name: str, length: int | None = None, *,
                 each: str = "") -> tuple[float, ...]:
    """``values`` (any array-like of numbers: strings and booleans refused) as a flat tuple
    of finite floats; ``length`` entries if given (``each`` says what one entry is for, in
    the error: ``"latent direction, target.k"``; the entries then default to ones)."""
    if isinstance(values, str | bytes):
        raise ConfigError(f"{name} must be a list of numbers, got {values!r}")
    try:
        out = tuple(_number(v, name) for v in np.ravel(np.asarray(values, dtype=object)))
    except (TypeError, ValueError) as error:
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(f"{name} must be a list of numbers, got {values!r}") from error
    if length is not None and len(out) != length:
        if each:
            raise ConfigError(f"{name} must have {length} entries (one per {each} = {length}), "
                              f"got {len(out)}: give {length}, e.g. {[1.0] * length}, or leave "
                              f"{name} out for all ones")
        raise ConfigError(f"{name} must have {length} entries, got {len(out)}")
    if not all(np.isfinite(out)):
        raise ConfigError(f"{name} must be finite, got {out}")
    return out


def check_covariance(matrix: np.ndarray, label: str = "C", *, tol: float = 1e-10) -> np.ndarray:
    """Return ``matrix`` as a float array if it is a symmetric positive semi-definite matrix.

    Tolerances are relative to the largest absolute entry. Raises :class:`CovarianceError`
    naming ``label``, with the offending eigenvalue or asymmetry.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise CovarianceError(f"covariance {label} must be a square matrix, got shape "
                              f"{matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise CovarianceError(f"covariance {label} has non-finite entries:\n{matrix}")
    scale = max(float(np.max(np.abs(matrix))), 1e-300) if matrix.size else 1.0
    asymmetry = float(np.max(np.abs(matrix - matrix.T))) if matrix.size else 0.0
    if asymmetry > tol * scale:
        raise CovarianceError(f"covariance {label} is not symmetric (max |C − Cᵀ| = "
                              f"{asymmetry:.3g}):\n{matrix}")
    smallest = smallest_eigenvalue(matrix)
    if smallest < -tol * scale:
        raise CovarianceError(
            f"covariance {label} is not positive semi-definite (smallest eigenvalue "
            f"{smallest:.3g}); overlaps like these cannot come from real vectors:\n{matrix}")
    return matrix


def smallest_eigenvalue(matrix: np.ndarray) -> float:
    """The smallest eigenvalue of the symmetric ``matrix`` (0 for an empty one)."""
    matrix = np.asarray(matrix, dtype=float)
    return float(np.linalg.eigvalsh(matrix)[0]) if matrix.size else 0.0


def check_dimension(d, p: int, k: int, name: str = "d", why: str = "") -> int:
    """``d`` as an int ≥ p + k: room for p student and k teacher vectors in R^d, so that any
    valid overlaps (M, Q, P) have weights (``why`` ends the message, e.g. what needs d)."""
    if d < p + k:
        raise ConfigError(f"{name} = {d} must be at least p + k = {p + k}{why}")
    return int(d)


def memory_bytes() -> int:
    """The machine's physical memory in bytes (``$OVERLAPDYN_MEMORY_BYTES`` overrides it,
    e.g. to refuse runs larger than a job's share of a cluster node)."""
    override = os.environ.get("OVERLAPDYN_MEMORY_BYTES")
    if override:
        return int(float(override))
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a laptop
        return 16 * 2**30


def check_memory(needed: float, what: str, fix: str) -> None:
    """Refuse, before allocating, a run whose arrays need more than half the machine's memory
    (:func:`memory_bytes`): a MemoryError deep inside, or a machine swapping for hours, is
    worse than a word up front.

    Args:
        needed: the estimate in bytes.
        what: what needs it (``"simulate at d = 10⁹ with 8 seeds"``).
        fix: how to shrink the run.

    Raises:
        ResourceError: ``needed`` is above the budget; the message gives both numbers.
    """
    budget = memory_bytes() / 2
    if not needed <= budget:
        raise ResourceError(f"{what} needs about {needed / 2**30:.3g} GiB of memory, more "
                            f"than half of this machine's {2 * budget / 2**30:.3g} GiB; {fix}")


def check_section(values, name: str, allowed: type | Iterable[str], hint: str = "") -> dict:
    """The TOML table ``[name]`` as a dict, if it is a table whose keys are all ``allowed``.

    Args:
        values: the table.
        name: its name in messages (``"integrate"``, ``"sweep"``).
        allowed: a dataclass (its fields are the keys) or the key names.
        hint: appended to the unknown-keys message (where the other keys go).

    Raises:
        ConfigError: not a table, or unknown keys (naming them and the allowed ones).
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"[{name}] must be a table of keys, got {values!r}")
    names = ([f.name for f in dataclasses.fields(allowed)] if dataclasses.is_dataclass(allowed)
             else list(allowed))
    extra = sorted(set(values) - set(names))
    if extra:
        raise ConfigError(f"unknown keys {extra} in [{name}]; allowed: {sorted(names)}{hint}")
    return dict(values)


def check_seeds(seeds, what: str = "a run") -> tuple[int, ...]:
    """``seeds`` as the tuple of seeds it stands for: a number n means the seeds 0, …, n−1,
    a sequence is the seeds themselves — the one meaning of ``seeds`` everywhere.

    Raises:
        ConfigError: no seed, or a seed that is not a non-negative integer.
    """
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        out = tuple(range(int(seeds)))
    else:
        try:
            out = tuple(check_integer(seed, "a seed", 0) for seed in seeds)
        except TypeError as error:
            raise ConfigError(f"seeds must be a number of seeds or a sequence of seeds, got "
                              f"{seeds!r}") from error
    if not out:
        raise ConfigError(f"{what} needs at least one seed")
    return out
