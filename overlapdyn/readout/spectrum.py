r"""The spectrum of the bulk features: what the readout theory needs of W⁰.

The features' bulk fields are ``√c W⁰Πx`` (unit-norm rows of W⁰, Π the projector orthogonal
to the spike v̂). The fixed point of :mod:`overlapdyn.readout.theory` reads W⁰ only through
the eigen-decomposition ``W⁰ΠW⁰ᵀ = Σ_k x_k u_k u_kᵀ`` (p×p) and two projections on its
eigenvectors,

    f_k = (u_kᵀ W⁰ v)²,      h_k = (u_kᵀ W⁰ ζ)²,      ‖v‖² = ‖ζ‖² = d,  ζ ⊥ v,

v the spike and ζ the teacher's part orthogonal to it — a spectral measure with weights
``w_k`` (``Σ_k w_k = 1``) over atoms ``(x_k, f_k, h_k)``.

- :func:`weight_spectrum`: the atoms of a given W⁰ (one per eigenvalue, ``w_k = 1/p``),
  with v and ζ drawn at random (as in the authors' notebook); O(p³) once.
- :func:`marchenko_pastur`: the d → ∞ limit for rows uniform on the sphere, ``p/d = ψ``:
  x follows the Marchenko–Pastur law of ratio ψ (support ``[(1 − √ψ)², (1 + √ψ)²]``, an
  atom ``1 − 1/ψ`` at 0 when ψ > 1); W⁰v is independent of W⁰ΠW⁰ᵀ with i.i.d. N(0, 1)
  entries, so ``f_k → 1``; ζ is isotropic in the range of Π, so ``h_k → x_k``. The density
  is integrated by Gauss–Legendre in θ with ``x = a + (b − a)(1 − cos πθ)/2``, which
  turns the square-root edges (and the 1/√x of ψ = 1) into smooth integrands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.special

from ..errors import ConfigError
from ..model.checks import check_integer, check_real

__all__ = ["Spectrum", "marchenko_pastur", "weight_spectrum"]


@dataclass(frozen=True)
class Spectrum:
    """A spectral measure of the bulk (module docstring).

    Attributes:
        x: the eigenvalues of ``W⁰ΠW⁰ᵀ`` (unit-norm rows), shape (K,).
        f: ``(u_kᵀW⁰v)²``, shape (K,).
        h: ``(u_kᵀW⁰ζ)²``, shape (K,).
        weights: ``w_k``, summing to 1, shape (K,).
        width: ``ψ = p/d``.
        source: ``"marchenko-pastur"`` or ``"weights p×d"``.
    """

    x: np.ndarray
    f: np.ndarray
    h: np.ndarray
    weights: np.ndarray
    width: float
    source: str

    def mean(self, values: np.ndarray) -> float:
        """``Σ_k w_k values_k``."""
        return float(self.weights @ values)

    def describe(self) -> str:
        return (f"bulk spectrum ({self.source}): ψ = p/d = {self.width:g}, {self.x.size} atoms, "
                f"mean eigenvalue {self.mean(self.x):.4f}, mean f {self.mean(self.f):.4f}, "
                f"mean h {self.mean(self.h):.4f}")


def marchenko_pastur(width: float = 1.0, nodes: int = 400) -> Spectrum:
    """The d → ∞ spectrum of rows uniform on the sphere at ``p/d = width`` (module docstring).

    Args:
        width: ``ψ = p/d > 0``.
        nodes: Gauss–Legendre nodes over the support (the atom at 0 of ψ > 1 is added).

    Raises:
        ConfigError: width ≤ 0 or nodes < 8.
    """
    psi = check_real(width, "width (p/d)", positive=True)
    nodes = check_integer(nodes, "nodes", 8)
    a, b = (1 - np.sqrt(psi)) ** 2, (1 + np.sqrt(psi)) ** 2
    theta, w = scipy.special.roots_legendre(nodes)   # NumPy's leggauss: an O(n³) eig
    theta, w = (theta + 1) / 2, w / 2
    x = a + (b - a) * (1 - np.cos(np.pi * theta)) / 2
    dx = (b - a) * np.pi * np.sin(np.pi * theta) / 2
    # the MP density of the p×p matrix W⁰W⁰ᵀ (entries of variance 1/d): the continuous part
    # carries mass min(1, 1/ψ)
    density = np.sqrt(np.clip((b - x) * (x - a), 0, None)) / (2 * np.pi * psi * x)
    weights = w * density * dx
    atom = max(0.0, 1.0 - 1.0 / psi)
    weights *= (1.0 - atom) / weights.sum()   # quadrature mass → the exact mass
    if atom > 0:
        x, weights = np.append(x, 0.0), np.append(weights, atom)
    return Spectrum(x, np.ones_like(x), x.copy(), weights, psi, "marchenko-pastur")


def weight_spectrum(W0: np.ndarray, seed: int = 0) -> Spectrum:
    """The atoms of a given first layer W⁰ (p, d), its rows normalised to unit norm, with a
    random spike v and a random ζ ⊥ v (module docstring). Costs one p×p eigendecomposition.

    Raises:
        ConfigError: W⁰ not a finite 2-d array with p, d ≥ 2 and rows of non-zero norm.
    """
    W0 = np.asarray(W0, dtype=float)
    if W0.ndim != 2 or min(W0.shape) < 2 or not np.all(np.isfinite(W0)):
        raise ConfigError(f"W0 must be a finite (p, d) array with p, d ≥ 2, got shape "
                          f"{W0.shape}")
    norms = np.linalg.norm(W0, axis=1)
    if np.any(norms == 0):
        raise ConfigError("W0 has a row of zero norm: its direction is undefined")
    p, d = W0.shape
    W = W0 / norms[:, None]
    rng = np.random.default_rng([seed, 15])
    v = rng.standard_normal(d)
    v *= np.sqrt(d) / np.linalg.norm(v)
    zeta = rng.standard_normal(d)
    zeta -= v * (zeta @ v) / d
    zeta *= np.sqrt(d) / np.linalg.norm(zeta)
    Wv = W @ v
    WPi = W - np.outer(Wv, v) / d                    # W⁰Π
    x, U = np.linalg.eigh(WPi @ WPi.T)
    x = np.clip(x, 0.0, None)
    return Spectrum(x, (U.T @ Wv) ** 2, (U.T @ (W @ zeta)) ** 2, np.full(p, 1.0 / p), p / d,
                    f"weights {p}×{d}")
