"""Benchmark of the kinked activations' closed-form kernels (relu committees).

Prints a table of, for the relu student p = 3 on relu(z1) + relu(z2) (k = 2, c_p = 1, η = 0.5)
and the erf committee of the same size:

* the cold build (kernel derivation, generation, Numba compile at the first right-hand
  side) into a fresh cache folder;
* the right-hand side's cost per call (median) at the random start of d = 1000 and at a
  state near the end of learning (students on their teachers);
* the warm learning curve to t = 2000 (50 log-spaced points) with the default solver
  (LSODA) and with RK45, its number of right-hand-side calls and the final risk.

And the accuracy of the four-field kernel: the largest difference between the compiled rule
and the same rule with four times the nodes, over random and nearly coincident covariances.

Run with ``make bench`` or ``python benchmarks/bench_kinked.py``.
"""

# ruff: noqa: E402  (the cache folder must be chosen before overlapdyn is imported)

from __future__ import annotations

import os
import tempfile

CACHE_DIR = tempfile.mkdtemp(prefix="overlapdyn-bench-kinked-")
os.environ["OVERLAPDYN_CACHE_DIR"] = CACHE_DIR

import shutil
import statistics
import time

import numpy as np
from _tables import print_machine, print_table

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.compile import CompiledModel
from overlapdyn.compile.compiled import KINKED_NODES
from overlapdyn.compile.render import kinked_prelude
from overlapdyn.ode import SaveAt, Solver, initial_overlaps, integrate


def model(activation: str) -> Model:
    return Model(Target(k=2, activation=activation),
                 Student(p=3, activation=activation, c_p=1.0), Protocol(eta=0.5))


def rhs_cost(compiled: CompiledModel, y: np.ndarray, repeats: int = 30) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        compiled.rhs(0.0, y)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def curve(compiled: CompiledModel, init, method: str) -> tuple[float, int, float]:
    calls = [0]
    rhs = compiled.rhs

    def counted(t, y):
        calls[0] += 1
        return rhs(t, y)

    compiled.rhs = counted
    start = time.perf_counter()
    trajectory = integrate(compiled, init, SaveAt(2000.0, 50, t_first=1.0),
                           solver=Solver(method=method))
    seconds = time.perf_counter() - start
    compiled.rhs = rhs
    return seconds, calls[0], float(trajectory.risk[-1])


def rule_accuracy() -> float:
    """max |rule(KINKED_NODES) − rule(4 KINKED_NODES)| of E[H H relu relu] and E[H H relu H]
    over random covariances and fields within 1e-2 … 1e-6 of each other."""
    rules = []
    for nodes in (KINKED_NODES, 4 * KINKED_NODES):
        namespace = {}
        exec(compile("import math\nimport numpy as np\nfrom numba import njit\nLOOP = {}\n"
                      + kinked_prelude(nodes), "<kinked>", "exec"), namespace)
        rules.append(namespace["kinked4"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for eps in (1.0, 1e-2, 1e-4, 1e-6):
        for trial in range(20):
            base = rng.normal(size=(6, 4)) / 2
            vectors = list(base[:4])
            vectors[1 + trial % 3] = vectors[trial % 2] + eps * base[4]
            C = np.array([[a @ b for b in vectors] for a in vectors])
            args = [C[i, j] for i in range(4) for j in range(i, 4)]
            for codes in ((3, 3, 2, 2), (3, 3, 2, 3)):
                worst = max(worst, abs(rules[0](*codes, *args) - rules[1](*codes, *args)))
    return worst


def main() -> None:
    print_machine("overlapdyn kinked-activation benchmarks")
    rows = []
    for activation in ("relu", "erf"):
        spec = model(activation)
        start = time.perf_counter()
        compiled = CompiledModel(spec)
        M0, Q0 = initial_overlaps(spec, d=1000, seed=0)[:2]
        y0 = compiled.pack(M0, Q0)
        compiled.rhs(0.0, y0)
        cold = time.perf_counter() - start
        end = integrate(compiled, (M0, Q0), SaveAt(2000.0, 3, t_first=1.0))
        y_end = compiled.pack(end.M[-1], end.Q[-1])
        costs = [rhs_cost(compiled, y) * 1e3 for y in (y0, y_end)]
        for method in ("LSODA", "RK45"):
            seconds, calls, risk = curve(compiled, (M0, Q0), method)
            rows.append([f"{activation} ({compiled.method})", f"{cold:.1f}",
                         f"{costs[0]:.3f}", f"{costs[1]:.3f}", method, f"{seconds:.2f}",
                         str(calls), f"{risk:.1e}"])
    print_table("p = 3 students on a k = 2 committee (c_p = 1, η = 0.5), curve to t = 2000",
                ["model", "cold s", "rhs ms (start)", "rhs ms (end)", "solver", "curve s",
                 "rhs calls", "final risk"], rows)
    print_table("four-field kernel rule", ["nodes per segment", "max |Δ| against 4× nodes"],
                [[str(KINKED_NODES), f"{rule_accuracy():.1e}"]])


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(CACHE_DIR, ignore_errors=True)
