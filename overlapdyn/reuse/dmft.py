r"""The dynamical mean-field theory (DMFT) of full-batch GD on ``n = αd`` reused samples.

The spec and the map onto the papers' convention are in :mod:`overlapdyn.reuse.config`; the
first two steps, which need no memory yet, in :mod:`overlapdyn.reuse.closed_form`. This module
extends them to ``T ≤`` :data:`MAX_DMFT_STEPS` steps. Symbols: ``s = 1 − ηλ_r``, ``lr = η/α``
(the papers' learning rate), ``G^t = G(λ^t, y)`` the per-sample gradient of SPEC.

**Reduction.** Split ``W = M P⁻¹ U + W⊥`` (``W⊥ Uᵀ = 0``) and ``x = Uᵀ P⁻¹ z/√d + x⊥``. The
training field of sample μ is ``λ^t_μ = M^t P⁻¹ z_μ + h^t_μ``, ``h^t_μ = W⊥^t x⊥_μ/√d``, and the
update splits exactly into

    M^{t+1} = s M^t + (η/n) Σ_μ G^t_μ z_μᵀ,     W⊥^{t+1} = s W⊥^t + (η√d/n) Σ_μ G^t_μ x⊥_μᵀ.

The second is a first-order method on the Gaussian matrix ``A = X⊥/√d`` (entries of variance
1/d, n = αd rows), ``Θ^{t+1} = sΘ^t + lr Aᵀ G^t`` with ``Θ = W⊥ᵀ`` and ``h^t = AΘ^t``: the
setting of the DMFT of Celentano, Cheng & Montanari (2021) and Gerbelot, Troiani, Mignacco,
Krzakala & Zdeborová (2022). Its cavity argument, with a p-vector per coordinate and per
sample, gives two effective processes coupled through four kernels.

**Sample side** (one training sample; ``w`` a centred Gaussian process independent of
``(z, y)``, with covariance ``C_w(t, τ) = E[θ^t θ^τᵀ]``):

    λ^t = M^t P⁻¹ z + h^t,   h^t = w^t + lr Σ_{τ<t} Φ(t, τ+1) G(λ^τ, y).

The memory term is the sample's own past gradients fed back through the weights
(``lr Φ(t, τ+1) = ∂θ^t/∂ξ^τ``); at t = 1 it is the closed form's self term ``(η/α) G⁰``.

**Weight side** (one coordinate of ``W⊥``, linear because the readout is fixed and the
penalty a ridge):

    θ^{t+1} = s θ^t + lr (ξ^t + Σ_{τ≤t} R(t, τ) θ^τ),    θ⁰ ~ N(0, Q⁰ − M⁰P⁻¹M⁰ᵀ),

with ``ξ`` a centred Gaussian process, independent of θ⁰, of covariance ``C``. It is solved in
closed form: with the propagator ``Φ(r, r) = I``, ``Φ(t+1, r) = sΦ(t, r) + lr Σ_{τ=r}^{t}
R(t, τ) Φ(τ, r)``, ``θ^t = Φ(t, 0) θ⁰ + lr Σ_{τ<t} Φ(t, τ+1) ξ^τ`` and

    C_w(t, t') = Φ(t, 0) C_w(0, 0) Φ(t', 0)ᵀ + lr² Σ_{τ<t, τ'<t'} Φ(t, τ+1) C(τ, τ') Φ(t', τ'+1)ᵀ.

**Self-consistency** (expectations over the sample side):

    C(t, τ) = α E[G^t G^τᵀ],     R(t, τ) = α E[∂G^t/∂w^τ],     M^{t+1} = s M^t + η E[G^t zᵀ],
    Q^t = M^t P⁻¹ M^tᵀ + C_w(t, t).

The response ``R`` is the derivative of the sample's gradient at t with respect to a shift
of its Gaussian field at τ ≤ t, carried along the path (through the memory term). By Stein's
lemma ``E[G^t w_{0:t}ᵀ] = Σ_τ' E[∂G^t/∂w^τ'] C_w(τ', ·)``, so with ``w_{0:t} = L n`` (L the
lower Cholesky factor of ``C_w`` up to t, n standard normals) ``R(t, ·) = α E[G^t nᵀ] L⁻¹``:
``curvature = "exact"`` uses this, which never differentiates, so it keeps the ``δ(λ)`` of a
ReLU's σ'' (as :func:`~overlapdyn.reuse.closed_form.two_step` does). ``curvature =
"gauss-newton"`` differentiates along the path with the Hessian of the loss replaced by its
Gauss–Newton part ``(c_p a∘σ')(c_p a∘σ')ᵀ`` (zero for the correlation loss), as the authors'
code does; for a student with σ'' = 0 (linear) the two coincide.

**Causality.** Everything at step t needs the kernels at times < t only: ``C_w`` up to t and
Φ up to t come from ``C`` and ``R`` up to t − 1, the fields at t from them, and then ``C(t, ·)``,
``R(t, ·)`` and ``M^{t+1}`` from the fields. So the equations are solved once, step by step,
with no fixed-point iteration: nothing to converge. The samples of the process are extended
from step to step (the Gaussian field's Cholesky factor grows by a block row).

**The papers' form.** With ``h = w + v`` and w obeying the weight side's recursion too, v
(the memory term) obeys ``v^{t+1} = s v^t + lr (G^t + Σ_{τ≤t} R(t, τ) v^τ)``, so the sample
alone follows ``h^{t+1} = s h^t + lr (G^t + ξ'^t + Σ_{τ≤t} R(t, τ) h^τ)``, ``ξ'`` a Gaussian
process of covariance C. That is the authors' ``h^{t+1} = h^t + lr(G^t − Λ^t h^t + Σ_{τ<t}
R(t, τ) h^τ + ξ^t)``: their C and R (τ < t) are these, ``Λ^t = −R(t, t) + αλ_r``
(:meth:`~overlapdyn.reuse.dmft.DMFTSolution.papers`), and their response — ``R(t, τ) =
α E[H^t mp(t, τ)]`` with ``mp = −∂v/∂w`` carried along the path — is this module's
Gauss–Newton one.

**Numerics.** Each of ``blocks`` independent blocks solves the whole DMFT with its own
``samples`` draws (scrambled Sobol or pseudo-random normals, one dimension per time and
neuron, plus z and the label noise); the compiled ``effective_step``
(``compile/templates/reuse_dmft.py``) advances all samples of a block by one step, the moments
are BLAS. The estimate is the mean over blocks and the error the standard error over blocks,
so the error of early kernels propagated into later steps is in it. Cost ``O(samples · T ·
p²)`` per step (Gauss–Newton: ``O(samples · T² · p²)``), memory ``O(samples · T · p)`` per
block (Gauss–Newton: ``O(samples · T² · p)``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..errors import DMFTError
from ..model.checks import check_memory
from ..ode.state import check_overlaps
from ..storage.results import Result
from .closed_form import (
    MonteCarloArchive,
    block_statistics,
    check_monte_carlo,
    standard_normals,
)
from .config import FullBatchGD, check_steps
from .kernels import GradientKernels, gaussian_factor, model_module, population_risk
from .simulator import initial_overlaps

__all__ = ["MAX_DMFT_STEPS", "DMFTSolution", "solve_dmft"]

#: the most GD steps the DMFT solves — the Monte Carlo error of the kernels accumulates
#: step after step (each step's fields depend on all earlier kernels), and the multi-pass
#: regime of interest (the papers' figures) is a handful of steps
MAX_DMFT_STEPS = 10

# bump when the assembly of the compiled module changes (the template itself is hashed)
_DMFT_VERSION = 1
# the chunks of the compiled Monte Carlo sums, run in parallel (a fixed number, so the sums
# do not depend on the threads)
_CHUNKS = 64
# relative size of the smallest new noise variance below which Stein's lemma cannot give
# the response (the Gaussian field is a deterministic function of its past in some direction)
_DEGENERATE = 1e-10


@dataclass(frozen=True)
class DMFTSolution(MonteCarloArchive, Result):
    """The DMFT of full-batch GD, steps 0..T (module docstring), with Monte Carlo errors.

    Attributes:
        spec: the :class:`~overlapdyn.reuse.config.FullBatchGD` spec.
        init: ``(M⁰, Q⁰)``.
        M: ``M^t``, shape (T+1, p, k); ``M_error`` its standard error over blocks.
        M_error: the standard error of ``M``.
        Q: ``Q^t``, shape (T+1, p, p).
        Q_error: the standard error of ``Q``.
        train_risk: ``½E[(y − ŷ(λ^t))²]`` over the effective training sample, shape (T+1,).
        train_risk_error: its standard error.
        test_risk: the population risk at ``(M^t, Q^t)``, shape (T+1,).
        test_risk_error: its standard error.
        noise_covariance: ``C(t, τ) = α E[G^t G^τᵀ]``, shape (T+1, T+1, p, p), ``C(τ, t) =
            C(t, τ)ᵀ`` (the papers' C).
        noise_covariance_error: its standard error.
        response: ``R(t, τ) = α E[∂G^t/∂w^τ]`` for τ ≤ t (zero above the diagonal), shape
            (T+1, T+1, p, p); ``−R(t, t)`` is the papers' ``Λ^t`` without the ridge.
        response_error: its standard error.
        field_covariance: ``C_w(t, τ) = E[θ^t θ^τᵀ]``, the covariance of the Gaussian part
            of the fields (``W⊥^t W⊥^τᵀ/d``), shape (T+1, T+1, p, p).
        propagator: ``Φ(t, r)`` for r ≤ t (zero above), shape (T+1, T+1, p, p).
        samples: Monte Carlo draws per block.
        blocks: independent blocks (each a whole DMFT solution).
        sampler: ``"sobol"`` or ``"normal"``.
        seed: the seed of the draws.
        curvature: ``"exact"`` (Stein's lemma) or ``"gauss-newton"`` (the authors' code).
        wall_time_s: the wall time (compilation excluded).
    """

    FORMAT = "overlapdyn.DMFTSolution"
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
    noise_covariance_error: np.ndarray
    response: np.ndarray
    response_error: np.ndarray
    field_covariance: np.ndarray
    propagator: np.ndarray
    samples: int
    blocks: int
    sampler: str
    seed: int
    curvature: str = "exact"
    wall_time_s: float = 0.0

    _ARRAYS = ("M", "M_error", "Q", "Q_error", "train_risk", "train_risk_error", "test_risk",
               "test_risk_error", "noise_covariance", "noise_covariance_error", "response",
               "response_error", "field_covariance", "propagator")

    @property
    def steps(self) -> int:
        """T, the GD steps solved (the arrays hold T + 1 states)."""
        return self.M.shape[0] - 1

    @property
    def memory(self) -> np.ndarray:
        """The sample side's memory kernel ``lr Φ(t, τ+1)`` for τ < t (zero elsewhere): the
        weight of the sample's own gradient ``G^τ`` in its field ``h^t``; (T+1, T+1, p, p)."""
        memory = np.zeros_like(self.propagator)
        for t in range(1, self.steps + 1):
            memory[t, :t] = self.spec.lr * self.propagator[t, 1:t + 1]
        return memory

    def papers(self) -> dict[str, np.ndarray]:
        """The solution in the authors' convention (``IdePHICS/benefit-reusing-batch``,
        ``dmft.py``): ``m`` = M (T+1, p, k) (their files keep t < T), ``C`` = the noise
        covariance (T+1, T+1, p, p), ``R`` = the response below the diagonal (their memory
        kernel, which acts on the past fields h^τ, τ < t) and ``lambda_eff`` =
        ``−R(t, t) + αλ_r I`` (T+1, p, p) (their ``α E[∇²ℓ] + λ``)."""
        T = self.steps
        below = np.tril(np.ones((T + 1, T + 1)), -1)[:, :, None, None]
        diagonal = self.response[np.arange(T + 1), np.arange(T + 1)]
        return {"m": self.M.copy(), "C": self.noise_covariance.copy(),
                "R": self.response * below,
                "lambda_eff": -diagonal + self.spec.alpha * self.spec.ridge * np.eye(self.spec.p)}

    def describe(self) -> str:
        """The spec, then per step M (every neuron), the diagonal of Q and both risks, each
        ± its standard error."""
        def pm(values, errors) -> str:
            return ", ".join(f"{v:.5f}±{e:.5f}" for v, e in
                             zip(np.ravel(values), np.ravel(errors), strict=True))

        lines = [self.spec.describe(),
                 f"DMFT to T = {self.steps} ({self.curvature} curvature), {self.blocks} × "
                 f"{self.samples} {self.sampler} draws per step, {self.wall_time_s:.2f} s"]
        for t in range(self.steps + 1):
            lines.append(f"  t = {t}: train risk "
                         f"{pm(self.train_risk[t], self.train_risk_error[t])}, test risk "
                         f"{pm(self.test_risk[t], self.test_risk_error[t])}, Q_jj = "
                         f"({pm(np.diag(self.Q[t]), np.diag(self.Q_error[t]))})")
            for j in range(self.spec.p):
                lines.append(f"    M^{t}_{j + 1}· = ({pm(self.M[t, j], self.M_error[t, j])})")
        return "\n".join(lines)



def solve_dmft(spec: FullBatchGD, steps: int, *, init=None, samples: int = 2**16,
               blocks: int = 16, sampler: str = "sobol", seed: int = 0,
               curvature: str = "exact") -> DMFTSolution:
    """Solve the DMFT of full-batch GD for T steps (module docstring), by Monte Carlo.

    Args:
        spec: the spec (fixed readout; any target, student activation and loss).
        steps: T, 1 ≤ T ≤ :data:`MAX_DMFT_STEPS`.
        init: ``(M⁰, Q⁰)`` (default ``(0, I)``: a random start as d → ∞).
        samples: draws per block and step (a power of two ≥ 2⁸ for ``"sobol"``); the
            default 2¹⁶ × 16 blocks is about 10⁶ samples per step.
        blocks: independent blocks (≥ 2), each a whole solution; the error is their standard
            error.
        sampler: ``"sobol"`` (scrambled Sobol, randomised QMC) or ``"normal"``.
        seed: the seed of every draw.
        curvature: ``"exact"`` (the response by Stein's lemma: exact for any activation,
            kinks included) or ``"gauss-newton"`` (the response along the path with the
            Gauss–Newton Hessian, as the authors' code: drops the ``e σ''`` term).

    Raises:
        ConfigError: T, samples, blocks, sampler, curvature or init out of range (named).
        CovarianceError: init is not a valid overlap state with P.
        DMFTError: the effective process diverged (non-finite fields or kernels: η too
            large), or, with ``curvature = "exact"``, its Gaussian field got no new noise in
            some direction (Stein's lemma cannot give the response there).
        ResourceError: a block's arrays would need more than half the machine's memory.
    """
    steps = check_steps(steps, MAX_DMFT_STEPS,
                        ": the DMFT's Monte Carlo error grows with every step; use "
                        "simulate_gd for longer runs")
    samples, blocks = check_monte_carlo(samples, blocks, sampler, curvature)
    M0, Q0 = initial_overlaps(spec, init)
    check_overlaps(M0, Q0, spec.target.gram, what="the initial overlaps (M⁰, Q⁰)")
    p, k, T1 = spec.p, spec.k, steps + 1
    pathwise = curvature == "gauss-newton" and spec.loss == "mse"
    # per sample: the normals (×3 while Sobol points are mapped), the test normals (×3),
    # z and y, the histories G and v, and the path response u (Gauss–Newton)
    per_sample = (3 * (T1 * p + k + 1) + 3 * (p + k) + k + 1 + 2 * T1 * p
                  + (T1 * T1 * p if pathwise else 0))
    check_memory(8.0 * samples * per_sample,
                 f"solve_dmft with {samples} draws per block and T = {steps}",
                 "lower samples, raise blocks")
    kernels = GradientKernels(spec)
    compiled = model_module(spec.student, spec.target, "reuse_dmft",
                            "the DMFT's effective sample of full-batch GD", _DMFT_VERSION,
                            ("effective_step",))
    rng = np.random.default_rng([seed, 14, 4])
    start = time.perf_counter()
    estimates = []
    for _ in range(blocks):
        normals = standard_normals(sampler, rng, samples, T1 * p + k + 1)
        test_normals = standard_normals(sampler, rng, samples, p + k)
        # a diverging process overflows on its way to the check that names it
        with np.errstate(over="ignore", invalid="ignore"):
            estimates.append(_solve_block(spec, kernels, compiled, steps, M0, Q0, normals,
                                          test_normals, curvature, pathwise))
    wall = time.perf_counter() - start
    mean, error = block_statistics(estimates)
    return DMFTSolution(
        spec, (M0, Q0), mean["M"], error["M"], mean["Q"], error["Q"], mean["train_risk"],
        error["train_risk"], mean["test_risk"], error["test_risk"], mean["C"], error["C"],
        mean["R"], error["R"], mean["C_w"], mean["Phi"], samples=samples, blocks=blocks,
        sampler=sampler, seed=seed, curvature=curvature, wall_time_s=wall)


def _solve_block(spec: FullBatchGD, kernels: GradientKernels, compiled, steps: int,
                 M0: np.ndarray, Q0: np.ndarray, normals: np.ndarray, test_normals: np.ndarray,
                 curvature: str, pathwise: bool) -> dict:
    """One block's whole DMFT solution from its normals (N, (T+1)p + k + 1): the standard
    normals n^t of the Gaussian field per step, then z's and the label noise's."""
    p, k, T, N = spec.p, spec.k, steps, normals.shape[0]
    eta, alpha, lr = spec.eta, spec.alpha, spec.lr
    shrink = 1.0 - eta * spec.ridge
    P = spec.target.gram
    P_inv = np.linalg.inv(P)
    # z = n_z Fᵀ by broadcasting, not BLAS (k is small; see the template on BLAS threads)
    factor_P = gaussian_factor(P)
    z_normals = normals[:, (T + 1) * p:(T + 1) * p + k]
    z = np.ascontiguousarray((z_normals[:, None, :] * factor_P[None, :, :]).sum(axis=2))
    y = kernels.labels(z, normals[:, -1])
    a = np.array(spec.student.a, dtype=float)
    stein = curvature == "exact"

    shape = (T + 1, T + 1, p, p)
    C, R, C_w, Phi = np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape)
    M, Q = np.zeros((T + 1, p, k)), np.zeros((T + 1, p, p))
    train, test = np.zeros(T + 1), np.zeros(T + 1)
    L = np.zeros(((T + 1) * p, (T + 1) * p))      # lower Cholesky factor of C_w, by blocks
    M[0], Q[0], Phi[0, 0] = M0, Q0, np.eye(p)
    C_w[0, 0] = Q0 - M0 @ P_inv @ M0.T
    L[:p, :p] = _new_noise_factor(C_w[0, 0], 0, curvature)
    G, v = np.zeros((N, T + 1, p)), np.zeros((N, T + 1, p))
    u = np.zeros((N, T + 1, T + 1, p) if pathwise else (1, 1, 1, p))
    for t in range(T + 1):
        width = (t + 1) * p
        partial = np.zeros((_CHUNKS, 1 + p * k + 2 * p * width))
        compiled.effective_step(t, normals, np.ascontiguousarray(L[t * p:width, :width]),
                                M[t] @ P_inv, np.ascontiguousarray(lr * Phi[t, 1:t + 1]), z, y,
                                a, spec.student.c_p, spec.loss == "mse", stein, pathwise, G, v,
                                u, partial)
        sums = partial.sum(axis=0) / N
        train[t] = 0.5 * sums[0]
        EGz = sums[1:1 + p * k].reshape(p, k)
        C[t, :t + 1] = _by_time(alpha * sums[1 + p * k:1 + p * k + p * width].reshape(p, width),
                                t)
        C[:t + 1, t] = np.swapaxes(C[t, :t + 1], -1, -2)
        moment = sums[1 + p * k + p * width:].reshape(p, width)
        if stein:
            # E[G^t nᵀ] = E[∂G^t/∂w] L, so E[∂G^t/∂w] = E[G^t nᵀ] L⁻¹ (a general solve:
            # scipy's triangular one costs 10⁴ times more at this size, 15 ms a call)
            derivative = np.linalg.solve(L[:width, :width].T, moment.T).T
            R[t, :t + 1] = _by_time(alpha * derivative, t)
        elif pathwise:
            R[t, :t + 1] = _by_time(-alpha * moment, t)
        if not (np.isfinite(train[t]) and np.all(np.isfinite(C[t]))
                and np.all(np.isfinite(R[t]))):
            raise DMFTError(f"the effective process diverged at step t = {t}: non-finite "
                            f"gradients or kernels (η = {spec.eta:g}); lower eta", step=t)
        test[t] = population_risk(kernels, M[t], Q[t], test_normals)
        if t == T:
            break
        M[t + 1] = shrink * M[t] + eta * EGz
        _advance_weights(t, shrink, lr, C, R, C_w, Phi)
        Q[t + 1] = M[t + 1] @ P_inv @ M[t + 1].T + C_w[t + 1, t + 1]
        if not (np.all(np.isfinite(C_w[t + 1])) and np.all(np.isfinite(M[t + 1]))):
            raise DMFTError(f"the effective process diverged at step t = {t + 1}: non-finite "
                            f"overlaps (η = {spec.eta:g}); lower eta", step=t + 1)
        _extend_factor(L, C_w, t + 1, p, curvature)
    return {"M": M, "Q": Q, "train_risk": train, "test_risk": test, "C": C, "R": R,
            "C_w": C_w, "Phi": Phi}


