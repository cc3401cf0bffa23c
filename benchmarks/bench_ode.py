"""Benchmarks of overlapdyn's compiled overlap ODEs (kernels → generated Numba → solve_ivp).

Prints plain-text tables of

1. for He3 and erf(x/√2) committee teachers learnt by students of the same activation
   (erf: Saad–Solla, c_p = c_k = 1; He3: the defaults c_p = 1/p, c_k = 1/k) at
   (p, k) ∈ {(1,1), (2,2), (4,4), (8,4), (16,4), (32,4)}:
   a. the *cold* cost — SymPy derivation of the kernels, code generation + import, and the
      Numba compile of the first right-hand-side call — into a fresh, empty cache folder.
      A committee's kernels and loops depend on the activations only (p and k are run-time
      arguments), so the cold cost is paid once per activation pair, not per (p, k);
   b. per (p, k): the *warm* load in a fresh Python process whose cache folder is already
      filled (import, ``CompiledModel``, first ``rhs`` call, timed inside that process), and
      the right-hand side's cost per call (median) at the state of
      ``initial_overlaps(model, 10000, seed)``;
2. the exponent of the RHS cost in p at k = 4 (least squares on log-log, p = 4…32);
3. the wall time of a warm learning curve to t = 1000 (200 log-spaced points): erf K = M = 8
   Saad–Solla (η = 0.1), and an He3 committee p = k = 4 (η = 0.001), with where the time goes
   (right-hand side, solver, post-processing);
4. the library's RHS against a hand-written ``@njit`` RHS of the same SPEC formulas for an He2
   committee (p = k = 4, and p = 16, k = 4; MSE, c_p = c_k = 1/4; closed-form He2 kernels
   written by hand; the script stops unless it matches ``CompiledModel.rhs`` to 1e-12
   relative);
5. the library's RHS against pure-Python loops over the kernels of ``derive_kernels``
   lambdified with ``math`` (He3 committee p = 8, k = 4), checked against each other.

The cold numbers use a fresh temporary ``OVERLAPDYN_CACHE_DIR`` (set before overlapdyn is
imported and removed at the end unless ``--keep-cache``). Run with ``make bench`` or
``python benchmarks/bench_ode.py`` (``--quick``: p ≤ 16, fewer repeats). A full run takes about
two and a half minutes on two cores.
"""

# ruff: noqa: E402  (the cache folder must be chosen before overlapdyn is imported)

from __future__ import annotations

import os
import tempfile

CACHE_DIR = tempfile.mkdtemp(prefix="overlapdyn-bench-ode-")
os.environ["OVERLAPDYN_CACHE_DIR"] = CACHE_DIR

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

import llvmlite
import numba
import numpy as np
import scipy
import sympy
from _tables import print_machine, print_table
from numba import njit
from numba.core import event

import overlapdyn
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.derive.kernels import derive_kernels
from overlapdyn.fits import loglog_slope
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.integrator import SaveAt, integrate
from overlapdyn.ode.state import initial_overlaps

FULL_SIZES = ((1, 1), (2, 2), (4, 4), (8, 4), (16, 4), (32, 4))
QUICK_SIZES = ((1, 1), (4, 4), (8, 4), (16, 4))
D_INIT = 10_000  # dimension of the random initial state
BATCH_S = {"seconds": 0.05}  # minimum length of one timed batch of rhs calls (--quick: 0.02)

# --------------------------------------------------------------------------- helpers






def print_header() -> None:
    print_machine("overlapdyn ODE benchmarks")
    print(
        f"versions: overlapdyn {overlapdyn.__version__}, numba {numba.__version__} (llvmlite "
        f"{llvmlite.__version__}), sympy {sympy.__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}"
    )
    print(f"cache   : fresh OVERLAPDYN_CACHE_DIR = {CACHE_DIR}")
    print("times are medians of time.perf_counter() over the repeats shown")


