r"""Template: the exact Jacobian ``∂(dy/dt)/∂y`` of the drift in ``drift_loops.py``.

The drift is a function of four arrays of expectations (``drift_loops.expectations``),

    A^z (p, k),   A^λ (p, p),   B (p, p),   D (p,),

each a sum of kernel values times products of ``u_j = c_p a_j``. ``expectation_gradients``
follows the same loops and, at every kernel call, adds the kernel's partial derivatives
(``<kernel>_acc``, printed from SymPy) to the derivative of the entry being summed, at the
state positions of the kernel's arguments: the derivatives come out with respect to the
state vector ``y = [M.ravel(), Q.ravel(), a]`` (``a`` only if trained) — shapes (p, k, n),
(p, p, n), (p, p, n), (p, n) with n = len(y). ``drift_jacobian`` then differentiates
SPEC's right-hand side (``rhs``) by the product rule, each named part of the drift
multiplied by its factor in ``parts`` = [gradient, noise, variance, decay] as there (the
drift is linear in them). Q's entries are read as the drift
reads them (``Q[j, l]`` and ``Q[l, j]`` are separate state entries), so the result is the
derivative of ``rhs`` itself, entry by entry, as finite differences of it would estimate.

One module for every model: the kernels come as ``kernels`` (``kernel_table.py``) and their
accumulators as ``gradients`` (``gradient_table.py``), tuples of first-class functions made
of the addresses that ``drift_jacobian`` is given.
"""

import numpy as np
from numba import njit

from generated import (
    ADDRESSES,
    COUNT,
    FLAG,
    LOOP,
    MATRIX,
    NO_INDEX,
    ROW,
    SCALAR,
    gradient_table,
    kernel_table,
)

# ------------------------------------------------------------------------ rendered from here
JACOBIAN_TYPE = MATRIX(ADDRESSES, ADDRESSES, ROW, COUNT, COUNT, SCALAR, ROW, MATRIX, SCALAR,
                      FLAG, SCALAR, SCALAR, SCALAR, FLAG, FLAG, SCALAR, ROW, ROW)


@njit(**LOOP)
def student_pairs_with_gradient(kernels, gradients, Q, M, n):
    # S2[j, l], J[j, l] (I2ss and J2s at the block (λ_j, λ_l)) and their derivatives d/dy
    I2ss, J2s = kernels[0], kernels[1]
    I2ss_acc, J2s_acc = gradients[0], gradients[1]
    p, k = M.shape
    S2 = np.empty((p, p))
    J = np.empty((p, p))
    dS2 = np.zeros((p, p, n))
    dJ = np.zeros((p, p, n))
    for j in range(p):
        for l in range(j, p):
            S2[j, l] = S2[l, j] = I2ss(Q[j, j], Q[j, l], Q[l, l])
            J[j, l] = J[l, j] = J2s(Q[j, j], Q[j, l], Q[l, l])
            ijj, ijl, ill = p * k + j * p + j, p * k + j * p + l, p * k + l * p + l
            I2ss_acc(Q[j, j], Q[j, l], Q[l, l], 1.0, dS2[j, l], ijj, ijl, ill)
            J2s_acc(Q[j, j], Q[j, l], Q[l, l], 1.0, dJ[j, l], ijj, ijl, ill)
            dS2[l, j] = dS2[j, l]
            dJ[l, j] = dJ[j, l]
    return S2, J, dS2, dJ


