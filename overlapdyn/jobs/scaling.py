"""The ``overlapdyn scaling`` job: theory report, escape-time measurements, plots, files.

One call, :func:`run_scaling`, does what a theorist asks of a target: its information
exponent or leap (with the ordering), the predicted sample complexity and learning-rate
scaling, the escape times over a geometric grid of d on the ODE and/or simulated SGD with the
fitted exponents against the prediction, and — for multi-index targets — the
saddle-to-saddle analysis of one ODE learning curve. Everything is written to ``out`` with
the model's configuration.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..compile.compiled import CompiledModel
from ..derive.methods import Derivation
from ..errors import ConfigError, OverlapdynError
from ..io.toml import load_run
from ..model.checks import check_dimension, check_integer, check_real, check_seeds
from ..model.spec import Model, model_from_dict
from ..ode.events import Event
from ..ode.integrator import SaveAt, integrate
from ..ode.state import overlap_cosines
from ..plot.axes import save_figure
from ..plot.scaling import plot_escape_curves, plot_escape_scaling, plot_saddles
from ..scaling.escape import (
    EscapeTimes,
    measure_escape_ode,
    measure_escape_simulated,
)
from ..scaling.prediction import ScalingPrediction, predict_scaling
from ..scaling.saddles import SaddleToSaddle, saddle_to_saddle
from ..scaling.start import critical_learning_rate, escape_start, escaping_learning_rate
from ..storage.files import atomic_write_text
from ..storage.results import Result, archive_part, archive_parts, restore_part, restore_parts
from .build import add_derivation_option, build_model, chosen_derivation
from .folders import output_folder, writable_folder

__all__ = ["ScalingReport", "add_arguments", "checked_dimensions", "critical_rates", "run",
           "run_scaling"]

ROUTES = ("ode", "simulation", "both")

#: the largest d of the simulation route when its dimensions are not given
SIMULATION_D_MAX = 2048


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn scaling``."""
    parser.add_argument("config", help="model TOML file; its protocol.eta is η₀ of the "
                        "learning-rate scaling η = η₀ d^(−(ℓ−2)/2) (ℓ ≥ 3)")
    parser.add_argument("--d", type=int, nargs="+",
                        default=[256, 512, 1024, 2048, 4096, 8192, 16384],
                        help="dimensions, at least two (default: %(default)s)")
    parser.add_argument("--sim-d", type=int, nargs="+", default=None,
                        help="dimensions of the simulation route (default: those of --d up "
                        f"to {SIMULATION_D_MAX}, at least the two smallest): simulated SGD "
                        "costs d² per unit time")
    parser.add_argument("--route", choices=ROUTES, default="ode",
                        help="measure on the ODE (M₀ = d^-1/2), on simulated SGD, or both")
    parser.add_argument("--seeds", type=int, default=8,
                        help="simulated runs per d (default: 8)")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="cosine overlap that counts as escaped (default: 0.5)")
    parser.add_argument("--eta", default=None, metavar="ETA0|auto",
                        help="η₀, overriding the file's protocol.eta: a number, or auto for "
                        "half the critical learning rate of the random start (the smallest "
                        "over the dimensions)")
    parser.add_argument("--fixed-eta", action="store_true",
                        help="keep η = η₀ at every d instead of the predicted scaling")
    parser.add_argument("--t-max", type=float, default=None,
                        help="longest time t = steps/d of a run (default: sized from the "
                        "prediction)")
    parser.add_argument("--tolerance", type=float, default=0.15,
                        help="|fitted − predicted| exponent that counts as agreement")
    parser.add_argument("--out", default=None,
                        help="output folder (default: outputs/scaling-<config file stem>)")
    add_derivation_option(parser)