def _by_time(blocks: np.ndarray, t: int) -> np.ndarray:
    """(p, (t+1)p) → (t+1, p, p): the column block τ as the τ-th matrix."""
    p = blocks.shape[0]
    return blocks.reshape(p, t + 1, p).transpose(1, 0, 2)


def _advance_weights(t: int, shrink: float, lr: float, C: np.ndarray, R: np.ndarray,
                     C_w: np.ndarray, Phi: np.ndarray) -> None:
    """The weight side's closed form from step t to t + 1: the propagator ``Φ(t+1, ·)`` and
    the field covariance ``C_w(t+1, ·)`` (module docstring), from C and R up to t."""
    p = C.shape[-1]
    Phi[t + 1, t + 1] = np.eye(p)
    for r in range(t + 1):
        Phi[t + 1, r] = shrink * Phi[t, r] + lr * sum(R[t, tau] @ Phi[tau, r]
                                                      for tau in range(r, t + 1))
    for t2 in range(t + 2):
        value = Phi[t + 1, 0] @ C_w[0, 0] @ Phi[t2, 0].T
        for tau in range(t + 1):
            for tau2 in range(t2):
                value += lr ** 2 * Phi[t + 1, tau + 1] @ C[tau, tau2] @ Phi[t2, tau2 + 1].T
        C_w[t + 1, t2] = value
        C_w[t2, t + 1] = value.T
    C_w[t + 1, t + 1] = (C_w[t + 1, t + 1] + C_w[t + 1, t + 1].T) / 2


