r"""Which parts of the drift a model keeps: :class:`Terms`, ``Protocol(terms=…)``.

SPEC's drift is a sum of four named parts. With ``u_j = c_p a_j``, ``G_j = u_j e σ'(λ_j)``
and the label ``y = g(z) + √Δ ξ``, the second moment of the gradient splits, because the
noise ξ is independent of the fields and of mean zero, into

    E[G_j G_l] = B^noise_jl + B^var_jl,
    B^noise_jl = Δ u_j u_l E[σ'(λ_j) σ'(λ_l)],                 (label noise)
    B^var_jl   = u_j u_l E[σ'(λ_j) σ'(λ_l) (g(z) − ŷ)²]         (mse; g(z)² for correlation)

— ``B^var`` is the "I4" part: for a committee, a sum of the four-field integrals
``E[σ'σ'σσ]``. The parts of plain online SGD (SPEC) are then

=============  ===============================================================================
part           its share of ``(dM_jr/dt, dQ_jl/dt, da_j/dt)``
=============  ===============================================================================
``gradient``   ``(η E[G_j z_r],  η (E[G_j λ_l] + E[G_l λ_j]),  η_a c_p E[e σ(λ_j)])``
``noise``      ``(0,  (η²/n_b) B^noise_jl,  0)``
``variance``   ``(0,  (η²/n_b) B^var_jl,  0)``
``decay``      ``(−ηω M_jr,  −2ηω Q_jl,  0)``
=============  ===============================================================================

and ``gradient`` is every term first order in the learning rates. Spherical SGD
(``‖w_j‖² = d``) has no part of its own for the projection onto the sphere: each part carries
its share of it, so ``Q_jj = 1`` holds whatever is kept — ``gradient`` is
``η (E[G_j z_r] − M_jr E[G_j λ_j])`` and ``η (E[G_j λ_l] + E[G_l λ_j]) − η Q_jl (E[G_j λ_j] +
E[G_l λ_l])``, and ``noise`` / ``variance`` are ``−(η²/2n_b) M_jr B_jj`` and ``(η²/n_b) B_jl −
(η²/2n_b) Q_jl (B_jj + B_ll)`` (j ≠ l) with ``B`` = ``B^noise`` or ``B^var``. In the
large-batch state evolution (``n_b = αd``) ``gradient`` is the whole mean step — ``η E[G zᵀ]``
for M and ``η (E[G_j λ_l] + E[G_l λ_j]) + η² E[G_j φ]ᵀ Ω⁺ E[G_l φ]`` for Q, what one
full-batch gradient step does — and ``noise`` / ``variance`` are ``(η²/α) B``.

Presets name the combinations papers compare:

* ``"all"`` — SPEC's drift (the default);
* ``"gradient-flow"`` — ``gradient`` + ``decay``: every η² term off, the η → 0 limit of the
  ODE at fixed ηt;
* ``"classic"`` — ``gradient`` + ``noise`` + ``decay``: the "classic limit" of Arnaboldi,
  Stephan, Krzakala & Loureiro 2023 (arXiv:2302.05882; their code's ``noise_term=True,
  quadratic_terms=False``): in their time ``t·γ/p`` the I4 part is O(γ/p) and the noise
  part O(Δ γ/p), so it is the limit γ/p → 0 at fixed Δ γ/p.

In a TOML file: ``[protocol] terms = ["gradient", "noise", "decay"]`` or ``terms =
"classic"``; omitted, every part is kept. A part that the model does not have (``noise`` with
Δ = 0, ``decay`` with ω = 0) may be listed; keeping none that acts is refused (the overlaps
would not move).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import numpy as np

from ..errors import ConfigError, UnknownTermError

__all__ = ["PRESETS", "TERM_NAMES", "Terms"]

#: the parts of the drift, in the order of :attr:`Terms.coefficients`
TERM_NAMES = ("gradient", "noise", "variance", "decay")

#: named combinations of parts (see the module docstring)
PRESETS = {
    "all": TERM_NAMES,
    "gradient-flow": ("gradient", "decay"),
    "classic": ("gradient", "noise", "decay"),
}


@dataclass(frozen=True)
class Terms:
    """The parts of the drift a model keeps (each ``True``: kept; the default keeps all).

    Attributes:
        gradient: the first-order part: η E[G z], η (E[G λ] + E[G λ]ᵀ), η_a c_p E[e σ].
        noise: the label-noise part of the variance, (η²/n_b) Δ u_j u_l E[σ'_j σ'_l].
        variance: the I4 part of the variance, (η²/n_b) u_j u_l E[σ'_j σ'_l (g − ŷ)²].
        decay: weight decay, −ηω M and −2ηω Q.

    Build one from names with :meth:`of` (``Terms.of(["gradient", "noise"])``,
    ``Terms.of("classic")``); ``Protocol(terms=…)`` takes the same.

    Raises:
        ConfigError: a flag that is not a boolean, or every part switched off.
    """

    gradient: bool = True
    noise: bool = True
    variance: bool = True
    decay: bool = True

    def __post_init__(self) -> None:
        for name in TERM_NAMES:
            value = getattr(self, name)
            if not isinstance(value, bool | np.bool_):
                raise ConfigError(f"Terms.{name} must be true or false, got {value!r}")
            object.__setattr__(self, name, bool(value))
        if not any(getattr(self, name) for name in TERM_NAMES):
            raise ConfigError(f"every drift term is switched off: the overlaps would not move; "
                              f"keep at least one of {list(TERM_NAMES)}")

    @classmethod
    def of(cls, value: Terms | str | Iterable[str] | None) -> Terms:
        """The :class:`Terms` that ``value`` names: a :class:`Terms` (returned as is), None
        (every part), a preset (``"all"``, ``"gradient-flow"``, ``"classic"``), one part's
        name, or a list of parts' names (any order; repeats are harmless).

        Raises:
            UnknownTermError: a name that is neither a part nor a preset, listing both.
            ConfigError: no name at all, a value that is no name, or every part off.
        """
        if isinstance(value, Terms):
            return value
        if value is None:
            return cls()
        if isinstance(value, str):
            names = PRESETS.get(value, (value,))
        elif isinstance(value, Iterable) and not isinstance(value, bytes | dict):
            names = tuple(value)
        else:
            raise ConfigError(f"protocol.terms must be a list of drift terms {list(TERM_NAMES)} "
                              f"or a preset {list(PRESETS)}, got {value!r}")
        for name in names:
            if not isinstance(name, str):
                raise ConfigError(f"protocol.terms lists names, got {name!r} in {value!r}")
        unknown = [name for name in names if name not in TERM_NAMES]
        presets = [name for name in unknown if name in PRESETS]
        if presets:
            raise UnknownTermError(f"{presets[0]!r} is a preset, not a drift term: give it "
                                   f"alone, as protocol.terms = {presets[0]!r}, not in a list "
                                   f"(a list names the parts {list(TERM_NAMES)})")
        if unknown:
            raise UnknownTermError(
                f"unknown drift term{'s' if len(unknown) > 1 else ''} {unknown} in "
                f"protocol.terms; the terms are {list(TERM_NAMES)} (gradient: first order in "
                f"η; noise: the label-noise part of the η² variance; variance: its I4 part; "
                f"decay: weight decay), and the presets {list(PRESETS)}")
        if not names:
            raise ConfigError(f"protocol.terms is empty: every drift term would be off; keep "
                              f"at least one of {list(TERM_NAMES)}")
        return cls(**{name: name in names for name in TERM_NAMES})

    @property
    def names(self) -> tuple[str, ...]:
        """The parts kept, in the order of :data:`TERM_NAMES`."""
        return tuple(f.name for f in fields(self) if getattr(self, f.name))

    @property
    def full(self) -> bool:
        """Whether every part is kept (SPEC's drift)."""
        return all(getattr(self, name) for name in TERM_NAMES)

    @property
    def preset(self) -> str | None:
        """The preset these terms are, or None."""
        for name, parts in PRESETS.items():
            if self.names == parts:
                return name
        return None

    @property
    def coefficients(self) -> np.ndarray:
        """``[gradient, noise, variance, decay]`` as 1.0 / 0.0, shape (4,): the run-time
        factors of the compiled drift (``compile/templates/drift_loops.py``)."""
        return np.array([float(getattr(self, name)) for name in TERM_NAMES])

    def to_value(self) -> list[str]:
        """The kept parts' names, as a TOML or JSON file writes them (:meth:`of` reads it)."""
        return list(self.names)

    def __str__(self) -> str:
        label = " + ".join(self.names)
        return label if self.preset in (None, "all") else f"{label} ({self.preset})"
