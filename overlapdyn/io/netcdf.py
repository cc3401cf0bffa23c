r"""A sweep's results as one labelled N-d dataset (xarray), and its file (netCDF).

:func:`aggregate` reads the record of every grid point of a :class:`~overlapdyn.sweeps.sweep.Sweep`
from its store and returns an :class:`xarray.Dataset` with one dimension per axis
(coordinates: the axis values) and, per value of the task kind, a variable over those
dimensions and the value's own (``risk``: ``(*axes, t)``, ``M_final``: ``(*axes, j, r)``, a
scalar such as ``final_risk``: ``(*axes)``). So ``ds.final_risk.sel(eta=0.5).mean("seed")``,
``ds.risk.sel(t=10, method="nearest")`` or ``ds.event_time.median("seed")`` need no index
bookkeeping. Values whose shape changes along an axis (``M_final`` over a ``p`` axis) are
padded with NaN to the largest shape; missing and failed tasks are NaN too, and told apart
by ``status`` (CF flags: 0 missing, 1 done, 2 failed) with the message in ``error``.
``ds.attrs["library_versions"]`` holds the versions of overlapdyn, NumPy, SciPy and Numba
(JSON).
A value named like its only dimension (``t``) becomes that dimension's coordinate when every
task has the same one (else it stays a variable, ``t_values``; so does a value named like an
axis). Also per point: ``key``
(the task's record), ``wall_time_s``, ``numba_compiles``. ``ds.attrs["sweep"]`` holds the
sweep as JSON (:meth:`Sweep.to_dict <overlapdyn.sweeps.sweep.Sweep.to_dict>`).

Why xarray: it is the field's standard for labelled N-d arrays (named dimensions,
coordinate-based selection, broadcasting, groupby, pandas interop) and reads/writes netCDF
natively; the alternative — NumPy arrays plus hand-kept index lists — is what it replaces.

Why netCDF-3 (64-bit offset) through SciPy: SciPy is already a dependency, so the file
needs no HDF5, netCDF-C or zarr install; it is self-describing, readable by every netCDF tool
and language, and holds strings and attributes. Its limits — no compression, no 64-bit
integers (stored as 32-bit) — do not matter at sweep sizes (10⁴ tasks × 200 times is
16 MB). Zarr would pay off for datasets written in parallel by many workers, which this is
not: the results are gathered once, on the client.
"""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import numpy as np

from ..storage.files import atomic_write
from ..storage.store import ResultStore
from ..storage.versions import __version__, library_versions
from ..sweeps.sweep import Sweep

__all__ = ["STATUS", "aggregate", "load_dataset", "save_dataset"]

#: The ``status`` flag of each point of a dataset (CF flag values and meanings).
STATUS = {"missing": 0, "done": 1, "failed": 2}


def _coordinate(values: tuple) -> np.ndarray:
    """Axis values as a coordinate: numbers/strings as they are, anything else as text."""
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=float)
    return np.array([v if isinstance(v, str) else json.dumps(v) for v in values],
                    dtype=object)


def aggregate(sweep: Sweep, store: ResultStore | str | os.PathLike):
    """The results of ``sweep`` found in ``store`` as an :class:`xarray.Dataset` (see the
    module docstring). Points without a record are ``status = 0`` and NaN."""
    import xarray as xr

    store = store if isinstance(store, ResultStore) else ResultStore(store, create=False)
    shape, kind = sweep.shape, sweep.kind
    tasks = sweep.tasks()
    records = [store.get(task.key) for task in tasks]
    status = np.array([STATUS[r["status"]] if r else 0 for r in records], dtype=np.int8)
    error = np.array([(r or {}).get("error") or "" for r in records], dtype=object)
    wall = np.array([(r or {}).get("wall_time_s", np.nan) for r in records], dtype=float)
    compiles = np.array([(r or {}).get("numba_compiles", -1) for r in records],
                        dtype=np.int32)
    done = [i for i, r in enumerate(records) if r and r["status"] == "done"]
    names = list(dict.fromkeys(name for i in done for name in records[i]["values"]))
    dims = tuple(sweep.dims)
    variables, coords = {}, {a.name: _coordinate(a.values) for a in sweep.axes}
    for name in names:
        own = kind.dims.get(name, ())
        arrays = {i: np.asarray(records[i]["values"][name], dtype=float) for i in done
                  if name in records[i]["values"]}
        ndim = {a.ndim for a in arrays.values()}
        if ndim != {len(own)}:
            raise ValueError(f"the {kind.name!r} value {name!r} has {sorted(ndim)} "
                             f"dimensions in the records, but the kind declares {own}")
        first = next(iter(arrays.values()))
        if own == (name,) and all(a.shape == first.shape and np.array_equal(a, first)
                                  for a in arrays.values()):
            coords[name] = first
            continue
        extent = tuple(max(a.shape[axis] for a in arrays.values()) for axis in range(len(own)))
        data = np.full((len(tasks), *extent), np.nan)
        for i, array in arrays.items():
            data[(i, *(slice(0, n) for n in array.shape))] = array
        label = f"{name}_values" if own == (name,) or name in coords else name
        variables[label] = ((*dims, *own), data.reshape(*shape, *extent))
    variables["status"] = (dims, status.reshape(shape), {
        "flag_values": np.array(list(STATUS.values()), dtype=np.int8),
        "flag_meanings": " ".join(STATUS)})
    variables["error"] = (dims, error.reshape(shape))
    variables["key"] = (dims, np.array([t.key for t in tasks], dtype=object).reshape(shape))
    variables["wall_time_s"] = (dims, wall.reshape(shape))
    variables["numba_compiles"] = (dims, compiles.reshape(shape))
    return xr.Dataset(variables, coords=coords, attrs={
        "title": f"overlapdyn sweep {sweep.name!r} ({kind.name} tasks)",
        "kind": kind.name, "sweep": json.dumps(sweep.to_dict()),
        "sweep_fingerprint": sweep.fingerprint(), "overlapdyn": __version__,
        "library_versions": json.dumps(library_versions()),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tasks_done": int((status == 1).sum()), "tasks_failed": int((status == 2).sum()),
        "tasks_missing": int((status == 0).sum())})


def save_dataset(dataset, path: str | os.PathLike) -> Path:
    """Write ``dataset`` as netCDF-3 (64-bit offset) via SciPy, atomically; returns the path."""
    path = Path(path)
    payload = dataset.to_netcdf(None, engine="scipy", format="NETCDF3_64BIT")
    data = bytes(payload) if not isinstance(payload, io.BytesIO) else payload.getvalue()
    atomic_write(path, lambda handle: handle.write(data))
    return path


def load_dataset(path: str | os.PathLike):
    """Read a dataset written by :func:`save_dataset` (loaded into memory, file closed)."""
    import xarray as xr

    with xr.open_dataset(path, engine="scipy") as dataset:
        return dataset.load()
