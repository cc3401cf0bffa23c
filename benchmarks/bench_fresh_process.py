"""A learning curve in a fresh process: where the time goes before the first number.

The Saad–Solla erf committee K = 2 (c_p = c_k = 1, η = 0.5) from a random start at
d = 10⁴ to t = 1000 on 200 saved times, in a new Python process with a warm code cache (one
run first fills it), phase by phase: ``import overlapdyn``; building the ``Model`` (the
activation registry, SymPy, ``scipy.special``); ``CompiledModel`` (Numba, ``scipy.integrate``,
loading the cached machine code); ``integrate``; ``save``. Medians over fresh processes, and
``overlapdyn --help``. The goal (the speed issue): the whole curve under 0.8 s.

Run:  .venv/bin/python benchmarks/bench_fresh_process.py [--quick]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _tables import print_machine, print_table

PHASES = ("import overlapdyn", "Model", "CompiledModel", "integrate", "save", "total")

CURVE = """
import json, sys, time
start = time.perf_counter()
import overlapdyn as od
marks = [time.perf_counter()]
model = od.Model(od.Target(k=2, activation="erf", c_k=1.0),
                 od.Student(p=2, activation="erf", c_p=1.0), od.Protocol(eta=0.5))
marks.append(time.perf_counter())
compiled = od.CompiledModel(model)
marks.append(time.perf_counter())
M0, Q0, _ = od.initial_overlaps(model, d=10_000, seed=0)
curve = od.integrate(compiled, (M0, Q0), od.SaveAt(1000, 200))
marks.append(time.perf_counter())
curve.save(sys.argv[1])
marks.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip([start, *marks], marks)] + [marks[-1] - start]))
"""


def fresh_curve(folder: Path) -> list[float]:
    """The phases' seconds in one new process (the whole process's wall time last)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CURVE, str(folder / "curve.npz")],
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    return [*json.loads(done.stdout.strip().splitlines()[-1])[:-1], wall]


def fresh_help() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "overlapdyn.cli", "--help"], capture_output=True,
                   check=True)
    return time.perf_counter() - start


def main() -> None:
    runs = 3 if "--quick" in sys.argv else 7
    print_machine("overlapdyn in a fresh process")
    with tempfile.TemporaryDirectory() as folder:
        fresh_curve(Path(folder))                  # fills the code cache if it is cold
        times = np.array([fresh_curve(Path(folder)) for _ in range(runs)])
    medians = np.median(times, axis=0)
    print_table(f"K = 2 erf curve to t = 1000 in a new process (median of {runs}; total = the "
                "process's wall time, interpreter start included), seconds",
                ["phase", "seconds"], [[name, f"{value:.2f}"] for name, value
                                       in zip(PHASES, medians, strict=True)])
    helps = [fresh_help() for _ in range(runs)]
    print_table("overlapdyn --help in a new process (median), seconds", ["command", "seconds"],
                [["python -m overlapdyn.cli --help", f"{np.median(helps):.2f}"]])


if __name__ == "__main__":
    main()
