"""Gaussian expectations and Hermite expansions, exact (SymPy) or numeric, and the few-point
kernels the drift is assembled from, by one of the derivation methods (``Exact()``,
``ClosedForm()``, ``HermiteTruncation(order)``, ``Quadrature(nodes)``, ``Auto()``).
"""

from ..storage.lazy import lazy_namespace

# Each name is imported from its module on first use (PEP 562): the methods' classes
# (overlapdyn.derive.methods), all a warm CompiledModel needs, come without SymPy and SciPy,
# which the other modules import.
_HOMES = {
    "cubature": ("gaussian_cubature", "numeric_expectation", "standard_grid"),
    "equations": ("Equations", "drift_equations"),
    "gaussian": ("GaussianFields", "cache_info", "clear_caches", "expectation",
                 "integrand_factors", "moment"),
    "hermite": ("He", "HermiteExpansion", "gauss_hermite_rule", "hermite_expansion",
                "hermite_product", "hermite_values", "information_exponent",
                "polynomial_to_hermite"),
    "kernels": ("Kernel", "KernelSet", "derive_kernels", "has_symbolic_target", "kernel_identity",
                "target_coefficients"),
    "methods": ("Auto", "ClosedForm", "Derivation", "Exact", "HermiteTruncation", "Quadrature",
                "derivation_from_dict", "kink_errors"),
    "multihermite": ("MultivariateHermite", "multivariate_hermite"),
}
__getattr__, __dir__ = lazy_namespace(__name__, _HOMES, submodules=True)


__all__ = [
    "Auto",
    "cache_info",
    "clear_caches",
    "ClosedForm",
    "Derivation",
    "derivation_from_dict",
    "derive_kernels",
    "has_symbolic_target",
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
    "target_coefficients",
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
