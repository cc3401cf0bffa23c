"""The overlap state: random starts, the checks that overlaps can come from real weights,
and packed states turned into a :class:`~overlapdyn.ode.trajectory.Trajectory`.

SPEC's overlaps ``M = WUᵀ/d`` (p×k), ``Q = WWᵀ/d`` (p×p) and the teacher Gram matrix
``P = UUᵀ/d`` (k×k) are the blocks of ``Ω = [[Q, M], [Mᵀ, P]]``, the covariance of the fields
``(λ, z)``: overlaps of real vectors exist exactly when Ω is symmetric positive
semi-definite. Every random start — of the ODE (:func:`initial_overlaps`), of the simulator,
of the escape measurements and of the depth experiments' first layers — draws its Gaussian
rows with :func:`random_rows`.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..compile.compiled import CompiledModel
from ..errors import CovarianceError, IntegrationError, OverlapdynError, RunawayWarning
from ..model.checks import check_covariance, check_dimension
from ..model.spec import Model
from ..storage.versions import library_versions
from .trajectory import Trajectory

__all__ = [
    "BLOWUP_NORM",
    "RUNAWAY_FACTOR",
    "blowup_message",
    "check_overlaps",
    "initial_overlaps",
    "overlap_cosines",
    "overlap_covariance",
    "random_rows",
    "random_weights",
    "trajectory_from_states",
    "warn_if_runaway",
]

#: the state's max-norm that counts as a blow-up (ODE, state evolution) or a diverged run
#: (simulation)
BLOWUP_NORM = 1e8

#: how many times its start (or 1, if larger) a student's ``Q_jj`` may grow before a run that
#: did not blow up is reported as running away (:class:`~overlapdyn.errors.RunawayWarning`)
RUNAWAY_FACTOR = 100.0


def random_rows(rng: np.random.Generator, p: int, d: int, *, radius: float | None = None
                ) -> np.ndarray:
    """``p`` rows of i.i.d. N(0, 1) entries, shape (p, d), each rescaled to norm ``radius``
    when given (a uniform point on the sphere of that radius)."""
    W = rng.normal(size=(p, d))
    if radius is not None:
        W *= radius / np.linalg.norm(W, axis=1, keepdims=True)
    return W


def random_weights(model: Model, d: int, rng: np.random.Generator) -> np.ndarray:
    """The SPEC's random student weights W (p×d): rows i.i.d. N(0, I_d), normalised to
    ``‖w_j‖² = d`` when the protocol is spherical."""
    return random_rows(rng, model.p, d, radius=np.sqrt(d) if model.protocol.spherical else None)


def initial_overlaps(model: Model, d: int, seed: int | np.random.Generator | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlaps of the SPEC's random initialisation at dimension d: ``(M, Q, a)``.

    W is :func:`random_weights`; the teacher U has rows of Gram matrix P·d. Then M = WUᵀ/d
    has entries O(d^(−1/2)) and Q ≈ I. The readout starts at the spec's ``a``.
    """
    check_dimension(d, model.p, model.k)
    rng = np.random.default_rng(seed)
    W = random_weights(model, d, rng)
    basis, _ = np.linalg.qr(rng.normal(size=(d, model.k)))
    U = np.linalg.cholesky(model.target.gram) @ basis.T * np.sqrt(d)
    return W @ U.T / d, W @ W.T / d, np.array(model.student.a)


def overlap_covariance(M: np.ndarray, Q: np.ndarray, P: np.ndarray) -> np.ndarray:
    """``Ω = [[Q, M], [Mᵀ, P]]``, shape (p + k, p + k)."""
    return np.block([[Q, M], [M.T, P]])


def check_overlaps(M: np.ndarray, Q: np.ndarray, P: np.ndarray, *, what: str,
                   spherical: bool = False) -> None:
    """Refuse overlaps that no weights have.

    Ω = [[Q, M], [Mᵀ, P]] must pass :func:`~overlapdyn.model.checks.check_covariance`
    (symmetric and positive semi-definite up to 10⁻¹⁰ of its largest entry), and spherical
    SGD needs ``Q_jj = 1``.

    Args:
        M, Q, P: shapes (p, k), (p, p), (k, k).
        what: the overlaps' name in the error (``"the warm start (M, Q)"``).
        spherical: also require ``Q_jj = 1``.

    Raises:
        CovarianceError: Ω is not a valid Gram matrix.
        OverlapdynError: spherical and a ``Q_jj ≠ 1``.
    """
    try:
        check_covariance(overlap_covariance(M, Q, P), "Ω = [[Q, M], [Mᵀ, P]]")
    except CovarianceError as error:
        raise CovarianceError(f"{what} is not a valid Gram block (no weights have these "
                              f"overlaps; check M, Q and P): {error}") from None
    if spherical and not np.allclose(np.diag(Q), 1.0, atol=1e-9):
        raise OverlapdynError(f"spherical SGD keeps Q_jj = 1; the diagonal of {what} is "
                              f"{np.diag(Q)}")


