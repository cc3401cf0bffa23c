r"""Template: the overlap SDE — its diffusion by cubature and Euler–Maruyama paths, in parallel.

One step of SPEC's plain one-pass SGD moves the packed overlaps by ``(1/d)(b(X) + ζ)`` with
``E ζ = 0`` and ``Cov ζ = C(X) = (1/n_b) Cov_φ Ψ(φ)``, ``φ = (λ, z, ξ)``, where per sample
(``G_j = c_p a_j e σ'(λ_j)``)::

    Ψ_{M_jr} = η G_j z_r,
    Ψ_{Q_jl} = η (G_j λ_l + G_l λ_j) + (η²/n_b) G_j G_l          (j ≤ l),
    Ψ_{a_j}  = η_a c_p e σ(λ_j)                                    (trained readout)

and, for spherical SGD (``Q_jj = 1``, no diagonal coordinates, ``s_j = η G_j λ_j +
(η²/2n_b) G_j²`` the renormalisation's share), ``Ψ_{M_jr} − M_jr s_j`` and
``Ψ_{Q_jl} − Q_jl (s_j + s_l)`` for j < l (see :mod:`overlapdyn.ode.sde`). ``diffusion``
computes C on the *reduced* coordinates (M row by row, the upper triangle of Q, a) by a
tensor Gauss–Hermite rule over the p + k standard fields ``ζ`` with ``(λ, z) = A ζ``,
``A Aᵀ = Ω = [[Q, M], [Mᵀ, P]]`` (``semidefinite_cholesky``), and over the label noise ξ
(3 nodes: Ψ is of degree ≤ 2 in ξ, so ΨΨᵀ of degree ≤ 4, integrated exactly). ``project``
puts a state that an Euler step took just outside the Gram-matrix set back onto it (full
truncation; a Cholesky factorisation first, LAPACK's eigh only when it fails).
``sampled_noise`` is the cheaper noise: ``(n_b m)^(−1/2) Σ_i (Ψ(φ_i) − E Ψ)`` over m fresh
samples φ_i of the fields, with ``E Ψ`` from the drift (``sampled_mean``), of covariance C
exactly; ``run`` uses it when ``samples > 0``. ``run`` integrates ``dX = b(X) dt + √(C(X)/d)
dW`` by Euler–Maruyama for many paths, one ``prange`` iteration per path, each with its own
splitmix64 stream (so results do not depend on the thread count); the drift ``b`` is the
compiled ``rhs`` of ``drift_loops.py``, called by address (``DRIFT``), and σ, σ', g are the
model's functions of the simulator's module (``FUNCTION_NAMES``, by address as in
``sgd_loop.py``).
"""

import math

import numpy as np
from numba import njit, prange, types

from generated import ADDRESSES, COUNT, FLAG, LOOP, MATRIX, ROW, SCALAR, SGD_PARALLEL, function_at

# ------------------------------------------------------------------------ rendered from here
FUNCTION_NAMES = ("sig", "dsig", "target")
ACTIVATION = types.FunctionType(SCALAR(SCALAR))   # sig, dsig
TARGET = types.FunctionType(SCALAR(ROW))          # target(zv)
FUNCTION_TYPES = (ACTIVATION, ACTIVATION, TARGET)
# the type of drift_loops.rhs (its RHS_TYPE), whose compiled code the paths call by address
DRIFT_SIGNATURE = ROW(ADDRESSES, ROW, COUNT, COUNT, SCALAR, ROW, MATRIX, SCALAR, FLAG, SCALAR,
                      SCALAR, SCALAR, FLAG, FLAG, SCALAR, ROW, ROW)
DRIFT = types.FunctionType(DRIFT_SIGNATURE)

# splitmix64's constants (Steele, Lea & Flood 2014), as uint64 so that Numba keeps the
# arithmetic in wrapping 64-bit integers
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
UNIT = 1.0 / 9007199254740992.0   # 2^-53


