r"""Template: the matrix products of one GAMP iteration, two at a time over the data.

With ``F`` the (n, d) data matrix (C order) and every other array stored transposed,
one row per column (C order), ``forward`` fills ``FWᵀ = (F W)ᵀ`` (k, n) and
``FSᵀ = ((F∘F) S)ᵀ`` (m, n) from ``Wᵀ`` (k, d) and ``Sᵀ`` (m, d), and ``backward`` fills
``FGᵀ = (Fᵀ G)ᵀ`` (k, d) and ``FDᵀ = ((F∘F)ᵀ D)ᵀ`` (m, d) from ``Gᵀ`` (k, n) and ``Dᵀ``
(m, n), each pair in one pass over F, squaring its entries on the fly (so ``F∘F`` is never
stored), in one thread: the products are memory-bound, and a threaded BLAS on a busy machine
spends more time waiting for its threads than multiplying (:mod:`overlapdyn.limits.gamp`
calls them). The columns are GAMP's k fields: k = 1 for a single-index channel (``S`` the
variances ``v``, ``D`` the derivatives ``∂g``), k = 2 for a two-field one (``S`` with no
column, the variance being averaged; ``D`` the k² entries of each Jacobian ``∂_ω g_out``).
Each sum runs over the data in the same order whatever the number of columns, so a column's
result does not depend on how many others ride along.
"""

from numba import njit

from generated import SGD


# ------------------------------------------------------------------------ rendered from here
@njit(**SGD)
def forward(F, W, S, FW, FS):
    n, d = F.shape
    for mu in range(n):
        # one column at a time over the row of F, which stays in the cache: the inner loops
        # are plain dot products that the compiler vectorises
        for c in range(W.shape[0]):
            a = 0.0
            for i in range(d):
                a += F[mu, i] * W[c, i]
            FW[c, mu] = a
        for c in range(S.shape[0]):
            b = 0.0
            for i in range(d):
                f = F[mu, i]
                b += f * f * S[c, i]
            FS[c, mu] = b


@njit(**SGD)
def backward(F, G, D, FG, FD):
    n, d = F.shape
    FG[:] = 0.0
    FD[:] = 0.0
    for mu in range(n):
        for c in range(G.shape[0]):
            a = G[c, mu]
            for i in range(d):
                FG[c, i] += a * F[mu, i]
        for c in range(D.shape[0]):
            b = D[c, mu]
            for i in range(d):
                f = F[mu, i]
                FD[c, i] += b * f * f
