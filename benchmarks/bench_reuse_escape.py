"""Escape with data reuse against one-pass SGD: the fitted exponents of the escape sample
count n against d, ODE and simulation routes, He3 and He4 single-index targets.

Settings:

* **one pass** — the library's escape setting (``bench_escape.py``): one spherical neuron,
  correlation loss, σ = σ* = He_ℓ, n_b = 1, η = η₀ d^−(ℓ−2)/2 (η₀ = 0.1 for He3, 0.02 for
  He4), escape at cosine ½; predicted n ∝ d^(ℓ−1). Also the He3 ReLU model below without
  reuse (its one-pass ODE never leaves the start: a ReLU has no He3 component).
* **with reuse** — the papers' model (Arnaboldi, Dandi, Krzakala, Pesce & Stephan 2024,
  code IdePHICS/Repetita-Iuvant, figure 1 and "TwoSteps"): ReLU student p = k = 1, c_p = 1,
  mse, n_b = 1; extragradient η = 0.01, ρ = 0.1 (their prefactor 0.01, rho_prefactor 0.1);
  two steps per sample (repeat k = 2) η = 0.1 (their prefactor 0.1); escape at cosine ¼
  (the ReLU settles below ½ on He4: at cosine 0.445 for ρ = 0.1; on He3 repeat k = 2
  at 0.339). Predicted from the generative exponent k* (He3: 1, n ∝ d; He4: 2, n ∝ d log d),
  η fixed.

ODE route: M₀ = d^−1/2, Q₀ = 1, d = 256 … 16384 (4 points; Sobol 2¹⁶ with its z-antithetic
copy for the reuse drift). Simulation route: SPEC's random init, d = 256 … 2048, 8 seeds
(each stopped at its escape; horizon 4× the ODE's escape time). Prints one table; with
``--figure PATH`` also draws it (``overlapdyn.plot.plot_reuse_escape``).

Run:  .venv/bin/python benchmarks/bench_reuse_escape.py [--quick] [--figure PATH]
      (about 15 minutes on 2 cores; --quick: ODE at 3 d, simulation at d = 128 … 512 with
      4 seeds, a few minutes)
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

from _tables import print_machine, print_table

import overlapdyn as od
from overlapdyn.errors import LearningRateWarning
from overlapdyn.reuse import (
    OnlineReuse,
    measure_reuse_escape_ode,
    measure_reuse_escape_simulated,
)

ODE_DS = (256, 1024, 4096, 16384)
SIM_DS, SIM_SEEDS = (256, 512, 1024, 2048), 8
QUICK_ODE_DS = (256, 2048, 16384)
QUICK_SIM_DS, QUICK_SEEDS = (128, 256, 512), 4
REUSE_THRESHOLD = 0.25
#: the He4 repeat ODE does not escape; integrate this far to say so
NO_ESCAPE_T = 2e4


def one_pass(ell: int) -> od.Model:
    return od.Model(od.Target(k=1, activation=f"He{ell}", c_k=1.0),
                    od.Student(p=1, activation=f"He{ell}", c_p=1.0),
                    od.Protocol(eta={3: 0.1, 4: 0.02}[ell], loss="correlation",
                                spherical=True))


def relu_model(ell: int, eta: float) -> od.Model:
    return od.Model(od.Target(k=1, expression=f"He{ell}(z1)"),
                    od.Student(p=1, activation="relu", c_p=1.0), od.Protocol(eta=eta))


def protocols():
    """(target ℓ, spec, simulate?) of the reuse rows."""
    for ell in (3, 4):
        yield ell, OnlineReuse(relu_model(ell, 0.01), "extragradient", rho=0.1), True
        yield ell, OnlineReuse(relu_model(ell, 0.1), "repeat", repeats=2), ell == 3


def row(ell: int, protocol: str, escape: od.scaling.EscapeTimes | None, route: str, ds,
        seeds: str, wall: float, note: str = "") -> list[str]:
    if escape is None or not escape.fittable:
        return [f"He{ell}", protocol, route, f"{ds[0]} … {ds[-1]}", seeds,
                "0%" if escape is None else f"{escape.escaped.min():.0%}", note or "—", "—",
                "—", "—", f"{wall:.0f}"]
    fit = escape.fit()
    predicted = escape.prediction.sample_exponent
    target = (f"n/log d ∝ d^{predicted}" if fit.log_factor else f"n ∝ d^{predicted}")
    return [f"He{ell}", protocol, route, f"{ds[0]} … {ds[-1]}", seeds,
            f"{escape.escaped.min():.0%}", target, f"{fit.exponent:.3f}",
            f"{fit.ci[0]:.2f} … {fit.ci[1]:.2f}", f"{fit.exponent - predicted:+.3f}",
            f"{wall:.0f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer d and seeds")
    parser.add_argument("--figure", help="write the figure (PNG) here")
    args = parser.parse_args()
    ode_ds = QUICK_ODE_DS if args.quick else ODE_DS
    sim_ds, seeds = (QUICK_SIM_DS, QUICK_SEEDS) if args.quick else (SIM_DS, SIM_SEEDS)
    print_machine("overlapdyn: escape with data reuse against one-pass SGD")
    rows, figure = [], []

    for ell in (3, 4):
        start = time.perf_counter()
        escape = od.measure_escape_ode(one_pass(ell), ode_ds)
        rows.append(row(ell, "one pass (He_ℓ neuron, spherical)", escape, "ODE", ode_ds, "—",
                        time.perf_counter() - start))
        figure.append(escape)
    # the ReLU model of the reuse rows in one pass: a ReLU has no He3 component, so its
    # one-pass drift cannot grow M on He3 (M decays to 0)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LearningRateWarning)
        relu = od.measure_escape_ode(relu_model(3, 0.01), ode_ds[:2], scale_eta=False,
                                     t_max=NO_ESCAPE_T,
                                     solver=od.Solver(rtol=1e-5, atol=1e-12))
    escaped = math.isfinite(relu.median_samples[0])
    rows.append(row(3, "one pass (ReLU, η = 0.01)", relu if escaped else None, "ODE",
                    ode_ds[:2], "—", time.perf_counter() - start,
                    "" if escaped else f"no escape by t = {NO_ESCAPE_T:g}"))

    for ell, spec, simulate in protocols():
        label = (f"extragradient ρ = {spec.rho:g}, η = {spec.model.protocol.eta:g}"
                 if spec.kind == "extragradient" else
                 f"repeat k = {spec.repeats}, η = {spec.model.protocol.eta:g}")
        start = time.perf_counter()
        # (the He4 repeat row does not escape: two d say so)
        ds = ode_ds if simulate else ode_ds[:2]
        ode = measure_reuse_escape_ode(spec, ds, threshold=REUSE_THRESHOLD,
                                       t_max=None if simulate else NO_ESCAPE_T)
        wall = time.perf_counter() - start
        note = "" if ode.fittable else f"no escape by t = {max(ode.t_max):.3g}"
        rows.append(row(ell, label, ode if ode.fittable else None, "ODE", ds, "—", wall,
                        note))
        if ode.fittable:
            figure.append(ode)
        if not simulate:
            continue
        # horizons from the ODE at the simulated d (its escape time barely depends on d)
        reference = measure_reuse_escape_ode(spec, sim_ds, threshold=REUSE_THRESHOLD,
                                             n_points=8).times[:, 0]
        start = time.perf_counter()
        sim = measure_reuse_escape_simulated(spec, sim_ds, seeds=seeds,
                                             threshold=REUSE_THRESHOLD, reference=reference)
        rows.append(row(ell, label, sim, "simulation", sim_ds, str(seeds),
                        time.perf_counter() - start))
    print_table("escape sample count n against d (one pass: cosine ½; with reuse: cosine ¼)",
                ["target", "protocol", "route", "d", "seeds", "escaped (min)", "prediction",
                 "fitted", "95 % CI", "fitted − predicted", "wall s"], rows)
    if args.figure:
        from overlapdyn.plot import plot_reuse_escape, save_figure

        save_figure(plot_reuse_escape(figure), args.figure)
        print(f"\nfigure: {args.figure}")


if __name__ == "__main__":
    main()
