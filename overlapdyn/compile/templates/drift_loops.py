r"""Template: the drift's loops over neurons, from the kernels and the target's sums.

With ``u_j = c_p a_j``, ``G_j = u_j e σ'(λ_j)`` and ``e = y − ŷ`` (mse) or ``e = y``
(correlation), at a state (M (p, k), Q (p, p), a (p,)):

* ``student_pairs(kernels, Q)`` → ``S2_jl = E[σ_j σ_l]``, ``J_jl = E[σ'_j σ'_l]`` (p, p);
* ``population_risk(kernels, …)`` → ``R = ½ E[(y − ŷ)²]``;
* ``expectations(kernels, …, noise, mse, variance)`` → ``A^z = E[G z]`` (p, k),
  ``A^λ = E[G λ]`` (p, p), ``B = variance·B^var + noise·u_j u_l J_jl`` (p, p) — with
  ``noise = Δ`` and ``variance = 1``, ``E[G Gᵀ]``; ``variance = 0`` skips the four-field
  kernels altogether — and ``D = E[e σ]`` (p,);
* ``rhs(addresses, y, …, parts)`` → ``dy/dt`` for ``y = [M.ravel(), Q.ravel(), a]``: SPEC's
  ODEs, plain or spherical, with the readout trained or fixed, each named part of the drift
  (``overlapdyn.model.terms``) multiplied by its factor in ``parts`` = [gradient, noise,
  variance, decay] (1 or 0: run-time numbers, so switching parts compiles nothing; at all
  ones every product is by 1.0, exact, and the numbers are those of the drift without them);
* ``risk(addresses, …)``, ``terms(addresses, …)``: R and the four arrays, called from Python;
* ``guarded_rhs(addresses, y, …, parts, blowup)``: ``rhs`` with the ODE solver's guards —
  zeros where ``y`` or the drift is not finite, an empty array where ``max |y_i| > blowup``;
* ``risk_path(addresses, states, …)``: R of every packed state (row) of ``states`` (T, n);
* ``drift_moments``, ``risk_from``: the expectations with the S2, TS2 they are built from,
  and R from those (the state evolution's step gets each state's risk without kernel calls).

These loops are compiled once for every model. A model's kernels (``I2ss``, ``J2s``,
``I3ss``, ``I4sss``, printed from SymPy) and its target's sums (``Tg1`` … ``Eg2``, from
``committee_target.py`` or printed for a multi-index target) come as ``kernels``, the tuple
of first-class functions that ``kernel_table`` (``kernel_table.py``) makes of their
addresses; see :mod:`overlapdyn.compile.compiled` for the formulas.
"""

import math

import numpy as np
from numba import njit

from generated import ADDRESSES, COUNT, FLAG, LOOP, MATRIX, ROW, SCALAR, TUPLE, kernel_table

# ------------------------------------------------------------------------ rendered from here
# The entries called from Python are compiled for these types on first use, each alone
# (CompiledModel passes exactly these, overlapdyn.compile.linking.compile_typed), not when the
# module is imported: a fresh process loads from the cache only the machine code it calls
# (integrate: guarded_rhs and risk_path); the functions they call are compiled with them.
RHS_TYPE = ROW(ADDRESSES, ROW, COUNT, COUNT, SCALAR, ROW, MATRIX, SCALAR, FLAG, SCALAR, SCALAR,
               SCALAR, FLAG, FLAG, SCALAR, ROW, ROW)
RISK_TYPE = SCALAR(ADDRESSES, MATRIX, MATRIX, ROW, SCALAR, ROW, MATRIX, SCALAR)
TERMS_TYPE = TUPLE((MATRIX, MATRIX, MATRIX, ROW))(ADDRESSES, MATRIX, MATRIX, ROW, SCALAR, ROW,
                                                  MATRIX, SCALAR, FLAG, SCALAR)
GUARDED_RHS_TYPE = ROW(ADDRESSES, ROW, COUNT, COUNT, SCALAR, ROW, MATRIX, SCALAR, FLAG, SCALAR,
                       SCALAR, SCALAR, FLAG, FLAG, SCALAR, ROW, ROW, SCALAR)
RISK_PATH_TYPE = ROW(ADDRESSES, MATRIX, COUNT, COUNT, SCALAR, ROW, MATRIX, SCALAR, FLAG, ROW)


