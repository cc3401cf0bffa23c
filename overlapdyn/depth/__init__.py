"""Hierarchical targets and the computational advantage of depth: targets and their
thresholds, three-layer layer-wise training, the first layer's few-overlap theory and its
finite-d weak-recovery point.
"""

from .config import (
    DepthConfig,
    KappaSweep,
    Network,
    Training,
)
from .experiment import (
    DepthResult,
    run_depth,
)
from .first_layer import (
    Stage1Constants,
    Stage1Validation,
    simulate_stage1,
    stage1_constants,
    stage1_theory,
    validate_stage1,
)
from .recovery import (
    WeakRecovery,
    posterior_mean_power,
    unsupported,
    weak_recovery,
)
from .ridge import (
    RidgeFit,
    quadratic_features,
    ridge_loo,
)
from .targets import (
    HierarchicalTarget,
    TargetInstance,
    Thresholds,
    compositional_exponents,
    inner_polynomial,
    thresholds,
)
from .training import (
    joint_training,
    run_instance,
    stage1,
)

__all__ = [
    "compositional_exponents",
    "DepthConfig",
    "DepthResult",
    "HierarchicalTarget",
    "inner_polynomial",
    "joint_training",
    "KappaSweep",
    "Network",
    "posterior_mean_power",
    "quadratic_features",
    "ridge_loo",
    "RidgeFit",
    "run_depth",
    "run_instance",
    "simulate_stage1",
    "stage1",
    "stage1_constants",
    "stage1_theory",
    "Stage1Constants",
    "Stage1Validation",
    "TargetInstance",
    "Thresholds",
    "thresholds",
    "Training",
    "unsupported",
    "validate_stage1",
    "weak_recovery",
    "WeakRecovery",
]
