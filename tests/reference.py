"""Independent references for the drift: SPEC's expectations taken over all p + k fields.

Nothing here uses kernels, generated code or the drift loops: the integrands are written
out in full (``G_j = c_p a_j e σ'(λ_j)`` with ``e`` the whole error, the label noise
entering ``E[G_j G_l]`` as ``Δ c_p² a_j a_l E[σ'_j σ'_l]``) and integrated by tensor
Gauss–Hermite cubature over the full Ω — exact for polynomial models.
"""

import numpy as np
import sympy

from overlapdyn import activation
from overlapdyn.derive import gaussian_cubature
from overlapdyn.model import X
from overlapdyn.model.spec import Model


def random_overlaps(model: Model, seed: int, spread: float = 0.6):
    """A valid (M, Q) for P = model's P: Gram blocks of random vectors in a small space."""
    rng = np.random.default_rng(seed)
    p, k = model.p, model.k
    dim = p + k + 3
    basis, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    U = np.linalg.cholesky(model.target.gram) @ basis[:k] * np.sqrt(dim)
    W = np.sqrt(0.8) * rng.normal(size=(p, dim)) + spread * rng.normal(size=(p, k)) @ U / np.sqrt(
        dim)
    M = W @ U.T / dim
    Q = W @ W.T / dim
    return M, Q


def _degree(expr, symbol) -> int | None:
    return sympy.Poly(expr, symbol).degree() if expr.is_polynomial(symbol) else None


def reference_terms(model: Model, M, Q, a=None, n_nodes=None):
    """(Az, Al, B, D, risk) by one cubature of the full integrands over Ω.

    ``n_nodes`` per eigen-direction; by default just enough to be exact for polynomials.
    """
    p, k = model.p, model.k
    a = np.array(model.student.a if a is None else a, dtype=float)
    sigma = activation(model.student.activation).expr
    d_sigma = sympy.diff(sigma, X)
    z_symbols = sympy.symbols([f"z{r}" for r in range(1, k + 1)])
    g = model.target.function()
    if n_nodes is None:
        deg_s = _degree(sigma, X)
        deg_g = sympy.Poly(g, *z_symbols).total_degree()
        n_nodes = (2 * max(deg_s, deg_g) + 2 * (deg_s - 1)) // 2 + 1
    omega = np.block([[Q, M], [M.T, model.target.gram]])
    points, weights = gaussian_cubature(omega, n_nodes)
    lam, z = points[:p], points[p:]
    to_numpy = {"modules": ["scipy", "numpy"]}
    sig = np.broadcast_to(sympy.lambdify(X, sigma, **to_numpy)(lam), lam.shape)
    dsig = np.broadcast_to(sympy.lambdify(X, d_sigma, **to_numpy)(lam), lam.shape)
    target = np.broadcast_to(sympy.lambdify(z_symbols, g, **to_numpy)(*z), weights.shape)
    c_p = model.student.c_p
    error = target - c_p * a @ sig
    e = error if model.protocol.loss == "mse" else target
    noise = model.target.noise
    G = c_p * a[:, None] * e * dsig                      # (p, N): G_j without the noise
    Az = (G * weights) @ z.T
    Al = (G * weights) @ lam.T
    B = (G * weights) @ G.T + noise * c_p**2 * np.outer(a, a) * ((dsig * weights) @ dsig.T)
    D = (sig * weights) @ e
    risk = 0.5 * (noise + weights @ error**2)
    return Az, Al, B, D, risk


def reference_drift(model: Model, M, Q, a=None, n_nodes=None):
    """SPEC's (dM, dQ, da) written out with the reference expectations."""
    Az, Al, B, D, _ = reference_terms(model, M, Q, a, n_nodes)
    proto = model.protocol
    eta, omega, second = proto.eta, proto.weight_decay, proto.eta**2 / proto.n_b
    if proto.spherical:
        dM = eta * (Az - M * np.diag(Al)[:, None]) - 0.5 * second * M * np.diag(B)[:, None]
        dQ = (eta * (Al + Al.T) - eta * Q * (np.diag(Al)[:, None] + np.diag(Al)[None, :])
              + second * B - 0.5 * second * Q * (np.diag(B)[:, None] + np.diag(B)[None, :]))
        np.fill_diagonal(dQ, 0.0)
    else:
        dM = eta * Az - eta * omega * M
        dQ = eta * (Al + Al.T) - 2 * eta * omega * Q + second * B
    da = model.student.eta_a * model.student.c_p * D if model.student.train_readout else None
    return dM, dQ, da
