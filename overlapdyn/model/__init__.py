"""What a user writes down: target, student and protocol (:class:`Model`), the parts of the
drift kept (:class:`Terms`), activations and formulas, and the checks of every user-given
value.
"""

import importlib
import importlib.util

# Each name is imported from its module on first use (PEP 562), so that a model of named
# activations is built without SymPy (overlapdyn.model.spec imports neither activations nor
# formula at module level).
_HOMES = {
    "activations": ("Activation", "X", "activation", "known_activations"),
    "checks": ("check_covariance", "check_finite", "check_flag", "check_floats", "check_integer",
               "check_real"),
    "formula": ("FUNCTIONS", "parse_formula"),
    "spec": ("Model", "Protocol", "Student", "Target", "check_drift_cost", "model_from_dict",
             "section_dict", "target_from_dict"),
    "terms": ("PRESETS", "TERM_NAMES", "Terms"),
}
_HOME_OF = {name: home for home, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name in _HOME_OF:
        value = getattr(importlib.import_module(f".{_HOME_OF[name]}", __name__), name)
        globals()[name] = value   # the next lookup is a plain attribute
        return value
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}"):
        return importlib.import_module(f".{name}", __name__)   # a submodule, as before
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Activation",
    "activation",
    "check_covariance",
    "check_drift_cost",
    "check_finite",
    "check_flag",
    "check_floats",
    "check_integer",
    "check_real",
    "FUNCTIONS",
    "known_activations",
    "Model",
    "model_from_dict",
    "parse_formula",
    "PRESETS",
    "Protocol",
    "section_dict",
    "Student",
    "Target",
    "target_from_dict",
    "TERM_NAMES",
    "Terms",
    "X",
]
