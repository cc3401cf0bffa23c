"""The choice of a model's derivation method and its module's cache key, remembered on disk.

Loading a compiled model from the code cache needs, before the module itself: the method
that derives its kernels (:meth:`Derivation.choose
<overlapdyn.derive.methods.Derivation.choose>`, which reads the model's functions with SymPy),
whether its kernels are coefficient tables (:func:`~overlapdyn.compile.compiled.uses_tables`,
from the size of their expansion) and the module's cache key (which, for a multi-index
target, holds the target's SymPy formula). All are pure functions of what the user wrote and
of the code that computes them, so they are computed once and written to the cache folder as
a small JSON file, keyed by a hash of a canonical text of (:func:`choice_inputs`):

* the model's dict (:meth:`Model.to_dict <overlapdyn.model.spec.Model.to_dict>`, name
  left out: formula strings, coefficients, P, options), the derivation's
  (:meth:`Derivation.to_dict <overlapdyn.derive.methods.Derivation.to_dict>`) and the
  build's options (``tables`` as given to :class:`~overlapdyn.compile.CompiledModel`);
* the library version and a hash of the source of :mod:`overlapdyn.model`,
  :mod:`overlapdyn.derive` and :mod:`overlapdyn.compile` (templates included), so an
  edited checkout never reads a choice an older code made;
* the versions of SymPy, SciPy and NumPy (the choice of a multi-index target measures
  Hermite truncation errors numerically).

A later process (or the same one) finds the file and rebuilds the
:class:`~overlapdyn.derive.methods.Choice` and the key from it, without SymPy: with the
model's own module cached, a warm :class:`~overlapdyn.compile.CompiledModel` of a model of
named activations never imports SymPy (it costs ≈ 0.3 s of a fresh process, and ≈ 0.1 s
more to read the functions). A file is written only after the choice and the key were
computed without error and without a warning, so a hit only skips work that succeeded
silently for the same inputs: a model, or a derivation, that fails to choose fails every
time, with its own error, and a choice that warns (a quadrature across a kink,
:class:`~overlapdyn.errors.KinkAccuracyWarning`) is computed, and warns, every time. Only the
package's own derivation classes are remembered (a user's subclass of
:class:`~overlapdyn.derive.methods.Derivation` is computed every time), and only models
whose activations are written as text. A file that cannot be read or does not match its
inputs is ignored and rewritten; one that cannot be written is skipped (the choice is then
computed in every process). The files (``overlapdyn_choice_*.json``, ≈ 0.5 kB each) are
removed by :func:`overlapdyn.compile.cache.clear` with the modules.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import warnings
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..derive.methods import (
    DERIVATIONS,
    Auto,
    Choice,
    Derivation,
    HermiteTruncation,
    Quadrature,
    derivation_from_dict,
)
from ..model.spec import Model
from ..storage.files import atomic_write_text
from ..storage.versions import __version__
from .cache import cache_dir, source_key

__all__ = ["choice_inputs", "choice_path", "remembered_choice", "source_digest"]

# the subpackages whose source decides a choice and a key (with the templates)
SOURCES = ("model", "derive", "compile")
# the libraries whose versions may change a choice
LIBRARIES = ("sympy", "scipy", "numpy")

_DIGEST: list[str] = []


def source_digest() -> str:
    """A hash of the text of every ``.py`` file of the subpackages ``model``, ``derive`` and
    ``compile`` (``SOURCES``; templates included), computed once per process (≈ 1 ms)."""
    if not _DIGEST:
        root = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256()
        for folder in SOURCES:
            for path in sorted((root / folder).rglob("*.py")):
                digest.update(f"{path.relative_to(root)}\n".encode() + path.read_bytes())
        _DIGEST.append(digest.hexdigest()[:20])
    return _DIGEST[0]


def _library_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _remembered(derivation: Derivation) -> bool:
    """Whether ``derivation`` is the package's own (its dict rebuilds an equal one)."""
    if type(derivation) not in DERIVATIONS.values():
        return False
    return not isinstance(derivation, Auto) or (type(derivation.truncation) is HermiteTruncation
                                                and type(derivation.quadrature) is Quadrature)


def choice_inputs(model: Model, derivation: Derivation, options: dict | None = None
                  ) -> str | None:
    """The canonical text of everything a choice and a key depend on (see the module's
    docstring), or ``None`` when they are not remembered (a derivation class of the user's,
    an activation given as an object rather than text)."""
    student, target = model.student, model.target
    if not (_remembered(derivation) and isinstance(student.activation, str)
            and isinstance(target.activation or target.expression, str)):
        return None
    spec = model.to_dict()
    spec.pop("name")
    return json.dumps({"model": spec, "derivation": derivation.to_dict(),
                       "options": options or {},
                       "overlapdyn": __version__, "source": source_digest(),
                       "libraries": {name: _library_version(name) for name in LIBRARIES}},
                      sort_keys=True)


def choice_path(inputs: str) -> Path:
    """The file that remembers the choice of ``inputs`` (:func:`choice_inputs`)."""
    return cache_dir() / f"overlapdyn_choice_{source_key(inputs)}.json"


def _read(path: Path, inputs: str) -> tuple[Choice, str, dict] | None:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved["inputs"] != inputs:   # a hash collision, or a file edited by hand
            return None
        choice = Choice(derivation_from_dict(saved["method"]),
                        {str(name): float(value)
                         for name, value in saved["truncation_errors"].items()},
                        str(saved["reason"]))
        return choice, str(saved["key"]), dict(saved["facts"])
    except Exception:  # noqa: BLE001 - missing, damaged or foreign: compute it instead
        return None


def _reissue(warning: warnings.WarningMessage) -> None:
    """Issue a caught warning again where it was raised: the caller's filters decide, with
    the registry of the module it came from (a warning shown once per place stays so)."""
    module = next((m for m in list(sys.modules.values())
                   if getattr(m, "__file__", None) == warning.filename), None)
    registry = None if module is None else vars(module).setdefault("__warningregistry__", {})
    warnings.warn_explicit(warning.message, warning.category, warning.filename,
                           warning.lineno, registry=registry,
                           module_globals=None if module is None else vars(module),
                           source=warning.source)


def remembered_choice(model: Model, derivation: Derivation,
                      compute: Callable[[], tuple[Choice, str, dict]],
                      options: dict | None = None) -> tuple[Choice, str, dict]:
    """``compute()`` — the :class:`~overlapdyn.derive.methods.Choice` of ``derivation`` for
    ``model``, the key of the module of its kernels and a dict of JSON values (facts of the
    build, e.g. whether its kernels are tables) — read from the cache folder when an earlier
    call with the same inputs (``options``: the build's, JSON values) wrote it, else
    computed and written there.

    Errors of ``compute`` propagate, and nothing is written for them; its warnings are
    passed on (issued again where they were raised, after the computation, through the
    caller's filters), and nothing is written for a computation that warned either.
    """
    inputs = choice_inputs(model, derivation, options)
    if inputs is None:
        return compute()
    path = choice_path(inputs)
    found = _read(path, inputs)
    if found is not None:
        return found
    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            choice, key, facts = compute()
    finally:   # raised or not, what compute warned is passed on
        for warning in caught:
            _reissue(warning)
    if caught:
        return choice, key, facts
    text = json.dumps({"inputs": inputs, "method": choice.method.to_dict(),
                       "truncation_errors": {str(name): float(value) for name, value
                                             in choice.truncation_errors.items()},
                       "reason": choice.reason, "key": key, "facts": facts}, sort_keys=True)
    with contextlib.suppress(OSError):   # a read-only cache: computed again next time
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    return choice, key, facts
