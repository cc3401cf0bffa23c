"""The ``overlapdyn depth CONFIG`` job: the κ sweep, its report, table and figure."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from ..depth.experiment import DepthResult, run_depth
from ..depth.recovery import unsupported, weak_recovery
from ..depth.targets import HierarchicalTarget, compositional_exponents, thresholds
from ..io.toml import load_depth_config
from ..model.checks import check_memory
from ..plot.axes import save_figure
from ..plot.depth import plot_depth
from ..storage.files import atomic_write_text
from .folders import output_folder, writable_folder

__all__ = ["add_arguments", "depth_job", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn depth``."""
    parser.add_argument("config", help="TOML file: [target], [network], [training], [sweep] "
                        "(see examples/depth/fig2.toml)")
    parser.add_argument("--out", default=None,
                        help="output folder (default: outputs/depth-<config file stem>)")
    parser.add_argument("--points", type=int, default=None,
                        help="κ points (overrides sweep)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds (overrides sweep)")
    parser.add_argument("--d", type=int, default=None,
                        help="input dimension (overrides target)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> None:
    """``overlapdyn depth``: :func:`depth_job` with the options given."""
    depth_job(args.config, args.out, points=args.points, seeds=args.seeds, d=args.d,
              progress=not args.quiet)


def depth_job(path: str | Path, out_dir: str | Path | None = None, *, points: int | None = None,
              seeds: int | None = None, d: int | None = None, progress: bool = True) -> DepthResult:
    """The ``overlapdyn depth CONFIG`` job: run the sweep, write ``result.npz`` (+ ``.json``
    with the full configuration), ``fig2.png``, ``table.md`` and ``thresholds.txt`` to
    ``out_dir`` (default ``outputs/depth-<config stem>``); print a summary.

    ``points``, ``seeds``, ``d`` override the file's values (a smaller run of the same setup).
    """
    config = load_depth_config(path)
    if points is not None or seeds is not None:
        config = dataclasses.replace(config, sweep=dataclasses.replace(
            config.sweep, points=config.sweep.points if points is None else points,
            seeds=config.sweep.seeds if seeds is None else seeds))
    if d is not None:
        config = dataclasses.replace(config, target=dataclasses.replace(config.target, d=d))
    check_size(config)
    out = writable_folder(output_folder(out_dir, path, "depth"))
    header = _theory(config.target)
    atomic_write_text(out / "thresholds.txt", header + "\n")
    print(header)
    result = run_depth(config, progress=progress)
    result.save(out / "result.npz")
    save_figure(plot_depth(result), out / "fig2.png")
    summary = _summary(result)
    atomic_write_text(out / "table.md", summary)
    print(summary + f"written to {out}/")
    return result


def check_size(config) -> None:
    """Refuse, before allocating, a κ grid whose largest training set ``n = d^κ_max`` samples
    (with its features: the inputs, the widest hidden layer) does not fit in memory.

    Raises:
        ResourceError: naming n, the estimate and the fix.
    """
    sweep, target, network = config.sweep, config.target, config.network
    n = float(target.d) ** sweep.kappa_max
    width = target.d + max(network.p1, network.p2, network.rf_features)
    check_memory(8.0 * (n + sweep.n_test) * width,
                 f"the κ grid up to κ_max = {sweep.kappa_max:g} at d = {target.d} "
                 f"(n = d^κ = {n:.3g} samples)",
                 "lower sweep.kappa_max or target.d")


def _theory(target: HierarchicalTarget) -> str:
    """The predicted thresholds, the information exponents and, for a SIGHT target, the
    finite-d weak-recovery point: the header of ``thresholds.txt``."""
    report = thresholds(target.levels, len(target.polynomial()) - 1, target.r)
    exponents = compositional_exponents(target)
    header = report.describe() + "\n" + (
        f"information exponents: g* {exponents['ie_outer']}, P {exponents['ie_inner']}; "
        f"compositional, per level (z … h*): {exponents['per_level']}; paper's assumptions "
        + ("hold" if exponents["assumptions_hold"] else f"fail: {exponents['reason']}"))
    if not unsupported(target):
        header += "\n" + weak_recovery(target).describe()
    return header


def _summary(result: DepthResult) -> str:
    """The table of medians, the onsets, the crossover and the wall times: ``table.md``."""
    def fmt(value):
        return "n/a" if value is None else f"{value:.2f}"
    onsets = "; ".join(f"{q} half-rise at κ ≈ {fmt(result.onset(q))}"
                       for q in ("M_W", "M_h") if q in result.values)
    times = ", ".join(f"{k} {v:.1f} s" for k, v in result.stage_times().items())
    crossing = result.crossover() if "M_h" in result.values else None
    crossing = ("M_h stays below M_W (the paper draws them on separate scales)"
                if crossing is None else f"M_h crosses M_W at κ ≈ {crossing:.2f}")
    return (f"{result.describe()}\n\nmedian over {result.config.sweep.seeds} seeds; Var y = "
            f"{np.median(result.null_error):.3f}; {onsets}; {crossing}\n"
            f"wall time {result.wall_s:.1f} s ({times})\n")
