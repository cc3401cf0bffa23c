"""The large-batch state evolution of SPEC: the overlaps moved one SGD step at a time when
``n_b = αd`` (O(1) moves per step), the discrete-time counterpart of the ODE."""

from __future__ import annotations

import numpy as np

from ..compile.compiled import CompiledModel
from ..derive.methods import Derivation
from ..errors import IntegrationError, OverlapdynError
from ..model.spec import Model
from .state import (
    BLOWUP_NORM,
    blowup_message,
    check_overlaps,
    overlap_covariance,
    trajectory_from_states,
)
from .trajectory import Outcome, Trajectory

__all__ = ["evolve"]


def evolve(
    model: Model | CompiledModel,
    init: tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray],
    steps: int,
    alpha: float,
    *,
    derivation: Derivation | None = None,
) -> Trajectory:
    """The large-batch state evolution of SPEC (``n_b = αd``, O(1) moves per step).

        M' = M + η E[G zᵀ],
        Q'_jl = Q_jl + η(E[G_j λ_l] + E[G_l λ_j]) + η²(E[G_j φ]ᵀ Ω⁻¹ E[G_l φ] + E[G_j G_l]/α),

    φ = (λ, z). Spherical SGD renormalises each step (``Q_jj = 1``, ``M_j· /= √Q'_jj``);
    a trained readout moves by ``η_a c_p E[e σ(λ_j)]``. The trajectory's ``t`` is the step
    index. Raises :class:`IntegrationError` (with the steps so far) on a blow-up.
    """
    compiled = model if isinstance(model, CompiledModel) else CompiledModel(model, derivation)
    spec = compiled.model
    if not alpha > 0:
        raise OverlapdynError(f"alpha = n_b/d must be > 0, got {alpha}")
    if spec.protocol.weight_decay:
        raise OverlapdynError("the state evolution has no weight-decay term (SPEC); set "
                              "protocol.weight_decay = 0")
    y = compiled.pack(*init)
    M, Q, a = (np.array(x, dtype=float) for x in compiled.unpack(y))
    check_overlaps(M, Q, spec.target.gram, what="the initial state (M, Q)",
                   spherical=spec.protocol.spherical)
    history = [compiled.pack(M, Q, a)]
    failure = None
    for step in range(1, steps + 1):
        M, Q, a = _step(compiled, M, Q, a, alpha)
        history.append(compiled.pack(M, Q, a))
        if not np.all(np.isfinite(history[-1])) or np.abs(history[-1]).max() > BLOWUP_NORM:
            failure = blowup_message(spec, f"at step {step}", "non-finite or huge overlaps")
            history.pop()
            break
    ys = np.stack(history, axis=1)
    trajectory = trajectory_from_states(
        compiled, np.arange(ys.shape[1], dtype=float), ys,
        outcome=Outcome.FAILED if failure else Outcome.REACHED_END,
        message=failure or "state evolution finished", alpha=alpha)
    if failure:
        raise IntegrationError(failure, trajectory)
    return trajectory


def _step(compiled: CompiledModel, M: np.ndarray, Q: np.ndarray, a: np.ndarray, alpha: float
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of the map in :func:`evolve`: ``(M', Q', a')``."""
    spec = compiled.model
    eta = spec.protocol.eta
    terms = compiled.terms(M, Q, a)
    grad = np.hstack([terms.Al, terms.Az])                     # rows E[G_j φ]
    omega = overlap_covariance(M, Q, spec.target.gram)
    projected = grad @ np.linalg.lstsq(omega, grad.T, rcond=None)[0]
    Q = Q + eta * (terms.Al + terms.Al.T) + eta**2 * (projected + terms.B / alpha)
    M = M + eta * terms.Az
    if spec.student.train_readout:
        a = a + spec.student.eta_a * spec.student.c_p * terms.D
    if spec.protocol.spherical:
        norms = np.sqrt(np.diag(Q))
        Q, M = Q / np.outer(norms, norms), M / norms[:, None]
    return M, Q, a
