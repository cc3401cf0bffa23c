"""Reading configuration files (TOML): models, ODE runs, sweeps and depth experiments."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

from ..depth.config import DepthConfig
from ..derive.methods import Derivation, derivation_from_config
from ..errors import ConfigError
from ..model.spec import Model, model_from_dict
from ..ode.config import IntegrateConfig
from ..sweeps.sweep import Sweep, sweep_from_dict

__all__ = ["apply_overrides", "load_depth_config", "load_derivation", "load_model", "load_run",
           "load_sweep", "read_toml"]


def read_toml(path: str | Path) -> dict:
    """A TOML file as a dict; a missing, unreadable, binary or folder path, or bad TOML, is a
    ConfigError naming the file."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"config file {path} not found") from error
    except IsADirectoryError as error:
        raise ConfigError(f"config file {path} is a folder; give the TOML file in it "
                          f"(e.g. {path}/model.toml)") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"config file {path} is not a text file (byte {error.start} is not "
                          f"UTF-8); give the TOML file") from error
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from error


def load_model(path: str | Path) -> Model:
    """Read a model from a TOML file (layout in this module's docstring)."""
    return model_from_dict(read_toml(path), name=Path(path).stem)


def apply_overrides(config: dict, overrides: Sequence[str]) -> dict:
    """``config`` (a TOML file's tables) with each ``"TABLE.KEY=VALUE"`` of ``overrides`` set,
    e.g. ``"protocol.eta=0.3"``, ``"integrate.seed=2"``, ``"student.activation=relu"``.

    A value is read as TOML (``0.3``, ``2``, ``true``, ``[0.1, 0.2]``, ``"text"``), and as
    the plain text it is when it is no TOML value (``relu``, ``z1*z2``); the tables' own
    checks then judge it as if the file held it. Returns a new dict; ``config`` is kept.

    Raises:
        ConfigError: an override that is not ``TABLE.KEY=VALUE``, or whose table is in the
            file but is no table.
    """
    result = {name: dict(value) if isinstance(value, dict) else value
              for name, value in config.items()}
    for override in overrides:
        target, equals, text = override.partition("=")
        table, dot, key = target.strip().partition(".")
        if not (equals and dot and table and key and "." not in key):
            raise ConfigError(f"override {override!r} is not TABLE.KEY=VALUE: write e.g. "
                              "protocol.eta=0.3 or integrate.seed=2")
        if not isinstance(result.setdefault(table, {}), dict):
            raise ConfigError(f"override {override!r}: {table!r} is not a table of the file")
        try:
            value = tomllib.loads(f"value = {text.strip()}")["value"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        result[table][key] = value
    return result


def load_run(path: str | Path, overrides: Sequence[str] = ()) -> tuple[Model, IntegrateConfig]:
    """Read a model and its ``[integrate]`` section (defaults if absent) from one TOML file,
    with ``overrides`` (``"TABLE.KEY=VALUE"``, :func:`apply_overrides`) set first."""
    path = Path(path)
    config = apply_overrides(read_toml(path), overrides)
    model = model_from_dict(config, name=path.stem)
    section = config.get("integrate", {})
    if not isinstance(section, dict):
        raise ConfigError("'integrate' must be a table: write [integrate] and its keys below")
    return model, IntegrateConfig.from_dict(section)


def load_derivation(path: str | Path) -> Derivation | None:
    """The derivation method of a model file's ``[derivation]`` section, or None when it has
    none (then :class:`~overlapdyn.derive.methods.Auto` applies); the layout is
    :func:`~overlapdyn.derive.methods.derivation_from_config`'s, e.g.::

        [derivation]
        method = "hermite"
        order = 4

    Raises:
        ConfigError: an unknown method or key, or a bad value, named with the allowed ones.
    """
    config = read_toml(path)
    return derivation_from_config(config["derivation"]) if "derivation" in config else None


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep from a TOML file: the model, ``[integrate]`` and ``[sweep]``."""
    return sweep_from_dict(read_toml(path), name=Path(path).stem)


def load_depth_config(path: str | Path) -> DepthConfig:
    """Read a :class:`DepthConfig` from TOML."""
    return DepthConfig.from_dict(read_toml(path), name=Path(path).stem)
