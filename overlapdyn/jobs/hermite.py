"""The ``overlapdyn hermite ACTIVATION`` job: the Hermite coefficients of an activation,
its truncation error and information exponent."""

from __future__ import annotations

import argparse

from ..derive.hermite import hermite_expansion
from ..errors import OverlapdynError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn hermite``."""
    parser.add_argument("activation", help="a name (relu, tanh, He3, …) or a formula in x")
    parser.add_argument("--order", type=int, default=8)
    parser.add_argument("--method", choices=["auto", "exact", "numeric"], default="auto")


def run(args: argparse.Namespace) -> None:
    """``overlapdyn hermite``: print c_n = E[f He_n]/n! and a_n = √n! c_n up to the order,
    the L²(γ) truncation error and the information exponent."""
    expansion = hermite_expansion(args.activation, args.order, method=args.method)
    print(f"{'n':>3}  {'c_n = E[f He_n]/n!':>24}  {'a_n = √n! c_n':>14}")
    for n, (c, a) in enumerate(zip(expansion.coefficients, expansion.normalized(),
                                   strict=True)):
        shown = str(c) if expansion.exact else f"{c:.12g}"
        print(f"{n:>3}  {shown:>24}  {a:>14.8f}")
    print(f"E[f²] = {expansion.norm2}; L²(γ) truncation error at order {expansion.order}: "
          f"{expansion.truncation_error:.3e} (relative {expansion.relative_truncation_error:.3e})")
    try:
        print(f"information exponent: {expansion.information_exponent()}")
    except OverlapdynError as error:
        print(f"information exponent: undetermined ({error})")
