r"""Several giant steps: the staircase of learned directions, in theory and at finite d.

Dandi, Krzakala, Loureiro, Pesce & Stephan 2023, "How two-layer neural networks learn, one
(giant) step at a time" (arXiv:2305.18270): with ``n₀ = O(d)`` samples per step, a step
learns the directions that are *linearly* reachable from what is already learned — in the
Hermite basis, one more rung of a staircase per step.

**The steps** (the conventions of :mod:`overlapdyn.readout.step`). A wide network with a
fixed readout of signs ``a_j`` takes T steps of the first layer; step t uses
``n₀ᵗ = α₀ᵗ d`` fresh samples and moves each row by

    w_j ← w_j + η̃ a_j √d (1/n₀ᵗ) Σ_μ e_μ σ'(λ_jμ) x_μ,      e = y  (the correlation loss).

The signs are all +1 (``readout_signs = "equal"``) or half +1, half −1 (``"balanced"``).

**The overlaps, d → ∞.** With ``e = y`` a neuron's update depends on its own fields only,
so the neurons of one sign all follow SPEC's large-batch state evolution of one neuron
from ``M⁰ = 0``, ``Q⁰ = 1`` (a random row: ``M⁰ = O(d^(−1/2))``); the G sign groups
together are SPEC's model with p = G neurons, ``c_p = 1``, ``a = (1)`` or ``(1, −1)``,
``η = η̃`` and the correlation loss (:meth:`GiantSteps.state_evolution_model`):

    Mᵗ⁺¹_g = Mᵗ_g + η̃ a_g E[y σ'(λ_g) zᵀ],
    Qᵗ⁺¹_gg = Qᵗ_gg + 2η̃ a_g E[y σ'(λ_g) λ_g] + η̃² (E[G_gφ]ᵀ Ω⁺ E[G_gφ] + E[G_g²]/α₀ᵗ),

``G_g = a_g y σ'(λ_g)`` (:func:`~overlapdyn.ode.evolve`, one call per step since α₀ᵗ may
change). Direction r is learned at the first step after which some ``Mᵗ_gr ≠ 0``.

*The staircase.* At ``M = 0`` the drift is ``a_g μ₁ E[y z]`` (``μ₁ = E[σ']``): step 1
learns the span of ``E[y z]``. Once ``M_g ≠ 0`` the drift along an unlearned ``z₂`` is
``a_g E[y σ'(λ_g) z₂]``; for ``y = z₁ + z₁z₂`` it is ``a_g E[z₁ σ'(λ_g)] =
a_g M_g1 E[σ''(λ_g)]``: step 2 learns z₂ if ``E[σ''] ≠ 0`` at the current fields (relu;
not an odd σ such as tanh, whose σ'' is odd). A direction that no finite number of such
steps reaches (``z₁z₂`` alone, a parity) stays at 0.

*One direction or several.* All neurons of a group learn the *same* vector ``M_g``: with
equal signs the first layer is a bulk plus a rank-one spike after any number of steps,
and the network a function of one learned direction (``rank`` = 1). Opposite signs move
``M_g1`` in opposite directions and, since ``E[σ''(λ)]`` is even in ``M_g1`` for relu,
``M_g2`` in the same one: the two groups' vectors differ and span both directions
(``rank`` = 2) — what a readout needs to fit ``z₁z₂``.

**Finite d** (:func:`simulate_giant_steps`). Rows of W⁰ i.i.d. Gaussian, normalised to unit
norm (so ``M_jr = w_j·(L e_r)`` and ``Q_jj = ‖w_j‖²`` in SPEC's units), the teacher on the
first k axes (``z = L x_{1..k}``, ``LLᵀ = P``), the steps as above, and after each step the
readout refitted by ridge on ``n = αd`` fresh samples (``ridge_readout``) and its test
error measured, as :func:`~overlapdyn.readout.simulate_readout` does for one step. The
neurons' mean ``M_jr`` and ``Q_jj`` estimate the theory's ``Mᵗ_r``, ``Qᵗ``.

**What is not derived.** The test error of the refitted readout has a theory
(:func:`~overlapdyn.readout.readout_risk`) for *one* step on a *single-index* target only:
its conditional Gaussian equivalence needs the weights to be a bulk independent of the
labels plus one spike. After a second step the update ``σ'(λ_j)`` of each row depends on
that row's own bulk field, and a multi-index target's features depend on the learned
directions jointly; that construction is not extended here. After T ≥ 2 steps, or for
k ≥ 2, the test error comes from the simulation; the overlaps from the theory above. A
step with ``n₀ ∝ d²`` (neurons specialising, which needs the interaction of neurons
through e = y − ŷ) is out of this per-neuron theory as well.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy

from ..compile.compiled import CompiledModel
from ..errors import ConfigError
from ..model.activations import activation as resolve_activation
from ..model.checks import check_integer, check_memory, check_real, check_seeds
from ..model.spec import Model, Protocol, Student, Target, section_dict, target_from_dict
from ..ode.state_evolution import evolve
from ..storage.results import Result
from .simulator import LOSSES, gradient_step, ridge_readout

__all__ = ["MAX_GIANT_STEPS", "READOUT_SIGNS", "GiantSteps", "StaircaseOverlaps",
           "StaircaseSimulation", "simulate_giant_steps", "staircase_overlaps"]

#: the most steps a :class:`GiantSteps` takes (the papers' staircases have two or three)
MAX_GIANT_STEPS = 10
#: the readout signs a :class:`GiantSteps` knows
READOUT_SIGNS = ("equal", "balanced")


@dataclass(frozen=True)
class GiantSteps:
    """T giant steps of the first layer, step t on ``n₀ᵗ = α₀ᵗ d`` fresh samples (module
    docstring).

    Attributes:
        target: the teacher, any k (:class:`~overlapdyn.model.Target`).
        activation: the student's σ (a name or a formula in x; it needs a symbolic σ').
        eta_tilde: the per-neuron step η̃ = η c_p a_j > 0 (as in
            :class:`~overlapdyn.readout.GiantStep`).
        alpha0: ``α₀ᵗ = n₀ᵗ/d > 0`` of each step, a tuple of length T ≤
            :data:`MAX_GIANT_STEPS` (a number: one step).
        readout_signs: ``"equal"`` (every ``a_j = 1``) or ``"balanced"`` (``a_j = ±1``,
            half each).
    """

    target: Target
    activation: str
    eta_tilde: float
    alpha0: tuple[float, ...]
    readout_signs: str = "equal"

    def __post_init__(self) -> None:
        if not isinstance(self.target, Target):
            raise ConfigError(f"GiantSteps needs a model.Target, got "
                              f"{type(self.target).__name__}")
        sigma = resolve_activation(self.activation)
        if sigma.expr is None:
            raise ConfigError(f"σ = {sigma.name} has no symbolic form: the steps need σ'; "
                              "give σ as a name or a formula in x")
        object.__setattr__(self, "eta_tilde", check_real(self.eta_tilde, "eta_tilde (η̃)",
                                                         positive=True))
        alpha0 = np.atleast_1d(np.asarray(self.alpha0, dtype=float))
        if alpha0.ndim != 1 or not 1 <= alpha0.size <= MAX_GIANT_STEPS \
                or not np.all(np.isfinite(alpha0)) or np.any(alpha0 <= 0):
            raise ConfigError(f"alpha0 needs one α₀ = n₀/d > 0 per step, 1 to "
                              f"{MAX_GIANT_STEPS} steps, got {self.alpha0!r}")
        object.__setattr__(self, "alpha0", tuple(float(a) for a in alpha0))
        if self.readout_signs not in READOUT_SIGNS:
            raise ConfigError(f"readout_signs must be one of {READOUT_SIGNS}, got "
                              f"{self.readout_signs!r}")

    @property
    def steps(self) -> int:
        """T."""
        return len(self.alpha0)

    @property
    def signs(self) -> tuple[float, ...]:
        """Each group's readout sign, ``(1,)`` or ``(1, −1)``."""
        return (1.0,) if self.readout_signs == "equal" else (1.0, -1.0)

    def state_evolution_model(self) -> Model:
        """The sign groups' SPEC model: p = G, ``c_p = 1``, ``a`` = :attr:`signs`,
        ``η = η̃``, correlation loss."""
        return Model(self.target, Student(p=len(self.signs), activation=self.activation,
                                          c_p=1.0, a=self.signs),
                     Protocol(eta=self.eta_tilde, loss="correlation"))

    def to_dict(self) -> dict:
        """A JSON-able dict; inverse: :meth:`from_dict`."""
        return {"target": section_dict(self.target), "activation": self.activation,
                "eta_tilde": self.eta_tilde, "alpha0": list(self.alpha0),
                "readout_signs": self.readout_signs}

    @classmethod
    def from_dict(cls, config: dict) -> GiantSteps:
        """Rebuild the spec from :meth:`to_dict`'s dict (after a JSON round trip)."""
        try:
            return cls(target_from_dict(config["target"]), config["activation"],
                       config["eta_tilde"], tuple(config["alpha0"]),
                       config.get("readout_signs", "equal"))
        except (KeyError, TypeError) as error:
            raise ConfigError(f"a GiantSteps dict needs target, activation, eta_tilde and "
                              f"alpha0: {error}") from error

    def describe(self) -> str:
        batches = ", ".join(f"{a:g}" for a in self.alpha0)
        return (f"{self.steps} giant step(s): target {self.target.written} (k = "
                f"{self.target.k}, Δ = {self.target.noise:g}), σ = {self.activation}, "
                f"η̃ = {self.eta_tilde:g}, α₀ = ({batches}), readout signs "
                f"{self.readout_signs}")


