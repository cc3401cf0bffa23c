r"""Finite-d full-batch GD on ``n = αd`` reused samples: the ground truth for the DMFT.

Each seed draws one training set ``X`` (n, d) with rows ``x_μ ~ N(0, I_d)`` and labels
``y_μ = g(z_μ) + √Δ ξ_μ``, a student ``W⁰`` with exactly the overlaps ``(M⁰, Q⁰)`` (default
``(0, I)``, as in the authors' simulations: a random start would add an O(d^(−1/2)) ``M⁰``
whose seed-to-seed spread hides the first steps), and runs T steps of

    W ← (1 − ηλ_r) W + η √d (1/n) Gᵀ X,      λ = X Wᵀ/√d,  G_μj = c_p a_j e_μ σ'(λ_μj)

(:class:`~overlapdyn.reuse.config.FullBatchGD`). The two products are BLAS calls of
O(n·d·p) each; e and G come from the compiled kernels (:mod:`overlapdyn.reuse.kernels`). The
teacher lies along the first k axes (``U = √d [L 0]``, ``P = LLᵀ``), as in
:mod:`overlapdyn.sgd.simulator`, so ``z = X_{:, 1..k} Lᵀ``. Memory: the training set,
``8·n·d`` bytes per seed (seeds run one after the other).

Recorded at every step t = 0..T: ``M^t = W Uᵀ/d``, ``Q^t = W Wᵀ/d``, the training risk
``½ (1/n) Σ_μ (y_μ − ŷ_μ)²`` (the penalty not included) and the test (population) risk
``½(E[(g − ŷ)²] + Δ)`` of the current weights — a function of (M^t, Q^t) alone, estimated by
Monte Carlo over ``(λ, z) ~ N(0, Ω^t)`` with ``risk_samples`` draws shared by every step
and seed (common random numbers, so differences between steps are not blurred by
independent estimation noise).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import OverlapdynError
from ..model.checks import check_dimension, check_integer, check_memory, check_seeds
from ..sgd.simulator import warm_start_weights
from ..storage.results import Result
from .config import FullBatchGD, check_finite_array, check_steps
from .kernels import GradientKernels, population_risk

__all__ = ["GDSimulation", "simulate_gd"]


@dataclass(frozen=True)
class GDSimulation(Result):
    """Full-batch GD at one dimension, several seeds.

    Attributes:
        spec: the :class:`~overlapdyn.reuse.config.FullBatchGD` spec.
        d: the dimension; ``n`` the training-set size ``round(αd)``.
        n: the number of training samples.
        seeds: the seeds (S of them).
        M: ``M^t`` of every seed, shape (S, T+1, p, k).
        Q: ``Q^t``, shape (S, T+1, p, p).
        train_risk: ``½ mean_μ (y_μ − ŷ_μ)²`` on the training set, shape (S, T+1).
        test_risk: the population risk of the weights (Monte Carlo over the overlaps'
            Gaussian, ``risk_samples`` draws), shape (S, T+1).
        init: ``(M⁰, Q⁰)`` every seed started from exactly.
        risk_samples: the Monte Carlo draws of the test risk.
        failed_at: per seed, the step whose errors turned non-finite (−1: none); the
            arrays hold NaN from there on.
        wall_time_s: the wall time of the runs (kernels' compilation excluded).
    """

    FORMAT = "overlapdyn.GDSimulation"
    VERSION = 1

    spec: FullBatchGD
    d: int
    n: int
    seeds: tuple[int, ...]
    M: np.ndarray
    Q: np.ndarray
    train_risk: np.ndarray
    test_risk: np.ndarray
    init: tuple[np.ndarray, np.ndarray]
    risk_samples: int
    failed_at: tuple[int, ...]
    wall_time_s: float = 0.0

    @property
    def steps(self) -> int:
        """T, the GD steps made (the arrays hold T + 1 states)."""
        return self.M.shape[1] - 1

    def mean(self, quantity: str) -> np.ndarray:
        """The seed mean of ``"M"``, ``"Q"``, ``"train_risk"`` or ``"test_risk"``: (T+1, …)."""
        return np.mean(self._values(quantity), axis=0)

    def sem(self, quantity: str) -> np.ndarray:
        """The standard error of :meth:`mean` (seed std with ddof = 1, over √S; NaN for one
        seed): (T+1, …)."""
        values = self._values(quantity)
        if values.shape[0] < 2:
            return np.full(values.shape[1:], np.nan)
        return np.std(values, axis=0, ddof=1) / np.sqrt(values.shape[0])

    def _values(self, quantity: str) -> np.ndarray:
        if quantity not in ("M", "Q", "train_risk", "test_risk"):
            raise OverlapdynError(f"no quantity {quantity!r}: use M, Q, train_risk or "
                                  "test_risk")
        return getattr(self, quantity)

    def describe(self) -> str:
        """The spec, then per step the seed means ± standard errors of M (neuron 1) and the
        risks."""
        lines = [self.spec.describe(),
                 f"d = {self.d}, n = {self.n}, {len(self.seeds)} seed(s), {self.steps} steps, "
                 f"{self.wall_time_s:.2f} s"]
        failed = [s for s, f in zip(self.seeds, self.failed_at, strict=True) if f >= 0]
        if failed:
            lines.append(f"seeds {failed} diverged (non-finite errors); their values are NaN")
        M, dM = self.mean("M"), self.sem("M")
        train, test = self.mean("train_risk"), self.mean("test_risk")
        for t in range(self.steps + 1):
            row = ", ".join(f"{m:.4f}±{e:.4f}" for m, e in zip(M[t, 0], dM[t, 0], strict=True))
            lines.append(f"  t = {t}: M_1· = ({row}), train risk {train[t]:.4f}, test risk "
                         f"{test[t]:.4f}")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"spec": self.spec.to_dict(), "d": self.d, "n": self.n, "seeds": self.seeds,
                 "risk_samples": self.risk_samples, "failed_at": self.failed_at,
                 "wall_time_s": self.wall_time_s},
                {"M": self.M, "Q": self.Q, "train_risk": self.train_risk,
                 "test_risk": self.test_risk, "M0": self.init[0], "Q0": self.init[1]})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> GDSimulation:
        return cls(FullBatchGD.from_dict(header["spec"]), header["d"], header["n"],
                   tuple(header["seeds"]), arrays["M"], arrays["Q"], arrays["train_risk"],
                   arrays["test_risk"], (arrays["M0"], arrays["Q0"]), header["risk_samples"],
                   tuple(header["failed_at"]), header["wall_time_s"])


def initial_overlaps(spec: FullBatchGD, init) -> tuple[np.ndarray, np.ndarray]:
    """``(M⁰, Q⁰)``: ``init`` checked (shapes (p, k), (p, p), finite), or ``(0, I)``."""
    if init is None:
        return np.zeros((spec.p, spec.k)), np.eye(spec.p)
    M0, Q0 = init
    return (check_finite_array(M0, "init M⁰", (spec.p, spec.k)),
            check_finite_array(Q0, "init Q⁰", (spec.p, spec.p)))


def simulate_gd(spec: FullBatchGD, d: int, steps: int, *, seeds=(0,), init=None,
                risk_samples: int = 100_000) -> GDSimulation:
    """Run T steps of full-batch GD at dimension d for each seed.

    Args:
        spec: the spec.
        d: the dimension (≥ p + k); the training set has ``n = round(αd)`` samples.
        steps: T ≥ 1.
        seeds: a number S (the seeds 0…S−1) or the seeds; each draws its own data and
            student.
        init: ``(M⁰, Q⁰)`` every seed starts from exactly (default ``(0, I)``).
        risk_samples: Monte Carlo draws of each test (population) risk (≥ 1000).

    Raises:
        ConfigError: d, T, the seeds, init or risk_samples out of range (named).
        CovarianceError: init is not a valid overlap state with P.
        ResourceError: the training set would need more than half the machine's memory.
    """
    d = check_dimension(check_integer(d, "d", 1), spec.p, spec.k)
    steps = check_steps(steps)
    seeds = check_seeds(seeds, "a full-batch GD simulation")
    risk_samples = check_integer(risk_samples, "risk_samples", 1000)
    M0, Q0 = initial_overlaps(spec, init)
    n = spec.samples(d)
    check_memory(8.0 * (n * d + 2 * n * max(spec.p, spec.k) + spec.p * d),
                 f"full-batch GD at d = {d} with n = {n} samples", "lower d or alpha")
    kernels = GradientKernels(spec)
    normals = np.random.default_rng([2**31 - 1, d]).standard_normal((risk_samples,
                                                                      spec.p + spec.k))
    shape = (len(seeds), steps + 1)
    M = np.full((*shape, spec.p, spec.k), np.nan)
    Q = np.full((*shape, spec.p, spec.p), np.nan)
    train, test = np.full(shape, np.nan), np.full(shape, np.nan)
    failed_at = []
    start = time.perf_counter()
    for s, seed in enumerate(seeds):
        failed_at.append(_run_seed(spec, kernels, d, n, steps, seed, (M0, Q0), normals,
                                   M[s], Q[s], train[s], test[s]))
    return GDSimulation(spec, d, n, seeds, M, Q, train, test, (M0, Q0), risk_samples,
                        tuple(failed_at), time.perf_counter() - start)


def _run_seed(spec: FullBatchGD, kernels: GradientKernels, d: int, n: int, steps: int,
              seed: int, init, normals: np.ndarray, M, Q, train, test) -> int:
    """One seed's run, written into its rows M (T+1, p, k), Q, train, test; returns the step
    where the errors turned non-finite, or −1."""
    rng = np.random.default_rng([seed, d])
    P = spec.target.gram
    L = np.linalg.cholesky(P)
    W = warm_start_weights(init[0], init[1], P, d, rng)
    X = rng.standard_normal((n, d))
    z = X[:, :spec.k] @ L.T
    y = kernels.labels(z, rng.standard_normal(n))
    sqrt_d = np.sqrt(d)
    for t in range(steps + 1):
        lam = X @ (W.T / sqrt_d)
        G, _, residual2 = kernels.gradients(lam, y)
        M[t] = W[:, :spec.k] @ L.T / sqrt_d
        Q[t] = W @ W.T / d
        if not (np.all(np.isfinite(G)) and np.all(np.isfinite(Q[t]))):
            M[t], Q[t] = np.nan, np.nan
            return t
        train[t] = 0.5 * float(np.mean(residual2))
        test[t] = population_risk(kernels, M[t], Q[t], normals)
        if t < steps:
            W = (1.0 - spec.eta * spec.ridge) * W + (spec.eta * sqrt_d / n) * (G.T @ X)
    return -1
