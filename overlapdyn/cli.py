"""Command line: overlapdyn demo|expect|hermite|ode|point|validate|scaling|sweep|depth.

Run ``overlapdyn COMMAND --help`` for the options of each command.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

import sympy

from .derive.gaussian import GaussianFields, expectation
from .derive.hermite import hermite_expansion
from .errors import ConfigError, OverlapdynError
from .jobs.demo import DemoConfig, run_demo

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
    from .jobs.ode import run_ode  # imports Numba and Matplotlib: only when needed

    out = args.out if args.out is not None else Path("outputs") / Path(args.config).stem
    run_ode(args.config, out, t_end=args.t_end)


def _validate(args: argparse.Namespace) -> None:
    """``overlapdyn validate``: ODE vs finite-d SGD over several d, resumable (see
    :func:`overlapdyn.sgd.validation.validate`); writes report.txt, report.json, validation.png and
    gap_scaling.png into OUT and keeps the runs in OUT/store."""
    import dataclasses

    from .io.toml import load_run
    from .plot.figures import plot_gap_scaling, plot_validation, save_figure
    from .sgd.validation import validate

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


def _sweep(args: argparse.Namespace) -> None:
    """``overlapdyn sweep``: run a sweep file on Dask into a resumable store, then write
    the labelled dataset (results.nc) and a figure (see :mod:`overlapdyn.sweeps.runner`)."""
    import numpy as np

    from .io.netcdf import aggregate, save_dataset
    from .io.toml import load_sweep
    from .plot.figures import plot_sweep, save_figure
    from .sweeps.runner import run_sweep

    sweep = load_sweep(args.config)
    out = Path(args.out) if args.out is not None else (
        Path("outputs") / f"sweep-{Path(args.config).stem}")
    where = args.scheduler or (f"a local Dask cluster of {args.workers or 'one per core'} "
                               "worker(s)")
    print(f"{sweep.name}: {sweep.size} {sweep.kind.name} tasks over "
          f"{' × '.join(f'{a.name} ({len(a.values)})' for a in sweep.axes) or 'no axes'} "
          f"on {where}; results kept in {out}")
    summary = run_sweep(sweep, out, scheduler=args.scheduler, workers=args.workers,
                        retry_failed=args.retry_failed, task_timeout=args.task_timeout,
                        progress=not args.no_progress)
    dataset = aggregate(sweep, out)
    save_dataset(dataset, out / "results.nc")
    print(summary)
    wrote = ["results.nc"]
    value = args.plot or sweep.kind.plot
    if sweep.axes and value in dataset:
        dims = [a.name for a in sweep.axes]
        x = args.x or dims[0]
        hue = next((d for d in dims if d != x and d != "seed"), None)
        def wide(values) -> bool:  # positive numbers spanning 30× or more: a log axis
            values = np.asarray(values)
            values = values[np.isfinite(values)] if values.dtype.kind == "f" else values
            return bool(values.dtype.kind in "if" and values.size and values.min() > 0
                        and values.max() >= 30 * values.min())

        save_figure(plot_sweep(dataset[value], x, hue=hue, logx=wide(dataset[x].values),
                               logy=wide(dataset[value].values)), out / f"{value}.png")
        wrote.append(f"{value}.png")
    print(f"wrote {', '.join(wrote)} to {out} (records in {out / 'tasks'})")


def _scaling(args: argparse.Namespace) -> None:
    """``overlapdyn scaling``: leap / information exponent, predicted sample complexity,
    escape times vs d (ODE and/or simulation) with fitted exponents, plots (see
    :func:`overlapdyn.jobs.scaling.run_scaling`)."""
    from .io.toml import load_run
    from .jobs.scaling import run_scaling

    model, _ = load_run(args.config)
    out = Path(args.out) if args.out is not None else (
        Path("outputs") / f"scaling-{Path(args.config).stem}")
    report = run_scaling(model, args.d, out, route=args.route, seeds=args.seeds,
                         threshold=args.threshold, scale_eta=not args.fixed_eta,
                         t_max=args.t_max, tolerance=args.tolerance)
    print(report.text())
    print(f"wrote report.txt, scaling.json and the figures to {out}")


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

    from .compile.compiled import CompiledModel
    from .io.toml import load_run
    from .ode.analysis import find_fixed_point, stability

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
    from .jobs.depth import depth_job

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

    sweep = commands.add_parser(
        "sweep", help="run a parameter sweep (a model TOML file with a [sweep] table) on Dask "
        "— a local cluster, or --scheduler ADDRESS — into a resumable result store")
    sweep.add_argument("config", help="TOML file: the model, [integrate] and [sweep] with "
                       "[sweep.axes] (see examples/sweep_eta_d.toml)")
    sweep.add_argument("--out", default=None, help="result folder (default: "
                       "outputs/sweep-<config file stem>); rerunning the same command skips "
                       "the finished tasks")
    sweep.add_argument("--scheduler", default=None, help="address of a running Dask "
                       "scheduler, e.g. tcp://10.0.0.1:8786 (default: a local cluster)")
    sweep.add_argument("--workers", type=int, default=None,
                       help="worker processes of the local cluster (default: one per core)")
    sweep.add_argument("--retry-failed", action="store_true",
                       help="run again the tasks recorded as failed")
    sweep.add_argument("--task-timeout", type=float, default=None, metavar="SECONDS",
                       help="record a task still running after SECONDS as failed and restart "
                       "its worker (default: no limit)")
    sweep.add_argument("--plot", default=None, help="the value to plot (default: the kind's, "
                       "e.g. final_risk)")
    sweep.add_argument("--x", default=None, help="the axis on the plot's x axis (default: "
                       "the first)")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.set_defaults(run=_sweep)

    scaling = commands.add_parser(
        "scaling", help="information exponent / leap, predicted sample complexity, and "
        "escape times from a random start measured over d, with fitted exponents")
    scaling.add_argument("config", help="model TOML file; its protocol.eta is η₀ of the "
                         "learning-rate scaling η = η₀ d^(−(ℓ−2)/2) (ℓ ≥ 3)")
    scaling.add_argument("--d", type=int, nargs="+",
                         default=[256, 512, 1024, 2048, 4096, 8192, 16384],
                         help="dimensions, at least two (default: %(default)s)")
    scaling.add_argument("--route", choices=("ode", "simulation", "both"), default="ode",
                         help="measure on the ODE (M₀ = d^-1/2), on simulated SGD, or both")
    scaling.add_argument("--seeds", type=int, default=8,
                         help="simulated runs per d (default: 8)")
    scaling.add_argument("--threshold", type=float, default=0.5,
                         help="cosine overlap that counts as escaped (default: 0.5)")
    scaling.add_argument("--fixed-eta", action="store_true",
                         help="keep η = η₀ at every d instead of the predicted scaling")
    scaling.add_argument("--t-max", type=float, default=None,
                         help="longest time t = steps/d of a run (default: sized from the "
                         "prediction)")
    scaling.add_argument("--tolerance", type=float, default=0.15,
                         help="|fitted − predicted| exponent that counts as agreement")
    scaling.add_argument("--out", default=None,
                         help="output folder (default: outputs/scaling-<config file stem>)")
    scaling.set_defaults(run=_scaling)

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


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``overlapdyn`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    previous = None
    if args.command == "sweep" and threading.current_thread() is threading.main_thread():
        # `kill` (SIGTERM) unwinds like Ctrl-C: the local cluster's workers are shut down
        # and every record already written stays in the store.
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        args.run(args)
    except OverlapdynError as error:
        print(f"overlapdyn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"overlapdyn {args.command}: interrupted" + (
            "; finished runs are kept in the store, rerun the same command to resume"
            if args.command in ("validate", "sweep") else ""), file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())
