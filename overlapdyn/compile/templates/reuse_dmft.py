r"""Template: one step of the DMFT's effective training sample, for many samples at once.

``effective_step`` advances every Monte Carlo sample μ of the effective process of full-batch
GD (:mod:`overlapdyn.reuse.dmft`) to step t: the fields

    λ^t = w^t + M^t P⁻¹ z + Σ_{τ<t} K(t, τ) G^τ,      K(t, τ) = lr Φ(t, τ + 1)

(``w`` the Gaussian part, ``shift`` the teacher part ``M^t P⁻¹ z``, ``memory[τ] = K(t, τ)`` the
memory kernel and ``G[μ, τ]`` the sample's own past gradients), then the error, the squared
residual ``(y − ŷ)²`` and ``G^t = c_p a∘σ'(λ^t) e`` into ``G[μ, t]``, and ``v^t = c_p a∘σ'(λ^t)``
into ``v[μ, t]``. With ``gauss_newton`` it also carries the sample's response to its Gaussian
field along the path, with the Hessian of the loss replaced by its Gauss–Newton part
``H = v vᵀ`` (rank one): ``J(t, τ) = ∂λ^t/∂w^τ = δ_tτ I − Σ_{τ≤τ'<t} K(t, τ') H^τ' J(τ', τ)``,
stored as the row vectors ``u(t, τ) = v^tᵀ J(t, τ)`` in ``u[μ, t, τ]``, which obey

    u(t, τ) = δ_tτ v^tᵀ − Σ_{τ≤τ'<t} (v^tᵀ K(t, τ') v^τ') u(τ', τ),

so that the Gauss–Newton response is ``E[∂G^t/∂w^τ] = −E[v^t u(t, τ)]`` (outer product).
Everything else (the Gaussian fields from the normals, the labels, the moments) is BLAS or
``reuse_gd.py`` in the caller. The activation ``sig`` and its derivative ``dsig`` are printed
from SymPy.
"""

from numba import njit, prange

from generated import SGD_PARALLEL, dsig, sig


# ------------------------------------------------------------------------ rendered from here
@njit(**SGD_PARALLEL)
def effective_step(t, w, shift, memory, y, a, c_p, mse, gauss_newton, lam, residual2, G, v,
                   u):
    n, p = w.shape
    for mu in prange(n):
        for j in range(p):
            field = w[mu, j] + shift[mu, j]
            for tau in range(t):
                for l in range(p):
                    field += memory[tau, j, l] * G[mu, tau, l]
            lam[mu, j] = field
        y_hat = 0.0
        for j in range(p):
            y_hat += c_p * a[j] * sig(lam[mu, j])
        residual = y[mu] - y_hat
        residual2[mu] = residual * residual
        e = residual if mse else y[mu]
        for j in range(p):
            v[mu, t, j] = c_p * a[j] * dsig(lam[mu, j])
            G[mu, t, j] = v[mu, t, j] * e
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
