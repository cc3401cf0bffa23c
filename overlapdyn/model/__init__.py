"""What a user writes down: target, student and protocol (:class:`Model`), the parts of the
drift kept (:class:`Terms`), activations and formulas, and the checks of every user-given
value.
"""

from .activations import (
    Activation,
    X,
    activation,
    known_activations,
)
from .checks import (
    check_covariance,
    check_finite,
    check_flag,
    check_floats,
    check_integer,
    check_real,
)
from .formula import (
    FUNCTIONS,
    parse_formula,
)
from .spec import (
    Model,
    Protocol,
    Student,
    Target,
    check_drift_cost,
    model_from_dict,
    section_dict,
    target_from_dict,
)
from .terms import (
    PRESETS,
    TERM_NAMES,
    Terms,
)

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
