"""Warm costs of the speed issue (issue 20), before and after, measured in one run.

Three things a user waits for once the code is compiled:

* ``evolve``: the large-batch state evolution, 10⁴ steps of the map (α = n_b/d = 2) from a
  fixed warm start (that of ``bench_state_evolution.py``), for an erf and a spherical He3
  neuron (p = k = 1) and an erf committee K = M = 2;
* the K = 2 Saad–Solla learning curve: erf committee p = k = 2, c_p = c_k = 1, η = 0.5, from
  ``initial_overlaps(model, 10000, 0)`` to t = 1000 with 200 saved points (``integrate``,
  LSODA, default tolerances);
* the same at K = M = 8 (η = 0.1): LSODA with its own finite-difference Jacobian, and with
  the drift's exact Jacobian (``Solver(jacobian="exact")``).

"before" is a git ref (default ``main``; ``--before REF``) extracted to a temporary folder,
"after" this checkout: one Python process each, with the same ``OVERLAPDYN_CACHE_DIR``
(each side's modules have their own keys), which first builds or loads and runs every case
once, then runs the cases on request, one call at a time, the two sides alternating call by
call so that both see the same load of a shared machine. The table gives the median CPU
time of a call (``time.process_time``, the process's own: less sensitive than the wall time
to other jobs on the machine) of each side, the ratios before/after of the median CPU and
wall times, the drift evaluations of the curves, and the largest difference between the
two sides' results (states and risks of the whole path of the last call).

Run:  .venv/bin/python benchmarks/bench_speed.py [--quick] [--before REF]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _tables import print_machine, print_table

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import numpy as np
import overlapdyn as od

erf = lambda p, k, eta: od.Model(od.Target(k=k, activation="erf", c_k=1.0),
                                 od.Student(p=p, activation="erf", c_p=1.0), od.Protocol(eta=eta))
he3 = od.Model(od.Target(k=1, activation="He3"), od.Student(p=1, activation="He3", c_p=1.0),
               od.Protocol(eta=0.05, spherical=True))


def warm_start(model):
    M, Q, _ = od.initial_overlaps(model, 1000, seed=0)
    M = M + 0.2 / np.sqrt(model.k)
    Q = Q + M @ M.T
    if model.protocol.spherical:
        norms = np.sqrt(np.diag(Q))
        Q, M = Q / np.outer(norms, norms), M / norms[:, None]
    return M, Q


def evolution(model):
    compiled, init = od.CompiledModel(model), warm_start(model)
    return lambda: od.evolve(compiled, init, 10_000, 2.0)


def curve(model, solver):
    compiled = od.CompiledModel(model)
    M0, Q0, _ = od.initial_overlaps(model, 10_000, 0)
    return lambda: od.integrate(compiled, (M0, Q0), od.SaveAt(1000, 200), solver=solver)


CASES = {
    "evolve erf p=k=1": evolution(erf(1, 1, 0.5)),
    "evolve He3 p=k=1, spherical": evolution(he3),
    "evolve erf K=M=2": evolution(erf(2, 2, 0.5)),
    "curve erf K=2": curve(erf(2, 2, 0.5), od.Solver()),
    "curve erf K=8, LSODA, solver's Jacobian": curve(erf(8, 8, 0.1), od.Solver(jacobian="solver")),
    "curve erf K=8, LSODA, exact Jacobian": curve(erf(8, 8, 0.1), od.Solver(jacobian="exact")),
}
results = {name: call() for name, call in CASES.items()}   # compile or load, warm up
print(json.dumps(list(CASES)), flush=True)
for line in sys.stdin:
    command = line.split(maxsplit=1)
    if command[0] == "run":
        name = command[1].strip()
        wall, cpu = time.perf_counter(), time.process_time()
        results[name] = CASES[name]()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        run = results[name]
        nfev = run.solver.nfev if run.solver is not None else 0
        print(json.dumps([cpu, wall, nfev]), flush=True)
    elif command[0] == "save":
        np.savez(command[1].strip(), **{name: np.concatenate([r.M.ravel(), r.Q.ravel(), r.risk])
                                        for name, r in results.items()})
        print("[]", flush=True)
"""


class Side:
    """A Python process running the cases on one checkout, one call per request."""

    def __init__(self, source: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(source), NUMBA_NUM_THREADS="1")
        self.process = subprocess.Popen([sys.executable, "-c", CHILD], env=env, text=True,
                                        cwd=tempfile.gettempdir(), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
        self.cases = self._answer()

    def _answer(self):
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"a benchmark process stopped (exit {self.process.wait()})")
        return json.loads(line)

    def ask(self, request: str):
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def main() -> None:
    quick = "--quick" in sys.argv
    before_ref = sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv else "main"
    repeats = 5 if quick else 15
    print_machine(f"warm costs before ({before_ref}) and after (this checkout): each call "
                  f"alternately in two processes, {repeats} calls per case and side")
    with tempfile.TemporaryDirectory() as folder:
        before = Path(folder) / "before"
        before.mkdir()
        archive = subprocess.run(["git", "archive", before_ref, "overlapdyn"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        sides = {"before": Side(before), "after": Side(ROOT)}
        cases = sides["after"].cases
        times = {(side, case): [] for side in sides for case in cases}
        nfev = {}
        for _ in range(repeats):
            for case in cases:
                for side, process in sides.items():
                    cpu, wall, evaluations = process.ask(f"run {case}")
                    times[side, case].append((cpu, wall))
                    nfev[side, case] = evaluations
        for side, process in sides.items():
            process.ask(f"save {folder}/{side}.npz")
            process.close()
        paths = {side: np.load(f"{folder}/{side}.npz") for side in sides}
        rows = []
        for case in cases:
            (cpu_old, wall_old), (cpu_new, wall_new) = (
                np.median(np.array(times[side, case]), axis=0) for side in sides)
            gap = float(np.max(np.abs(paths["before"][case] - paths["after"][case])))
            evaluations = ("" if case.startswith("evolve")
                           else f"{nfev['before', case]} / {nfev['after', case]}")
            rows.append([case, f"{cpu_old * 1e3:.1f}", f"{cpu_new * 1e3:.1f}",
                         f"{cpu_old / cpu_new:.2f}×", f"{wall_old / wall_new:.2f}×",
                         evaluations, f"{gap:.1e}"])
    print_table("CPU time per call, ms (median), and the ratios before/after of CPU and wall "
                "time", ["case", "before", "after", "CPU ratio", "wall ratio",
                         "rhs evals before / after", "max |Δ| of the path"], rows)


if __name__ == "__main__":
    main()
