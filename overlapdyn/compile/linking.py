"""Shared loops and a model's functions: the generated code compiled once for every model.

The drift's loops, its Jacobian's and the simulator's SGD loop do not depend on the model;
what does (the kernels and their gradients, the activation, the target) is compiled in the
model's own generated module and passed to the shared loops as the addresses of its compiled
code (``templates/addresses.py``). A new model thus compiles only its own functions, each
once, for the type the shared module declares for it; a shared module is compiled once per
cache folder.

This leans on two parts of Numba below its documented API, both exercised by every drift the
test suite computes: a compile result's code address (``library.get_pointer_to_function`` of
``fndesc.llvm_func_name``, what Numba's own ``_get_jit_address`` reads) and the ``jit_addr``
field of a first-class function, which ``function_at`` fills. Numba calls its first-class
functions "experimental" and warns whenever it compiles code that uses them; only that
warning is silenced, only while compiling (:func:`quietly`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from types import ModuleType

import numpy as np

from ..errors import OverlapdynError
from .cache import load_module
from .render import module_source, template_body

__all__ = ["compile_quietly", "compile_typed", "function_addresses", "load_shared_module",
           "quietly"]


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Compile within this block without Numba's first-class-function warning."""
    from numba.core.errors import NumbaExperimentalFeatureWarning  # numba: only when compiling

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaExperimentalFeatureWarning)
        yield


def load_shared_module(key: str, title: str, templates: Sequence[str],
                       required: tuple[str, ...]) -> ModuleType:
    """The generated module ``key`` rendered from ``templates`` (after ``addresses.py``),
    loaded or built and cached like a model's (:func:`~overlapdyn.compile.cache.load_module`);
    functions compiled on import (explicit types) are compiled quietly."""
    with quietly():
        module, _ = load_module(key, lambda: module_source(
            title, [template_body(name) for name in ("addresses", *templates)]),
            required=required)
    return module


def compile_quietly(function, signature):
    """``function`` (a Numba dispatcher) compiled for ``signature`` (a Numba signature or
    argument types) if it is not yet, quietly; returns it."""
    if not function.signatures:
        with quietly():
            function.compile(getattr(signature, "args", signature))
    return function


def compile_typed(function, signature):
    """``function`` (a Numba dispatcher) compiled for ``signature`` (a Numba signature, its
    return type included) if it is not yet, then closed to other types — what
    ``@njit(signature)`` does when the module is imported, done on first use instead, so a
    fresh process loads from Numba's cache only the entries it calls. Quietly; returns it."""
    if tuple(signature.args) not in function.overloads:
        with quietly():
            function.compile(signature)
    function.disable_compile()   # as an eagerly typed function: other types are refused
    return function


def function_addresses(module: ModuleType, names: Sequence[str], kinds: Sequence) -> np.ndarray:
    """The addresses of the compiled code of ``module``'s functions ``names`` (int64, in that
    order), each compiled (or loaded from Numba's cache) for its first-class function type
    in ``kinds``."""
    addresses = np.empty(len(names), dtype=np.int64)
    for index, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        function = getattr(module, name)
        arguments = kind.signature.args
        if arguments not in function.overloads:
            # (a function compiled on import for its declared type has compiling disabled)
            function.compile(arguments)
        result = function.overloads[arguments]
        addresses[index] = result.library.get_pointer_to_function(result.fndesc.llvm_func_name)
        if not addresses[index]:
            raise OverlapdynError(f"the compiled function {name} of {module.__name__} has no "
                                  "address: clear the code cache "
                                  "(overlapdyn.compile.cache.clear())")
    return addresses