@njit(**LOOP)
def first_moment_gradients(kernels, gradients, Q, M, u, c_p, v, P, mse, n, train_a):
    # A^z = E[G z] (p, k) and A^λ = E[G λ] (p, p) with their derivatives
    I3ss, Tgz, Tgl = kernels[2], kernels[5], kernels[6]
    I3ss_acc, Tgz_acc, Tgl_acc = gradients[2], gradients[5], gradients[6]
    p, k = M.shape
    Az = np.empty((p, k))
    Al = np.empty((p, p))
    dAz = np.zeros((p, k, n))
    dAl = np.zeros((p, p, n))
    iq = p * k           # Q[j, l] sits at iq + j p + l
    ia = p * k + p * p   # a_j at ia + j (trained readout)
    for j in range(p):
        ijj = iq + j * p + j
        for r in range(k):
            ds = dAz[j, r]
            s = Tgz(r, Q[j, j], M[j], v, P)
            Tgz_acc(r, Q[j, j], M[j], v, P, 1.0, ds, ijj, j * k)
            if mse:
                for l in range(p):
                    value = I3ss(Q[j, j], M[j, r], Q[j, l], P[r, r], M[l, r], Q[l, l])
                    s -= u[l] * value
                    I3ss_acc(Q[j, j], M[j, r], Q[j, l], P[r, r], M[l, r], Q[l, l], -u[l], ds,
                             ijj, j * k + r, iq + j * p + l, NO_INDEX, l * k + r,
                             iq + l * p + l)
                    if train_a:
                        ds[ia + l] -= c_p * value
            Az[j, r] = u[j] * s
            ds *= u[j]
            if train_a:
                ds[ia + j] += c_p * s
        for l in range(p):
            ds = dAl[j, l]
            ijl, ill = iq + j * p + l, iq + l * p + l
            s = Tgl(Q[j, j], Q[j, l], Q[l, l], M[j], M[l], v, P)
            Tgl_acc(Q[j, j], Q[j, l], Q[l, l], M[j], M[l], v, P, 1.0, ds, ijj, ijl, ill,
                    j * k, l * k)
            if mse:
                for m in range(p):
                    value = I3ss(Q[j, j], Q[j, l], Q[j, m], Q[l, l], Q[l, m], Q[m, m])
                    s -= u[m] * value
                    I3ss_acc(Q[j, j], Q[j, l], Q[j, m], Q[l, l], Q[l, m], Q[m, m], -u[m], ds,
                             ijj, ijl, iq + j * p + m, ill, iq + l * p + m, iq + m * p + m)
                    if train_a:
                        ds[ia + m] -= c_p * value
            Al[j, l] = u[j] * s
            ds *= u[j]
            if train_a:
                ds[ia + j] += c_p * s
    return Az, Al, dAz, dAl


@njit(**LOOP)
def student_sum_gradient(kernels, gradients, Q, M, u, c_p, v, P, j, l, train_a, ds):
    # the mse part of E[G_j G_l]/(u_j u_l) (sums over the students m, o): value, and its
    # derivative added to ds
    I4sss, Tgs = kernels[3], kernels[8]
    I4sss_acc, Tgs_acc = gradients[3], gradients[8]
    p, k = M.shape
    iq = p * k
    ia = p * k + p * p
    ijj, ijl, ill = iq + j * p + j, iq + j * p + l, iq + l * p + l
    s = 0.0
    for m in range(p):
        ijm, ilm, imm = iq + j * p + m, iq + l * p + m, iq + m * p + m
        value = Tgs(Q[j, j], Q[j, l], Q[j, m], Q[l, l], Q[l, m], Q[m, m], M[j], M[l], M[m],
                    v, P)
        s -= 2.0 * u[m] * value
        Tgs_acc(Q[j, j], Q[j, l], Q[j, m], Q[l, l], Q[l, m], Q[m, m], M[j], M[l], M[m], v, P,
                -2.0 * u[m], ds, ijj, ijl, ijm, ill, ilm, imm, j * k, l * k, m * k)
        if train_a:
            ds[ia + m] -= 2.0 * c_p * value
        value = I4sss(Q[j, j], Q[j, l], Q[j, m], Q[j, m], Q[l, l], Q[l, m], Q[l, m], Q[m, m],
                      Q[m, m], Q[m, m])
        s += u[m] * u[m] * value
        I4sss_acc(Q[j, j], Q[j, l], Q[j, m], Q[j, m], Q[l, l], Q[l, m], Q[l, m], Q[m, m],
                  Q[m, m], Q[m, m], u[m] * u[m], ds, ijj, ijl, ijm, ijm, ill, ilm, ilm, imm,
                  imm, imm)
        if train_a:
            ds[ia + m] += 2.0 * c_p * u[m] * value
        for o in range(m + 1, p):
            ijo, ilo, imo, ioo = iq + j * p + o, iq + l * p + o, iq + m * p + o, iq + o * p + o
            value = I4sss(Q[j, j], Q[j, l], Q[j, m], Q[j, o], Q[l, l], Q[l, m], Q[l, o],
                          Q[m, m], Q[m, o], Q[o, o])
            s += 2.0 * u[m] * u[o] * value
            I4sss_acc(Q[j, j], Q[j, l], Q[j, m], Q[j, o], Q[l, l], Q[l, m], Q[l, o], Q[m, m],
                      Q[m, o], Q[o, o], 2.0 * u[m] * u[o], ds, ijj, ijl, ijm, ijo, ill, ilm,
                      ilo, imm, imo, ioo)
            if train_a:
                ds[ia + m] += 2.0 * c_p * u[o] * value
                ds[ia + o] += 2.0 * c_p * u[m] * value
    return s