def run(args: argparse.Namespace) -> None:
    """``overlapdyn scaling``: :func:`run_scaling` on the file's model into OUT; print the
    report."""
    model, _ = load_run(args.config)
    derivation = chosen_derivation(args.derivation, args.config)
    out = output_folder(args.out, args.config, "scaling")
    ds = checked_dimensions(args.d, model)
    build_model(model, derivation)  # says what is built; each d's η reuses its module
    model = _with_eta(model, args.eta, ds, not args.fixed_eta, derivation)
    print(critical_rates(model, ds, scale_eta=not args.fixed_eta, derivation=derivation))
    report = run_scaling(model, ds, out, route=args.route, seeds=args.seeds,
                         simulation_ds=args.sim_d,
                         threshold=args.threshold, scale_eta=not args.fixed_eta,
                         t_max=args.t_max, tolerance=args.tolerance, derivation=derivation)
    print(report.describe())
    print(f"wrote report.txt, scaling.npz (+ .json) and the figures to {out}")


def _with_eta(model: Model, option: str | None, ds, scale_eta: bool,
              derivation: Derivation | None) -> Model:
    """The model with η₀ from ``--eta`` (a number, or ``auto``:
    :func:`~overlapdyn.scaling.start.escaping_learning_rate`); unchanged without it."""
    if option is None:
        return model
    if option == "auto":
        eta0 = escaping_learning_rate(model, ds, scale_eta=scale_eta, derivation=derivation)
        print(f"η₀ = {eta0:.4g} (auto: half the critical learning rate of the random start)")
    else:
        try:
            eta0 = float(option)
        except ValueError:
            raise ConfigError(f"--eta must be a number or auto, got {option!r}") from None
    return dataclasses.replace(model, protocol=dataclasses.replace(model.protocol, eta=eta0))


def critical_rates(model: Model, ds, *, scale_eta: bool = True,
                   derivation: Derivation | None = None) -> str:
    """One line per d: the critical learning rate of the random start
    (:func:`~overlapdyn.scaling.start.critical_learning_rate`), the η used there, and
    whether it escapes."""
    prediction = predict_scaling(model)
    compiled = CompiledModel(model, derivation)
    lines = ["critical learning rate of the random start (η above it holds the start):"]
    for d in sorted(set(int(d) for d in ds)):
        critical = critical_learning_rate(model, d, compiled=compiled)
        eta = prediction.learning_rate(model.protocol.eta, d) if scale_eta else model.protocol.eta
        verdict = "escapes" if critical.escapes(eta) else "HELD: lower η₀ (--eta auto)"
        lines.append(f"  d = {d:>6}: η_c = {critical.eta:.3g}, η = {eta:.3g} — {verdict}")
    return "\n".join(lines)


@dataclass(frozen=True)
class ScalingReport(Result):
    """What :func:`run_scaling` found (see the module docstring).

    Attributes:
        model: the model (its η is η₀).
        prediction: the predicted exponents.
        escapes: the escape times measured, one per route.
        saddles: the saddle-to-saddle analysis at the largest d (multi-index targets).
        tolerance: the ``|fitted − predicted|`` exponent that counts as agreeing.
    """

    FORMAT = "overlapdyn.ScalingReport"
    VERSION = 1

    model: Model
    prediction: ScalingPrediction
    escapes: tuple[EscapeTimes, ...]
    saddles: SaddleToSaddle | None
    tolerance: float

    def describe(self) -> str:
        """The prediction, each route's escape table and fit, the saddles."""
        parts = [self.prediction.describe()]
        parts += [escape.describe(self.tolerance) for escape in self.escapes]
        if self.saddles is not None:
            parts.append("saddle to saddle (ODE, largest d):\n" + self.saddles.describe()
                         + "\n" + self._agreement())
        return "\n\n".join(parts)

    def _agreement(self) -> str:
        """Whether the ODE learned the directions in the leap's order, and how far that was
        seen: a direction never learned in the horizon is no evidence either way."""
        leap = self.prediction.leap
        agrees = "yes" if self.saddles.agrees_with(leap) else "no"
        unseen = len(self.saddles.unlearned)
        caveat = (f" (as far as the horizon shows: {unseen} direction"
                  f"{'s' if unseen > 1 else ''} not learned in it)" if unseen else "")
        return f"order of learning as the leap predicts ({leap.learned_as}): {agrees}{caveat}"

    def to_dict(self) -> dict:
        return {"model": self.model.to_dict(), "prediction": self.prediction.to_dict(),
                "escapes": [escape.to_dict() for escape in self.escapes],
                "saddles": None if self.saddles is None else self.saddles.to_dict(),
                "tolerance": self.tolerance}

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        prediction, arrays = archive_part(self.prediction, "prediction")
        escapes, measured = archive_parts(self.escapes, "escapes")
        saddles, analysed = (None, {}) if self.saddles is None else archive_part(
            self.saddles, "saddles")
        fields = {"model": self.model.to_dict(), "prediction": prediction, "escapes": escapes,
                  "saddles": saddles, "tolerance": self.tolerance}
        return fields, {**arrays, **measured, **analysed}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> ScalingReport:
        escapes = restore_parts(EscapeTimes, header["escapes"], arrays, "escapes")
        saddles = None if header["saddles"] is None else restore_part(
            SaddleToSaddle, header["saddles"], arrays, "saddles")
        return cls(model_from_dict(header["model"]),
                   restore_part(ScalingPrediction, header["prediction"], arrays, "prediction"),
                   escapes, saddles, header["tolerance"])


