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
The form ``E[G_j φ]ᵀ Ω⁺ E[G_l φ]`` (``projection``): E[G φ] = Ω E[∇G] lies in Ω's range,
so with Ω⁺ the pseudo-inverse a singular Ω (two students equal, a student equal to the
teacher) is no problem. It is ``YᵀY`` with ``Y = L⁺ E[G φ]`` for the semi-definite Cholesky
factor ``Ω = LLᵀ`` (no pivoting; a pivot within ``rcond`` = ε·(p + k) times Ω's largest
diagonal entry is a direction Ω lacks: its column of L is zero, E[G φ] has no component
along it) — about (p + k)³/6 flops written out here, where the LAPACK SVD of NumPy's
``pinv`` cost 3 µs at p + k = 2, half the whole step. Only a pivot below −10⁻⁸ times that
entry (Ω not semi-definite) goes to ``pinv`` (SVD, singular values below ``rcond`` times the
largest dropped — what ``lstsq`` with ``rcond=None`` drops), as before. The two agree to
rounding. The expectations come from ``drift_loops.drift_moments``, with the
S2 = E[σσᵀ] and TS2 = E[gσ] of the state, from which ``risk_from`` gives that state's risk
without another kernel call.

``evolve_steps`` runs steps ``start+1 … stop`` on the packed states ``states`` (rows
``y = [M.ravel(), Q.ravel(), a]``, shape (T, n)): it reads row ``start``, writes each new state
and its population risk (``risks``: each state's from the kernel values of the step taken
from it, the last one's by ``population_risk``), and returns the number of sound rows —
``stop + 1``, or the first step whose state was not finite or passed ``blowup`` in max-norm
(that row and those after it are not valid).
"""

import math

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
    drift_moments,
    kernel_table,
    population_risk,
    risk_from,
)

# ------------------------------------------------------------------------ rendered from here
EVOLVE_TYPE = COUNT(ADDRESSES, MATRIX, ROW, COUNT, COUNT, COUNT, COUNT, SCALAR, ROW, MATRIX,
                    SCALAR, FLAG, SCALAR, SCALAR, FLAG, FLAG, SCALAR, ROW, SCALAR, SCALAR, ROW)

# a pivot below −INDEFINITE times Ω's largest diagonal entry: Ω is not semi-definite (the
# tolerance of integrate's health check); between it and +rcond·largest: rounding, a zero
INDEFINITE = 1e-8


@njit(**LOOP)
def projection(omega, gradients, rcond):
    # E[G_j φ]ᵀ Ω⁺ E[G_l φ] (p, p) for gradients (n, p) = columns E[G_j φ]
    n, p = gradients.shape
    projected = np.zeros((p, p))
    largest = 0.0
    for i in range(n):
        largest = max(largest, omega[i, i])
    negligible = rcond * largest   # a pivot this small is a direction Ω lacks
    # Ω = L Lᵀ without pivoting, semi-definite: a pivot within ±negligible leaves its column
    # of L zero (Ω has no such direction, and E[G φ] = Ω E[∇G] has no component along it);
    # then Y = L⁺ E[G φ] by forward substitution and the form is YᵀY
    lower = np.zeros((n, n))
    definite = True
    for m in range(n):
        s = omega[m, m]
        for r in range(m):
            s -= lower[m, r] * lower[m, r]
        if s > negligible:
            lower[m, m] = math.sqrt(s)
            for i in range(m + 1, n):
                t = omega[i, m]
                for r in range(m):
                    t -= lower[i, r] * lower[m, r]
                lower[i, m] = t / lower[m, m]
        elif s < -INDEFINITE * largest:   # not semi-definite: the SVD decides, as before
            definite = False
            break
    if definite:
        solved = np.zeros((n, p))
        for j in range(p):
            for i in range(n):
                if lower[i, i] > 0.0:
                    t = gradients[i, j]
                    for m in range(i):
                        t -= lower[i, m] * solved[m, j]
                    solved[i, j] = t / lower[i, i]
        for j in range(p):
            for l in range(p):
                t = 0.0
                for i in range(n):
                    t += solved[i, j] * solved[i, l]
                projected[j, l] = t
        return projected
    inverse = np.linalg.pinv(omega, rcond)
    solution = np.zeros((n, p))   # Ω⁺ E[G φ]
    for i in range(n):
        for m in range(n):
            for j in range(p):
                solution[i, j] += inverse[i, m] * gradients[m, j]
    for j in range(p):
        for l in range(p):
            s = 0.0
            for i in range(n):
                s += gradients[i, j] * solution[i, l]
            projected[j, l] = s
    return projected


@njit(**LOOP)
def map_step(kernels, M, Q, a, c_p, v, P, noise, mse, eta, inv_alpha, spherical, train_a,
             eta_a, rcond, parts):
    # the state after one step, and the S2, TS2 of the state before it (its risk: risk_from)
    p, k = M.shape
    Az, Al, B, D, S2, TS2 = drift_moments(kernels, Q, M, a, c_p, v, P, noise * parts[1], mse,
                                          parts[2])
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
    projected = projection(omega, gradients, rcond) if gradient != 0.0 else np.zeros((p, p))
    new_Q = np.empty((p, p))
    new_M = np.empty((p, k))
    for j in range(p):
        for l in range(p):
            new_Q[j, l] = (Q[j, l] + first * (Al[j, l] + Al[l, j])
                           + eta * eta * (gradient * gradient * projected[j, l]
                                          + B[j, l] * inv_alpha))
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
    return new_M, new_Q, new_a, S2, TS2


# compiled for EVOLVE_TYPE on first use, not on import: its least-squares solve alone takes
# longer to compile than all the drift's loops
@njit(**LOOP)
def evolve_steps(addresses, states, risks, start, stop, p, k, c_p, v, P, noise, mse, eta,
                 inv_alpha, spherical, train_a, eta_a, a_fixed, rcond, blowup, parts):
    kernels = kernel_table(addresses)
    constant = noise + kernels[9](v, P)   # the risk's Δ + E[g²], the same at every state
    y = states[start]
    M = y[:p * k].copy().reshape((p, k))
    Q = y[p * k:p * k + p * p].copy().reshape((p, p))
    a = y[p * k + p * p:].copy() if train_a else a_fixed.copy()
    for step in range(start + 1, stop + 1):
        new_M, new_Q, new_a, S2, TS2 = map_step(kernels, M, Q, a, c_p, v, P, noise, mse, eta,
                                                inv_alpha, spherical, train_a, eta_a, rcond,
                                                parts)
        if step > start + 1:   # row start's risk is the caller's
            risks[step - 1] = risk_from(S2, TS2, a, c_p, constant)
        M, Q, a = new_M, new_Q, new_a
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
    if stop > start:
        risks[stop] = population_risk(kernels, Q, M, a, c_p, v, P, noise)
    return stop + 1
