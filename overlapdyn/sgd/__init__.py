"""Finite-d one-pass SGD (the ground truth of the ODEs) and the validation of theory
against it.
"""

from .simulator import (
    Simulation,
    simulate,
    warm_start_weights,
)
from .validation import (
    ValidationReport,
    summary_curves,
    validate,
)

__all__ = [
    "simulate",
    "Simulation",
    "summary_curves",
    "validate",
    "ValidationReport",
    "warm_start_weights",
]
