r"""Polynomial features of the latent fields whose conditional expectations given y the limits
are made of: the normalised multivariate Hermite polynomials
``h_ν(z) = Π_r He_{ν_r}(z_r)/√(ν_r!)`` of one total degree ``m = |ν|``.

``E[h_ν(z) | y]`` over ``|ν| = m`` are the components of the order-m conditional moment
tensor ``T_m(y) = E[He_m(z) | y]`` (``T_1 = E[z|y]``, ``T_2 = E[zzᵀ − I | y]``, …) in an
orthonormal basis of symmetric tensors: ``(T_m)_{i_1..i_m} = √(ν!) E[h_ν | y]`` where ν counts
the indices.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import hermite_e

__all__ = ["HermiteFeatures", "hermite_features", "sphere_moment"]


@dataclass(frozen=True)
class HermiteFeatures:
    """The features ``h_ν``, ``ν ∈ indices``, as monomial expansions.

    Attributes:
        k: number of fields.
        indices: the multi-indices ν (each a k-tuple), in order.
        terms: for each feature, ``((exponents, coefficient), …)`` — its monomials.
    """

    k: int
    indices: tuple[tuple[int, ...], ...]
    terms: tuple[tuple[tuple[tuple[int, ...], float], ...], ...]

    def __len__(self) -> int:
        return len(self.indices)

    def values(self, z: np.ndarray) -> np.ndarray:
        """The features at points ``z`` (k, N) → (A, N)."""
        powers = {}
        out = np.zeros((len(self.terms), z.shape[1]))
        for a, terms in enumerate(self.terms):
            for exponents, coefficient in terms:
                product = np.full(z.shape[1], coefficient)
                for r, e in enumerate(exponents):
                    if e:
                        key = (r, e)
                        if key not in powers:
                            powers[key] = z[r] ** e
                        product = product * powers[key]
                out[a] += product
        return out

    def by_power(self, field: int, others: np.ndarray) -> np.ndarray:
        """The features as polynomials in one field with coefficients evaluated at the other
        fields: ``h_a(z) = Σ_p C[a, p] z_field^p`` with ``C`` of shape (A, P, N) at the points
        ``others`` (k − 1, N) (the fields in order, ``field`` left out); P = 1 + the highest
        power of that field."""
        top = max((e[field] for terms in self.terms for e, _ in terms), default=0)
        out = np.zeros((len(self.terms), top + 1, others.shape[1]))
        for a, terms in enumerate(self.terms):
            for exponents, coefficient in terms:
                rest = exponents[:field] + exponents[field + 1:]
                product = np.full(others.shape[1], coefficient)
                for row, e in zip(others, rest, strict=True):
                    if e:
                        product = product * row ** e
                out[a, exponents[field]] += product
        return out

    def sphere_values(self, squared_radius: np.ndarray) -> np.ndarray:
        """The features averaged over the sphere ``‖z‖² = s`` (uniform law), at ``s`` (N,)
        → (A, N): ``E[z^α | ‖z‖² = s] = s^{|α|/2} E_u[u^α]`` (:func:`sphere_moment`)."""
        out = np.zeros((len(self.terms), squared_radius.size))
        for a, terms in enumerate(self.terms):
            for exponents, coefficient in terms:
                mean = sphere_moment(exponents)
                if mean:
                    out[a] += coefficient * mean * squared_radius ** (sum(exponents) / 2)
        return out


def sphere_moment(alpha: tuple[int, ...]) -> float:
    """``E[u^α]`` for u uniform on the unit sphere of R^k (k = len(α)):
    ``Π_r (α_r − 1)!! / (k (k+2) ⋯ (k + |α| − 2))`` when every α_r is even, else 0."""
    if any(a % 2 for a in alpha):
        return 0.0
    k, total = len(alpha), sum(alpha)
    numerator = math.prod(math.prod(range(a - 1, 0, -2)) for a in alpha)
    denominator = math.prod(k + 2 * i for i in range(total // 2))
    return numerator / denominator


def _hermite_monomials(n: int) -> np.ndarray:
    """Monomial coefficients of ``He_n/√n!`` (lowest degree first)."""
    return hermite_e.herme2poly(np.eye(n + 1)[n]) / math.sqrt(math.factorial(n))


def hermite_features(k: int, order: int | tuple[int, ...]) -> HermiteFeatures:
    """All ``h_ν`` with ``|ν|`` in ``order`` (one degree or several), ν in lexicographic
    order (descending: ``(2,0), (1,1), (0,2)``)."""
    orders = (order,) if isinstance(order, int) else tuple(order)
    indices = tuple(nu for m in orders for nu in sorted(
        (nu for nu in itertools.product(range(m + 1), repeat=k) if sum(nu) == m),
        reverse=True))
    terms = []
    for nu in indices:
        factors = [[(e, c) for e, c in enumerate(_hermite_monomials(n)) if c] for n in nu]
        terms.append(tuple((tuple(e for e, _ in combo), float(math.prod(c for _, c in combo)))
                           for combo in itertools.product(*factors)))
    return HermiteFeatures(k, indices, tuple(terms))
