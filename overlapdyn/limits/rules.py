"""One-dimensional quadrature rules the conditioning engines are built from.

* :func:`tanh_sinh` — the double-exponential rule on a finite interval: spectrally accurate
  for integrands analytic inside the interval even when they have algebraic singularities
  (square roots at turning points of a link, kinks) at its ends, which is where the
  branch-sum engine puts the pieces' boundaries.
* :func:`split_gaussian_rule` — Gauss–Legendre panels for the standard Gaussian, split at 0:
  a discontinuity of the integrand on a coordinate hyperplane (``sign(z1 z2)``) sits on a
  panel boundary, so it costs no accuracy.
* :func:`graded_rule` — nodes graded logarithmically toward given points (``c ± e^s``, the
  trapezoid rule in s): accurate for integrands that vary on every scale near those points
  (``φ(t/(w − c))/|w − c|`` for small t, where a solved-for field's coefficient vanishes).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial.legendre import leggauss

__all__ = ["gaussian_density", "graded_rule", "panels", "split_gaussian_rule", "tanh_sinh"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def tanh_sinh(a: float, b: float, step: float,
              reach: float = 3.2) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the tanh-sinh rule on [a, b] with step ``step`` in the
    transformed variable, ``|t| ≤ reach``; nodes strictly inside (a, b)."""
    t = np.arange(-reach, reach + step / 2, step)
    u = 0.5 * math.pi * np.sinh(t)
    tail = np.exp(-2.0 * np.abs(u))                     # e^(−2|u|), no overflow
    near = (b - a) * tail / (1.0 + tail)                # distance to the closer end
    nodes = np.where(u < 0, a + near, b - near)
    sech2 = 4.0 * tail / (1.0 + tail) ** 2
    weights = 0.5 * (b - a) * sech2 * 0.5 * math.pi * np.cosh(t) * step
    keep = (nodes > a) & (nodes < b) & (weights > 0)
    return nodes[keep], weights[keep]


def panels(a: float, b: float, width: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`tanh_sinh` on ``ceil((b − a)/width)`` equal panels of [a, b]."""
    count = max(1, math.ceil((b - a) / width))
    edges = np.linspace(a, b, count + 1)
    parts = [tanh_sinh(lo, hi, step) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def split_gaussian_rule(reach: float, width: float,
                        order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for ``E[f(z)]``, z ~ N(0, 1): Gauss–Legendre of ``order`` nodes on
    panels of ``width`` covering [−reach, 0] and [0, reach] (symmetric; no node at 0);
    weights include the density and sum to 1."""
    x, w = leggauss(order)
    count = max(1, math.ceil(reach / width))
    edges = np.linspace(0.0, reach, count + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    half = ((hi - lo) / 2 * x + (hi + lo) / 2).ravel()
    half_w = ((hi - lo) / 2 * w).ravel()
    nodes = np.concatenate((-half[::-1], half))
    weights = np.concatenate((half_w[::-1], half_w)) * np.exp(-0.5 * nodes ** 2) / _SQRT_2PI
    return nodes, weights / weights.sum()


def graded_rule(centres, smallest: float, largest: float,
                step: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for ``∫_R f(w) dw`` graded logarithmically toward each centre, for
    integrands that vary on every scale near some points (``φ(t/(w − c))/|w − c|`` for small
    t): beyond the outermost centres ``w = c ± e^s``, s from log(smallest) to
    log(largest) by ``step``; between neighbours c < c' the logistic map
    ``w = c + (c' − c) σ(s)`` (log-graded toward both ends); the trapezoid rule in s."""
    c = np.unique(np.asarray(centres, float))
    s = np.arange(math.log(smallest), math.log(largest) + step / 2, step)
    half = np.exp(s)
    nodes = [c[0] - half[::-1], c[-1] + half]
    weights = [half[::-1] * step, half * step]
    for lo, hi in zip(c[:-1], c[1:], strict=True):
        reach = math.log((hi - lo) / smallest)
        u = np.arange(-reach, reach + step / 2, step)
        sigma = 0.5 * (1.0 + np.tanh(0.5 * u))          # logistic, no overflow
        nodes.append(lo + (hi - lo) * sigma)
        weights.append((hi - lo) * sigma * (1.0 - sigma) * step)
    return np.concatenate(nodes), np.concatenate(weights)


def gaussian_density(w: np.ndarray) -> np.ndarray:
    """The standard normal density φ(w)."""
    return np.exp(-0.5 * w ** 2) / _SQRT_2PI
