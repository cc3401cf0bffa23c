"""Command line: ``overlapdyn demo | expect | hermite | ode``.

Run ``overlapdyn COMMAND --help`` for the options of each command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sympy

from .demo import DemoConfig, run_demo
from .errors import ConfigError, OverlapdynError
from .gaussian import GaussianFields, expectation
from .hermite import hermite_expansion

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> None:
    run_demo(Path(args.out), DemoConfig(order=args.order, seed=args.seed))


def _expect(args: argparse.Namespace) -> None:
    fields = GaussianFields.overlaps(args.p, args.k, unit_teacher=args.unit_teacher)
    result = expectation(args.integrand, fields, parameters=args.param)
    print(sympy.latex(result) if args.latex else result)


def _hermite(args: argparse.Namespace) -> None:
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


def _ode(args: argparse.Namespace) -> None:
    from .runconfig import run_ode  # imports Numba and Matplotlib: only when needed

    out = args.out if args.out is not None else Path("outputs") / Path(args.config).stem
    run_ode(args.config, out, t_end=args.t_end)


def _matrix(text: str | None, name: str):
    import json

    import numpy as np

    if text is None:
        return None
    try:
        return np.array(json.loads(text), dtype=float)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"--{name} must be a JSON list of lists of numbers, e.g. "
                          f"'[[0.5, 0.1]]'; got {text!r}") from error


def _point(args: argparse.Namespace) -> None:
    import numpy as np

    from .analysis import find_fixed_point, stability
    from .drift import CompiledModel
    from .runconfig import load_run

    model, run = load_run(args.config)
    compiled = CompiledModel(model)
    M, Q, a = run.initial_state(model)
    M = _matrix(args.M, "M") if args.M else M
    Q = _matrix(args.Q, "Q") if args.Q else Q
    a = _matrix(args.a, "a") if args.a else a
    np.set_printoptions(precision=6, suppress=True, linewidth=100)
    print(f"model {model.name}: kernels {compiled.method}")
    dM, dQ, da = compiled.drift(M, Q, a)
    print(f"at M =\n{M}\nQ =\n{Q}\nrisk R = {compiled.risk(M, Q, a):.10g}")
    print(f"dM/dt =\n{dM}\ndQ/dt =\n{dQ}" + (f"\nda/dt = {da}" if da is not None else ""))
    values, _ = stability(compiled, M, Q, a)
    print(f"Jacobian eigenvalues (largest real parts): {values[:6]}")
    if args.fixed_point:
        fixed = find_fixed_point(compiled, M, Q, a)
        print(f"\nfixed point found from there (max |drift| {fixed.residual:.1e}):\n"
              f"M* =\n{fixed.M}\nQ* =\n{fixed.Q}\nrisk R* = {fixed.risk:.10g}\n"
              f"eigenvalues (largest real parts): {fixed.eigenvalues[:6]}\n"
              f"growth rate λ₊ = {fixed.growth_rate:.6g}"
              + (f" (leaving it from distance 1e-6 to 0.1 takes t ≈ "
                 f"{fixed.escape_time(1e-6):.4g})" if fixed.growth_rate > 0 else " (stable)"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="overlapdyn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="derive and check a few expectations; tabulate "
                               "Hermite coefficients and information exponents")
    demo.add_argument("--out", default="outputs/demo", help="output folder (default: %(default)s)")
    demo.add_argument("--order", type=int, default=8, help="Hermite truncation order")
    demo.add_argument("--seed", type=int, default=0, help="seed of the random Ω check")
    demo.set_defaults(run=_demo)

    expect = commands.add_parser(
        "expect", help="exact E[...] over Ω = [[Q, M], [Mᵀ, P]] of fields lambda1..p, z1..k")
    expect.add_argument("integrand", help="e.g. 'He3(lambda1)*He3(z1)'")
    expect.add_argument("--p", type=int, default=1, help="student fields lambda1..lambdap")
    expect.add_argument("--k", type=int, default=1, help="latent fields z1..zk")
    expect.add_argument("--unit-teacher", action="store_true", help="set P = I")
    expect.add_argument("--param", nargs="*", default=[], help="constant symbols allowed")
    expect.add_argument("--latex", action="store_true", help="print LaTeX")
    expect.set_defaults(run=_expect)

    hermite = commands.add_parser("hermite", help="Hermite coefficients of an activation")
    hermite.add_argument("activation", help="a name (relu, tanh, He3, …) or a formula in x")
    hermite.add_argument("--order", type=int, default=8)
    hermite.add_argument("--method", choices=["auto", "exact", "numeric"], default="auto")
    hermite.set_defaults(run=_hermite)

    ode = commands.add_parser("ode", help="integrate the overlap ODEs of a model TOML file "
                              "(see examples/) and write trajectory, config and figures")
    ode.add_argument("config", help="TOML file: [target], [student], [protocol], [integrate]")
    ode.add_argument("--out", default=None,
                     help="output folder (default: outputs/<config file stem>)")
    ode.add_argument("--t-end", type=float, default=None,
                     help="final time t = steps/d (overrides integrate.t_end)")
    ode.set_defaults(run=_ode)

    point = commands.add_parser(
        "point", help="drift, risk and Jacobian eigenvalues at an overlap point; optionally "
        "the fixed point (e.g. a plateau) reached by Newton's method from there")
    point.add_argument("config", help="model TOML file (its [integrate] start is the default)")
    point.add_argument("--M", help="M as JSON, e.g. '[[0.5, 0.1], [0.1, 0.5]]' (p×k)")
    point.add_argument("--Q", help="Q as JSON (p×p)")
    point.add_argument("--a", help="readout a as JSON (p), if trained")
    point.add_argument("--fixed-point", action="store_true",
                       help="solve dy/dt = 0 from the point; print it and its eigenvalues")
    point.set_defaults(run=_point)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``overlapdyn`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except OverlapdynError as error:
        print(f"overlapdyn {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