@dataclass(frozen=True)
class StaircaseOverlaps(Result):
    """The sign groups' overlaps after each step, d → ∞ (module docstring).

    Attributes:
        steps: the :class:`GiantSteps`.
        M: ``Mᵗ_g`` for t = 0..T and each sign group g, shape (T + 1, G, k).
        Q: ``Qᵗ_gg``, shape (T + 1, G).
        tolerance: ``|M_gr|`` above it counts as learned.
    """

    FORMAT = "overlapdyn.StaircaseOverlaps"
    VERSION = 1

    steps: GiantSteps
    M: np.ndarray
    Q: np.ndarray
    tolerance: float = 1e-8

    @property
    def cos2(self) -> np.ndarray:
        """``M_gr²/Q_gg``, a neuron's squared cosine with each direction, (T + 1, G, k)."""
        return self.M ** 2 / self.Q[:, :, None]

    @property
    def learned_at(self) -> tuple[int | None, ...]:
        """For each direction r, the first step t after which some ``|Mᵗ_gr| > tolerance``
        (``None``: not within the T steps)."""
        learned = np.any(np.abs(self.M) > self.tolerance, axis=1)
        return tuple(int(np.argmax(column)) if column.any() else None
                     for column in learned.T)

    @property
    def rank(self) -> np.ndarray:
        """The dimension of the learned subspace ``span{M_g}`` after each step, (T + 1,):
        the singular values of ``Mᵗ`` (G × k) above ``tolerance``."""
        return np.array([int(np.sum(np.linalg.svd(m, compute_uv=False) > self.tolerance))
                         for m in self.M])

    def describe(self) -> str:
        names = self.steps.target.latent_names
        lines = [self.steps.describe(),
                 f"{'step':>4} {'a':>3} {'Q':>9} "
                 + " ".join(f"{'M_' + n:>10}" for n in names) + "  rank"]
        for t in range(self.M.shape[0]):
            for g, sign in enumerate(self.steps.signs):
                lines.append(f"{t if g == 0 else '':>4} {sign:+3.0f} {self.Q[t, g]:9.5f} "
                             + " ".join(f"{v:10.5f}" for v in self.M[t, g])
                             + (f"  {self.rank[t]:4d}" if g == 0 else ""))
        order = ", ".join(f"{n}: step {t}" if t is not None else f"{n}: not learned"
                          for n, t in zip(names, self.learned_at, strict=True))
        lines.append(f"learned at  {order}")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"steps": self.steps.to_dict(), "tolerance": self.tolerance},
                {"M": self.M, "Q": self.Q})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> StaircaseOverlaps:
        return cls(GiantSteps.from_dict(header["steps"]), arrays["M"], arrays["Q"],
                   header["tolerance"])


