r"""The whole protocol at finite d: one giant step, then a ridge readout on fresh samples.

Per seed (unit-norm rows, the paper's convention; SPEC's ``λ = w·x/√d`` with ``‖w‖² = d`` is
the same network):

1. ``W⁰`` (p, d): i.i.d. Gaussian rows normalised to unit norm; the teacher along the first
   axis, ``z = x₁``, ``y = g(z) + √Δ ξ``.
2. The step on ``n₀ = round(α₀d)`` samples: ``Λ = X₀W⁰ᵀ``, ``e = y − (1/p) Σ_j σ(Λ_j)``
   (``loss = "mse"``: the network ``f = (1/√p) aᵀσ(Wx)`` at ``a_j = 1/√p``, as the authors
   simulate it) or ``e = y`` (``"correlation"``), and
   ``W¹ = W⁰ + η̃ (1/n₀) (e ∘ σ'(Λ))ᵀ X₀`` — one BLAS product, the samples in blocks.
3. For each α: ``n = round(αd)`` fresh samples, features ``Φ = σ(XW¹ᵀ)`` (n, p), the ridge
   readout ``â = argmin Σ_μ (y_μ − Φ_μ·a/√p)² + λ‖a‖²`` (the p×p or n×n normal equations,
   whichever is smaller, by Cholesky), and its test error ``mean (y − Φ_test â/√p)²`` on
   ``n_test`` fresh samples shared by every α of the seed.

Also recorded: each seed's mean per-neuron cosine² with the teacher after the step, the
finite-d counterpart of :attr:`~overlapdyn.readout.step.SpikedFeatures.cos2`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import sympy

from ..errors import ConfigError
from ..model.activations import X
from ..model.activations import activation as resolve_activation
from ..model.checks import check_integer, check_memory, check_real, check_seeds
from ..storage.results import Result
from .step import GiantStep

__all__ = ["LOSSES", "ReadoutSimulation", "first_layer_after_step", "gradient_step",
           "ridge_readout", "simulate_readout"]

LOSSES = ("mse", "correlation")
# samples per block when the step and the features are built (memory: block·(d + p) floats)
_BLOCK = 4096


@dataclass(frozen=True)
class ReadoutSimulation(Result):
    """Finite-d runs of the protocol (module docstring).

    Attributes:
        step: the :class:`~overlapdyn.readout.step.GiantStep`.
        d: the input dimension.
        p: the width.
        alpha: ``α = n/d`` of the ridge, shape (A,).
        ridge: λ.
        seeds: the seeds (S).
        test_error: ``mean (y − ŷ)²`` on the test set, shape (S, A).
        train_error: ``mean (y − ŷ)²`` on the training set, shape (S, A).
        cos2: each seed's mean per-neuron cosine² with the teacher after the step, (S,).
        n_test: test samples per seed.
        loss: ``"mse"`` or ``"correlation"`` (the step's error e).
        wall_time_s: the wall time.
    """

    FORMAT = "overlapdyn.ReadoutSimulation"
    VERSION = 1

    step: GiantStep
    d: int
    p: int
    alpha: np.ndarray
    ridge: float
    seeds: tuple[int, ...]
    test_error: np.ndarray
    train_error: np.ndarray
    cos2: np.ndarray
    n_test: int
    loss: str = "mse"
    wall_time_s: float = 0.0

    @property
    def mean(self) -> np.ndarray:
        """The test error averaged over seeds, (A,)."""
        return self.test_error.mean(axis=0)

    @property
    def standard_error(self) -> np.ndarray:
        """Its standard error over seeds (0 with one seed), (A,)."""
        S = len(self.seeds)
        return (self.test_error.std(axis=0, ddof=1) / np.sqrt(S) if S > 1
                else np.zeros(self.alpha.size))

    def describe(self) -> str:
        lines = [self.step.describe(),
                 f"finite-d readout: d = {self.d}, p = {self.p}, λ = {self.ridge:g}, "
                 f"{len(self.seeds)} seeds, {self.n_test} test samples, step loss "
                 f"{self.loss}; per-neuron cos² after the step {self.cos2.mean():.4f}",
                 f"{'α':>8} {'test error':>11} {'± s.e.':>9} {'train error':>12}"]
        for a, m, s, t in zip(self.alpha, self.mean, self.standard_error,
                              self.train_error.mean(axis=0), strict=True):
            lines.append(f"{a:8.4g} {m:11.5f} {s:9.5f} {t:12.5f}")
        lines.append(f"({self.wall_time_s:.1f} s)")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"step": self.step.to_dict(), "d": self.d, "p": self.p, "ridge": self.ridge,
                 "seeds": list(self.seeds), "n_test": self.n_test, "loss": self.loss,
                 "wall_time_s": self.wall_time_s},
                {"alpha": self.alpha, "test_error": self.test_error,
                 "train_error": self.train_error, "cos2": self.cos2})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> ReadoutSimulation:
        return cls(GiantStep.from_dict(header["step"]), header["d"], header["p"],
                   arrays["alpha"], header["ridge"], tuple(header["seeds"]),
                   arrays["test_error"], arrays["train_error"], arrays["cos2"],
                   header["n_test"], header["loss"], header["wall_time_s"])


def simulate_readout(step: GiantStep, alpha: float | Sequence[float], ridge: float, *, d: int,
                     p: int | None = None, seeds=3, n_test: int | None = None,
                     loss: str = "mse") -> ReadoutSimulation:
    """Run the protocol at dimension d (module docstring).

    Args:
        step: the step (``eta_tilde = 0``: random features at initialisation).
        alpha: ``α = n/d > 0`` of the ridge, one or several.
        ridge: λ ≥ 0 (λ = 0 needs n ≠ p).
        d: the input dimension (≥ 8).
        p: the width (default d; ≥ 2).
        seeds: a number of seeds or the seeds.
        n_test: test samples per seed (default max(4d, 4000)).
        loss: the step's error: ``"mse"`` or ``"correlation"``.

    Raises:
        ConfigError: α ≤ 0, λ < 0, d < 8, p < 2, a bad loss; ResourceError: too little memory.
    """
    alphas = np.atleast_1d(np.asarray(alpha, dtype=float))
    if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas)) \
            or np.any(alphas <= 0):
        raise ConfigError(f"alpha = n/d must be > 0 (one number or a 1-d sequence), got "
                          f"{alpha!r}")
    ridge = check_real(ridge, "ridge (λ)")
    d = check_integer(d, "d", 8)
    p = d if p is None else check_integer(p, "p", 2)
    if loss not in LOSSES:
        raise ConfigError(f"loss must be one of {LOSSES}, got {loss!r}")
    n_test = max(4 * d, 4000) if n_test is None else check_integer(n_test, "n_test", 1)
    seeds = check_seeds(seeds, "simulate_readout")
    n_max = int(round(alphas.max() * d))
    if ridge == 0 and np.any(np.round(alphas * d) == p):
        raise ConfigError("ridge = 0 with n = p: the least-squares readout is undefined; "
                          "give λ > 0 or another α")
    check_memory(8.0 * (max(n_max, n_test) * (d + p) + 3 * p * d + min(n_max, p) ** 2),
                 f"simulate_readout at d = {d}, p = {p}", "lower d or the largest α")
    sigma = resolve_activation(step.activation)
    link = step.link
    noise = np.sqrt(step.target.noise)
    start = time.perf_counter()
    test, train, cos2 = [], [], []
    for seed in seeds:
        rng = np.random.default_rng([seed, 15, d, p])
        W1 = first_layer_after_step(step, d, p, rng, loss)
        cos2.append(float(np.mean(W1[:, 0] ** 2 / np.sum(W1 ** 2, axis=1))))
        x, y_test = _data(rng, n_test, d, link, noise)
        features_test = sigma(x @ W1.T)
        errors, residuals = [], []
        for a in alphas:
            x, y = _data(rng, int(round(a * d)), d, link, noise)
            features = sigma(x @ W1.T) / np.sqrt(p)
            readout = ridge_readout(features, y, ridge)
            residuals.append(float(np.mean((y - features @ readout) ** 2)))
            errors.append(float(np.mean((y_test - features_test @ readout / np.sqrt(p)) ** 2)))
        test.append(errors)
        train.append(residuals)
    return ReadoutSimulation(step, d, p, alphas, ridge, seeds, np.array(test),
                             np.array(train), np.array(cos2), n_test, loss,
                             time.perf_counter() - start)


def first_layer_after_step(step: GiantStep, d: int, p: int, rng: np.random.Generator,
                           loss: str = "mse") -> np.ndarray:
    r"""Steps 1–2 of the protocol (module docstring): the first layer ``W¹`` (p, d) after
    the giant step, from ``W⁰`` with i.i.d. Gaussian rows normalised to unit norm and
    ``n₀ = round(α₀d)`` fresh samples of the teacher along the first axis, drawn from
    ``rng``. ``eta_tilde = 0`` returns ``W⁰`` (random features).

    Raises:
        ConfigError: a bad loss, or a step on a σ without a symbolic form (σ' is needed).
    """
    if loss not in LOSSES:
        raise ConfigError(f"loss must be one of {LOSSES}, got {loss!r}")
    W0 = rng.standard_normal((p, d))
    W0 /= np.linalg.norm(W0, axis=1, keepdims=True)
    if step.eta_tilde == 0:
        return W0
    sigma = resolve_activation(step.activation)
    if sigma.expr is None:
        raise ConfigError(f"σ = {sigma.name} has no symbolic form: the step needs σ'")
    link, noise = step.link, np.sqrt(step.target.noise)
    n0 = max(1, int(round(step.alpha0 * d)))
    return gradient_step(W0, step.eta_tilde, n0, sigma,
                         lambda n: _data(rng, n, d, link, noise), loss)


def gradient_step(W: np.ndarray, eta_tilde: float, n0: int, sigma,
                  sample: Callable[[int], tuple[np.ndarray, np.ndarray]],
                  loss: str = "mse", signs: np.ndarray | None = None) -> np.ndarray:
    r"""One giant step of unit-scale rows on n₀ fresh samples:
    ``W + η̃ (1/n₀) diag(a) (e ∘ σ'(Λ))ᵀ X`` with ``Λ = XWᵀ``, readout signs ``a_j``, and
    ``e = y − (1/p) Σ_j a_j σ(Λ_j)`` (``"mse"``) or ``e = y`` (``"correlation"``); the
    samples in blocks of 4096.

    Args:
        W: (p, d) the first layer.
        eta_tilde: η̃; n0: the number of samples.
        sigma: the activation (:class:`~overlapdyn.model.Activation` with a symbolic form).
        sample: ``sample(n)`` returns n fresh samples ``(x (n, d), y (n,))``.
        loss: ``"mse"`` or ``"correlation"``.
        signs: (p,) the readout signs a_j (default all 1).

    Returns:
        The new first layer, (p, d).
    """
    dsigma = resolve_activation(sympy.diff(sigma.expr, X))
    gradient = np.zeros_like(W)
    for begin in range(0, n0, _BLOCK):
        x, y = sample(min(_BLOCK, n0 - begin))
        fields = x @ W.T
        output = (sigma(fields).mean(axis=1) if signs is None
                  else sigma(fields) @ signs / W.shape[0])
        e = y - output if loss == "mse" else y
        gradient += (dsigma(fields) * e[:, None]).T @ x
    if signs is not None:
        gradient *= np.asarray(signs, dtype=float)[:, None]
    return W + (eta_tilde / n0) * gradient


def _data(rng: np.random.Generator, n: int, d: int, link, noise: float
          ) -> tuple[np.ndarray, np.ndarray]:
    """n fresh samples ``x ~ N(0, I_d)`` (n, d) and labels ``g(x₁) + √Δ ξ`` (n,)."""
    x = rng.standard_normal((n, d))
    y = link(x[:, 0])
    if noise:
        y = y + noise * rng.standard_normal(n)
    return x, y


def ridge_readout(features: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """``argmin_a ‖y − Φa‖² + λ‖a‖²`` for features Φ (n, p) and labels y (n,), by the smaller
    normal equations (Cholesky; a least-squares solve when λ = 0 leaves them singular);
    returns a (p,)."""
    n, p = features.shape
    if n >= p:
        gram = features.T @ features + ridge * np.eye(p)
        rhs = features.T @ y
        return _solve(gram, rhs)
    gram = features @ features.T + ridge * np.eye(n)
    return features.T @ _solve(gram, y)


def _solve(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(gram), rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(gram, rhs, rcond=None)[0]