@njit(**LOOP)
def student_pairs(kernels, Q):
    I2ss, J2s = kernels[0], kernels[1]
    p = Q.shape[0]
    S2 = np.empty((p, p))
    J = np.empty((p, p))
    for j in range(p):
        for l in range(j, p):
            S2[j, l] = S2[l, j] = I2ss(Q[j, j], Q[j, l], Q[l, l])
            J[j, l] = J[l, j] = J2s(Q[j, j], Q[j, l], Q[l, l])
    return S2, J


@njit(**LOOP)
def risk_from(S2, TS2, a, c_p, constant):
    # R from S2 = E[σ_j σ_l], TS2_j = E[g σ_j] and constant = Δ + E[g²]: the arithmetic of
    # population_risk, so that a loop which has these values already (the state evolution's
    # step) gets the same number without calling the kernels again
    p = S2.shape[0]
    risk = constant
    for j in range(p):
        risk -= 2.0 * c_p * a[j] * TS2[j]
        for l in range(p):
            risk += c_p * c_p * a[j] * a[l] * S2[j, l]
    return 0.5 * risk


@njit(**LOOP)
def population_risk(kernels, Q, M, a, c_p, v, P, noise):
    Tg1, Eg2 = kernels[4], kernels[9]
    p = Q.shape[0]
    S2, J = student_pairs(kernels, Q)
    TS2 = np.empty(p)
    for j in range(p):
        TS2[j] = Tg1(Q[j, j], M[j], v, P)
    return risk_from(S2, TS2, a, c_p, noise + Eg2(v, P))


@njit(**LOOP)
def drift_moments(kernels, Q, M, a, c_p, v, P, noise, mse, variance):
    # expectations' four arrays, and the S2 = E[σ_j σ_l] (p, p), TS2_j = E[g σ_j] (p,) they
    # are built from (with them the risk at the same state costs no kernel call: risk_from)
    I3ss, I4sss, Tg1, Tgz, Tgl, Tgg, Tgs = kernels[2:9]
    p, k = M.shape
    u = c_p * a
    S2, J = student_pairs(kernels, Q)
    TS2 = np.empty(p)
    Az = np.empty((p, k))
    Al = np.empty((p, p))
    B = np.empty((p, p))
    D = np.empty(p)
    for j in range(p):
        TS2[j] = Tg1(Q[j, j], M[j], v, P)
        for r in range(k):
            s = Tgz(r, Q[j, j], M[j], v, P)
            if mse:
                for l in range(p):
                    s -= u[l] * I3ss(Q[j, j], M[j, r], Q[j, l], P[r, r], M[l, r], Q[l, l])
            Az[j, r] = u[j] * s
        for l in range(p):
            s = Tgl(Q[j, j], Q[j, l], Q[l, l], M[j], M[l], v, P)
            if mse:
                for m in range(p):
                    s -= u[m] * I3ss(Q[j, j], Q[j, l], Q[j, m], Q[l, l], Q[l, m], Q[m, m])
            Al[j, l] = u[j] * s
    # the I4 part's weight rides on one factor u_m of each of its terms: with variance = 1
    # (the default) wu = u exactly, and the sums below are those without the switch,
    # operation for operation
    wu = variance * u
    for j in range(p):
        for l in range(j, p):
            if variance == 0.0:   # the I4 part off: its O(p⁴) kernel calls are skipped
                s = noise * J[j, l]
            else:
                s = variance * Tgg(Q[j, j], Q[j, l], Q[l, l], M[j], M[l], v, P) + noise * J[j, l]
                if mse:
                    for m in range(p):
                        s -= 2.0 * wu[m] * Tgs(Q[j, j], Q[j, l], Q[j, m], Q[l, l], Q[l, m],
                                               Q[m, m], M[j], M[l], M[m], v, P)
                        # I4sss is symmetric in its last two fields: sum n >= m only
                        s += wu[m] * u[m] * I4sss(Q[j, j], Q[j, l], Q[j, m], Q[j, m], Q[l, l],
                                                  Q[l, m], Q[l, m], Q[m, m], Q[m, m], Q[m, m])
                        for n in range(m + 1, p):
                            s += 2.0 * wu[m] * u[n] * I4sss(Q[j, j], Q[j, l], Q[j, m], Q[j, n],
                                                            Q[l, l], Q[l, m], Q[l, n], Q[m, m],
                                                            Q[m, n], Q[n, n])
            B[j, l] = u[j] * u[l] * s
            B[l, j] = B[j, l]
    for j in range(p):
        D[j] = TS2[j]
        if mse:
            for l in range(p):
                D[j] -= u[l] * S2[j, l]
    return Az, Al, B, D, S2, TS2


