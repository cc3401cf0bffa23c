"""overlapdyn — overlap dynamics of two-layer networks learning Gaussian multi-index targets.

The public API is flat: everything a notebook needs is importable from here.

Pipeline (each stage usable on its own)::

    activations / hermite   functions, their Hermite expansions, information exponents
    gaussian                exact (symbolic) and numeric Gaussian expectations

Conventions follow SPEC.md (see the README): probabilists' Hermite ``He_n``;
``erf`` as an activation means ``erf(x/√2)``; overlaps ``M = WUᵀ/d``, ``Q = WWᵀ/d``,
``P = UUᵀ/d`` and ``Ω = [[Q, M], [Mᵀ, P]]``.
"""

from importlib.metadata import PackageNotFoundError, version

from .activations import Activation, X, activation, known_activations
from .errors import (
    CovarianceError,
    FieldMismatchError,
    NotPolynomialError,
    OverlapdynError,
    QuadratureError,
    UnknownActivationError,
)
from .expressions import parse_expression
from .gaussian import (
    GaussianFields,
    cache_info,
    check_covariance,
    clear_caches,
    expectation,
    gaussian_cubature,
    moment,
    numeric_expectation,
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

try:
    __version__ = version("overlapdyn")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "X",
    "Activation",
    "CovarianceError",
    "FieldMismatchError",
    "GaussianFields",
    "He",
    "HermiteExpansion",
    "NotPolynomialError",
    "OverlapdynError",
    "QuadratureError",
    "UnknownActivationError",
    "__version__",
    "activation",
    "cache_info",
    "check_covariance",
    "clear_caches",
    "expectation",
    "gauss_hermite_rule",
    "gaussian_cubature",
    "hermite_expansion",
    "hermite_product",
    "hermite_values",
    "information_exponent",
    "known_activations",
    "moment",
    "numeric_expectation",
    "parse_expression",
    "polynomial_to_hermite",
]
