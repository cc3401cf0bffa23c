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
"after" this checkout. Each round runs one fresh Python process per side, alternately, with
the same ``OVERLAPDYN_CACHE_DIR`` (each side's modules have their own keys, so both stay
warm: a first round that compiles is a warm-up and is not counted); inside it every case is
warmed once and timed as the median of several calls (``time.perf_counter``, whole call).
The table gives the median over rounds of each side, the ratio before/after, and the
largest difference between the two sides' results (states and risks of the whole path),
which should be rounding.

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

repeats, out = int(sys.argv[1]), sys.argv[2]
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


def median(call, n):
    call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


times, arrays = {}, {}
for name, model in (("evolve erf p=k=1", erf(1, 1, 0.5)), ("evolve He3 p=k=1, spherical", he3),
                    ("evolve erf K=M=2", erf(2, 2, 0.5))):
    compiled = od.CompiledModel(model)
    init = warm_start(model)
    times[name], run = median(lambda: od.evolve(compiled, init, 10_000, 2.0), repeats)
    arrays[name] = np.concatenate([run.M.ravel(), run.Q.ravel(), run.risk])
curves = (("curve erf K=2", erf(2, 2, 0.5), od.Solver()),
          ("curve erf K=8, LSODA, solver's Jacobian", erf(8, 8, 0.1), od.Solver(jacobian="solver")),
          ("curve erf K=8, LSODA, exact Jacobian", erf(8, 8, 0.1), od.Solver(jacobian="exact")),
          ("curve erf K=8, LSODA, default", erf(8, 8, 0.1), od.Solver()))
for name, model, solver in curves:
    compiled = od.CompiledModel(model)
    M0, Q0, _ = od.initial_overlaps(model, 10_000, 0)
    times[name], run = median(lambda: od.integrate(compiled, (M0, Q0), od.SaveAt(1000, 200),
                                                   solver=solver), repeats)
    arrays[name] = np.concatenate([run.M.ravel(), run.Q.ravel(), run.risk])
    times[name + " nfev"] = run.solver.nfev
np.savez(out, **arrays)
print(json.dumps(times))
"""


def run_child(source: Path, repeats: int, out: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(source), NUMBA_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", CHILD, str(repeats), out], env=env,
                          cwd=tempfile.gettempdir(), capture_output=True, text=True,
                          check=False)
    if done.returncode:
        raise SystemExit(f"the child on {source} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    quick = "--quick" in sys.argv
    before_ref = sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv else "main"
    rounds, repeats = (2, 3) if quick else (4, 7)
    print_machine(f"warm costs before ({before_ref}) and after (this checkout); "
                  f"{rounds - 1} counted rounds of fresh processes, median of {repeats} "
                  "calls each")
    with tempfile.TemporaryDirectory() as folder:
        before = Path(folder) / "before"
        before.mkdir()
        archive = subprocess.run(["git", "archive", before_ref, "overlapdyn"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        sides = {"before": before, "after": ROOT}
        results: dict[str, list[dict]] = {"before": [], "after": []}
        for index in range(rounds):
            for side, source in sides.items():
                times = run_child(source, repeats, f"{folder}/{side}.npz")
                if index:   # the first round compiles what a side lacks: a warm-up
                    results[side].append(times)
        paths = {side: np.load(f"{folder}/{side}.npz") for side in sides}
        rows = []
        for name in results["after"][0]:
            if name.endswith(" nfev"):
                continue
            old, new = (float(np.median([r[name] for r in results[side]])) for side in sides)
            gap = float(np.max(np.abs(paths["before"][name] - paths["after"][name])))
            nfev = "" if name.startswith("evolve") else (
                f"{results['before'][0][name + ' nfev']} / {results['after'][0][name + ' nfev']}")
            rows.append([name, f"{old * 1e3:.1f}", f"{new * 1e3:.1f}", f"{old / new:.2f}×",
                         nfev, f"{gap:.1e}"])
    print_table("warm wall time, ms (median over rounds of per-process medians)",
                ["case", "before", "after", "before/after", "rhs evals before / after",
                 "max |Δ| of the path"], rows)


if __name__ == "__main__":
    main()
