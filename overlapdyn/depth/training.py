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

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..model.checks import check_flag, check_floats, check_integer, check_real
from .targets import HierarchicalTarget, TargetInstance, check_section

__all__ = ["DepthConfig", "KappaSweep", "Network", "Training", "joint_training",
           "quadratic_features", "ridge_loo", "run_instance", "stage1"]

METHODS = ("three_layer", "two_layer", "kernel", "random_features", "joint")
BATCHES = ("reuse", "fresh", "split")


@dataclass(frozen=True)
class Network:
    """Widths and activations. ``bias1``, ``bias2``: fixed biases drawn U(−b, b)."""

    p1: int = 512
    p2: int = 128
    sigma1: str = "relu"
    sigma2: str = "relu"
    bias1: float = 1.0
    bias2: float = 1.0
    rf_features: int = 512

    def __post_init__(self):
        for name in ("p1", "p2", "rf_features"):
            object.__setattr__(self, name, check_integer(getattr(self, name), name, 1))
        for name in ("bias1", "bias2"):
            object.__setattr__(self, name, check_real(getattr(self, name), name))
        for name in ("sigma1", "sigma2"):
            if getattr(self, name) not in ("relu", "tanh"):
                raise ConfigError(f"{name} must be 'relu' or 'tanh', got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Training:
    """Stage-1 protocol and data use.

    Attributes:
        batches: ``"reuse"`` (all stages and steps use the n samples), ``"fresh"`` (the
            n samples are split: ``stage1_fraction·n`` into ``steps1`` fresh batches, the rest
            halved between stage 2 and stage 3) or ``"split"`` (``stage1_fraction·n`` for
            every stage-1 step, the rest reused by stages 2 and 3 and the two-layer readout —
            no first-layer over-fitting leaks into the later stages).
        steps1: number of stage-1 steps.
        eta1: η̄ — the stage-1 learning rate is ``η̄ √d₁``.
        stage1_fraction: share of the samples for stage 1 when ``batches = "fresh"``.
        ridge_grid: ``(log10 min, log10 max, number)`` of the λ grid (relative to the mean
            eigenvalue of the feature covariance) searched by leave-one-out cross-validation.
        remove_linear: subtract the least-squares linear fit of y on x from the stage-1
            labels. The linear part ``E[y x] = Σ_i E[y z_i] w*_i`` is a finite-d₁ effect
            (it vanishes as d₁ → ∞ when g*'' averages to 0, e.g. odd g* and a symmetric
            limit law of h*), but at d₁ = 8 it dominates the first steps and pulls every
            neuron onto one direction of span(W*) (see :mod:`overlapdyn.depth.first_layer`).
        validation: number of held-out samples (drawn fresh for every run, *not* counted in
            n, like the authors' validation set) on which every ridge penalty of every
            method is chosen; 0: exact leave-one-out on the training set. With reused data
            the trained first layer has seen the training labels, so leave-one-out on its
            features is optimistic and picks too little shrinkage (test errors above Var y
            at κ < 1 + ε); held-out points do not.
        joint_steps, joint_lr, joint_p1: the ``joint`` variant — full-batch Adam on the
            square loss of all three layers at once (W1 rows kept on the sphere), its
            number of steps, learning rate and first-layer width; with ``validation`` the
            best validated iterate is kept (early stopping).
    """

    batches: str = "reuse"
    steps1: int = 10
    eta1: float = 5.0
    stage1_fraction: float = 0.5
    ridge_grid: tuple[float, ...] = (-4.0, 2.0, 13.0)
    remove_linear: bool = False
    validation: int = 0
    joint_steps: int = 200
    joint_lr: float = 0.01
    joint_p1: int = 256

    def __post_init__(self):
        if self.batches not in BATCHES:
            raise ConfigError(f"batches must be one of {BATCHES}, got {self.batches!r}")
        object.__setattr__(self, "steps1", check_integer(self.steps1, "steps1", 0))
        object.__setattr__(self, "eta1", check_real(self.eta1, "eta1"))
        fraction = check_real(self.stage1_fraction, "stage1_fraction")
        if not 0 < fraction < 1:
            raise ConfigError(f"stage1_fraction must lie in (0, 1), got {fraction}")
        grid = check_floats(self.ridge_grid, "ridge_grid", 3)
        if grid[0] >= grid[1] or grid[2] < 1:
            raise ConfigError(f"ridge_grid = (log10 min, log10 max, count) is malformed: {grid}")
        object.__setattr__(self, "ridge_grid", grid)
        object.__setattr__(self, "remove_linear", check_flag(self.remove_linear, "remove_linear"))
        object.__setattr__(self, "validation", check_integer(self.validation, "validation", 0))
        object.__setattr__(self, "joint_steps", check_integer(self.joint_steps, "joint_steps", 1))
        object.__setattr__(self, "joint_p1", check_integer(self.joint_p1, "joint_p1", 1))
        object.__setattr__(self, "joint_lr", check_real(self.joint_lr, "joint_lr", positive=True))


@dataclass(frozen=True)
class KappaSweep:
    """Sample sizes ``n = round(d^κ)`` over a κ grid, seeds, test-set size, outputs."""

    kappa_min: float = 0.2
    kappa_max: float = 2.2
    points: int = 11
    seeds: int = 3
    n_test: int = 2000
    methods: tuple[str, ...] = METHODS
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "points", check_integer(self.points, "points", 1))
        object.__setattr__(self, "seeds", check_integer(self.seeds, "seeds", 1))
        object.__setattr__(self, "n_test", check_integer(self.n_test, "n_test", 10))
        object.__setattr__(self, "seed", check_integer(self.seed, "seed", 0))
        lo, hi = check_real(self.kappa_min, "kappa_min", positive=True), check_real(
            self.kappa_max, "kappa_max", positive=True)
        if hi < lo:
            raise ConfigError(f"kappa_max = {hi} is below kappa_min = {lo}")
        object.__setattr__(self, "kappa_min", lo)
        object.__setattr__(self, "kappa_max", hi)
        methods = tuple(self.methods)
        bad = sorted(set(methods) - set(METHODS))
        if bad:
            raise ConfigError(f"unknown methods {bad}; known: {list(METHODS)}")
        if "two_layer" in methods and "three_layer" not in methods:
            raise ConfigError("the two-layer baseline reuses the three-layer net's first "
                              "layer: list 'three_layer' too")
        object.__setattr__(self, "methods", methods)

    @property
    def kappas(self) -> np.ndarray:
        return np.linspace(self.kappa_min, self.kappa_max, self.points)