@njit(**LOOP)
def semidefinite_cholesky(A, L):
    # L (n, n) lower triangular with L Lᵀ = A for a symmetric positive semi-definite A; a
    # pivot at or below 1e-13 of the largest diagonal entry zeroes its column (the direction
    # A does not reach). Returns the most negative pivot over that scale (0 for A ⪰ 0; a
    # state outside the admissible set shows as a clearly negative one).
    n = A.shape[0]
    scale = 0.0
    for i in range(n):
        scale = max(scale, abs(A[i, i]))
    if scale == 0.0:
        scale = 1.0
    worst = 0.0
    L[:, :] = 0.0
    for j in range(n):
        s = A[j, j]
        for c in range(j):
            s -= L[j, c] * L[j, c]
        if s <= 1e-13 * scale:
            worst = min(worst, s / scale)
            continue
        root = math.sqrt(s)
        L[j, j] = root
        for i in range(j + 1, n):
            t = A[i, j]
            for c in range(j):
                t -= L[i, c] * L[j, c]
            L[i, j] = t / root
    return worst


@njit(**LOOP)
def field_factor(y, p, k, P, omega, A):
    # A (D, D) ← a semi-definite Cholesky factor of Ω = [[Q, M], [Mᵀ, P]] of the packed state
    # y (omega (D, D) the workspace); returns its most negative relative pivot
    for j in range(p):
        for l in range(p):
            omega[j, l] = y[p * k + j * p + l]
        for r in range(k):
            omega[j, p + r] = omega[p + r, j] = y[j * k + r]
    for r in range(k):
        for s in range(k):
            omega[p + r, p + s] = P[r, s]
    return semidefinite_cholesky(omega, A)


@njit(**LOOP)
def fields(A, zeta, p, k, lam, z):
    # (λ, z) = A ζ (A lower triangular)
    for j in range(p):
        acc = 0.0
        for c in range(j + 1):
            acc += A[j, c] * zeta[c]
        lam[j] = acc
    for r in range(k):
        acc = 0.0
        for c in range(p + r + 1):
            acc += A[p + r, c] * zeta[c]
        z[r] = acc


@njit(**LOOP)
def step_vector(sig, dsig, y, lam, z, e, p, k, c_p, a, eta, second, spherical, train_a,
                eta_a, G, shrink, psi):
    # psi (n) ← Ψ of one sample with fields (λ, z) and error e (see the module docstring;
    # second = η²/n_b); G, shrink (p) workspaces
    first = 1 if spherical else 0
    for j in range(p):
        G[j] = c_p * a[j] * e * dsig(lam[j])
    if spherical:
        # the renormalisation's share per sample: η G_j λ_j + (η²/2n_b) G_j²
        for j in range(p):
            shrink[j] = eta * G[j] * lam[j] + 0.5 * second * G[j] * G[j]
    at = 0
    for j in range(p):
        for r in range(k):
            psi[at] = eta * G[j] * z[r]
            if spherical:
                psi[at] -= y[j * k + r] * shrink[j]
            at += 1
    for j in range(p):
        for l in range(j + first, p):
            psi[at] = eta * (G[j] * lam[l] + G[l] * lam[j]) + second * G[j] * G[l]
            if spherical:
                psi[at] -= y[p * k + j * p + l] * (shrink[j] + shrink[l])
            at += 1
    if train_a:
        for j in range(p):
            psi[at] = eta_a * c_p * e * sig(lam[j])
            at += 1


