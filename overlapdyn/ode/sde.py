r"""The overlap SDE: finite-d one-pass SGD as its ODE plus an O(1/d) diffusion.

**The step.** SPEC's plain SGD (``n_b`` fresh samples, ``G_j = c_p a_j e σ'(λ_j)``)::

    w_j ← w_j + (η/√d)(1/n_b) Σ_μ G_jμ x_μ − (ηω/d) w_j,
    a_j ← a_j + (η_a/d)(1/n_b) Σ_μ c_p e_μ σ(λ_jμ).

Project on the teacher (``z_r = u_r·x/√d``) and on the students (``λ_l = w_l·x/√d``) and use
``‖x_μ‖²/d = 1 + O(d^{−1/2})``, ``x_μ·x_ν/d = O(d^{−1/2})`` (μ ≠ ν): one step moves the
overlaps ``X = (M, Q, a)`` by::

    ΔX = (1/d) [ b(X) + ζ ] + O(d^{−3/2}),    ζ = (1/n_b) Σ_μ (Ψ(φ_μ) − E Ψ),

with the per-sample vector (``φ = (λ, z) ~ N(0, Ω)``, ``Ω = [[Q, M], [Mᵀ, P]]``, and the label
noise ξ inside ``e``)::

    Ψ_{M_jr} = η G_j z_r,
    Ψ_{Q_jl} = η (G_j λ_l + G_l λ_j) + (η²/n_b) G_j G_l,
    Ψ_{a_j}  = η_a c_p e σ(λ_j),

whose mean (minus weight decay) is the drift ``b`` of SPEC's ODEs, and whose covariance
gives the step's noise::

    C(X) = Cov ζ = (1/n_b) Cov_φ Ψ(φ)          (E[ΨΨᵀ]: fourth moments of G and the fields).

The neglected parts are a mean of O(d^{−2}) per step (the large-batch term
``E[Gφ]ᵀ Ω⁻¹ E[Gφ]``, ``‖x‖²/d`` correlated with the fields), which shifts the drift by O(1/d),
and fluctuations of O(d^{−3/2}) per step.

**The SDE.** With ``t = steps/d``, a time ``dt`` holds ``d·dt`` independent steps: their sum
has mean ``b dt`` and covariance ``d·dt·C/d² = C dt/d``, so (central limit theorem over the
steps)::

    dX = b(X) dt + √(C(X)/d) dW,      C = (1/n_b) Cov_φ Ψ,  Ψ ∝ (η, η²/n_b, η_a) as above,

W a standard Brownian motion on the reduced coordinates (M, the upper triangle of Q, a; a
Q_jl increment moves Q_lj equally). The label noise Δ enters through ``e = g(z) + √Δ ξ − ŷ``
in G (mse) or ``e = y`` (correlation loss). For η → 0 at fixed η²/n_b … the diffusion is
``O(η²/(n_b d))``: it matters where the drift vanishes — at a symmetric start (``M₀ = 0`` of
a target of information exponent ≥ 2, a committee's saddle) the ODE stays, while SGD leaves
by this noise. Its first-order (linear-noise) content is that of Ben Arous, Gheissari &
Jagannath (2022), "effective dynamics" with a diffusive correction; Arnaboldi, Krzakala,
Loureiro & Stephan (2023) write the same O(1/√d) noise for the overlaps of two-layer
networks.

**Spherical SGD.** The step is followed by ``w_j ← √d w_j/‖w_j‖``; with ``Q_jj = 1``,
``‖w_j‖²/d = 1 + (2A_j + B_j)/d`` where ``A_j = η(1/n_b)Σ_μ G_jμ λ_jμ`` and
``B_j = (η²/n_b²)Σ_μ G_jμ²``, so at the same order the renormalisation subtracts
``M_jr s_j`` from ``Ψ_{M_jr}`` and ``Q_jl (s_j + s_l)`` from ``Ψ_{Q_jl}`` (j < l), with the
per-sample share ``s_j = η G_j λ_j + (η²/2n_b) G_j²``; its mean gives SPEC's spherical
ODE. ``Q_jj`` has no noise and no coordinate. Terms of the renormalisation of second order
in the step (``A_j²/d²``) shift the drift by O(1/d) and are neglected like the others.

**The diffusion, numerically.** C is computed by a compiled tensor Gauss–Hermite cubature
over the p + k standard fields (``(λ, z) = A ζ``, ``A Aᵀ = Ω`` a semi-definite Cholesky
factor) and three nodes for ξ (ΨΨᵀ is of degree ≤ 4 in ξ), with σ, σ' and g the model's own
compiled functions (those of the simulator,
:func:`~overlapdyn.compile.pointwise.model_functions`). Why a cubature and not the exact
engine: one compiled integrand serves every activation and target (He_k, erf, tanh, relu, any
multi-index g), at no extra SymPy or Numba cost per model; for polynomial σ and g it *is*
exact once the rule has ``2·deg G + 1`` nodes per direction (:func:`diffusion_nodes` chooses
that), and for smooth non-polynomial ones it converges geometrically. It is checked in the
tests against the empirical covariance of single SGD steps at fixed weights. Its cost is
``nodes^(p+k)`` integrand calls per evaluation: cheap for p = k = 1 (7² nodes for He2), heavy
beyond p + k = 4.

**The sampled noise (the default).** The cubature's ``nodes^(p+k)`` integrand calls per
path and step (2401 for a He2 committee p = k = 2, 4096 for an erf one) are replaced by
m fresh samples ``φ_i = (λ, z, ξ)_i`` (``(λ, z) = A ζ_i``, ζ_i, ξ_i standard normal from
the path's own stream) and the Euler–Maruyama step::

    X ← X + b dt + √(dt/d) · (n_b m)^(−1/2) Σ_{i ≤ m} (Ψ(φ_i) − E Ψ),

with ``E Ψ`` the drift's own expectation (``b`` plus the weight decay ``ηω M``,
``2ηω Q_jl``, which is no part of Ψ; spherical SGD has none). Given X the increment's mean is
``b dt`` and its covariance ``(dt/d)(1/n_b) Cov Ψ = C dt/d``, exactly, for every m ≥ 1 and
every σ, g (erf, relu: no cubature error either); only its higher cumulants differ from
the Gaussian step's, by O(1/m) relative to them (the third is ``κ₃(Ψ)(dt/(d n_b))^{3/2}/√m``).
Why that is enough: Euler–Maruyama's weak order 1 rests on moment conditions (Milstein's;
Kloeden & Platen 1992, ch. 14): the step's first three moments must match the Itô–Taylor
ones to ``O(dt²)``, its fourth be ``O(dt²)``. The first two match exactly. The third of
the Gaussian step is 0, of the sampled one ``O(dt^{3/2} d^{−3/2} m^{−1/2})`` — formally
not ``O(dt²)``: it adds a weak error ``O(dt^{1/2} d^{−3/2} m^{−1/2})`` per unit time, which
is of higher order in ``1/d`` than everything the SDE keeps and below the O(1/d) drift
corrections it neglects (the noise itself is O(d^{−1/2}); SGD's own third cumulant over a
time dt is ``O(dt d^{−2})``, the sampled step's is that times ``√(d·dt·n_b/m)``, the
Gaussian step's is 0). The fourth is ``(dt/d)² (3C² + κ₄(Ψ)/(n_b² m))``, ``O(dt²)``. Over
many steps the sum of increments is Gaussian by the central limit theorem whatever m is.
The measured effect (the guide, docs/guide/sde.md): escape times 1.5 % later than the
cubature's at d = 250 with m = 8, none resolved at d ≥ 1000.

Why the drift's ``E Ψ`` and not the samples' mean: ``Σ_i (Ψ_i − Ψ̄)`` vanishes identically,
so a sample-centred increment needs random multipliers, ``Σ_i g_i (Ψ_i − Ψ̄)/√(m − 1)``
(mean 0, covariance Cov Ψ as well, third moment 0); but then a rare large sample enters with
either sign, and the part ``(η²/n_b) G_j²`` of ``Ψ_{Q_jj}`` that keeps ``Q − M P⁻¹ Mᵀ ⪰ 0``
(the Itô correction of ``(ΔM)²``) can be turned negative. With unit weights each sample moves
X in the direction an SGD sample does, by ``√(d·dt·n_b/m)`` times as much (no more than one
SGD sample once ``m ≥ d·dt·n_b``), and the third cumulant is SGD's times that factor. The
price: the increment's mean is exact only as far as the compiled drift is ``E Ψ`` (exact
kernels: polynomial, erf, relu closed forms); a drift error ε would leave a mean
``ε √(m dt/(d n_b))`` per step.

The tails: a sample of Ψ is heavy-tailed (a polynomial of the fields), so, like SGD's own
samples and unlike the cubature's Gaussian kicks, a rare one throws a path far (a He2
neuron: ``Ψ_Q ≈ 200`` at ``|λ| ≈ 4``, a jump of Q by ≈ 0.8 at d = 250); where that lands the
path in the region where the drift diverges, the run stops with
:class:`~overlapdyn.errors.SDEStepError` (its message names ``samples`` and ``d·dt·n_b``).
Measured for the He2 neuron (mse, η = 0.1) from M₀ = 0.3 at d = 250 to t = 3, dt = 0.029
(``d·dt·n_b`` = 7.4), 20000 paths per m: 4 such paths at m = 2, 2 at m = 8, 1 at m = 16,
0 of 6000 with the cubature. Whether SGD at that d blows up at a comparable rate after the
same kind of sample was not measured. The cost is m integrand calls per path and step plus
the drift: about 3 µs per path-step at m = 8 for the He2 committee p = k = 2 (against
450–850 µs for its cubature).

**The scheme.** Euler–Maruyama: ``X ← X + b dt + √(dt/d) B ξ``, ``B Bᵀ = C``. It has weak order
1 and strong order ½ (the noise is multiplicative). What is compared with SGD is a
distribution (escape times, means and bands), so the weak order is what matters, and its
error ``O(dt)`` is controlled by ``dt·‖∂b/∂X‖`` like the drift's own Euler error; the noise is
``O(d^{−1/2})``, so a higher strong order would correct terms already below the ``O(1/d)``
drift corrections the SDE neglects. Paths run in parallel threads (``prange``), each with
its own splitmix64 stream seeded from ``(seed, path)``: results do not depend on the thread
count. The step is refused (:class:`~overlapdyn.errors.SDEStepError`) when ``dt·ρ(∂b/∂X)``
at the start exceeds :data:`DT_LIMIT`, and a path whose overlaps turn non-finite stops the
run with the same error.

**The boundary.** Overlaps of real weights keep ``Ω ⪰ 0``, i.e. ``S = Q − M P⁻¹ Mᵀ ⪰ 0``;
where the noise vanishes on that boundary (a perfectly learned neuron, ``λ = z``, ``e = 0``)
an Euler step can overshoot it, the square-root-diffusion problem of the CIR process. As the
"full truncation" scheme for CIR (Lord, Koekkoek & van Dijk 2010) does, a step that leaves
the set by less than :data:`LEAVE_LIMIT` (relative) has the negative eigenvalues of S set to
0 (``Q`` moves, ``M`` stays) — a change of the size of the overshoot, so of the scheme's
own error — and is counted (:attr:`SDEPaths.projections`); a larger crossing is a step too
large for the drift (:class:`~overlapdyn.errors.SDEStepError`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import sympy

from ..compile.cache import source_key
from ..compile.compiled import CompiledModel
from ..compile.linking import function_addresses, load_shared_module, quietly
from ..compile.pointwise import model_functions
from ..compile.render import template_digest
from ..derive.hermite import gauss_hermite_rule
from ..errors import ConfigError, SDEStepError
from ..model.activations import X as FIELD
from ..model.activations import activation as resolve_activation
from ..model.checks import check_dimension, check_integer, check_memory
from ..model.spec import Model, model_from_dict
from ..storage.results import Result
from ..storage.versions import __version__
from .state import check_overlaps, overlap_cosines

__all__ = ["ADMISSIBLE", "DT_FRACTION", "DT_LIMIT", "Diffusion", "LEAVE_LIMIT", "NOISES",
           "NONPOLYNOMIAL_NODES", "SAMPLES", "SDEPaths", "diffusion", "diffusion_nodes",
           "integrate_sde", "random_start_states", "reduced_labels", "sampled_noise"]

#: the largest ``dt·ρ(∂b/∂X)`` (ρ the spectral radius of the drift's Jacobian at the start)
#: accepted: Euler's weak error per unit time is then a few per cent of the drift's rate
DT_LIMIT = 0.5
#: the default step, as a fraction of 1/ρ(∂b/∂X) at the start
DT_FRACTION = 0.02
#: a state whose Ω has a pivot below −this × its largest diagonal entry has left the set
#: of Gram matrices (EM's Gaussian increments can cross the boundary by rounding-size amounts)
ADMISSIBLE = 1e-6
#: a step that takes the Schur complement ``Q − M P⁻¹ Mᵀ`` below −this × max Q_jj has left
#: the Gram-matrix set by more than the scheme's overshoot: the step is too large; smaller
#: crossings are projected back (full truncation)
LEAVE_LIMIT = 1e-2
#: Gauss–Hermite nodes per field direction for a non-polynomial σ or g, by p + k
NONPOLYNOMIAL_NODES = {1: 40, 2: 24, 3: 12, 4: 8}
#: the noise schemes of :func:`integrate_sde`: ``"sampled"`` (m fresh samples of the fields
#: per path and step, the default) and ``"cubature"`` (C by the Gauss–Hermite rule, factored)
NOISES = ("sampled", "cubature")
#: the default number m of field samples per path and step of the sampled noise
SAMPLES = 8

_SDE_VERSION = 2


def _sde_module():
    """The generated SDE loop (``templates/sde_loop.py``), one module for every model."""
    key = source_key(__version__, _SDE_VERSION, template_digest(), "sde loop")
    return load_shared_module(key, "the overlap SDE, for every model", ("sde_loop",),
                              required=("FUNCTION_NAMES", "FUNCTION_TYPES", "run",
                                        "covariance_at", "noise_at", "DRIFT_SIGNATURE"))


def _check_model(model: Model) -> None:
    if not model.protocol.terms.full:
        raise ConfigError(f"the SDE's noise is that of SGD's whole step, but {model.name} "
                          f"keeps only {list(model.protocol.terms.names)} of the drift "
                          "(protocol.terms): use protocol.terms = 'all'")


def reduced_labels(model: Model) -> tuple[str, ...]:
    """Names of the SDE's coordinates, in the order of :attr:`Diffusion.C`: ``M{j}{r}`` row
    by row, ``Q{j}{l}`` for j ≤ l (j < l for spherical SGD, which keeps Q_jj = 1),
    ``a{j}`` when the readout is trained (1-based)."""
    p, k, first = model.p, model.k, int(model.protocol.spherical)
    labels = [f"M{j + 1}{r + 1}" for j in range(p) for r in range(k)]
    labels += [f"Q{j + 1}{l + 1}" for j in range(p) for l in range(j + first, p)]
    if model.student.train_readout:
        labels += [f"a{j + 1}" for j in range(p)]
    return tuple(labels)


def _reduced_index(model: Model) -> np.ndarray:
    """Where each reduced coordinate sits in the packed state ``[M.ravel(), Q.ravel(), a]``."""
    p, k, first = model.p, model.k, int(model.protocol.spherical)
    index = list(range(p * k)) + [p * k + j * p + l for j in range(p)
                                  for l in range(j + first, p)]
    if model.student.train_readout:
        index += list(range(p * k + p * p, p * k + p * p + p))
    return np.array(index, dtype=np.int64)


def _degree(expr, symbols) -> int | None:
    """Total polynomial degree of ``expr`` in ``symbols``, None if it is no polynomial."""
    try:
        return int(sympy.Poly(sympy.expand(expr), *symbols).total_degree())
    except (sympy.PolynomialError, sympy.GeneratorsNeeded):
        return 0 if not expr.free_symbols & set(symbols) else None


def diffusion_nodes(model: Model) -> int:
    """Gauss–Hermite nodes per field direction that :func:`diffusion` uses by default.

    For polynomial σ and g the integrand ΨΨᵀ has degree ``4·deg G`` at most
    (``deg G = deg e + deg σ − 1``, ``deg e = max(deg g, deg σ)`` for mse, ``deg g`` for the
    correlation loss), which ``2·deg G + 1`` nodes integrate exactly; otherwise
    :data:`NONPOLYNOMIAL_NODES` by p + k (smooth integrands converge geometrically).
    """
    sigma = resolve_activation(model.student.activation).expr
    g = model.target.function()
    latent = sympy.symbols(model.target.latent_names)
    deg_sigma = None if sigma is None else _degree(sigma, (FIELD,))
    deg_g = _degree(g, latent)
    if deg_sigma is None or deg_g is None:
        return NONPOLYNOMIAL_NODES.get(model.p + model.k, 6)
    deg_e = max(deg_g, deg_sigma) if model.protocol.loss == "mse" else deg_g
    deg_G = max(deg_e + deg_sigma - 1, 1)
    return 2 * deg_G + 1


@dataclass(frozen=True)
class Diffusion:
    """The drift and the diffusion of the overlaps at one state (see the module docstring).

    Attributes:
        labels: the reduced coordinates (:func:`reduced_labels`), length n.
        drift: ``b`` on them, shape (n,): one SGD step moves their mean by ``b/d``.
        C: ``(1/n_b) Cov Ψ``, shape (n, n): one step's covariance is ``C/d²``, a time dt's
            ``C dt/d``.
        nodes: the Gauss–Hermite nodes per field direction used.
        pivot: the most negative pivot of Ω's factor relative to its diagonal (0: Ω ⪰ 0).
    """

    labels: tuple[str, ...]
    drift: np.ndarray
    C: np.ndarray
    nodes: int
    pivot: float

    def step_covariance(self, d: int) -> np.ndarray:
        """The covariance of one SGD step's increments at dimension d, ``C/d²`` (n, n)."""
        return self.C / float(d) ** 2


