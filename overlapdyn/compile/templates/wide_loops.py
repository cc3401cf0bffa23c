r"""Template: the drift of the orthogonal-diagonal reduction of a wide network.

The state is ``M`` (p, k) and the orthogonal variances ``qperp`` (p,): the student-student
overlaps are those of ``Q = M P⁻¹ Mᵀ + diag(qperp)`` (the orthogonal parts of different
neurons orthogonal), never stored. With ``u_j = c_p a_j``, ``Pinv = P⁻¹`` (k, k), and the
model's kernels (``kernel_table.py``: the same compiled functions as the full drift's), for
each neuron j (cost O(p k) kernel calls per neuron, O(p² k) per evaluation):

* ``Az_jr = E[G_j z_r] = u_j (Tgz(r) − Σ_m u_m I3ss(λ_j, z_r, λ_m))``  (the ``m`` sum for mse),
* ``Al_jj = E[G_j λ_j] = u_j (Tgl(j, j) − Σ_m u_m I3ss(λ_j, λ_j, λ_m))``,
* ``dM_jr = first Az_jr − shrink M_jr`` (spherical: ``first (Az_jr − M_jr Al_jj)``),
* ``dQ_jj = 2 first Al_jj − 2 shrink Q_jj`` (spherical: 0),
* ``dqperp_j = dQ_jj − 2 (dM P⁻¹ Mᵀ)_jj``,

that is, SPEC's first-order drift (``first = η``, ``shrink = ηω``, the weight decay) on the
set where the reduction holds (:mod:`overlapdyn.ode.wide` says when that set is invariant).
``orthogonal_risk`` is SPEC's population risk there, ``orthogonal_closure`` the rates
``dQ⊥_jl/dt`` (j ≠ l) that the full ODE has there and the reduction sets to zero.
"""

import numpy as np
from numba import njit

from generated import ADDRESSES, FLAG, LOOP, MATRIX, ROW, SCALAR, TUPLE, kernel_table

# ------------------------------------------------------------------------ rendered from here
ORTHOGONAL_DRIFT_TYPE = TUPLE((MATRIX, ROW))(ADDRESSES, MATRIX, ROW, MATRIX, ROW, SCALAR, ROW,
                                             MATRIX, FLAG, SCALAR, SCALAR, FLAG)
ORTHOGONAL_RISK_TYPE = SCALAR(ADDRESSES, MATRIX, ROW, MATRIX, ROW, SCALAR, ROW, MATRIX, SCALAR)
ORTHOGONAL_CLOSURE_TYPE = SCALAR(ADDRESSES, MATRIX, ROW, MATRIX, ROW, SCALAR, FLAG, SCALAR)


@njit(**LOOP)
def projected(M, Pinv):
    """``M P⁻¹`` (p, k), the rows that give ``Q_jm = (M P⁻¹)_j · M_m`` (j ≠ m)."""
    p, k = M.shape
    MP = np.zeros((p, k))
    for j in range(p):
        for r in range(k):
            for s in range(k):
                MP[j, r] += M[j, s] * Pinv[s, r]
    return MP


@njit(**LOOP)
def diagonal(M, MP, qperp):
    p, k = M.shape
    q = np.empty(p)
    for j in range(p):
        s = qperp[j]
        for r in range(k):
            s += MP[j, r] * M[j, r]
        q[j] = s
    return q


@njit(ORTHOGONAL_DRIFT_TYPE, **LOOP)
def orthogonal_drift(addresses, M, qperp, Pinv, a, c_p, v, P, mse, first, shrink, spherical):
    kernels = kernel_table(addresses)
    I3ss, Tgz, Tgl = kernels[2], kernels[5], kernels[6]
    p, k = M.shape
    MP = projected(M, Pinv)
    q = diagonal(M, MP, qperp)
    dM = np.empty((p, k))
    dq = np.empty(p)
    s = np.empty(k)
    for j in range(p):
        qj = q[j]
        for r in range(k):
            s[r] = Tgz(r, qj, M[j], v, P)
        al = Tgl(qj, qj, qj, M[j], M[j], v, P)
        if mse:
            for m in range(p):
                um = c_p * a[m]
                if m == j:
                    qjm = qj
                else:
                    qjm = 0.0
                    for r in range(k):
                        qjm += MP[j, r] * M[m, r]
                for r in range(k):
                    s[r] -= um * I3ss(qj, M[j, r], qjm, P[r, r], M[m, r], q[m])
                al -= um * I3ss(qj, qj, qjm, qj, qjm, q[m])
        uj = c_p * a[j]
        al *= uj
        change = 0.0
        for r in range(k):
            if spherical:
                dM[j, r] = first * (uj * s[r] - M[j, r] * al)
            else:
                dM[j, r] = first * uj * s[r] - shrink * M[j, r]
            change += dM[j, r] * MP[j, r]
        dQjj = 0.0 if spherical else 2.0 * first * al - 2.0 * shrink * qj
        dq[j] = dQjj - 2.0 * change
    return dM, dq


@njit(ORTHOGONAL_RISK_TYPE, **LOOP)
def orthogonal_risk(addresses, M, qperp, Pinv, a, c_p, v, P, noise):
    kernels = kernel_table(addresses)
    I2ss, Tg1, Eg2 = kernels[0], kernels[4], kernels[9]
    p, k = M.shape
    MP = projected(M, Pinv)
    q = diagonal(M, MP, qperp)
    risk = noise + Eg2(v, P)
    for j in range(p):
        risk -= 2.0 * c_p * a[j] * Tg1(q[j], M[j], v, P)
        risk += c_p * c_p * a[j] * a[j] * I2ss(q[j], q[j], q[j])
        for m in range(j + 1, p):
            qjm = 0.0
            for r in range(k):
                qjm += MP[j, r] * M[m, r]
            risk += 2.0 * c_p * c_p * a[j] * a[m] * I2ss(q[j], qjm, q[m])
    return 0.5 * risk


@njit(ORTHOGONAL_CLOSURE_TYPE, **LOOP)
def orthogonal_closure(addresses, M, qperp, Pinv, a, c_p, mse, first):
    # the full ODE's dQ⊥_jl/dt (j ≠ l) on the set: first (E[G_j λ⊥_l] + E[G_l λ⊥_j]) with, by
    # Stein's lemma, E[G_j λ⊥_l] = qperp_l E[∂G_j/∂λ_l] = −qperp_l u_j u_l E[σ'_j σ'_l] (mse;
    # 0 for the correlation loss). Returned: max_j c_p Σ_{l≠j} |a_l dQ⊥_jl/dt|, the rate at
    # which the neglected overlaps reach neuron j's drift (which sums them with weights c_p a_l)
    if not mse:
        return 0.0
    J2s = kernel_table(addresses)[1]
    p, k = M.shape
    MP = projected(M, Pinv)
    q = diagonal(M, MP, qperp)
    worst = 0.0
    for j in range(p):
        row = 0.0
        for m in range(p):
            if m == j:
                continue
            qjm = 0.0
            for r in range(k):
                qjm += MP[j, r] * M[m, r]
            rate = first * c_p * c_p * a[j] * a[m] * (qperp[j] + qperp[m]) * J2s(q[j], qjm, q[m])
            row += c_p * abs(a[m] * rate)
        worst = max(worst, row)
    return worst
