r"""Template: the gradients of the committee target's sums (``committee_target.py``).

Each ``<name>_acc`` adds ``coef`` times the partial derivatives of ``<name>`` to the state
vector ``out`` at the positions of its arguments: ``iq…`` are the state indices of the Q
entries it reads, ``im…`` the index of ``M[j, 0]`` of each student row it reads (the row's
entries follow: ``M[j, r]`` sits at ``im + r``). The teacher's Gram matrix P is fixed, so
its entries carry no index. The kernels' own accumulators ``I2st_acc`` … are printed from
SymPy (:func:`~overlapdyn.compile.printer.kernel_accumulator_source`); an index of −1
(``NO_INDEX``, defined in ``prelude.py``) marks an argument that is not a state entry.
"""

from numba import njit

from generated import LOOP, NO_INDEX, I2st_acc, I3st_acc, I4sst_acc, I4stt_acc


# ------------------------------------------------------------------------ rendered from here
@njit(**LOOP)
def Tg1_acc(q, mj, v, P, coef, out, iq, im):
    for r in range(v.shape[0]):
        I2st_acc(q, mj[r], P[r, r], coef * v[r], out, iq, im + r, NO_INDEX)


@njit(**LOOP)
def Tgz_acc(r, q, mj, v, P, coef, out, iq, im):
    for t in range(v.shape[0]):
        I3st_acc(q, mj[r], mj[t], P[r, r], P[r, t], P[t, t], coef * v[t], out,
                 iq, im + r, im + t, NO_INDEX, NO_INDEX, NO_INDEX)


@njit(**LOOP)
def Tgl_acc(qjj, qjl, qll, mj, ml, v, P, coef, out, iqjj, iqjl, iqll, imj, iml):
    for t in range(v.shape[0]):
        I3st_acc(qjj, qjl, mj[t], qll, ml[t], P[t, t], coef * v[t], out,
                 iqjj, iqjl, imj + t, iqll, iml + t, NO_INDEX)


@njit(**LOOP)
def Tgg_acc(qjj, qjl, qll, mj, ml, v, P, coef, out, iqjj, iqjl, iqll, imj, iml):
    k = v.shape[0]
    for r in range(k):
        for t in range(r, k):
            weight = v[r] * v[t] if t == r else 2.0 * v[r] * v[t]
            I4stt_acc(qjj, qjl, mj[r], mj[t], qll, ml[r], ml[t], P[r, r], P[r, t], P[t, t],
                      coef * weight, out, iqjj, iqjl, imj + r, imj + t, iqll, iml + r,
                      iml + t, NO_INDEX, NO_INDEX, NO_INDEX)


@njit(**LOOP)
def Tgs_acc(qjj, qjl, qjm, qll, qlm, qmm, mj, ml, mm, v, P, coef, out,
            iqjj, iqjl, iqjm, iqll, iqlm, iqmm, imj, iml, imm):
    for r in range(v.shape[0]):
        I4sst_acc(qjj, qjl, qjm, mj[r], qll, qlm, ml[r], qmm, mm[r], P[r, r], coef * v[r],
                  out, iqjj, iqjl, iqjm, imj + r, iqll, iqlm, iml + r, iqmm, imm + r, NO_INDEX)
