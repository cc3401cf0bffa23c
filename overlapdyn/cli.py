"""Command line: ``overlapdyn demo | expect | hermite | ode | point | validate | depth``.

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


def _validate(args: argparse.Namespace) -> None:
    """``overlapdyn validate``: ODE vs finite-d SGD over several d, resumable (see
    :func:`overlapdyn.validate.validate`); writes report.txt, report.json, validation.png and
    gap_scaling.png into OUT and keeps the runs in OUT/store."""
    import dataclasses

    from .plot import plot_gap_scaling, plot_validation, save_figure
    from .runconfig import load_run
    from .validate import validate

    model, config = load_run(args.config)
    changes = {name: value for name, value in (("t_end", args.t_end),
                                                ("n_points", args.points)) if value is not None}
    config = dataclasses.replace(config, **changes)
    times = config.save_at().grid()
    init = None if config.M0 is None else (config.M0, config.Q0)
    out = Path(args.out) if args.out is not None else (
        Path("outputs") / f"validate-{Path(args.config).stem}")
    print(f"{model.name} [fingerprint {model.fingerprint()}]: d ∈ {tuple(args.d)}, "
          f"{args.seeds} seeds, {len(times)} times up to t = {times[-1]:g}; runs kept in "
          f"{out / 'store'}")
    report = validate(model, args.d, times, seeds=args.seeds, n_test=args.n_test, init=init,
                      store=out / "store", progress=True)
    table = report.table()
    (out / "report.txt").write_text(table + "\n")
    report.save(out / "report.json")
    save_figure(plot_validation(report), out / "validation.png")
    save_figure(plot_gap_scaling(report), out / "gap_scaling.png")
    print(table)
    print(f"wrote report.txt, report.json, validation.png, gap_scaling.png to {out}")


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


def _depth(args: argparse.Namespace) -> None:
    from .depth import depth_job

    depth_job(args.config, args.out, points=args.points, seeds=args.seeds, d=args.d,
              progress=not args.quiet)


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

    check = commands.add_parser(
        "validate", help="simulate SGD at several d, compare with the ODE started at each "
        "run's overlaps, and fit how the gap shrinks with d (theory d^-1/2); resumable")
    check.add_argument("config", help="model TOML file; its [integrate] section sets the "
                       "time grid (t_first, t_end, n_points, log) and any warm start M0, Q0")
    check.add_argument("--d", type=int, nargs="+", default=[250, 1000, 4000],
                       help="dimensions, at least two (default: %(default)s)")
    check.add_argument("--seeds", type=int, default=8, help="runs per d (default: 8)")
    check.add_argument("--t-end", type=float, default=None,
                       help="final time t = steps/d (overrides integrate.t_end)")
    check.add_argument("--points", type=int, default=None,
                       help="saved times, t = 0 included (overrides integrate.n_points)")
    check.add_argument("--n-test", type=int, default=0,
                       help="held-out samples per saved time for a test-set risk (default: 0)")
    check.add_argument("--out", default=None, help="output folder (default: "
                       "outputs/validate-<config file stem>); runs are kept in OUT/store, and "
                       "rerunning the same command resumes from them")
    check.set_defaults(run=_validate)

    depth = commands.add_parser(
        "depth", help="hierarchical (SIGHT) target: three-layer layer-wise training vs "
        "two-layer, kernel and random features over κ = log n/log d (the paper's Fig. 2)")
    depth.add_argument("config", help="TOML file: [target], [network], [training], [sweep] "
                       "(see examples/depth/fig2.toml)")
    depth.add_argument("--out", default=None,
                       help="output folder (default: outputs/depth-<config file stem>)")
    depth.add_argument("--points", type=int, default=None, help="κ points (overrides sweep)")
    depth.add_argument("--seeds", type=int, default=None, help="seeds (overrides sweep)")
    depth.add_argument("--d", type=int, default=None, help="input dimension (overrides target)")
    depth.add_argument("--quiet", action="store_true", help="no progress bar")
    depth.set_defaults(run=_depth)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``overlapdyn`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except OverlapdynError as error:
        print(f"overlapdyn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"overlapdyn {args.command}: interrupted" + (
            "; finished runs are kept in the store, rerun the same command to resume"
            if args.command == "validate" else ""), file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