def overlap_cosines(M: np.ndarray, Q: np.ndarray, P_diagonal: np.ndarray | None = None
                    ) -> np.ndarray:
    """``|M_jr| / √(Q_jj P_rr)`` for the last two axes of M (…, p, k); P_rr = 1 by default."""
    q = np.sqrt(np.diagonal(Q, axis1=-2, axis2=-1))[..., :, None]
    norm = q if P_diagonal is None else q * np.sqrt(P_diagonal)
    return np.abs(M) / norm


def blowup_message(model: Model, when: str, why: str) -> str:
    """The error of a run whose overlaps blew up ``when`` (``"at step 12"``) because ``why``."""
    return (f"the overlaps blew up {when} ({why}); the learning rate η = "
            f"{model.protocol.eta:g} is probably too large for the activation "
            f"{model.student.activation!r} (its η²/n_b variance term grows faster than the "
            "gradient term contracts) — lower η, or raise n_b")


def warn_if_runaway(trajectory: Trajectory) -> None:
    """Warn (:class:`~overlapdyn.errors.RunawayWarning`) when some ``Q_jj`` of
    ``trajectory`` grew beyond :data:`RUNAWAY_FACTOR` times ``max(1, Q_jj(0))``."""
    diagonal = np.diagonal(trajectory.Q, axis1=1, axis2=2)            # (T, p)
    growth = diagonal / np.maximum(1.0, np.abs(diagonal[0]))
    when, unit = np.unravel_index(int(np.argmax(growth)), growth.shape)
    if growth[when, unit] > RUNAWAY_FACTOR:
        protocol = trajectory.model.protocol
        grew = (f"the student's weights ran away without blowing up: Q_{unit + 1}{unit + 1} "
                f"grew from {diagonal[0, unit]:.3g} to {diagonal[when, unit]:.3g} by t = "
                f"{trajectory.t[when]:.4g}, more than {RUNAWAY_FACTOR:g} times its start; ")
        partner = _aligned_partner(trajectory.Q[when], unit)
        why = (f"unit {partner[0] + 1} grew with it along the same line (cosine "
               f"{partner[1]:+.4f}): two units whose outputs cancel, growing without changing "
               "the risk (a student with more units than the target needs) — train the "
               "readout, or use fewer units" if partner else
               f"with η = {protocol.eta:g} the run does not learn, it diverges slowly — lower "
               "η, or raise n_b")
        warnings.warn(RunawayWarning(grew + why), stacklevel=3)


def _aligned_partner(Q: np.ndarray, unit: int) -> tuple[int, float] | None:
    """Another unit on the same line as ``unit`` (|cosine| > 0.99), which grew too (its
    Q_ll above 10), with that cosine; None if there is none."""
    norms = np.sqrt(np.abs(np.diagonal(Q)))
    cosines = Q[unit] / (norms[unit] * norms)
    for other in np.argsort(-np.abs(cosines)):
        if other != unit and abs(cosines[other]) > 0.99 and Q[other, other] > 10.0:
            return int(other), float(cosines[other])
    return None


def trajectory_from_states(compiled: CompiledModel, t: np.ndarray, ys: np.ndarray, *,
                           risk: np.ndarray | None = None, **fields) -> Trajectory:
    """The :class:`Trajectory` of the packed states ``ys`` (state size, T) at times ``t`` (T,),
    with their risk (``risk``, shape (T,), when the caller has it — the state evolution's
    compiled loop records it — else evaluated at each state, in one compiled call), the
    compiled kernels' provenance (method, truncation errors), the library versions and
    ``fields`` (outcome, message, events, solver …).

    Raises:
        IntegrationError: no state at all (the run failed before its first saved time).
    """
    spec = compiled.model
    if t.size == 0:
        raise IntegrationError(fields["message"])
    p, k, T = spec.p, spec.k, t.size
    M = ys[:p * k].T.reshape(T, p, k)
    Q = ys[p * k:p * k + p * p].T.reshape(T, p, p)
    a = (ys[p * k + p * p:].T if spec.student.train_readout
         else np.broadcast_to(np.asarray(spec.student.a, dtype=float), (T, p)))
    if risk is None:
        risk = compiled.risks(ys.T)
    return Trajectory(t=np.asarray(t, dtype=float), M=M, Q=Q, a=a, risk=risk, model=spec,
                      kernels=compiled.method, truncation_errors=compiled.truncation_errors,
                      versions=library_versions(), **fields)