@njit(**LOOP)
def diffusion(sig, dsig, target, y, p, k, c_p, P, noise_std, mse, eta, inv_nb, spherical,
              train_a, eta_a, a_fixed, nodes, weights, noise_nodes, noise_weights, C):
    # C (n, n) ← (1/n_b) Cov Ψ on the reduced coordinates (see the module docstring); returns
    # the most negative relative pivot of Ω's factor (< 0: Ω is not a Gram matrix)
    D = p + k
    first = 1 if spherical else 0   # spherical SGD keeps Q_jj = 1: no diagonal coordinates
    n = p * k + p * (p + 1) // 2 - first * p + (p if train_a else 0)
    a = y[p * k + p * p:] if train_a else a_fixed
    omega = np.empty((D, D))
    A = np.empty((D, D))
    worst = field_factor(y, p, k, P, omega, A)
    m = nodes.size
    index = np.zeros(D, dtype=np.int64)
    zeta = np.empty(D)
    lam = np.empty(p)
    z = np.empty(k)
    G = np.empty(p)
    shrink = np.zeros(p)
    psi = np.empty(n)
    S1 = np.zeros(n)
    S2 = np.zeros((n, n))
    second = eta * eta * inv_nb
    total = m ** D
    for node in range(total):
        # the multi-index of this node of the tensor rule, and its weight
        rest = node
        w = 1.0
        for i in range(D):
            index[i] = rest % m
            rest //= m
            zeta[i] = nodes[index[i]]
            w *= weights[index[i]]
        fields(A, zeta, p, k, lam, z)
        y_clean = target(z)
        y_hat = 0.0
        for j in range(p):
            y_hat += c_p * a[j] * sig(lam[j])
        for q in range(noise_nodes.size):
            wq = w * noise_weights[q]
            label = y_clean + noise_std * noise_nodes[q]
            e = label - y_hat if mse else label
            step_vector(sig, dsig, y, lam, z, e, p, k, c_p, a, eta, second, spherical,
                        train_a, eta_a, G, shrink, psi)
            for u in range(n):
                S1[u] += wq * psi[u]
                for v in range(u + 1):
                    S2[u, v] += wq * psi[u] * psi[v]
    for u in range(n):
        for v in range(u + 1):
            C[u, v] = C[v, u] = inv_nb * (S2[u, v] - S1[u] * S1[v])
    return worst


@njit(**LOOP)
def splitmix(state):
    # the next state and its 64-bit output
    state = state + GOLDEN
    x = state
    x = (x ^ (x >> np.uint64(30))) * MIX1
    x = (x ^ (x >> np.uint64(27))) * MIX2
    return state, x ^ (x >> np.uint64(31))


@njit(**LOOP)
def normals(state, out):
    # fills out with independent N(0, 1) (Box–Muller on splitmix64 uniforms); returns the state
    n = out.size
    for i in range(0, n, 2):
        state, b1 = splitmix(state)
        state, b2 = splitmix(state)
        u1 = ((b1 >> np.uint64(11)) + np.uint64(1)) * UNIT   # in (0, 1]
        u2 = (b2 >> np.uint64(11)) * UNIT
        radius = math.sqrt(-2.0 * math.log(u1))
        out[i] = radius * math.cos(2.0 * math.pi * u2)
        if i + 1 < n:
            out[i + 1] = radius * math.sin(2.0 * math.pi * u2)
    return state


@njit(**LOOP)
def sampled_mean(b, y, p, k, eta, omega, spherical, train_a, mean):
    # mean (n) ← E Ψ on the reduced coordinates from the drift b (packed, N): b is E Ψ less
    # the weight decay (−ηω M, −2ηω Q; spherical SGD has none, and no Q_jj coordinate)
    first = 1 if spherical else 0
    decay = 0.0 if spherical else eta * omega
    at = 0
    for j in range(p):
        for r in range(k):
            mean[at] = b[j * k + r] + decay * y[j * k + r]
            at += 1
    for j in range(p):
        for l in range(j + first, p):
            mean[at] = b[p * k + j * p + l] + 2.0 * decay * y[p * k + j * p + l]
            at += 1
    if train_a:
        for j in range(p):
            mean[at] = b[p * k + p * p + j]
            at += 1


