r"""Template: one-pass SGD of the student, fused, for several seeds in parallel threads.

``draw`` fills one fresh sample ``x ~ N(0, I_d)``, ``λ = Wx/√d``, ``z = L x_{1..k}`` and returns
``(y, ŷ)``; ``run`` makes the steps of every seed (W0 (seeds, p, d), a0 (p,), L (k, k) with
``P = LLᵀ``, one generator per seed) and records ``M``, ``Q``, ``a`` and the held-out risk at
``save_steps`` into ``Ms``, ``Qs``, ``As``, ``test_risk``; ``failed_at`` gets the step where the
error turned non-finite (−1: none). See :mod:`overlapdyn.sgd.simulator` for the update.
The loop is one module for every model: the activation ``sig``, its derivative ``dsig`` and
the target ``target(zv)`` (zv = z), printed from SymPy into the model's own module, come as
the addresses of their compiled code (``addresses``, int64 (3,), in the order of
``FUNCTION_NAMES``; ``addresses.py``).
"""

import math

import numpy as np
from numba import njit, prange, types

from generated import ROW, SCALAR, SGD, SGD_PARALLEL, function_at

# ------------------------------------------------------------------------ rendered from here
FUNCTION_NAMES = ("sig", "dsig", "target")
ACTIVATION = types.FunctionType(SCALAR(SCALAR))   # sig, dsig
TARGET = types.FunctionType(SCALAR(ROW))          # target(zv)
FUNCTION_TYPES = (ACTIVATION, ACTIVATION, TARGET)


@njit(**SGD)
def draw(sig, target, rng, W, L, a, c_p, noise_std, x, lam, z):
    # one fresh sample: fills x ~ N(0, I_d), λ = Wx/√d, z = L x_{1..k}; returns (y, ŷ)
    p, d = W.shape
    sqrt_d = math.sqrt(d)
    for i in range(d):
        x[i] = rng.standard_normal()
    for j in range(p):
        acc = 0.0
        for i in range(d):
            acc += W[j, i] * x[i]
        lam[j] = acc / sqrt_d
    for r in range(L.shape[0]):
        acc = 0.0
        for c in range(L.shape[1]):
            acc += L[r, c] * x[c]
        z[r] = acc
    y_hat = 0.0
    for j in range(p):
        y_hat += c_p * a[j] * sig(lam[j])
    return target(z) + noise_std * rng.standard_normal(), y_hat


@njit(**SGD_PARALLEL)
def run(addresses, W0, A0, L, generators, start, save_steps, c_p, eta, eta_a, n_b, omega,
        spherical, mse, train_a, noise_std, n_test, stop_cosine, Ms, Qs, As, test_risk,
        failed_at, stopped):
    # steps start … save_steps[-1] of every seed not stopped; W0 (seeds, p, d) and A0
    # (seeds, p) hold the state at ``start`` and get the state at save_steps[-1], so that the
    # next call goes on from there (the generators keep their streams): a run cut into such
    # calls makes exactly the steps, and draws, of one call
    sig = function_at(addresses[0], ACTIVATION)
    dsig = function_at(addresses[1], ACTIVATION)
    target = function_at(addresses[2], TARGET)
    n_seeds, p, d = W0.shape
    k = L.shape[0]
    sqrt_d = math.sqrt(d)
    total = save_steps[-1]
    for s in prange(n_seeds):
        if stopped[s]:
            continue
        rng = generators[s]
        W = W0[s].copy()
        a = A0[s].copy()
        x = np.empty(d)
        lam = np.empty(p)
        z = np.empty(k)
        grad = np.zeros((p, d) if n_b > 1 else (1, 1))   # batch 1 updates W directly
        grad_a = np.zeros(p)
        G = np.empty(p)
        saved = 0
        for step in range(start, total + 1):
            if step == save_steps[saved]:
                for j in range(p):
                    for r in range(k):
                        acc = 0.0
                        for c in range(k):
                            acc += W[j, c] * L[r, c]
                        Ms[s, saved, j, r] = acc / sqrt_d
                    for l in range(p):
                        acc = 0.0
                        for i in range(d):
                            acc += W[j, i] * W[l, i]
                        Qs[s, saved, j, l] = acc / d
                    As[s, saved, j] = a[j]
                reached = 0.0
                for j in range(p):
                    for r in range(k):
                        p_rr = 0.0
                        for c in range(k):
                            p_rr += L[r, c] * L[r, c]
                        cosine = abs(Ms[s, saved, j, r]) / math.sqrt(Qs[s, saved, j, j] * p_rr)
                        reached = max(reached, cosine)
                if n_test > 0:
                    total_sq = 0.0
                    for _ in range(n_test):
                        y, y_hat = draw(sig, target, rng, W, L, a, c_p, noise_std, x, lam, z)
                        total_sq += (y - y_hat) ** 2
                    test_risk[s, saved] = 0.5 * total_sq / n_test
                saved += 1
                if reached >= stop_cosine:
                    stopped[s] = True
                if step == total or stopped[s]:
                    break
            grad_a[:] = 0.0
            finite = True
            if n_b > 1:
                grad[:, :] = 0.0
            for _ in range(n_b):
                y, y_hat = draw(sig, target, rng, W, L, a, c_p, noise_std, x, lam, z)
                e = y - y_hat if mse else y
                if not math.isfinite(e):
                    finite = False
                    break
                for j in range(p):
                    G[j] = c_p * a[j] * e * dsig(lam[j])
                    grad_a[j] += c_p * e * sig(lam[j])
                if n_b > 1:
                    for j in range(p):
                        g = G[j]
                        for i in range(d):
                            grad[j, i] += g * x[i]
            if not finite:
                failed_at[s] = step
                stopped[s] = True
                break
            scale = eta / (sqrt_d * n_b)
            shrink = 1.0 - eta * omega / d
            for j in range(p):
                # one pass over the row: the update (with batch 1 straight from the sample —
                # the same products as through a buffer, 0 + G x = G x) and its squared norm
                norm2 = 0.0
                if n_b > 1:
                    for i in range(d):
                        w = shrink * W[j, i] + scale * grad[j, i]
                        W[j, i] = w
                        norm2 += w * w
                else:
                    g = G[j]
                    for i in range(d):
                        w = shrink * W[j, i] + scale * (g * x[i])
                        W[j, i] = w
                        norm2 += w * w
                if spherical:
                    factor = sqrt_d / math.sqrt(norm2)
                    for i in range(d):
                        W[j, i] *= factor
            if train_a:
                for j in range(p):
                    a[j] += eta_a / (d * n_b) * grad_a[j]
        W0[s, :, :] = W
        A0[s, :] = a
