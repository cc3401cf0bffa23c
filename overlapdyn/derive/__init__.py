"""Gaussian expectations and Hermite expansions, exact (SymPy) or numeric, and the few-point
kernels the drift is assembled from, by one of the derivation methods (``Exact()``,
``ClosedForm()``, ``HermiteTruncation(order)``, ``Quadrature(nodes)``, ``Auto()``).
"""

from .cubature import (
    gaussian_cubature,
    numeric_expectation,
    standard_grid,
)
from .equations import (
    Equations,
    drift_equations,
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
    Kernel,
    KernelSet,
    derive_kernels,
    has_symbolic_P,
    kernel_identity,
)
from .methods import (
    Auto,
    ClosedForm,
    Derivation,
    Exact,
    HermiteTruncation,
    Quadrature,
    derivation_from_dict,
    kink_errors,
)
from .multihermite import (
    MultivariateHermite,
    multivariate_hermite,
)

__all__ = [
    "Auto",
    "cache_info",
    "clear_caches",
    "ClosedForm",
    "Derivation",
    "derivation_from_dict",
    "derive_kernels",
    "has_symbolic_P",
    "drift_equations",
    "Equations",
    "Exact",
    "expectation",
    "gauss_hermite_rule",
    "gaussian_cubature",
    "GaussianFields",
    "He",
    "hermite_expansion",
    "hermite_product",
    "hermite_values",
    "HermiteExpansion",
    "HermiteTruncation",
    "information_exponent",
    "kernel_identity",
    "kink_errors",
    "integrand_factors",
    "Kernel",
    "KernelSet",
    "moment",
    "multivariate_hermite",
    "MultivariateHermite",
    "numeric_expectation",
    "polynomial_to_hermite",
    "Quadrature",
    "standard_grid",
]