def _new_noise_factor(schur: np.ndarray, t: int, curvature: str) -> np.ndarray:
    """A factor of the new noise of the Gaussian field at step t (its covariance given the
    past, the Schur complement): Cholesky, or for ``"gauss-newton"`` the eigen-factor when it
    is singular. Stein's lemma (``"exact"``) needs it non-singular."""
    schur = (schur + schur.T) / 2
    values = np.linalg.eigvalsh(schur)
    scale = max(1.0, float(np.max(np.abs(values))))
    if curvature == "exact" and not values[0] > _DEGENERATE * scale:
        raise DMFTError(
            f"the Gaussian field of the effective sample gets no new noise at step t = {t} in "
            f"some direction (smallest eigenvalue {values[0]:.3g} of its covariance given the "
            "past): a neuron without gradient (a zero readout a_j), gradients that do not "
            "depend on the fields (a linear student under the correlation loss) or a start "
            "with Q⁰ − M⁰P⁻¹M⁰ᵀ singular. Stein's lemma cannot give the exact response "
            "there: use curvature = 'gauss-newton' (exact for a student with σ'' = 0), or "
            "drop the neuron", step=t)
    return gaussian_factor(schur)


def _extend_factor(L: np.ndarray, C_w: np.ndarray, t: int, p: int, curvature: str) -> None:
    """Add block row t to the lower Cholesky factor L of the field covariance: the rows
    before it are unchanged (causality), so the samples drawn so far keep their fields."""
    past = slice(0, t * p)
    row = np.concatenate([C_w[t, tau] for tau in range(t)], axis=1)        # (p, t p)
    # least squares, not a triangular solve: with "gauss-newton" a block of L may be a
    # singular eigen-factor, and then the row's part along the missing noise is zero anyway
    below = np.linalg.lstsq(L[past, past], row.T, rcond=None)[0].T
    L[t * p:(t + 1) * p, past] = below
    L[t * p:(t + 1) * p, t * p:(t + 1) * p] = _new_noise_factor(
        C_w[t, t] - below @ below.T, t, curvature)