class _Loop:
    """The compiled pieces one model's SDE calls: the shared loop, the model's σ, σ', g
    (held, their addresses passed), the drift's address and arguments, the rules."""

    def __init__(self, model: Model, compiled: CompiledModel | None, nodes: int | None):
        _check_model(model)
        self.model = model
        self.compiled = compiled or CompiledModel(model)
        self.module = _sde_module()
        self.functions = model_functions(model)   # held while its code runs
        self.addresses = function_addresses(self.functions, self.module.FUNCTION_NAMES,
                                            self.module.FUNCTION_TYPES)
        address, kernels, arguments = self.compiled.drift_call()
        self.drift = (address, kernels, arguments)
        self.nodes = diffusion_nodes(model) if nodes is None else check_integer(
            nodes, "nodes", 1)
        xi, w = gauss_hermite_rule(self.nodes)
        self.rule = (np.ascontiguousarray(xi, float), np.ascontiguousarray(w, float))
        target = model.target
        if target.noise > 0:
            xi3, w3 = gauss_hermite_rule(3)
            self.noise_rule = (np.ascontiguousarray(xi3, float), np.ascontiguousarray(w3, float))
        else:
            self.noise_rule = (np.zeros(1), np.ones(1))
        self.noise_std = math.sqrt(target.noise)

    def covariance(self, y: np.ndarray) -> tuple[np.ndarray, float]:
        (p, k, c_p, _, P, _, mse, eta, inv_nb, _, spherical, train_a, eta_a, a_fixed,
         _) = self.drift[2]
        with quietly():
            return self.module.covariance_at(
                self.addresses, np.ascontiguousarray(y, float), p, k, c_p, P, self.noise_std,
                mse, eta, inv_nb, spherical, train_a, eta_a, a_fixed, *self.rule,
                *self.noise_rule)

    def noise_draws(self, y: np.ndarray, samples: int, stream: int, count: int) -> np.ndarray:
        (p, k, c_p, _, P, _, mse, eta, inv_nb, omega, spherical, train_a, eta_a, a_fixed,
         _) = self.drift[2]
        b = np.ascontiguousarray(self.compiled.rhs(0.0, y), float)
        with quietly():
            return self.module.noise_at(
                self.addresses, np.ascontiguousarray(y, float), b, p, k, c_p, P,
                self.noise_std, mse, eta, inv_nb, omega, spherical, train_a, eta_a, a_fixed,
                samples, np.uint64(stream), count)


