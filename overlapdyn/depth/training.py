r"""Finite-d training on hierarchical targets: a three-layer net trained layer by layer, and
the shallow baselines on the same data (Dandi, Pesce, Zdeborová & Krzakala 2025).

Network ``f(x) = w3ᵀ σ₂(W2 σ₁(W1 x + b1) + b2)`` with ``W1 ∈ R^{p1×d}`` (unit rows),
``W2 ∈ R^{p2×p1}``, fixed random biases. The layer-wise protocol (the paper's theorem):

1. **Stage 1** — spherical gradient steps on W1 for the correlation loss ``−y f(x)``, the
   rest of the network linearised at its random initialisation, so that neuron j sees an
   effective readout sign ``s_j = ±1``. For a batch ``(x_μ, y_μ)_{μ≤B}``::

       g_j = (1/B) Σ_μ y_μ σ₁'(w_j·x_μ + b1_j) x_μ,
       w_j ← normalise(w_j + η s_j (I − w_j w_jᵀ) g_j)

   with ``η = η̄ √d₁`` (d₁ = d^ε), which makes the signal step ``O(1)`` (see
   :mod:`overlapdyn.depth.first_layer`). ``batches = "fresh"``: each step draws a new batch (the
   theorem); ``"reuse"``: every step uses the whole training set (full-batch GD; the
   paper's experiments).
2. **Stage 2** — from ``W2 = 0``, one step on the correlation loss preconditioned by the
   (ridge-regularised) covariance of the first-layer features ``φ = σ₁(W1 x + b1)``: every
   row is ``W2_m = c_m β`` with ``β = (Σ̂_φ + λ I)⁻¹ Ĉov(φ, y)`` (``c_m ∝ w3_m`` at init,
   i.i.d. N(0,1)). So the second-layer pre-activations are ``c_m ĥ(x) + b2_m`` with
   ``ĥ = βᵀφ`` the ridge estimate of y from the learned features — the estimate of h*.
   (ĥ is standardised on the training set; λ by leave-one-out cross-validation, or on
   held-out samples: ``Training.validation``.)
3. **Stage 3** — ridge regression of w3 on ``σ₂(c_m ĥ + b2_m)`` (λ chosen the same way).

Baselines on the same training set: **two-layer** — the stage-1 first layer and a ridge
readout (its prediction is ĥ itself); **kernel** — ridge regression with the quadratic
kernel ``K(x, x') = (x·x')² + x·x' + 1`` through its explicit features
(``x_i², √2 x_i x_j, x_i, 1``; 1 + d + d(d+1)/2 of them); **random features** — ridge on
``σ₁(W0 x + b0)`` with a random, untrained W0.

Measured: ``M_W = (mean_j ‖W* w_j‖²)^{1/2}`` (RMS over neurons of the projection of the
unit first-layer rows onto span(W*)), ``M_h`` — the multiple correlation of ĥ(x) with the
top features ``h*_1..h*_r`` on the test set (``|corr(ĥ, h*)|`` for SIGHT; every second-layer
pre-activation is an affine function of ĥ, so all share it) — and the test mean-squared
error of every method. For MIGHT (r > 1) ĥ is one direction in the span of the r features:
stage 2 learns their combination that predicts y linearly, not each of them.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..ode.state import random_rows
from .config import DepthConfig, Training
from .ridge import quadratic_features, ridge_loo
from .targets import TargetInstance

__all__ = ["joint_training", "run_instance", "stage1"]


def _act(name: str):
    if name == "relu":
        return (lambda u: np.maximum(u, 0.0)), (lambda u: (u > 0).astype(float))
    return np.tanh, (lambda u: 1.0 - np.tanh(u) ** 2)


def _derivative_in_place(name: str, u: np.ndarray) -> None:
    """``u ← σ'(u)`` without temporaries (the stage-1 step is otherwise memory-bound)."""
    if name == "relu":
        np.greater(u, 0.0, out=u)
    else:
        np.tanh(u, out=u)
        np.square(u, out=u)
        np.subtract(1.0, u, out=u)


