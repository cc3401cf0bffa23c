r"""Parameter sweeps: a base model config plus axes, expanded to tasks (:class:`Sweep`).

A sweep is the Cartesian product of its axes over a base config. An axis is any field of
the spec (``protocol.eta``, ``student.p``, ``target.noise`` …), any key of the
``[integrate]`` section (``integrate.t_end`` …), an option of the task kind
(``options.n_test``), or a shorthand: ``d`` and ``seed`` (``integrate.d``,
``integrate.seed``: the dimension and seed of the random start, or of the simulation), or
a bare field name that only one section has (``eta``, ``n_b``, ``p``, ``noise``). Each
point of the product is one :class:`~overlapdyn.sweeps.tasks.Task` of the sweep's kind (``ode``,
``simulate``, ``validate``, or one registered later). In TOML, beside the model::

    [target] …  [student] …  [protocol] …    # the base model (overlapdyn.model.spec)
    [integrate] …                            # base run settings (overlapdyn.ode.config)

    [sweep]
    kind = "ode"                   # ode | simulate | validate | any registered kind
    [sweep.axes]                   # dimension name = list of values; order = dims order
    eta = [0.1, 0.5, 1.0]
    d = [1000, 10000]
    seed = [0, 1, 2, 3]
    [sweep.options]                # the kind's options (simulate: n_test; validate: ds, …)

The same in Python: ``Sweep(model, {"eta": [0.1, 0.5, 1.0], "d": [1000, 10000],
"seed": range(4)}, kind="ode", run={"t_end": 100})`` (``run``: the ``[integrate]`` keys,
or an :class:`~overlapdyn.ode.config.IntegrateConfig`). Axes over the width (``student.p``,
``target.k``) rebuild the per-neuron defaults at each width: give the base as a TOML file or
a dict of sections, and leave ``a``/``b`` out (their defaults are ones); a
:class:`~overlapdyn.model.spec.Model` base has its default ``a = 1``, ``c_p = 1/p``, ``b = 1``,
``c_k = 1/k`` dropped so that they follow the width too.

Run a sweep with :func:`overlapdyn.sweeps.runner.run_sweep` (Dask, resumable store), and gather its
results with :func:`overlapdyn.io.netcdf.aggregate` (an ``xarray.Dataset`` with one dimension
per axis).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..model.checks import check_section
from ..model.spec import Model, Protocol, Student, Target, model_from_dict
from ..ode.config import IntegrateConfig
from ..storage.encoding import json_digest, jsonable
from .tasks import Task, TaskKind, frozen, task_kind

__all__ = ["Axis", "Sweep", "sweep_from_dict"]

MODEL_SECTIONS = {"target": Target, "student": Student, "protocol": Protocol}
SECTIONS = (*MODEL_SECTIONS, "integrate", "options")
SHORTHANDS = {"d": "integrate.d", "seed": "integrate.seed"}
SWEEP_KEYS = ("kind", "axes", "options")


def _fields(section: str, kind: TaskKind) -> tuple[str, ...]:
    if section in MODEL_SECTIONS:
        return tuple(f.name for f in dataclasses.fields(MODEL_SECTIONS[section]))
    if section == "integrate":
        return IntegrateConfig.KEYS
    return tuple(kind.options)


@dataclass(frozen=True)
class Axis:
    """One sweep dimension.

    Attributes:
        name: the dimension's name, as written (``"eta"``, ``"protocol.eta"``, ``"d"``).
        section: ``target``, ``student``, ``protocol``, ``integrate`` or ``options``.
        key: the field in that section.
        values: the values, in order (each one setting of the field).
    """

    name: str
    section: str
    key: str
    values: tuple

    @property
    def path(self) -> str:
        return f"{self.section}.{self.key}"


def resolve_axis(name: str, values: Any, kind: TaskKind) -> Axis:
    """Build the :class:`Axis` written ``name = values`` (see the module docstring).

    Raises:
        ConfigError: unknown or ambiguous names, or values that are not a non-empty list
            of distinct settings; each message says what to write instead.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"a sweep axis needs a name, got {name!r}")
    path = SHORTHANDS.get(name, name)
    if "." in path:
        section, key = path.split(".", 1)
        if section not in SECTIONS:
            raise ConfigError(f"sweep axis {name!r}: unknown section {section!r}; write "
                              f"<section>.<key> with a section in {list(SECTIONS)}")
        if key not in _fields(section, kind):
            raise ConfigError(f"sweep axis {name!r}: [{section}] has no key {key!r}; allowed: "
                              f"{list(_fields(section, kind)) or 'none'}")
    else:
        owners = [s for s in SECTIONS if name in _fields(s, kind)]
        if not owners:
            hint = " (write seed = [0, 1, …])" if name == "seeds" else ""
            raise ConfigError(
                f"unknown sweep axis {name!r}{hint}; an axis is d, seed, a key of a section "
                f"written <section>.<key> (sections {list(SECTIONS)}), or a key that only "
                "one section has, e.g. eta, n_b, p")
        if len(owners) > 1:
            raise ConfigError(f"sweep axis {name!r} is ambiguous: write one of "
                              f"{[f'{s}.{name}' for s in owners]}")
        section, key = owners[0], name
    if section == "integrate" and key in kind.ignores:
        raise ConfigError(f"sweep axis {name!r}: {kind.name!r} tasks do not use "
                          f"integrate.{key}" + (" (set the dimensions with the option ds)"
                                                if kind.name == "validate" else ""))
    if isinstance(values, str | bytes | Mapping) or not isinstance(
            values, Iterable | np.ndarray):
        raise ConfigError(f"sweep axis {name!r} must be a list of values, e.g. "
                          f"{name} = [{values!r}, …]; got {values!r}")
    values = tuple(frozen(v) for v in values)
    if not values:
        raise ConfigError(f"sweep axis {name!r} has no values")
    if len(set(map(repr, values))) < len(values):
        raise ConfigError(f"sweep axis {name!r} repeats a value: {list(values)}")
    return Axis(name, section, key, values)


