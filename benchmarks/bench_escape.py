"""Escape-time scaling exponents: ODE route up to d = 16384, simulation route at the d a
2-core machine affords, against SPEC's prediction ``n ≍ d^max(ℓ−1, 1)``.

Setting (Ben Arous, Gheissari & Jagannath 2021): one spherical neuron, correlation loss,
``σ = σ* = He_ℓ``, batch 1, ``η = η₀ d^−(ℓ−2)/2`` for ℓ ≥ 3 (η₀ = 0.5, 0.1, 0.1, 0.02 for
ℓ = 1..4), escape at cosine overlap ½. Prints

1. ODE route (start ``M₀ = d^{-1/2}``), ℓ = 1..4, d = 256 … 16384 (7 points): the fitted
   exponent (of ``n/log d`` at ℓ = 2) with its regression interval, the prediction and the
   difference (acceptance: ±0.15), and the wall time;
2. simulation route (SPEC's random init, each seed stopped at its escape), ℓ = 1, 2, 3: the
   dimensions, seeds, the fitted exponent of the per-d medians with a bootstrap 95 % interval
   (acceptance: ±0.3), the fraction of seeds that escaped within the horizon (6× the ODE's
   escape time), and the wall time.

Run:  .venv/bin/python benchmarks/bench_escape.py [--quick]
"""

from __future__ import annotations

import argparse
import time

from _tables import print_machine, print_table

import overlapdyn as od

ETA0 = {1: 0.5, 2: 0.1, 3: 0.1, 4: 0.02}
ODE_DS = (256, 512, 1024, 2048, 4096, 8192, 16384)
SIMULATION = {  # ℓ: (dimensions, seeds)
    1: ((256, 512, 1024, 2048, 4096), 16),
    2: ((256, 512, 1024, 2048, 4096), 16),
    3: ((64, 128, 256, 512, 1024), 24),
}
QUICK = {1: ((128, 256, 512), 8), 2: ((128, 256, 512), 8), 3: ((64, 128, 256), 8)}


def single_index(ell: int) -> od.Model:
    return od.Model(od.Target(k=1, activation=f"He{ell}", c_k=1.0),
                    od.Student(p=1, activation=f"He{ell}", c_p=1.0),
                    od.Protocol(eta=ETA0[ell], loss="correlation", spherical=True))


def row(ell: int, escape: od.scaling.EscapeTimes, wall: float, extra: list[str]) -> list[str]:
    fit = escape.fit()
    predicted = escape.prediction.sample_exponent
    target = f"n/log d ∝ d^{predicted}" if fit.log_factor else f"n ∝ d^{predicted}"
    return [f"He{ell}", *extra, target, f"{fit.exponent:.3f}",
            f"{fit.ci[0]:.2f} … {fit.ci[1]:.2f}", f"{fit.exponent - predicted:+.3f}",
            f"{wall:.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small d and few seeds")
    args = parser.parse_args()
    print_machine("overlapdyn escape-time scaling benchmark")

    rows = []
    for ell in (1, 2, 3, 4):
        model = single_index(ell)
        od.measure_escape_ode(model, ODE_DS[:2])  # compile / load outside the timing
        start = time.perf_counter()
        escape = od.measure_escape_ode(model, ODE_DS)
        rows.append(row(ell, escape, time.perf_counter() - start, []))
    print_table(f"1. ODE route, d = {ODE_DS[0]} … {ODE_DS[-1]} ({len(ODE_DS)} points)",
                ["target", "prediction", "fitted", "95 % CI", "fitted − predicted", "wall s"],
                rows)

    rows = []
    for ell, (ds, seeds) in (QUICK if args.quick else SIMULATION).items():
        model = single_index(ell)
        od.measure_escape_simulated(model, ds[:2], seeds=2)  # compile outside the timing
        start = time.perf_counter()
        escape = od.measure_escape_simulated(model, ds, seeds=seeds)
        escaped = f"{escape.escaped.min():.0%}"
        rows.append(row(ell, escape, time.perf_counter() - start,
                        [f"{ds[0]} … {ds[-1]}", str(seeds), escaped]))
    print_table("2. simulation route (median over seeds, bootstrap CI)",
                ["target", "d", "seeds", "escaped (min)", "prediction", "fitted", "95 % CI",
                 "fitted − predicted", "wall s"], rows)


if __name__ == "__main__":
    main()