def stage1(W: np.ndarray, b: np.ndarray, s: np.ndarray, batches, eta: float, sigma1: str,
           W_star: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stage-1 spherical steps on the correlation loss (module docstring), BLAS-batched.

    Args:
        W: unit first-layer rows, shape (p1, d) (not modified).
        b, s: biases and effective readout signs, shape (p1,).
        batches: iterable, one item per step: ``(x, y)`` with shapes (B, d), (B,), or a
            list of such chunks whose union is the step's batch.
        eta: the learning rate η (already multiplied by √d₁).
        W_star: if given, ``M_W²`` per neuron is recorded after every step.

    Returns:
        ``(W, m)``: the trained rows (p1, d) and ``m[t, j] = ‖W* w_j‖²`` (steps+1, p1).
    """
    W = W.copy()
    history = [] if W_star is None else [np.sum((W @ W_star.T) ** 2, axis=1)]
    for batch in batches:
        # a batch is (x, y), or a list of (x, y) chunks (a large batch drawn piece by piece)
        chunks = batch if isinstance(batch, list) else [batch]
        G = np.zeros_like(W)
        size = 0
        for x, y in chunks:
            # neurons × samples, so that σ' is taken in place and the second product reads it
            # as is: G_j = Σ_μ σ'(w_j·x_μ + b_j) y_μ x_μ
            pre = W @ x.T
            pre += b[:, None]
            _derivative_in_place(sigma1, pre)
            G += pre @ (x * y[:, None])
            size += len(y)
        G /= size
        G -= np.sum(G * W, axis=1, keepdims=True) * W
        W += (eta * s)[:, None] * G
        W /= np.linalg.norm(W, axis=1, keepdims=True)
        if W_star is not None:
            history.append(np.sum((W @ W_star.T) ** 2, axis=1))
    return W, (np.array(history) if history else np.empty((0, len(b))))


def _without_linear_part(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``y − β₀ − xβ`` with (β₀, β) the least-squares fit (min-norm when n ≤ d)."""
    design = np.hstack([np.ones((len(y), 1)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ coef


def _multiple_correlation(u: np.ndarray, H: np.ndarray) -> float:
    """``√R²`` of the least-squares fit of u (n,) on ``[1, H]`` (H of shape (n,) or (n, r)):
    |corr(u, H)| for one column; 0 when u is constant (up to rounding)."""
    if np.ptp(u) <= 1e-12 * max(1.0, float(np.max(np.abs(u)))):
        return 0.0
    u = u - u.mean()
    total = float(u @ u)
    H = H.reshape(len(u), -1)
    design = np.hstack([np.ones((len(u), 1)), H])
    coef, *_ = np.linalg.lstsq(design, u, rcond=None)
    residual = u - design @ coef
    return float(np.sqrt(max(0.0, 1.0 - (residual @ residual) / total)))


def run_instance(config: DepthConfig, instance: TargetInstance, n: int,
                 rng: np.random.Generator, test: tuple[np.ndarray, np.ndarray, np.ndarray]
                 ) -> dict:
    """Train every method of ``config.sweep.methods`` on n samples; measure on ``test``.

    Args:
        instance: the target draw (W*, signs).
        n: the total number of training samples.
        rng: the generator of this run (data, initialisation), drawn from in a fixed order:
            the samples, the held-out set, the three-layer net, the joint net, the random
            features.
        test: ``(x, y, h*)`` of the test set, shapes (n_t, d), (n_t,), and (n_t, r) or
            (n_t,) for the top features.

    Returns:
        dict: ``error_<method>`` (test MSE), ``M_W``, ``M_h``, ``time_<stage>`` (seconds).
    """
    tr, methods = config.training, config.sweep.methods
    grid = np.linspace(*tr.ridge_grid[:2], int(tr.ridge_grid[2]))
    x, y = instance.sample(n, rng)
    held_out = instance.sample(tr.validation, rng) if tr.validation else None
    out: dict = {}
    if "three_layer" in methods:
        out.update(_three_layer(config, instance, x, y, _stage_samples(tr, n), grid, rng, test,
                                held_out))
    if "kernel" in methods:
        started = time.perf_counter()
        fit = ridge_loo(quadratic_features(x), y, grid,
                        validation=_held_out_in(held_out, quadratic_features))
        out["error_kernel"] = _test_error(fit.predict(quadratic_features(test[0])), test[1])
        out["time_kernel"] = time.perf_counter() - started
    if "joint" in methods:
        started = time.perf_counter()
        error, m_w, step = joint_training(config, instance, x, y, rng, test[0], test[1],
                                          held_out)
        out["error_joint"], out["M_W_joint"], out["joint_stop"] = error, m_w, step
        out["time_joint"] = time.perf_counter() - started
    if "random_features" in methods:
        started = time.perf_counter()
        out["error_random_features"] = _random_features_error(config, x, y, grid, rng, test,
                                                              held_out)
        out["time_random_features"] = time.perf_counter() - started
    return out


def _stage_samples(tr: Training, n: int) -> list[np.ndarray]:
    """The indices of the n samples used by stages 1, 2 and 3 (``Training.batches``)."""
    if tr.batches == "fresh":
        n1 = int(tr.stage1_fraction * n)
        n2 = (n - n1) // 2
        return np.split(np.arange(n), [n1, n1 + n2])
    if tr.batches == "split":
        n1 = int(tr.stage1_fraction * n)
        return [np.arange(n1), np.arange(n1, n), np.arange(n1, n)]
    return [np.arange(n)] * 3


def _held_out_in(held_out: tuple[np.ndarray, np.ndarray] | None, transform):
    """The held-out set ``(x, y)`` in the feature map ``transform``, or None (leave-one-out)."""
    return None if held_out is None else (transform(held_out[0]), held_out[1])


def _test_error(prediction: np.ndarray, y_test: np.ndarray) -> float:
    return float(np.mean((prediction - y_test) ** 2))


def _rms_overlap(W: np.ndarray, W_star: np.ndarray) -> float:
    """``M_W = (mean_j ‖W* w_j‖²)^{1/2}`` of unit rows W (p1, d) with span(W*) (W*: d₁ × d)."""
    return float(np.sqrt(np.mean(np.sum((W @ W_star.T) ** 2, axis=1))))


def _first_layer(config: DepthConfig, x1: np.ndarray, y1: np.ndarray,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stage 1 on the samples ``(x1, y1)`` from a random first layer: ``(W1, b1)``."""
    net, tr = config.network, config.training
    W0 = random_rows(rng, net.p1, config.target.d, radius=1.0)
    b1 = rng.uniform(-net.bias1, net.bias1, net.p1)
    s = rng.choice([-1.0, 1.0], net.p1)
    eta = tr.eta1 * math.sqrt(config.target.d_eff)
    y1 = _without_linear_part(x1, y1) if tr.remove_linear else y1
    if tr.batches == "fresh":
        B = len(y1) // max(tr.steps1, 1)
        batches = [(x1[t * B:(t + 1) * B], y1[t * B:(t + 1) * B])
                   for t in range(tr.steps1)] if B > 0 else []
    else:
        batches = [(x1, y1)] * tr.steps1
    W1, _ = stage1(W0, b1, s, batches, eta, net.sigma1)
    return W1, b1


def _three_layer(config: DepthConfig, instance: TargetInstance, x: np.ndarray, y: np.ndarray,
                 parts: list[np.ndarray], grid: np.ndarray, rng: np.random.Generator,
                 test: tuple[np.ndarray, np.ndarray, np.ndarray],
                 held_out: tuple[np.ndarray, np.ndarray] | None) -> dict:
    """The layer-wise three-layer net and the two-layer baseline on its first layer (stages
    1–3 of the module docstring): their test errors, M_W, M_h, the penalties and times."""
    net, tr = config.network, config.training
    sigma1, _ = _act(net.sigma1)
    sigma2, _ = _act(net.sigma2)
    x_test, y_test, h_test = test
    i1, i2, i3 = parts
    out: dict = {}
    started = time.perf_counter()
    W1, b1 = _first_layer(config, x[i1], y[i1], rng)
    out["M_W"] = _rms_overlap(W1, instance.W)
    out["time_stage1"] = time.perf_counter() - started

    started = time.perf_counter()

    def first(x_):
        return sigma1(x_ @ W1.T + b1)
    reuse = tr.batches in ("reuse", "split")   # stages 2 and 3 share their samples
    phi = first(x[i2])
    second = ridge_loo(phi, y[i2], grid, loo=reuse, validation=_held_out_in(held_out, first))
    h_fit = second.predict(phi)
    center, spread = h_fit.mean(), h_fit.std()
    h_test_fit = second.predict(first(x_test))
    out["error_two_layer"] = _test_error(h_test_fit, y_test)
    out["M_h"] = _multiple_correlation(h_test_fit, h_test)
    out["time_stage2"] = time.perf_counter() - started

    started = time.perf_counter()
    c = rng.standard_normal(net.p2)
    b2 = rng.uniform(-net.bias2, net.bias2, net.p2)
    spread = spread if spread > 0 else 1.0

    def features(x_, h=None):
        h = second.predict(first(x_)) if h is None else h
        return sigma2(np.outer((h - center) / spread, c) + b2)
    # Reused data: stage 3 sees the second layer's leave-one-out pre-activations on the
    # training points (the in-sample ones are over-fitted to y and mislead the ridge).
    third = ridge_loo(features(x[i3], second.loo_values if reuse else None), y[i3], grid,
                      validation=_held_out_in(held_out, features))
    out["error_three_layer"] = _test_error(third.predict(features(x_test)), y_test)
    out["time_stage3"] = time.perf_counter() - started
    out["lambda_stage2"], out["lambda_stage3"] = second.penalty, third.penalty
    return out


def _random_features_error(config: DepthConfig, x: np.ndarray, y: np.ndarray, grid: np.ndarray,
                           rng: np.random.Generator,
                           test: tuple[np.ndarray, np.ndarray, np.ndarray],
                           held_out: tuple[np.ndarray, np.ndarray] | None) -> float:
    """Test error of the ridge readout of ``σ₁(W0 x + b0)``, W0 random unit rows, untrained."""
    net = config.network
    sigma1, _ = _act(net.sigma1)
    W_rf = random_rows(rng, net.rf_features, config.target.d, radius=1.0)
    b_rf = rng.uniform(-net.bias1, net.bias1, net.rf_features)

    def features(x_):
        return sigma1(x_ @ W_rf.T + b_rf)
    fit = ridge_loo(features(x), y, grid, validation=_held_out_in(held_out, features))
    return _test_error(fit.predict(features(test[0])), test[1])


def joint_training(config: DepthConfig, instance: TargetInstance, x: np.ndarray, y: np.ndarray,
                   rng: np.random.Generator, x_test: np.ndarray, y_test: np.ndarray,
                   validation: tuple[np.ndarray, np.ndarray] | None = None
                   ) -> tuple[float, float, int]:
    """The practical variant: all three layers trained together by full-batch Adam on the
    square loss ``½ mean (f(x) − y)²`` (reused data), ``f = w3ᵀσ₂(W2 σ₁(W1 x + b1) + b2)/√p2 + c``,
    ``W2 ~ N(0, 1/p1)``, W1 rows renormalised to the sphere after each step, biases fixed.

    With a ``validation`` set ``(x, y)`` the network is evaluated on it every
    ``max(1, joint_steps // 100)`` steps and the best iterate is kept (early stopping: with
    reused data the joint net over-fits long before ``joint_steps``).

    Returns:
        ``(test MSE, M_W of the first layer, the step of the returned iterate)``.
    """
    net, tr, d = config.network, config.training, config.target.d
    sigma1, dsigma1 = _act(net.sigma1)
    sigma2, dsigma2 = _act(net.sigma2)
    p1, p2 = tr.joint_p1, net.p2
    params = {"W1": random_rows(rng, p1, d, radius=1.0),
              "W2": rng.standard_normal((p2, p1)) / math.sqrt(p1),
              "w3": rng.standard_normal(p2) / math.sqrt(p2), "c": np.zeros(1)}
    b1 = rng.uniform(-net.bias1, net.bias1, p1)
    b2 = rng.uniform(-net.bias2, net.bias2, p2)
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    beta1, beta2, n = 0.9, 0.999, len(y)

    def forward(x_, p):
        a1 = x_ @ p["W1"].T + b1
        h1 = sigma1(a1)
        u = h1 @ p["W2"].T + b2
        h2 = sigma2(u)
        return h2 @ p["w3"] / math.sqrt(p2) + p["c"][0], (a1, h1, u, h2)

    every = max(1, tr.joint_steps // 100)
    best = (np.inf, 0, None)

    def checkpoint(t):
        nonlocal best
        error = float(np.mean((forward(validation[0], params)[0] - validation[1]) ** 2))
        if error < best[0]:
            best = (error, t, {k: v.copy() for k, v in params.items()})

    if validation is not None:
        checkpoint(0)
    for t in range(1, tr.joint_steps + 1):
        f, (a1, h1, u, h2) = forward(x, params)
        e = (f - y) / n
        du = np.outer(e, params["w3"] / math.sqrt(p2)) * dsigma2(u)
        da1 = (du @ params["W2"]) * dsigma1(a1)
        grads = {"w3": h2.T @ e / math.sqrt(p2), "c": np.array([e.sum()]),
                 "W2": du.T @ h1, "W1": da1.T @ x}
        for k, g in grads.items():
            m, v = moments[k]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g**2
            params[k] -= tr.joint_lr * (m / (1 - beta1**t)) / (
                np.sqrt(v / (1 - beta2**t)) + 1e-8)
        params["W1"] /= np.linalg.norm(params["W1"], axis=1, keepdims=True)
        if validation is not None and (t % every == 0 or t == tr.joint_steps):
            checkpoint(t)
    step = tr.joint_steps
    if validation is not None:
        _, step, params = best
    prediction, _ = forward(x_test, params)
    return _test_error(prediction, y_test), _rms_overlap(params["W1"], instance.W), step
