r"""Weak-recovery thresholds of AMP (and of optimal spectral methods) for multi-index links,
and the order in which the directions are learned (Troiani, Dandi, Defilippis, Zdeborová,
Loureiro & Krzakala 2024, arXiv:2405.15480; Defilippis, Dandi, Mergny, Krzakala & Loureiro
2025, arXiv:2502.02545).

For ``y = g(z) + √Δ ξ``, ``z ~ N(0, I_k)`` and ``n = α d`` samples (SPEC's ``x ~ N(0, I_d)``;
the papers' ``x ~ N(0, I_d/d)`` give the same fields and the same α, see
:mod:`overlapdyn.limits.links`):

* the **trivial subspace** is the range of ``E_y[E[z|y] E[z|y]ᵀ]``: one AMP step (or
  ``Σ y x``) overlaps with it at every α > 0;
* otherwise, with ``G(y) = E[zzᵀ − I_k | y]`` and the linear operator on symmetric k×k
  matrices ``F(M) = E_y[G(y) M G(y)]``, weak recovery happens iff ``α > α_c = 1/λ_max(F)``;
  the top eigenvector M* spans the **easy subspace** (its range). Eigenvalues of G alone are
  not enough when the G(y) do not commute (``z1/z2``).
* ``λ_max(F) = 0`` (e.g. a parity ``sign(z1 z2 z3)``): no direction is learned for any
  ``n = Θ(d)`` — reported as ``kind = "hard"`` with ``α_c = inf``, never as an overflow;
* the **staircase**: once a subspace U is learned its fields ``a = Uᵀz`` are known, the
  label becomes ``(y, a)`` and the trivial subspace / operator F of the remaining directions
  are recomputed, until nothing more is learnable. A direction learned at a later step needs
  ``α`` above every threshold before it (:attr:`StaircaseStep.alpha_needed`).

For one field, ``1/α_c = E_y[(E[z²|y] − 1)²]`` (Mondelli & Montanari 2018), the 1×1 case of F.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..derive.gaussian import GaussianFields, expectation
from ..storage.results import Result
from .conditional import complete_basis, conditional_gram
from .features import hermite_features
from .links import Link, as_link

__all__ = ["G_covariance", "RecoveryThresholds", "StaircaseStep", "operator_F",
           "symmetric_basis", "weak_recovery_thresholds"]


@dataclass(frozen=True)
class StaircaseStep:
    """One step of the learning order.

    Attributes:
        kind: ``"trivial"`` (learned at any α > 0), ``"easy"`` (at ``alpha > alpha_c``) or
            ``"hard"`` (never at n = Θ(d)).
        alpha: this step's threshold (0, α_c or inf), given the earlier steps learned.
        alpha_needed: the largest threshold up to and including this step.
        directions: (k, r) orthonormal columns in z-space.
    """

    kind: str
    alpha: float
    alpha_needed: float
    directions: np.ndarray


@dataclass(frozen=True)
class RecoveryThresholds(Result):
    """Weak-recovery thresholds of a link (module docstring).

    Attributes:
        link: the link's formula; k: fields; noise: Δ.
        alpha_c: the first step's threshold (0 when the trivial subspace is not empty, inf
            when everything is hard).
        eigenvalues: the eigenvalues of F at the first step (descending; k(k+1)/2 of them;
            empty when that step is trivial).
        steps: the staircase.
        method, error: how the conditional expectations were computed, and their estimated
            absolute error.
    """

    FORMAT = "overlapdyn.RecoveryThresholds"
    VERSION = 1

    link: str
    k: int
    noise: float
    alpha_c: float
    eigenvalues: np.ndarray
    steps: tuple[StaircaseStep, ...]
    method: str
    error: float

    @property
    def trivial_subspace(self) -> np.ndarray:
        """(k, r) columns learned at any α > 0 before anything else (r may be 0)."""
        first = self.steps[0] if self.steps else None
        return first.directions if first and first.kind == "trivial" else np.zeros((self.k, 0))

    @property
    def hard_subspace(self) -> np.ndarray:
        """(k, r) columns never learned at n = Θ(d)."""
        hard = [s.directions for s in self.steps if s.kind == "hard"]
        return hard[0] if hard else np.zeros((self.k, 0))

    def describe(self) -> str:
        lines = [f"weak recovery for y = {self.link}" + (f" + √{self.noise:g} ξ" if self.noise
                                                         else "") + f" (k = {self.k})",
                 f"  α_c = {_alpha(self.alpha_c)}   [{self.method}, error ≈ {self.error:.1g}]"]
        for i, step in enumerate(self.steps, 1):
            lines.append(f"  step {i}: {step.kind:7s} α = {_alpha(step.alpha):>10s}  (needs α > "
                         f"{_alpha(step.alpha_needed)})  directions {_dirs(step.directions)}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"link": self.link, "k": self.k, "noise": self.noise, "alpha_c": self.alpha_c,
                "method": self.method, "error": self.error,
                "eigenvalues": self.eigenvalues.tolist(),
                "steps": [{"kind": s.kind, "alpha": s.alpha, "alpha_needed": s.alpha_needed,
                           "directions": s.directions.tolist()} for s in self.steps]}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        fields = {key: value for key, value in self.to_dict().items()
                  if key not in ("eigenvalues", "steps")}
        fields["steps"] = [{"kind": s.kind, "alpha": s.alpha, "alpha_needed": s.alpha_needed}
                           for s in self.steps]
        arrays = {"eigenvalues": self.eigenvalues,
                  **{f"steps/{i}": s.directions for i, s in enumerate(self.steps)}}
        return fields, arrays

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> RecoveryThresholds:
        steps = tuple(StaircaseStep(s["kind"], float(s["alpha"]), float(s["alpha_needed"]),
                                    arrays[f"steps/{i}"]) for i, s in enumerate(header["steps"]))
        return cls(header["link"], int(header["k"]), float(header["noise"]),
                   float(header["alpha_c"]), arrays["eigenvalues"], steps, header["method"],
                   float(header["error"]))


def _alpha(value: float) -> str:
    return "∞ (hard)" if math.isinf(value) else f"{value:.6g}"


def _dirs(columns: np.ndarray) -> str:
    return "[" + "; ".join("(" + ", ".join(f"{v:+.3g}" for v in col) + ")"
                           for col in columns.T) + "]"


def G_covariance(gram2: np.ndarray, k: int) -> np.ndarray:
    """``K[i, j, l, m] = E_y[G_ij(y) G_lm(y)]`` from the Gram matrix of the order-2 features
    ``h_ν`` (order of :func:`~overlapdyn.limits.features.hermite_features`)."""
    nus = hermite_features(k, 2).indices
    # G_ij = Σ_ν C[(i, j), ν] E[h_ν | y]: √2 h_{2e_i} on the diagonal, h_{e_i+e_j} off it
    C = np.zeros((k, k, len(nus)))
    for a, nu in enumerate(nus):
        i, j = [r for r, n in enumerate(nu) for _ in range(n)]
        C[i, j, a] = C[j, i, a] = math.sqrt(2.0) if i == j else 1.0
    return np.einsum("ija,ab,lmb->ijlm", C, gram2, C)


def symmetric_basis(k: int) -> list[np.ndarray]:
    """The orthonormal basis of symmetric k×k matrices (Frobenius product) in which
    :func:`operator_F` is written: ``E_ii``, then ``(E_ij + E_ji)/√2`` for i < j."""
    basis = []
    for i in range(k):
        for j in range(i, k):
            B = np.zeros((k, k))
            B[i, j] = B[j, i] = 1.0 if i == j else 1.0 / math.sqrt(2.0)
            basis.append(B)
    return basis


def operator_F(gram2: np.ndarray, k: int) -> np.ndarray:
    """The matrix of ``F(M) = E_y[G M G]`` on the orthonormal basis of symmetric k×k matrices
    (``E_ii``, then ``(E_ij + E_ji)/√2`` for i < j), from the Gram matrix of the order-2
    features ``h_ν`` (order of :func:`~overlapdyn.limits.features.hermite_features`)."""
    K = G_covariance(gram2, k)
    basis = symmetric_basis(k)
    # ⟨B_p, F(B_q)⟩ = Σ B_p[i,j] E[G_il G_mj] B_q[l,m]
    return np.array([[np.einsum("ij,ilmj,lm->", P, K, Q) for Q in basis] for P in basis])


def _symmetric_matrix(vector: np.ndarray, k: int) -> np.ndarray:
    M, p = np.zeros((k, k)), 0
    for i in range(k):
        for j in range(i, k):
            M[i, j] = M[j, i] = vector[p] if i == j else vector[p] / math.sqrt(2.0)
            p += 1
    return M


def weak_recovery_thresholds(link, k: int | None = None, *, noise: float | None = None,
                             tol: float = 1e-6) -> RecoveryThresholds:
    """Trivial subspace, α_c, easy and hard subspaces and the staircase of a link.

    Args:
        link: a formula in ``z1..zk`` (``"z1*z2"``, ``"sign(z1*z2*z3)"``), a SymPy
            expression, a :class:`~overlapdyn.model.spec.Target` or a
            :class:`~overlapdyn.limits.links.Link` (see :func:`~overlapdyn.limits.links.as_link`).
        k: number of fields (default: the largest ``z<r>`` used).
        noise: label-noise variance Δ (default: the link's, else 0).
        tol: accuracy asked of the conditional expectations; a quantity below
            ``zero = 1e-9 + 10·error`` counts as 0.

    Raises:
        ConfigError: a link that depends on none of the fields, Δ < 0, a noiseless
            multi-index link without exact conditioning (the message says: add Δ > 0).
        QuadratureError, HeavyTailError: the conditional expectations could not be computed
            to ``tol`` (named cause and fix).
    """
    channel = as_link(link, k, noise=noise)
    k = channel.k
    learned = np.zeros((k, 0))
    steps, first_eigenvalues, methods, error, needed = [], np.zeros(0), [], 0.0, 0.0
    exact = _exact_trivial_subspace(channel)
    if exact is not None and exact.shape[1]:
        steps.append(StaircaseStep("trivial", 0.0, 0.0, exact))
        methods.append(_EXACT)
        learned = _snap(np.linalg.qr(exact)[0])
        steps[0] = StaircaseStep("trivial", 0.0, 0.0, learned)
    while learned.shape[1] < k:
        free = k - learned.shape[1]
        features = hermite_features(free, (1, 2))
        result = conditional_gram(channel, features, tol=tol,
                                  learned=learned if learned.shape[1] else None)
        methods.append(result.method)
        error = max(error, result.error)
        zero = 1e-9 + 10.0 * result.error
        V = complete_basis(learned)[:, learned.shape[1]:] if learned.shape[1] else np.eye(k)
        first = result.gram[:free, :free]
        values, vectors = np.linalg.eigh(first)
        if values[-1] > zero:
            new = V @ vectors[:, values > zero]
            steps.append(StaircaseStep("trivial", 0.0, needed, new))
        else:
            F = operator_F(result.gram[free:, free:], free)
            eigenvalues, eigenvectors = np.linalg.eigh(F)
            if not steps:
                first_eigenvalues = eigenvalues[::-1].copy()
            if eigenvalues[-1] <= zero:
                steps.append(StaircaseStep("hard", math.inf, math.inf, V))
                break
            alpha = 1.0 / eigenvalues[-1]
            needed = max(needed, alpha)
            top = eigenvectors[:, eigenvalues > eigenvalues[-1] - zero]
            span = np.hstack([_symmetric_matrix(top[:, i], free) for i in range(top.shape[1])])
            u, s, _ = np.linalg.svd(span)
            new = V @ u[:, s > 1e-6 * s[0]]
            steps.append(StaircaseStep("easy", alpha, needed, new))
        learned = np.linalg.qr(np.hstack((learned, new)))[0] if learned.shape[1] else \
            np.linalg.qr(new)[0]
        learned = _snap(learned)
    alpha_c = steps[0].alpha if steps else math.inf
    return RecoveryThresholds(channel.name, k, channel.noise, alpha_c, first_eigenvalues,
                              tuple(steps), methods[0], error)


_EXACT = "exact: Gaussian moments E[z yᵖ] and sign-flip symmetries"


def _exact_trivial_subspace(link: Link, max_power: int = 6,
                            max_degree: int = 30) -> np.ndarray | None:
    """The trivial subspace of a noiseless polynomial link without quadrature, or None.

    Every non-zero ``v_p = E[z yᵖ]`` (exact, :func:`overlapdyn.derive.expectation`) lies in
    the range of ``E_y[E[z|y] E[z|y]ᵀ]`` (``v_p = E_y[E[z|y] yᵖ]``). A field z_r whose sign can
    be flipped (with others) leaving g unchanged has ``E[z_r|y] = 0``. When the span S of the
    ``v_p`` and these axes fill R^k (S orthogonal to the axes), the trivial subspace is exactly
    S; otherwise None (the quadrature decides).
    """
    symbols = link.symbols
    if link.noise or link.expr is None or not link.expr.is_polynomial(*symbols):
        return None
    degree = sympy.Poly(link.expr, *symbols).total_degree()
    fields = GaussianFields(tuple(map(str, symbols)), sympy.eye(link.k))
    moments = sympy.Matrix([[expectation([link.expr ** p, z], fields) for z in symbols]
                            for p in range(1, max_power + 1) if p * degree + 1 <= max_degree])
    span = moments.T.columnspace()
    flips = [subset for size in range(1, link.k + 1)
             for subset in itertools.combinations(symbols, size)
             if sympy.expand(link.expr.xreplace({z: -z for z in subset}) - link.expr) == 0]
    silent = sorted({symbols.index(z) for subset in flips for z in subset})
    if len(span) + len(silent) != link.k or any(v[r] != 0 for v in span for r in silent):
        return None
    if not span:
        return np.zeros((link.k, 0))
    return np.array(sympy.Matrix.hstack(*span).evalf(30).tolist(), dtype=float)


def _snap(columns: np.ndarray) -> np.ndarray:
    """Round directions that are coordinate axes up to 1e-9 onto them (exact conditioning of
    sign-type links needs axis-aligned cuts)."""
    snapped = np.where(np.abs(columns) < 1e-9, 0.0, columns)
    snapped = np.where(np.abs(np.abs(snapped) - 1) < 1e-9, np.sign(snapped), snapped)
    return snapped
