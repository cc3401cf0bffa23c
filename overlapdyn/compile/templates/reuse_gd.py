r"""Template: the per-sample parts of full-batch gradient descent, over a whole batch at once.

``labels`` fills ``y_μ = g(z_μ)`` for the rows of ``Z`` (n, k); ``errors_and_gradients`` fills,
for the fields ``lam`` (n, p) and labels ``y`` (n,), the error ``e_μ = y_μ − ŷ_μ`` (mse) or
``e_μ = y_μ`` (correlation) with ``ŷ_μ = c_p Σ_j a_j σ(λ_jμ)``, the squared residual
``(y_μ − ŷ_μ)²`` (the training risk's summand, whatever the loss) and
``G_μj = c_p a_j e_μ σ'(λ_jμ)``. The matrix products around them (fields from the data,
gradients back onto it) are left to BLAS: see :mod:`overlapdyn.reuse.simulator` and
:mod:`overlapdyn.reuse.closed_form`, which call these on the training set and on Monte Carlo
samples of the effective process alike. ``population_residual`` sums ``(g(z) − ŷ(λ))²`` over
``φ = (λ, z) = F n`` for the rows n of ``normals`` (F a factor of the overlap matrix Ω), in
a fixed number of chunks (the entries of ``partial``, which the caller adds): the population
risk's Monte Carlo, without a BLAS product on the long sample axis. The activation ``sig``,
its derivative ``dsig`` and the target ``target(zv)`` are printed from SymPy.
"""

import numpy as np
from numba import njit, prange

from generated import SGD_PARALLEL, dsig, sig, target


# ------------------------------------------------------------------------ rendered from here
@njit(**SGD_PARALLEL)
def labels(Z, y):
    for mu in prange(Z.shape[0]):
        y[mu] = target(Z[mu])


@njit(**SGD_PARALLEL)
def errors_and_gradients(lam, y, a, c_p, mse, e, residual2, G):
    n, p = lam.shape
    for mu in prange(n):
        y_hat = 0.0
        for j in range(p):
            y_hat += c_p * a[j] * sig(lam[mu, j])
        residual = y[mu] - y_hat
        residual2[mu] = residual * residual
        e[mu] = residual if mse else y[mu]
        for j in range(p):
            G[mu, j] = c_p * a[j] * e[mu] * dsig(lam[mu, j])


@njit(**SGD_PARALLEL)
def population_residual(normals, factor, p, a, c_p, partial):
    n, dim = normals.shape
    chunks = partial.shape[0]
    size = (n + chunks - 1) // chunks
    for chunk in prange(chunks):
        phi = np.empty(dim)
        zv = np.empty(dim - p)
        for mu in range(chunk * size, min(n, (chunk + 1) * size)):
            for i in range(dim):
                value = 0.0
                for c in range(dim):
                    value += factor[i, c] * normals[mu, c]
                phi[i] = value
            for r in range(dim - p):
                zv[r] = phi[p + r]
            y_hat = 0.0
            for j in range(p):
                y_hat += c_p * a[j] * sig(phi[j])
            residual = target(zv) - y_hat
            partial[chunk] += residual * residual
