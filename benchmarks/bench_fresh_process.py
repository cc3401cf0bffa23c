"""A learning curve in a fresh process: where the time goes before the first number.

The Saad–Solla erf committee K = 2 (c_p = c_k = 1, η = 0.5) from a random start at
d = 10⁴ to t = 1000 on 200 saved times, in a new Python process with a warm code cache (one
run first fills it), phase by phase: ``import overlapdyn``; building the ``Model`` (the
activation registry, SymPy, ``scipy.special``); ``CompiledModel`` (Numba, ``scipy.integrate``,
loading the cached machine code); ``integrate``; ``save``. Medians over fresh processes, and
``overlapdyn --help``. The goal (the speed issue): the whole curve under 0.8 s.

Each process imports the checkout this script lies in (``PYTHONPATH`` set to it). With
``--against PATH`` (another checkout, e.g. a worktree of an older commit) its processes
alternate with those of PATH, both on the same warm cache, and the table shows both in one
run; each row also gives the process's CPU time (user + sys), steadier than the wall time
on a loaded machine, and the load average is printed before and after.

Run:  .venv/bin/python benchmarks/bench_fresh_process.py [--quick] [--against PATH]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _tables import print_machine, print_table

PHASES = ("import overlapdyn", "Model", "CompiledModel", "integrate", "save", "total",
          "total CPU (user + sys)")
HERE = Path(__file__).resolve().parents[1]

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


# The floor under any warm curve: a process that imports what one needs (NumPy, Numba,
# scipy.integrate for LSODA) and loads one small function from Numba's cache (the first
# load installs Numba's registries, which import scipy.linalg), nothing of overlapdyn.
FLOOR_MODULE = """
import numpy as np
from numba import njit


@njit(cache=True)
def double(y):
    out = np.zeros_like(y)
    for i in range(y.shape[0]):
        out[i] = 2.0 * y[i]
    return out
"""
FLOOR = """
import sys
import numpy as np, numba, scipy.integrate
sys.path.insert(0, sys.argv[1])
import floor_module
floor_module.double(np.ones(3))
"""


def floor(folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the floor process (see FLOOR)."""
    cpu, start = _child_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR, str(folder)], check=True, cwd=folder,
                   env=dict(os.environ, PYTHONPATH=""))
    return time.perf_counter() - start, _child_cpu() - cpu


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _environment(checkout: Path, folder: Path) -> dict:
    # (the processes run in ``folder``: ``python -c`` puts its working folder first on the
    # path, which would shadow PYTHONPATH from inside a checkout)
    return dict(os.environ, PYTHONPATH=str(checkout), OVERLAPDYN_CACHE_DIR=str(folder / "cache"))


def fresh_curve(folder: Path, checkout: Path = HERE) -> list[float]:
    """The phases' seconds in one new process (the whole process's wall time, then its CPU
    time, last)."""
    cpu, start = _child_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CURVE, str(folder / "curve.npz")],
                          capture_output=True, text=True, check=True, cwd=folder,
                          env=_environment(checkout, folder))
    wall = time.perf_counter() - start
    return [*json.loads(done.stdout.strip().splitlines()[-1])[:-1], wall, _child_cpu() - cpu]


def fresh_help(folder: Path, checkout: Path = HERE) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "overlapdyn.cli", "--help"], capture_output=True,
                   check=True, cwd=folder, env=_environment(checkout, folder))
    return time.perf_counter() - start


def main() -> None:
    runs = 3 if "--quick" in sys.argv else 7
    checkouts = {"this checkout": HERE}
    if "--against" in sys.argv:
        checkouts = {"against": Path(sys.argv[sys.argv.index("--against") + 1]).resolve(),
                     **checkouts}
    print_machine("overlapdyn in a fresh process")
    print("load average before: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    for name, checkout in checkouts.items():
        print(f"{name}: {checkout}")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        times = {name: [] for name in checkouts}
        helps = {name: [] for name in checkouts}
        (folder / "floor_module.py").write_text(FLOOR_MODULE)
        floor(folder)                              # fills Numba's cache of the floor
        for checkout in checkouts.values():
            fresh_curve(folder, checkout)          # fills the code cache if it is cold
        floors = []
        for _ in range(runs):                      # the checkouts alternate: same load
            for name, checkout in checkouts.items():
                times[name].append(fresh_curve(folder, checkout))
                helps[name].append(fresh_help(folder, checkout))
            floors.append(floor(folder))
    medians = {name: np.median(np.array(rows), axis=0) for name, rows in times.items()}
    print_table(f"K = 2 erf curve to t = 1000 in a new process (median of {runs}; total = the "
                "process's wall time, interpreter start included), seconds",
                ["phase", *checkouts], [[phase, *(f"{medians[name][i]:.2f}" for name in checkouts)]
                                        for i, phase in enumerate(PHASES)])
    wall, cpu = np.median(np.array(floors), axis=0)
    print_table(f"The floor: a new process importing NumPy, Numba and scipy.integrate and "
                f"loading one cached Numba function, no overlapdyn (median of {runs}), seconds",
                ["", "seconds"], [["wall", f"{wall:.2f}"], ["CPU (user + sys)", f"{cpu:.2f}"]])
    print_table("overlapdyn --help in a new process (median), seconds", ["command", *checkouts],
                [["python -m overlapdyn.cli --help",
                  *(f"{np.median(helps[name]):.2f}" for name in checkouts)]])
    print("\nload average after: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