@njit(**LOOP)
def sampled_noise(sig, dsig, target, y, mean, p, k, c_p, P, noise_std, mse, eta, inv_nb,
                  spherical, train_a, eta_a, a_fixed, samples, state, omega, A, draws, psi,
                  lam, z, G, shrink, kick):
    # kick (n) ← one draw of the sampled noise, (n_b m)^(-1/2) Σ_{i ≤ m} (Ψ(φ_i) − E Ψ), over
    # m = samples i.i.d. φ_i = (λ, z, ξ)_i ~ N(0, Ω) ⊗ N(0, 1), with E Ψ = mean (the drift's,
    # ``sampled_mean``): mean 0 and covariance (1/n_b) Cov Ψ = C exactly. draws
    # (m (p + k + 1)), psi (n), lam (p), z (k), G, shrink (p), omega, A (p + k, p + k) are
    # workspaces. Returns (the stream's state, the most negative relative pivot of Ω's factor).
    n = psi.size
    D = p + k
    width = D + (1 if noise_std > 0.0 else 0)
    a = y[p * k + p * p:] if train_a else a_fixed
    worst = field_factor(y, p, k, P, omega, A)
    state = normals(state, draws[:samples * width])
    second = eta * eta * inv_nb
    for u in range(n):
        kick[u] = 0.0
    for i in range(samples):
        fields(A, draws[i * width:i * width + D], p, k, lam, z)
        label = target(z)
        if noise_std > 0.0:
            label += noise_std * draws[i * width + D]
        e = label
        if mse:
            for j in range(p):
                e -= c_p * a[j] * sig(lam[j])
        step_vector(sig, dsig, y, lam, z, e, p, k, c_p, a, eta, second, spherical, train_a,
                    eta_a, G, shrink, psi)
        for u in range(n):
            kick[u] += psi[u] - mean[u]
    factor = math.sqrt(inv_nb / samples)
    for u in range(n):
        kick[u] *= factor
    return state, worst


@njit(**LOOP)
def noise_at(addresses, y, b, p, k, c_p, P, noise_std, mse, eta, inv_nb, omega, spherical,
             train_a, eta_a, a_fixed, samples, stream, count):
    # count independent draws of the sampled noise at one packed state y with drift b (N),
    # called from Python: (count, n), each of mean 0 and covariance C (``sampled_noise``)
    sig = function_at(addresses[0], ACTIVATION)
    dsig = function_at(addresses[1], ACTIVATION)
    target = function_at(addresses[2], TARGET)
    n = p * k + p * (p + 1) // 2 - (p if spherical else 0) + (p if train_a else 0)
    D = p + k
    omega_w, A = np.empty((D, D)), np.empty((D, D))
    draws = np.empty(samples * (D + 1))
    psi, mean = np.empty(n), np.empty(n)
    lam, z, G, shrink = np.empty(p), np.empty(k), np.empty(p), np.zeros(p)
    sampled_mean(b, y, p, k, eta, omega, spherical, train_a, mean)
    out = np.empty((count, n))
    state = stream
    for c in range(count):
        state, _ = sampled_noise(sig, dsig, target, y, mean, p, k, c_p, P, noise_std, mse,
                                 eta, inv_nb, spherical, train_a, eta_a, a_fixed, samples,
                                 state, omega_w, A, draws, psi, lam, z, G, shrink, out[c])
    return out


@njit(**LOOP)
def covariance_at(addresses, y, p, k, c_p, P, noise_std, mse, eta, inv_nb, spherical, train_a,
                  eta_a, a_fixed, nodes, weights, noise_nodes, noise_weights):
    # C at one packed state, called from Python: (C, the worst pivot of Ω's factor)
    sig = function_at(addresses[0], ACTIVATION)
    dsig = function_at(addresses[1], ACTIVATION)
    target = function_at(addresses[2], TARGET)
    n = p * k + p * (p + 1) // 2 - (p if spherical else 0) + (p if train_a else 0)
    C = np.empty((n, n))
    worst = diffusion(sig, dsig, target, y, p, k, c_p, P, noise_std, mse, eta, inv_nb,
                      spherical, train_a, eta_a, a_fixed, nodes, weights, noise_nodes,
                      noise_weights, C)
    return C, worst


