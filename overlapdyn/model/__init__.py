"""What a user writes down: target, student and protocol (:class:`Model`), the parts of the
drift kept (:class:`Terms`), activations and formulas, and the checks of every user-given
value.
"""

from ..storage.lazy import lazy_namespace

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
__getattr__, __dir__ = lazy_namespace(__name__, _HOMES, submodules=True)


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
