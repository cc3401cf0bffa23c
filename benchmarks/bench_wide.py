"""Wide networks: the reduced states of ``overlapdyn.ode.wide`` against the full drift.

erf committee target (k = 2), erf students with c_p = 1/p, η = p (η c_p = 1), Δ = 10⁻³.
Prints two tables:

1. **Drift cost per evaluation** (least CPU seconds over ``--repeats`` batches of ≥ 0.1 s,
   ``time.process_time``) at p ∈ {8, 32, 128, 500, 2000, 5000}: the full drift
   (``CompiledModel.rhs``, every part, p ≤ 32; gradient flow, whose O(p⁴) I4 sums are
   skipped, p ≤ 128), the orthogonal-diagonal reduction (first order, O(p² k) kernel
   calls: p ≤ 2000 unless ``--full``) and the symmetric ansatz (every part, O(1)).
2. **Learning curves to t = 10** (50 log-spaced times, the reductions' default DOP853,
   rtol 1e-8): wall seconds and drift evaluations of the symmetric ansatz at p = 500 and
   p = 5000 (the issue's goal: a p = 5000 learning curve in seconds) and of the orthogonal
   reduction at p = 128 and 500 (p = 2000 with ``--full``) from SPEC's random start at
   d = 10⁴ (its closure rate at the start and the end only; the risk at every saved time,
   O(p²) kernel calls each, like a drift evaluation).

Uses the kernel cache of ``OVERLAPDYN_CACHE_DIR`` (a cold cache compiles the erf kernels,
the drift's loops and the reduction's loops first: about a minute).

    .venv/bin/python benchmarks/bench_wide.py [--repeats 5] [--full]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _tables import print_machine, print_table

import overlapdyn as od
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.ode.wide import OrthogonalReduction, SymmetricReduction


def model(p: int, terms: str = "all") -> od.Model:
    return od.Model(od.Target(2, activation="erf", noise=1e-3), od.Student(p, "erf"),
                    od.Protocol(float(p), terms=terms))


def cost(rhs, y: np.ndarray, repeats: int) -> float:
    """The least CPU seconds per ``rhs(0, y)`` over ``repeats`` batches of ≥ 0.1 s."""
    rhs(0.0, y)
    best = float("inf")
    for _ in range(repeats):
        calls, start = 0, time.process_time()
        while time.process_time() - start < 0.1:
            rhs(0.0, y)
            calls += 1
        best = min(best, (time.process_time() - start) / calls)
    return best


def random_start(p: int, d: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    W = rng.normal(size=(p, d))
    return W[:, :2] / np.sqrt(d), W @ W.T / d   # U = the first two coordinate axes times √d


def seconds(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="the orthogonal reduction at "
                        "p = 5000 too (seconds per evaluation)")
    args = parser.parse_args()
    print_machine("overlapdyn: reduced states of wide networks")
    rows = []
    for p in (8, 32, 128, 500, 2000, 5000):
        M, Q = random_start(p, 10_000) if p <= 2000 else (None, None)
        full = gradient = orthogonal = "—"
        if p <= 32:
            compiled = CompiledModel(model(p))
            y = compiled.pack(M, Q)
            full = seconds(cost(compiled.rhs, y, args.repeats))
        if p <= 128:
            compiled = CompiledModel(model(p, "gradient-flow"))
            y = compiled.pack(M, Q)
            gradient = seconds(cost(compiled.rhs, y, args.repeats))
        if p <= 2000 or args.full:
            reduction = OrthogonalReduction(model(p, "gradient-flow"))
            if M is None:
                rng = np.random.default_rng(0)
                M = rng.normal(0, 0.01, (p, 2))
                Q = M @ M.T + np.eye(p)
            y = reduction.state(M, Q, tolerance=1.0)
            orthogonal = seconds(cost(reduction.rhs, y, min(args.repeats, 2)))
        symmetric = SymmetricReduction(model(p))
        y = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
        rows.append((str(p), full, gradient, orthogonal,
                     seconds(cost(symmetric.rhs, y, args.repeats))))
    print_table("1. CPU seconds per drift evaluation (erf, k = 2, c_p = 1/p)",
                ["p", "full (all parts)", "full (gradient flow)", "orthogonal (first order)",
                 "symmetric (all parts)"], rows)

    save = od.SaveAt(10.0, 50)
    rows = []
    for p in (500, 5000):
        reduction = SymmetricReduction(model(p))
        start = time.perf_counter()
        curve = reduction.integrate(np.array([0.0, 0.0, 1.0, 0.0, 0.0]), save)
        rows.append((f"symmetric, p = {p}", seconds(time.perf_counter() - start),
                     str(curve.evaluations), f"{curve.risk[-1]:.4g}"))
    for p in (128, 500, 2000) if args.full else (128, 500):
        reduction = OrthogonalReduction(model(p, "gradient-flow"))
        M, Q = random_start(p)
        start = time.perf_counter()
        curve = reduction.integrate(reduction.state(M, Q, tolerance=0.06), save, closure=False)
        rows.append((f"orthogonal, p = {p}", seconds(time.perf_counter() - start),
                     str(curve.evaluations), f"{curve.risk[-1]:.4g}"))
    print_table("2. Learning curves to t = 10 (wall seconds, warm)",
                ["run", "seconds", "drift evaluations", "final risk"], rows)


if __name__ == "__main__":
    main()
