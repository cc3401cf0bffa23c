"""Feature learning after giant steps: the spiked random features one step leaves
(:func:`spiked_features`), the asymptotic test error of a ridge readout refitted on them
(:func:`readout_risk`, Cui et al. 2024, arXiv:2402.04980), the bulk spectrum it reads
(:func:`marchenko_pastur`, :func:`weight_spectrum`) and a finite-d simulation of the whole
protocol (:func:`simulate_readout`); the spectrum of the learned features' covariance, its
outlier and its bulk (:func:`feature_spectrum`, :func:`predict_outlier`,
:func:`bulk_density`); and several giant steps on a multi-index target — the staircase of
learned directions (:class:`GiantSteps`, :func:`staircase_overlaps`,
:func:`simulate_giant_steps`).
"""

from .bulk import (
    BulkDensity,
    bulk_density,
)
from .features import (
    ConditionalCoefficients,
    FeatureSpectrum,
    OutlierPrediction,
    conditional_coefficients,
    feature_spectrum,
    predict_outlier,
)
from .simulator import (
    ReadoutSimulation,
    first_layer_after_step,
    gradient_step,
    ridge_readout,
    simulate_readout,
)
from .spectrum import (
    Spectrum,
    marchenko_pastur,
    weight_spectrum,
)
from .staircase import (
    MAX_GIANT_STEPS,
    READOUT_SIGNS,
    GiantSteps,
    StaircaseOverlaps,
    StaircaseSimulation,
    simulate_giant_steps,
    staircase_overlaps,
)
from .step import (
    GiantStep,
    SpikedFeatures,
    spiked_features,
)
from .theory import (
    OVERLAPS,
    ReadoutRisk,
    notebook_bulk,
    readout_risk,
)

__all__ = [
    "bulk_density",
    "BulkDensity",
    "conditional_coefficients",
    "ConditionalCoefficients",
    "feature_spectrum",
    "FeatureSpectrum",
    "first_layer_after_step",
    "GiantStep",
    "GiantSteps",
    "gradient_step",
    "marchenko_pastur",
    "MAX_GIANT_STEPS",
    "notebook_bulk",
    "OutlierPrediction",
    "OVERLAPS",
    "predict_outlier",
    "READOUT_SIGNS",
    "readout_risk",
    "ReadoutRisk",
    "ReadoutSimulation",
    "ridge_readout",
    "simulate_giant_steps",
    "simulate_readout",
    "Spectrum",
    "spiked_features",
    "SpikedFeatures",
    "staircase_overlaps",
    "StaircaseOverlaps",
    "StaircaseSimulation",
    "weight_spectrum",
]
