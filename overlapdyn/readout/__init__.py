"""Feature learning after one giant step: the spiked random features the step leaves
(:func:`spiked_features`), the asymptotic test error of a ridge readout refitted on them
(:func:`readout_risk`, Cui et al. 2024, arXiv:2402.04980), the bulk spectrum it reads
(:func:`marchenko_pastur`, :func:`weight_spectrum`) and a finite-d simulation of the whole
protocol (:func:`simulate_readout`).
"""

from .simulator import (
    ReadoutSimulation,
    simulate_readout,
)
from .spectrum import (
    Spectrum,
    marchenko_pastur,
    weight_spectrum,
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
    "GiantStep",
    "marchenko_pastur",
    "notebook_bulk",
    "OVERLAPS",
    "readout_risk",
    "ReadoutRisk",
    "ReadoutSimulation",
    "simulate_readout",
    "Spectrum",
    "spiked_features",
    "SpikedFeatures",
    "weight_spectrum",
]
