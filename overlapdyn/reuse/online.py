r"""Online SGD with reused samples: extragradient and repeated steps as overlap ODEs.

**The protocols** (SPEC's online SGD, batch ``n_b`` of fresh samples, ``G_j = c_p a_j e σ'(λ_j)``,
``e = y − ŷ`` (mse) or ``y`` (correlation)). Each fresh batch is used twice or more:

* ``kind = "repeat"``, ``repeats = k``: k consecutive plain steps on the same batch,
  ``w_j ← w_j + (η/√d)(1/n_b) Σ_μ G_jμ x_μ`` each (k = 2 is the "two steps with the same
  batch" of Arnaboldi, Dandi, Krzakala, Pesce & Stephan 2024, arXiv:2405.15459).
* ``kind = "extragradient"``, ``rho = ρ``: each sample's gradient is taken at the displaced
  weights ``w̃_j = w_j + (ρ/√d) G_j(λ_μ) x_μ`` (per sample), and the step is
  ``w_j ← w_j + (η/√d)(1/n_b) Σ_μ G_j(λ̃_μ) x_μ``; ``ρ > 0`` is extragradient, ``ρ < 0``
  the SAM-like step.

**Their d → ∞ limit.** A sample's field after a displacement along its own gradient is
``w̃·x/√d = λ + ρ G ‖x‖²/d``, and ``‖x‖²/d → 1``: so ``λ̃ = λ + ρ G(λ, y)``. A plain step on
a batch moves the field of each of its samples by ``(η/n_b) G_μ ‖x_μ‖²/d`` plus
``(η/n_b) Σ_{ν≠μ} G_ν x_ν·x_μ/d``, a sum of ``n_b − 1`` terms of zero mean and size
``d^(−1/2)`` that changes the drift only at O(1/d): so the fields of repeated steps follow
``λ⁽ⁱ⁺¹⁾ = λ⁽ⁱ⁾ + (η/n_b) G(λ⁽ⁱ⁾, y)``, ``λ⁽⁰⁾ = λ``, with z and y fixed. The k steps move
each w_j by ``(η/√d)(1/n_b) Σ_μ G̃_jμ x_μ``, one step of SPEC's form with the **composite**

    repeat k:       G̃ = Σ_{i=0}^{k−1} G(λ⁽ⁱ⁾, y),   λ⁽ⁱ⁺¹⁾ = λ⁽ⁱ⁾ + (η/n_b) G(λ⁽ⁱ⁾, y)
    extragradient:  G̃ = G(λ + ρ G(λ, y), y)

a function of the same Gaussian fields ``(λ, z) ~ N(0, Ω)`` and the label noise. Time counts
*fresh batches*: ``t = batches/d``, ``n = t·d·n_b`` samples, whatever k (with k plain steps
per batch the step count is ``k·t·d``). Repeating SPEC's derivation with G̃ for G (the
k steps' increments add up before ``Q`` is formed, so the square of the total increment
is what enters — cross terms ``G⁽ⁱ⁾G⁽ʲ⁾`` included):

    dM/dt = η E[G̃ zᵀ]
    dQ/dt = η (E[G̃ λᵀ] + E[λ G̃ᵀ]) + (η²/n_b) E[G̃ G̃ᵀ]

with λ the fields at the start of the batch. ``repeats = 1`` or ``ρ = 0`` is one-pass SGD.
Weight decay, a trained readout and spherical SGD are refused (not derived here).

**The papers' convention** (code of ``IdePHICS/Repetita-Iuvant``, ``giant-learning``'s
``DisplacedSGD``): unit-norm weights ``v = w/√d``, ``ŷ = (1/p) Σ_j a_j σ(v_j·x)`` (c_p = 1/p),
step ``γ`` on the batch-mean gradient with ``γ = prefactor·n_b·p/d``, displacement
``ρ_theirs = rho_prefactor·p/d`` per sample. Matching updates (their step on v is
``√d γ (1/n_b) Σ_μ G_μ x_μ`` on w): ``η = γd = prefactor·n_b·p`` and
``ρ = rho_prefactor·p`` (:meth:`OnlineReuse.from_papers`); their figure 1
(``prefactor = 0.01``, ``rho_prefactor = 0.1``, p = 1, batch one) is η = 0.01, ρ = 0.1
here. Their ``init = "zero"`` is a student exactly orthogonal to the teacher (``M₀ = 0`` at
finite d too, not a random start with ``M₀ ~ d^(−1/2)``): ``init = (0, I)`` here.

**Numerics.** The composite is a deep composition (He3 student, He3 target: degree ≈ 50
in ``E[G̃²]``; with a ReLU, a kink that moves with the state), so the expectations are not
expanded symbolically; they are computed by one fixed quadrature rule in ``D = p + k``
(+1 with label noise) standard normals ``u``, mapped to the fields by the Cholesky factor
of Ω (so the drift moves smoothly with the state, the nodes fixed): the Gauss–Hermite
product rule when D ≤ 3, scrambled Sobol points (deterministic given the seed) mapped by
Φ⁻¹ otherwise. The integrand (composite, moments) is one Numba module per model, with σ,
σ' and g printed from SymPy (``compile/templates/reuse_online.py``). The error is
estimated against a second rule — Gauss–Hermite with half the nodes, or Sobol points of an
independent scramble — at every saved state, and reported (:class:`ReuseRun`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import scipy.integrate
import scipy.special
import sympy
from scipy.stats import qmc

from ..derive.hermite import gauss_hermite_rule
from ..errors import ConfigError, IntegrationError, OverlapdynError
from ..model.activations import activation as resolve_activation
from ..model.checks import check_finite, check_integer, check_real, smallest_eigenvalue
from ..model.spec import Model, model_from_dict
from ..ode.events import EventLike, OverlapCrosses, check_events
from ..ode.integrator import SaveAt, Solver
from ..ode.state import BLOWUP_NORM, check_overlaps, overlap_covariance
from ..ode.trajectory import Outcome, SolverStats, Trajectory
from ..storage.results import Result, archive_part, restore_part
from ..storage.versions import library_versions
from .kernels import gaussian_factor, model_module

__all__ = ["DEFAULT_SOLVER", "KINDS", "MAX_GAIN", "MAX_REPEATS", "OnlineReuse",
           "ReuseBlowUpError", "ReuseDrift", "ReuseQuadrature", "ReuseRun", "integrate_reuse",
           "online_module"]

#: the reuse protocols
KINDS = ("extragradient", "repeat")
#: the most plain steps one batch may be used for
MAX_REPEATS = 64
#: the largest accepted gain ``√(tr E[G̃G̃ᵀ] / tr E[GGᵀ])`` of the composite over one plain
#: gradient, per gradient evaluation: beyond it the repeated steps (or the displacement)
#: overshoot on each sample, and the ODE describes a divergence
MAX_GAIN = 10.0

# bump when the assembly below changes the module; the templates are hashed
_ONLINE_VERSION = 1


class ReuseBlowUpError(IntegrationError):
    """The composite gradient of a reuse protocol blows up: ρ, η or the number of repeats is
    too large for the activation (each sample's repeated or displaced step overshoots)."""


@dataclass(frozen=True)
class OnlineReuse:
    """Online SGD with each fresh batch reused (module docstring for the update and the ODE).

    Attributes:
        model: the one-pass model (target, student, protocol: η, n_b, loss); its readout
            must be fixed, without weight decay, not spherical.
        kind: ``"extragradient"`` or ``"repeat"``.
        rho: the displacement ρ of ``"extragradient"`` (any finite real; < 0 SAM-like);
            must be 0 for ``"repeat"``.
        repeats: the plain steps per batch k of ``"repeat"``, 1 ≤ k ≤ :data:`MAX_REPEATS`;
            must be 1 for ``"extragradient"``.
    """

    model: Model
    kind: str = "extragradient"
    rho: float = 0.0
    repeats: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.model, Model):
            raise ConfigError(f"OnlineReuse needs an overlapdyn Model, got "
                              f"{type(self.model).__name__}")
        if self.kind not in KINDS:
            raise ConfigError(f"kind must be one of {KINDS}, got {self.kind!r}")
        student, protocol = self.model.student, self.model.protocol
        refused = [why for flag, why in (
            (student.train_readout, "a trained readout (set student.train_readout = false)"),
            (protocol.weight_decay != 0, "weight decay (set protocol.weight_decay = 0)"),
            (protocol.spherical, "spherical SGD (set protocol.spherical = false)"),
            (not protocol.terms.full, "drift terms switched off (set protocol.terms = 'all')"))
            if flag]
        if refused:
            raise ConfigError(f"online SGD with reuse is derived for plain SGD of the first "
                              f"layer only; this model has {', '.join(refused)}")
        if resolve_activation(student.activation).expr is None:
            raise OverlapdynError(f"the student activation {student.activation!r} has no "
                                  "symbolic form, and the compiled composite needs one: give "
                                  "a name or a formula in x")
        rho = check_finite(self.rho, "rho (ρ)")
        repeats = check_integer(self.repeats, "repeats (k)", 1)
        if self.kind == "repeat":
            if rho != 0.0:
                raise ConfigError(f"rho = {rho:g} has no meaning for kind = 'repeat' (k plain "
                                  "steps per batch): leave rho = 0, or use kind = "
                                  "'extragradient'")
            if repeats > MAX_REPEATS:
                raise ConfigError(f"repeats = {repeats} is above {MAX_REPEATS}: use fewer "
                                  "repeats per batch")
        elif repeats != 1:
            raise ConfigError(f"repeats = {repeats} has no meaning for kind = "
                              "'extragradient' (one displaced step per batch): leave "
                              "repeats = 1, or use kind = 'repeat'")
        object.__setattr__(self, "rho", rho)
        object.__setattr__(self, "repeats", repeats)

    @classmethod
    def from_papers(cls, model: Model, *, kind: str = "extragradient",
                    rho_prefactor: float = 0.0, repeats: int = 1) -> OnlineReuse:
        """The spec of the papers' displaced SGD (``rho_prefactor``, their ``ρ = rho_prefactor
        ·p/d`` on unit-norm weights): ``ρ = rho_prefactor·p`` here; η is the model's
        (``prefactor·n_b·p`` for their ``γ = prefactor·n_b·p/d``)."""
        rho = check_finite(rho_prefactor, "rho_prefactor") * model.p
        return cls(model, kind, rho=rho, repeats=repeats)

    @property
    def shift(self) -> float:
        """How far each gradient evaluation moves the fields (ρ, or η/n_b for repeat)."""
        protocol = self.model.protocol
        return self.rho if self.kind == "extragradient" else protocol.eta / protocol.n_b

    @property
    def weights(self) -> np.ndarray:
        """The weights of ``G⁽⁰⁾, G⁽¹⁾, …`` in G̃ ((0, 1) for extragradient, k ones for repeat)."""
        if self.kind == "extragradient":
            return np.array([0.0, 1.0])
        return np.ones(self.repeats)

    @property
    def is_one_pass(self) -> bool:
        """Whether the composite is the plain gradient (ρ = 0 or k = 1)."""
        return self.rho == 0.0 if self.kind == "extragradient" else self.repeats == 1

    def to_dict(self) -> dict:
        return {"model": self.model.to_dict(), "kind": self.kind, "rho": self.rho,
                "repeats": self.repeats}

    @classmethod
    def from_dict(cls, config: dict) -> OnlineReuse:
        try:
            return cls(model_from_dict(config["model"]), config["kind"], rho=config["rho"],
                       repeats=config["repeats"])
        except KeyError as error:
            raise ConfigError(f"an OnlineReuse dict needs model, kind, rho and repeats: "
                              f"{error}") from error

    def describe(self) -> str:
        how = (f"extragradient ρ = {self.rho:g}" if self.kind == "extragradient"
               else f"repeat k = {self.repeats}")
        protocol = self.model.protocol
        return (f"online SGD with reuse ({how}) of {self.model.name}: η = {protocol.eta:g}, "
                f"n_b = {protocol.n_b}, loss {protocol.loss}; t = fresh batches/d")


