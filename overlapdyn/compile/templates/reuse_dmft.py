r"""Template: the DMFT's effective training sample of full-batch GD, for many samples at once.

A loop over Monte Carlo samples, split into a fixed number of chunks (the rows of
``partial``) run in parallel: every chunk sums its samples' moments into its own row, and the
caller adds the rows — so the sums do not depend on the number of threads, and no BLAS call
on the long sample axis competes with Numba's threads.

``effective_step`` advances every sample μ to step t (:mod:`overlapdyn.reuse.dmft`):

    λ^t = Σ_c row[j, c] n_c + B^t z + Σ_{τ<t} K(t, τ) G^τ,      K(t, τ) = lr Φ(t, τ + 1)

(``row`` the block row t of the Cholesky factor of the Gaussian field's covariance, acting on
the sample's normals ``n_0…n_{(t+1)p−1}``; ``B^t = M^t P⁻¹``; ``memory[τ] = K(t, τ)``; ``G[μ, τ]``
the sample's own past gradients), then ``G^t = c_p a∘σ'(λ^t) e`` into ``G[μ, t]`` and
``v^t = c_p a∘σ'(λ^t)`` into ``v[μ, t]``. With ``gauss_newton`` it carries the response of the
fields to the Gaussian field along the path with the Gauss–Newton Hessian ``H = v vᵀ`` (rank
one): ``J(t, τ) = ∂λ^t/∂w^τ = δ_tτ I − Σ_{τ≤τ'<t} K(t, τ') H^τ' J(τ', τ)``, stored as the rows
``u(t, τ) = v^tᵀ J(t, τ)`` in ``u[μ, t, τ]``:

    u(t, τ) = δ_tτ v^tᵀ − Σ_{τ≤τ'<t} (v^tᵀ K(t, τ') v^τ') u(τ', τ).

Each chunk's row of ``partial`` receives, summed over its samples (W = (t+1)p): ``(y − ŷ)²``
(1 entry), ``G^t zᵀ`` (p·k), ``G^t_j G^τ_l`` (p·W, column τp + l), and then either ``G^t_j n_c``
(``stein``: Stein's lemma) or ``v^t_j u(t, τ)_l`` (``gauss_newton``) (p·W).

The labels and the population risk are ``reuse_gd.py``'s. The activation ``sig`` and its
derivative ``dsig`` are printed from SymPy.
"""

import numpy as np
from numba import njit, prange

from generated import SGD_PARALLEL, dsig, sig


# ------------------------------------------------------------------------ rendered from here
@njit(**SGD_PARALLEL)
def effective_step(t, normals, row, B, memory, z, y, a, c_p, mse, stein, gauss_newton, G, v,
                   u, partial):
    n = normals.shape[0]
    p, width = row.shape
    k = z.shape[1]
    chunks = partial.shape[0]
    size = (n + chunks - 1) // chunks
    moments = 1 + p * k
    response = moments + p * width
    for chunk in prange(chunks):
        lam = np.empty(p)
        for mu in range(chunk * size, min(n, (chunk + 1) * size)):
            for j in range(p):
                field = 0.0
                for c in range(width):
                    field += row[j, c] * normals[mu, c]
                for r in range(k):
                    field += B[j, r] * z[mu, r]
                for tau in range(t):
                    for l in range(p):
                        field += memory[tau, j, l] * G[mu, tau, l]
                lam[j] = field
            y_hat = 0.0
            for j in range(p):
                y_hat += c_p * a[j] * sig(lam[j])
            residual = y[mu] - y_hat
            e = residual if mse else y[mu]
            for j in range(p):
                v[mu, t, j] = c_p * a[j] * dsig(lam[j])
                G[mu, t, j] = v[mu, t, j] * e
            partial[chunk, 0] += residual * residual
            for j in range(p):
                for r in range(k):
                    partial[chunk, 1 + j * k + r] += G[mu, t, j] * z[mu, r]
                for tau in range(t + 1):
                    for l in range(p):
                        partial[chunk, moments + j * width + tau * p + l] += (
                            G[mu, t, j] * G[mu, tau, l])
            if stein:
                for j in range(p):
                    for c in range(width):
                        partial[chunk, response + j * width + c] += G[mu, t, j] * normals[mu, c]
            if gauss_newton:
                for tau in range(t + 1):
                    for l in range(p):
                        u[mu, t, tau, l] = v[mu, t, l] if tau == t else 0.0
                    for tp in range(tau, t):
                        coupling = 0.0
                        for j in range(p):
                            for l in range(p):
                                coupling += v[mu, t, j] * memory[tp, j, l] * v[mu, tp, l]
                        for l in range(p):
                            u[mu, t, tau, l] -= coupling * u[mu, tp, tau, l]
                    for j in range(p):
                        for l in range(p):
                            partial[chunk, response + j * width + tau * p + l] += (
                                v[mu, t, j] * u[mu, t, tau, l])

