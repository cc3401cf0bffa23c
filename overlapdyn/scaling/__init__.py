"""Scaling laws: leaps, predicted sample-complexity exponents, fitted exponents, escape
times against d, saddle-to-saddle analysis, and the (κ, δ) phase diagram of wide networks.
"""

from .escape import (
    EscapeComparison,
    EscapeTimes,
    compare_escape_times,
    escape_horizon,
    escape_runs_ode,
    escape_time,
    learned_overlaps,
    measure_escape_ode,
    measure_escape_sde,
    measure_escape_simulated,
    model_at,
)
from .leaps import (
    Leap,
    is_merged_staircase,
    leap,
)
from .phases import (
    PHASES,
    PhaseDiagram,
    PhasePoint,
    PhaseSetup,
    boundary_distance,
    classify_phase,
    paper_phase,
    phase_diagram,
    phase_point,
    time_exponent,
)
from .prediction import (
    ExponentFit,
    ScalingPrediction,
    fit_exponent,
    predict_scaling,
)
from .saddles import (
    Plateau,
    SaddleToSaddle,
    saddle_to_saddle,
)
from .start import (
    CriticalLearningRate,
    critical_learning_rate,
    escape_start,
    escaping_learning_rate,
)

__all__ = [
    "boundary_distance",
    "classify_phase",
    "paper_phase",
    "PHASES",
    "phase_diagram",
    "phase_point",
    "PhaseDiagram",
    "PhasePoint",
    "PhaseSetup",
    "time_exponent",
    "compare_escape_times",
    "critical_learning_rate",
    "CriticalLearningRate",
    "escape_horizon",
    "escape_runs_ode",
    "escape_start",
    "escaping_learning_rate",
    "escape_time",
    "learned_overlaps",
    "EscapeComparison",
    "EscapeTimes",
    "ExponentFit",
    "fit_exponent",
    "is_merged_staircase",
    "Leap",
    "leap",
    "measure_escape_ode",
    "measure_escape_sde",
    "measure_escape_simulated",
    "model_at",
    "Plateau",
    "predict_scaling",
    "saddle_to_saddle",
    "SaddleToSaddle",
    "ScalingPrediction",
]
