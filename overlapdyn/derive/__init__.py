"""Gaussian expectations and Hermite expansions, exact (SymPy) or numeric, and the few-point
kernels the drift is assembled from.
"""

from .cubature import (
    gaussian_cubature,
    numeric_expectation,
    standard_grid,
)
from .gaussian import (
    GaussianFields,
    cache_info,
    clear_caches,
    expectation,
    integrand_factors,
    moment,
)
from .hermite import (
    He,
    HermiteExpansion,
    gauss_hermite_rule,
    hermite_expansion,
    hermite_product,
    hermite_values,
    information_exponent,
    polynomial_to_hermite,
)
from .kernels import (
    Derivation,
    Kernel,
    KernelSet,
    derive_kernels,
    kernel_identity,
)
from .multihermite import (
    MultivariateHermite,
    multivariate_hermite,
)

__all__ = [
    "cache_info",
    "clear_caches",
    "Derivation",
    "derive_kernels",
    "expectation",
    "gauss_hermite_rule",
    "gaussian_cubature",
    "GaussianFields",
    "He",
    "hermite_expansion",
    "hermite_product",
    "hermite_values",
    "HermiteExpansion",
    "information_exponent",
    "kernel_identity",
    "integrand_factors",
    "Kernel",
    "KernelSet",
    "moment",
    "multivariate_hermite",
    "MultivariateHermite",
    "numeric_expectation",
    "polynomial_to_hermite",
    "standard_grid",
]
