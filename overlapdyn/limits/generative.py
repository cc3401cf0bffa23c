r"""The generative exponent of a link (Damian, Pillaud-Vivien, Lee & Bruna 2024,
arXiv:2403.05529) and its multi-index counterpart.

Single index: ``k* = min{m ≥ 1 : λ_m² > 0}``, ``λ_m² = E_y[E[h_m(z) | y]²]``,
``h_m = He_m/√m!`` — the smallest information exponent of ``T∘g`` over all label
transformations T (statistical-query / low-degree lower bound ``n ≳ d^{k*/2}``; SGD with
data reuse reaches it). Multi-index: the order of the first non-zero conditional moment
tensor ``T_m(y) = E[He_m(z) | y]`` (``E[z|y]``, ``E[zzᵀ − I|y]``, …), with
``λ_m² = E_y‖T_m(y)‖²`` in the orthonormal basis ``h_ν`` and the subspace it lives on: the
range of the unfolding ``E_y[T_(1) T_(1)ᵀ]`` (k×k).

For a polynomial noiseless link the numerical answer comes with an **exact certificate**
where one is found: a non-zero exact ``E[g(z)^p He_ν(z)]`` with ``|ν| = k*`` (the exact
Gaussian engine :func:`overlapdyn.derive.expectation`) shows that ``T(y) = y^p`` has a
non-zero order-k* correlation, hence ``λ_{k*}² > 0``.

Conventions as in :mod:`overlapdyn.limits.links` (z ~ N(0, I_k); SPEC's fields).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..derive.gaussian import GaussianFields, expectation
from ..model.spec import Model, Target
from ..scaling.prediction import ScalingPrediction, predict_scaling
from ..storage.results import Result
from .conditional import conditional_gram
from .features import hermite_features
from .links import as_link

__all__ = ["GenerativeExponent", "generative_exponent", "moment_tensor_order",
           "predict_scaling_with_reuse"]


@dataclass(frozen=True)
class GenerativeExponent(Result):
    """The generative exponent of a link.

    Attributes:
        link, k, noise: the channel.
        exponent: k* (``inf``: none up to ``max_order`` — e.g. a link independent of z).
        powers: ``λ_m² = E_y‖T_m(y)‖²`` for m = 1..max_order searched (shape (max_order,)).
        subspace: (k, r) orthonormal columns spanning where ``T_{k*}`` lives (r = 0 if none).
        certificate: ``(m, p, ν, value)``: the exact non-zero ``E[g^p He_ν]``, or None.
        method, error: the conditioning engine and its estimated absolute error.
    """

    FORMAT = "overlapdyn.GenerativeExponent"
    VERSION = 1

    link: str
    k: int
    noise: float
    exponent: float
    powers: np.ndarray
    subspace: np.ndarray
    certificate: tuple | None
    method: str
    error: float

    def describe(self) -> str:
        star = "∞" if math.isinf(self.exponent) else str(int(self.exponent))
        lines = [f"generative exponent of y = {self.link} (k = {self.k}): k* = {star}",
                 "  λ_m² = " + ", ".join(f"{m}: {v:.4g}" for m, v in
                                         enumerate(self.powers, 1)),
                 f"  [{self.method}, error ≈ {self.error:.1g}]"]
        if self.certificate:
            m, p, nu, value = self.certificate
            lines.append(f"  exact certificate: E[g^{p} He_{list(nu)}(z)] = {value} ≠ 0")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"link": self.link, "k": self.k, "noise": self.noise, "exponent": self.exponent,
                "powers": self.powers.tolist(), "subspace": self.subspace.tolist(),
                "certificate": None if self.certificate is None else [
                    self.certificate[0], self.certificate[1], list(self.certificate[2]),
                    self.certificate[3]],
                "method": self.method, "error": self.error}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        fields = {k: v for k, v in self.to_dict().items() if k not in ("powers", "subspace")}
        return fields, {"powers": self.powers, "subspace": self.subspace}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> GenerativeExponent:
        c = header["certificate"]
        certificate = None if c is None else (int(c[0]), int(c[1]), tuple(c[2]), c[3])
        return cls(header["link"], int(header["k"]), float(header["noise"]),
                   float(header["exponent"]), arrays["powers"], arrays["subspace"],
                   certificate, header["method"], float(header["error"]))


def _unfolding(gram: np.ndarray, indices, k: int, m: int) -> np.ndarray:
    """``E_y[T_(1) T_(1)ᵀ]`` (k×k) from the Gram matrix of the order-m ``h_ν``:
    ``T_{i_1..i_m} = √(ν!) E[h_ν|y]`` with ν the counts of the indices."""
    position = {nu: a for a, nu in enumerate(indices)}

    def nu_of(idx):
        return tuple(idx.count(r) for r in range(k))

    out = np.zeros((k, k))
    for rest in itertools.product(range(k), repeat=m - 1):
        for i in range(k):
            for j in range(k):
                a, b = nu_of((i, *rest)), nu_of((j, *rest))
                scale = math.sqrt(math.prod(map(math.factorial, a)) *
                                  math.prod(map(math.factorial, b)))
                out[i, j] += scale * gram[position[a], position[b]]
    return out


def moment_tensor_order(link, k: int | None = None, *, noise: float | None = None,
                        max_order: int | None = None, tol: float = 1e-6) -> GenerativeExponent:
    """The generative exponent / first non-zero conditional moment tensor (module docstring).

    Args:
        link: formula in ``z1..zk``, SymPy expression, Target, Link or (one field) callable.
        k: number of fields (default: from the formula).
        noise: Δ (default: the link's, else 0).
        max_order: highest order searched (default 8 for one field, 4 for two, 3 for three
            or more).
        tol: accuracy asked of the conditional expectations; ``λ_m²`` below
            ``1e-9 + 10·error`` counts as 0.
    """
    channel = as_link(link, k, noise=noise)
    k = channel.k
    top = max_order or {1: 8, 2: 4}.get(k, 3)
    features = hermite_features(k, tuple(range(1, top + 1)))
    result = conditional_gram(channel, features, tol=tol)
    zero = 1e-9 + 10.0 * result.error
    powers, start, exponent, subspace = [], 0, math.inf, np.zeros((k, 0))
    for m in range(1, top + 1):
        count = math.comb(m + k - 1, k - 1)
        block = result.gram[start:start + count, start:start + count]
        powers.append(float(np.trace(block)))
        if math.isinf(exponent) and powers[-1] > zero:
            exponent = m
            values, vectors = np.linalg.eigh(_unfolding(block, features.indices[start:start +
                                                                                count], k, m))
            subspace = vectors[:, values > 1e-6 * values[-1]]
        start += count
    certificate = None
    if math.isfinite(exponent) and channel.noise == 0 and channel.expr is not None:
        certificate = _certificate(channel, int(exponent))
    return GenerativeExponent(channel.name, k, channel.noise, float(exponent), np.array(powers),
                              subspace, certificate, result.method, result.error)


def generative_exponent(link, k: int | None = None, **options) -> GenerativeExponent:
    """Alias of :func:`moment_tensor_order` (for one field it is the generative exponent)."""
    return moment_tensor_order(link, k, **options)


def _certificate(channel, m: int, max_power: int = 4, max_degree: int = 24):
    """An exact non-zero ``E[g^p He_ν(z)]``, |ν| = m, for a polynomial g, or None."""
    symbols = channel.symbols
    if not channel.expr.is_polynomial(*symbols):
        return None
    degree = sympy.Poly(channel.expr, *symbols).total_degree()
    fields = GaussianFields(tuple(map(str, symbols)), sympy.eye(channel.k))
    for p in range(1, max_power + 1):
        if p * degree + m > max_degree:
            break
        for nu in hermite_features(channel.k, m).indices:
            hermite = sympy.Mul(*(sympy.hermite_prob(n, z) for n, z in zip(nu, symbols,
                                                                             strict=True)))
            value = expectation([channel.expr ** p, hermite], fields)
            if value != 0:
                return m, p, nu, str(value)
    return None


def predict_scaling_with_reuse(target, k: int | None = None, *, order: int = 8,
                               noise: float | None = None, max_order: int | None = None,
                               tol: float = 1e-6) -> ScalingPrediction:
    """:func:`~overlapdyn.scaling.predict_scaling` with the reuse column filled: the
    prediction's :attr:`~overlapdyn.scaling.ScalingPrediction.generative` is the generative
    exponent k* of the target (:func:`moment_tensor_order`), so that
    ``prediction.with_reuse()`` gives online SGD with data reuse —
    ``n ≍ d^{max(k*−1, 1)}`` (× log d at k* = 2), η ∝ d^{−(k*−2)/2} for k* ≥ 3 (the
    statement of Arnaboldi et al. 2024 for k* ≤ 2; see :mod:`overlapdyn.scaling.prediction`).

    Args:
        target: a :class:`~overlapdyn.model.spec.Model`, its target, or a formula in
            ``z1..zk`` (then ``k`` if not read from the formula).
        k: number of latent fields of a formula.
        order: the Hermite truncation order of a non-polynomial target's leap.
        noise, max_order, tol: as :func:`moment_tensor_order` (noise: default the
            target's Δ).

    Examples: He3 → ℓ = 3 (n ≍ d²), k* = 1 (reuse: n ≍ d); He4 → ℓ = 4, k* = 2 (reuse:
    n ≍ d log d); sign(z1 z2 z3) → leap 3, k* = 3 (reuse: n ≍ d²).
    """
    if isinstance(target, Model):
        target = target.target
    channel = as_link(target, k, noise=noise)
    prediction = predict_scaling(target, None if isinstance(target, Target) else channel.k,
                                 order=order)
    star = moment_tensor_order(channel, max_order=max_order, tol=tol)
    return dataclasses.replace(prediction, generative=star.exponent)
