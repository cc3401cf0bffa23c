"""The ``overlapdyn expect INTEGRAND`` job: an exact Gaussian expectation over
Ω = [[Q, M], [Mᵀ, P]], printed as SymPy or LaTeX."""

from __future__ import annotations

import argparse

import sympy

from ..derive.gaussian import GaussianFields, expectation

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn expect``."""
    parser.add_argument("integrand", help="e.g. 'He3(lambda1)*He3(z1)'")
    parser.add_argument("--p", type=int, default=1, help="student fields lambda1..lambdap")
    parser.add_argument("--k", type=int, default=1, help="latent fields z1..zk")
    parser.add_argument("--unit-teacher", action="store_true", help="set P = I")
    parser.add_argument("--param", nargs="*", default=[], help="constant symbols allowed")
    parser.add_argument("--latex", action="store_true", help="print LaTeX")


def run(args: argparse.Namespace) -> None:
    """``overlapdyn expect``: print E[integrand] over the p + k fields."""
    fields = GaussianFields.overlaps(args.p, args.k, unit_teacher=args.unit_teacher)
    result = expectation(args.integrand, fields, parameters=args.param)
    print(sympy.latex(result) if args.latex else result)
