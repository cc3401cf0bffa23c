r"""Ridge regression with its penalty chosen by exact leave-one-out cross-validation (or on
held-out points), and the explicit features of the quadratic kernel: the readouts of every
method of :func:`overlapdyn.depth.training.run_instance`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["RidgeFit", "quadratic_features", "ridge_loo"]

# leverages are capped below 1 so that (1 − H_ii) never vanishes
_MAX_LEVERAGE = 1 - 1e-9


@dataclass(frozen=True)
class RidgeFit:
    """A ridge fit ``ŷ = β₀ + Fβ`` and how its penalty was chosen.

    Attributes:
        coef: β, shape (p,) (zero for the constant predictor).
        intercept: β₀.
        penalty: the chosen λ (``inf`` for the constant predictor).
        score: the chosen λ's selection error: the leave-one-out mean squared error, or the
            held-out one when a validation set was given.
        loo_values: the leave-one-out fitted values ``(ŷ_i − H_ii y_i)/(1 − H_ii)``, shape
            (n,) — what the fit predicts at a training point it has not seen; None unless
            asked for.
    """

    coef: np.ndarray
    intercept: float
    penalty: float
    score: float
    loo_values: np.ndarray | None = None

    def predict(self, F: np.ndarray) -> np.ndarray:
        """``F β + β₀`` for features F of shape (m, p): shape (m,)."""
        return F @ self.coef + self.intercept


class _RidgePath:
    """The ridge fits of centred features ``Fc`` (n, p) and targets ``yc`` (n,) for any λ,
    from one eigen-decomposition of the smaller of ``FcᵀFc`` (p×p) and ``FcFcᵀ`` (n×n)."""

    def __init__(self, Fc: np.ndarray, yc: np.ndarray) -> None:
        n, p = Fc.shape
        self.n, self.p, self.Fc = n, p, Fc
        if n >= p:
            s2, self.V = np.linalg.eigh(Fc.T @ Fc)
            self.proj = self.V.T @ (Fc.T @ yc)                 # s_i (u_i·y)
            self.basis = Fc @ self.V                            # columns s_i u_i, shape (n, p)
            self.squares = self.basis**2
        else:
            s2, self.U = np.linalg.eigh(Fc @ Fc.T)
            self.uy = self.U.T @ yc
            self.squares = self.U**2
        self.s2 = np.clip(s2, 0.0, None)

    @property
    def scale(self) -> float:
        """s̄, the mean eigenvalue of ``FcᵀFc/n``: the unit of the relative penalties."""
        return max(self.s2.sum() / (self.n * self.p), 1e-300)

    def fitted(self, lam: float) -> tuple[np.ndarray, np.ndarray]:
        """The centred in-sample fit (n,) and the leverages without the intercept's 1/n."""
        if self.n >= self.p:
            inverse = 1 / (self.s2 + self.n * lam)
            return self.basis @ (self.proj * inverse), self.squares @ inverse
        shrink = self.s2 / (self.s2 + self.n * lam)
        return self.U @ (self.uy * shrink), self.squares @ shrink

    def coefficients(self, lam: float) -> np.ndarray:
        """β at penalty λ, shape (p,)."""
        if self.n >= self.p:
            return self.V @ (self.proj / (self.s2 + self.n * lam))
        return self.Fc.T @ (self.U @ (self.uy / (self.s2 + self.n * lam)))

    def fit_and_leverages(self, lam: float) -> tuple[np.ndarray, np.ndarray]:
        """``(ŷ_i, H_ii)``: the centred fit and the leverages (intercept included, capped)."""
        fitted, leverage = self.fitted(lam)
        return fitted, np.minimum(leverage + 1.0 / self.n, _MAX_LEVERAGE)