@njit(**LOOP)
def second_moment_gradients(kernels, gradients, Q, M, u, c_p, v, P, noise, mse, n, train_a, J,
                            dJ, variance):
    # B = variance·B^var + noise·u_j u_l J (p, p) with its derivative; E[G Gᵀ] with
    # noise = Δ and variance = 1 (drift_loops.expectations)
    Tgg, Tgg_acc = kernels[7], gradients[7]
    p, k = M.shape
    iq = p * k
    ia = p * k + p * p
    B = np.empty((p, p))
    dB = np.zeros((p, p, n))
    for j in range(p):
        for l in range(j, p):
            ds = dB[j, l]
            ijj, ijl, ill = iq + j * p + j, iq + j * p + l, iq + l * p + l
            s = 0.0
            if variance != 0.0:   # the I4 part, then weighted
                s = Tgg(Q[j, j], Q[j, l], Q[l, l], M[j], M[l], v, P)
                Tgg_acc(Q[j, j], Q[j, l], Q[l, l], M[j], M[l], v, P, 1.0, ds, ijj, ijl, ill,
                        j * k, l * k)
                if mse:
                    s += student_sum_gradient(kernels, gradients, Q, M, u, c_p, v, P, j, l,
                                              train_a, ds)
                s *= variance
                ds *= variance
            s += noise * J[j, l]
            ds += noise * dJ[j, l]
            B[j, l] = u[j] * u[l] * s
            ds *= u[j] * u[l]
            if train_a:
                ds[ia + j] += c_p * u[l] * s
                ds[ia + l] += c_p * u[j] * s
            B[l, j] = B[j, l]
            dB[l, j] = ds
    return B, dB


@njit(**LOOP)
def expectation_gradients(kernels, gradients, Q, M, a, c_p, v, P, noise, mse, n, train_a,
                          variance):
    Tg1, Tg1_acc = kernels[4], gradients[4]
    p, k = M.shape
    u = c_p * a
    S2, J, dS2, dJ = student_pairs_with_gradient(kernels, gradients, Q, M, n)
    Az, Al, dAz, dAl = first_moment_gradients(kernels, gradients, Q, M, u, c_p, v, P, mse, n,
                                              train_a)
    B, dB = second_moment_gradients(kernels, gradients, Q, M, u, c_p, v, P, noise, mse, n,
                                    train_a, J, dJ, variance)
    D = np.empty(p)
    dD = np.zeros((p, n))
    iq = p * k
    ia = p * k + p * p
    for j in range(p):
        D[j] = Tg1(Q[j, j], M[j], v, P)
        Tg1_acc(Q[j, j], M[j], v, P, 1.0, dD[j], iq + j * p + j, j * k)
        if mse:
            for l in range(p):
                D[j] -= u[l] * S2[j, l]
                dD[j] -= u[l] * dS2[j, l]
                if train_a:
                    dD[j, ia + l] -= c_p * S2[j, l]
    return Az, Al, B, D, dAz, dAl, dB, dD


@njit(JACOBIAN_TYPE, **LOOP)
def drift_jacobian(kernel_addresses, gradient_addresses, y, p, k, c_p, v, P, noise, mse, eta,
                   inv_nb, omega, spherical, train_a, eta_a, a_fixed, parts):
    n = y.shape[0]
    M = y[:p * k].copy().reshape((p, k))
    Q = y[p * k:p * k + p * p].copy().reshape((p, p))
    a = y[p * k + p * p:] if train_a else a_fixed
    Az, Al, B, D, dAz, dAl, dB, dD = expectation_gradients(
        kernel_table(kernel_addresses), gradient_table(gradient_addresses), Q, M, a, c_p, v, P,
        noise * parts[1], mse, n, train_a, parts[2])
    jac = np.zeros((n, n))
    first = eta * parts[0]           # as in drift_loops.rhs
    shrink = eta * omega * parts[3]
    second = eta * eta * inv_nb
    for j in range(p):
        for r in range(k):
            row = j * k + r
            if spherical:
                jac[row] = (first * (dAz[j, r] - M[j, r] * dAl[j, j])
                            - 0.5 * second * M[j, r] * dB[j, j])
                jac[row, row] -= first * Al[j, j] + 0.5 * second * B[j, j]
            else:
                jac[row] = first * dAz[j, r]
                jac[row, row] -= shrink
        for l in range(p):
            row = p * k + j * p + l
            if spherical:
                if j != l:
                    jac[row] = (first * (dAl[j, l] + dAl[l, j])
                                - first * Q[j, l] * (dAl[j, j] + dAl[l, l])
                                + second * dB[j, l]
                                - 0.5 * second * Q[j, l] * (dB[j, j] + dB[l, l]))
                    jac[row, row] -= (first * (Al[j, j] + Al[l, l])
                                      + 0.5 * second * (B[j, j] + B[l, l]))
            else:
                jac[row] = first * (dAl[j, l] + dAl[l, j]) + second * dB[j, l]
                jac[row, row] -= 2.0 * shrink
    if train_a:
        readout = parts[0] * eta_a * c_p
        for j in range(p):
            jac[p * k + p * p + j] = readout * dD[j]
    return jac
