"""What a user writes down: target, student and protocol (:class:`Model`), activations
and formulas, and the checks of every user-given value.
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
from .expressions import (
    parse_expression,
)
from .spec import (
    Model,
    Protocol,
    Student,
    Target,
    model_from_dict,
)

__all__ = [
    "Activation",
    "activation",
    "check_covariance",
    "check_finite",
    "check_flag",
    "check_floats",
    "check_integer",
    "check_real",
    "known_activations",
    "Model",
    "model_from_dict",
    "parse_expression",
    "Protocol",
    "Student",
    "Target",
    "X",
]
