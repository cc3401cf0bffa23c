r"""Template: the matrix products of one GAMP iteration, two at a time over the data.

With ``F`` the (n, d) data matrix (C order), ``forward`` fills ``Fw = F ŵ`` and
``F2v = (F∘F) v`` and ``backward`` fills ``Fg = Fᵀ g`` and ``F2dg = (F∘F)ᵀ ∂g``, each pair in
one pass over F, squaring its entries on the fly (so ``F∘F`` is never stored), in one thread:
the products are memory-bound, and a threaded BLAS on a busy machine spends more time
waiting for its threads than multiplying (:mod:`overlapdyn.limits.gamp` calls them).
"""

from numba import njit

from generated import SGD


# ------------------------------------------------------------------------ rendered from here
@njit(**SGD)
def forward(F, w, v, Fw, F2v):
    n, d = F.shape
    for mu in range(n):
        a = 0.0
        b = 0.0
        for i in range(d):
            f = F[mu, i]
            a += f * w[i]
            b += f * f * v[i]
        Fw[mu] = a
        F2v[mu] = b


@njit(**SGD)
def backward(F, g, dg, Fg, F2dg):
    n, d = F.shape
    Fg[:] = 0.0
    F2dg[:] = 0.0
    for mu in range(n):
        a = g[mu]
        b = dg[mu]
        for i in range(d):
            f = F[mu, i]
            Fg[i] += a * f
            F2dg[i] += b * f * f
