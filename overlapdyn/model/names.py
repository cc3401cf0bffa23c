"""The names of the activation registry, and the check of an activation a spec is given,
without SymPy.

:class:`~overlapdyn.model.spec.Target` and :class:`~overlapdyn.model.spec.Student` check
their activation when they are built. A bare name (``"erf"``, ``"relu"``, ``"He3"``; case
and surrounding spaces ignored, as :func:`~overlapdyn.model.activations.activation` reads
them) is checked against :data:`ACTIVATION_NAMES` and the pattern ``He<n>`` here, without
building its SymPy form, so that a model of named activations, and a warm
:class:`~overlapdyn.compile.CompiledModel` of it, never import SymPy (about 0.3 s of a fresh
process). Everything else (a formula in ``x``, an unknown name, a SymPy expression, a
callable) is resolved by :func:`~overlapdyn.model.activations.activation` as before, so it
fails with the same errors.
"""

from __future__ import annotations

import re

__all__ = ["ACTIVATION_NAMES", "check_activation", "is_activation_name"]

#: The named activations (lower case), in the order of the registry
#: (``overlapdyn.model.activations.NAMED``); ``He<n>`` (any n ≥ 0) is matched by pattern.
ACTIVATION_NAMES = ("linear", "square", "relu", "abs", "sign", "step", "erf", "tanh",
                    "sigmoid", "softplus")

_HERMITE = re.compile(r"he(\d+)")


def is_activation_name(name: str) -> bool:
    """Whether the lower-case word ``name`` is a registry name: one of
    :data:`ACTIVATION_NAMES` or ``he<n>``."""
    return name in ACTIVATION_NAMES or _HERMITE.fullmatch(name) is not None


def check_activation(spec: object) -> None:
    """Check that ``spec`` is an activation
    :func:`~overlapdyn.model.activations.activation` accepts: a known bare name here,
    without SymPy; anything else by resolving it.

    Raises:
        UnknownActivationError, OverlapdynError, ConfigError: as
            :func:`~overlapdyn.model.activations.activation` raises them.
    """
    if isinstance(spec, str):
        text = spec.strip()
        if text.isidentifier() and is_activation_name(text.lower()):
            return
    from .activations import activation  # SymPy: formulas, unknown names, other objects

    activation(spec)