@njit(**LOOP)
def positive_definite(S, L):
    # whether the symmetric S (n, n) has a Cholesky factor with positive pivots (L workspace)
    n = S.shape[0]
    for j in range(n):
        s = S[j, j]
        for c in range(j):
            s -= L[j, c] * L[j, c]
        if not s > 0.0:
            return False
        root = math.sqrt(s)
        L[j, j] = root
        for i in range(j + 1, n):
            t = S[i, j]
            for c in range(j):
                t -= L[i, c] * L[j, c]
            L[i, j] = t / root
    return True


@njit(**LOOP)
def project(y, p, k, P_inv, limit, spherical):
    # full truncation onto the Gram-matrix set: the Schur complement S = Q − M P⁻¹ Mᵀ of the
    # packed state y gets its negative eigenvalues set to 0 (Q moves, M stays). Returns −1
    # when S ⪰ 0 already, 1 when it projected, 0 when an eigenvalue was below −limit·max Q_jj
    # (the state left the set by more than a step's rounding: the step is too large)
    S = np.empty((p, p))
    F = np.empty((p, p))   # M P⁻¹ Mᵀ
    largest = 0.0
    for j in range(p):
        largest = max(largest, abs(y[p * k + j * p + j]))
        for l in range(p):
            acc = 0.0
            for r in range(k):
                for c in range(k):
                    acc += y[j * k + r] * P_inv[r, c] * y[l * k + c]
            F[j, l] = acc
            S[j, l] = 0.5 * (y[p * k + j * p + l] + y[p * k + l * p + j]) - acc
    # the common case first: S positive definite (a Cholesky factorisation with positive
    # pivots, no LAPACK call) is inside the set; only a failing one needs eigh
    if positive_definite(S, np.empty((p, p))):
        return -1
    values, vectors = np.linalg.eigh(S)
    if values[0] >= 0.0:
        return -1
    if values[0] < -limit * max(largest, 1e-300):
        return 0
    if spherical:
        # Q_jj = 1 is kept: a row of M whose (M P⁻¹ Mᵀ)_jj passed 1 is scaled back to 1 (an
        # off-diagonal crossing, p > 1, is left as it is, within the limit)
        for j in range(p):
            if F[j, j] > 1.0:
                scale = 1.0 / math.sqrt(F[j, j])
                for r in range(k):
                    y[j * k + r] *= scale
        return 1
    for j in range(p):
        for l in range(p):
            acc = F[j, l]
            for i in range(p):
                acc += vectors[j, i] * max(values[i], 0.0) * vectors[l, i]
            y[p * k + j * p + l] = acc
    return 1


