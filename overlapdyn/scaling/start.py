r"""The start of an escape: a random start's overlaps, and the largest learning rate that
leaves it.

At a start with small overlaps the cosines ``m_jr = M_jr / √(Q_jj P_rr)`` move as
(SPEC's ODEs, plain or spherical — both give the same, and weight decay cancels)::

    dm_jr/dt = η s_jr − η² n_jr,
    s_jr = (A^z_jr − M_jr A^λ_jj / Q_jj) / √(Q_jj P_rr),    n_jr = m_jr B_jj / (2 n_b Q_jj),

with ``A^z = E[G z]``, ``A^λ = E[G λ]``, ``B = E[G Gᵀ]`` at the start: the gradient term
``s`` pushes the cosines out, the η² (variance) term, which grows the norms ``Q_jj``
(plain SGD) or is the renormalisation's (spherical), pulls them back. So
``½ d|m|²/dt = η ⟨m, s⟩ − η² ⟨m, n⟩`` is positive — the start is escaped — exactly for

    ``η < η_c = ⟨m, s⟩ / ⟨m, n⟩``        (:func:`critical_learning_rate`).

For a single-index target of information exponent ℓ, ``s ∝ m^{ℓ−1}`` and ``n ∝ m`` near
``m = 0``, so at a random start (``m ≈ d^{−1/2}``) ``η_c ∝ d^{−(ℓ−2)/2}`` for ℓ ≥ 2 — the
learning rate scaling of Ben Arous, Gheissari & Jagannath (2021) — e.g. He3 with a He3
student, spherical, c_p = 1: ``η_c = m/96 + O(m²)``. The criterion is instantaneous: it says
whether the cosines grow at the start, which for ℓ ≥ 2 is where escaping is hardest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..compile.compiled import CompiledModel
from ..derive.methods import Derivation
from ..errors import OverlapdynError
from ..model.spec import Model
from ..ode.state import check_overlaps, random_rows
from .prediction import ScalingPrediction, predict_scaling

__all__ = ["CriticalLearningRate", "critical_learning_rate", "escape_start",
           "escaping_learning_rate"]


def escape_start(model: Model, d: int, *, seed: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(M₀, Q₀, a₀)`` of a random start at dimension d, as the ODE sees it.

    ``M₀ = Z/√d`` with ``Z`` i.i.d. N(0, 1) drawn with ``seed`` (the same Z for every d, so
    only the scale changes); ``Q₀ = I`` (the d → ∞ limit of ``WWᵀ/d``); ``a₀`` the spec's
    readout. ``seed=None`` gives the *aligned* start ``Z = 1`` when p = 1 (the neuron at
    exactly ``M₀ = d^{-1/2}``) and the seed-0 Gaussian Z when p > 1 (equal rows would keep the
    neurons identical forever).
    """
    if d < 1:
        raise OverlapdynError(f"d must be ≥ 1, got {d}")
    if seed is None and model.p == 1:
        Z = np.ones((1, model.k))
    else:
        Z = random_rows(np.random.default_rng(0 if seed is None else seed), model.p, model.k)
    return Z / math.sqrt(d), np.eye(model.p), np.array(model.student.a, dtype=float)


@dataclass(frozen=True)
class CriticalLearningRate:
    """The largest learning rate that escapes a start (see the module docstring).

    Attributes:
        eta: ``η_c = ⟨m, s⟩ / ⟨m, n⟩``: ``inf`` when nothing pulls back (``⟨m, n⟩ = 0``),
            0 when the gradient term itself pulls back (``⟨m, s⟩ ≤ 0``: the start is held
            at every η, e.g. a stable fixed point).
        signal: ``⟨m, s⟩``, the gradient term's push per unit η.
        noise: ``⟨m, n⟩``, the η² term's pull per unit η².
        cosine: ``|m|``, the Frobenius norm of the start's cosines.
        d: the dimension of the random start, or None for a given start.
    """

    eta: float
    signal: float
    noise: float
    cosine: float
    d: int | None = None

    def escapes(self, eta: float) -> bool:
        """Whether SGD at learning rate ``eta`` leaves the start (``0 < η < η_c``)."""
        return 0.0 < eta < self.eta

    def describe(self) -> str:
        """One line: η_c, and where it was measured."""
        where = (f"the random start at d = {self.d}" if self.d is not None else "the start")
        if self.eta == 0.0:
            return (f"no learning rate escapes {where} (|m| = {self.cosine:.3g}): the gradient "
                    f"term pulls the cosines back (⟨m, s⟩ = {self.signal:.3g})")
        return (f"critical learning rate at {where} (|m| = {self.cosine:.3g}): "
                f"η_c = {self.eta:.4g} — larger η is held there by the η² term")


