"""Finite-d one-pass SGD (the ground truth of the ODEs) and the validation of theory
against it: by the ODE's sup-norm gaps, or statistically by the overlap SDE.
"""

from .simulator import (
    Simulation,
    simulate,
    warm_start_weights,
)
from .statistical import (
    SDEValidationReport,
    StatisticalVerdict,
    validate_sde,
)
from .validation import (
    ValidationReport,
    summary_curves,
    validate,
)

__all__ = [
    "SDEValidationReport",
    "simulate",
    "Simulation",
    "StatisticalVerdict",
    "summary_curves",
    "validate",
    "validate_sde",
    "ValidationReport",
    "warm_start_weights",
]