@dataclass(frozen=True)
class DepthConfig:
    """Everything a depth experiment needs: ``[target]``, ``[network]``, ``[training]``,
    ``[sweep]`` sections of a TOML file (see ``examples/depth/fig2.toml``)."""

    target: HierarchicalTarget
    network: Network = field(default_factory=Network)
    training: Training = field(default_factory=Training)
    sweep: KappaSweep = field(default_factory=KappaSweep)
    name: str = "depth"

    def to_dict(self) -> dict:
        out = {"name": self.name, "target": self.target.to_dict()}
        for key in ("network", "training", "sweep"):
            section = dataclasses.asdict(getattr(self, key))
            out[key] = {k: list(v) if isinstance(v, tuple) else v for k, v in section.items()}
        return out

    @classmethod
    def from_dict(cls, config: dict, name: str = "depth") -> DepthConfig:
        """Build from a dict; :class:`ConfigError` names unknown sections and keys."""
        sections = {"network": Network, "training": Training, "sweep": KappaSweep}
        unknown = sorted(set(config) - set(sections) - {"target", "name"})
        if unknown:
            raise ConfigError(f"unknown config sections {unknown}; expected "
                              f"{['target', *sections]}")
        if "target" not in config:
            raise ConfigError("the config has no [target] section")
        if not isinstance(config["target"], dict):
            raise ConfigError(f"[target] must be a table of keys, got {config['target']!r}")
        built = {"target": HierarchicalTarget.from_dict(config["target"])}
        for key, kind in sections.items():
            values = check_section(config.get(key, {}), key, kind)
            for listed in ("ridge_grid", "methods"):
                if listed in values:
                    values[listed] = tuple(values[listed])
            built[key] = kind(**values)
        return cls(name=str(config.get("name", name)), **built)


