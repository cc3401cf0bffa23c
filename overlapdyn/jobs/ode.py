"""The ``overlapdyn ode CONFIG`` job: integrate a model file's ODEs, write and plot."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..derive.methods import Derivation
from ..errors import IntegrationError
from ..io.toml import load_run
from ..model.spec import check_drift_cost
from ..ode.config import IntegrateConfig
from ..ode.integrator import integrate
from ..ode.trajectory import Trajectory
from ..plot.axes import save_figure
from ..plot.trajectories import trajectory_figures
from ..storage.files import atomic_write_text
from ..storage.versions import __version__
from .build import add_derivation_option, build_model, chosen_derivation
from .folders import output_folder, writable_folder

__all__ = ["OUTPUTS", "add_arguments", "run", "run_ode"]

OUTPUTS = ("trajectory.npz", "config.json", "learning_curve.png", "overlaps.png",
           "overlap_heatmap.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn ode``."""
    parser.add_argument("config", help="TOML file: [target], [student], [protocol], [integrate]")
    parser.add_argument("--out", default=None,
                        help="output folder (default: outputs/<config file stem>)")
    parser.add_argument("--t-end", type=float, default=None,
                        help="final time t = steps/d (overrides integrate.t_end)")
    parser.add_argument("--set", action="append", default=[], dest="overrides",
                        metavar="TABLE.KEY=VALUE",
                        help="override one value of the file, repeatable: e.g. --set "
                             "protocol.eta=0.3 --set student.p=4 --set integrate.d=2000 --set "
                             "integrate.seed=2 (the kernels' method: --derivation)")
    add_derivation_option(parser)


def run(args: argparse.Namespace) -> None:
    """``overlapdyn ode``: :func:`run_ode` into ``--out``."""
    run_ode(args.config, output_folder(args.out, args.config), t_end=args.t_end,
            derivation=chosen_derivation(args.derivation, args.config),
            overrides=args.overrides)


def run_ode(path: str | Path, out_dir: str | Path, *, t_end: float | None = None,
            derivation: Derivation | None = None, overrides: Sequence[str] = ()) -> Trajectory:
    """Integrate the model of the TOML file ``path`` and write the results into ``out_dir``.

    Writes ``trajectory.npz`` (:meth:`Trajectory.save`), ``config.json`` (model, integrate
    config, run metadata), ``learning_curve.png`` (R(t), log-log), ``overlaps.png`` (M_jr(t),
    Q_jl(t)) and ``overlap_heatmap.png`` (M at the last time), then prints a summary.

    Args:
        t_end: overrides ``integrate.t_end``.
        derivation: how the kernels are derived (default: the file's ``[derivation]``, else
            the automatic choice).
        overrides: ``"TABLE.KEY=VALUE"`` values set over the file's
            (:func:`~overlapdyn.io.toml.apply_overrides`); ``config.json`` records them, and
            its model and integrate sections are the ones run.

    Raises:
        ConfigError: a malformed file.
        OutputError: ``out_dir`` cannot be written (before any work).
        IntegrationError: a blow-up, raised after the partial trajectory (status −1) and the
            other outputs have been written.
    """
    model, config = load_run(path, overrides)
    check_drift_cost(model)   # before drawing a start of p vectors in R^d
    derivation = derivation if derivation is not None else chosen_derivation(None, path)
    if t_end is not None:
        config = IntegrateConfig.from_dict({**config.to_dict(), "t_end": t_end})
    init = config.initial_state(model)
    out = writable_folder(out_dir)
    compiled, compile_s = build_model(model, derivation)
    failure = None
    try:
        trajectory = integrate(compiled, init, config.save, events=config.events,
                               solver=config.solver, max_evaluations=config.max_evaluations,
                               progress=sys.stderr.isatty())   # a bar for people, not logs
    except IntegrationError as error:
        if error.trajectory is None:
            raise
        failure, trajectory = error, error.trajectory
    _write_outputs(trajectory, config, out, source=Path(path), compile_s=compile_s,
                   from_cache=compiled.from_cache, derivation=compiled.choice.method,
                   overrides=overrides)
    _print_summary(trajectory, config, out, compile_s)
    if failure is not None:
        raise failure
    return trajectory


def _write_outputs(trajectory: Trajectory, config: IntegrateConfig, out: Path, *,
                   source: Path, compile_s: float, from_cache: bool,
                   derivation: Derivation, overrides: Sequence[str]) -> None:
    tr = trajectory
    tr.save(out / "trajectory.npz")
    run = {
        "source": str(source), "overrides": list(overrides), "status": tr.status,
        "message": tr.message, "events": tr.events, "t_final": float(tr.t[-1]),
        "samples_final": float(tr.samples(config.d)[-1]), "final_risk": float(tr.risk[-1]),
        "kernels": tr.kernels, "derivation": derivation.to_dict(),
        "solver": None if tr.solver is None else dataclasses.asdict(tr.solver),
        "compile_time_s": compile_s, "kernels_from_cache": from_cache,
        "wall_time_s": tr.wall_time_s, "fingerprint": tr.model.fingerprint(),
        "versions": tr.versions or {"overlapdyn": __version__},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    payload = {"model": tr.model.to_dict(), "integrate": config.to_dict(), "run": run}
    atomic_write_text(out / "config.json", json.dumps(payload, indent=2) + "\n")
    for name, figure in trajectory_figures(tr).items():
        save_figure(figure, out / f"{name}.png")


def _print_summary(tr: Trajectory, config: IntegrateConfig, out: Path, compile_s: float
                   ) -> None:
    model = tr.model
    events = ", ".join(f"{name} at t = {times[0]:.4g}" for name, times in tr.events.items())
    outcome = {0: "reached t_end", 1: "stopped by an event",
               -1: "FAILED; last healthy state"}[tr.status]
    print(f"{model.name}: p = {model.p}, k = {model.k}, σ = {model.student.activation}, "
          f"η = {model.protocol.eta:g}, n_b = {model.protocol.n_b} "
          f"[fingerprint {model.fingerprint()}]")
    if not model.protocol.terms.full:
        print(f"  drift terms kept: {model.protocol.terms}")
    print(f"  {outcome} at t = {tr.t[-1]:.4g} (n = t·d·n_b = {tr.samples(config.d)[-1]:.3g} "
          f"samples at d = {config.d}); final risk R = {tr.risk[-1]:.4g}")
    print(f"  events: {events or 'none'}")
    print(f"  {config.solver.method} ({tr.kernels} kernels): solve "
          f"{tr.wall_time_s or 0.0:.2f} s, compile/load {compile_s:.2f} s")
    print(f"  wrote {', '.join(OUTPUTS)} to {out}")
