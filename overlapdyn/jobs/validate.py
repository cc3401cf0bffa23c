"""The ``overlapdyn validate CONFIG`` job: the ODE against finite-d SGD over several d,
resumable (see :func:`overlapdyn.sgd.validation.validate`)."""

from __future__ import annotations

import argparse

from ..errors import ConfigError
from ..io.toml import load_run
from ..model.checks import check_dimension, check_integer, check_seeds
from ..model.spec import Model
from ..ode.config import IntegrateConfig
from ..plot.axes import save_figure
from ..plot.validation import plot_gap_scaling, plot_validation
from ..sgd.validation import Verdict, validate
from ..storage.files import atomic_write_text
from .build import add_derivation_option, build_model, chosen_derivation
from .folders import output_folder, writable_folder

__all__ = ["EPILOG", "EXIT_STATUS", "add_arguments", "run"]

#: the exit status of ``overlapdyn validate`` for each verdict; 2 stays a refused input or
#: a failed command (any :class:`~overlapdyn.errors.OverlapdynError`), 130 an interrupt
EXIT_STATUS = {Verdict.PASS: 0, Verdict.FAIL: 1, Verdict.UNDETERMINED: 3}

EPILOG = ("exit status: 0 PASS (every gap exponent in the tolerance interval), 1 FAIL, "
          "3 UNDETERMINED (a run failed on either side, or too few saved times are left to "
          "compare; the report names the cause), 2 an error (bad input, unusable output "
          "folder, a store of another run), 130 interrupted. The reports and figures are "
          "written whatever the verdict.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn validate``."""
    parser.add_argument("config", help="model TOML file; its [integrate] section sets the "
                        "time grid (t_first, t_end, n_points, log) and any warm start M0, Q0")
    parser.add_argument("--d", type=int, nargs="+", default=[250, 1000, 4000],
                        help="dimensions, at least two (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=8, help="runs per d (default: 8)")
    parser.add_argument("--t-end", type=float, default=None,
                        help="final time t = steps/d (overrides integrate.t_end)")
    parser.add_argument("--points", type=int, default=None,
                        help="saved times, t = 0 included (overrides integrate.n_points)")
    parser.add_argument("--n-test", type=int, default=0,
                        help="held-out samples per saved time for a test-set risk (default: 0)")
    parser.add_argument("--out", default=None, help="output folder (default: "
                        "outputs/validate-<config file stem>); runs are kept in OUT/store, "
                        "and rerunning the same command resumes from them")
    add_derivation_option(parser)


def check_validate_options(model: Model, ds, seeds, n_test: int) -> None:
    """Refuse, before anything runs, dimensions below p + k or fewer than two of them, no
    seed, or a negative test-set size."""
    for d in ds:
        check_dimension(check_integer(d, "a dimension (--d)", 1), model.p, model.k,
                        "a dimension (--d)")
    if len(set(ds)) < 2:
        raise ConfigError(f"validate needs at least two different dimensions (--d) to fit "
                          f"how the gap shrinks, got {list(ds)}")
    check_seeds(seeds, "validate (--seeds)")
    check_integer(n_test, "the test-set size (--n-test)", 0)


def run(args: argparse.Namespace) -> int:
    """``overlapdyn validate``: write report.txt, report.npz (+ report.json), validation.png
    and gap_scaling.png into OUT and keep the runs in OUT/store; return the verdict's exit
    status (:data:`EXIT_STATUS`)."""
    model, config = load_run(args.config)
    derivation = chosen_derivation(args.derivation, args.config)
    changes = {name: value for name, value in (("t_end", args.t_end),
                                                ("n_points", args.points)) if value is not None}
    config = IntegrateConfig.from_dict({**config.to_dict(), **changes})
    times = config.save.grid()
    init = None if config.M0 is None else (config.M0, config.Q0)
    out = output_folder(args.out, args.config, "validate")
    check_validate_options(model, args.d, args.seeds, args.n_test)
    writable_folder(out / "store")
    print(f"{model.name} [fingerprint {model.fingerprint()}]: d ∈ {tuple(args.d)}, "
          f"{args.seeds} seeds, {len(times)} times up to t = {times[-1]:g}; runs kept in "
          f"{out / 'store'}")
    compiled, _ = build_model(model, derivation)
    report = validate(model, args.d, times, seeds=args.seeds, n_test=args.n_test, init=init,
                      store=out / "store", progress=True, compiled=compiled)
    table = report.describe()
    atomic_write_text(out / "report.txt", table + "\n")
    report.save(out / "report.npz")        # the whole report, and report.json beside it
    save_figure(plot_validation(report), out / "validation.png")
    save_figure(plot_gap_scaling(report), out / "gap_scaling.png")
    print(table)
    print(f"wrote report.txt, report.npz, report.json, validation.png, gap_scaling.png to "
          f"{out}")
    return EXIT_STATUS[report.verdict]
