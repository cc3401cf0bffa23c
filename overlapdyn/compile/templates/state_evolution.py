r"""Template: SPEC's large-batch state evolution, many steps in one compiled loop.

``map_step`` is one step of the map (``n_b = αd``, φ = (λ, z), Ω = [[Q, M], [Mᵀ, P]])::

    M' = M + η E[G zᵀ],
    Q'_jl = Q_jl + η (E[G_j λ_l] + E[G_l λ_j]) + η² (E[G_j φ]ᵀ Ω⁺ E[G_l φ] + E[G_j G_l]/α),
    a'_j = a_j + η_a c_p E[e σ(λ_j)]    (trained readout),

then, for spherical SGD, ``Q' ← D Q' D``, ``M' ← D M'`` with ``D = diag(Q'_jj)^(−1/2)``.
``parts`` = [gradient, noise, variance, decay] (``overlapdyn.model.terms``) multiplies each
named part: the gradient's factor γ scales the mean step, so ``η E[G zᵀ]`` and ``η (E[G_j
λ_l] + E[G_l λ_j])`` by γ and ``η² E[G_j φ]ᵀ Ω⁺ E[G_l φ]`` by γ² (γ = 0 skips the
pseudo-inverse); noise and variance weight the two parts of ``E[G_j G_l]``; the map has no
weight decay (decay is unused).
``Ω⁺ E[G φ]`` is the minimum-norm least-squares solution: Ω's pseudo-inverse (NumPy's
``pinv``, by SVD, singular values below ``rcond`` times the largest dropped — what ``lstsq``
with ``rcond=None`` drops when given ``rcond = ε·(p + k)``; ``pinv`` compiles in a third of
the time) times E[G φ]: E[G φ] = Ω E[∇G] lies in Ω's range, so a singular Ω (two
students equal) is no problem. The expectations come from ``drift_loops.expectations``.

``evolve_steps`` runs steps ``start+1 … stop`` on the packed states ``states`` (rows
``y = [M.ravel(), Q.ravel(), a]``, shape (T, n)): it reads row ``start``, writes each new state
and its population risk (``risks``), and returns the number of sound rows — ``stop + 1``, or
the first step whose state was not finite or passed ``blowup`` in max-norm (that row and
those after it are not valid).
"""

import numpy as np
from numba import njit

from generated import (
    ADDRESSES,
    COUNT,
    FLAG,
    LOOP,
    MATRIX,
    ROW,
    SCALAR,
    expectations,
    kernel_table,
    population_risk,
)

# ------------------------------------------------------------------------ rendered from here
EVOLVE_TYPE = COUNT(ADDRESSES, MATRIX, ROW, COUNT, COUNT, COUNT, COUNT, SCALAR, ROW, MATRIX,
                    SCALAR, FLAG, SCALAR, SCALAR, FLAG, FLAG, SCALAR, ROW, SCALAR, SCALAR, ROW)


@njit(**LOOP)
def map_step(kernels, M, Q, a, c_p, v, P, noise, mse, eta, inv_alpha, spherical, train_a,
             eta_a, rcond, parts):
    p, k = M.shape
    Az, Al, B, D = expectations(kernels, Q, M, a, c_p, v, P, noise * parts[1], mse, parts[2])
    gradient = parts[0]
    first = eta * gradient   # the mean step's η (1.0·η by default: exact)
    n = p + k
    omega = np.empty((n, n))
    gradients = np.empty((n, p))   # column j: E[G_j φ] = (E[G_j λ], E[G_j z])
    for j in range(p):
        for l in range(p):
            omega[j, l] = Q[j, l]
            gradients[l, j] = Al[j, l]
        for r in range(k):
            omega[j, p + r] = M[j, r]
            omega[p + r, j] = M[j, r]
            gradients[p + r, j] = Az[j, r]
    for r in range(k):
        for s in range(k):
            omega[p + r, p + s] = P[r, s]
    solution = np.zeros((n, p))   # Ω⁺ E[G φ]
    if gradient != 0.0:
        inverse = np.linalg.pinv(omega, rcond)
        for i in range(n):
            for m in range(n):
                for j in range(p):
                    solution[i, j] += inverse[i, m] * gradients[m, j]
    new_Q = np.empty((p, p))
    new_M = np.empty((p, k))
    for j in range(p):
        for l in range(p):
            projected = 0.0   # E[G_j φ]ᵀ Ω⁺ E[G_l φ]
            for i in range(n):
                projected += gradients[i, j] * solution[i, l]
            new_Q[j, l] = (Q[j, l] + first * (Al[j, l] + Al[l, j])
                           + eta * eta * (gradient * gradient * projected + B[j, l] * inv_alpha))
        for r in range(k):
            new_M[j, r] = M[j, r] + first * Az[j, r]
    new_a = a.copy()
    if train_a:
        readout = gradient * eta_a * c_p
        for j in range(p):
            new_a[j] = a[j] + readout * D[j]
    if spherical:
        norms = np.sqrt(np.diag(new_Q).copy())
        for j in range(p):
            for l in range(p):
                new_Q[j, l] /= norms[j] * norms[l]
            for r in range(k):
                new_M[j, r] /= norms[j]
    return new_M, new_Q, new_a


# compiled for EVOLVE_TYPE on first use, not on import: its least-squares solve alone takes
# longer to compile than all the drift's loops
@njit(**LOOP)
def evolve_steps(addresses, states, risks, start, stop, p, k, c_p, v, P, noise, mse, eta,
                 inv_alpha, spherical, train_a, eta_a, a_fixed, rcond, blowup, parts):
    kernels = kernel_table(addresses)
    y = states[start]
    M = y[:p * k].copy().reshape((p, k))
    Q = y[p * k:p * k + p * p].copy().reshape((p, p))
    a = y[p * k + p * p:].copy() if train_a else a_fixed.copy()
    for step in range(start + 1, stop + 1):
        M, Q, a = map_step(kernels, M, Q, a, c_p, v, P, noise, mse, eta, inv_alpha,
                           spherical, train_a, eta_a, rcond, parts)
        row = states[step]
        sound = True
        for j in range(p):
            for r in range(k):
                row[j * k + r] = M[j, r]
            for l in range(p):
                row[p * k + j * p + l] = Q[j, l]
        if train_a:
            for j in range(p):
                row[p * k + p * p + j] = a[j]
        for i in range(row.shape[0]):
            if not (abs(row[i]) <= blowup):   # also false for NaN
                sound = False
        if not sound:
            return step
        risks[step] = population_risk(kernels, Q, M, a, c_p, v, P, noise)
    return stop + 1