def ridge_loo(F: np.ndarray, y: np.ndarray, log_lambdas: np.ndarray, *, loo: bool = False,
              validation: tuple[np.ndarray, np.ndarray] | None = None) -> RidgeFit:
    r"""Ridge regression with intercept, λ chosen by exact leave-one-out cross-validation
    (or on a validation set).

    Minimises ``(1/n)‖y − β₀ − Fβ‖² + λ ‖β‖²`` (F centred, so β₀ = mean y − mean F·β) for
    λ = ``10^log_lambdas · s̄`` (s̄ the mean eigenvalue of the centred ``FᵀF/n``) and picks the
    λ with the smallest leave-one-out error ``(1/n) Σ_i ((y_i − ŷ_i)/(1 − H_ii))²``, with
    ``H_ii`` the leverages (the intercept's 1/n included); the constant predictor (λ = ∞)
    is a candidate too. Everything comes from one eigen-decomposition of the smaller of
    ``FᵀF`` (p×p) and ``FFᵀ`` (n×n), then O(n·min(n, p)) per λ.

    Args:
        F: features, shape (n, p).  y: targets, shape (n,).
        log_lambdas: grid of log10 relative penalties.
        loo: also compute the leave-one-out fitted values (:attr:`RidgeFit.loo_values`).
        validation: ``(F_val, y_val)`` of held-out points, shapes (m, p), (m,): λ minimises
            their mean squared error instead of the leave-one-out error. LOO is exact only
            if F does not depend on y; features learned from the same labels (a trained
            first layer, reused data) make it optimistic, and then only held-out points
            tell how much to shrink.

    Returns:
        The :class:`RidgeFit` at the chosen λ.
    """
    F = np.asarray(F, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = F.shape
    mean_F, mean_y = F.mean(axis=0), y.mean()
    yc = y - mean_y
    path = _RidgePath(F - mean_F, yc)
    lambdas = path.scale * 10.0 ** np.asarray(log_lambdas, dtype=float)
    if validation is not None:
        best, best_lam = _choose_on_held_out(path, lambdas, validation, mean_F, mean_y)
    else:
        best, best_lam = _choose_by_leave_one_out(path, lambdas, yc)
    if best_lam == np.inf:
        return RidgeFit(np.zeros(p), float(mean_y), np.inf, best,
                        np.full(n, mean_y) if loo else None)
    coef = path.coefficients(best_lam)
    intercept = float(mean_y - mean_F @ coef)
    loo_values = None
    if loo:
        fitted, leverage = path.fit_and_leverages(best_lam)
        loo_values = (fitted + mean_y - leverage * y) / (1 - leverage)
    return RidgeFit(coef, intercept, float(best_lam), best, loo_values)


def _choose_on_held_out(path: _RidgePath, lambdas: np.ndarray,
                        validation: tuple[np.ndarray, np.ndarray], mean_F: np.ndarray,
                        mean_y: float) -> tuple[float, float]:
    """``(error, λ)`` of the penalty with the smallest held-out mean squared error (λ = ∞,
    the constant predictor, included)."""
    F_val, y_val = (np.asarray(a, dtype=float) for a in validation)
    if F_val.ndim != 2 or F_val.shape[1] != path.p or len(y_val) != len(F_val):
        raise ValueError(f"validation features {F_val.shape} and targets {y_val.shape} "
                         f"do not match the training features {(path.n, path.p)}")
    F_val_c, yv = F_val - mean_F, y_val - mean_y
    best, best_lam = float(np.mean(yv ** 2)), np.inf
    for lam in lambdas:
        score = float(np.mean((yv - F_val_c @ path.coefficients(lam)) ** 2))
        if score < best:
            best, best_lam = score, lam
    return best, best_lam


def _choose_by_leave_one_out(path: _RidgePath, lambdas: np.ndarray, yc: np.ndarray
                             ) -> tuple[float, float]:
    """``(error, λ)`` of the penalty with the smallest exact leave-one-out error (λ = ∞
    included)."""
    n = path.n
    best = float(np.mean((yc / (1 - 1.0 / n)) ** 2)) if n > 1 else np.inf
    best_lam = np.inf
    for lam in lambdas:
        fitted, leverage = path.fit_and_leverages(lam)
        score = float(np.mean(((yc - fitted) / (1 - leverage)) ** 2))
        if score < best:
            best, best_lam = score, lam
    return best, best_lam


def quadratic_features(x: np.ndarray) -> np.ndarray:
    """Explicit features of ``K(x, x') = (x·x')² + x·x' + 1``: shape (n, 1 + d + d(d+1)/2).

    ``φ(x)·φ(x') = K(x, x')`` exactly (``x_i²``, ``√2 x_i x_j`` for i < j, ``x_i``, 1).
    """
    n, d = x.shape
    i, j = np.triu_indices(d)
    weight = np.where(i == j, 1.0, math.sqrt(2.0))
    return np.hstack([x[:, i] * x[:, j] * weight, x, np.ones((n, 1))])
