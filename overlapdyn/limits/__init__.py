"""Learnability limits beyond one-pass SGD: the generative exponent of a link, the
weak-recovery thresholds of AMP / optimal spectral methods (trivial, easy and hard
subspaces, the staircase), from the conditional law of the latent fields given the label,
the Bayes-optimal overlap q(α) of a single-index channel (AMP's state evolution) with a
finite-d GAMP that approaches it, the overlap matrix Q(α) of a multi-index channel (two
fields, or radial links of any number), the optimal spectral estimators run on data at finite d,
and the learnability profile of a target that puts these beside online SGD's leap.

Conventions: SPEC's ``x ~ N(0, I_d)`` and fields ``z ~ N(0, I_k)``; ``n = α d`` samples; the
papers' ``x ~ N(0, I_d/d)`` give the same fields and α (:mod:`overlapdyn.limits.links`).
"""

from .bayes import (
    BayesOptimalCurve,
    ChannelInformation,
    OutputChannel,
    bayes_optimal_overlap,
    channel_information,
    output_channel,
)
from .bayes_multi import (
    FIRST_ORDER_GAP,
    OVERLAP_MAX,
    FixedPoint,
    MultiIndexChannel,
    MultiIndexCurve,
    SELinearisation,
    multi_index_channel,
    multi_index_overlap,
    se_fixed_point,
    se_linearisation,
)
from .conditional import ConditionalGram, conditional_gram
from .features import HermiteFeatures, hermite_features
from .gamp import (
    GampRun,
    GampSweep,
    MultiIndexGampRun,
    MultiIndexGampSweep,
    gamp_data,
    gamp_sweep,
    multi_index_gamp_data,
    multi_index_gamp_sweep,
    run_gamp,
    run_multi_index_gamp,
)
from .generative import (
    GenerativeExponent,
    generative_exponent,
    moment_tensor_order,
    predict_scaling_with_reuse,
)
from .links import Link, as_link
from .profile import LearnabilityProfile, learnability
from .spectral import (
    AsymmetricSpectrum,
    MultiIndexData,
    Preprocessing,
    SpectralEstimate,
    SpectralOverlaps,
    asymmetric_estimator,
    asymmetric_spectrum,
    label_preprocessing,
    multi_index_data,
    spectral_overlaps,
    subspace_overlap,
    symmetric_estimator,
)
from .thresholds import (
    RecoveryThresholds,
    StaircaseStep,
    operator_F,
    symmetric_basis,
    weak_recovery_thresholds,
)

__all__ = [
    "FIRST_ORDER_GAP",
    "OVERLAP_MAX",
    "AsymmetricSpectrum",
    "BayesOptimalCurve",
    "ChannelInformation",
    "ConditionalGram",
    "FixedPoint",
    "GampRun",
    "GampSweep",
    "MultiIndexGampRun",
    "MultiIndexGampSweep",
    "GenerativeExponent",
    "HermiteFeatures",
    "LearnabilityProfile",
    "MultiIndexChannel",
    "MultiIndexCurve",
    "OutputChannel",
    "Link",
    "MultiIndexData",
    "Preprocessing",
    "RecoveryThresholds",
    "SELinearisation",
    "SpectralEstimate",
    "SpectralOverlaps",
    "StaircaseStep",
    "as_link",
    "asymmetric_estimator",
    "asymmetric_spectrum",
    "bayes_optimal_overlap",
    "channel_information",
    "conditional_gram",
    "gamp_data",
    "gamp_sweep",
    "generative_exponent",
    "hermite_features",
    "label_preprocessing",
    "learnability",
    "moment_tensor_order",
    "multi_index_channel",
    "multi_index_data",
    "multi_index_gamp_data",
    "multi_index_gamp_sweep",
    "multi_index_overlap",
    "operator_F",
    "se_fixed_point",
    "se_linearisation",
    "spectral_overlaps",
    "subspace_overlap",
    "symmetric_basis",
    "symmetric_estimator",
    "output_channel",
    "predict_scaling_with_reuse",
    "run_gamp",
    "run_multi_index_gamp",
    "weak_recovery_thresholds",
]