def online_module(model: Model):
    """The generated module of ``model``'s reuse protocols: σ, σ', g printed from SymPy and
    the loops of ``compile/templates/reuse_online.py`` (``moments``, ``run``), cached."""
    return model_module(model.student, model.target, "reuse_online",
                        "online SGD with reuse: composite and simulator of one model",
                        _ONLINE_VERSION, ("moments", "run"))


@dataclass(frozen=True)
class ReuseQuadrature:
    """The fixed rule of the composite's expectations (module docstring).

    Attributes:
        nodes: Gauss–Hermite nodes per direction (default 512, 192, 32 for D = 1, 2, 3).
        sobol_log2: ``log₂`` of the number of Sobol points when D > ``max_product_dim``.
        seed: the seed of the Sobol scrambles (the rule is deterministic given it).
        max_product_dim: the largest D that gets the product rule.
        antithetic: also use every Sobol point with its z-block coordinates negated (the
            point count doubles). The fields are ``λ = L_λ u``, ``z = L_zλ u_λ + L_z u_z``, so
            the reflected point is the exact image of the original under ``z → −z`` at
            ``M → −M``: for a target even in z the rule then keeps the symmetry of the exact
            drift — ``dM/dt`` odd in M, zero at M = 0 — which an escape from
            ``M₀ ≈ d^(−1/2)`` needs (an unsymmetric rule's error at M = 0, 1.2·10⁻⁴ for He4
            and a ReLU with 2¹⁶ points, is a spurious drift larger than the true one at
            M = 0.01, 3·10⁻⁵). The product rule is symmetric already.
    """

    nodes: int | None = None
    sobol_log2: int = 16
    seed: int = 0
    max_product_dim: int = 3
    antithetic: bool = False

    def __post_init__(self) -> None:
        if self.nodes is not None:
            object.__setattr__(self, "nodes", check_integer(self.nodes, "nodes", 4))
        log2 = check_integer(self.sobol_log2, "sobol_log2", 8)
        if log2 > 24:
            raise ConfigError(f"sobol_log2 = {log2} asks for {2**log2} points per drift "
                              "evaluation; use at most 24")
        object.__setattr__(self, "sobol_log2", log2)
        object.__setattr__(self, "max_product_dim",
                           check_integer(self.max_product_dim, "max_product_dim", 1))
        if not isinstance(self.antithetic, bool):
            raise ConfigError(f"antithetic must be True or False, got {self.antithetic!r}")

    def rules(self, dim: int, kinked: bool = False, reflected: tuple[int, ...] = ()
              ) -> tuple[str, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """``(label, rule, check)``: the rule used and the second one its error is estimated
        with, each ``(nodes (N, dim), weights (N,))``; ``kinked`` (a student or target with
        a kink or a jump) always gets the Sobol points; ``reflected``: the coordinates the
        antithetic copy negates (the z-block), used when :attr:`antithetic` is set."""
        if dim <= self.max_product_dim and not kinked:
            n = self.nodes or {1: 512, 2: 192, 3: 32}.get(dim, 16)
            return (f"Gauss–Hermite {n}^{dim}", _product_rule(n, dim),
                    _product_rule(max(2, n // 2), dim))
        rng = np.random.default_rng([self.seed, 2405])
        points = [_sobol(dim, self.sobol_log2, rng) for _ in range(2)]
        weights = np.full(2**self.sobol_log2, 2.0**-self.sobol_log2)
        label = f"scrambled Sobol 2^{self.sobol_log2} (seed {self.seed})"
        if self.antithetic and reflected:
            flip = np.ones(dim)
            flip[list(reflected)] = -1.0
            points = [np.ascontiguousarray(np.concatenate([x, x * flip])) for x in points]
            weights = np.concatenate([weights, weights]) / 2
            label += ", z-antithetic"
        return label, (points[0], weights), (points[1], weights)


def _product_rule(n: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = gauss_hermite_rule(n)
    grids = np.meshgrid(*([nodes] * dim), indexing="ij")
    wgrids = np.meshgrid(*([weights] * dim), indexing="ij")
    return (np.ascontiguousarray(np.stack([g.ravel() for g in grids], axis=1)),
            np.prod(np.stack([w.ravel() for w in wgrids]), axis=0))


def _sobol(dim: int, log2: int, rng: np.random.Generator) -> np.ndarray:
    points = qmc.Sobol(dim, scramble=True, seed=rng).random_base2(log2)
    return np.ascontiguousarray(scipy.special.ndtri(np.clip(points, 1e-300, None)))


def _kinked(model: Model) -> bool:
    """Whether σ' or g has a jump or a kink (the composite then has jumps along curves that
    move with the state, where a product Gauss–Hermite rule converges slowly)."""
    sigma = resolve_activation(model.student.activation)
    if sigma.breakpoints:
        return True
    kinks = (sympy.Heaviside, sympy.sign, sympy.Abs, sympy.Max, sympy.Min, sympy.Piecewise)
    return any(expr.has(*kinks) for expr in (sigma.expr, model.target.function()))


#: parallel chunks of a moments call (fixed, so results do not depend on the threads)
_CHUNKS = 16
#: rules with fewer nodes run on one thread: below it, starting the parallel region costs
#: more than the work (2¹² z-antithetic Sobol points, He4/ReLU, on a loaded 2-core machine:
#: 0.3 ms of CPU per drift on one thread, 2–5 ms on two)
_PARALLEL_NODES = 2**15


class ReuseDrift:
    """The drift of :class:`OnlineReuse`'s ODE by quadrature (module docstring).

    Args:
        spec: the protocol.
        quadrature: the rule.

    ``label`` names the rule; :meth:`terms` gives the expectations, :meth:`drift` and
    :meth:`rhs` the ODE's right-hand side, :meth:`error` the rule's estimated error.
    """

    def __init__(self, spec: OnlineReuse, quadrature: ReuseQuadrature | None = None) -> None:
        quadrature = ReuseQuadrature() if quadrature is None else quadrature
        if not isinstance(quadrature, ReuseQuadrature):
            raise ConfigError(f"quadrature must be a ReuseQuadrature, got {quadrature!r}")
        self.spec = spec
        model = spec.model
        self.p, self.k = model.p, model.k
        self._noise_std = float(np.sqrt(model.target.noise))
        self.dim = self.p + self.k + (1 if self._noise_std > 0 else 0)
        self.kinked = _kinked(model)
        self.label, self._rule, self._check = quadrature.rules(
            self.dim, self.kinked, tuple(range(self.p, self.p + self.k)))
        self._module = online_module(model)
        self._a = np.array(model.student.a, dtype=float)
        self._P = np.array(model.target.gram, dtype=float)
        self.evaluations = 0

    def terms(self, M, Q, *, check: bool = False, one_pass: bool = False
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """``(E[G̃ zᵀ] (p,k), E[G̃ λᵀ] (p,p), E[G̃ G̃ᵀ] (p,p), R)`` at the overlaps (M, Q), R the
        population risk ``½(E[(y − ŷ)²])`` (the label noise included); ``check``: by the
        second rule; ``one_pass``: of the plain gradient G instead of G̃."""
        M, Q = np.asarray(M, dtype=float), np.asarray(Q, dtype=float)
        factor = np.ascontiguousarray(gaussian_factor(overlap_covariance(M, Q, self._P)))
        nodes, weights = self._check if check else self._rule
        spec, p, k = self.spec, self.p, self.k
        Az, Al, B = (np.empty((_CHUNKS, p, n)) for n in (k, p, p))
        R = np.empty(_CHUNKS)
        threads = numba.get_num_threads()
        if nodes.shape[0] < _PARALLEL_NODES:
            numba.set_num_threads(1)
        try:
            self._module.moments(nodes, weights, factor, p, k, self._noise_std, self._a,
                                 float(spec.model.student.c_p),
                                 spec.model.protocol.loss == "mse", float(spec.shift),
                                 np.ones(1) if one_pass else spec.weights, Az, Al, B, R)
        finally:
            numba.set_num_threads(threads)
        self.evaluations += 1
        return Az.sum(0), Al.sum(0), B.sum(0), 0.5 * float(R.sum())

    def drift(self, M, Q, *, check: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(dM/dt, dQ/dt)`` at (M, Q) (module docstring)."""
        Az, Al, B, _ = self.terms(M, Q, check=check)
        protocol = self.spec.model.protocol
        eta = protocol.eta
        return eta * Az, eta * (Al + Al.T) + (eta ** 2 / protocol.n_b) * B

    def pack(self, M, Q) -> np.ndarray:
        return np.concatenate([np.ravel(M), np.ravel(Q)]).astype(float)

    def unpack(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, k = self.p, self.k
        return y[:p * k].reshape(p, k), y[p * k:].reshape(p, p)

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """``dy/dt`` of the packed state ``y = [M.ravel(), Q.ravel()]`` (``t`` unused)."""
        dM, dQ = self.drift(*self.unpack(y))
        return self.pack(dM, (dQ + dQ.T) / 2)

    def error(self, M, Q) -> float:
        """The rule's estimated error on the drift at (M, Q): ``max |drift − drift₂|`` over
        the entries, drift₂ by the second rule (an upper estimate for Gauss–Hermite, whose
        second rule has half the nodes; of the size of either's error for Sobol)."""
        first, second = self.drift(M, Q), self.drift(M, Q, check=True)
        return float(max(np.abs(a - b).max() for a, b in zip(first, second, strict=True)))

    def gain(self, M, Q) -> float:
        """``√(tr E[G̃G̃ᵀ] / tr E[GGᵀ])`` per gradient evaluation of the composite (1 for
        one-pass SGD; :data:`MAX_GAIN` bounds it)."""
        _, _, B, _ = self.terms(M, Q)
        _, _, B1, _ = self.terms(M, Q, one_pass=True)
        plain = np.trace(B1)
        count = float(np.count_nonzero(self.spec.weights))
        if not np.all(np.isfinite(B)):
            return np.inf
        return float(np.sqrt(np.trace(B) / plain) / count) if plain > 0 else 1.0


@dataclass(frozen=True)
class ReuseRun(Result):
    """The ODE of a reuse protocol, integrated.

    Attributes:
        spec: the :class:`OnlineReuse` protocol.
        trajectory: the learning curve (a :class:`~overlapdyn.ode.Trajectory` of
            ``spec.model``; t = fresh batches/d; its ``kernels`` names the rule).
        rule: the quadrature rule (e.g. ``"Gauss–Hermite 192^2"``).
        drift_error: the rule's estimated error on the drift at each saved time
            (:meth:`ReuseDrift.error`: the largest entry's), shape (T,).
        drift_scale: the drift's largest entry over the saved times (the error's scale).
        gain: the composite's gain at the start (:meth:`ReuseDrift.gain`).
        wall_time_s: the solver's wall time.
    """

    FORMAT = "overlapdyn.ReuseRun"
    VERSION = 1

    spec: OnlineReuse
    trajectory: Trajectory
    rule: str
    drift_error: np.ndarray
    drift_scale: float
    gain: float
    wall_time_s: float = 0.0

    @property
    def t(self) -> np.ndarray:
        return self.trajectory.t

    @property
    def M(self) -> np.ndarray:
        return self.trajectory.M

    @property
    def Q(self) -> np.ndarray:
        return self.trajectory.Q

    @property
    def risk(self) -> np.ndarray:
        return self.trajectory.risk

    def describe(self) -> str:
        traj = self.trajectory
        return "\n".join([
            self.spec.describe(),
            f"reuse ODE by {self.rule}: {traj.outcome.name} at t = {traj.t[-1]:.4g}, risk "
            f"{traj.risk[0]:.4g} → {traj.risk[-1]:.4g}; drift error ≤ "
            f"{np.nanmax(self.drift_error):.2e} (of a drift up to {self.drift_scale:.2e}), "
            f"gain {self.gain:.3g}, "
            f"{traj.solver.nfev if traj.solver else 0} evaluations, {self.wall_time_s:.2f} s"])

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        header, arrays = archive_part(self.trajectory, "trajectory")
        return ({"spec": self.spec.to_dict(), "trajectory": header, "rule": self.rule,
                 "drift_scale": self.drift_scale, "gain": self.gain,
                 "wall_time_s": self.wall_time_s},
                {**arrays, "drift_error": self.drift_error})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> ReuseRun:
        return cls(OnlineReuse.from_dict(header["spec"]),
                   restore_part(Trajectory, header["trajectory"], arrays, "trajectory"),
                   header["rule"], np.asarray(arrays["drift_error"]), float(header["drift_scale"]),
                   float(header["gain"]),
                   float(header["wall_time_s"]))


#: the solver of :func:`integrate_reuse` by default
DEFAULT_SOLVER = Solver("RK45", rtol=1e-6, atol=1e-9)


class _BlowUp(Exception):
    def __init__(self, t: float) -> None:
        super().__init__(t)
        self.t = t


def integrate_reuse(spec: OnlineReuse, init, save: SaveAt | float, *,
                    quadrature: ReuseQuadrature | None = None, solver: Solver | None = None,
                    drift: ReuseDrift | None = None, max_gain: float = MAX_GAIN,
                    blowup_norm: float = BLOWUP_NORM, max_evaluations: int = 200_000,
                    on_failure: str = "raise", events: Sequence[EventLike] = ()) -> ReuseRun:
    """Integrate the reuse ODE (module docstring) from ``init = (M, Q)``.

    Args:
        spec: the protocol.
        init: ``(M₀, Q₀)``, shapes (p, k), (p, p).
        save: a :class:`~overlapdyn.ode.SaveAt`, or ``t_end``.
        quadrature: the rule of the expectations (default :class:`ReuseQuadrature`'s;
            ignored when ``drift`` is given).
        solver: SciPy's method and tolerances (default :data:`DEFAULT_SOLVER`: RK45, rtol
            10⁻⁶ — the quadrature drift of a kinked activation is rough below that).
        drift: an already built :class:`ReuseDrift` (reuse it across runs).
        max_gain: the largest accepted gain of the composite at the start.
        blowup_norm: the state's max-norm that counts as a blow-up.
        max_evaluations: the most drift evaluations.
        on_failure: ``"raise"`` (a :class:`ReuseBlowUpError` or
            :class:`~overlapdyn.errors.IntegrationError`) or ``"return"`` the run with
            ``outcome = FAILED``.
        events: events recorded in the trajectory's ``events`` (and, when terminal,
            stopping the run, ``outcome = EVENT``, the state where it fired saved last), as
            for :func:`~overlapdyn.ode.integrate` (:mod:`overlapdyn.ode.events`). The risk
            passed to an event costs one more drift evaluation per call, so it is passed
            only to events that read it (an :class:`~overlapdyn.ode.events.OverlapCrosses`
            gets NaN).

    Raises:
        ReuseBlowUpError: the composite's gain at the start passes ``max_gain`` or is not
            finite, or the overlaps blow up (ρ, η or k too large).
        CovarianceError: ``init`` is not a valid overlap state.
    """
    if on_failure not in ("raise", "return"):
        raise ConfigError(f"on_failure must be 'raise' or 'return', got {on_failure!r}")
    solver = DEFAULT_SOLVER if solver is None else solver
    if not isinstance(solver, Solver):
        raise ConfigError(f"solver must be an overlapdyn Solver, got {solver!r}")
    max_evaluations = check_integer(max_evaluations, "max_evaluations", 1)
    max_gain = check_real(max_gain, "max_gain", positive=True)
    events = check_events(events)
    drift = drift or ReuseDrift(spec, quadrature or ReuseQuadrature())
    if drift.spec != spec:
        raise ConfigError("drift was built for another OnlineReuse spec")
    save = save if isinstance(save, SaveAt) else SaveAt(float(save))
    model = spec.model
    M0, Q0 = (np.asarray(v, dtype=float) for v in init[:2])
    if M0.shape != (model.p, model.k) or Q0.shape != (model.p, model.p):
        raise ConfigError(f"init must be (M, Q) of shapes {(model.p, model.k)}, "
                          f"{(model.p, model.p)}; got {M0.shape}, {Q0.shape}")
    check_overlaps(M0, Q0, model.target.gram, what="the initial state (M, Q)")
    gain = drift.gain(M0, Q0)
    if not gain <= max_gain:
        raise ReuseBlowUpError(_blowup_text(spec, f"at the start: the composite gradient "
                                                  f"is {gain:.3g} times a plain one (above "
                                                  f"max_gain = {max_gain:g})"))
    y0 = drift.pack(M0, Q0)
    count = [0]

    def rhs(t, y):
        count[0] += 1
        if count[0] > max_evaluations:
            raise _BlowUp(-t)
        if not np.all(np.isfinite(y)) or np.abs(y).max() > blowup_norm:
            raise _BlowUp(t)
        dy = drift.rhs(t, y)
        if not np.all(np.isfinite(dy)):
            raise _BlowUp(t)
        return dy

    grid = save.grid()
    watched = [_state_event(drift, event) for event in events]
    fired: dict[str, list[float]] = {}
    stopped = False
    start = time.perf_counter()
    failure = None
    try:
        solution = scipy.integrate.solve_ivp(rhs, (0.0, save.t_end), y0, method=solver.method,
                                             t_eval=grid, rtol=solver.rtol, atol=solver.atol,
                                             events=watched or None)
        ts, ys, nfev = solution.t, solution.y, int(solution.nfev)
        if watched:
            fired = {e.name: [float(t) for t in times] for e, times in zip(
                events, solution.t_events, strict=True) if len(times)}
        if solution.status == -1:
            failure = _blowup_text(spec, f"after t = {ts[-1] if ts.size else 0:.4g}: the "
                                         f"solver failed ({solution.message})")
        elif solution.status == 1:   # a terminal event: keep the state where it fired
            stopped = True
            when, where = min((float(t[0]), y[0]) for t, y in zip(
                solution.t_events, solution.y_events, strict=True) if len(t))
            if not ts.size or when > ts[-1]:
                ts, ys = np.append(ts, when), np.column_stack([ys, where])
    except _BlowUp as stop:
        # solve_ivp keeps nothing when the right-hand side raises: redo to just before
        when = abs(stop.t)
        budget = stop.t < 0
        keep = grid[grid < 0.99 * when]
        ts, ys, nfev = keep, np.empty((y0.size, 0)), count[0]
        if keep.size > 1:
            count[0] = -10 * max_evaluations  # the redo has its own budget
            again = scipy.integrate.solve_ivp(rhs, (0.0, keep[-1]), y0, method=solver.method,
                                              t_eval=keep, rtol=solver.rtol, atol=solver.atol,
                                              events=watched or None)
            ts, ys = again.t, again.y
            if watched:
                fired = {e.name: [float(t) for t in times] for e, times in zip(
                    events, again.t_events, strict=True) if len(times)}
        elif keep.size == 1:
            ys = y0[:, None]
        failure = (f"the solver used its {max_evaluations} drift evaluations by t = "
                   f"{when:.4g}: raise max_evaluations, or loosen the solver" if budget else
                   _blowup_text(spec, f"at t ≈ {when:.4g}: the state passed {blowup_norm:g} "
                                      f"or the drift turned non-finite"))
    wall = time.perf_counter() - start
    # keep the states up to the first one outside the PSD cone
    Ms, Qs, risks, errors, scales = [], [], [], [], []
    for i in range(ts.size):
        M, Q = drift.unpack(ys[:, i])
        if smallest_eigenvalue(overlap_covariance(M, Q, model.target.gram)) < -1e-8 * max(
                1.0, float(np.abs(Q).max())):
            failure = failure or _blowup_text(spec, f"by t = {ts[i]:.4g}: Ω lost positive "
                                                    "semi-definiteness")
            ts = ts[:i]
            break
        Ms.append(M)
        Qs.append(Q)
        risks.append(drift.terms(M, Q)[3] + 0.5 * model.target.noise)
        dM, dQ = drift.drift(M, Q)
        scales.append(max(np.abs(dM).max(), np.abs(dQ).max()))
        errors.append(drift.error(M, Q))
    if not Ms:
        raise ReuseBlowUpError(failure or "no state saved")
    T = len(Ms)
    trajectory = Trajectory(
        t=ts[:T], M=np.array(Ms), Q=np.array(Qs), a=np.broadcast_to(drift._a, (T, model.p)),
        risk=np.array(risks), model=model,
        outcome=(Outcome.FAILED if failure else Outcome.EVENT if stopped
                 else Outcome.REACHED_END),
        message=failure or ("a terminal event fired" if stopped else "reached t_end"),
        events=fired,
        solver=SolverStats(solver.method, solver.rtol, solver.atol, nfev),
        kernels=f"reuse {spec.kind} by {drift.label}", wall_time_s=wall,
        versions=library_versions())
    run = ReuseRun(spec, trajectory, drift.label, np.array(errors), float(max(scales)), gain,
                   wall)
    if failure and on_failure == "raise":
        kind = ReuseBlowUpError if "blew up" in failure else IntegrationError
        raise kind(failure, trajectory)
    return run


def _state_event(drift: ReuseDrift, event: EventLike):
    """``event`` as a ``solve_ivp`` event function of the packed state (the risk computed
    by the rule only for events that read it)."""
    needs_risk = not isinstance(event, OverlapCrosses)
    noise = 0.5 * drift.spec.model.target.noise

    def function(t, y):
        M, Q = drift.unpack(y)
        risk = drift.terms(M, Q)[3] + noise if needs_risk else math.nan
        return event.function(M, Q, drift._a, risk)

    function.terminal = bool(event.terminal)
    function.direction = float(event.direction)
    return function


def _blowup_text(spec: OnlineReuse, when: str) -> str:
    protocol = spec.model.protocol
    knob = (f"ρ = {spec.rho:g}" if spec.kind == "extragradient"
            else f"k = {spec.repeats} repeats")
    return (f"the reuse ODE blew up {when}; with {knob} and η = {protocol.eta:g} the "
            f"{spec.kind} composite overshoots on each sample for the activation "
            f"{spec.model.student.activation!r} — lower |ρ| (or k), or η")