@njit(**SGD_PARALLEL)
def run(addresses, drift_address, kernels, Y0, streams, dt, d, save_steps, threshold, stop,
        admissible, P_inv, leave_limit, p, k, c_p, v, P, noise, noise_std, mse, eta, inv_nb,
        omega, spherical, train_a, eta_a, a_fixed, parts, nodes, weights, noise_nodes,
        noise_weights, samples, saved, escape, failed_at, worst_pivot, projections):
    # Euler–Maruyama for every path (Y0 (paths, N) packed states, streams (paths,) uint64):
    # steps 1 … save_steps[-1] of size dt; saved (paths, S, N) gets the states at save_steps
    # (NaN after a path stopped), escape (paths,) the first time its cosine
    # max |M_jr|/√(Q_jj P_rr) reached threshold (NaN: never), failed_at (paths,) the step
    # where its state turned non-finite or left the admissible set (−1: none), projections
    # (paths,) how many steps crossed the boundary of the Gram-matrix set by less than
    # leave_limit and were projected back onto it (``project``)
    sig = function_at(addresses[0], ACTIVATION)
    dsig = function_at(addresses[1], ACTIVATION)
    target = function_at(addresses[2], TARGET)
    drift = function_at(drift_address, DRIFT)
    n_paths, N = Y0.shape
    first = 1 if spherical else 0
    n = p * k + p * (p + 1) // 2 - first * p + (p if train_a else 0)
    total = save_steps[-1]
    scale = math.sqrt(dt / d)
    for s in prange(n_paths):
        y = Y0[s].copy()
        state = streams[s]
        C = np.empty((n, n))
        B = np.empty((n, n))
        xi = np.empty(n)
        kick = np.empty(n)
        # the sampled noise's workspaces (samples = 0: the cubature's C and its factor)
        width = p + k + (1 if noise_std > 0.0 else 0)
        D = p + k
        omega_w, A_w = np.empty((D, D)), np.empty((D, D))
        draws = np.empty(samples * width)
        psi, mean = np.empty(n), np.empty(n)
        lam, z, G, shrink = np.empty(p), np.empty(k), np.empty(p), np.zeros(p)
        saved_at = 0
        previous = -1.0
        for step in range(total + 1):
            # the cosine (escape) and the record of the state reached by `step` steps
            cosine = 0.0
            for j in range(p):
                for r in range(k):
                    cosine = max(cosine, abs(y[j * k + r])
                                 / math.sqrt(max(y[p * k + j * p + j], 1e-300) * P[r, r]))
            if cosine >= threshold and math.isnan(escape[s]):
                if step == 0 or previous < 0.0:
                    escape[s] = step * dt
                else:
                    escape[s] = (step - 1 + (threshold - previous) / (cosine - previous)) * dt
            previous = cosine
            if step == save_steps[saved_at]:
                for i in range(N):
                    saved[s, saved_at, i] = y[i]
                saved_at += 1
            if step == total or (stop and not math.isnan(escape[s])):
                break
            b = drift(kernels, y, p, k, c_p, v, P, noise, mse, eta, inv_nb, omega, spherical,
                      train_a, eta_a, a_fixed, parts)
            if samples > 0:
                sampled_mean(b, y, p, k, eta, omega, spherical, train_a, mean)
                state, worst = sampled_noise(sig, dsig, target, y, mean, p, k, c_p, P,
                                             noise_std, mse, eta, inv_nb, spherical, train_a,
                                             eta_a, a_fixed, samples, state, omega_w, A_w,
                                             draws, psi, lam, z, G, shrink, kick)
                for u in range(n):
                    kick[u] *= scale
            else:
                worst = diffusion(sig, dsig, target, y, p, k, c_p, P, noise_std, mse, eta,
                                  inv_nb, spherical, train_a, eta_a, a_fixed, nodes, weights,
                                  noise_nodes, noise_weights, C)
            worst_pivot[s] = min(worst_pivot[s], worst)
            if worst < -admissible:
                failed_at[s] = step
                break
            if samples == 0:
                semidefinite_cholesky(C, B)
                state = normals(state, xi)
                for u in range(n):
                    acc = 0.0
                    for c in range(u + 1):
                        acc += B[u, c] * xi[c]
                    kick[u] = scale * acc
            finite = True
            for i in range(N):
                y[i] += dt * b[i]
            at = 0
            for j in range(p):
                for r in range(k):
                    y[j * k + r] += kick[at]
                    at += 1
            for j in range(p):
                for l in range(j + first, p):
                    y[p * k + j * p + l] += kick[at]
                    if l != j:
                        y[p * k + l * p + j] += kick[at]
                    at += 1
            if train_a:
                for j in range(p):
                    y[p * k + p * p + j] += kick[at]
                    at += 1
            for i in range(N):
                if not math.isfinite(y[i]):
                    finite = False
            if not finite:
                failed_at[s] = step + 1
                break
            moved = project(y, p, k, P_inv, leave_limit, spherical)
            if moved == 0:
                failed_at[s] = step + 1
                break
            if moved == 1:
                projections[s] += 1
