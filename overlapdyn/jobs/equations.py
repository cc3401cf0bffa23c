"""The ``overlapdyn equations CONFIG`` job: a model's ODEs written out, as LaTeX, Mathematica
or SymPy — to check against a derivation by hand before trusting any code."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..derive.equations import drift_equations
from ..io.toml import load_run
from ..storage.files import atomic_write_text
from .build import add_derivation_option, chosen_derivation

__all__ = ["add_arguments", "run"]

EPILOG = """\
The rates dM/dt, dQ/dt (and da/dt) are written in the expectations A^z = E[G z],
A^λ = E[G λ], B = E[G Gᵀ] and D = E[e σ], these with the kernels (I2ss, I3ss, …) and the sums
over neurons kept as sums; then each kernel with its definition and formula. Nothing is
compiled.

  overlapdyn equations examples/saad_solla_erf_K2.toml
  overlapdyn equations examples/saad_solla_erf_K2.toml --format mathematica --out erf.m
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn equations``."""
    parser.add_argument("config", help="model TOML file")
    parser.add_argument("--format", choices=("latex", "mathematica", "sympy"), default="latex",
                        help="latex (an align* environment), mathematica (definitions to "
                             "paste into a notebook) or sympy (the expressions' text); "
                             "default latex")
    parser.add_argument("--no-kernels", action="store_true",
                        help="leave out the kernels' formulas (long for high-degree "
                             "polynomials)")
    parser.add_argument("--out", type=Path, help="write to this file instead of printing")
    add_derivation_option(parser)


def run(args: argparse.Namespace) -> None:
    """``overlapdyn equations``: print (or write) the model's equations."""
    model, _ = load_run(args.config)
    equations = drift_equations(model, chosen_derivation(args.derivation, args.config))
    text = equations.text(args.format, kernels=not args.no_kernels)
    if args.out is None:
        print(text)
    else:
        atomic_write_text(args.out, text + "\n")
        print(f"wrote the {args.format} equations of {model.name} to {args.out}")