def staircase_overlaps(steps: GiantSteps, *, tolerance: float = 1e-8) -> StaircaseOverlaps:
    """The sign groups' ``(Mᵗ, Qᵗ)`` after each of the T steps, by SPEC's state evolution
    from ``M⁰ = 0, Q⁰ = I`` (module docstring).

    Args:
        steps: the steps.
        tolerance: ``|M_gr|`` above it counts as learned (the state evolution keeps an
            unreachable direction at 0 up to quadrature round-off).
    """
    tolerance = check_real(tolerance, "tolerance", positive=True)
    compiled = CompiledModel(steps.state_evolution_model())
    groups, k = len(steps.signs), steps.target.k
    M, Q = [np.zeros((groups, k))], [np.eye(groups)]
    for alpha0 in steps.alpha0:
        after = evolve(compiled, (M[-1], Q[-1]), 1, alpha0)
        M.append(after.M[-1])
        Q.append(after.Q[-1])
    return StaircaseOverlaps(steps, np.array(M), np.array([np.diag(q) for q in Q]),
                             tolerance)


@dataclass(frozen=True)
class StaircaseSimulation(Result):
    """Finite-d runs of the T steps and the readout refitted after each (module docstring).

    Attributes:
        steps: the :class:`GiantSteps`.
        d: the input dimension; p: the width.
        alpha: ``α = n/d`` of the ridge, shape (A,).
        ridge: λ.
        seeds: the seeds (S).
        M: the mean ``M_jr`` of each sign group's neurons after each step,
            shape (S, T + 1, G, k).
        Q: the mean ``Q_jj`` of each group, shape (S, T + 1, G).
        test_error: ``mean (y − ŷ)²`` on the test set after each step, shape (S, T + 1, A).
        train_error: the same on the ridge's training set, shape (S, T + 1, A).
        n_test: test samples per seed.
        loss: the steps' error: ``"correlation"`` (e = y, the theory's) or ``"mse"``
            (e = y − ŷ of the network ``(1/p) Σ_j a_j σ(λ_j)``).
        wall_time_s: the wall time.
    """

    FORMAT = "overlapdyn.StaircaseSimulation"
    VERSION = 1

    steps: GiantSteps
    d: int
    p: int
    alpha: np.ndarray
    ridge: float
    seeds: tuple[int, ...]
    M: np.ndarray
    Q: np.ndarray
    test_error: np.ndarray
    train_error: np.ndarray
    n_test: int
    loss: str = "correlation"
    wall_time_s: float = 0.0

    def standard_error(self, quantity: str) -> np.ndarray:
        """The standard error over seeds of ``"M"``, ``"Q"`` or ``"test_error"`` (0 with one
        seed), the shape of the quantity without its seed axis."""
        values = getattr(self, quantity)
        S = len(self.seeds)
        return (values.std(axis=0, ddof=1) / np.sqrt(S) if S > 1
                else np.zeros(values.shape[1:]))

    def describe(self) -> str:
        names = self.steps.target.latent_names
        M, Q, E = self.M.mean(0), self.Q.mean(0), self.test_error.mean(0)
        lines = [self.steps.describe(),
                 f"finite d = {self.d}, p = {self.p}, λ = {self.ridge:g}, {len(self.seeds)} "
                 f"seeds, steps' loss {self.loss}",
                 f"{'step':>4} {'Q':>9} " + " ".join(f"{'M_' + n:>10}" for n in names)
                 + "   test error at α = " + ", ".join(f"{a:g}" for a in self.alpha)]
        for t in range(self.steps.steps + 1):
            for g in range(M.shape[1]):
                error = "   " + ", ".join(f"{e:.4f}" for e in E[t]) if g == 0 else ""
                lines.append(f"{t if g == 0 else '':>4} {Q[t, g]:9.5f} "
                             + " ".join(f"{v:10.5f}" for v in M[t, g]) + error)
        lines.append(f"({self.wall_time_s:.1f} s)")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"steps": self.steps.to_dict(), "d": self.d, "p": self.p,
                 "ridge": self.ridge, "seeds": list(self.seeds), "n_test": self.n_test,
                 "loss": self.loss, "wall_time_s": self.wall_time_s},
                {"alpha": self.alpha, "M": self.M, "Q": self.Q,
                 "test_error": self.test_error, "train_error": self.train_error})

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> StaircaseSimulation:
        return cls(GiantSteps.from_dict(header["steps"]), header["d"], header["p"],
                   arrays["alpha"], header["ridge"], tuple(header["seeds"]), arrays["M"],
                   arrays["Q"], arrays["test_error"], arrays["train_error"],
                   header["n_test"], header["loss"], header["wall_time_s"])


