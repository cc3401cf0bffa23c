"""The result of an ODE integration or state evolution: overlaps along a learning curve.

A :class:`Trajectory` holds the overlaps ``M = WUᵀ/d`` (p×k), ``Q = WWᵀ/d`` (p×p), the
readout ``a`` (p) and the population risk ``R`` on the time grid ``t = steps/d`` (SPEC), with
the :class:`~overlapdyn.model.spec.Model` that produced them.

Files are one ``.npz`` holding the arrays plus a JSON header (model spec, status, message,
metadata): npz is portable and numpy-native, and JSON keeps the config human-readable, with no
dependency beyond numpy. Saves are atomic: the file is written under a temporary name in the
same folder and then renamed, so an interrupted save never leaves a truncated file.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import OverlapdynError
from ..model.spec import Model, model_from_dict
from ..storage.encoding import jsonable
from ..storage.files import atomic_write

__all__ = ["State", "Trajectory"]

_FORMAT = "overlapdyn.Trajectory"
_VERSION = 1
_STATUSES = (-1, 0, 1)


class State(NamedTuple):
    """The overlaps at one grid point: ``t``, ``M`` (p×k), ``Q`` (p×p), ``a`` (p), ``risk``."""

    t: float
    M: np.ndarray
    Q: np.ndarray
    a: np.ndarray
    risk: float


@dataclass(frozen=True, eq=False, repr=False)
class Trajectory:
    """Overlaps along a learning curve, on the ODE's time grid ``t = steps/d`` (SPEC).

    Attributes:
        t: times, shape (T,).
        M: student–teacher overlaps ``M = WUᵀ/d``, shape (T, p, k).
        Q: student–student overlaps ``Q = WWᵀ/d``, shape (T, p, p).
        a: readout, shape (T, p).
        risk: population risk ``R(t)``, shape (T,).
        model: the model whose dynamics these are.
        status: 0 reached the end time; 1 a terminating event stopped it; -1 the integration
            failed (blow-up …).
        message: the solver's message.
        metadata: versions, solver options, events, wall time … (JSON-serialisable to save).

    The arrays are float copies and read-only. Equality is identity (arrays have no single
    truth value); compare fields with ``np.testing`` instead.
    """

    t: np.ndarray
    M: np.ndarray
    Q: np.ndarray
    a: np.ndarray
    risk: np.ndarray
    model: Model
    status: int = 0
    message: str = ""
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.model, Model):
            raise OverlapdynError(f"Trajectory.model must be an overlapdyn Model, got "
                                  f"{type(self.model).__name__}")
        t = np.array(self.t, dtype=float)
        if t.ndim != 1 or len(t) == 0:
            raise OverlapdynError(f"Trajectory.t must have shape (T,) with T ≥ 1, got shape "
                                  f"{t.shape}")
        T, p, k = len(t), self.model.p, self.model.k
        expected = {"t": (T,), "M": (T, p, k), "Q": (T, p, p), "a": (T, p), "risk": (T,)}
        for name, shape in expected.items():
            array = np.array(getattr(self, name), dtype=float)  # a copy, never a view
            if array.shape != shape:
                raise OverlapdynError(
                    f"Trajectory.{name} must have shape {shape} (T={T}, p={p}, k={k}), got "
                    f"{array.shape}")
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        if self.status not in _STATUSES or isinstance(self.status, bool):
            raise OverlapdynError(f"Trajectory.status must be one of {_STATUSES}, got "
                                  f"{self.status!r}")
        object.__setattr__(self, "status", int(self.status))
        object.__setattr__(self, "message", str(self.message))
        if not isinstance(self.metadata, dict):
            raise OverlapdynError(f"Trajectory.metadata must be a dict, got "
                                  f"{type(self.metadata).__name__}")
        object.__setattr__(self, "metadata", dict(self.metadata))

    def __repr__(self) -> str:
        return (f"Trajectory(model={self.model.name!r}, p={self.model.p}, k={self.model.k}, "
                f"T={len(self.t)}, t=[{self.t[0]:.4g}, {self.t[-1]:.4g}], "
                f"final risk={self.risk[-1]:.4g}, status={self.status})")

    def samples(self, d: int) -> np.ndarray:
        """Samples used up to each grid point, ``n = t·d·n_b`` (shape (T,), float)."""
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1:
            raise OverlapdynError(f"the input dimension d must be a positive integer, got {d!r}")
        return self.t * d * self.model.protocol.n_b

    def at(self, time: float) -> State:
        """The state at the grid point nearest to ``time`` (the first one on a tie)."""
        if not np.isfinite(time):
            raise OverlapdynError(f"time must be finite, got {time!r}")
        i = int(np.argmin(np.abs(self.t - time)))
        return State(float(self.t[i]), self.M[i], self.Q[i], self.a[i], float(self.risk[i]))

    @property
    def final(self) -> State:
        """The last state on the grid."""
        return State(float(self.t[-1]), self.M[-1], self.Q[-1], self.a[-1],
                     float(self.risk[-1]))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the trajectory to ``path`` (one ``.npz``, written atomically); returns the path.

        Metadata must be JSON-serialisable; numpy scalars and arrays are converted to numbers
        and lists (tuples, too, come back as lists).

        Raises:
            OverlapdynError: the metadata holds something JSON cannot store (nothing is written).
        """
        path = Path(path)
        header = json.dumps({
            "format": _FORMAT, "version": _VERSION, "model": self.model.to_dict(),
            "status": self.status, "message": self.message,
            "metadata": jsonable(self.metadata, "metadata"),
        })
        arrays = {"t": self.t, "M": self.M, "Q": self.Q, "a": self.a, "risk": self.risk,
                  "header": np.array(header)}
        atomic_write(path, lambda handle: np.savez_compressed(handle, **arrays))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Trajectory:
        """Read a trajectory written by :meth:`save`.

        Raises:
            OverlapdynError: the file is not a saved trajectory (names the path and why).
            OSError: the file cannot be opened.
        """
        path = Path(path)
        with open(path, "rb") as fh:
            # Anything that goes wrong past opening means "not a trajectory file": numpy, zip,
            # JSON and the spec each raise their own exception types.
            try:
                if not zipfile.is_zipfile(fh):
                    raise OverlapdynError("it is not an .npz (zip) archive")
                fh.seek(0)
                with np.load(fh, allow_pickle=False) as data:
                    arrays = {name: data[name] for name in ("t", "M", "Q", "a", "risk")}
                    header = json.loads(str(data["header"][()]))
                if header.get("format") != _FORMAT:
                    raise OverlapdynError(f"its header has format {header.get('format')!r}")
                if header.get("version") != _VERSION:
                    raise OverlapdynError(f"it has format version {header.get('version')!r}; "
                                          f"this overlapdyn reads version {_VERSION}")
                model = model_from_dict(header["model"])
                return cls(**arrays, model=model, status=header["status"],
                           message=header["message"], metadata=header["metadata"])
            except Exception as error:
                why = error if isinstance(error, OverlapdynError) else (
                    f"{type(error).__name__}: {error}")
                raise OverlapdynError(f"{path} is not a saved overlapdyn Trajectory: "
                                      f"{why}") from error