@njit(**LOOP)
def expectations(kernels, Q, M, a, c_p, v, P, noise, mse, variance):
    Az, Al, B, D, S2, TS2 = drift_moments(kernels, Q, M, a, c_p, v, P, noise, mse, variance)
    return Az, Al, B, D


@njit(**LOOP)
def rhs(addresses, y, p, k, c_p, v, P, noise, mse, eta, inv_nb, omega, spherical, train_a,
        eta_a, a_fixed, parts):
    M = y[:p * k].copy().reshape((p, k))
    Q = y[p * k:p * k + p * p].copy().reshape((p, p))
    a = y[p * k + p * p:] if train_a else a_fixed
    # parts = [gradient, noise, variance, decay]: the label noise and the I4 part enter B
    Az, Al, B, D = expectations(kernel_table(addresses), Q, M, a, c_p, v, P, noise * parts[1],
                                mse, parts[2])
    out = np.zeros_like(y)
    first = eta * parts[0]           # the gradient part's η
    shrink = eta * omega * parts[3]  # the decay part's ηω
    second = eta * eta * inv_nb
    for j in range(p):
        for r in range(k):
            if spherical:
                value = (first * (Az[j, r] - M[j, r] * Al[j, j])
                         - 0.5 * second * M[j, r] * B[j, j])
            else:
                value = first * Az[j, r] - shrink * M[j, r]
            out[j * k + r] = value
        for l in range(p):
            if spherical:
                if j == l:
                    value = 0.0
                else:
                    value = (first * (Al[j, l] + Al[l, j])
                             - first * Q[j, l] * (Al[j, j] + Al[l, l])
                             + second * B[j, l] - 0.5 * second * Q[j, l] * (B[j, j] + B[l, l]))
            else:
                value = first * (Al[j, l] + Al[l, j]) - 2.0 * shrink * Q[j, l] + second * B[j, l]
            out[p * k + j * p + l] = value
    if train_a:
        readout = parts[0] * eta_a * c_p   # the readout's rate is first order: the gradient's
        for j in range(p):
            out[p * k + p * p + j] = readout * D[j]
    return out


@njit(**LOOP)
def risk(addresses, Q, M, a, c_p, v, P, noise):
    return population_risk(kernel_table(addresses), Q, M, a, c_p, v, P, noise)


@njit(**LOOP)
def terms(addresses, Q, M, a, c_p, v, P, noise, mse, variance):
    return expectations(kernel_table(addresses), Q, M, a, c_p, v, P, noise, mse, variance)


@njit(**LOOP)
def guarded_rhs(addresses, y, p, k, c_p, v, P, noise, mse, eta, inv_nb, omega, spherical,
                train_a, eta_a, a_fixed, parts, blowup):
    # rhs as the ODE solver needs it, with the checks that guard it done here rather than as
    # three NumPy reductions per call: zeros where y is not finite (a rejected trial stage
    # stays harmless), an empty array where max |y_i| > blowup (the caller abandons the run),
    # zeros where the drift is not finite
    n = y.shape[0]
    for i in range(n):
        if not math.isfinite(y[i]):
            return np.zeros(n)
    for i in range(n):
        if abs(y[i]) > blowup:
            return np.empty(0)
    out = rhs(addresses, y, p, k, c_p, v, P, noise, mse, eta, inv_nb, omega, spherical,
              train_a, eta_a, a_fixed, parts)
    for i in range(n):
        if not math.isfinite(out[i]):
            return np.zeros(n)
    return out


@njit(**LOOP)
def risk_path(addresses, states, p, k, c_p, v, P, noise, train_a, a_fixed):
    # the risk of each row y = [M.ravel(), Q.ravel(), a] of states (T, n), as risk() gives it
    kernels = kernel_table(addresses)
    out = np.empty(states.shape[0])
    for t in range(states.shape[0]):
        y = states[t]
        M = y[:p * k].copy().reshape((p, k))
        Q = y[p * k:p * k + p * p].copy().reshape((p, p))
        a = y[p * k + p * p:].copy() if train_a else a_fixed
        out[t] = population_risk(kernels, Q, M, a, c_p, v, P, noise)
    return out