def simulate_giant_steps(steps: GiantSteps, alpha: float | Sequence[float], ridge: float, *,
                         d: int, p: int | None = None, seeds=3, n_test: int | None = None,
                         loss: str = "correlation") -> StaircaseSimulation:
    """Run the T steps at dimension d and refit the readout after each (module docstring).

    Args:
        steps: the steps.
        alpha: ``α = n/d > 0`` of the ridge, one or several.
        ridge: λ ≥ 0 (λ = 0 needs n ≠ p).
        d: the input dimension (≥ 8, and ≥ k).
        p: the width (default d; ≥ 2, even with balanced signs: half of each sign).
        seeds: a number of seeds or the seeds.
        n_test: test samples per seed (default max(4d, 4000)).
        loss: the steps' error, ``"correlation"`` (default: the theory's) or ``"mse"``.

    Raises:
        ConfigError: α ≤ 0, λ < 0, d < 8 or d < k, p < 2, a bad loss; ResourceError: too
            little memory.
    """
    alphas = np.atleast_1d(np.asarray(alpha, dtype=float))
    if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas)) \
            or np.any(alphas <= 0):
        raise ConfigError(f"alpha = n/d must be > 0 (one number or a 1-d sequence), got "
                          f"{alpha!r}")
    ridge = check_real(ridge, "ridge (λ)")
    d = check_integer(d, "d", max(8, steps.target.k))
    p = d if p is None else check_integer(p, "p", 2)
    if steps.readout_signs == "balanced" and p % 2:
        raise ConfigError(f"balanced readout signs need an even width p, got {p}")
    if loss not in LOSSES:
        raise ConfigError(f"loss must be one of {LOSSES}, got {loss!r}")
    n_test = max(4 * d, 4000) if n_test is None else check_integer(n_test, "n_test", 1)
    seeds = check_seeds(seeds, "simulate_giant_steps")
    if ridge == 0 and np.any(np.round(alphas * d) == p):
        raise ConfigError("ridge = 0 with n = p: the least-squares readout is undefined; "
                          "give λ > 0 or another α")
    n_max = int(round(alphas.max() * d))
    check_memory(8.0 * (max(n_max, n_test, 4096) * (d + p) + 3 * p * d
                        + min(n_max, p) ** 2),
                 f"simulate_giant_steps at d = {d}, p = {p}", "lower d or the largest α")
    teacher = _Teacher(steps.target)
    start = time.perf_counter()
    runs = [_seed_run(steps, teacher, alphas, ridge, d, p, n_test, loss,
                      np.random.default_rng([seed, 153, d, p])) for seed in seeds]
    M, Q, test, train = (np.array(part) for part in zip(*runs, strict=True))
    return StaircaseSimulation(steps, d, p, alphas, ridge, seeds, M, Q, test, train, n_test,
                               loss, time.perf_counter() - start)


