"""The giant-step readout (Cui et al. 2024, arXiv:2402.04980): speed of the theory, the
authors' stored numbers, the spread a finite W⁰ draw gives, and the simulation's gap.

The authors' notebook setting (SPOC-group/OneStepGD_asymptotics, ``theory.ipynb``):
σ = tanh, σ* = sin, α₀ = 20, η̃ = 3, λ = 0.1, p = d = 2000.

Tables:

1. timings: one test-error point (cold, Marchenko–Pastur spectrum), a 50-point learning
   curve (warm starts), the p×p eigendecomposition of a given W⁰;
2. the stored numbers against the Marchenko–Pastur route and against given W⁰ of the same
   size (``draws`` independent W⁰, spike and teacher directions), in the authors'
   conventions (their c, θ channel closed) and in ours;
3. the simulation of the whole protocol (``od.readout.simulate_readout``) at each d, seed
   mean ± standard error, against the theory, with the relative gap.

Run:  .venv/bin/python benchmarks/bench_readout.py [--quick]
      (--quick: one W⁰ draw of p = 500 and d ∈ {250, 500}, 3 seeds; the full run takes
      3 draws of p = 2000 and d ∈ {250, 500, 1000} with 8, 6, 4 seeds — several minutes)
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _tables import print_machine, print_table

import overlapdyn as od
from overlapdyn.readout import (
    GiantStep,
    notebook_bulk,
    readout_risk,
    simulate_readout,
    weight_spectrum,
)

STEP = GiantStep(od.Target(k=1, expression="sin(z1)"), "tanh", eta_tilde=3.0, alpha0=20.0)
ALPHAS = np.linspace(0.2, 3.0, 5)
PUBLISHED = np.array([0.0486, 0.0431, 0.0381, 0.0351, 0.0333])


def timings() -> None:
    start = time.perf_counter()
    readout_risk(STEP, 1.0, 0.1)
    point = time.perf_counter() - start
    start = time.perf_counter()
    curve = readout_risk(STEP, np.linspace(0.1, 5.0, 50), 0.1)
    fifty = time.perf_counter() - start
    rows = [["one point (α = 1)", f"{point:.3f} s"],
            ["50-point curve, α ∈ [0.1, 5]", f"{fifty:.3f} s "
             f"({int(curve.iterations.sum())} iterations)"]]
    for p in (500, 2000):
        W0 = np.random.default_rng(0).standard_normal((p, p))
        start = time.perf_counter()
        weight_spectrum(W0)
        rows.append([f"W⁰ spectrum p = d = {p}", f"{time.perf_counter() - start:.2f} s"])
    print_table("Timings", ["what", "wall time"], rows)


def published_table(p: int, draws: int) -> None:
    nb, ours = dict(bulk=notebook_bulk(STEP), bulk_shift=False), {}
    rows = [["published (their W⁰, p = 2000)", *(f"{v:.4f}" for v in PUBLISHED)]]
    for name, options in (("theirs", nb), ("ours", ours)):
        limit = readout_risk(STEP, ALPHAS, 0.1, **options).test_error
        rows.append([f"Marchenko–Pastur, {name}", *(f"{v:.4f} ({v / w - 1:+.1%})"
                                                   for v, w in zip(limit, PUBLISHED,
                                                                   strict=True))])
        given = np.array([readout_risk(STEP, ALPHAS, 0.1, **options, spectrum=weight_spectrum(
            np.random.default_rng(100 + seed).standard_normal((p, p)), seed=seed)).test_error
            for seed in range(draws)])
        for seed, values in enumerate(given):
            rows.append([f"W⁰ draw {seed}, p = {p}, {name}",
                         *(f"{v:.4f} ({v / w - 1:+.1%})"
                           for v, w in zip(values, PUBLISHED, strict=True))])
    print_table("Test error: published vs computed (theirs: their c and θ channel closed)",
                ["route", *(f"α = {a:g}" for a in ALPHAS)], rows)


def simulation_table(ds, seeds) -> None:
    rows = []
    for step, name in ((STEP, "η̃ = 3"), (GiantStep(STEP.target, "tanh", 0.0, 20.0), "RF")):
        theory = readout_risk(step, ALPHAS, 0.1).test_error
        rows.append([name, "theory", *(f"{v:.4f}" for v in theory)])
        for d, S in zip(ds, seeds, strict=True):
            sim = simulate_readout(step, ALPHAS, 0.1, d=d, seeds=S, n_test=20000)
            rows.append([name, f"d = p = {d} ({S} seeds, {sim.wall_time_s:.0f} s)",
                         *(f"{m:.4f}±{s:.4f} ({m / t - 1:+.1%})" for m, s, t in
                           zip(sim.mean, sim.standard_error, theory, strict=True))])
    print_table("Simulation of the protocol vs theory (ours), test error (gap)",
                ["step", "run", *(f"α = {a:g}" for a in ALPHAS)], rows)


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print_machine("bench_readout")
    timings()
    published_table(500 if quick else 2000, 1 if quick else 3)
    simulation_table((250, 500) if quick else (250, 500, 1000), (3, 3) if quick else (8, 6, 4))