def median_time(function: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of ``function()`` over ``repeats`` runs, and its last result."""
    times, result = [], None
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def per_call(function: Callable[[], object], repeats: int) -> float:
    """Median over ``repeats`` batches of the mean time per call (batches ≥ BATCH_S)."""
    batch_s = BATCH_S["seconds"]
    function()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= batch_s:
            break
        calls = max(2 * calls, int(calls * 1.2 * batch_s / max(elapsed, 1e-9)))
    times = []
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def us(seconds: float) -> str:
    value = 1e6 * seconds
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def committee(activation: str, p: int, k: int, eta: float, unit_scales: bool) -> Model:
    """A committee ``activation`` teacher learnt by a student of the same activation."""
    scale = 1.0 if unit_scales else None
    return Model(
        Target(k=k, activation=activation, c_k=scale),
        Student(p=p, activation=activation, c_p=scale),
        Protocol(eta=eta),
    )


def model_for(activation: str, p: int, k: int) -> Model:
    """Section 1's models: erf is Saad–Solla (c_p = c_k = 1), He3 keeps the defaults."""
    if activation == "erf":
        return committee("erf", p, k, eta=0.1, unit_scales=True)
    return committee(activation, p, k, eta=0.001, unit_scales=False)


def state_of(compiled: CompiledModel, seed: int = 0) -> np.ndarray:
    return compiled.pack(*initial_overlaps(compiled.model, D_INIT, seed))


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# --------------------------------------------------------------------------- 1a: cold


def compile_events(function: Callable[[], object]) -> tuple[float, dict[str, float]]:
    """Wall time of ``function()`` and the *exclusive* Numba compile time per function."""
    exclusive: dict[str, float] = {}
    with event.install_recorder("numba:compile") as recorder:
        start = time.perf_counter()
        function()
        wall = time.perf_counter() - start
    stack: list[list] = []  # [name, start, time spent in children]
    for stamp, record in recorder.buffer:
        name = record.data["dispatcher"].py_func.__name__
        if record.is_start:
            stack.append([name, stamp, 0.0])
        else:
            name, begin, children = stack.pop()
            spent = stamp - begin
            exclusive[name] = exclusive.get(name, 0.0) + spent - children
            if stack:
                stack[-1][2] += spent
    return wall, exclusive


def group_of(name: str) -> str:
    if name.startswith(("I2", "I3", "I4", "J2")):
        return "kernels"
    if name.startswith(("Tg", "Eg")):
        return "teacher sums"
    if name in ("rhs", "expectations", "student_pairs", "population_risk"):
        return "loops"
    return "other"


def bench_cold(activations: Sequence[str]) -> dict[str, dict]:
    """Cold derive, codegen + import, Numba compile (first rhs, first risk) per activation."""
    # Numba/LLVM initialise themselves on the first compile of a process: pay that first, so
    # that it is not charged to whichever activation comes first.
    llvm_start = time.perf_counter()
    njit(lambda x: x + 1.0)(1.0)
    llvm_init = time.perf_counter() - llvm_start
    results = {}
    for name in activations:
        model = model_for(name, 4, 4)
        derive_start = time.perf_counter()
        kernels = derive_kernels(model)  # memoised: CompiledModel below reuses it
        derive = time.perf_counter() - derive_start
        build_start = time.perf_counter()
        compiled = CompiledModel(model)
        build = time.perf_counter() - build_start
        if compiled.from_cache:
            raise SystemExit(f"the cache folder {CACHE_DIR} was not empty: no cold numbers")
        y = state_of(compiled)
        rhs_compile, rhs_parts = compile_events(lambda c=compiled, y=y: c.rhs(0.0, y))
        M, Q, a = compiled.unpack(y)
        risk_compile, risk_parts = compile_events(
            lambda c=compiled, M=M, Q=Q, a=a: c.risk(M, Q, a)
        )
        groups: dict[str, float] = {}
        for part, seconds in rhs_parts.items():
            groups[group_of(part)] = groups.get(group_of(part), 0.0) + seconds
        results[name] = {
            "method": compiled.method,
            "kernel_chars": sum(len(str(kernel.expr)) for kernel in kernels.kernels),
            "source_lines": compiled.source.count("\n"),
            "derive": derive,
            "build": build,
            "rhs_compile": rhs_compile,
            "risk_compile": risk_compile,
            "groups": groups,
            "top": sorted(rhs_parts.items(), key=lambda item: -item[1])[:3],
        }
    rows = []
    for name, r in results.items():
        rows.append(
            [
                f"{name} committee ({r['method']})",
                f"{r['kernel_chars']:,}",
                str(r["source_lines"]),
                f"{r['derive']:.3f}",
                f"{r['build']:.3f}",
                f"{r['rhs_compile']:.2f}",
                f"{r['risk_compile']:.2f}",
                f"{r['derive'] + r['build'] + r['rhs_compile'] + r['risk_compile']:.2f}",
            ]
        )
    print_table(
        "1a. cold start into an empty cache folder, once per activation (committee kernels and "
        "loops do not depend on p, k;\n    measured at p = k = 4; Numba/LLVM's own first-compile "
        f"initialisation, {llvm_init:.2f} s, paid beforehand and not included)",
        [
            "model",
            "kernel chars",
            "source lines",
            "derive [s]",
            "codegen+import [s]",
            "compile rhs [s]",
            "compile risk [s]",
            "total [s]",
        ],
        rows,
    )
    rows = []
    for name, r in results.items():
        groups = r["groups"]
        rows.append(
            [
                name,
                *(f"{groups.get(g, 0.0):.2f}" for g in ("kernels", "teacher sums", "loops",
                                                         "other")),
                ", ".join(f"{part} {seconds:.2f}" for part, seconds in r["top"]),
            ]
        )
    print_table(
        "1a'. where the first rhs call's Numba compile goes (exclusive seconds per group of "
        "@njit functions; numba:compile events)",
        ["activation", "kernels", "teacher sums", "loops", "other", "largest three"],
        rows,
    )
    return results


# --------------------------------------------------------------------------- 1b: warm + RHS

_WARM_LOAD = r"""
import json, sys, time
start = time.perf_counter()
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.ode.state import initial_overlaps
from overlapdyn.model.spec import model_from_dict
imported = time.perf_counter()
model = model_from_dict(json.loads(sys.argv[1]))
compiled = CompiledModel(model)
built = time.perf_counter()
y = compiled.pack(*initial_overlaps(model, 10000, 0))
compiled.rhs(0.0, y)
first = time.perf_counter()
print(json.dumps({"import": imported - start, "build": built - imported,
                  "first_rhs": first - built, "from_cache": compiled.from_cache}))
"""


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter sharing the cache folder; its last stdout line."""
    env = dict(os.environ, OVERLAPDYN_CACHE_DIR=CACHE_DIR)
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child process failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def warm_load(model: Model, repeats: int) -> dict[str, float]:
    runs = [run_child(_WARM_LOAD, json.dumps(model.to_dict())) for _ in range(max(repeats, 1))]
    if not all(run["from_cache"] for run in runs):
        raise SystemExit(f"warm load of {model.to_dict()} did not come from the cache")
    return {key: statistics.median(run[key] for run in runs)
            for key in ("import", "build", "first_rhs")}


def bench_rhs(activations: Sequence[str], sizes: Sequence[tuple[int, int]], repeats: int,
              load_repeats: int) -> dict[tuple[str, int, int], float]:
    costs = {}
    rows = []
    for name in activations:
        for p, k in sizes:
            model = model_for(name, p, k)
            build_start = time.perf_counter()
            compiled = CompiledModel(model)
            build = time.perf_counter() - build_start
            y = state_of(compiled)
            first_start = time.perf_counter()
            compiled.rhs(0.0, y)
            first = time.perf_counter() - first_start
            cost = per_call(lambda c=compiled, y=y: c.rhs(0.0, y), repeats)
            args = compiled._args  # the arguments CompiledModel.rhs passes on
            raw = per_call(lambda c=compiled, y=y, a=args: c._loops.rhs(c._addresses, y, *a),
                           repeats)
            costs[name, p, k] = cost
            load = warm_load(model, load_repeats)
            rows.append(
                [
                    f"{name} p={p} k={k}",
                    str(y.size),
                    f"{1e3 * build:.2f}",
                    f"{1e3 * first:.2f}",
                    f"{load['import']:.2f}",
                    f"{1e3 * load['build']:.1f}",
                    f"{1e3 * load['first_rhs']:.1f}",
                    f"{1e3 * (load['build'] + load['first_rhs']):.1f}",
                    us(cost),
                    us(raw),
                ]
            )
    print_table(
        "1b. per (p, k), after the cold start: same-process CompiledModel and first rhs; warm "
        f"load in a fresh process (median of {load_repeats}); RHS cost per call (median of "
        f"{repeats} batches)\n    at initial_overlaps(model, {D_INIT}, 0); 'raw' = the "
        "generated njit rhs without CompiledModel.rhs's Python wrapper",
        [
            "model",
            "state",
            "same-proc build [ms]",
            "same-proc 1st rhs [ms]",
            "fresh: import [s]",
            "fresh: build [ms]",
            "fresh: 1st rhs [ms]",
            "fresh: load [ms]",
            "rhs [us]",
            "raw rhs [us]",
        ],
        rows,
    )
    return costs


# --------------------------------------------------------------------------- 2: exponent


def bench_exponent(activations: Sequence[str], costs: dict[tuple[str, int, int], float]) -> None:
    rows = []
    for name in activations:
        ps = sorted(p for (act, p, k) in costs if act == name and k == 4 and p >= 4)
        if len(ps) < 2:
            continue
        times = [costs[name, p, 4] for p in ps]
        slope = loglog_slope(ps, times)
        last = math.log(times[-1] / times[-2]) / math.log(ps[-1] / ps[-2])
        counts = [i4_calls(p, 4) for p in ps]
        expected = loglog_slope(ps, counts)
        rows.append(
            [
                name,
                ", ".join(str(p) for p in ps),
                ", ".join(us(t) for t in times),
                f"{slope:.2f}",
                f"{last:.2f}",
                ", ".join(f"{1e9 * t / c:.0f}" for t, c in zip(times, counts, strict=True)),
                f"{expected:.2f}",
            ]
        )
    print_table(
        "2. RHS cost ~ p^x at k = 4 (least squares on log-log). The I4 kernel calls per rhs, "
        "p(p+1)/2 (k^2 + pk + p(p+1)/2),\n    grow like p^4 only asymptotically: their own "
        "fitted x over the same p is the last column",
        ["activation", "p", "rhs [us]", "fitted x", "x from the last two p",
         "ns per I4 call", "x of the I4 call count"],
        rows,
    )


def i4_calls(p: int, k: int) -> int:
    """I4 kernel calls of one committee rhs: for each pair l ≥ j, k² I4stt + pk I4sst +
    p(p+1)/2 I4sss (the library sums n ≥ m only)."""
    pairs = p * (p + 1) // 2
    return pairs * (k * k + p * k + pairs)


# --------------------------------------------------------------------------- 3: learning curves

_WARM_CURVE = r"""
import json, sys, time
start = time.perf_counter()
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.ode.integrator import SaveAt, integrate
from overlapdyn.ode.state import initial_overlaps
from overlapdyn.model.spec import model_from_dict
imported = time.perf_counter()
model = model_from_dict(json.loads(sys.argv[1]))
compiled = CompiledModel(model)
built = time.perf_counter()
M, Q, _ = initial_overlaps(model, 10000, 0)
trajectory = integrate(compiled, (M, Q), SaveAt(1000.0, 200))
first = time.perf_counter()
print(json.dumps({"import": imported - start, "build": built - imported,
                  "integrate": first - built, "from_cache": compiled.from_cache,
                  "risk": float(trajectory.risk[-1])}))
"""


def instrumented(compiled: CompiledModel, init: tuple, save: SaveAt) -> dict[str, float]:
    """One integrate() with the guarded drift (``CompiledModel.guarded_rhs``: the checks run
    inside the compiled call) and the batched risk timed (instance attributes shadow the
    methods for the duration of the call)."""
    spent = {"rhs": 0.0, "rhs_calls": 0, "risk": 0.0, "risk_calls": 0}
    guarded_rhs, risks = compiled.guarded_rhs, compiled.risks

    def timed_guarded_rhs(blowup):
        drift = guarded_rhs(blowup)

        def timed(y):
            start = time.perf_counter()
            out = drift(y)
            spent["rhs"] += time.perf_counter() - start
            spent["rhs_calls"] += 1
            return out

        return timed

    def timed_risks(states):
        start = time.perf_counter()
        out = risks(states)
        spent["risk"] += time.perf_counter() - start
        spent["risk_calls"] += len(out)
        return out

    compiled.guarded_rhs, compiled.risks = timed_guarded_rhs, timed_risks
    try:
        start = time.perf_counter()
        trajectory = integrate(compiled, init, save)
        spent["total"] = time.perf_counter() - start
    finally:
        del compiled.guarded_rhs, compiled.risks
    spent["solver"] = trajectory.wall_time_s
    spent["nfev"] = trajectory.solver.nfev
    return spent


def bench_curves(repeats: int, load_repeats: int) -> None:
    cases = [
        ("erf K=M=8 Saad-Solla, eta=0.1", committee("erf", 8, 8, eta=0.1, unit_scales=True)),
        ("He3 p=k=4, eta=0.001", committee("He3", 4, 4, eta=0.001, unit_scales=False)),
    ]
    rows, split = [], []
    save = SaveAt(1000.0, 200)
    for label, model in cases:
        compiled = CompiledModel(model)
        M, Q, _ = initial_overlaps(model, D_INIT, 0)
        integrate(compiled, (M, Q), save)  # compile / load everything it calls
        wall, trajectory = median_time(lambda c=compiled, M=M, Q=Q: integrate(c, (M, Q), save),
                                       repeats)
        fresh = [run_child(_WARM_CURVE, json.dumps(model.to_dict()))
                 for _ in range(max(load_repeats, 1))]
        load = {key: statistics.median(run[key] for run in fresh)
                for key in ("import", "build", "integrate")}
        final = float(trajectory.risk[-1])
        if abs(fresh[-1]["risk"] - final) > 1e-9 * max(1.0, abs(final)):
            raise SystemExit(f"{label}: the fresh process ended at another risk")
        rows.append(
            [
                label,
                f"{trajectory.status}",
                f"{trajectory.risk[0]:.4g} -> {final:.3g}",
                f"{wall:.3f}",
                f"{load['import']:.2f}",
                f"{load['build']:.2f}",
                f"{load['integrate']:.2f}",
                f"{load['build'] + load['integrate']:.2f}",
                f"{load['import'] + load['build'] + load['integrate']:.2f}",
            ]
        )
        parts = instrumented(compiled, (M, Q), save)
        total = parts["total"]
        rest = parts["solver"] - parts["rhs"]
        after = total - parts["solver"]

        def cell(seconds: float, total: float = total) -> str:
            return f"{1e3 * seconds:.1f} ({100 * seconds / total:.0f}%)"

        split.append(
            [
                label,
                str(parts["nfev"]),
                us(parts["rhs"] / parts["rhs_calls"]),
                f"{1e3 * total:.1f}",
                cell(parts["rhs"]),
                cell(rest),
                cell(parts["risk"]),
                cell(after - parts["risk"]),
            ]
        )
    print_table(
        f"3. learning curve to t = 1000 (200 log-spaced points, LSODA rtol 1e-8 atol 1e-10) "
        f"from initial_overlaps(model, {D_INIT}, 0): warm in-process\n    integrate() (median "
        f"of {repeats}); a fresh process with a filled cache (median of {load_repeats}): "
        "import overlapdyn, CompiledModel, integrate",
        [
            "model",
            "status",
            "risk t=0 -> 1000",
            "warm integrate [s]",
            "fresh: import [s]",
            "build [s]",
            "integrate [s]",
            "build+integrate [s]",
            "total [s]",
        ],
        rows,
    )
    print_table(
        "3'. where a warm integrate() goes (one instrumented run): the guarded rhs calls "
        "(timed; the finiteness and blow-up checks inside the compiled call),\n    the rest "
        "of the solver loop (LSODA steps and Jacobians, t_eval interpolation, Python per "
        "step), then after it: the batched risk of the saved points,\n    and the rest (one "
        "batched eigvalsh of the saved Ω = [[Q, M], [Mᵀ, P]] for the health check, unpack)",
        [
            "model",
            "nfev",
            "rhs [us/call]",
            "total [ms]",
            "rhs [ms]",
            "solver rest [ms]",
            "risks [ms]",
            "other after [ms]",
        ],
        split,
    )


# --------------------------------------------------------------------------- 4: hand-written


@njit(cache=False)
def _he2_i3(c12: float, c13: float, c23: float, c33: float) -> float:
    """E[σ'(x1) x2 σ(x3)] for σ = He2 (σ' = 2x): 2(E[x1 x2 x3²] − c12)."""
    return 2.0 * c12 * (c33 - 1.0) + 4.0 * c13 * c23


@njit(cache=False)
def _he2_i4(c12: float, c13: float, c14: float, c23: float, c24: float, c33: float,
            c34: float, c44: float) -> float:
    """E[σ'(x1) σ'(x2) σ(x3) σ(x4)] for σ = He2, by Isserlis on 4 E[x1 x2 He2(x3) He2(x4)]."""
    return 4.0 * (c12 * ((c33 - 1.0) * (c44 - 1.0) + 2.0 * c34 * c34)
                  + 2.0 * c13 * c23 * (c44 - 1.0) + 2.0 * c14 * c24 * (c33 - 1.0)
                  + 4.0 * c34 * (c13 * c24 + c14 * c23))


@njit(cache=False)
def he2_rhs(y: np.ndarray, p: int, k: int, u: np.ndarray, v: np.ndarray, P: np.ndarray,
            eta: float, second: float) -> np.ndarray:
    """SPEC's plain-SGD MSE drift of an He2 student learning an He2 committee, by hand.

    With φ = (λ_1..λ_p, z_1..z_k), Ω = Cov(φ) and σ = σ* = He2 the error is
    e = Σ_a w_a He2(φ_a), w = (−u, v), u = c_p a, v = c_k b, so
    E[G_j φ_b] = u_j Σ_a w_a I3(φ_j, φ_b, φ_a) and
    E[G_j G_l] = u_j u_l Σ_{a,c} w_a w_c I4(φ_j, φ_l, φ_a, φ_c) (symmetric in a, c).
    """
    n = p + k
    C = np.empty((n, n))
    for j in range(p):
        for r in range(k):
            C[j, p + r] = C[p + r, j] = y[j * k + r]
        for l in range(p):
            C[j, l] = y[p * k + j * p + l]
    for r in range(k):
        for t in range(k):
            C[p + r, p + t] = P[r, t]
    w = np.empty(n)
    w[:p] = -u
    w[p:] = v
    grad = np.empty((p, n))  # E[G_j φ_b]
    for j in range(p):
        for b in range(n):
            s = 0.0
            for a in range(n):
                s += w[a] * _he2_i3(C[j, b], C[j, a], C[b, a], C[a, a])
            grad[j, b] = u[j] * s
    out = np.empty(p * k + p * p)
    for j in range(p):
        for r in range(k):
            out[j * k + r] = eta * grad[j, p + r]
    for j in range(p):
        for l in range(j, p):
            s = 0.0
            for a in range(n):
                s += w[a] * w[a] * _he2_i4(C[j, l], C[j, a], C[j, a], C[l, a], C[l, a],
                                            C[a, a], C[a, a], C[a, a])
                for c in range(a + 1, n):
                    s += 2.0 * w[a] * w[c] * _he2_i4(C[j, l], C[j, a], C[j, c], C[l, a],
                                                      C[l, c], C[a, a], C[a, c], C[c, c])
            value = eta * (grad[j, l] + grad[l, j]) + second * u[j] * u[l] * s
            out[p * k + j * p + l] = value
            out[p * k + l * p + j] = value
    return out


def generic_state(p: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """O(1) overlaps of random students with orthonormal teachers (P = I): exercises every
    term of the kernels, unlike the near-identity random start."""
    rng = np.random.default_rng(seed)
    W = 0.8 * rng.normal(size=(p, p + k + 2))
    U = np.eye(k, p + k + 2)
    return W @ U.T, W @ W.T


def bench_handwritten(sizes: Sequence[tuple[int, int]], repeats: int) -> None:
    rows = []
    for p, k in sizes:
        c = 1.0 / 4.0
        model = Model(
            Target(k=k, activation="He2", c_k=c),
            Student(p=p, activation="He2", c_p=c),
            Protocol(eta=0.1, n_b=1, loss="mse"),
        )
        compiled = CompiledModel(model)
        u = model.student.c_p * np.array(model.student.a)
        v = model.target.c_k * np.array(model.target.b)
        P = model.target.gram
        eta = model.protocol.eta
        second = eta * eta / model.protocol.n_b

        def hand(y: np.ndarray, p=p, k=k, u=u, v=v, P=P, eta=eta, second=second) -> np.ndarray:
            return he2_rhs(y, p, k, u, v, P, eta, second)

        states = [state_of(compiled), compiled.pack(*generic_state(p, k, 1))]
        errors = [relative_error(hand(y), compiled.rhs(0.0, y)) for y in states]
        if max(errors) > 1e-12:
            raise SystemExit(f"the hand-written He2 RHS disagrees with CompiledModel.rhs at "
                             f"p={p}, k={k}: relative errors {errors}")
        y = states[0]
        library = per_call(lambda c=compiled, y=y: c.rhs(0.0, y), repeats)
        args = compiled._args
        raw = per_call(lambda c=compiled, y=y, a=args: c._loops.rhs(c._addresses, y, *a),
                           repeats)
        written = per_call(lambda y=y, f=hand: f(y), repeats)
        rows.append(
            [
                f"He2 p={p} k={k}",
                us(written),
                us(library),
                us(raw),
                f"{library / written:.2f}x",
                f"{raw / written:.2f}x",
                f"{max(errors):.1e}",
            ]
        )
    print_table(
        "4. library vs a hand-written @njit RHS (same SPEC formulas, closed-form He2 kernels "
        "inlined by hand), He2 committee, MSE, c_p = c_k = 1/4;\n    median of "
        f"{repeats} batches; agreement with CompiledModel.rhs checked at two states; 'raw' = "
        "the generated njit rhs without the Python wrapper",
        [
            "model",
            "hand [us]",
            "CompiledModel.rhs [us]",
            "raw [us]",
            "library/hand",
            "raw/hand",
            "max rel. difference",
        ],
        rows,
    )


# --------------------------------------------------------------------------- 5: pure Python


def python_rhs_factory(model: Model, symmetric: bool) -> Callable[[np.ndarray], np.ndarray]:
    """SPEC's plain-SGD MSE drift as plain-Python loops over the lambdified kernels
    (``symmetric``: E[G_j G_l] for l ≥ j only)."""
    kernels = derive_kernels(model)
    fns = {}
    for kernel in kernels.kernels:
        symbols = [sympy.Symbol(name) for name in kernel.args]
        fns[kernel.name] = sympy.lambdify(symbols, kernel.expr, "math")
    I3ss, I3st = fns["I3ss"], fns["I3st"]
    I4sss, I4sst, I4stt, J2s = fns["I4sss"], fns["I4sst"], fns["I4stt"], fns["J2s"]
    p, k = model.p, model.k
    u = [model.student.c_p * a for a in model.student.a]
    v = [model.target.c_k * b for b in model.target.b]
    P = model.target.gram.tolist()
    eta, noise = model.protocol.eta, model.target.noise
    second = eta * eta / model.protocol.n_b

    def tri(C, *idx):  # upper-triangle covariance entries of the fields idx, row-major
        return [C[idx[a]][idx[b]] for a in range(len(idx)) for b in range(a, len(idx))]

    def rhs(y: np.ndarray) -> np.ndarray:
        values = [float(x) for x in y]
        n = p + k
        C = [[0.0] * n for _ in range(n)]
        for j in range(p):
            for r in range(k):
                C[j][p + r] = C[p + r][j] = values[j * k + r]
            for l in range(p):
                C[j][l] = values[p * k + j * p + l]
        for r in range(k):
            for t in range(k):
                C[p + r][p + t] = P[r][t]
        out = [0.0] * (p * k + p * p)
        Al = [[0.0] * p for _ in range(p)]
        for j in range(p):
            for r in range(k):
                z = p + r
                s = sum(v[t] * I3st(*tri(C, j, z, p + t)) for t in range(k))
                s -= sum(u[l] * I3ss(*tri(C, j, z, l)) for l in range(p))
                out[j * k + r] = eta * u[j] * s
            for l in range(p):
                s = sum(v[t] * I3st(*tri(C, j, l, p + t)) for t in range(k))
                s -= sum(u[m] * I3ss(*tri(C, j, l, m)) for m in range(p))
                Al[j][l] = u[j] * s
        for j in range(p):
            for l in range(j if symmetric else 0, p):
                s = noise * J2s(*tri(C, j, l))
                for t in range(k):
                    for t2 in range(k):
                        s += v[t] * v[t2] * I4stt(*tri(C, j, l, p + t, p + t2))
                for m in range(p):
                    for t in range(k):
                        s -= 2.0 * u[m] * v[t] * I4sst(*tri(C, j, l, m, p + t))
                    for m2 in range(p):
                        s += u[m] * u[m2] * I4sss(*tri(C, j, l, m, m2))
                value = eta * (Al[j][l] + Al[l][j]) + second * u[j] * u[l] * s
                out[p * k + j * p + l] = value
                if symmetric:
                    out[p * k + l * p + j] = value
        return np.array(out)

    return rhs


def bench_pure_python(repeats: int, python_calls: int) -> None:
    model = committee("He3", 8, 4, eta=0.001, unit_scales=False)
    compiled = CompiledModel(model)
    states = [state_of(compiled), compiled.pack(*generic_state(8, 4, 2))]
    y = states[0]
    library = per_call(lambda: compiled.rhs(0.0, y), repeats)
    rows = []
    for label, symmetric in (("pure Python, E[G_j G_l] for l >= j", True),
                             ("pure Python, all (j, l)", False)):
        python_rhs = python_rhs_factory(model, symmetric)
        errors = [relative_error(python_rhs(x), compiled.rhs(0.0, x)) for x in states]
        if max(errors) > 1e-10:
            raise SystemExit(f"the pure-Python He3 RHS disagrees with CompiledModel.rhs: "
                             f"relative errors {errors}")
        slow, _ = median_time(lambda f=python_rhs: f(y), python_calls)
        rows.append([label, f"{1e3 * slow:,.1f}", f"{slow / library:,.0f}x",
                     f"{max(errors):.1e}"])
    rows.append(["CompiledModel.rhs", f"{1e3 * library:.3f}", "1x", ""])
    print_table(
        "5. library vs pure Python (plain floats, loops over j, l, m, n calling the kernels of "
        "derive_kernels lambdified with 'math'),\n    He3 committee p = 8, k = 4, c_p = 1/8, "
        f"c_k = 1/4; library median of {repeats} batches, Python median of {python_calls} "
        "calls;\n    agreement with CompiledModel.rhs checked at two states",
        ["RHS", "ms/call", "library speed-up", "max rel. difference"],
        rows,
    )


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="p up to 16, fewer repeats, one fresh process per warm load")
    parser.add_argument("--keep-cache", action="store_true",
                        help="keep the temporary cache folder (default: remove it)")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    repeats = 3 if args.quick else 9
    BATCH_S["seconds"] = 0.02 if args.quick else 0.05
    load_repeats = 1 if args.quick else 3
    activations = ("He3", "erf")
    start = time.perf_counter()
    try:
        print_header()
        bench_cold(activations)
        costs = bench_rhs(activations, sizes, repeats, load_repeats)
        bench_exponent(activations, costs)
        bench_curves(repeats, load_repeats)
        bench_handwritten(((4, 4), (16, 4)), repeats)
        bench_pure_python(repeats, python_calls=1 if args.quick else 2)
    finally:
        if not args.keep_cache:
            shutil.rmtree(CACHE_DIR, ignore_errors=True)
    print(f"\ntotal benchmark time: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
