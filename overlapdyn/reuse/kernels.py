"""The compiled per-sample functions of full-batch GD: labels, errors and gradients.

One generated module per (student activation, target): σ, σ' and g printed from SymPy
(:mod:`overlapdyn.compile.printer`) and the batch loops of ``compile/templates/reuse_gd.py``,
threaded over samples. The finite-d simulator calls them on the training set, the two-step
theory on Monte Carlo samples of the effective process: one implementation of
``G_μj = c_p a_j e_μ σ'(λ_jμ)`` for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy

from ..compile.cache import load_module, source_key
from ..compile.printer import expression_source, kernel_source
from ..compile.render import module_source, template_body, template_digest
from ..model.activations import X
from ..model.activations import activation as resolve_activation
from ..model.spec import Student, Target
from ..storage.versions import __version__
from .config import FullBatchGD

__all__ = ["GradientKernels", "gaussian_factor", "model_module", "population_risk"]

# bump when the assembly below changes the module; the templates are hashed
_KERNELS_VERSION = 1
# the chunks of a compiled Monte Carlo sum, run in parallel (a fixed number, so the sum does
# not depend on the threads)
_CHUNKS = 64


def _piecewise(expr: sympy.Expr) -> sympy.Expr:
    # Heaviside and sign print as functions Numba lacks; their Piecewise form prints as
    # plain conditionals
    return expr.rewrite(sympy.Piecewise) if expr.has(sympy.Heaviside, sympy.sign) else expr


def model_module(student: Student, target: Target, template: str, title: str, version: int,
                 required: tuple[str, ...]):
    """The generated module of one (student activation, target): σ, σ' and g printed from
    SymPy (``sig``, ``dsig``, ``target(zv)``) followed by the body of
    ``compile/templates/{template}.py``; cached under a key of the versions, the templates,
    σ and g (``version`` is the caller's: bump it when its assembly changes)."""
    sigma = resolve_activation(student.activation).expr
    g = target.function()
    z = sympy.symbols(target.latent_names)
    vector = sympy.IndexedBase("zv")
    g_of_vector = _piecewise(g).xreplace({zr: vector[r] for r, zr in enumerate(z)})

    def source() -> str:
        return module_source(title, [
            kernel_source("sig", ("x",), _piecewise(sigma)),
            kernel_source("dsig", ("x",), _piecewise(sympy.diff(sigma, X))),
            expression_source("target", "zv", g_of_vector),
            template_body(template)])

    key = source_key(__version__, version, template_digest(), template, student.activation,
                     str(g))
    return load_module(key, source, required=required)[0]


def _module(spec: FullBatchGD):
    return model_module(spec.student, spec.target, "reuse_gd",
                        "full-batch GD kernels of one model", _KERNELS_VERSION,
                        ("labels", "errors_and_gradients", "population_residual"))


@dataclass(frozen=True)
class GradientKernels:
    """The compiled ``g``, ``e`` and ``G`` of one :class:`FullBatchGD` spec.

    Attributes:
        spec: the spec.
    """

    spec: FullBatchGD
    _compiled: object = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", _module(self.spec))

    def labels(self, z: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
        """``y = g(z) + √Δ ξ`` for latent fields z (n, k) and standard normals ξ (n,) (the
        noise term is skipped when Δ = 0 or ξ is None); shape (n,)."""
        z = np.ascontiguousarray(z, dtype=float)
        y = np.empty(z.shape[0])
        self._compiled.labels(z, y)
        if noise is not None and self.spec.target.noise > 0:
            y += np.sqrt(self.spec.target.noise) * noise
        return y

    def gradients(self, lam: np.ndarray, y: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(G, e, r²)`` at the fields λ (n, p) with labels y (n,): ``G_μj = c_p a_j e_μ
        σ'(λ_jμ)`` (n, p), the error e (n,) of the spec's loss and the squared residual
        ``(y − ŷ)²`` (n,)."""
        lam = np.ascontiguousarray(lam, dtype=float)
        y = np.ascontiguousarray(y, dtype=float)
        n = lam.shape[0]
        G, e, residual2 = np.empty_like(lam), np.empty(n), np.empty(n)
        self._compiled.errors_and_gradients(lam, y, np.array(self.spec.student.a, dtype=float),
                                            self.spec.student.c_p, self.spec.loss == "mse",
                                            e, residual2, G)
        return G, e, residual2


def gaussian_factor(covariance: np.ndarray) -> np.ndarray:
    """``A`` with ``A Aᵀ = C`` for a symmetric PSD C: the Cholesky factor, which moves
    continuously with C (so shared normals give common random numbers across states),
    or, for a singular C, the eigen-factor with negative rounding eigenvalues clipped."""
    covariance = np.asarray(covariance, dtype=float)
    covariance = (covariance + covariance.T) / 2
    try:
        return np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(covariance)
        return vectors * np.sqrt(np.clip(values, 0.0, None))


def population_risk(kernels: GradientKernels, M: np.ndarray, Q: np.ndarray,
                    normals: np.ndarray) -> float:
    """The population risk ``½(E[(g(z) − ŷ(λ))²] + Δ)`` at the overlaps (M, Q), by Monte
    Carlo over ``(λ, z) ~ N(0, Ω)``, ``Ω = [[Q, M], [Mᵀ, P]]``, from the standard normals
    ``normals`` (N, p + k) (the same ones for every state: common random numbers)."""
    spec = kernels.spec
    omega = np.block([[Q, M], [M.T, spec.target.gram]])
    normals = np.ascontiguousarray(normals, dtype=float)
    # summed in fixed chunks by the compiled loop (no BLAS product on the sample axis)
    partial = np.zeros(_CHUNKS)
    kernels._compiled.population_residual(normals, gaussian_factor(omega), M.shape[0],
                                          np.array(spec.student.a, dtype=float),
                                          spec.student.c_p, partial)
    return 0.5 * (float(partial.sum()) / normals.shape[0] + spec.target.noise)
