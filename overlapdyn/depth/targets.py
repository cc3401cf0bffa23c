r"""Hierarchical Gaussian targets (SIGHT, MIGHT, deep MIGHT) and their sample-complexity map.

Dandi, Pesce, Zdeborová & Krzakala, *The Computational Advantage of Depth* (arXiv:2502.13961).

**One convention.** Inputs ``x ~ N(0, I_d)``. The first level has ``d₁ = round(d^ε₁)``
directions: ``W* ∈ R^{d₁×d}`` with orthonormal rows, so the latent fields ``z = W* x`` are
i.i.d. ``N(0, 1)``. Each further level ℓ = 1..L groups the features of level ℓ−1 into
disjoint blocks and forms

    h^(ℓ)_j = (1/√|B_j|) Σ_{i ∈ B_j} a*_i P(h^(ℓ−1)_i),        a*_i = ±1 (Rademacher),

with ``h^(0) = z``; the top level has r features and the label is
``y = g*(h^(L)_1..h^(L)_r)/…`` — for r = 1 (SIGHT and deep SIGHT) ``y = g*(h*)``, for r > 1
(MIGHT) ``y = (1/√r) Σ_s g*(h*_s)`` (a committee over the r top indices), plus ``√Δ ξ``.

* SIGHT: levels ``(ε,)``, r = 1: ``h*(x) = a*ᵀ P(W* x)/√(d^ε)``, one block of size d^ε.
* MIGHT: levels ``(ε,)``, r > 1: the d^ε first-level fields split into r blocks.
* deep MIGHT: levels ``(ε₁, ε₂, …)``, ``1 > ε₁ > ε₂ > …``: level ℓ has ``round(d^ε_ℓ)``
  features (blocks of ``d^(ε_{ℓ−1} − ε_ℓ)``), the last level r features.

**Normalisation (the paper's lemma).** ``P`` is rescaled to ``E[P(z)] = 0`` and
``E[P(z)²] = 1`` for ``z ~ N(0,1)``; as the blocks are disjoint, the terms of a block are
independent, so every hidden feature at every level has mean 0 and variance exactly 1 (not
only as d → ∞). ``inner = "P3"`` is ``(He₂ + He₃)/√8`` (``E[He₂²] = 2``, ``E[He₃²] = 6``).

The authors' code uses instead ``He₂/2! + He₃/3!`` (``inner = "P3-code"``, ``normalize =
false``): variance ``1/2 + 1/6 = 2/3``, so h* has variance 2/3 (``tanh(3h*)`` then sees a
gain ``3·√(2/3) ≈ 2.45`` on a unit-variance field) *and* the He₂ : He₃ split of the
variance is 3 : 1 instead of 1 : 3 — a stronger quadratic component, which makes the first
layer (driven by He₂) easier and lets the quadratic kernel explain more of the target.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

from ..derive.hermite import hermite_expansion, hermite_values, information_exponent
from ..errors import ConfigError
from ..model.activations import activation
from ..model.checks import check_finite, check_flag, check_integer, check_real, check_section
from ..storage.encoding import jsonable
from ..storage.results import Result

__all__ = [
    "HierarchicalTarget",
    "TargetInstance",
    "Thresholds",
    "compositional_exponents",
    "inner_polynomial",
    "thresholds",
]

#: Named inner polynomials: formula in x, and whether the library rescales it by default.
INNER_NAMES = {
    "P2": "He2(x)",
    "P3": "He2(x) + He3(x)",
    "P3-code": "He2(x)/2 + He3(x)/6",
}


def inner_polynomial(spec: str, *, normalize: bool = True) -> tuple[np.ndarray, float]:
    """Hermite coefficients of the inner function ``P`` (a polynomial), normalised or not.

    Args:
        spec: a name in ``INNER_NAMES`` (``"P3"``, ``"P3-code"``, ``"P2"``) or a
            polynomial formula in ``x`` (``"He2(x) + 2*He3(x)"``).
        normalize: rescale to ``E[P] = 0``, ``E[P²] = 1`` (drop ``c₀``, divide by the norm).

    Returns:
        ``(c, variance)``: ``c[n] = E[P He_n]/n!`` as floats (shape L+1) of the returned P,
        and ``Var P(z)`` of the *un-normalised* formula.

    Raises:
        ConfigError: a non-polynomial or constant formula.
    """
    formula = INNER_NAMES.get(spec, spec)
    try:
        act = activation(formula)
    except ValueError as error:
        raise ConfigError(f"inner polynomial {spec!r}: {error}") from error
    if not act.is_polynomial:
        raise ConfigError(f"inner function {spec!r} must be a polynomial in x (got {formula})")
    degree = max(sympy.Poly(act.expr, sympy.Symbol("x", real=True)).degree(), 1)
    expansion = hermite_expansion(act, degree)
    c = np.array([float(v) for v in expansion.coefficients])
    variance = float(sum(math.factorial(n) * c[n] ** 2 for n in range(1, len(c))))
    if variance <= 0:
        raise ConfigError(f"inner function {spec!r} is constant")
    if normalize:
        c = c.copy()
        c[0] = 0.0
        c /= math.sqrt(variance)
    return c, variance


@dataclass(frozen=True)
class HierarchicalTarget:
    """A SIGHT / MIGHT / deep MIGHT target (conventions in the module docstring).

    Attributes:
        d: input dimension.
        levels: ``(ε₁, ε₂, …)``, strictly decreasing in (0, 1); level ℓ has
            ``round(d^ε_ℓ)`` features.
        r: number of top-level indices (1: SIGHT; > 1: MIGHT).
        inner: the inner polynomial P (name or formula in x), applied at every level.
        normalize: rescale P to mean 0, variance 1 (the paper's lemma; default true).
        outer: the link g* (activation name or formula in x), e.g. ``"tanh(3*x)"``.
        noise: label-noise variance Δ.
    """

    d: int
    levels: tuple[float, ...] = (0.5,)
    r: int = 1
    inner: str = "P3"
    normalize: bool = True
    outer: str = "tanh(3*x)"
    noise: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "d", check_integer(self.d, "d", 2))
        object.__setattr__(self, "r", check_integer(self.r, "r", 1))
        if isinstance(self.levels, int | float):
            object.__setattr__(self, "levels", (self.levels,))
        levels = tuple(check_finite(e, "levels") for e in self.levels)
        if not levels:
            raise ConfigError("levels must list at least one ε")
        if any(not 0 < e < 1 for e in levels):
            raise ConfigError(f"every level ε must lie in (0, 1), got {levels}")
        if any(a <= b for a, b in zip(levels, levels[1:], strict=False)):
            raise ConfigError(f"levels must decrease strictly (1 > ε₁ > ε₂ > …), got {levels}")
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "normalize", check_flag(self.normalize, "normalize"))
        object.__setattr__(self, "noise", check_real(self.noise, "noise"))
        inner_polynomial(self.inner, normalize=self.normalize)  # validates
        try:
            activation(self.outer)
        except ValueError as error:
            raise ConfigError(f"outer: {error}") from error
        sizes = self.sizes
        for below, above in zip(sizes, sizes[1:], strict=False):
            if above > below:
                raise ConfigError(f"level sizes {sizes} must not grow (d = {self.d}, "
                                  f"levels = {levels}, r = {self.r})")
        if sizes[0] > self.d:
            raise ConfigError(f"d^ε₁ = {sizes[0]} exceeds d = {self.d}")

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of features per level — ``round(d^ε_ℓ)`` for ℓ = 1..L, then r on top.

        With a single level and r = 1 this is ``(d₁, 1)``: d₁ fields summed into h*.
        The top level always has r features (its ε is that of ``r``: ε_{L+1} = log r/log d).
        """
        below = tuple(max(int(round(self.d ** e)), 1) for e in self.levels)
        return (*below, self.r)

    @property
    def is_sight(self) -> bool:
        """One level and one top index, ``y = g*(a*ᵀ P(W* x)/√d₁)``."""
        return len(self.levels) == 1 and self.r == 1

    @property
    def d_eff(self) -> int:
        """``d₁ = round(d^ε₁)``: the dimension of span(W*)."""
        return self.sizes[0]

    def polynomial(self) -> np.ndarray:
        """Hermite coefficients ``c_n`` of the P actually used (normalised if ``normalize``)."""
        return inner_polynomial(self.inner, normalize=self.normalize)[0]

    def inner_function(self) -> Callable[[np.ndarray], np.ndarray]:
        """Vectorised P: array of any shape → same shape."""
        c = self.polynomial()
        scaled = np.array([math.sqrt(math.factorial(n)) * v for n, v in enumerate(c)])

        def P(z: np.ndarray) -> np.ndarray:  # noqa: N802 (the paper's name)
            return np.tensordot(scaled, hermite_values(len(c) - 1, z, normalized=True), axes=1)
        return P

    def outer_function(self) -> Callable[[np.ndarray], np.ndarray]:
        """Vectorised g*."""
        return activation(self.outer).func

    def blocks(self) -> list[np.ndarray]:
        """For each level ℓ = 1..L(+top), the block label of every feature of level ℓ−1.

        Features are split into contiguous blocks of (nearly) equal size.
        """
        sizes = self.sizes
        return [np.repeat(np.arange(m), np.diff(np.linspace(0, n, m + 1).round().astype(int)))
                for n, m in zip(sizes, sizes[1:], strict=False)]

    def draw(self, seed: int | np.random.Generator | None = None) -> TargetInstance:
        """Draw W* (orthonormal rows, shape (d₁, d)) and the signs a* of every level."""
        rng = np.random.default_rng(seed)
        G = rng.standard_normal((self.d, self.d_eff))
        Q, R = np.linalg.qr(G)
        W = (Q * np.sign(np.diag(R))).T
        signs = tuple(rng.choice([-1.0, 1.0], size=n) for n in self.sizes[:-1])
        return TargetInstance(self, W, signs)

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self), "target")

    @classmethod
    def from_dict(cls, values: dict) -> HierarchicalTarget:
        """Build from the ``[target]`` table; :class:`ConfigError` names unknown keys."""
        values = check_section(values, "target", cls)
        if "d" not in values:
            raise ConfigError("[target] needs d (the input dimension)")
        if "levels" in values:
            levels = values["levels"]
            values["levels"] = tuple(levels) if isinstance(levels, list | tuple) else (levels,)
        return cls(**values)


