r"""Template: online SGD with reused samples — the composite gradient, its Gaussian moments
by a fixed quadrature rule, and the finite-d run.

The composite of one sample (:mod:`overlapdyn.reuse.online` for the derivation), in
``moments``: from the
fields ``λ⁽⁰⁾ = λ``, ``n = weights.size`` gradient evaluations
``G⁽ⁱ⁾ = G(λ⁽ⁱ⁾, y)``, ``λ⁽ⁱ⁺¹⁾ = λ⁽ⁱ⁾ + shift·G⁽ⁱ⁾``, and ``G̃ = Σ_i weights[i] G⁽ⁱ⁾``
(repeat k: ``shift = η/n_b``, weights all 1; extragradient: ``shift = ρ``, weights (0, 1)).
``G_j = c_p a_j e σ'(λ_j)``, ``e = y − ŷ`` (mse) or ``y`` (correlation).

``moments`` sums, over quadrature nodes ``u`` (N, D) with weights (N,), the fields
``φ = factor·u_{1..p+k}`` (λ = φ_{1..p}, z = φ_{p+1..p+k}), ``y = g(z) + noise_std·u_{p+k+1}``,
into per-chunk accumulators of ``G̃ zᵀ``, ``G̃ λᵀ``, ``G̃ G̃ᵀ`` and ``(y − ŷ(λ))²``; chunks run
in parallel threads and are summed by the caller (their order is fixed: the result does
not depend on the thread count).

``run`` makes the finite-d steps of one seed: every step draws ``n_b`` fresh
``x ~ N(0, I_d)`` and applies the protocol exactly (recomputing the fields from the
weights between repeated steps, and the displaced field ``λ + ρ G ‖x‖²/d`` for
extragradient), recording ``M = W Uᵀ/d`` and ``Q = W Wᵀ/d`` at ``save_steps``; the teacher is
``U = √d [L 0]``. ``sig``, ``dsig`` and ``target`` are printed from SymPy.
"""

import math

import numpy as np
from numba import njit, prange

from generated import SGD, SGD_PARALLEL, dsig, sig, target


# ------------------------------------------------------------------------ rendered from here
@njit(**SGD)
def reuse_gradient(lam, y, a, c_p, mse, G):
    # G_j = c_p a_j e σ'(λ_j) at the fields lam; returns y − ŷ
    p = lam.shape[0]
    y_hat = 0.0
    for j in range(p):
        y_hat += c_p * a[j] * sig(lam[j])
    residual = y - y_hat
    e = residual if mse else y
    for j in range(p):
        G[j] = c_p * a[j] * e * dsig(lam[j])
    return residual


@njit(**SGD_PARALLEL)
def moments(nodes, node_weights, factor, p, k, noise_std, a, c_p, mse, shift, weights,
            Az, Al, B, R):
    N = nodes.shape[0]
    m = p + k
    chunks = Az.shape[0]
    size = (N + chunks - 1) // chunks
    for c in prange(chunks):
        phi = np.empty(m)
        lam = np.empty(p)
        z = np.empty(k)
        cur = np.empty(p)
        G = np.empty(p)
        Gt = np.empty(p)
        for j in range(p):
            for r in range(k):
                Az[c, j, r] = 0.0
            for l in range(p):
                Al[c, j, l] = 0.0
                B[c, j, l] = 0.0
        R[c] = 0.0
        for n in range(c * size, min(N, (c + 1) * size)):
            for r in range(m):
                acc = 0.0
                for s in range(r + 1):
                    acc += factor[r, s] * nodes[n, s]
                phi[r] = acc
            # copies, not slices: a slice made per node costs more than the node's work
            for j in range(p):
                lam[j] = phi[j]
            for r in range(k):
                z[r] = phi[p + r]
            y = target(z)
            if noise_std > 0.0:
                y += noise_std * nodes[n, m]
            w = node_weights[n]
            # the composite, written out here: calls with array arguments per node cost
            # several times the node's arithmetic
            for j in range(p):
                cur[j] = lam[j]
                Gt[j] = 0.0
            residual = 0.0
            for i in range(weights.shape[0]):
                y_hat = 0.0
                for j in range(p):
                    y_hat += c_p * a[j] * sig(cur[j])
                r = y - y_hat
                if i == 0:
                    residual = r
                e = r if mse else y
                for j in range(p):
                    g = c_p * a[j] * e * dsig(cur[j])
                    Gt[j] += weights[i] * g
                    G[j] = g
                for j in range(p):
                    cur[j] += shift * G[j]
            R[c] += w * residual * residual
            for j in range(p):
                wg = w * Gt[j]
                for r in range(k):
                    Az[c, j, r] += wg * phi[p + r]
                for l in range(p):
                    Al[c, j, l] += wg * phi[l]
                    B[c, j, l] += wg * Gt[l]


