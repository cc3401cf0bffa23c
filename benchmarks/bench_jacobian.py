"""The exact Jacobian of the drift against finite differences: cost and use in the solvers.

For each model, from a warm start through the plateau to the end of learning:

1. one Jacobian: the exact one (:meth:`CompiledModel.jacobian`) against central differences
   of the drift (2n drift evaluations, n = state size), and their largest difference
   relative to the largest entry;
2. the implicit solvers BDF and Radau (rtol 1e-8, atol 1e-10) given the exact Jacobian
   against their own finite differences: right-hand-side evaluations, Jacobian evaluations
   and wall time (median of 3), and the largest risk difference between the two runs;
3. the one-time cost of deriving and compiling the gradients (a fresh cache folder).

Run:  .venv/bin/python benchmarks/bench_jacobian.py
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
from _tables import print_machine, print_table

import overlapdyn as od
from overlapdyn.ode.analysis import _central_differences

MODELS = {
    "Saad–Solla erf K=2, c_p=1": od.Model(od.Target(k=2, activation="erf", c_k=1.0),
                                          od.Student(p=2, activation="erf", c_p=1.0),
                                          od.Protocol(eta=0.5)),
    "Saad–Solla erf K=4, c_p=1": od.Model(od.Target(k=4, activation="erf", c_k=1.0),
                                          od.Student(p=4, activation="erf", c_p=1.0),
                                          od.Protocol(eta=0.5)),
    "staircase z1+z1z2+z1z2z3, He2 p=4": od.Model(
        od.Target(k=3, expression="z1 + z1*z2 + z1*z2*z3"), od.Student(p=4, activation="He2"),
        od.Protocol(eta=0.2, n_b=4)),
}
T_END = 2000.0


def _median_time(function, repeats: int = 3):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def _build(model: od.Model) -> tuple[od.CompiledModel, list[str]]:
    """Compile ``model`` and its Jacobian in a fresh cache folder; the build times."""
    previous = os.environ.get("OVERLAPDYN_CACHE_DIR")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["OVERLAPDYN_CACHE_DIR"] = folder
        try:
            start = time.perf_counter()
            compiled = od.CompiledModel(model)
            drift_build = time.perf_counter() - start
            compiled.jacobian(0.0, compiled.pack(*od.initial_overlaps(model, 100, 0)[:2]))
            jacobian_build = time.perf_counter() - start - drift_build
        finally:
            if previous is None:
                del os.environ["OVERLAPDYN_CACHE_DIR"]
            else:
                os.environ["OVERLAPDYN_CACHE_DIR"] = previous
    return compiled, [f"{drift_build:.1f}", f"{jacobian_build:.1f}"]


def _one_jacobian(compiled: od.CompiledModel, y: np.ndarray) -> list[str]:
    exact_s, exact = _median_time(lambda: compiled.jacobian(0.0, y), 20)
    numeric_s, numeric = _median_time(lambda: _central_differences(
        lambda v: compiled.rhs(0.0, v), y, 1e-6), 20)
    gap = np.abs(exact - numeric).max() / np.abs(numeric).max()
    return [str(y.size), f"{exact_s * 1e6:.0f}", f"{numeric_s * 1e6:.0f}",
            f"{numeric_s / exact_s:.1f}×", f"{gap:.1e}"]


def _solver_runs(compiled: od.CompiledModel, init, method: str) -> list[str]:
    runs = {how: _median_time(lambda how=how: od.integrate(
        compiled, init, od.SaveAt(T_END, 100), solver=od.Solver(method, jacobian=how)))
        for how in ("exact", "solver")}
    cells = [method]
    for how in ("exact", "solver"):
        wall, trajectory = runs[how]
        cells += [str(trajectory.solver.nfev), f"{wall:.2f}"]
    risk_gap = np.abs(runs["exact"][1].risk - runs["solver"][1].risk).max()
    return cells + [f"{runs['solver'][0] / runs['exact'][0]:.1f}×", f"{risk_gap:.1e}"]


def main() -> None:
    print_machine("bench_jacobian: the drift's exact Jacobian against finite differences")
    one, solvers, build = [], [], []
    for name, model in MODELS.items():
        compiled, times = _build(model)
        build.append([name, *times])
        M0, Q0, _ = od.initial_overlaps(model, 10_000, seed=0)
        one.append([name, *_one_jacobian(compiled, compiled.pack(M0, Q0))])
        solvers += [[name, *_solver_runs(compiled, (M0, Q0), method)]
                    for method in ("BDF", "Radau")]
    print_table("1. one Jacobian at a random start (d = 10 000), median of 20",
                ["model", "n", "exact [µs]", "central diff. [µs]", "ratio", "max rel. diff."],
                one)
    print_table(f"2. implicit solvers from that start to t = {T_END:g}, median of 3",
                ["model", "method", "rhs evals (exact)", "wall [s] (exact)",
                 "rhs evals (solver's FD)", "wall [s] (solver's FD)", "speed-up",
                 "max |Δ risk|"], solvers)
    print_table("3. one-time build in a fresh cache folder (SymPy + Numba)",
                ["model", "drift [s]", "Jacobian [s]"], build)


if __name__ == "__main__":
    main()
