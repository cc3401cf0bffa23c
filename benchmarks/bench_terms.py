"""The right-hand side's cost with each set of drift terms (``Protocol(terms=…)``).

Prints one table: per model, the CPU time of one ``CompiledModel.rhs`` call (the least over
``--repeats`` batches of ≥ 0.1 s each, ``time.process_time``: on a shared machine the least
CPU time is the steadiest number) with every part kept (``"all"``, the default), with the
classic limit (``"classic"``: the I4 part off) and with gradient flow (``"gradient-flow"``).
The parts are run-time factors of the compiled loops, so the three share one compiled module;
with the I4 part off its O(p⁴) kernel calls are skipped.

Run on a checkout from before the switches existed (``PYTHONPATH=<old checkout> python
benchmarks/bench_terms.py``), it times the default drift only — the "before" column of the
comparison in ``docs/guide/drift-terms.md``. Uses the kernel cache of ``OVERLAPDYN_CACHE_DIR``
(a cold cache compiles the erf and He3 kernels and the loops first: a minute or two).
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from _tables import print_machine, print_table

import overlapdyn as od
from overlapdyn.compile.compiled import CompiledModel

MODELS = {
    "erf p=8 k=4 (c_p = 1)": od.Model(od.Target(k=4, activation="erf", c_k=1.0),
                                      od.Student(p=8, activation="erf", c_p=1.0),
                                      od.Protocol(eta=0.1)),
    "erf p=16 k=4 (c_p = 1)": od.Model(od.Target(k=4, activation="erf", c_k=1.0),
                                       od.Student(p=16, activation="erf", c_p=1.0),
                                       od.Protocol(eta=0.1)),
    "He3 p=8 k=4": od.Model(od.Target(k=4, activation="He3"), od.Student(p=8, activation="He3"),
                            od.Protocol(eta=0.001)),
    "erf p=10 k=2, Δ = 1e-3": od.Model(od.Target(k=2, activation="erf", noise=1e-3),
                                       od.Student(p=10, activation="erf"),
                                       od.Protocol(eta=0.05)),
}
TERMS = ("all", "classic", "gradient-flow")


def cost(compiled: CompiledModel, y, repeats: int) -> float:
    """The least CPU seconds per ``rhs`` call over ``repeats`` batches of ≥ 0.1 s."""
    compiled.rhs(0.0, y)
    best = float("inf")
    for _ in range(repeats):
        calls, start = 0, time.process_time()
        while time.process_time() - start < 0.1:
            compiled.rhs(0.0, y)
            calls += 1
        best = min(best, (time.process_time() - start) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print_machine("overlapdyn: the right-hand side's cost with each set of drift terms")
    switches = "terms" in {f.name for f in dataclasses.fields(od.Protocol)}
    terms = TERMS if switches else ("all",)
    rows = []
    for name, model in MODELS.items():
        M, Q, _ = od.initial_overlaps(model, 10_000, seed=0)
        row = [name]
        for kept in terms:
            if kept != "all":
                model = dataclasses.replace(model, protocol=dataclasses.replace(
                    model.protocol, terms=kept))
            compiled = CompiledModel(model)
            row.append(f"{cost(compiled, compiled.pack(M, Q), args.repeats) * 1e6:.1f} µs")
        rows.append(row)
    print_table("CPU time per rhs call (least over the batches)", ["model", *terms], rows)


if __name__ == "__main__":
    main()