def diffusion(model: Model, M, Q, a=None, *, nodes: int | None = None,
              compiled: CompiledModel | None = None) -> Diffusion:
    """Drift and diffusion of the overlaps at ``(M (p, k), Q (p, p), a (p,))``.

    Args:
        model: a plain-SGD model (not spherical; every drift term kept).
        M, Q, a: the state (``a`` only when the readout is trained; default its spec value).
        nodes: Gauss–Hermite nodes per field direction (default :func:`diffusion_nodes`).
        compiled: the model's compiled drift, if built.

    Raises:
        CovarianceError: (M, Q) is not a Gram block with P.
        ConfigError: spherical SGD, or drift terms switched off.
    """
    loop = _Loop(model, compiled, nodes)
    check_overlaps(np.asarray(M, float), np.asarray(Q, float), model.target.gram,
                   what="the state (M, Q)")
    y = loop.compiled.pack(M, Q, a)
    C, pivot = loop.covariance(y)
    drift = loop.compiled.rhs(0.0, y)[_reduced_index(model)]
    return Diffusion(reduced_labels(model), drift, C, loop.nodes, float(pivot))


def _check_samples(samples) -> int:
    return check_integer(samples, "samples", 1)


def sampled_noise(model: Model, M, Q, a=None, *, draws: int, samples: int = SAMPLES,
                  seed: int = 0, compiled: CompiledModel | None = None) -> np.ndarray:
    """Independent draws of the sampled noise at ``(M, Q[, a])``: what one Euler–Maruyama
    step of ``integrate_sde(..., noise="sampled")`` adds, divided by ``√(dt/d)``.

    Each draw is ``(n_b m)^(−1/2) Σ_{i ≤ m} (Ψ(φ_i) − E Ψ)`` with ``φ_i`` i.i.d. fields (and
    label noise) and ``E Ψ`` the drift plus its weight decay (the module docstring): its mean
    is 0 and its covariance :attr:`Diffusion.C`, exactly.

    Args:
        model: a plain-SGD or spherical model with every drift term kept.
        M, Q, a: the state, as :func:`diffusion`.
        draws: how many independent draws.
        samples: m, the field samples per draw.
        seed: the draws' stream.
        compiled: the model's compiled drift, if built.

    Returns:
        shape (draws, n), n the reduced coordinates (:func:`reduced_labels`).
    """
    loop = _Loop(model, compiled, None)
    samples = _check_samples(samples)
    draws = check_integer(draws, "draws", 1)
    check_overlaps(np.asarray(M, float), np.asarray(Q, float), model.target.gram,
                   what="the state (M, Q)")
    y = loop.compiled.pack(M, Q, a)
    stream = int(np.random.SeedSequence([seed, 11]).generate_state(1, dtype=np.uint64)[0])
    return loop.noise_draws(y, samples, stream, draws)