class _Teacher:
    """Labels ``y = g(L x_{1..k}) + √Δ ξ`` of a target whose directions are the first k axes
    mixed by ``L`` (``LLᵀ = P``)."""

    def __init__(self, target: Target) -> None:
        symbols = sympy.symbols(target.latent_names)
        self.link = sympy.lambdify(symbols, target.function(), modules=["scipy", "numpy"])
        self.L = np.linalg.cholesky(target.gram)
        self.k = target.k
        self.noise = np.sqrt(target.noise)

    def sample(self, rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
        """n samples ``x ~ N(0, I_d)`` (n, d) and their labels (n,)."""
        x = rng.standard_normal((n, d))
        z = x[:, :self.k] @ self.L.T
        y = np.broadcast_to(np.asarray(self.link(*z.T), dtype=float), (n,)).copy()
        if self.noise:
            y += self.noise * rng.standard_normal(n)
        return x, y


def _seed_run(steps: GiantSteps, teacher: _Teacher, alphas: np.ndarray, ridge: float,
              d: int, p: int, n_test: int, loss: str, rng: np.random.Generator):
    """One seed: ``(M, Q, test error, train error)`` after each step t = 0..T."""
    sigma = resolve_activation(steps.activation)
    groups = np.repeat(np.arange(len(steps.signs)), p // len(steps.signs))
    signs = np.array(steps.signs)[groups]
    W = rng.standard_normal((p, d))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    x_test, y_test = teacher.sample(rng, n_test, d)
    readout_sets = [teacher.sample(rng, int(round(a * d)), d) for a in alphas]
    M, Q, test, train = [], [], [], []
    for t in range(steps.steps + 1):
        if t:
            n0 = max(1, int(round(steps.alpha0[t - 1] * d)))
            W = gradient_step(W, steps.eta_tilde, n0, sigma,
                              lambda n: teacher.sample(rng, n, d), loss, signs)
        overlaps, norms = W[:, :teacher.k] @ teacher.L.T, np.sum(W ** 2, axis=1)
        M.append([overlaps[groups == g].mean(axis=0) for g in range(len(steps.signs))])
        Q.append([norms[groups == g].mean() for g in range(len(steps.signs))])
        features_test = sigma(x_test @ W.T) / np.sqrt(p)
        errors, residuals = [], []
        for x, y in readout_sets:
            features = sigma(x @ W.T) / np.sqrt(p)
            readout = ridge_readout(features, y, ridge)
            residuals.append(float(np.mean((y - features @ readout) ** 2)))
            errors.append(float(np.mean((y_test - features_test @ readout) ** 2)))
        test.append(errors)
        train.append(residuals)
    return M, Q, test, train
