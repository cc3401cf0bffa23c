"""The ``overlapdyn learnability LINK`` job: what online SGD, SGD with data reuse and AMP /
optimal spectral methods need to learn a target, in one table
(:func:`overlapdyn.limits.learnability`)."""

from __future__ import annotations

import argparse

from ..io.toml import load_model
from ..limits.profile import learnability
from ..storage.files import atomic_write_text
from .folders import writable_folder

__all__ = ["add_arguments", "run"]

EPILOG = ("Examples: overlapdyn learnability \"z1*z2\"; overlapdyn learnability "
          "\"sign(z1*z2*z3)\" --out outputs/parity; overlapdyn learnability "
          "examples/staircase.toml (a model file gives its [target]). A noiseless link of "
          "several fields without exact conditioning is refused with the fix: give --noise.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn learnability``."""
    parser.add_argument("link", help="the target g as a formula in z1..zk (\"z1*z2\", "
                        "\"sign(z1*z2*z3)\"), or a model TOML file (its [target])")
    parser.add_argument("--k", type=int, default=None,
                        help="number of latent fields (default: the largest z<r> used)")
    parser.add_argument("--noise", type=float, default=None,
                        help="label-noise variance Δ (default: the target's, else 0)")
    parser.add_argument("--order", type=int, default=None,
                        help="Hermite truncation order of a non-polynomial g's leap "
                        "(default: 8, 6, 4 for 1, 2, ≥ 3 fields)")
    parser.add_argument("--tol", type=float, default=1e-5,
                        help="accuracy of the conditional expectations (default: 1e-5)")
    parser.add_argument("--out", default=None,
                        help="also write learnability.npz, its .json summary and report.txt "
                        "into this folder")


def run(args: argparse.Namespace) -> None:
    """``overlapdyn learnability``: print the profile's table; save it into OUT if given."""
    link = args.link
    if link.endswith(".toml"):  # a model file (a missing one is an error, not a formula)
        link = load_model(link).target
    out = writable_folder(args.out) if args.out is not None else None
    profile = learnability(link, args.k, noise=args.noise, order=args.order, tol=args.tol)
    report = profile.describe()
    print(report)
    if out is not None:
        profile.save(out / "learnability.npz")
        atomic_write_text(out / "report.txt", report + "\n")
        print(f"wrote learnability.npz, learnability.json, report.txt to {out}")
