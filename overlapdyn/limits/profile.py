r"""The learnability profile of a target: what each family of algorithms needs to learn
``y = g(z_1..z_k) + √Δ ξ`` from ``n`` samples in dimension ``d``, in one table with its
sources.

* **Online (one-pass) SGD** — the leap ℓ of g's Hermite expansion (the information exponent
  for one field): ``n ≍ d^max(ℓ−1, 1)`` up to logarithms (Ben Arous, Gheissari & Jagannath
  2021; Abbe, Boix-Adserà & Misiakiewicz 2023); :func:`overlapdyn.scaling.leaps.leap`.
* **Online SGD with data reuse** (each fresh sample used for two steps, or one
  extragradient step) — the generative exponent k* in place of ℓ: ``n ≍ d`` for k* = 1,
  ``d log d`` for k* = 2 (Arnaboldi, Dandi, Krzakala, Pesce & Stephan 2024, "Repetita
  iuvant"), and ``d^(k*−1)`` carried on to k* ≥ 3 (not a theorem there: they show such
  targets, e.g. sparse parities, are not learned in O(d log d));
  :func:`overlapdyn.limits.predict_scaling_with_reuse`.
* **The low-degree / statistical-query bound** — ``n ≳ d^max(k*/2, 1)`` (Damian,
  Pillaud-Vivien, Lee & Bruna 2024): no algorithm of that class does better;
  :func:`overlapdyn.limits.generative_exponent`.
* **AMP and optimal spectral methods at n = α d** — the trivial subspace (any α > 0), the easy
  subspace (α > α_c) and the staircase after it, and the hard subspace that no α = Θ(1)
  reaches (Troiani et al. 2024; Defilippis et al. 2025);
  :func:`overlapdyn.limits.weak_recovery_thresholds`.

Conventions as in :mod:`overlapdyn.limits.links`: SPEC's ``x ~ N(0, I_d)``, fields
``z ~ N(0, I_k)``, ``n = α d``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..model.checks import check_integer, check_real
from ..scaling.leaps import leap
from ..storage.results import Result, archive_part, restore_part
from .generative import GenerativeExponent, moment_tensor_order
from .links import as_link
from .thresholds import RecoveryThresholds, weak_recovery_thresholds

__all__ = ["LearnabilityProfile", "learnability"]

#: the Hermite truncation order of a non-polynomial link's leap, by number of fields
TRUNCATION = {1: 8, 2: 6}
TRUNCATION_MANY = 4


@dataclass(frozen=True)
class LearnabilityProfile(Result):
    """What online SGD (one pass, and with data reuse), the low-degree bound and AMP /
    spectral methods need for one link.

    Attributes:
        link, k, noise: the channel ``y = g(z) + √Δ ξ``.
        information_exponent: the lowest total degree ≥ 1 in g's Hermite support.
        leap: ℓ, the leap of that support (= the information exponent for k = 1).
        truncation: the Hermite order the leap was read at for a non-polynomial g (None:
            g is a polynomial, exact).
        generative: the generative exponent k* (first non-zero conditional moment tensor).
        thresholds: the weak-recovery thresholds (trivial / easy / hard subspaces, α_c, the
            staircase).
    """

    FORMAT = "overlapdyn.LearnabilityProfile"
    VERSION = 1

    link: str
    k: int
    noise: float
    information_exponent: int
    leap: int
    truncation: int | None
    generative: GenerativeExponent
    thresholds: RecoveryThresholds

    @property
    def sgd_exponent(self) -> float:
        """a of online SGD's ``n ≍ d^a``: max(ℓ − 1, 1)."""
        return float(max(self.leap - 1, 1))

    @property
    def low_degree_exponent(self) -> float:
        """a of the low-degree / SQ bound ``n ≳ d^a``: max(k*/2, 1) (inf when no conditional
        moment is non-zero up to the order searched)."""
        return max(self.generative.exponent / 2.0, 1.0)

    @property
    def reuse_exponent(self) -> float:
        """The low-degree bound's exponent, :attr:`low_degree_exponent` (the name this
        profile first had for it; what online SGD with reuse needs is
        :attr:`reuse_sgd_exponent`)."""
        return self.low_degree_exponent

    @property
    def reuse_sgd_exponent(self) -> float:
        """a of online SGD with data reuse's ``n ≍ d^a`` (× log d when k* = 2): max(k* − 1,
        1), the one-pass formula with k* for ℓ (:mod:`overlapdyn.scaling.prediction`); inf
        when k* is."""
        return max(self.generative.exponent - 1.0, 1.0)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The table: (algorithm family, what decides it, samples needed, source)."""
        truncated = f" (Hermite order ≤ {self.truncation})" if self.truncation else ""
        star = self.generative.exponent
        star_text = "∞ (none up to the order searched)" if math.isinf(star) else str(int(star))
        bound = ("no power of d found" if math.isinf(star)
                 else f"n ≳ d^{_power(self.low_degree_exponent)}")
        if math.isinf(star):
            reuse = "no power of d found"
        else:
            log = " log d" if star == 2 else ""
            reuse = (f"n ≍ d^{_power(self.reuse_sgd_exponent)}{log}"
                     + (" (k* ≥ 3: not O(d log d))" if star >= 3 else ""))
        first = " (first escape)" if self.k > 1 else ""
        return [
            ("online SGD (one pass)",
             f"leap ℓ = {self.leap}, information exponent {self.information_exponent}"
             + truncated,
             f"n ≍ d^{_power(self.sgd_exponent)} (up to logs)",
             "Ben Arous et al. 2021; Abbe, Boix-Adserà & Misiakiewicz 2023"),
            ("online SGD with data reuse (2 steps / extragradient)",
             f"generative exponent k* = {star_text}{first}", reuse,
             "Arnaboldi, Dandi, Krzakala, Pesce & Stephan 2024"),
            ("low-degree / SQ bound (any algorithm of that class)",
             f"generative exponent k* = {star_text}", bound,
             "Damian, Pillaud-Vivien, Lee & Bruna 2024"),
            *self._amp_rows()]

    def _amp_rows(self) -> list[tuple[str, str, str, str]]:
        source = "Troiani et al. 2024; Defilippis et al. 2025"
        rows = []
        for number, step in enumerate(self.thresholds.steps, 1):
            if step.kind == "hard":
                continue
            r = step.directions.shape[1]
            needs = ("n = α d, any α > 0" if step.kind == "trivial"
                     else f"n = α d, α > {step.alpha_needed:.6g}")
            rows.append((f"AMP / optimal spectral, step {number}",
                         f"{step.kind} subspace, {r} direction{'s' * (r != 1)}", needs,
                         source))
        hard = self.thresholds.hard_subspace.shape[1]
        if hard:
            rows.append(("AMP / optimal spectral", f"hard subspace, {hard} "
                         f"direction{'s' * (hard != 1)}", "not at n = Θ(d)", source))
        return rows

    def describe(self) -> str:
        rows = [("algorithms", "decided by", "samples needed", "source"), *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [f"learnability of y = {self.link} (k = {self.k}, Δ = {self.noise:g})"]
        for index, row in enumerate(rows):
            lines.append("  " + "  ".join(cell.ljust(width) for cell, width in
                                          zip(row, widths, strict=True)).rstrip())
            if index == 0:
                lines.append("  " + "  ".join("-" * width for width in widths))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"link": self.link, "k": self.k, "noise": self.noise,
                "information_exponent": self.information_exponent, "leap": self.leap,
                "truncation": self.truncation, "sgd_exponent": self.sgd_exponent,
                "reuse_exponent": self.reuse_exponent,
                "low_degree_exponent": self.low_degree_exponent,
                "reuse_sgd_exponent": self.reuse_sgd_exponent,
                "generative": self.generative.to_dict(),
                "thresholds": self.thresholds.to_dict()}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        generative, generative_arrays = archive_part(self.generative, "generative")
        thresholds, threshold_arrays = archive_part(self.thresholds, "thresholds")
        fields = {"link": self.link, "k": self.k, "noise": self.noise,
                  "information_exponent": self.information_exponent, "leap": self.leap,
                  "truncation": self.truncation, "generative": generative,
                  "thresholds": thresholds}
        return fields, {**generative_arrays, **threshold_arrays}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> LearnabilityProfile:
        truncation = header["truncation"]
        return cls(header["link"], int(header["k"]), float(header["noise"]),
                   int(header["information_exponent"]), int(header["leap"]),
                   None if truncation is None else int(truncation),
                   restore_part(GenerativeExponent, header["generative"], arrays, "generative"),
                   restore_part(RecoveryThresholds, header["thresholds"], arrays,
                                "thresholds"))


def _power(exponent: float) -> str:
    return str(int(exponent)) if float(exponent).is_integer() else f"{exponent:g}"


def learnability(link, k: int | None = None, *, noise: float | None = None,
                 order: int | None = None, tol: float = 1e-5) -> LearnabilityProfile:
    """The learnability profile of ``y = g(z) + √Δ ξ`` (module docstring).

    Args:
        link: a formula in ``z1..zk`` (``"z1*z2"``, ``"sign(z1*z2*z3)"``), a SymPy
            expression, a :class:`~overlapdyn.model.spec.Target` or a
            :class:`~overlapdyn.limits.links.Link`.
        k: number of fields (default: the largest ``z<r>`` used).
        noise: label-noise variance Δ (default: the link's, else 0).
        order: Hermite truncation order for the leap of a non-polynomial g (default 8 for
            one field, 6 for two, 4 for more; ignored for a polynomial).
        tol: accuracy asked of the conditional expectations (generative exponent and
            thresholds).

    Raises:
        ConfigError: tol ≤ 0, order < 1, a link given as a callable (the leap needs a
            formula), or what
            :func:`~overlapdyn.limits.weak_recovery_thresholds` refuses (e.g. a noiseless
            multi-index link without exact conditioning: give Δ > 0).
        QuadratureError, HeavyTailError: a conditional expectation not accurate to ``tol``.
    """
    tol = check_real(tol, "tol", positive=True)
    order = None if order is None else check_integer(order, "order", 1)
    channel = as_link(link, k, noise=noise)
    if channel.expr is None:
        raise ConfigError(f"the link {channel.name!r} is a callable: its leap needs its "
                          "Hermite expansion, so give it as a formula in z1..zk")
    polynomial = channel.expr.is_polynomial(*channel.symbols)
    truncation = None if polynomial else (order or TRUNCATION.get(channel.k, TRUNCATION_MANY))
    support_leap = leap(channel.expr, channel.k, order=truncation)
    degrees = [sum(nu) for nu in support_leap.expansion.support if any(nu)]
    return LearnabilityProfile(
        channel.name, channel.k, channel.noise, min(degrees, default=0), support_leap.value,
        truncation, moment_tensor_order(channel, tol=tol),
        weak_recovery_thresholds(channel, tol=tol))