def run_scaling(
    model: Model,
    ds,
    out: str | Path,
    *,
    route: str = "ode",
    seeds: int = 8,
    simulation_ds=None,
    threshold: float = 0.5,
    scale_eta: bool = True,
    t_max: float | None = None,
    tolerance: float = 0.15,
    progress: bool = True,
    derivation: Derivation | None = None,
) -> ScalingReport:
    """Predict, measure and plot the escape scaling of ``model``; write the results to ``out``.

    Args:
        model: the model (its η is η₀ of the learning-rate scaling).
        ds: dimensions, at least two (a geometric grid is best).
        out: output folder: ``escape_<route>.npz`` and ``.json`` (each written as soon as
            measured), ``report.txt``, ``scaling.npz`` and ``.json``, ``escape_scaling.png``,
            ``escape_curves.png`` and, for k > 1, ``saddles.png``.
        route: ``"ode"``, ``"simulation"`` or ``"both"``.
        seeds: seeds per d on the simulation route.
        simulation_ds: the simulation route's dimensions (default: those of ``ds`` up to
            ``SIMULATION_D_MAX`` = 2048, at least the two smallest); the ODE route runs
            ``ds``.
        threshold: the cosine overlap that counts as escaped.
        scale_eta: scale η as ``η₀ d^{−(ℓ−2)/2}`` (ℓ ≥ 3).
        t_max: horizon of every run (default: see the measuring functions).
        tolerance: ``|fitted − predicted|`` exponent that counts as agreement in the report.
        progress: progress bars.
        derivation: how the kernels are derived (default: the automatic choice).
    """
    if route not in ROUTES:
        raise OverlapdynError(f"route must be one of {ROUTES}, got {route!r}")
    tolerance = check_real(tolerance, "the exponent tolerance (--tolerance)")
    threshold = check_real(threshold, "the escape threshold (--threshold)", positive=True)
    if not threshold < 1:
        raise ConfigError(f"the escape threshold (--threshold) is a cosine overlap in (0, 1), "
                          f"got {threshold:g}: no run ever reaches it")
    if t_max is not None:
        t_max = check_real(t_max, "the horizon t_max (--t-max)", positive=True)
    if route in ("simulation", "both"):
        seeds = len(check_seeds(seeds, "the simulation route (--seeds)"))
    ds = checked_dimensions(ds, model)
    sim_ds = (_simulation_ds(simulation_ds, ds, model) if route in ("simulation", "both")
              else None)
    out = writable_folder(out)
    prediction = predict_scaling(model)
    options = {"threshold": threshold, "scale_eta": scale_eta, "t_max": t_max,
               "progress": progress, "prediction": prediction, "derivation": derivation}
    escapes = []
    if route in ("ode", "both"):
        escapes.append(measure_escape_ode(model, ds, **options))
        escapes[-1].save(out / "escape_ode.npz")  # kept even if a later stage fails
    if route in ("simulation", "both"):
        # the ODE times from the default start size the simulations' horizons
        reference = None
        if escapes and set(sim_ds) <= set(ds):
            reference = escapes[0].times[[ds.index(d) for d in sim_ds], 0]
        print(f"simulation route at d = {', '.join(map(str, sim_ds))} ({seeds} seeds each)",
              flush=True)
        escapes.append(measure_escape_simulated(model, sim_ds, seeds=seeds,
                                                reference=reference, **options))
        escapes[-1].save(out / "escape_simulation.npz")
    analysed = (_saddles(model, ds[-1], escapes[0], threshold, derivation) if model.k > 1
                else None)
    saddles = None if analysed is None else analysed[1]
    report = ScalingReport(model, prediction, tuple(escapes), saddles, tolerance)
    atomic_write_text(out / "report.txt", report.describe() + "\n")
    report.save(out / "scaling.npz")   # the whole report, and scaling.json beside it
    save_figure(plot_escape_scaling(escapes), out / "escape_scaling.png")
    curves = escapes[0].trajectories
    first = [runs[0] for runs in curves]
    save_figure(plot_escape_curves(first, [f"d = {d}" for d in escapes[0].ds]),
                out / "escape_curves.png")
    if analysed is not None:
        save_figure(plot_saddles(*analysed), out / "saddles.png")
    return report