@njit(**SGD)
def run(W, L, rng, save_steps, c_p, a, mse, noise_std, eta, n_b, extragradient, rho,
        repeats, Ms, Qs, stop):
    # advances W (p, d) in place; returns the step (1-based) whose gradient turned
    # non-finite or whose fields passed 1e8 (−1: none); the records after it are not valid.
    # Stops after the first saved time where a cosine |M_jr|/√(Q_jj P_rr) reaches ``stop``
    # (inf: never), leaving the later records untouched (an escape-time measurement)
    p, d = W.shape
    k = L.shape[0]
    sqrt_d = math.sqrt(d)
    X = np.empty((n_b, d))
    Z = np.empty((n_b, k))
    Y = np.empty(n_b)
    lam = np.empty(p)
    lam_t = np.empty(p)
    G = np.empty(p)
    Gs = np.empty((n_b, p))
    step = 0
    failed = -1
    for saved in range(save_steps.shape[0]):
        while step < save_steps[saved] and failed < 0:
            for mu in range(n_b):
                for i in range(d):
                    X[mu, i] = rng.standard_normal()
                for r in range(k):
                    acc = 0.0
                    for c in range(k):
                        acc += L[r, c] * X[mu, c]
                    Z[mu, r] = acc
                Y[mu] = target(Z[mu])
                if noise_std > 0.0:
                    Y[mu] += noise_std * rng.standard_normal()
            passes = 1 if extragradient else repeats
            for _ in range(passes):
                for mu in range(n_b):
                    norm2 = 0.0
                    for i in range(d):
                        norm2 += X[mu, i] * X[mu, i]
                    for j in range(p):
                        acc = 0.0
                        for i in range(d):
                            acc += W[j, i] * X[mu, i]
                        lam[j] = acc / sqrt_d
                    reuse_gradient(lam, Y[mu], a, c_p, mse, G)
                    if extragradient:
                        # the displaced weights w + (ρ/√d) G x have the field λ + ρ G ‖x‖²/d
                        for j in range(p):
                            lam_t[j] = lam[j] + rho * G[j] * norm2 / d
                        reuse_gradient(lam_t, Y[mu], a, c_p, mse, G)
                    for j in range(p):
                        Gs[mu, j] = G[j]
                        if not math.isfinite(G[j]) or abs(lam[j]) > 1e8:
                            failed = step + 1
                scale = eta / (sqrt_d * n_b)
                for j in range(p):
                    for mu in range(n_b):
                        g = scale * Gs[mu, j]
                        for i in range(d):
                            W[j, i] += g * X[mu, i]
            step += 1
        for j in range(p):
            for r in range(k):
                acc = 0.0
                for c in range(k):
                    acc += W[j, c] * L[r, c]
                Ms[saved, j, r] = acc / sqrt_d
            for l in range(p):
                acc = 0.0
                for i in range(d):
                    acc += W[j, i] * W[l, i]
                Qs[saved, j, l] = acc / d
        if stop < math.inf and failed < 0:
            best = 0.0
            for j in range(p):
                for r in range(k):
                    P_rr = 0.0
                    for c in range(k):
                        P_rr += L[r, c] * L[r, c]
                    cosine = abs(Ms[saved, j, r]) / math.sqrt(Qs[saved, j, j] * P_rr)
                    if cosine > best:
                        best = cosine
            if best >= stop:
                break
    return failed
