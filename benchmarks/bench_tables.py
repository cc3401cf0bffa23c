"""Polynomial committees He2..He6: printed formulas against coefficient tables.

    .venv/bin/python benchmarks/bench_tables.py                  # He2..He6; formulas to He4
    .venv/bin/python benchmarks/bench_tables.py --generated 6    # formulas to He6 (~4 min more)
    .venv/bin/python benchmarks/bench_tables.py --degrees 6      # one degree

For each degree n, the committee ``σ = σ* = He_n``, p = k = 2, built both ways
(``CompiledModel(model, Exact(), tables=False|True)``), each cold in a fresh process: one
temporary OVERLAPDYN_CACHE_DIR per run in which the drift's loops (the same for every model)
are compiled first, so the time is the model's own build — SymPy, rendering and Numba
compiling its module at the first drift evaluation — as a user with a used cache meets a
new model. Then, in the process that built both: the drift's cost per call (CPU time,
the least of 7 runs of 200 calls at one state: the machine is shared) and the largest
normwise relative difference ``max_i |Δ_i| / max_i |rhs_i|`` of the two drifts over 20
random states (W ~ N(0, 1), d = 8, P = I), and of the risks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WARM = """
from overlapdyn.compile.compiled import _loops_module
_loops_module()
"""

CHILD = """
import json, time
import numpy as np
from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.derive.methods import Exact
n, generated = {degree}, {generated}
model = Model(Target(k=2, activation=f"He{{n}}"), Student(p=2, activation=f"He{{n}}"),
              Protocol(eta=0.3))
rng = np.random.default_rng(0)
states = []
for _ in range(20):
    W = rng.normal(size=(2, 8))
    U = np.sqrt(8) * np.eye(8)[:2]
    states.append((W @ U.T / 8, W @ W.T / 8))
out = {{"degree": n}}
built = {{}}
for tables in ([False, True] if generated else [True]):
    start = time.perf_counter()
    compiled = CompiledModel(model, Exact(), tables=tables)
    y = compiled.pack(*states[0])
    compiled.rhs(0.0, y)
    name = "tables" if tables else "generated"
    out[name + "_cold_s"] = time.perf_counter() - start
    runs = []
    for _ in range(7):
        t = time.process_time()
        for _ in range(200):
            compiled.rhs(0.0, y)
        runs.append((time.process_time() - t) / 200)
    out[name + "_rhs_us"] = 1e6 * min(runs)
    out[name + "_source_kb"] = len(compiled.source) / 1e3
    built[name] = compiled
if generated:
    a, b = built["generated"], built["tables"]
    drift = risk = 0.0
    for M, Q in states:
        y = a.pack(M, Q)
        ra, rb = a.rhs(0.0, y), b.rhs(0.0, y)
        drift = max(drift, float(np.max(np.abs(ra - rb)) / np.max(np.abs(ra))))
        risk = max(risk, abs(a.risk(M, Q) - b.risk(M, Q)) / abs(a.risk(M, Q)))
    out["drift_rel"] = drift
    out["risk_rel"] = risk
print(json.dumps(out))
"""


def run(code: str, env: dict) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--degrees", type=int, nargs="*", default=[2, 3, 4, 5, 6])
    parser.add_argument("--generated", type=int, default=4,
                        help="build the printed formulas up to this degree (He5 ~1 min, "
                             "He6 ~3 min)")
    args = parser.parse_args()
    print(f"{'model':<22} {'formulas cold':>13} {'tables cold':>11} {'formulas rhs':>12} "
          f"{'tables rhs':>10} {'ratio':>6} {'drift rel':>9} {'risk rel':>9}")
    with tempfile.TemporaryDirectory(prefix="bench-tables-") as cache:
        env = {**os.environ, "OVERLAPDYN_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        run(WARM, env)
        for degree in args.degrees:
            row = json.loads(run(CHILD.format(degree=degree,
                                              generated=degree <= args.generated), env))
            generated = "generated_cold_s" in row
            cold = f"{row['generated_cold_s']:>11.1f} s" if generated else f"{'—':>13}"
            rhs = f"{row['generated_rhs_us']:>9.1f} µs" if generated else f"{'—':>12}"
            ratio = (f"{row['tables_rhs_us'] / row['generated_rhs_us']:>6.1f}" if generated
                     else f"{'—':>6}")
            diffs = (f"{row['drift_rel']:>9.1e} {row['risk_rel']:>9.1e}" if generated
                     else f"{'—':>9} {'—':>9}")
            print(f"He{degree} committee p=k=2 {cold} {row['tables_cold_s']:>9.1f} s {rhs} "
                  f"{row['tables_rhs_us']:>7.1f} µs {ratio} {diffs}", flush=True)


if __name__ == "__main__":
    main()