def checked_dimensions(ds, model: Model, option: str = "--d") -> list[int]:
    """``ds`` sorted, each a dimension the model fits in, at least two different ones
    (``option`` names them in the errors)."""
    what = f"a dimension ({option})"
    ds = sorted(check_dimension(check_integer(d, what, 1), model.p, model.k, what)
                for d in ds)
    if len(set(ds)) < 2:
        raise OverlapdynError(f"give at least two different dimensions ({option}), got {ds}")
    return ds


def _simulation_ds(given, ds: list[int], model: Model) -> list[int]:
    """The simulation route's dimensions: ``given`` (checked), else those of ``ds`` up to
    ``SIMULATION_D_MAX``, at least the two smallest."""
    if given is not None:
        return checked_dimensions(given, model, "--sim-d")
    small = [d for d in ds if d <= SIMULATION_D_MAX]
    return small if len(small) >= 2 else ds[:2]


def _saddles(model: Model, d: int, escape: EscapeTimes, threshold: float,
             derivation: Derivation | None = None):
    """Run the ODE at dimension d (its η) to 5× the time every direction is learned (or
    10³× the first escape) and analyse it:
    ``(trajectory, saddles)``, or ``None`` when nothing escaped."""
    first = escape.times[escape.ds.index(d)]
    first = first[np.isfinite(first)]
    if first.size == 0:
        return None
    model_d = dataclasses.replace(model, protocol=dataclasses.replace(
        model.protocol, eta=escape.etas[escape.ds.index(d)]))
    start = escape_start(model_d, d)
    P_diagonal = np.diag(model.target.gram)
    every = Event("all directions learned", lambda M, Q, a, risk: float(
        overlap_cosines(M, Q, P_diagonal).max(axis=0).min() - threshold), True, 1.0)
    horizon = 1e3 * float(first.min())
    compiled = CompiledModel(model_d, derivation)
    probe = integrate(compiled, start, SaveAt(horizon, n_points=20), events=(every,),
                      on_failure="return")
    fired = probe.events.get(every.name, ())
    # past the last learning, long enough to see the final plateau
    t_end = 5.0 * fired[0] if fired else horizon
    trajectory = integrate(compiled, start,
                           SaveAt(t_end, n_points=300, t_first=min(0.1, t_end / 1e4)),
                           on_failure="return")
    if trajectory.t.size < 3:
        return None
    return trajectory, saddle_to_saddle(trajectory, threshold=threshold)