def _model_sections(model: Model) -> dict:
    """The sections of ``model`` with the width-dependent defaults left out."""
    sections = model.to_dict()
    sections.pop("name")
    student, target = sections["student"], sections["target"]
    if all(a == 1.0 for a in student["a"]):
        del student["a"]
    if student["c_p"] == 1 / student["p"]:
        del student["c_p"]
    if target.get("b") is not None and all(b == 1.0 for b in target["b"]):
        del target["b"]
    if target.get("c_k") is not None and target["c_k"] == 1 / target["k"]:
        del target["c_k"]
    return sections


def _read_only(mapping: Mapping) -> Mapping:
    return MappingProxyType({key: frozen(value) for key, value in mapping.items()})


@dataclass(frozen=True, eq=False)
class Sweep:
    """A base config and axes; :meth:`tasks` expands them (see the module docstring).
    The arguments are kept as attributes.

    Args:
        base: the base model: a :class:`~overlapdyn.model.spec.Model` or a mapping with the
            sections ``target``, ``student``, ``protocol`` (as in TOML). Stored as the
            sections (read-only).
        axes: ``{name: values}`` or a sequence of :class:`Axis` (dimension order).
        kind: the task kind, by name or as a :class:`~overlapdyn.sweeps.tasks.TaskKind`.
        run: the base ``[integrate]`` settings, an :class:`IntegrateConfig` or a mapping.
        options: the kind's options (defaults filled in).
        name: the models' name (the config file's stem for :func:`load_sweep`).

    Raises:
        ConfigError: a malformed base, axis or option (naming it and the fix).
    """

    base: Any
    axes: Any = ()
    kind: Any = "ode"
    run: Any = field(default_factory=dict)
    options: Any = field(default_factory=dict)
    name: str = "sweep"

    def __post_init__(self) -> None:
        def put(name, value):
            object.__setattr__(self, name, value)

        kind = task_kind(self.kind)
        put("kind", kind)
        if isinstance(self.base, Model):
            base = _model_sections(self.base)
        elif isinstance(self.base, Mapping):
            extra = sorted(set(self.base) - {*MODEL_SECTIONS, "name"})
            if extra:
                raise ConfigError(f"a sweep's base holds the model sections "
                                  f"{list(MODEL_SECTIONS)} only; move {extra} out (run "
                                  "settings go to run=, options to options=)")
            model_from_dict(dict(self.base))  # missing or malformed sections fail here
            base = {s: dict(self.base[s]) for s in MODEL_SECTIONS}
        else:
            raise ConfigError(f"a sweep's base must be a Model or a dict of sections "
                              f"{list(MODEL_SECTIONS)}, got {type(self.base).__name__}")
        put("base", MappingProxyType({s: _read_only(v) for s, v in base.items()}))
        run = self.run.to_dict() if isinstance(self.run, IntegrateConfig) else dict(self.run)
        IntegrateConfig.from_dict(run)
        put("run", _read_only(run))
        options = dict(self.options)
        unknown = sorted(set(options) - set(kind.options))
        if unknown:
            raise ConfigError(f"unknown [sweep.options] {unknown} for {kind.name!r} tasks; "
                              f"allowed: {sorted(kind.options) or 'none'}")
        put("options", _read_only({**kind.options, **options}))
        axes = self.axes.items() if isinstance(self.axes, Mapping) else [
            (a.name, a.values) if isinstance(a, Axis) else a for a in self.axes]
        axes = tuple(resolve_axis(name, values, kind) for name, values in axes)
        paths = [a.path for a in axes]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            raise ConfigError(f"two sweep axes set the same field {twice}; keep one")
        taken = {dim for dims in kind.dims.values() for dim in dims} | set(kind.dims)
        clash = sorted(a.name for a in axes if a.name in taken)
        if clash:
            raise ConfigError(f"sweep axes {clash} clash with the names of {kind.name!r} "
                              f"results; write them as <section>.<key>")
        put("axes", axes)

    # ------------------------------------------------------------------ the grid

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.values) for a in self.axes)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def dims(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    def points(self) -> Iterable[dict]:
        """The grid points in C order: ``{axis name: value}`` each."""
        for combo in itertools.product(*(a.values for a in self.axes)):
            yield dict(zip(self.dims, combo, strict=True))

    def tasks(self) -> list[Task]:
        """One task per grid point, in C order (the last axis fastest).

        Raises:
            ConfigError: a point that is not a valid config (e.g. ``student.a`` of the base
                too short for a width on a ``p`` axis), naming the point.
        """
        built: dict = {}
        out = []
        for point in self.points():
            changes: dict[str, dict] = {s: {} for s in SECTIONS}
            for axis in self.axes:
                changes[axis.section][axis.key] = point[axis.name]
            try:
                parts = {}
                for section in (*MODEL_SECTIONS, "integrate"):
                    memo = (section, tuple(sorted(changes[section].items())))
                    if memo not in built:
                        values = {**(self.run if section == "integrate" else
                                     self.base[section]), **changes[section]}
                        values = {k: jsonable(v, k) for k, v in values.items()}
                        built[memo] = (IntegrateConfig.from_dict(values)
                                       if section == "integrate" else
                                       MODEL_SECTIONS[section](**values))
                    parts[section] = built[memo]
                model = Model(parts["target"], parts["student"], parts["protocol"],
                              name=self.name)
                options = {**self.options, **changes["options"]}
                out.append(Task(self.kind, model, parts["integrate"], tuple(options.items())))
            except (ConfigError, TypeError) as error:
                where = ", ".join(f"{k} = {v!r}" for k, v in point.items())
                raise ConfigError(f"the sweep point {where} is not a valid config: "
                                  f"{error}") from error
        return out

    # --------------------------------------------------------------- serialising

    def to_dict(self) -> dict:
        """The TOML layout as plain JSON types; :func:`sweep_from_dict` reads it back."""
        return {
            "name": self.name,
            **{s: {k: jsonable(v, k) for k, v in self.base[s].items()} for s in MODEL_SECTIONS},
            "integrate": {k: jsonable(v, k) for k, v in self.run.items()},
            "sweep": {"kind": self.kind.name,
                      "axes": {a.name: jsonable(a.values, a.name) for a in self.axes},
                      "options": {k: jsonable(v, k) for k, v in self.options.items()}},
        }

    def fingerprint(self) -> str:
        """A hash of :meth:`to_dict` (the name left out)."""
        payload = self.to_dict()
        payload.pop("name")
        return json_digest(payload)


def sweep_from_dict(config: Mapping, name: str = "sweep") -> Sweep:
    """Build a :class:`Sweep` from the TOML layout (a model, ``[integrate]``, ``[sweep]``).

    Raises:
        ConfigError: no ``[sweep]`` table, unknown keys in it, or a malformed axis/option.
    """
    if "sweep" not in config:
        raise ConfigError("the config has no [sweep] section; add one with a [sweep.axes] "
                          "table, e.g.\n[sweep]\nkind = \"ode\"\n[sweep.axes]\n"
                          "eta = [0.1, 0.5]\nseed = [0, 1, 2]")
    table = config["sweep"]
    if not isinstance(table, Mapping):
        raise ConfigError("'sweep' must be a table: write [sweep] and its keys below")
    check_section(table, "sweep", SWEEP_KEYS, hint=" (axes go into [sweep.axes], the kind's "
                  "options into [sweep.options])")
    for key in ("axes", "options"):
        if not isinstance(table.get(key, {}), Mapping):
            raise ConfigError(f"sweep.{key} must be a table: write [sweep.{key}] and "
                              "name = value lines below it")
    integrate = config.get("integrate", {})
    if not isinstance(integrate, Mapping):
        raise ConfigError("'integrate' must be a table: write [integrate] and its keys below")
    if "derivation" in config:  # refused, not ignored: every task would use Auto()
        raise ConfigError("sweeps do not read [derivation] yet (each task derives its kernels "
                          "with the automatic choice); remove the [derivation] section from "
                          "the sweep file")
    model_from_dict(dict(config), name=name)  # unknown sections and keys fail here
    kind = table.get("kind", "ode")
    if not isinstance(kind, str):
        raise ConfigError(f"sweep.kind must be a string, got {kind!r}")
    return Sweep({s: config[s] for s in MODEL_SECTIONS}, table.get("axes", {}), kind,
                 integrate, table.get("options", {}), name=str(config.get("name", name)))