def random_start_states(model: Model, d: int, paths: int, rng: np.random.Generator
                        ) -> np.ndarray:
    """Packed overlaps of ``paths`` independent SPEC random starts at dimension d, drawn
    exactly without the weights: shape (paths, state size).

    Rows of W i.i.d. N(0, I_d), teacher ``U = √d [L 0]`` (``P = LLᵀ``): the teacher block
    ``G = W_{:, :k}`` (p×k) is Gaussian and the rest ``R`` independent, so
    ``M = G Lᵀ/√d``, ``Q = (G Gᵀ + R Rᵀ)/d`` with ``R Rᵀ ~ Wishart_p(d − k, I)``, drawn by
    Bartlett's decomposition; spherical SGD's rows are then normalised (``Q_jj = 1``). The
    readout starts at the spec's ``a``.
    """
    check_dimension(d, model.p, model.k)
    p, k = model.p, model.k
    L = np.linalg.cholesky(model.target.gram)
    G = rng.normal(size=(paths, p, k))
    A = np.zeros((paths, p, p))
    rows, cols = np.tril_indices(p, -1)
    A[:, rows, cols] = rng.normal(size=(paths, rows.size))
    for i in range(p):
        A[:, i, i] = np.sqrt(rng.chisquare(d - k - i, size=paths))
    M = G @ L.T / math.sqrt(d)
    Q = (G @ np.swapaxes(G, 1, 2) + A @ np.swapaxes(A, 1, 2)) / d
    if model.protocol.spherical:   # rows normalised to ‖w_j‖² = d
        norms = np.sqrt(np.diagonal(Q, axis1=1, axis2=2))
        M = M / norms[:, :, None]
        Q = Q / (norms[:, :, None] * norms[:, None, :])
        Q[:, np.arange(p), np.arange(p)] = 1.0
    parts = [M.reshape(paths, -1), Q.reshape(paths, -1)]
    if model.student.train_readout:
        parts.append(np.tile(np.asarray(model.student.a, float), (paths, 1)))
    return np.ascontiguousarray(np.concatenate(parts, axis=1))


