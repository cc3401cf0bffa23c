"""The large-batch state evolution: the compiled loop against the per-step Python loop.

For each model, a 10⁴-step map (n_b = αd, α = 2) from a fixed warm start, warm (the
generated module and its machine code already built):

* *before*: the map written as the Python loop ``evolve`` used to run (one
  ``CompiledModel.terms`` call, NumPy ``lstsq`` and packing per step, then the risk of every
  state when the trajectory is built) — reconstructed here, on fewer steps;
* *after*: ``od.evolve`` (one compiled call for every step, the risk recorded by the loop),
  without events and with two events that never fire (``OverlapCrosses``: the map
  runs in chunks, each new state's events evaluated on views of the recorded states);

per-step cost (median of 3 runs, over the whole call, trajectory included) and the largest
difference between the two maps' states after the reference's steps. The first table gives
the one-time cost of a cold build (a fresh cache folder): derivation, generation and the
Numba compile of the loop.

Run:  .venv/bin/python benchmarks/bench_state_evolution.py [--quick]
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time

import numpy as np
from _tables import print_machine, print_table

import overlapdyn as od
from overlapdyn.ode.state import overlap_covariance

MODELS = {
    "erf p=k=1, c_p=1": od.Model(od.Target(k=1, activation="erf"),
                                 od.Student(p=1, activation="erf", c_p=1.0),
                                 od.Protocol(eta=0.5)),
    "He3 p=k=1, spherical": od.Model(od.Target(k=1, activation="He3"),
                                     od.Student(p=1, activation="He3", c_p=1.0),
                                     od.Protocol(eta=0.05, spherical=True)),
    "erf K=M=2, c_p=1": od.Model(od.Target(k=2, activation="erf", c_k=1.0),
                                 od.Student(p=2, activation="erf", c_p=1.0),
                                 od.Protocol(eta=0.5)),
    "erf K=M=4, c_p=1": od.Model(od.Target(k=4, activation="erf", c_k=1.0),
                                 od.Student(p=4, activation="erf", c_p=1.0),
                                 od.Protocol(eta=0.5)),
}
ALPHA = 2.0


def python_loop(compiled: od.CompiledModel, init, steps: int) -> np.ndarray:
    """The per-step Python map (what ``evolve`` ran before), with the risk of every state as
    ``trajectory_from_states`` evaluated it; the packed states (steps + 1, n)."""
    spec = compiled.model
    eta = spec.protocol.eta
    M, Q, a = (np.array(x, dtype=float) for x in compiled.unpack(compiled.pack(*init)))
    history = [compiled.pack(M, Q, a)]
    for _ in range(steps):
        terms = compiled.terms(M, Q, a)
        grad = np.hstack([terms.Al, terms.Az])
        omega = overlap_covariance(M, Q, spec.target.gram)
        projected = grad @ np.linalg.lstsq(omega, grad.T, rcond=None)[0]
        Q = Q + eta * (terms.Al + terms.Al.T) + eta**2 * (projected + terms.B / ALPHA)
        M = M + eta * terms.Az
        if spec.protocol.spherical:
            norms = np.sqrt(np.diag(Q))
            Q, M = Q / np.outer(norms, norms), M / norms[:, None]
        history.append(compiled.pack(M, Q, a))
    [compiled.risk(*compiled.unpack(y)) for y in history]
    return np.array(history)


def _median(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _start(model: od.Model):
    M, Q, _ = od.initial_overlaps(model, 1000, seed=0)
    M = M + 0.2 / np.sqrt(model.k)
    Q = Q + M @ M.T
    if model.protocol.spherical:
        norms = np.sqrt(np.diag(Q))
        Q, M = Q / np.outer(norms, norms), M / norms[:, None]
    return M, Q


def cold_builds() -> list[list[str]]:
    """Derivation and generation, the drift's Numba compile (first ``rhs``) and the loop's
    (first ``evolve``), in a fresh cache folder."""
    rows = []
    previous = os.environ.get("OVERLAPDYN_CACHE_DIR")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["OVERLAPDYN_CACHE_DIR"] = folder
        try:
            for name in ("erf p=k=1, c_p=1", "He3 p=k=1, spherical"):
                model = MODELS[name]
                init = _start(model)
                times = [time.perf_counter()]
                compiled = od.CompiledModel(model)
                times.append(time.perf_counter())
                compiled.rhs(0.0, compiled.pack(*init))
                times.append(time.perf_counter())
                od.evolve(compiled, init, 1, ALPHA)
                times.append(time.perf_counter())
                rows.append([name, *(f"{b - a:.1f}" for a, b in zip(times, times[1:],
                                                                     strict=False))])
        finally:
            if previous is None:
                del os.environ["OVERLAPDYN_CACHE_DIR"]
            else:
                os.environ["OVERLAPDYN_CACHE_DIR"] = previous
    return rows


def measure(compiled: od.CompiledModel, steps: int, reference_steps: int) -> list[str]:
    """One row of the per-step table."""
    init = _start(compiled.model)
    # two events that never fire (a learned risk can reach exactly 0, so not RiskBelow)
    events = [od.OverlapCrosses(10.0), od.OverlapCrosses(20.0, normalized=True)]
    od.evolve(compiled, init, 2, ALPHA, events=events[:1])   # warm
    before = _median(lambda: python_loop(compiled, init, reference_steps)) / reference_steps
    after = _median(lambda: od.evolve(compiled, init, steps, ALPHA)) / steps
    with_events = _median(lambda: od.evolve(compiled, init, steps, ALPHA,
                                            events=events)) / steps
    reference = python_loop(compiled, init, reference_steps)
    run = od.evolve(compiled, init, reference_steps, ALPHA)
    states = np.column_stack([run.M.reshape(len(run.t), -1), run.Q.reshape(len(run.t), -1)])
    gap = np.abs(states - reference).max()
    return [compiled.model.name, f"{before * 1e6:.0f}", f"{after * 1e6:.1f}",
            f"{with_events * 1e6:.1f}", f"{before / after:.0f}×", f"{after * steps:.3f}",
            f"{with_events * steps:.3f}", f"{gap:.1e}"]


def main() -> None:
    quick = "--quick" in sys.argv
    steps, reference_steps = (2000, 200) if quick else (10_000, 1000)
    print_machine(f"state evolution: {steps} steps of the map, α = n_b/d = {ALPHA}")
    if not quick:
        print_table("cold build (fresh cache folder), seconds",
                    ["model", "CompiledModel", "first rhs (drift compile)",
                     "first evolve (loop compile)"], cold_builds())
    rows = [measure(od.CompiledModel(dataclasses.replace(model, name=name)), steps,
                    reference_steps) for name, model in MODELS.items()]
    print_table(f"per step, µs (median of 3, whole call); totals: the {steps}-step call, s",
                ["model", "before (Python)", "after", "after, 2 events", "speed-up",
                 "total", "total, events", "max |Δ state|"], rows)


if __name__ == "__main__":
    main()