def critical_learning_rate(model: Model, d: int | None = None, *, start=None,
                           compiled: CompiledModel | None = None,
                           derivation: Derivation | None = None) -> CriticalLearningRate:
    """The largest η for which the cosines grow at the start (module docstring).

    Args:
        model: the model (its own η plays no part).
        d: the dimension of the random start :func:`escape_start` ``(model, d)``
            (``M₀ = d^{−1/2}`` for one neuron).
        start: ``(M, Q)`` or ``(M, Q, a)`` instead of a random start (e.g. a plateau).
        compiled: ``CompiledModel(model)``, if already built.
        derivation: how the kernels are derived (default: the automatic choice).

    Returns:
        A :class:`CriticalLearningRate`.

    Raises:
        OverlapdynError: neither or both of ``d`` and ``start``; a start whose cosines are
            all zero (no direction to escape along: start from M ≠ 0).
    """
    if (d is None) == (start is None):
        raise OverlapdynError("give the dimension d of a random start, or a start (M, Q), "
                              "not both")
    compiled = compiled or CompiledModel(model, derivation)
    if start is None:
        M, Q, a = escape_start(model, d)
    else:
        M, Q = (np.asarray(x, dtype=float) for x in start[:2])
        a = start[2] if len(start) > 2 else None
    terms = compiled.terms(M, Q, a)     # checks the shapes
    if start is not None:
        check_overlaps(M, Q, model.target.gram, what="the start",
                       spherical=model.protocol.spherical)
    q = np.diagonal(Q)
    norms = np.sqrt(np.outer(q, np.diagonal(model.target.gram)))
    m = M / norms
    if not np.any(m):
        raise OverlapdynError("the start has M = 0: no direction to escape along — start "
                              "from small nonzero overlaps (e.g. M₀ = d^(−1/2))")
    s = (terms.Az - M * (np.diagonal(terms.Al) / q)[:, None]) / norms
    n = m * (np.diagonal(terms.B) / (2.0 * model.protocol.n_b * q))[:, None]
    signal, noise = float(np.sum(m * s)), float(np.sum(m * n))
    eta = 0.0 if signal <= 0 else (math.inf if noise <= 0 else signal / noise)
    return CriticalLearningRate(eta, signal, noise, float(np.linalg.norm(m)), d)


def escaping_learning_rate(model: Model, ds, *, scale_eta: bool = True, fraction: float = 0.5,
                           prediction: ScalingPrediction | None = None,
                           derivation: Derivation | None = None) -> float:
    """The η₀ that escapes the random start at every d in ``ds``: ``fraction`` of the
    critical learning rate where it is smallest.

    With ``scale_eta`` the learning rate at d is ``η₀ d^{−(ℓ−2)/2}`` (ℓ ≥ 3, as the escape
    measurements use it), so ``η₀ = fraction · min_d η_c(d) d^{(ℓ−2)/2}``; without it
    ``η₀ = fraction · min_d η_c(d)``. Each η_c is at the start :func:`escape_start` ``(model,
    d)``.

    Raises:
        OverlapdynError: ``fraction`` not in (0, 1); a start that no learning rate escapes,
            or one that every learning rate escapes.
    """
    if not 0 < fraction < 1:
        raise OverlapdynError(f"fraction must be in (0, 1), got {fraction}")
    prediction = prediction or predict_scaling(model)
    compiled = CompiledModel(model, derivation)   # η does not enter the kernels' terms
    best = math.inf
    for d in ds:
        critical = critical_learning_rate(model, int(d), compiled=compiled)
        if critical.eta == 0.0:
            raise OverlapdynError(critical.describe())
        scale = prediction.learning_rate(1.0, int(d)) if scale_eta else 1.0
        best = min(best, critical.eta / scale)
    if math.isinf(best):
        raise OverlapdynError("no η² term holds the start back (E[G_j²] = 0 there): every "
                              "learning rate escapes it; choose η₀ yourself")
    return fraction * best
