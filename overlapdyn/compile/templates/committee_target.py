r"""Template: the target's sums over a committee teacher ``g(z) = Σ_r v_r σ*(z_r)``.

With ``v = c_k b`` (k,), P the teacher Gram matrix (k, k), and for student rows j, l, m
the diagonal and off-diagonal entries of Q and the rows ``mj = M[j]`` (k,):

    Tg1 = E[σ(λ_j) g] = Σ_r v_r I2st(Q_jj, M_jr, P_rr),
    Tgz(r) = E[σ'(λ_j) z_r g],   Tgl = E[σ'(λ_j) λ_l g],   Tgg = E[σ'_j σ'_l g²],
    Tgs = E[σ'_j σ'_l σ_m g],    Eg2 = E[g²] = Σ_rt v_r v_t I2tt(P_rr, P_rt, P_tt),

each a sum over the teacher's units of the kernels printed from SymPy (``I2st``, …). A
multi-index target has the same six functions, printed for its k instead
(:func:`~overlapdyn.compile.printer.target_wrappers_source`).
"""

from numba import njit

from generated import LOOP, I2st, I2tt, I3st, I4sst, I4stt


# ------------------------------------------------------------------------ rendered from here
@njit(**LOOP)
def Tg1(q, mj, v, P):
    s = 0.0
    for r in range(v.shape[0]):
        s += v[r] * I2st(q, mj[r], P[r, r])
    return s


@njit(**LOOP)
def Tgz(r, q, mj, v, P):
    s = 0.0
    for t in range(v.shape[0]):
        s += v[t] * I3st(q, mj[r], mj[t], P[r, r], P[r, t], P[t, t])
    return s


@njit(**LOOP)
def Tgl(qjj, qjl, qll, mj, ml, v, P):
    s = 0.0
    for t in range(v.shape[0]):
        s += v[t] * I3st(qjj, qjl, mj[t], qll, ml[t], P[t, t])
    return s


@njit(**LOOP)
def Tgg(qjj, qjl, qll, mj, ml, v, P):
    # I4stt is symmetric in its two teacher fields: sum t >= r only
    s = 0.0
    k = v.shape[0]
    for r in range(k):
        for t in range(r, k):
            weight = v[r] * v[t] if t == r else 2.0 * v[r] * v[t]
            s += weight * I4stt(qjj, qjl, mj[r], mj[t], qll, ml[r], ml[t],
                                P[r, r], P[r, t], P[t, t])
    return s


@njit(**LOOP)
def Tgs(qjj, qjl, qjm, qll, qlm, qmm, mj, ml, mm, v, P):
    s = 0.0
    for r in range(v.shape[0]):
        s += v[r] * I4sst(qjj, qjl, qjm, mj[r], qll, qlm, ml[r], qmm, mm[r], P[r, r])
    return s


@njit(**LOOP)
def Eg2(v, P):
    s = 0.0
    k = v.shape[0]
    for r in range(k):
        for t in range(k):
            s += v[r] * v[t] * I2tt(P[r, r], P[r, t], P[t, t])
    return s
