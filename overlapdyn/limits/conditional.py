r"""``E_y[E[h_a(z)|y] E[h_b(z)|y]]`` — the Gram matrix of conditional expectations every limit
of this stage is made of — for ``y = g(z) + √Δ ξ``, ``z ~ N(0, I_k)``.

The conditional law of z given y is handled exactly where it can be, and the method used is
recorded with an error estimate (the change between two resolutions):

``"atoms"``
    y takes finitely many values (``sign(z1*z2)``): one cell per value, ``E[h|y = c] =
    E[h 1_{g=c}]/P(g = c)``, each by Gauss–Legendre panels split at 0 (discontinuities on
    coordinate hyperplanes cost nothing). No density of y is ever formed.
``"branches"``
    one field, noiseless: g is cut into flat pieces (atoms of y, e.g. relu's ``y = 0``) and
    strictly monotone pieces (turning points and flat ends refined to machine precision);
    ``E[h | y = t] = Σ_r h(r) φ(r)/|g'(r)| / Σ_r φ(r)/|g'(r)|`` over the preimages r of t
    (bisection in each piece), and ``E_y[m_a m_b] = E_z[h_a(z) m_b(g(z))]`` by tanh-sinh
    panels on each piece.
``"radial"``
    ``g = ψ(‖z‖²)``: the same branch sums in ``s = ‖z‖² ~ χ²_k``, with z uniform on the
    sphere given s (its moments in closed form).
``"solved z_j"``
    several fields, noiseless, g = P/Q with ``P − tQ`` of degree 1 in a field z_j
    (``z1*z2``, ``z1/z2``, ``z1 + z2**3``): the change of variables ``z_j = r(z_{−j}, t)``
    gives the joint density ``N_h(t) = E_{z_{−j}}[h φ(r) |Q|/|∂(P − tQ)/∂z_j|]`` on grids
    graded logarithmically (trapezoid in the logarithm: every scale is resolved) in
    ``z_{−j}`` toward the zeros of the coefficient ``A = ∂(P − tQ)/∂z_j`` and in t toward
    the labels there, then ``∫ N_a N_b / N_1 dt``. The field is chosen so that those zeros
    are known (A a monomial, or a polynomial in the one other field) and the density
    concentrates only near them (``z1 + z1*z2`` is solved for z2, coefficient z1, not for
    z1, coefficient 1 + z2); at most three fields.
``"noisy"``
    Δ > 0: Bayes' formula, the smooth density ``N_h(t) = E_z[h(z) 𝒩(t; g(z), Δ)]`` on a
    uniform grid in t (trapezoid, spacing √Δ/6) over split Gauss–Legendre nodes in z. With
    several fields (~10⁶ nodes) the nodes are first deposited on a label grid 64 times finer
    than t's by linear weights, then convolved with the Gaussian narrowed by their h²/6: z1·z2
    with Δ = 0.1 in 3.6 s instead of 100 s, α_c unchanged to 1e-9.

A noiseless link of several fields that is none of these (``tanh(z1 + z2**3)``) is refused
with the fix: give it label noise Δ > 0 (the noisy engine then applies).

Conditioning on learned directions (:func:`conditional_gram` with ``basis``): with
``z = U a + V b`` (``[U V]`` orthonormal, ``a`` the learned fields), the label is ``(y, a)``:
the Gram matrix of features of b is averaged over ``a ~ N(0, I)`` (Gauss–Hermite) of the
Gram matrices of the links ``b ↦ g(U a + V b)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.interpolate
import scipy.optimize
import scipy.stats
import sympy
from numpy.lib.stride_tricks import sliding_window_view

from ..derive.hermite import gauss_hermite_rule
from ..errors import ConfigError, HeavyTailError, QuadratureError
from .features import HermiteFeatures
from .links import Link
from .rules import gaussian_density, graded_rule, panels, split_gaussian_rule

__all__ = ["ConditionalGram", "complete_basis", "conditional_gram", "conditional_moments"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_REACH = 12.0           # |z| beyond which the Gaussian mass (1e-32) and moments are dropped
_FLAT = 1e-13          # relative change of g that counts as none (rounding)
_MAX_ATOMS = 64         # more distinct values than this on the grid: y is not discrete


@dataclass(frozen=True)
class ConditionalGram:
    """``gram[a, b] = E_y[E[h_a|y] E[h_b|y]]`` for the features ``h``.

    Attributes:
        gram: (A, A) symmetric positive semi-definite.
        error: estimated absolute error of its entries (largest change between two
            resolutions; for the noisy engine also the missing mass).
        method: the engine used (module docstring).
        mass: total probability the engine found (1 up to ``error``).
    """

    gram: np.ndarray
    error: float
    method: str
    mass: float


@dataclass(frozen=True)
class _Channel:
    """A link in the free fields b (k_free of them) with the learned fields a fixed."""

    k_free: int
    expr: sympy.Expr | None         # in z1..z_kfree and a1..au
    params: tuple[sympy.Symbol, ...]
    g: Callable                     # (b (k_free, N), a (u,)) → (N,)
    noise: float


def _lambdify(expr, free: int, params) -> Callable:
    symbols = [sympy.Symbol(f"z{r}") for r in range(1, free + 1)] + list(params)
    compiled = sympy.lambdify(symbols, expr, modules=["scipy", "numpy"])

    def f(b: np.ndarray, a: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = compiled(*b, *a)
        return np.broadcast_to(np.asarray(out, dtype=float), b.shape[1:])
    return f


def _channel(link: Link) -> _Channel:
    if link.expr is None:
        function = link.numeric()
        return _Channel(1, None, (), lambda b, a: function(b), link.noise)
    return _Channel(link.k, link.expr, (), _lambdify(link.expr, link.k, ()), link.noise)


def _number(value: float) -> sympy.Expr:
    if abs(value - round(value)) < 1e-13:
        return sympy.Integer(round(value))
    return sympy.Float(value)


def conditional_gram(link: Link, features: HermiteFeatures, *, learned: np.ndarray | None = None,
                     tol: float = 1e-6) -> ConditionalGram:
    """The Gram matrix of the features' conditional expectations given y (and, with
    ``learned``, given the learned fields too).

    Args:
        link: the channel.
        features: polynomials in the ``k − u`` free fields.
        learned: (k, u) orthonormal columns U spanning the learned subspace, or None.
        tol: the largest acceptable ``error``.

    Raises:
        QuadratureError: the estimated error exceeds ``tol`` (the message says which engine
            and what to change).
        HeavyTailError: y has so heavy tails that more than ``tol`` of its mass lies beyond
            the grid.
        ConfigError: a noiseless multi-index link with no exact conditioning (add Δ > 0).
    """
    if learned is None:
        result = _gram(_channel(link), features, np.zeros(0), link)
    else:
        if link.expr is None:
            raise ConfigError("conditioning on learned fields needs the link as a formula, "
                              "not a callable")
        result = _conditioned(link, features, np.asarray(learned, float))
    if abs(1.0 - result.mass) > tol:
        raise HeavyTailError(
            f"the {result.method!r} engine found only {result.mass:.8f} of the probability of "
            f"y = {link.name}: y has heavy tails beyond its integration range (more than tol = "
            f"{tol:.2g} missing); loosen tol, or use a bounded transform of the label")
    if result.error > tol:
        smoother = ("a larger label noise Δ (a smoother channel)" if link.noise > 0
                    else "the link label noise Δ > 0 (a smooth channel)")
        raise QuadratureError(
            f"E[h|y] for the link {link.name!r} by the {result.method!r} engine is accurate to "
            f"about {result.error:.2g} only, more than tol = {tol:.2g}; loosen tol, or give "
            f"{smoother}")
    return result


def conditional_moments(link: Link, features: HermiteFeatures, labels) -> np.ndarray:
    """``E[h_a(z) | y = t]`` at each label t — the conditional expectations pointwise, where
    :func:`conditional_gram` averages their products over y.

    Engines (module docstring): ``"noisy"`` (Δ > 0: Bayes' formula on a uniform label grid of
    spacing √Δ/3 spanning the labels, then a cubic spline in t — the conditional law is
    smooth on the scale √Δ); ``"branches"`` (one field, noiseless: the preimage sums at each
    label; a label on a flat piece of g, an atom of y, gets that piece's average);
    ``"radial"`` (the same in ``‖z‖²``); ``"solved"`` (a noiseless link affine in one field
    given the others, e.g. ``z1*z2``: the field solved for at each label, the others on the
    graded rule of the threshold's engine); ``"atoms"`` (finitely many labels: each label's
    cell).

    Args:
        link: the channel.
        features: polynomials in the k fields.
        labels: (N,) labels.

    Returns:
        (A, N) array.

    Raises:
        ConfigError: a label the noiseless link cannot produce (no preimage); a noiseless link
            of several fields that is neither radial, discrete nor solvable in one field (the
            fix: label noise Δ > 0).
    """
    t = np.asarray(labels, dtype=float).ravel()
    if not np.all(np.isfinite(t)):
        raise ConfigError("labels must be finite numbers")
    channel, a = _channel(link), np.zeros(0)
    if channel.noise > 0:
        values = _noisy_pointwise(channel, features, a, t)
    elif channel.k_free == 1:
        derivative = _derivative(channel)
        values = _branch_pointwise(lambda v: channel.g(v[None], a), lambda v: derivative(v, a),
                                   lambda v: np.exp(-0.5 * v ** 2) / _SQRT_2PI, -_REACH, _REACH,
                                   lambda v: features.values(v[None]), t)
    elif (profile := _radial_profile(channel)) is not None:
        psi, dpsi = profile
        law = scipy.stats.chi2(channel.k_free)
        values = _branch_pointwise(psi, dpsi, law.pdf, 0.0, float(law.isf(1e-30)),
                                   features.sphere_values, t)
    elif (solved := _solvable_field(channel)) is not None:
        values = _solved_pointwise(channel, features, a, solved, t)
    else:
        cells = _atom_cells(channel, features, a, 2)
        if cells is None:
            raise ConfigError(
                f"E[h|y] at given labels of the noiseless link {link.name!r} of "
                f"{channel.k_free} fields is computed only for radial or discrete links and "
                "for links solvable in one field (z1*z2); give it label noise, e.g. "
                "noise=1e-2, and the smooth channel is used")
        cell_values, sums, mass = cells
        values = np.full((len(features), t.size), np.nan)
        for c, row, m in zip(cell_values, sums.T, mass, strict=True):
            on = np.abs(t - c) <= 1e-12 * (1.0 + abs(c))
            if m > 0:
                values[:, on] = (row / m)[:, None]
    bad = ~np.all(np.isfinite(values), axis=0)
    if bad.any():
        raise ConfigError(f"labels {t[bad][:3].tolist()} cannot come from the noiseless link "
                          f"{link.name!r} (no z gives them); labels with noise need the link's "
                          "label noise Δ")
    return values


def _branch_pointwise(h, dh, density, lo, hi, feats, t):
    """``E[feats | h(v) = t]`` for a one-dimensional latent v with ``density``: sums over the
    preimages on the monotone pieces, the piece's average on a flat piece (an atom)."""
    size = len(feats(np.zeros(1)))
    numerator, denominator = np.zeros((size, t.size)), np.zeros(t.size)
    atoms = {}
    for a, b, kind, value in _segments(h, lo, hi):
        if kind == 0:
            x, w = panels(a, b, 1.0, 0.125)
            w = w * density(x)
            sums, mass = atoms.get(value, (0.0, 0.0))
            atoms[value] = (sums + feats(x) @ w, mass + w.sum())
            continue
        r = _preimages(h, t, a, b, kind)
        found = np.isfinite(r)
        weight = density(r[found]) / np.maximum(np.abs(dh(r[found])), 1e-300)
        numerator[:, found] += feats(r[found]) * weight
        denominator[found] += weight
    out = np.full((size, t.size), np.nan)
    used = denominator > 0
    out[:, used] = numerator[:, used] / denominator[used]
    for value, (sums, mass) in atoms.items():
        on = np.abs(t - value) <= 1e-9 * (1.0 + abs(value))
        if mass > 0:
            out[:, on] = (sums / mass)[:, None]
    return out


def _noisy_pointwise(channel: _Channel, features: HermiteFeatures, a: np.ndarray,
                     t: np.ndarray) -> np.ndarray:
    sd = math.sqrt(channel.noise)
    z, w = _noisy_nodes(channel, a, 1.0)
    y = channel.g(z, a)
    step = sd / 3.0
    grid = np.arange(t.min() - 4 * step, t.max() + 4.5 * step, step)
    values = np.vstack([w[None], features.values(z) * w])
    densities = (_densities_binned if channel.k_free > 1 else _densities)(y, values, grid, sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        conditional = (densities[1:] / densities[0]).T
    return scipy.interpolate.CubicSpline(grid, conditional, axis=0)(t).T


def complete_basis(learned: np.ndarray) -> np.ndarray:
    """An orthonormal basis [U V] of R^k; V made of coordinate axes when U is."""
    k, u = learned.shape
    axes = np.abs(learned) > 1 - 1e-9
    if np.all(axes.sum(axis=0) == 1):
        used = set(np.argmax(np.abs(learned), axis=0))
        U = np.eye(k)[:, [int(i) for i in np.argmax(np.abs(learned), axis=0)]]
        V = np.eye(k)[:, [r for r in range(k) if r not in used]]
        return np.hstack((U, V))
    q, _ = np.linalg.qr(np.hstack((learned, np.eye(k))))
    return q[:, :k] * np.sign(np.sum(q[:, :k] * np.hstack((learned, np.eye(k)))[:, :k], 0))


def _conditioned(link: Link, features: HermiteFeatures, learned: np.ndarray) -> ConditionalGram:
    k, u = learned.shape
    basis = complete_basis(learned)
    a_sym = sympy.symbols(f"a1:{u + 1}")
    b_sym = sympy.symbols(f"z1:{k - u + 1}")
    new = (*a_sym, *b_sym)
    image = {z: sum((_number(basis[r, c]) * new[c] for c in range(k)), sympy.S.Zero)
             for r, z in enumerate(link.symbols)}
    expr = link.expr.xreplace(image)
    channel = _Channel(k - u, expr, tuple(a_sym), _lambdify(expr, k - u, a_sym), link.noise)
    grams, total, error, found, method = {}, 0.0, 0.0, 0.0, ""
    averages = []
    for size in ((24, 16) if u == 1 else (10, 7)):
        nodes, weights = gauss_hermite_rule(size)
        grid = np.array(np.meshgrid(*([nodes] * u), indexing="ij")).reshape(u, -1)
        mass = np.prod(np.array(np.meshgrid(*([weights] * u), indexing="ij")).reshape(u, -1), 0)
        total = 0.0
        for a, w in zip(grid.T, mass, strict=True):
            key = tuple(a)
            if key not in grams:
                grams[key] = _gram(channel, features, a, link)
            part = grams[key]
            total = total + w * part.gram
            if not averages:
                error += w * part.error
                found += w * part.mass
                method = part.method
        averages.append(total)
    # the average over the learned fields: its error is the change between two rules
    error += float(np.abs(averages[0] - averages[1]).max())
    return ConditionalGram(averages[0], error, f"{method} given {u} learned field(s)", found)


def _gram(channel: _Channel, features: HermiteFeatures, a: np.ndarray,
          link: Link) -> ConditionalGram:
    if channel.noise > 0:
        return _two_levels(lambda level: _noisy(channel, features, a, level), "noisy")
    if channel.k_free == 1:
        return _two_levels(lambda level: _branches_gaussian(channel, features, a, level),
                           "branches")
    if not channel.params and _radial_profile(channel) is not None:
        return _two_levels(lambda level: _radial(channel, features, level), "radial")
    atoms = _atoms(channel, features, a, 2)
    if atoms is not None:
        coarse = _atoms(channel, features, a, 1)
        return ConditionalGram(atoms[0], float(np.abs(atoms[0] - coarse[0]).max()), "atoms",
                               atoms[1])
    solved = _solvable_field(channel)
    if solved is None:
        raise ConfigError(
            f"the noiseless link {link.name!r} of {channel.k_free} fields has no exact "
            "conditioning here (it is not discrete, not radial, and no field enters it with "
            "degree 1 after clearing denominators with a coefficient whose zeros are known: "
            "a monomial, or a polynomial in the one other field; at most 3 fields); give it "
            "label noise, e.g. noise=1e-2, and the smooth channel is used")
    # three fields: the step-0.45 grid misses ~1e-4 of the mass; 1.5× finer reaches 1e-6
    return _two_levels(lambda level: _solved(channel, features, a, solved, level),
                       f"solved z{solved.j + 1}", (1.0, 2.0) if channel.k_free == 2 else
                       (1.5, 2.0))


def _two_levels(compute: Callable, method: str,
                levels: tuple[float, float] = (1.0, 2.0)) -> ConditionalGram:
    """The finer level's result; its error bounded by the change from the coarser one
    (the rules converge exponentially, so the finer error is far below that change)."""
    coarse_gram, _ = compute(levels[0])
    gram, mass = compute(levels[1])
    error = float(np.abs(gram - coarse_gram).max()) + abs(1.0 - mass)
    return ConditionalGram(gram, error, method, mass)


def _gram_from_cells(sums: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """``Σ_c S_a(c) S_b(c) / S_0(c)`` over cells with positive mass; sums (A, C)."""
    used = mass > 1e-300
    return (sums[:, used] / mass[used]) @ sums[:, used].T


# ------------------------------------------------------------------ atoms (discrete y)

def _grid(k: int, level: int) -> tuple[np.ndarray, np.ndarray]:
    reach, width, order = {1: (9.0, 0.5, 10), 2: (9.0, 0.5, 16), 3: (8.0, 2.0, 6)}[k]
    x, w = split_gaussian_rule(reach, width / level, order)
    points = np.array(np.meshgrid(*([x] * k), indexing="ij")).reshape(k, -1)
    weights = np.prod(np.array(np.meshgrid(*([w] * k), indexing="ij")).reshape(k, -1), 0)
    return points, weights


def _atom_cells(channel, features, a, level):
    """The labels of a discrete y, and per label the sums ``E[h 1_{y=c}]`` (A, C) and masses
    ``P(y = c)`` (C,); None when y is not discrete."""
    if channel.k_free > 3:
        return None
    probe = np.random.default_rng(0).standard_normal((channel.k_free, 4096))
    if np.unique(channel.g(probe, a)).size > _MAX_ATOMS:     # cheap: most links are not discrete
        return None
    z, w = _grid(channel.k_free, level)
    y = channel.g(z, a)
    values, inverse = np.unique(y, return_inverse=True)
    if len(values) > _MAX_ATOMS or not np.all(np.isfinite(values)):
        return None
    h = features.values(z) * w
    sums = np.array([np.bincount(inverse, row, minlength=len(values)) for row in h])
    mass = np.bincount(inverse, w, minlength=len(values))
    return values, sums, mass


def _atoms(channel, features, a, level):
    cells = _atom_cells(channel, features, a, level)
    if cells is None:
        return None
    _, sums, mass = cells
    return _gram_from_cells(sums, mass), float(mass.sum())


# ------------------------------------------------------------- branches (one field)

def _derivative(channel: _Channel) -> Callable:
    """g' of a one-field channel: symbolic (the field taken real, so |z|' = sign z) where
    SymPy can print it, else central differences."""
    def numeric(v, a):
        step = 1e-6 * np.maximum(1.0, np.abs(v))
        return (channel.g((v + step)[None], a) - channel.g((v - step)[None], a)) / (2 * step)
    if channel.expr is None:
        return numeric
    plain, real = sympy.Symbol("z1"), sympy.Symbol("z1", real=True)
    slope = sympy.diff(channel.expr.xreplace({plain: real}), real).xreplace({real: plain})
    # jumps (sign's DiracDelta) sit between pieces, never inside the monotone ones
    slope = slope.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    if slope.has(sympy.Derivative, sympy.Subs):
        return numeric
    try:
        derivative = _lambdify(slope, 1, channel.params)
    except Exception:   # noqa: BLE001  SymPy cannot print some derivatives (Max, …)
        return numeric
    return lambda v, a: derivative(v[None], a)


def _branches_gaussian(channel: _Channel, features: HermiteFeatures, a: np.ndarray, level: int):
    derivative = _derivative(channel)
    return _branch_gram(lambda v: channel.g(v[None], a), lambda v: derivative(v, a),
                        lambda v: np.exp(-0.5 * v ** 2) / _SQRT_2PI, -_REACH, _REACH,
                        lambda v: features.values(v[None]), level)


def _segments(h: Callable, lo: float, hi: float) -> list[tuple[float, float, int, float]]:
    """Cut [lo, hi] into pieces where h is flat (kind 0, value) or strictly monotone
    (kind ±1); boundaries refined to machine precision."""
    grid = np.linspace(lo, hi, 4000)
    values = h(grid)
    step = np.diff(values)
    # changes at rounding level (a saturated tanh) are flat: y is an atom there, not a
    # piece whose derivative is noise
    kind = np.where(np.abs(step) <= _FLAT * (1.0 + np.abs(values[1:])), 0,
                    np.sign(step)).astype(int)
    flat = kind == 0
    # a flat step needs a flat neighbour (three equal values): else it is a grid accident
    lone = flat & ~(np.r_[False, flat[:-1]] | np.r_[flat[1:], False])
    for i in np.flatnonzero(lone):
        kind[i] = kind[i - 1] if i > 0 else kind[i + 1]
    cuts = np.flatnonzero(np.diff(kind)) + 1           # point indices where the kind changes
    starts, ends = np.r_[0, cuts], np.r_[cuts, len(kind)]
    bounds = [lo] + [_refine(h, grid, j, kind[j - 1], kind[j]) for j in cuts] + [hi]
    return [(bounds[i], bounds[i + 1], int(kind[s]), float(values[s]))
            for i, (s, _) in enumerate(zip(starts, ends, strict=True))]


def _refine(h: Callable, grid: np.ndarray, j: int, before: int, after: int) -> float:
    left, right = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
    if before == 0 or after == 0:              # where h leaves (or reaches) a flat value
        flat_side = grid[j] if before == 0 else grid[j]
        value = h(np.array([flat_side]))[0]
        lo, hi = (grid[j], right) if before == 0 else (left, grid[j])
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            on_flat = abs(h(np.array([mid]))[0] - value) <= _FLAT * (1.0 + abs(value))
            lo, hi = ((mid, hi) if on_flat else (lo, mid)) if before == 0 else \
                ((lo, mid) if on_flat else (mid, hi))
        return 0.5 * (lo + hi)
    sign = 1.0 if before > 0 else -1.0         # a maximum after rising, a minimum after falling
    found = scipy.optimize.minimize_scalar(lambda v: -sign * h(np.array([v]))[0],
                                           bounds=(left, right), method="bounded",
                                           options={"xatol": 1e-13})
    return float(found.x)


def _preimages(h: Callable, t: np.ndarray, a: float, b: float, direction: int) -> np.ndarray:
    """The r in (a, b) with h(r) = t on a strictly monotone piece (NaN where none)."""
    lo, hi = np.full(t.shape, a), np.full(t.shape, b)
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        below = (h(mid) - t) * direction < 0
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    r = 0.5 * (lo + hi)
    ok = np.abs(h(r) - t) <= 1e-9 * (1.0 + np.abs(t))
    return np.where(ok, r, np.nan)


def _branch_gram(h, dh, density, lo, hi, feats, level):
    """Branch sums for a one-dimensional latent v with ``density`` on [lo, hi]."""
    step, width = 0.25 / level, 1.0
    pieces = _segments(h, lo, hi)
    atom_values, atom_sums, atom_mass = [], [], []
    nodes, weights = [], []
    # the number of preimages changes where y crosses a critical value (the value at a
    # piece's end): split every monotone piece there, so each panel's integrand is smooth
    critical = np.array(sorted({float(h(np.array([e]))[0]) for a, b, _, _ in pieces
                                for e in (a, b)}))
    cut = []
    for a, b, kind, value in pieces:
        if kind == 0:
            cut.append((a, b, kind, value))
            continue
        inside = _preimages(h, critical, a, b, kind)
        edges = np.unique(np.r_[a, inside[np.isfinite(inside)], b])
        cut += [(lo, hi, kind, value) for lo, hi in zip(edges[:-1], edges[1:], strict=True)
                if hi > lo]
    for a, b, kind, value in cut:
        x, w = panels(a, b, width, step)
        w = w * density(x)
        if kind == 0:
            match = [i for i, c in enumerate(atom_values) if c == value]
            sums = feats(x) @ w
            if match:
                atom_sums[match[0]] += sums
                atom_mass[match[0]] += w.sum()
            else:
                atom_values.append(value)
                atom_sums.append(sums)
                atom_mass.append(w.sum())
        else:
            nodes.append(x)
            weights.append(w)
    size = len(feats(np.zeros(1)))
    gram = np.zeros((size, size))
    mass = float(sum(atom_mass))
    if atom_values:
        gram += _gram_from_cells(np.array(atom_sums).T, np.array(atom_mass))
    if nodes:
        v, w = np.concatenate(nodes), np.concatenate(weights)
        t = h(v)
        numerator, denominator = np.zeros((size, v.size)), np.zeros(v.size)
        for a, b, kind, _ in pieces:
            if kind == 0:
                continue
            r = _preimages(h, t, a, b, kind)
            found = np.isfinite(r)
            rr = r[found]
            slope = np.maximum(np.abs(dh(rr)), 1e-300)
            weight = density(rr) / slope
            numerator[:, found] += feats(rr) * weight
            denominator[found] += weight
        conditional = numerator / np.where(denominator > 0, denominator, np.inf)
        gram += (feats(v) * w) @ conditional.T
        mass += float(w.sum())
    return 0.5 * (gram + gram.T), mass


# --------------------------------------------------------------- radial links

def _radial_profile(channel: _Channel):
    """ψ with g(z) = ψ(‖z‖²), or None."""
    if channel.expr is None or channel.k_free < 2:
        return None
    s = sympy.Symbol("s", positive=True)
    z = [sympy.Symbol(f"z{r}") for r in range(1, channel.k_free + 1)]
    profile = channel.expr.xreplace({z[0]: sympy.sqrt(s), **{zr: 0 for zr in z[1:]}})
    if profile.has(sympy.nan, sympy.zoo):
        return None
    psi = sympy.lambdify(s, profile, modules=["scipy", "numpy"])
    points = np.random.default_rng(0).standard_normal((channel.k_free, 7))
    with np.errstate(all="ignore"):
        direct = channel.g(points, np.zeros(0))
        radial = np.asarray(psi(np.sum(points ** 2, axis=0)), dtype=float)
    if not np.allclose(direct, radial, rtol=1e-10, atol=1e-12):
        return None
    derivative = sympy.lambdify(s, sympy.diff(profile, s), modules=["scipy", "numpy"])
    return (lambda v: np.broadcast_to(np.asarray(psi(v), float), v.shape),
            lambda v: np.broadcast_to(np.asarray(derivative(v), float), v.shape))


def _radial(channel: _Channel, features: HermiteFeatures, level: int):
    psi, dpsi = _radial_profile(channel)
    law = scipy.stats.chi2(channel.k_free)
    return _branch_gram(psi, dpsi, law.pdf, 0.0, float(law.isf(1e-30)),
                        features.sphere_values, level)


# ------------------------------------------------- several fields: one solved for

@dataclass(frozen=True)
class _SolvedField:
    """g = P/Q with ``P − tQ = A z_j + B``, A and B free of z_j (functions of the other fields
    w, the label t and the learned fields a).

    Where A vanishes the density of the solved field concentrates on every scale (``φ(t/A)/|A|``
    for small t), so the grid in w is graded logarithmically toward that zero set, which must be
    known: ``singular`` is ``"none"`` (A free of w), ``"axes"`` (A = c(t, a)·monomial in w: zeros
    on coordinate hyperplanes, graded toward 0) or ``"roots"`` (one other field, A a polynomial
    in it whose coefficients do not involve t: graded toward its real roots, per a).
    """

    j: int
    slope: Callable                  # A(w..., t, a...)
    offset: Callable                 # B(w..., t, a...)
    scale: Callable                  # Q(z..., a...)
    singular: str
    slope_coefficients: Callable | None     # a... → coefficients of A in w (highest first)
    critical: Callable | None        # (w..., a...) → t with B(w, t) = 0, given A(w) = 0


_SINGULAR_RANK = {"none": 0, "axes": 1, "roots": 2}


@functools.lru_cache(maxsize=64)
def _solvable_field(channel: _Channel) -> _SolvedField | None:
    """The best field to solve for (the zero set of its coefficient A easiest to grade
    toward), or None."""
    if channel.expr is None or channel.k_free > 3:
        return None
    numerator, denominator = sympy.fraction(sympy.together(channel.expr))
    z = [sympy.Symbol(f"z{r}") for r in range(1, channel.k_free + 1)]
    t = sympy.Symbol("t_label")
    found = []
    for j, zj in enumerate(z):
        try:
            p, q = sympy.Poly(numerator, zj), sympy.Poly(denominator, zj)
        except sympy.PolynomialError:
            continue
        if p.degree() > 1 or q.degree() > 1 or (p.degree() < 1 and q.degree() < 1):
            continue
        p1, p0 = (p.all_coeffs() if p.degree() == 1 else [0, p.as_expr()])
        q1, q0 = (q.all_coeffs() if q.degree() == 1 else [0, q.as_expr()])
        others = [zr for r, zr in enumerate(z) if r != j]
        slope_expr, offset_expr = sympy.expand(p1 - t * q1), sympy.expand(p0 - t * q0)
        kind = _singular_set(slope_expr, offset_expr, others, t)
        if kind is None:
            continue
        found.append((_SINGULAR_RANK[kind], j, zj, others, slope_expr, offset_expr, kind,
                      denominator))
    if not found:
        return None
    _, j, zj, others, slope_expr, offset_expr, kind, denominator = min(found, key=lambda f: f[:2])
    args = [*others, t, *channel.params]

    def compile_(expr, symbols):
        return sympy.lambdify(symbols, expr, modules=["scipy", "numpy"])

    coefficients = None
    if kind == "roots":
        coefficients = compile_(sympy.Poly(slope_expr, others[0]).all_coeffs(), channel.params)
    # on A = 0 the label of the singular point solves B(w, t) = 0 (B is affine in t)
    b1 = sympy.diff(offset_expr, t)
    critical = None if b1 == 0 else compile_(-offset_expr.subs(t, 0) / b1,
                                             [*others, *channel.params])
    return _SolvedField(j, compile_(slope_expr, args), compile_(offset_expr, args),
                        compile_(denominator, [*z, *channel.params]), kind, coefficients,
                        critical)


def _singular_set(slope: sympy.Expr, offset: sympy.Expr, others: list,
                  t: sympy.Symbol) -> str | None:
    """How the zero set of A in the other fields is known (:class:`_SolvedField`), or None.

    As A → 0 the density ``φ(B/A)/|A|`` concentrates on ``B = 0``: the grid resolves this
    only where B on the zero set of A is free of the other fields (``z1*z2*z3`` solved for z1:
    A = z2 z3, B = −t); ``z1 + z1*z2*z3`` solved for z2 (A = z1 z3, B = z1 − t) puts a
    t-dependent ridge at z1 = t on z3 = 0, which the grid would miss."""
    if not slope.free_symbols & set(others):
        return "none"
    try:
        poly = sympy.Poly(slope, *others)
    except sympy.PolynomialError:
        return None
    if len(poly.terms()) == 1:
        exponents = poly.terms()[0][0]
        for w, e in zip(others, exponents, strict=True):
            rest = set(others) - {w}
            if e and offset.subs(w, 0).free_symbols & rest:
                return None
        return "axes"
    if len(others) == 1 and not any(c.has(t) for c in poly.all_coeffs()):
        return "roots"
    return None


def _inner_rule(solved: _SolvedField, k: int, a: np.ndarray, step: float):
    """Points (k − 1, I) and weights (I,) for the other fields, densities included."""
    zeros = [0.0]
    if solved.singular == "roots":
        coefficients = np.array(solved.slope_coefficients(*a), dtype=float)
        roots = np.roots(np.trim_zeros(coefficients, "f")) if np.any(coefficients) else []
        zeros = sorted({float(r.real) for r in roots if abs(r.imag) < 1e-12}) or [0.0]
    x, w = graded_rule(zeros, math.exp(-30.0), _REACH, step)
    w = w * gaussian_density(x)
    points = np.array(np.meshgrid(*([x] * (k - 1)), indexing="ij")).reshape(k - 1, -1)
    weights = np.prod(np.array(np.meshgrid(*([w] * (k - 1)), indexing="ij")).reshape(
        k - 1, -1), 0)
    return points, weights, zeros


def _label_rule(channel: _Channel, solved: _SolvedField, a: np.ndarray, zeros, step: float):
    """Nodes and weights in the label t, graded toward its critical values: the labels of
    the points where A = 0 (one per zero of A, the other field at 0), else g(0)."""
    k = channel.k_free
    centres = []
    if solved.critical is not None and solved.singular != "none":
        for zero in zeros:
            with np.errstate(all="ignore"):
                value = float(np.asarray(solved.critical(*([zero] * (k - 1)), *a), float))
            if math.isfinite(value):
                centres.append(value)
    if not centres:
        value = float(channel.g(np.zeros((k, 1)), a)[0])
        centres = [value if math.isfinite(value) else 0.0]
    largest = math.exp(20.0)
    if channel.expr is not None and _is_polynomial(channel):
        # a polynomial label is bounded on the box that carries all the mass
        side = np.linspace(-9.0, 9.0, 19)
        z = np.array(np.meshgrid(*([side] * k), indexing="ij")).reshape(k, -1)
        largest = 2.0 * float(np.max(np.abs(channel.g(z, a)[:, None] - np.array(centres))))
    return graded_rule(centres, math.exp(-25.0), max(largest, 1.0), step)


@functools.lru_cache(maxsize=64)
def _is_polynomial(channel: _Channel) -> bool:
    fields = [sympy.Symbol(f"z{r}") for r in range(1, channel.k_free + 1)]
    return channel.expr.is_polynomial(*fields)


def _solved(channel: _Channel, features: HermiteFeatures, a: np.ndarray,
            solved: _SolvedField, level: int):
    """The joint density ``N_h(t) = E_w[h(w, r) φ(r) |Q/A|]``, ``r = −B/A``, on the label grid
    and ``∫ N_a N_b / N_1 dt``; h is split into powers of the solved field so that the w-sums
    are matrix products."""
    k, j = channel.k_free, solved.j
    inner, inner_w, zeros = _inner_rule(solved, k, a, (0.2 if k == 2 else 0.45) / level)
    t_all, t_w = _label_rule(channel, solved, a, zeros, (0.2 if k == 2 else 0.4) / level)
    # (P, I, A), each power contiguous: (T, I) @ (I, A) is the fast product here
    coefficients = np.ascontiguousarray(
        (features.by_power(j, inner) * inner_w).transpose(1, 2, 0))
    rows = list(inner[:, None, :])
    size = len(features)
    gram, mass = np.zeros((size, size)), 0.0
    chunk = max(1, 4_000_000 // inner.shape[1])
    for start in range(0, t_all.size, chunk):
        t = t_all[start:start + chunk, None]
        with np.errstate(all="ignore"):
            A = solved.slope(*rows, t, *a)
            root = np.broadcast_to(-solved.offset(*rows, t, *a) / A, (t.size, inner.shape[1]))
            Q = solved.scale(*rows[:j], root, *rows[j:], *a)
            density = np.exp(-0.5 * root ** 2) / _SQRT_2PI * np.abs(Q / A)
        density = np.where(np.isfinite(density), density, 0.0)
        root = np.where(density > 0, root, 0.0)
        N1 = density @ inner_w
        N = np.zeros((t.size, size))
        power = density
        for p, coefficient in enumerate(coefficients):
            N += power @ coefficient
            if p + 1 < len(coefficients):
                power = power * root
        used = N1 > 1e-300
        weight = t_w[start:start + chunk][used] / N1[used]
        gram += (N[used].T * weight) @ N[used]
        mass += float(t_w[start:start + chunk] @ N1)
    return 0.5 * (gram + gram.T), mass


def _solved_pointwise(channel: _Channel, features: HermiteFeatures, a: np.ndarray,
                      solved: _SolvedField, t: np.ndarray, level: int = 2) -> np.ndarray:
    """``E[h | y = t] = N_h(t)/N_1(t)`` at each label, with :func:`_solved`'s joint density
    ``N_h(t) = E_w[h(w, r) φ(r) |Q/A|]``, ``r = −B/A``, on its graded rule in the other
    fields; NaN where ``N_1(t)`` vanishes (a label the link cannot produce)."""
    k, j = channel.k_free, solved.j
    inner, inner_w, _ = _inner_rule(solved, k, a, (0.2 if k == 2 else 0.45) / level)
    rows = list(inner[:, None, :])
    out = np.full((len(features), t.size), np.nan)
    chunk = max(1, 500_000 // inner.shape[1])
    for start in range(0, t.size, chunk):
        labels = t[start:start + chunk, None]
        with np.errstate(all="ignore"):
            A = solved.slope(*rows, labels, *a)
            root = np.broadcast_to(-solved.offset(*rows, labels, *a) / A,
                                   (labels.size, inner.shape[1]))
            Q = solved.scale(*rows[:j], root, *rows[j:], *a)
            density = np.exp(-0.5 * root ** 2) / _SQRT_2PI * np.abs(Q / A) * inner_w
        density = np.where(np.isfinite(density), density, 0.0)
        root = np.where(density > 0, root, 0.0)
        mass = density.sum(axis=1)
        # every label of the chunk at once: the fields (k, T·I), the solved one inserted
        z = np.insert(np.tile(inner, (1, labels.size)), j, root.ravel(), axis=0)
        values = features.values(z).reshape(len(features), labels.size, -1)
        used = mass > 1e-300
        out[:, start:start + labels.size][:, used] = (
            np.einsum("ati,ti->at", values[:, used], density[used]) / mass[used])
    return out


# ---------------------------------------------------------------- label noise

def _noisy_nodes(channel: _Channel, a: np.ndarray, level: float):
    """Nodes z (k, N) and weights (N,) of the law of z for the noisy engine: one field, a
    uniform grid finer than the noise (spacing below √Δ/(2 max|g'|)); several fields, the
    split Gauss–Legendre grid."""
    if channel.k_free == 1:
        sd = math.sqrt(channel.noise)
        probe = np.linspace(-9.0, 9.0, 20001)
        slope = np.abs(np.diff(channel.g(probe[None], a))).max() / (probe[1] - probe[0])
        spacing = min(0.02, sd / (2.0 * max(slope, 1e-12))) / level
        count = min(int(18.0 / spacing) + 1, 60_001)
        z = np.linspace(-9.0, 9.0, count)[None]
        w = np.exp(-0.5 * z[0] ** 2)
        return z, w / w.sum()
    return _grid(channel.k_free, level)


def _noisy(channel: _Channel, features: HermiteFeatures, a: np.ndarray, level: int):
    sd = math.sqrt(channel.noise)
    z, w = _noisy_nodes(channel, a, level)
    y = channel.g(z, a)
    order = np.argsort(y)
    cumulative = np.cumsum(w[order])
    low = y[order][np.searchsorted(cumulative, 1e-15)]
    high = y[order][min(np.searchsorted(cumulative, 1 - 1e-15), y.size - 1)]
    t_all = np.arange(low - 10 * sd, high + 10 * sd, sd / (3.0 * level))
    dt = sd / (3.0 * level)
    values = np.vstack([w[None], features.values(z) * w])
    densities = (_densities_binned if channel.k_free > 1 else _densities)(y, values, t_all, sd)
    N1, N = densities[0], densities[1:].T                  # (T,), (T, A)
    used = N1 > 1e-300
    gram = (N[used] / N1[used, None]).T @ N[used] * dt
    return 0.5 * (gram + gram.T), float(N1.sum() * dt)


def _densities(y: np.ndarray, values: np.ndarray, t: np.ndarray, sd: float) -> np.ndarray:
    """``Σ_i values[:, i] 𝒩(t; y_i, sd²)`` at each t, summed exactly: (rows, T)."""
    out = np.empty((values.shape[0], t.size))
    chunk = max(1, 4_000_000 // y.size)
    for start in range(0, t.size, chunk):
        part = t[start:start + chunk, None]
        kernel = np.exp(-0.5 * ((part - y[None]) / sd) ** 2) / (sd * _SQRT_2PI)
        out[:, start:start + chunk] = values @ kernel.T
    return out


def _densities_binned(y: np.ndarray, values: np.ndarray, t: np.ndarray, sd: float,
                      sub: int = 64) -> np.ndarray:
    """:func:`_densities` for many nodes (a grid in several fields has ~10⁶): each node's
    values are deposited on a label grid ``sub`` times finer than t's by linear weights, and
    the grid convolved with the Gaussian of variance ``sd² − h²/6`` (h the bin width).
    Linear deposit smooths like a tent of variance h²/6, which the narrower Gaussian makes up
    for; what remains is ~1e-9 of the Gram matrix and ≤ 6e-6 relative in the conditional
    means of tail labels (against the exact sums, on z1·z2 and z1² + z2), for
    O(N + T·(20 sd/h)) work instead of O(N·T)."""
    h = (t[1] - t[0]) / sub
    half = int(math.ceil(10.0 * sd / h))
    origin = t[0] - half * h
    bins = (t.size - 1) * sub + 2 * half + 1
    position = (y - origin) / h
    left = np.floor(position).astype(np.int64)
    # nodes farther than 10 sd from every t weigh below e^-50 of a node at the same t
    inside = (left >= 0) & (left < bins - 1)
    left, theta = left[inside], position[inside] - left[inside]
    deposit = np.empty((values.shape[0], bins))
    for row, v in enumerate(values[:, inside]):
        deposit[row] = (np.bincount(left, v * (1.0 - theta), bins)
                        + np.bincount(left + 1, v * theta, bins))
    variance = sd * sd - h * h / 6.0
    offsets = np.arange(-half, half + 1) * h
    kernel = np.exp(-0.5 * offsets ** 2 / variance) / math.sqrt(2.0 * math.pi * variance)
    windows = sliding_window_view(deposit, kernel.size, axis=1)[:, ::sub]   # (rows, T, W)
    out = np.empty((values.shape[0], t.size))
    chunk = max(1, 4_000_000 // (values.shape[0] * kernel.size))   # bounds a product's copy
    for start in range(0, t.size, chunk):
        out[:, start:start + chunk] = windows[:, start:start + chunk] @ kernel
    return out
