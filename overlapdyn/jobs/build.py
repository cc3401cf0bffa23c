"""What every command that builds a model shares: the ``--derivation`` option, and building
the compiled drift with a line before (what is built, why, cached or compiling now) and a
line after (how long it took)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from ..compile.compiled import CompiledModel, plan_build
from ..derive.methods import Derivation, parse_derivation
from ..io.toml import load_derivation
from ..model.spec import Model

__all__ = ["add_derivation_option", "build_model", "chosen_derivation"]


def add_derivation_option(parser: argparse.ArgumentParser) -> None:
    """``--derivation METHOD[:N]``, which overrides the file's ``[derivation]``."""
    parser.add_argument(
        "--derivation", default=None, metavar="METHOD[:N]",
        help="how the kernels are derived, overriding the file's [derivation]: exact, "
             "closed-form, hermite[:ORDER], quadrature[:NODES] or auto (default: the file's, "
             "else auto)")


def chosen_derivation(option: str | None, config: str | Path) -> Derivation | None:
    """The method the command line asks for (``--derivation``), else the file's
    ``[derivation]``, else None (the automatic choice).

    Raises:
        ConfigError: a bad option or section (both are checked, so a bad file is refused
            even when the option overrides it).
    """
    from_file = load_derivation(config)
    return parse_derivation(option) if option is not None else from_file


def build_model(model: Model, derivation: Derivation | None = None
                ) -> tuple[CompiledModel, float]:
    """``(CompiledModel(model, derivation), seconds it took)``, printing before the build
    what will be built (:meth:`~overlapdyn.compile.compiled.BuildPlan.describe`: the route,
    why, the truncation error, cached, or compiling now with a rough time range) and after
    it how long it took. The build includes one drift evaluation (at M = 0.1/√k, Q = I): Numba
    compiles (or loads) the drift at its first call, which is most of a cold build."""
    plan = plan_build(model, derivation)
    print(plan.describe(), flush=True)
    start = time.perf_counter()
    compiled = CompiledModel(model, derivation)
    compiled.rhs(0.0, compiled.pack(np.full((model.p, model.k), 0.1 / np.sqrt(model.k)),
                                     np.eye(model.p)))
    seconds = time.perf_counter() - start
    print(f"kernels of {model.name}: {compiled.method}, "
          f"{'loaded from the cache' if compiled.from_cache else 'compiled'} in "
          f"{seconds:.1f} s", flush=True)
    return compiled, seconds