@dataclass(frozen=True)
class SDEPaths(Result):
    """Euler–Maruyama paths of the overlap SDE at dimension d.

    Attributes:
        model: the model.
        d: the dimension (the noise is ``√(C/d)``).
        dt: the step.
        t: saved times, shape (S,).
        states: packed states ``[M.ravel(), Q.ravel(), a]`` per path and saved time, shape
            (paths, S, N); NaN after a path stopped (at its escape with ``stop_at_escape``,
            or at a failure).
        escape_times: per path, the first time its cosine ``max_jr |M_jr|/√(Q_jj P_rr)``
            reached ``threshold`` (linear within the step), NaN if it did not; shape (paths,).
        threshold: the escape threshold.
        seed: the seed of the paths' noise (and of their random starts).
        start: ``"random"`` (SPEC's random init at d, one per path) or ``"given"``.
        nodes: the Gauss–Hermite nodes per field direction of the diffusion.
        failed_at: per path, the step where it failed (−1: none), shape (paths,).
        wall_time_s: the compiled loop's wall time.
        projections: per path, how many steps crossed the boundary of the Gram-matrix set
            (by less than :data:`LEAVE_LIMIT`) and were projected back onto it, shape
            (paths,).
        noise: the noise scheme, ``"sampled"`` or ``"cubature"`` (:data:`NOISES`).
        samples: the field samples m per path and step of the sampled noise (0: cubature).
    """

    FORMAT = "overlapdyn.SDEPaths"
    VERSION = 1

    model: Model
    d: int
    dt: float
    t: np.ndarray
    states: np.ndarray
    escape_times: np.ndarray
    threshold: float
    seed: int
    start: str
    nodes: int
    failed_at: np.ndarray
    wall_time_s: float = 0.0
    projections: np.ndarray | None = None
    noise: str = "cubature"
    samples: int = 0

    @property
    def paths(self) -> int:
        return int(self.states.shape[0])

    @property
    def M(self) -> np.ndarray:
        """M per path and saved time, shape (paths, S, p, k)."""
        p, k = self.model.p, self.model.k
        return self.states[:, :, :p * k].reshape(self.paths, -1, p, k)

    @property
    def Q(self) -> np.ndarray:
        """Q per path and saved time, shape (paths, S, p, p)."""
        p, k = self.model.p, self.model.k
        return self.states[:, :, p * k:p * k + p * p].reshape(self.paths, -1, p, p)

    @property
    def a(self) -> np.ndarray:
        """The readout per path and saved time, shape (paths, S, p) (the fixed one
        broadcast when it is not trained)."""
        p, k = self.model.p, self.model.k
        if self.model.student.train_readout:
            return self.states[:, :, p * k + p * p:]
        return np.broadcast_to(np.asarray(self.model.student.a, float),
                               (self.paths, self.t.size, p))

    def cosines(self) -> np.ndarray:
        """``max_j |M_jr|/√(Q_jj P_rr)`` per path, saved time and direction r: (paths, S, k)."""
        return overlap_cosines(self.M, self.Q, np.diag(self.model.target.gram)).max(axis=2)

    def quantity(self, name: str) -> np.ndarray:
        """``"M"``, ``"Q"``, ``"a"`` or ``"cosine"`` (the largest over r of :meth:`cosines`),
        per path and saved time."""
        if name == "cosine":
            return self.cosines().max(axis=2)
        if name not in ("M", "Q", "a"):
            raise ConfigError(f"quantity must be 'M', 'Q', 'a' or 'cosine', got {name!r}")
        return getattr(self, name)

    def mean(self, name: str) -> np.ndarray:
        """The mean over the paths still running at each saved time (shape (S, …))."""
        return np.nanmean(self.quantity(name), axis=0)

    def variance(self, name: str) -> np.ndarray:
        """The variance over the paths still running at each saved time (ddof 1)."""
        return np.nanvar(self.quantity(name), axis=0, ddof=1)

    def quantile(self, name: str, q) -> np.ndarray:
        """Quantile(s) ``q`` ∈ [0, 1] over the paths still running (shape (…, S, …))."""
        return np.nanquantile(self.quantity(name), q, axis=0)

    @property
    def escaped(self) -> float:
        """The fraction of paths that escaped."""
        return float(np.isfinite(self.escape_times).mean())

    def describe(self) -> str:
        times = self.escape_times[np.isfinite(self.escape_times)]
        scheme = (f"sampled noise, {self.samples} samples per step" if self.noise == "sampled"
                  else f"{self.nodes} nodes per field")
        line = (f"{self.model.name}: {self.paths} SDE path(s) at d = {self.d}, dt = "
                f"{self.dt:.3g} to t = {self.t[-1]:.4g} ({self.start} start, {scheme}), "
                f"{self.wall_time_s:.2f} s")
        if times.size:
            q1, q2, q3 = np.quantile(times, [0.25, 0.5, 0.75])
            line += (f"\n  escape (cosine {self.threshold:g}): {self.escaped:.0%} of paths, "
                     f"median t = {q2:.4g}, quartiles {q1:.4g} … {q3:.4g}")
        return line

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"model": self.model.to_dict(), "d": self.d, "dt": self.dt,
                 "threshold": self.threshold, "seed": self.seed, "start": self.start,
                 "nodes": self.nodes, "wall_time_s": self.wall_time_s,
                 "noise": self.noise, "samples": self.samples},
                {"t": self.t, "states": self.states, "escape_times": self.escape_times,
                 "failed_at": self.failed_at,
                 "projections": (np.zeros(self.paths, dtype=np.int64)
                                 if self.projections is None else self.projections)})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> SDEPaths:
        return cls(model_from_dict(header["model"]), header["d"], header["dt"], arrays["t"],
                   arrays["states"], arrays["escape_times"], header["threshold"],
                   header["seed"], header["start"], header["nodes"], arrays["failed_at"],
                   header["wall_time_s"], arrays["projections"],
                   header.get("noise", "cubature"), int(header.get("samples", 0)))


