"""Online SGD with reused samples: the reuse ODE against the one-pass ODE of the same model.

Models (Arnaboldi, Dandi, Krzakala, Pesce & Stephan 2024, arXiv:2405.15459, in SPEC's
convention: η = prefactor·n_b·p, ρ = rho_prefactor·p; n_b = 1 here):

1. He3 target, ReLU student p = k = 1, c_p = 1, mse, n_b = 1, η = 0.01, extragradient
   ρ = 0.1, from M₀ = 0, Q₀ = 1 (their figure 1), to t = 100;
2. (with ``--p8`` only) z1 + He3(z2), ReLU p = 8, a = (+1, −1, …), c_p = 1/8, η = 0.08, ρ = 0.8,
   from M₀ = 0, Q₀ = I, to t = 100.

For each: the reuse ODE (``integrate_reuse``, default rule: scrambled Sobol 2¹⁶ for these
kinked models, RK45 rtol 10⁻⁶) and the one-pass ODE (``od.integrate``, the library's
compiled kernels, LSODA) — wall time of the solve (compilation excluded: each is built and
called once before timing), drift evaluations, the cost of one drift evaluation, and M at the
end (the one-pass ODE from M₀ = 0 does not move: M = 0 is its fixed point).

Run:  .venv/bin/python benchmarks/bench_reuse_ode.py [--p8]     (``make bench`` runs model 1
      only; --p8 adds model 2, whose one-pass kernels — a kinked student with a multi-index
      target — take over ten minutes to build cold on 2 cores)
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _tables import print_machine, print_table

import overlapdyn as od
from overlapdyn.reuse import OnlineReuse, ReuseDrift, integrate_reuse


def models(quick: bool):
    he3 = od.Model(od.Target(k=1, expression="He3(z1)"),
                   od.Student(p=1, activation="relu", c_p=1.0), od.Protocol(eta=0.01),
                   name="He3, ReLU p = 1")
    yield OnlineReuse(he3, "extragradient", rho=0.1)
    if not quick:
        a = tuple((-1.0) ** j for j in range(8))
        two = od.Model(od.Target(k=2, expression="z1 + He3(z2)"),
                       od.Student(p=8, activation="relu", a=a), od.Protocol(eta=0.08),
                       name="z1 + He3(z2), ReLU p = 8")
        yield OnlineReuse.from_papers(two, rho_prefactor=0.1)


def per_call(rhs, y: np.ndarray, minimum: float = 0.2) -> float:
    """Seconds per call of ``rhs(0, y)`` (calls repeated for at least ``minimum`` s)."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < minimum:
        rhs(0.0, y)
        count += 1
    return (time.perf_counter() - start) / count


def main() -> None:
    quick = "--p8" not in sys.argv
    print_machine("Reuse ODE vs one-pass ODE")
    rows = []
    t_end = 100.0
    for spec in models(quick):
        model = spec.model
        start = (np.zeros((model.p, model.k)), np.eye(model.p))
        drift = ReuseDrift(spec)
        drift.drift(*start)                       # compile (or load) before timing
        run = integrate_reuse(spec, start, od.SaveAt(t_end, 20, t_first=1.0), drift=drift)
        compiled = od.CompiledModel(model)
        compiled.rhs(0.0, compiled.pack(*start))
        began = time.perf_counter()
        one = od.integrate(compiled, start, od.SaveAt(t_end, 20, t_first=1.0))
        one_wall = time.perf_counter() - began
        y = compiled.pack(*start)
        rows.append([model.name, "reuse (" + spec.describe().split("(")[1].split(")")[0] + ")",
                     drift.label, f"{run.wall_time_s:.2f}", str(run.trajectory.solver.nfev),
                     f"{per_call(drift.rhs, y) * 1e3:.2f}",
                     f"{np.abs(run.M[-1]).max():.4f}"])
        rows.append([model.name, "one pass", compiled.method, f"{one_wall:.2f}",
                     str(one.solver.nfev),
                     f"{per_call(compiled.rhs, y) * 1e3:.3f}",
                     f"{np.abs(one.M[-1]).max():.4f}"])
    print_table(f"ODE to t = {t_end:g} from M₀ = 0 (wall time of the solve)",
                ["model", "protocol", "drift", "wall s", "evaluations", "ms / drift",
                 "max |M(t_end)|"], rows)


if __name__ == "__main__":
    main()
