"""Cold build times of the compiled drift, predicted (overlapdyn.compile.estimate) and measured.

    .venv/bin/python benchmarks/bench_build.py            # nine models, about 7 minutes on 2 cores
    .venv/bin/python benchmarks/bench_build.py --only erf # the models whose name contains erf

Each model is built in a fresh Python process with an empty temporary OVERLAPDYN_CACHE_DIR, so
every build is cold; the time is that of ``CompiledModel(model, derivation)`` (SymPy and
rendering: "derive") plus the first drift evaluation (Numba compiles lazily, at the first
call), imports excluded. The table gives the estimate's features (kernels, fields, expansion
size), its prediction and range, the measured seconds, and a least-squares fit of BASE_S,
ROUTE_S, PER_FIELD_S and PER_EXPANSION_S to these measurements, which is how the constants
of overlapdyn/compile/estimate.py were chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# (name, model code, derivation code): one of each kind of build
MODELS = [
    ("He2 committee p=k=2, exact",
     "Model(Target(k=2, activation='He2'), Student(p=2, activation='He2'), Protocol(eta=0.3))",
     "Exact()"),
    ("He4 committee p=4 k=2, exact",
     "Model(Target(k=2, activation='He4'), Student(p=4, activation='He4'), Protocol(eta=0.3))",
     "Exact()"),
    ("erf committee, closed form",
     "Model(Target(k=2, activation='erf'), Student(p=2, activation='erf'), Protocol(eta=0.5))",
     "ClosedForm()"),
    ("tanh committee, quadrature 16",
     "Model(Target(k=2, activation='tanh'), Student(p=2, activation='tanh'), "
     "Protocol(eta=0.3))", "Quadrature(16)"),
    ("staircase z1+z1z2+z1z2z3, He2 student, exact",
     "Model(Target(k=3, expression='z1 + z1*z2 + z1*z2*z3'), Student(p=4, activation='He2'), "
     "Protocol(eta=0.2))", "Exact()"),
    ("tanh committee, hermite order 5",
     "Model(Target(k=2, activation='tanh'), Student(p=2, activation='tanh'), "
     "Protocol(eta=0.3))", "HermiteTruncation(5)"),
    ("tanh student, target tanh(z1+z2), hermite 4",
     "Model(Target(k=2, expression='tanh(z1 + z2)'), Student(p=2, activation='tanh'), "
     "Protocol(eta=0.5))", "HermiteTruncation(4)"),
    ("tanh student, target tanh(z1+z2), hermite 6",
     "Model(Target(k=2, expression='tanh(z1 + z2)'), Student(p=2, activation='tanh'), "
     "Protocol(eta=0.5))", "HermiteTruncation(6)"),
    ("relu student, target z1*z2, quadrature 12",
     "Model(Target(k=2, expression='z1*z2'), Student(p=2, activation='relu'), "
     "Protocol(eta=0.2))", "Quadrature(12)"),
]

CHILD = """
import json, time
import numpy as np
from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.compile.compiled import CompiledModel, plan_build
from overlapdyn.derive.methods import ClosedForm, Exact, HermiteTruncation, Quadrature
model, derivation = {model}, {derivation}
plan = plan_build(model, derivation)
start = time.perf_counter()
compiled = CompiledModel(model, derivation)
derived = time.perf_counter() - start
compiled.rhs(0.0, compiled.pack(np.full((model.p, model.k), 0.1), np.eye(model.p)))
seconds = time.perf_counter() - start
e = plan.estimate
print(json.dumps({{"route": e.route, "kernels": e.kernels, "fields": e.fields,
                  "expansion": e.expansion, "predicted": e.seconds, "low": e.low, "high": e.high,
                  "measured": seconds, "derived": derived, "cached": plan.cached}}))
"""


def measure(model: str, derivation: str) -> dict:
    """Build one model cold in a fresh process; its estimate and measured seconds."""
    with tempfile.TemporaryDirectory(prefix="bench-build-") as cache:
        env = {**os.environ, "OVERLAPDYN_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", CHILD.format(model=model,
                                                                   derivation=derivation)],
                              env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def fit(rows: list[dict]) -> str:
    """Least squares of measured = BASE_S + ROUTE_S[route] + PER_FIELD_S·fields +
    PER_EXPANSION_S·expansion^1.5 (ROUTE_S of exact and hermite is 0)."""
    names = ["BASE_S", "ROUTE_S closed-form", "ROUTE_S quadrature", "PER_FIELD_S",
             "PER_EXPANSION_S"]
    design = np.array([[1.0, r["route"] == "closed-form", r["route"] == "quadrature",
                        r["fields"], r["expansion"] ** 1.5] for r in rows], dtype=float)
    measured = np.array([r["measured"] for r in rows])
    if len(rows) < design.shape[1]:
        return "(too few models to fit)"
    coefficients, *_ = np.linalg.lstsq(design, measured, rcond=None)
    return ", ".join(f"{n} = {c:.3g}" for n, c in zip(names, coefficients, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the models whose name contains this")
    args = parser.parse_args()
    import platform

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
    header = (f"{'model':<46} {'route':<11} {'kern':>4} {'fields':>6} {'expand':>6} "
              f"{'predicted (range)':>20} {'measured':>9} {'(derive)':>9}")
    print(header)
    rows = []
    for name, model, derivation in MODELS:
        if args.only not in name:
            continue
        row = measure(model, derivation)
        rows.append(row)
        print(f"{name:<46} {row['route']:<11} {row['kernels']:>4} {row['fields']:>6} "
              f"{row['expansion']:>6} {row['predicted']:>6.1f} s ({row['low']:.0f}–"
              f"{row['high']:.0f} s) {row['measured']:>7.1f} s {row['derived']:>7.1f} s",
              flush=True)
    print(f"fit: {fit(rows)}")


if __name__ == "__main__":
    main()
