r"""The first two steps of full-batch GD on reused data, in closed form (d → ∞, n = αd).

Derivation, in SPEC's conventions (:mod:`overlapdyn.reuse.config` for the update and the
map onto the papers'). Write ``φ_μ = (λ⁰_μ, z_μ)`` for a training sample's fields at the
start, ``Ω = [[Q⁰, M⁰], [M⁰ᵀ, P]]`` their covariance, ``s = 1 − ηλ_r``, ``G⁰_μ = G(λ⁰_μ, y_μ)``.

**Step 1** uses each sample once, so it is the large-batch state evolution's step:

    M¹ = s M⁰ + η E[G⁰ zᵀ],
    Q¹ = s² Q⁰ + ηs (E[G⁰λ⁰ᵀ] + E[λ⁰G⁰ᵀ]) + η² E[G⁰φᵀ] Ω⁺ E[φG⁰ᵀ] + (η²/α) E[G⁰G⁰ᵀ].

**The training fields after step 1.** ``λ¹_μ = s λ⁰_μ + (η/(αd)) Σ_ν G⁰_ν (x_ν·x_μ)``. Split
each ``x`` into its part in the span of the rows of W⁰ and U and the rest, ``x_ν·x_μ =
φ_νᵀ Ω⁺ φ_μ + x⊥_ν·x⊥_μ``. The span part averages to ``η E[G⁰φᵀ] Ω⁺ φ_μ`` (the drift of the
fields); in the rest, the term ν = μ gives ``(η/α) G⁰_μ`` (``‖x⊥_μ‖²/d → 1``: the sample
sees its own gradient — the effect of reuse), and the terms ν ≠ μ are a sum of n
independent terms of ``x⊥_μ``, a Gaussian ``η ξ⁰_μ`` with ``ξ⁰ ~ N(0, E[G⁰G⁰ᵀ]/α)``,
independent of ``(λ⁰, z, y)``:

    λ¹ = s λ⁰ + (η/α) G(λ⁰, y) + η E[G⁰φᵀ] Ω⁺ φ + η ξ⁰.

By Stein's lemma ``E[G⁰φᵀ]Ω⁺ = E[∇_φ G]``; at ``M⁰ = 0``, ``Q⁰ = P = I`` the drift is
``η E[∂G/∂λ] λ⁰ + M¹ z`` (ridge aside), and ``−α E[∂G/∂λ] = α E[∇²_h ℓ] = Λ⁰`` of the papers'
DMFT: their ``h¹ = h⁰ + lr(G(h⁰, y) − Λ⁰h⁰ + ξ⁰)``, ``ξ⁰ ~ N(0, α E[GGᵀ])``, is this line with
``η = lr·α`` (so ``lr·ξ⁰`` is our ``η ξ⁰``) and their ``h¹ + M¹z`` for our ``λ¹``. The Hessian
``∇²_h ℓ = (c_p a∘σ')(c_p a∘σ')ᵀ − diag(c_p a e σ'')`` has, for a ReLU, ``σ'' = δ(λ)``: the
authors' code keeps the first (Gauss–Newton) term only; the derivation here — which never
differentiates, it averages ``G φᵀ`` — keeps both (``curvature = "gauss-newton"`` gives
theirs). In the acceptance setting (:mod:`overlapdyn.reuse.config`) the δ term adds
``c_p a_j E[e δ(λ_j)] = 1/(4π) ≈ 0.080`` to ``E[∂G_j/∂λ_j]`` (−0.170 instead of −0.250), which
moves the training risk after one step from 0.327 (theirs) to 0.338 (the simulator agrees
with the latter) but ``M²`` by only 1.5·10⁻⁴.

**Step 2** sums over the same samples: ``M² = s M¹ + η E[G(λ¹, y) zᵀ]``, the expectation over
the joint law of ``(λ⁰, z, y, ξ⁰)`` above. The training risk at steps 0 and 1 is
``½ E[(y − ŷ(λ^t))²]``; the test risk the population risk at ``(M^t, Q^t)``. Q² and later
steps need the memory kernel of the full DMFT (not here); the effective process's
quantities of step 0 — the noise covariance ``E[G⁰G⁰ᵀ]/α`` and the field drift
``E[G⁰φᵀ]Ω⁺`` — are kept in the result for it.

**Numerics.** Every expectation is a Monte Carlo average over ``blocks`` independent blocks
of ``samples`` draws each, evaluated by the compiled kernels (:mod:`overlapdyn.reuse.kernels`);
within a block step 1's moments are estimated first, then step 2's on fresh draws. The
estimate is the mean over blocks and its error the standard error over blocks, so the
error of step 1's moments propagated into step 2 is in it. ``sampler = "sobol"`` (default)
draws each block from an independently scrambled Sobol sequence (randomised quasi-Monte
Carlo: the blocks stay independent and unbiased, and the error falls faster than
``N^(−1/2)`` on these piecewise-smooth integrands); ``"normal"`` uses plain pseudo-random
normals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.special
from scipy.stats import qmc

from ..errors import ConfigError
from ..model.checks import check_integer, check_memory
from ..ode.state import check_overlaps
from ..storage.results import Result
from .config import FullBatchGD
from .kernels import GradientKernels, gaussian_factor, population_risk
from .simulator import initial_overlaps

__all__ = ["CURVATURES", "SAMPLERS", "MonteCarloArchive", "TwoStepTheory", "block_statistics",
           "check_monte_carlo", "standard_normals", "two_step"]

SAMPLERS = ("sobol", "normal")
CURVATURES = ("exact", "gauss-newton")


class MonteCarloArchive:
    """The save format shared by the Monte Carlo theories of full-batch GD
    (:class:`TwoStepTheory`, :class:`~overlapdyn.reuse.dmft.DMFTSolution`): the spec and the
    Monte Carlo settings in the header; the start and the arrays named by ``_ARRAYS`` (the
    fields after ``spec`` and ``init``, in order) in the archive."""

    _ARRAYS: tuple[str, ...] = ()

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"spec": self.spec.to_dict(), "samples": self.samples, "blocks": self.blocks,
                 "sampler": self.sampler, "seed": self.seed, "curvature": self.curvature,
                 "wall_time_s": self.wall_time_s},
                {"M0": self.init[0], "Q0": self.init[1],
                 **{name: getattr(self, name) for name in self._ARRAYS}})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]):
        return cls(FullBatchGD.from_dict(header["spec"]), (arrays["M0"], arrays["Q0"]),
                   *(arrays[name] for name in cls._ARRAYS), samples=header["samples"],
                   blocks=header["blocks"], sampler=header["sampler"], seed=header["seed"],
                   curvature=header["curvature"], wall_time_s=header["wall_time_s"])


@dataclass(frozen=True)
class TwoStepTheory(MonteCarloArchive, Result):
    """The closed form of steps 1 and 2 (module docstring), with Monte Carlo errors.

    Attributes:
        spec: the :class:`~overlapdyn.reuse.config.FullBatchGD` spec.
        init: ``(M⁰, Q⁰)``.
        M: ``M⁰, M¹, M²``, shape (3, p, k); ``M_error`` its standard error (3, p, k).
        M_error: the standard error of ``M`` over the blocks.
        Q: ``Q⁰, Q¹``, shape (2, p, p); ``Q_error`` its standard error.
        Q_error: the standard error of ``Q``.
        train_risk: ``½E[(y − ŷ)²]`` on the training fields at steps 0 and 1, shape (2,).
        train_risk_error: its standard error.
        test_risk: the population risk at ``(M^t, Q^t)``, t = 0, 1, shape (2,).
        test_risk_error: its standard error.
        noise_covariance: ``E[G⁰G⁰ᵀ]/α`` (p, p), the covariance of ξ⁰.
        drift: ``E[G⁰φᵀ]Ω⁺`` (p, p + k), the fields' drift per unit η.
        samples: Monte Carlo draws per block.
        blocks: independent blocks.
        sampler: ``"sobol"`` or ``"normal"``.
        seed: the seed of the draws.
        curvature: ``"exact"`` or ``"gauss-newton"`` (the authors' DMFT code).
        wall_time_s: the wall time (kernels' compilation excluded).
    """

    FORMAT = "overlapdyn.TwoStepTheory"
    VERSION = 1

    spec: FullBatchGD
    init: tuple[np.ndarray, np.ndarray]
    M: np.ndarray
    M_error: np.ndarray
    Q: np.ndarray
    Q_error: np.ndarray
    train_risk: np.ndarray
    train_risk_error: np.ndarray
    test_risk: np.ndarray
    test_risk_error: np.ndarray
    noise_covariance: np.ndarray
    drift: np.ndarray
    samples: int
    blocks: int
    sampler: str
    seed: int
    curvature: str = "exact"
    wall_time_s: float = 0.0

    _ARRAYS = ("M", "M_error", "Q", "Q_error", "train_risk", "train_risk_error", "test_risk",
               "test_risk_error", "noise_covariance", "drift")

    def describe(self) -> str:
        """The spec, then M¹, M² per neuron and Q¹ and the risks, each ± its error."""
        def pm(values, errors) -> str:
            return ", ".join(f"{v:.5f}±{e:.5f}" for v, e in
                             zip(np.ravel(values), np.ravel(errors), strict=True))

        lines = [self.spec.describe(),
                 f"two-step closed form ({self.curvature} curvature), {self.blocks} × "
                 f"{self.samples} {self.sampler} draws, "
                 f"{self.wall_time_s:.2f} s"]
        for t in (1, 2):
            for j in range(self.spec.p):
                lines.append(f"  M^{t}_{j + 1}· = ({pm(self.M[t, j], self.M_error[t, j])})")
        lines.append(f"  Q¹ = [{pm(self.Q[1], self.Q_error[1])}] (row-major)")
        for t in (0, 1):
            lines.append(f"  t = {t}: train risk {pm(self.train_risk[t], self.train_risk_error[t])}"
                         f", test risk {pm(self.test_risk[t], self.test_risk_error[t])}")
        return "\n".join(lines)



def two_step(spec: FullBatchGD, *, init=None, samples: int = 2**18, blocks: int = 16,
             sampler: str = "sobol", seed: int = 0, curvature: str = "exact"
             ) -> TwoStepTheory:
    """Steps 1 and 2 of full-batch GD as d → ∞ (module docstring), by Monte Carlo.

    Args:
        spec: the spec.
        init: ``(M⁰, Q⁰)`` (default ``(0, I)``: a random start as d → ∞).
        samples: draws per block (a power of two ≥ 2⁸ for ``"sobol"``).
        blocks: independent blocks (≥ 2; the error is their standard error).
        sampler: ``"sobol"`` (scrambled Sobol, randomised QMC) or ``"normal"``.
        seed: the seed of every draw.
        curvature: ``"exact"`` (the derivation above), or ``"gauss-newton"``: the λ-block
            of the drift replaced by ``−E[(c_p a∘σ'(λ))(c_p a∘σ'(λ))ᵀ]`` (mse; 0 for the
            correlation loss), the Hessian without its ``e σ''`` term, as the authors'
            DMFT code has it — for reproducing their numbers (it drops the ``δ(λ)`` part
            of a ReLU's σ'', which moves the training fields after one step).

    Raises:
        ConfigError: samples, blocks or sampler out of range (named).
        CovarianceError: init is not a valid overlap state with P.
    """
    samples, blocks = check_monte_carlo(samples, blocks, sampler, curvature)
    check_memory(8.0 * samples * (4 * spec.p + 2 * spec.k + 2) * 3,
                 f"two_step with {samples} draws per block", "lower samples, raise blocks")
    M0, Q0 = initial_overlaps(spec, init)
    omega = np.block([[Q0, M0], [M0.T, spec.target.gram]])
    check_overlaps(M0, Q0, spec.target.gram, what="the initial overlaps (M⁰, Q⁰)")
    kernels = GradientKernels(spec)
    rng = np.random.default_rng([seed, 14])
    start = time.perf_counter()
    estimates = [_block(spec, kernels, M0, Q0, omega, samples, sampler, rng, curvature)
                 for _ in range(blocks)]
    wall = time.perf_counter() - start
    mean, error = block_statistics(estimates)
    return TwoStepTheory(
        spec, (M0, Q0), mean["M"], error["M"], mean["Q"], error["Q"], mean["train_risk"],
        error["train_risk"], mean["test_risk"], error["test_risk"], mean["noise_covariance"],
        mean["drift"], samples=samples, blocks=blocks, sampler=sampler, seed=seed,
        curvature=curvature, wall_time_s=wall)


def check_monte_carlo(samples, blocks, sampler: str, curvature: str) -> tuple[int, int]:
    """The Monte Carlo settings of :func:`two_step` and :func:`~overlapdyn.reuse.dmft.solve_dmft`
    checked: ``(samples, blocks)`` as integers.

    Raises:
        ConfigError: a curvature or sampler not known, samples below 256 (or not a power of
            two for ``"sobol"``), fewer than two blocks.
    """
    if curvature not in CURVATURES:
        raise ConfigError(f"curvature must be one of {CURVATURES}, got {curvature!r}")
    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    samples = check_integer(samples, "samples", 256)
    if sampler == "sobol" and samples & (samples - 1):
        raise ConfigError(f"samples = {samples} must be a power of two for the Sobol sampler "
                          f"(e.g. {1 << samples.bit_length()}), or use sampler = 'normal'")
    return samples, check_integer(blocks, "blocks", 2)


def block_statistics(estimates: list[dict]) -> tuple[dict, dict]:
    """The mean over independent blocks of each array of ``estimates`` (one dict per block,
    the same keys) and its standard error (std with ddof = 1, over √blocks)."""
    blocks = len(estimates)
    mean = {key: np.mean([e[key] for e in estimates], axis=0) for key in estimates[0]}
    error = {key: np.std([e[key] for e in estimates], axis=0, ddof=1) / np.sqrt(blocks)
             for key in estimates[0]}
    return mean, error


def standard_normals(sampler: str, rng: np.random.Generator, samples: int, dim: int
                     ) -> np.ndarray:
    """(samples, dim) standard normals: scrambled Sobol points mapped by Φ⁻¹, or pseudo-random."""
    if sampler == "normal":
        return rng.standard_normal((samples, dim))
    points = qmc.Sobol(dim, scramble=True, seed=rng).random_base2(int(samples).bit_length() - 1)
    return scipy.special.ndtri(np.clip(points, 1e-300, None))


def _gauss_newton(spec: FullBatchGD, kernels: GradientKernels, lam: np.ndarray,
                  y: np.ndarray, samples: int) -> np.ndarray:
    """``−E[(c_p a∘σ'(λ))(c_p a∘σ'(λ))ᵀ]`` (p, p) for the mse loss (0 for correlation):
    ``c_p a∘σ'(λ)`` is G at unit error, i.e. at the labels ``y − e + 1``."""
    if spec.loss != "mse":
        return np.zeros((spec.p, spec.p))
    _, e, _ = kernels.gradients(lam, y)
    unit, _, _ = kernels.gradients(lam, y - e + 1.0)
    return -unit.T @ unit / samples


def _block(spec: FullBatchGD, kernels: GradientKernels, M0: np.ndarray, Q0: np.ndarray,
           omega: np.ndarray, samples: int, sampler: str, rng: np.random.Generator,
           curvature: str) -> dict:
    """One block's estimates of every quantity of :class:`TwoStepTheory`."""
    p, k, eta, alpha = spec.p, spec.k, spec.eta, spec.alpha
    shrink = 1.0 - eta * spec.ridge
    factor = gaussian_factor(omega)

    def fields(normals):
        phi = normals[:, :p + k] @ factor.T
        z = phi[:, p:]
        return phi, phi[:, :p], z, kernels.labels(z, normals[:, p + k])

    # step 1: moments of G⁰ on fresh fields
    phi, lam0, z, y = fields(standard_normals(sampler, rng, samples, p + k + 1))
    G0, _, residual2 = kernels.gradients(lam0, y)
    EGphi, EGG = G0.T @ phi / samples, G0.T @ G0 / samples
    drift = EGphi @ np.linalg.pinv(omega, hermitian=True)
    S = EGphi[:, :p]
    M1 = shrink * M0 + eta * EGphi[:, p:]
    Q1 = (shrink ** 2 * Q0 + eta * shrink * (S + S.T) + eta ** 2 * drift @ omega @ drift.T
          + eta ** 2 / alpha * EGG)
    if curvature == "gauss-newton":   # only the training fields' drift changes, not step 1
        drift[:, :p] = _gauss_newton(spec, kernels, lam0, y, samples)
    train0 = 0.5 * float(np.mean(residual2))

    # step 2: the training fields after one step, on independent draws
    normals = standard_normals(sampler, rng, samples, 2 * p + k + 1)
    phi, lam0, z, y = fields(normals)
    G0, _, _ = kernels.gradients(lam0, y)
    xi = normals[:, p + k + 1:] @ gaussian_factor(EGG / alpha).T
    lam1 = shrink * lam0 + (eta / alpha) * G0 + eta * phi @ drift.T + eta * xi
    G1, _, residual2 = kernels.gradients(lam1, y)
    M2 = shrink * M1 + eta * G1.T @ z / samples
    train1 = 0.5 * float(np.mean(residual2))

    # test risks: population risks of (M⁰, Q⁰) and (M¹, Q¹) on shared fresh draws
    normals = standard_normals(sampler, rng, samples, p + k)
    test = [population_risk(kernels, M, Q, normals) for M, Q in ((M0, Q0), (M1, Q1))]
    return {"M": np.stack([M0, M1, M2]), "Q": np.stack([Q0, Q1]),
            "train_risk": np.array([train0, train1]), "test_risk": np.array(test),
            "noise_covariance": EGG / alpha, "drift": drift}
