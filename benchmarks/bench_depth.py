"""Benchmarks of the depth experiments (overlapdyn.depth.training): where the Fig. 2 time goes.

Prints plain-text tables of

1. the cost of every stage and baseline of one run (:func:`overlapdyn.depth.training.run_instance`)
   at d = 64 with the Fig. 2 network (p1 = 1024, p2 = 128, 1024 random features, 1000
   held-out samples) for n = d^κ at κ = 1.5, 2.0, 2.2 — medians over repeats;
2. the throughput of a stage-1 step (the batched gradient of all p1 neurons: two matrix
   products of 2 n d p1 flops each, plus the elementwise work) against one bare BLAS product
   of the same shape, and against a per-neuron loop (the same step, one neuron at a time);
3. the parts of the quadratic-kernel baseline, the dominant cost: building the
   1 + d + d(d+1)/2 explicit features and the ridge fit (one eigendecomposition + the λ path).

``python benchmarks/bench_depth.py`` (``--quick``: one repeat, κ ≤ 2) takes about a minute
on two cores.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _tables import print_machine, print_table

from overlapdyn.depth.config import DepthConfig, KappaSweep, Network, Training
from overlapdyn.depth.ridge import quadratic_features, ridge_loo
from overlapdyn.depth.targets import HierarchicalTarget
from overlapdyn.depth.training import run_instance, stage1

STAGES = ("stage1", "stage2", "stage3", "kernel", "random_features")


def timed(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def stage_costs(kappas, repeats: int) -> list[list[str]]:
    target = HierarchicalTarget(d=64)
    config = DepthConfig(target, Network(p1=1024, p2=128, rf_features=1024),
                         Training(steps1=8, eta1=5.0, remove_linear=True, validation=1000),
                         KappaSweep(methods=("three_layer", "two_layer", "kernel",
                                             "random_features")))
    instance = target.draw(0)
    x_te, y_te = instance.sample(2000, np.random.default_rng(1))
    test = (x_te, y_te, instance.h_star(x_te))
    rows = []
    for kappa in kappas:
        n = int(round(64 ** kappa))
        runs = [run_instance(config, instance, n, np.random.default_rng([2, r]), test)
                for r in range(repeats)]
        cells = [statistics.median(run[f"time_{s}"] for run in runs) for s in STAGES]
        rows.append([f"{kappa:.1f}", str(n), *(f"{c:.3f}" for c in cells),
                     f"{sum(cells):.2f}"])
    return rows


def stage1_throughput(n: int, repeats: int) -> list[list[str]]:
    d, p1 = 64, 1024
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    W = rng.standard_normal((p1, d))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    b, s = rng.uniform(-1, 1, p1), rng.choice([-1.0, 1.0], p1)
    flops = 4.0 * n * d * p1                                  # the two products of a step
    batched = timed(lambda: stage1(W, b, s, [(x, y)], 40.0, "relu"), repeats)
    bare = timed(lambda: x @ W.T, repeats)                    # one product: 2 n d p1 flops
    few = 32

    def per_neuron():
        for j in range(few):                                  # the step, one neuron at a time
            w = W[j]
            g = (y * (x @ w + b[j] > 0)) @ x / n
            g -= (g @ w) * w
            w = w + 40.0 * s[j] * g
            _ = w / np.linalg.norm(w)
    loop = timed(per_neuron, repeats) * p1 / few
    return [
        ["batched stage-1 step (p1 neurons)", f"{batched * 1e3:.1f}",
         f"{flops / batched / 1e9:.1f}"],
        ["bare BLAS product x·Wᵀ (half the flops)", f"{bare * 1e3:.1f}",
         f"{flops / 2 / bare / 1e9:.1f}"],
        [f"per-neuron loop (timed on {few}, scaled)", f"{loop * 1e3:.1f}",
         f"{flops / loop / 1e9:.1f}"],
    ]


def kernel_parts(n: int, repeats: int) -> list[list[str]]:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((n, 64)), rng.standard_normal(n)
    x_val, y_val = rng.standard_normal((1000, 64)), rng.standard_normal(1000)
    F, F_val = quadratic_features(x), quadratic_features(x_val)
    grid = np.linspace(-4, 2, 13)
    build = timed(lambda: quadratic_features(x), repeats)
    fit = timed(lambda: ridge_loo(F, y, grid, validation=(F_val, y_val)), repeats)
    return [["explicit features", f"{F.shape[1]}", f"{build:.3f}"],
            ["ridge: eigendecomposition + 13-λ path on 1000 held-out", f"{F.shape[1]}",
             f"{fit:.3f}"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, κ ≤ 2")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    kappas = (1.5, 2.0) if args.quick else (1.5, 2.0, 2.2)
    print_machine("overlapdyn depth benchmarks (d = 64, Fig. 2 network)")
    print_table("1. seconds per stage of one run (median over "
                f"{repeats} runs)", ["κ", "n", *STAGES, "total"], stage_costs(kappas, repeats))
    n = int(round(64 ** kappas[-1]))
    print_table(f"2. one stage-1 step, n = {n}, d = 64, p1 = 1024",
                ["what", "ms", "GFLOP/s"], stage1_throughput(n, repeats))
    print_table(f"3. the quadratic kernel at n = {n}", ["part", "features", "seconds"],
                kernel_parts(n, repeats))


if __name__ == "__main__":
    main()
