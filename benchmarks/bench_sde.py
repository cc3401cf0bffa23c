"""The overlap SDE's cost per path and step: sampled noise against the cubature.

Issue 17's speed goal: 10⁴ paths of a p = k = 2 model to t = 100 in under a minute on two
cores. Two p = k = 2 models:

* the He2 committee of the validation table (spherical, correlation loss, n_b = 8,
  η = 0.2), SPEC's random start at d = 1000 (exact cubature: 7 nodes per field, 7⁴);
* the Saad–Solla erf committee (c_p = c_k = 1, mse, n_b = 1, η = 1) from the symmetric
  start M₀ = 0, Q₀ = I/4 at d = 1000 (non-polynomial: 8⁴ cubature nodes).

Prints, per model: the sampled noise at m = 2, 8, 32 and the cubature, µs per path-step
(wall, all threads), measured on a short run; then the full goal run for the He2 committee
(sampled, the default m: 10⁴ paths to t = 100 at its default dt = 0.1) with its wall time;
and whether the paths are the same with one thread as with all.

Run:  .venv/bin/python benchmarks/bench_sde.py [--quick]   (about 2 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from _tables import print_machine, print_table

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.ode import integrate_sde
from overlapdyn.ode.sde import SAMPLES

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="10³ paths for the goal run")
args = parser.parse_args()

MODELS = {
    "He2 committee (spherical, corr., n_b = 8)": (
        Model(Target(k=2, activation="He2"), Student(p=2, activation="He2"),
              Protocol(eta=0.2, n_b=8, loss="correlation", spherical=True)), "random"),
    "Saad–Solla erf K = M = 2 (η = 1)": (
        Model(Target(k=2, activation="erf", c_k=1.0), Student(p=2, activation="erf", c_p=1.0),
              Protocol(eta=1.0)), (np.zeros((2, 2)), 0.25 * np.eye(2))),
}
D = 1000
PATHS = 1000 if args.quick else 10_000


def per_step(model, init, paths, t_end, **scheme) -> tuple[float, float]:
    run = integrate_sde(model, t_end, d=D, paths=paths, init=init, seed=1, n_saves=2, **scheme)
    steps = paths * round(t_end / run.dt)
    return 1e6 * run.wall_time_s / steps, run.dt


print_machine("overlap SDE: µs per path-step (wall, "
              f"{numba.get_num_threads()} threads), d = {D}")
rows = []
for name, (model, init) in MODELS.items():
    integrate_sde(model, 0.1, d=D, paths=2, init=init, n_saves=2)   # load the compiled loop
    for m in (2, 8, 32):
        cost, dt = per_step(model, init, 2000, 2.0, samples=m)
        rows.append([name, f"sampled m = {m}", f"{cost:.2f}", f"{dt:.3g}"])
    cost, dt = per_step(model, init, 20, 0.5, noise="cubature")
    rows.append([name, "cubature", f"{cost:.1f}", f"{dt:.3g}"])
print_table("cost per path-step (short runs)", ["model", "noise", "µs", "dt"], rows)

rows = []
for name in ("He2 committee (spherical, corr., n_b = 8)",):
    model, init = MODELS[name]
    began = time.perf_counter()
    run = integrate_sde(model, 100.0, d=D, paths=PATHS, init=init, seed=2, n_saves=11)
    wall = time.perf_counter() - began
    steps = PATHS * round(100.0 / run.dt)
    rows.append([name, f"{PATHS}", f"{run.dt:.3g}", f"{steps:.3g}", f"{run.wall_time_s:.1f}",
                 f"{wall:.1f}", f"{1e6 * run.wall_time_s / steps:.2f}"])
print_table(f"the goal run: sampled noise (m = {SAMPLES}), t = 100",
            ["model", "paths", "dt", "path-steps", "loop s", "call s", "µs/path-step"], rows)

model, init = MODELS["He2 committee (spherical, corr., n_b = 8)"]
threads = numba.get_num_threads()
many = integrate_sde(model, 5.0, d=D, paths=64, init=init, seed=3, n_saves=6)
numba.set_num_threads(1)
one = integrate_sde(model, 5.0, d=D, paths=64, init=init, seed=3, n_saves=6)
numba.set_num_threads(threads)
print(f"\nthread count: {threads} threads vs 1, 64 paths to t = 5: identical states "
      f"{np.array_equal(many.states, one.states, equal_nan=True)}")