@dataclass(frozen=True)
class TargetInstance:
    """One draw of a hierarchical target: ``W*`` (d₁ × d, orthonormal rows), signs per level."""

    target: HierarchicalTarget
    W: np.ndarray
    signs: tuple[np.ndarray, ...]

    def features(self, x: np.ndarray) -> list[np.ndarray]:
        """Hidden features of every level: ``[z, h^(1), …, h^(L)]``, shapes ``(n, size_ℓ)``.

        Args:
            x: inputs, shape (n, d).
        """
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.target.d:
            raise ConfigError(f"x must have shape (n, {self.target.d}), got {x.shape}")
        return self.features_from_latent(x @ self.W.T)

    def features_from_latent(self, z: np.ndarray) -> list[np.ndarray]:
        """:meth:`features` from the latent fields ``z = W* x`` directly, shape (n, d₁)."""
        P = self.target.inner_function()
        out = [np.asarray(z, dtype=float)]
        for signs, labels in zip(self.signs, self.target.blocks(), strict=True):
            terms = P(out[-1]) * signs
            counts = np.bincount(labels)
            summed = np.zeros((terms.shape[0], len(counts)))
            np.add.at(summed.T, labels, terms.T)
            out.append(summed / np.sqrt(counts))
        return out

    def h_star(self, x: np.ndarray) -> np.ndarray:
        """The top-level features ``h*``, shape (n, r)."""
        return self.features(x)[-1]

    def clean_labels(self, x: np.ndarray) -> np.ndarray:
        """``g*(h*)`` (r = 1) or ``(1/√r) Σ_s g*(h*_s)`` (r > 1), shape (n,)."""
        return self.labels_from_top(self.h_star(x))

    def labels_from_top(self, h: np.ndarray) -> np.ndarray:
        """Clean labels from the top-level features h* (n, r), shape (n,)."""
        g = self.target.outer_function()
        return g(h).sum(axis=1) / math.sqrt(h.shape[1])

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)``: n fresh inputs (n, d) and labels (n,) with label noise of variance Δ."""
        x = rng.standard_normal((n, self.target.d))
        y = self.clean_labels(x)
        if self.target.noise > 0:
            y = y + math.sqrt(self.target.noise) * rng.standard_normal(n)
        return x, y


# ------------------------------------------------------------------ exponents and thresholds


def compositional_exponents(target: HierarchicalTarget, *, max_order: int = 8) -> dict:
    """Information exponents of the layers of a hierarchical target, level by level.

    ``ie_outer`` is the information exponent of g*, ``ie_inner`` that of P (from
    :func:`overlapdyn.derive.hermite.information_exponent`). The *compositional* exponent of y as a
    function of the level-ℓ features (ℓ = L: the top features h*, ℓ = 0: the fields z = W*x)
    is, to leading order in 1/√(block size), ``ie_outer · ie_inner^(L−ℓ)``: a He_q component
    of g* in h* is, through h* = Σ a_i P(z_i)/√|B|, a He_{q·ie_inner} component in each z_i.

    Returns:
        dict with ``ie_outer``, ``ie_inner``, ``per_level`` (list, ℓ = 0..L, of exponents),
        and ``assumptions_hold`` (the paper's: ie_outer = 1 and ie_inner = 2), with a
        ``reason`` when they do not.
    """
    ie_outer = information_exponent(target.outer, max_order=max_order)
    c = target.polynomial()
    ie_inner = next((n for n in range(1, len(c)) if abs(c[n]) > 1e-12), None)
    n_levels = len(target.levels)
    per_level = [ie_outer * ie_inner ** (n_levels - ell) for ell in range(n_levels + 1)]
    reasons = []
    if ie_outer != 1:
        reasons.append(f"g* = {target.outer} has information exponent {ie_outer}, not 1")
    if ie_inner != 2:
        reasons.append(f"P = {target.inner} has information exponent {ie_inner}, not 2")
    return {"ie_outer": ie_outer, "ie_inner": ie_inner, "per_level": per_level,
            "assumptions_hold": not reasons, "reason": "; ".join(reasons)}


@dataclass(frozen=True)
class Thresholds(Result):
    r"""Predicted sample-complexity exponents ``κ = log n / log d`` (up to log factors).

    **The jumps (Dandi et al. 2025, eq. (16)).** Write the representations of a deep MIGHT
    target as ``x`` (dimension d = d^e₀, e₀ = 1), ``z = W* x`` (d^ε₁ fields), the level
    features ``h^(1)`` (d^ε₂), …, and the r top features ``h*`` (e_{L+1} = log r/log d → 0,
    r fixed). The features of level ℓ are polynomials of degree k_{ℓ−1} in the d^e_{ℓ−1}
    fields below (k₀ = 1: z is linear in x; k_ℓ = k, the degree of P, above). Learning them
    is recovering a d^e_ℓ-dimensional span inside the d^(k_{ℓ−1} e_{ℓ−1}) polynomials of
    that degree in those fields — the first layer's problem, W*: a d^ε₁-dimensional
    subspace of R^d, at n ≈ d·d^ε₁, with d replaced by the number of polynomials — so
    layer ℓ needs

        n ≈ d^(k_{ℓ−1} e_{ℓ−1} + e_ℓ):   d^(1+ε₁),  d^(kε₁+ε₂),  …,  d^(kε_L)   (``jumps``).

    For SIGHT (one level) these are the theorem's 1 + ε (W*) and kε (h*). The layer-wise
    protocol learns level ℓ only after level ℓ − 1, so level ℓ is learned at the running
    maximum of the jumps up to ℓ. (An earlier "level-by-level" count used ε_{ℓ−1} + ε_ℓ for
    the ℓ-th span, as if the level-(ℓ−1) fields were linear coordinates; they are not — the
    next features are degree-k polynomials of them — and it gave 2.4 instead of 2.8 at
    ε = (0.8, 0.4), k = 3.)

    Attributes:
        eps, k, r, levels: the setting (k: degree of P, the same at every level).
        subspace: κ at which each level's span is recovered by a layer (ℓ = 1..L): the
            running maximum of ``jumps[:ℓ]`` — for SIGHT ``1 + ε`` (W* learned).
        features: κ at which the features built on level ℓ (degree-k polynomials of its
            d^ε_ℓ fields: the span of level ℓ + 1, or h* on the last level) are learned:
            the running maximum of ``jumps[:ℓ+1]`` — for SIGHT h* at ``max(1+ε, kε)``.
        deep: κ at which the layer-wise deep network learns the target (the last entry of
            ``features``): O(1) samples more suffice for g*.
        two_layer: κ at which a two-layer net (first layer trained: random features on the
            d^ε₁ latent directions) fits the degree-q part of the target, q = 1..q_max:
            ``max(1 + ε₁, q·ε₁)`` in the d₁ = d^ε₁ variables; its error keeps dropping in
            steps at those κ and never reaches the deep net's with a fixed budget, because
            g* composed with P has unbounded degree when g* is not a polynomial.
        kernel: κ at which a rotation-invariant kernel fits the degree-q part of y in x:
            ``q``; the quadratic kernel stops at q = 2 (``kernel[1]``) and explains only the
            degree-≤2 Hermite part of y.
        without_preconditioning: the h* threshold of a plain (non-preconditioned) step on
            W2: ``2kε`` (paper), versus ``kε``.
    """

    FORMAT = "overlapdyn.Thresholds"
    # version 2: deep targets' spans at kε_{ℓ−1} + ε_ℓ (eq. (16)); version 1 files hold
    # ε_{ℓ−1} + ε_ℓ and are recomputed from their setting on load
    VERSION = 2
    READS = (1, 2)

    eps: tuple[float, ...]
    k: int
    r: int
    subspace: tuple[float, ...]
    features: tuple[float, ...]
    deep: float
    two_layer: tuple[float, ...]
    kernel: tuple[float, ...]
    without_preconditioning: float

    @property
    def jumps(self) -> tuple[float, ...]:
        """The exponent of each layer's own problem, ℓ = 1..L+1 (eq. (16)):
        ``(1 + ε₁, kε₁ + ε₂, …, kε_{L−1} + ε_L, kε_L)`` — not yet maximised over the levels
        before (see the class docstring)."""
        return _jumps(self.eps, self.k)

    def describe(self) -> str:
        """A short text report."""
        lines = [f"hierarchical target: levels ε = {self.eps}, P of degree k = {self.k}, "
                 f"r = {self.r}  (κ = log n / log d)",
                 "  jumps (eq. (16) of Dandi et al. 2025): "
                 + ", ".join(f"{jump:.3g}" for jump in self.jumps)]
        last = len(self.subspace)
        for ell, (s, f) in enumerate(zip(self.subspace, self.features, strict=True), 1):
            what = "W*" if ell == 1 else f"level-{ell} span"
            built = "h*" if ell == last else f"level-{ell + 1} features"
            lines.append(f"  {what:<20} learned at κ = {s:.3g};  {built} (degree {self.k} in "
                         f"its d^{self.eps[ell - 1]:g} fields) at κ = {f:.3g}")
        lines.append(f"  deep (layer-wise) net: target at κ = {self.deep:.3g}")
        lines.append("  (no preconditioning in stage 2: h* at κ = "
                     f"{self.without_preconditioning:.3g})")
        steps = ", ".join(f"q={q}: {v:.3g}" for q, v in enumerate(self.two_layer, 1))
        lines.append(f"  two-layer net, degree-q part in d^ε₁ variables: {steps}")
        steps = ", ".join(f"q={q}: {v:.3g}" for q, v in enumerate(self.kernel, 1))
        lines.append(f"  kernel, degree-q part in x: {steps}; quadratic kernel saturates at q = 2")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {field.name: getattr(self, field.name)
                for field in dataclasses.fields(self)}, {}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> Thresholds:
        if header.get("version") == 1:   # the old count of deep spans: recompute
            return thresholds(tuple(header["eps"]), header["k"], header["r"],
                              q_max=len(header["two_layer"]))
        values = {field.name: header[field.name] for field in dataclasses.fields(cls)}
        return cls(**{name: tuple(value) if isinstance(value, list) else value
                      for name, value in values.items()})


def thresholds(eps: float | tuple[float, ...], k: int, r: int = 1, *,
               q_max: int = 6) -> Thresholds:
    """The predicted thresholds for a hierarchical target (see :class:`Thresholds`).

    These are exponents; for a SIGHT target :func:`overlapdyn.depth.recovery.weak_recovery`
    gives the constant too — the n at which W* becomes recoverable at a given d.

    Args:
        eps: ε (SIGHT/MIGHT) or the levels ``(ε₁, ε₂, …)`` (deep MIGHT).
        k: degree of the inner polynomial P (the paper's P_k).
        r: number of top-level indices (does not change the exponents).
        q_max: how many polynomial degrees to list for the shallow baselines.
    """
    levels = (eps,) if isinstance(eps, int | float) else tuple(eps)
    levels = tuple(check_finite(e, "eps") for e in levels)
    if any(not 0 < e < 1 for e in levels) or any(
            a <= b for a, b in zip(levels, levels[1:], strict=False)):
        raise ConfigError(f"eps must be decreasing values in (0, 1), got {levels}")
    k = check_integer(k, "k", 1)
    r = check_integer(r, "r", 1)
    learned = tuple(float(v) for v in np.maximum.accumulate(_jumps(levels, k)))
    subspace, features = learned[:-1], learned[1:]
    e1 = levels[0]
    two_layer = tuple(max(1 + e1, q * e1) for q in range(1, q_max + 1))
    kernel = tuple(float(q) for q in range(1, q_max + 1))
    return Thresholds(levels, k, r, subspace, features, features[-1],
                      two_layer, kernel, max(1 + e1, 2 * k * e1))


def _jumps(levels: tuple[float, ...], k: int) -> tuple[float, ...]:
    """``k_{ℓ−1} e_{ℓ−1} + e_ℓ`` for ℓ = 1..L+1 with e = (1, ε₁, …, ε_L, 0), k₀ = 1 and
    k_ℓ = k above (:class:`Thresholds`)."""
    exponents = (1.0, *levels, 0.0)
    degrees = (1, *([k] * len(levels)))
    return tuple(degree * below + above for degree, below, above
                 in zip(degrees, exponents[:-1], exponents[1:], strict=True))