def _spectral_radius(loop: _Loop, y: np.ndarray) -> float:
    """ρ of the drift's Jacobian on the reduced coordinates at y (central differences)."""
    index = _reduced_index(loop.model)
    p, k = loop.model.p, loop.model.k

    def rhs(x):  # the diagonal of a spherical Q stays as in y
        full = y.copy()
        full[index] = x
        for j in range(p):
            for l in range(j + 1, p):
                full[p * k + l * p + j] = full[p * k + j * p + l]
        return loop.compiled.rhs(0.0, full)[index]

    x = y[index]
    J = np.empty((x.size, x.size))
    for i in range(x.size):
        h = 1e-6 * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        J[:, i] = (rhs(up) - rhs(down)) / (2 * h)
    return float(np.max(np.abs(np.linalg.eigvals(J))))


def integrate_sde(
    model: Model,
    t_end: float,
    *,
    d: int,
    paths: int = 100,
    dt: float | None = None,
    init: tuple | str = "random",
    seed: int = 0,
    n_saves: int = 101,
    times=None,
    threshold: float = 0.5,
    stop_at_escape: bool = False,
    nodes: int | None = None,
    noise: str = "sampled",
    samples: int = SAMPLES,
    compiled: CompiledModel | None = None,
) -> SDEPaths:
    """Integrate ``dX = b dt + √(C/d) dW`` by Euler–Maruyama for many paths in compiled code.

    Args:
        model: a plain-SGD model (not spherical; every drift term kept).
        t_end: the horizon (ODE time ``t = steps/d``).
        d: the dimension whose SGD the SDE describes.
        paths: the number of independent paths.
        dt: the step (default ``DT_FRACTION/ρ`` with ρ the spectral radius of ``∂b/∂X`` at
            the start, at most ``t_end/100``).
        init: ``"random"`` (SPEC's random start at d, a fresh draw per path:
            :func:`random_start_states`) or ``(M, Q)`` / ``(M, Q, a)`` for every path.
        seed: seeds the starts and the noise (path i's stream depends on (seed, i) only).
        n_saves: saved times ``linspace(0, t_end, n_saves)``; dt is shortened so that a whole
            number of steps separates them.
        times: instead, the saved times (increasing, ending at ``t_end``): each is rounded
            to a whole step (the result's ``t`` holds the step times), dt shortened to their
            smallest spacing if it is larger.
        threshold: the cosine whose first crossing is each path's escape time.
        stop_at_escape: stop each path at its escape (its later saves are NaN).
        nodes: the cubature's Gauss–Hermite nodes per field direction (default
            :func:`diffusion_nodes`).
        noise: ``"sampled"`` (default: m fresh field samples per path and step, increment
            covariance C exactly, cost ∝ m) or ``"cubature"`` (C by the tensor rule,
            ``nodes^(p+k)`` integrand calls per path and step); see the module docstring.
        samples: m of the sampled noise (ignored by the cubature).
        compiled: the model's compiled drift, if built.

    Raises:
        SDEStepError: ``dt·ρ > DT_LIMIT`` at the start, or a path turned non-finite or left
            the Gram-matrix set (the message says when and how small a dt to take).
        ConfigError: spherical SGD, switched-off drift terms, bad sizes.
    """
    loop = _Loop(model, compiled, nodes)
    d = check_dimension(d, model.p, model.k)
    paths = check_integer(paths, "paths", 1)
    if noise not in NOISES:
        raise ConfigError(f"noise must be one of {NOISES}, got {noise!r}")
    samples = _check_samples(samples) if noise == "sampled" else 0
    if times is not None:
        times = np.asarray(times, dtype=float)
        if (times.ndim != 1 or not np.all(np.isfinite(times)) or times[0] < 0
                or np.any(np.diff(times) <= 0) or abs(times[-1] - t_end) > 1e-12 * t_end):
            raise ConfigError(f"times must increase strictly from t ≥ 0 to t_end = {t_end}, "
                              f"got {np.array2string(times, threshold=8)}")
        n_saves = times.size
    n_saves = check_integer(n_saves, "n_saves", 2)
    if not (math.isfinite(t_end) and t_end > 0):
        raise ConfigError(f"t_end must be a positive time, got {t_end}")
    N = loop.compiled.state_size
    check_memory(8.0 * paths * n_saves * N, f"{paths} SDE paths with {n_saves} saves",
                 "save fewer times (n_saves) or run fewer paths per call")
    rng = np.random.default_rng([seed, d])
    if isinstance(init, str):
        if init != "random":
            raise ConfigError(f"init must be 'random' or (M, Q[, a]), got {init!r}")
        Y0 = random_start_states(model, d, paths, rng)
        start = "random"
    else:
        M0, Q0 = np.asarray(init[0], float), np.asarray(init[1], float)
        check_overlaps(M0, Q0, model.target.gram, what="the SDE's start (M, Q)")
        y0 = loop.compiled.pack(M0, Q0, init[2] if len(init) > 2 else None)
        Y0 = np.ascontiguousarray(np.tile(y0, (paths, 1)))
        start = "given"
    rho = _spectral_radius(loop, Y0.mean(axis=0))
    if dt is None:
        dt = min(DT_FRACTION / rho if rho > 0 else np.inf, t_end / 100)
    dt = float(dt)
    if not (math.isfinite(dt) and dt > 0):
        raise ConfigError(f"dt must be a positive step, got {dt}")
    if dt * rho > DT_LIMIT:
        raise SDEStepError(f"dt = {dt:.3g} is too large for the drift of {model.name}: "
                           f"dt·ρ(∂b/∂X) = {dt * rho:.3g} > {DT_LIMIT} at the start (ρ = "
                           f"{rho:.3g}); use dt ≤ {DT_LIMIT / rho:.3g} (the default "
                           f"{DT_FRACTION}/ρ = {DT_FRACTION / rho:.3g})")
    if times is None:
        # whole steps between the saved times: dt is shortened to t_end / total
        per_save = max(int(math.ceil(t_end / dt / (n_saves - 1) - 1e-9)), 1)
        dt = t_end / (per_save * (n_saves - 1))
        save_steps = np.arange(n_saves, dtype=np.int64) * per_save
    else:
        # no coarser than the grid: consecutive times then round to different steps
        dt = min(dt, float(np.diff(times).min()) if times.size > 1 else dt)
        save_steps = np.round(times / dt).astype(np.int64)
    streams = np.random.SeedSequence([seed, d, 7]).generate_state(paths, dtype=np.uint64)
    saved = np.full((paths, save_steps.size, N), np.nan)
    escape = np.full(paths, np.nan)
    failed_at = np.full(paths, -1, dtype=np.int64)
    pivots = np.zeros(paths)
    projections = np.zeros(paths, dtype=np.int64)
    P_inv = np.ascontiguousarray(np.linalg.inv(model.target.gram), dtype=float)
    address, kernels, arguments = loop.drift
    (p, k, c_p, v, P, label_noise, mse, eta, inv_nb, omega, spherical, train_a, eta_a,
     a_fixed, parts) = arguments
    begin = time.perf_counter()
    with quietly():
        loop.module.run(loop.addresses, np.int64(address), kernels, Y0, streams, dt,
                        float(d), save_steps, float(threshold), bool(stop_at_escape),
                        ADMISSIBLE, P_inv, LEAVE_LIMIT, p, k, c_p, v, P, label_noise,
                        loop.noise_std,
                        mse, eta, inv_nb, omega, spherical, train_a, eta_a, a_fixed, parts,
                        *loop.rule, *loop.noise_rule, samples, saved, escape, failed_at, pivots,
                        projections)
    wall = time.perf_counter() - begin
    result = SDEPaths(model, d, dt, save_steps * dt, saved, escape, float(threshold),
                      int(seed), start, loop.nodes, failed_at, wall, projections, noise,
                      samples)
    failed = np.flatnonzero(failed_at >= 0)
    if failed.size:
        weight = math.sqrt(d * dt * model.protocol.n_b / max(samples, 1))
        hint = ("" if noise == "cubature" else
                f" or raise samples = {samples} (one sample weighs {weight:.2g} × an SGD "
                f"sample, its rare large values throw a path that far; ≤ 1 from samples ≥ "
                f"d·dt·n_b = {d * dt * model.protocol.n_b:.3g}) or use noise='cubature'")
        first = failed[np.argmin(failed_at[failed])]
        raise SDEStepError(
            f"{failed.size} of {paths} SDE path(s) of {model.name} failed, the first (path "
            f"{first}) at t = {failed_at[first] * dt:.4g}: its overlaps turned non-finite or "
            f"left the set of Gram matrices (Ω's pivot {pivots[first]:.2g}); the step dt = "
            f"{dt:.3g} is too large for the drift there — halve dt{hint}; if the ODE itself "
            f"blows up from this start, η = {model.protocol.eta:g} is too large for SGD", result)
    return result