# ---------------------------------------------------------------------------------- ridge


def ridge_loo(F: np.ndarray, y: np.ndarray, log_lambdas: np.ndarray, *, loo: bool = False,
              validation: tuple[np.ndarray, np.ndarray] | None = None) -> tuple:
    r"""Ridge regression with intercept, λ chosen by exact leave-one-out cross-validation
    (or on a validation set).

    Minimises ``(1/n)‖y − β₀ − Fβ‖² + λ ‖β‖²`` (F centred, so β₀ = mean y − mean F·β) for
    λ = ``10^log_lambdas · s̄`` (s̄ the mean eigenvalue of the centred ``FᵀF/n``) and picks the
    λ with the smallest leave-one-out error ``(1/n) Σ_i ((y_i − ŷ_i)/(1 − H_ii))²``, with
    ``H_ii`` the leverages (the intercept's 1/n included); the constant predictor (λ = ∞)
    is a candidate too. Everything comes from one eigen-decomposition of the smaller of
    ``FᵀF`` (p×p) and ``FFᵀ`` (n×n), then O(n·min(n, p)) per λ.

    Args:
        F: features, shape (n, p).  y: targets, shape (n,).
        log_lambdas: grid of log10 relative penalties.
        loo: also return the leave-one-out fitted values ``(ŷ_i − H_ii y_i)/(1 − H_ii)``,
            shape (n,) — what the fit predicts at a training point it has not seen.
        validation: ``(F_val, y_val)`` of held-out points, shapes (m, p), (m,): λ minimises
            their mean squared error instead of the leave-one-out error. LOO is exact only
            if F does not depend on y; features learned from the same labels (a trained
            first layer, reused data) make it optimistic, and then only held-out points
            tell how much to shrink.

    Returns:
        ``(coef, intercept, λ)`` (+ ``loo_values`` if ``loo``): coef of shape (p,), the
        intercept, and the chosen λ (``inf`` for the constant predictor).
    """
    F = np.asarray(F, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = F.shape
    mean_F, mean_y = F.mean(axis=0), y.mean()
    Fc, yc = F - mean_F, y - mean_y
    if n >= p:
        s2, V = np.linalg.eigh(Fc.T @ Fc)
        s2 = np.clip(s2, 0.0, None)
        proj = V.T @ (Fc.T @ yc)                      # s_i (u_i·y)
        basis = Fc @ V                                # columns s_i u_i, shape (n, p)
        squares = basis**2

        def fit(lam):
            inverse = 1 / (s2 + n * lam)
            return basis @ (proj * inverse), squares @ inverse

        def coefficients(lam):
            return V @ (proj / (s2 + n * lam))
    else:
        s2, U = np.linalg.eigh(Fc @ Fc.T)
        s2 = np.clip(s2, 0.0, None)
        uy = U.T @ yc
        squares = U**2

        def fit(lam):
            shrink = s2 / (s2 + n * lam)
            return U @ (uy * shrink), squares @ shrink

        def coefficients(lam):
            return Fc.T @ (U @ (uy / (s2 + n * lam)))
    scale = max(s2.sum() / (n * p), 1e-300)
    lambdas = scale * 10.0 ** np.asarray(log_lambdas, dtype=float)
    leverage0 = 1.0 / n
    best_lam = np.inf
    if validation is not None:
        F_val, y_val = (np.asarray(a, dtype=float) for a in validation)
        if F_val.ndim != 2 or F_val.shape[1] != p or len(y_val) != len(F_val):
            raise ValueError(f"validation features {F_val.shape} and targets {y_val.shape} "
                             f"do not match the training features {F.shape}")
        F_val_c, yv = F_val - mean_F, y_val - mean_y
        best = float(np.mean(yv ** 2))
        for lam in lambdas:
            score = float(np.mean((yv - F_val_c @ coefficients(lam)) ** 2))
            if score < best:
                best, best_lam = score, lam
    else:
        best = float(np.mean((yc / (1 - leverage0)) ** 2)) if n > 1 else np.inf
        for lam in lambdas:
            fitted, leverage = fit(lam)
            leverage = np.minimum(leverage + leverage0, 1 - 1e-9)
            score = float(np.mean(((yc - fitted) / (1 - leverage)) ** 2))
            if score < best:
                best, best_lam = score, lam
    if best_lam == np.inf:
        return (np.zeros(p), float(mean_y), np.inf) + ((np.full(n, mean_y),) if loo else ())
    lam = best_lam
    coef = coefficients(lam)
    intercept = float(mean_y - mean_F @ coef)
    if not loo:
        return coef, intercept, float(lam)
    fitted, leverage = fit(lam)
    leverage = np.minimum(leverage + leverage0, 1 - 1e-9)
    fitted = fitted + mean_y
    return coef, intercept, float(lam), (fitted - leverage * y) / (1 - leverage)


def quadratic_features(x: np.ndarray) -> np.ndarray:
    """Explicit features of ``K(x, x') = (x·x')² + x·x' + 1``: shape (n, 1 + d + d(d+1)/2).

    ``φ(x)·φ(x') = K(x, x')`` exactly (``x_i²``, ``√2 x_i x_j`` for i < j, ``x_i``, 1).
    """
    n, d = x.shape
    i, j = np.triu_indices(d)
    weight = np.where(i == j, 1.0, math.sqrt(2.0))
    return np.hstack([x[:, i] * x[:, j] * weight, x, np.ones((n, 1))])


# ------------------------------------------------------------------------------- training


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


def unit_rows(rng: np.random.Generator, p: int, d: int) -> np.ndarray:
    W = rng.standard_normal((p, d))
    return W / np.linalg.norm(W, axis=1, keepdims=True)


def run_instance(config: DepthConfig, instance: TargetInstance, n: int,
                 rng: np.random.Generator, test: tuple[np.ndarray, np.ndarray, np.ndarray]
                 ) -> dict:
    """Train every method of ``config.sweep.methods`` on n samples; measure on ``test``.

    Args:
        instance: the target draw (W*, signs).
        n: the total number of training samples.
        rng: the generator of this run (data, initialisation).
        test: ``(x, y, h*)`` of the test set, shapes (n_t, d), (n_t,), and (n_t, r) or
            (n_t,) for the top features.

    Returns:
        dict: ``error_<method>`` (test MSE), ``M_W``, ``M_h``, ``time_<stage>`` (seconds).
    """
    net, tr, d = config.network, config.training, config.target.d
    grid = np.linspace(*tr.ridge_grid[:2], int(tr.ridge_grid[2]))
    sigma1, _ = _act(net.sigma1)
    sigma2, _ = _act(net.sigma2)
    x_test, y_test, h_test = test
    out: dict = {}
    x, y = instance.sample(n, rng)
    held_out = instance.sample(tr.validation, rng) if tr.validation else None

    def held_out_in(transform):
        """The held-out set in the feature map ``transform``, or None (leave-one-out)."""
        return None if held_out is None else (transform(held_out[0]), held_out[1])
    if tr.batches == "fresh":
        n1 = int(tr.stage1_fraction * n)
        n2 = (n - n1) // 2
        parts = np.split(np.arange(n), [n1, n1 + n2])
    elif tr.batches == "split":
        n1 = int(tr.stage1_fraction * n)
        parts = [np.arange(n1), np.arange(n1, n), np.arange(n1, n)]
    else:
        parts = [np.arange(n)] * 3
    methods = config.sweep.methods
    if "three_layer" in methods:
        started = time.perf_counter()
        W0 = unit_rows(rng, net.p1, d)
        b1 = rng.uniform(-net.bias1, net.bias1, net.p1)
        s = rng.choice([-1.0, 1.0], net.p1)
        eta = tr.eta1 * math.sqrt(config.target.d_eff)
        y1 = _without_linear_part(x[parts[0]], y[parts[0]]) if tr.remove_linear else y[parts[0]]
        x1 = x[parts[0]]
        if tr.batches == "fresh":
            B = len(parts[0]) // max(tr.steps1, 1)
            batches = [(x1[t * B:(t + 1) * B], y1[t * B:(t + 1) * B])
                       for t in range(tr.steps1)] if B > 0 else []
        else:
            batches = [(x1, y1)] * tr.steps1
        W1, _ = stage1(W0, b1, s, batches, eta, net.sigma1)
        out["M_W"] = float(np.sqrt(np.mean(np.sum((W1 @ instance.W.T) ** 2, axis=1))))
        out["time_stage1"] = time.perf_counter() - started
        started = time.perf_counter()
        i2 = parts[1]
        phi = sigma1(x[i2] @ W1.T + b1)
        reuse = tr.batches in ("reuse", "split")   # stages 2 and 3 share their samples
        beta, beta0, lam2, *loo = ridge_loo(phi, y[i2], grid, loo=reuse, validation=held_out_in(
            lambda x_: sigma1(x_ @ W1.T + b1)))
        h_fit = phi @ beta + beta0
        center, spread = h_fit.mean(), h_fit.std()
        h_test_fit = sigma1(x_test @ W1.T + b1) @ beta + beta0
        out["error_two_layer"] = float(np.mean((h_test_fit - y_test) ** 2))
        out["M_h"] = _multiple_correlation(h_test_fit, h_test)
        out["time_stage2"] = time.perf_counter() - started
        started = time.perf_counter()
        c = rng.standard_normal(net.p2)
        b2 = rng.uniform(-net.bias2, net.bias2, net.p2)
        spread = spread if spread > 0 else 1.0

        def features(x_, h=None):
            h = sigma1(x_ @ W1.T + b1) @ beta + beta0 if h is None else h
            return sigma2(np.outer((h - center) / spread, c) + b2)
        i3 = parts[2]
        # Reused data: stage 3 sees the second layer's leave-one-out pre-activations on the
        # training points (the in-sample ones are over-fitted to y and mislead the ridge).
        w3, w30, lam3 = ridge_loo(features(x[i3], loo[0] if reuse else None), y[i3], grid,
                                  validation=held_out_in(features))
        prediction = features(x_test) @ w3 + w30
        out["error_three_layer"] = float(np.mean((prediction - y_test) ** 2))
        out["time_stage3"] = time.perf_counter() - started
        out["lambda_stage2"], out["lambda_stage3"] = lam2, lam3
    if "kernel" in methods:
        started = time.perf_counter()
        coef, c0, _ = ridge_loo(quadratic_features(x), y, grid,
                                validation=held_out_in(quadratic_features))
        prediction = quadratic_features(x_test) @ coef + c0
        out["error_kernel"] = float(np.mean((prediction - y_test) ** 2))
        out["time_kernel"] = time.perf_counter() - started
    if "joint" in methods:
        started = time.perf_counter()
        error, m_w, step = joint_training(config, instance, x, y, rng, x_test, y_test,
                                          held_out)
        out["error_joint"], out["M_W_joint"], out["joint_stop"] = error, m_w, step
        out["time_joint"] = time.perf_counter() - started
    if "random_features" in methods:
        started = time.perf_counter()
        W_rf = unit_rows(rng, net.rf_features, d)
        b_rf = rng.uniform(-net.bias1, net.bias1, net.rf_features)
        coef, c0, _ = ridge_loo(sigma1(x @ W_rf.T + b_rf), y, grid,
                                validation=held_out_in(lambda x_: sigma1(x_ @ W_rf.T + b_rf)))
        prediction = sigma1(x_test @ W_rf.T + b_rf) @ coef + c0
        out["error_random_features"] = float(np.mean((prediction - y_test) ** 2))
        out["time_random_features"] = time.perf_counter() - started
    return out


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
    params = {"W1": unit_rows(rng, p1, d),
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
    m_w = float(np.sqrt(np.mean(np.sum((params["W1"] @ instance.W.T) ** 2, axis=1))))
    return float(np.mean((prediction - y_test) ** 2)), m_w, step
