"""Benchmarks of overlapdyn's finite-d simulator (the fused Numba one-pass SGD of SPEC).

Prints plain-text tables of

1. throughput in d·steps per second on one core (``NUMBA_NUM_THREADS=1``, one seed) at
   d ∈ {1000, 10000}, p ∈ {1, 4, 16}, for an erf(x/√2) committee teacher with k = 2 learnt
   by an erf student (Saad–Solla c_p = c_k = 1, η = 0.5, n_b = 1, MSE):
   a. against a plain NumPy loop of the same update (Python loop over steps; per step a
      fresh ``x`` from ``np.random.Generator``, ``λ = W x/√d``, ``z``, ``e``, ``G``,
      ``W += outer(η G/√d, x)``); against the cost of the d Gaussian draws per step alone,
      drawn inside Numba with the legacy ``np.random.standard_normal()`` and with the
      ``np.random.Generator`` the simulator uses (PCG64, ziggurat); and against the *floor* —
      those normals plus the two mat-vecs ``λ = Wx/√d`` and ``W += g xᵀ``, what any
      one-pass step must do (``sim / floor``). The NumPy loop is checked to do the same
      update (same W0 as the simulator, overlaps after t = 5 agree within the data noise
      O(d^-1/2));
   b. against the memory-bandwidth bound: the single-core bandwidth is measured with a copy
      and a triad on 64 MiB arrays (beyond the caches), and with the same triad on arrays of
      the size of W (cache-resident), and turned into d·steps/s with the bytes the update must
      move per step, ``8·d·(2p + 2)`` (W read and written, x written and read once);
   c. the normal generators available: the Numba legacy ``np.random`` the simulator uses,
      ``np.random.Generator`` inside Numba (PCG64 + ziggurat), and NumPy's own, per normal;
2. the peak memory of ``simulate`` in a fresh child process per configuration: after a warm-up
   that loads the compiled code, the peak RSS is reset (``/proc/self/clear_refs``; a child's
   ``ru_maxrss`` starts at its parent's RSS, Linux keeps it across fork + exec) and the run's
   peak ``VmHWM`` minus the RSS just before it is compared with the weights estimate
   ``8·p·d·(seeds + threads)`` bytes: the initial weights of every seed, plus W for each
   running seed (batch 1 updates W directly; a batch n_b > 1 adds a gradient buffer);
3. the wall time of a learning curve simulated at d = 10000 (one seed, erf K = M = 2,
   c_p = c_k = 1, η = 0.5, t ∈ [0, 20] on 30 log-spaced points) against the warm ODE of the
   same curve started at the simulation's measured initial overlaps (``integrate(compiled,
   (M0, Q0), SaveAt.at(times))``), with the sup-norm gap of their risks.

Everything is built in a fresh temporary ``OVERLAPDYN_CACHE_DIR`` (removed at the end unless
``--keep-cache``); the first ``simulate`` call's codegen + compile is reported. ``--quick``:
fewer repeats, shorter timed runs, the smaller memory configurations, and section 3 at
d = 2000. A full run takes about three minutes on two cores.
"""

# ruff: noqa: E402  (the environment must be set before numba and overlapdyn are imported)

from __future__ import annotations

import os
import tempfile

os.environ["NUMBA_NUM_THREADS"] = "1"  # one seed on one core: "per core" numbers
CACHE_DIR = tempfile.mkdtemp(prefix="overlapdyn-bench-simulate-")
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

import numba
import numpy as np
import scipy
import scipy.special
from _tables import print_machine, print_table
from numba import njit

import overlapdyn
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.model.spec import Model, Protocol, Student, Target
from overlapdyn.ode.integrator import SaveAt, integrate
from overlapdyn.sgd.simulator import simulate

DIMENSIONS = (1000, 10_000)
WIDTHS = (1, 4, 16)
K = 2  # teacher directions: one model (one generated simulator module) for every p
ETA = 0.5
BIG = 8 * 1024 * 1024  # float64 entries per array of the DRAM bandwidth test: 64 MiB
SETTINGS = {"seconds": 0.3, "repeats": 5}  # length of one timed run, repeats (--quick: less)


def committee(p: int, k: int = K, eta: float = ETA) -> Model:
    """erf(x/√2) committee teacher (k directions) and student (p neurons), Saad–Solla."""
    return Model(Target(k=k, activation="erf", c_k=1.0),
                 Student(p=p, activation="erf", c_p=1.0), Protocol(eta=eta))


def print_header() -> None:
    print_machine("overlapdyn simulator benchmarks")
    print(f"versions: overlapdyn {overlapdyn.__version__}, numba {numba.__version__}, "
          f"numpy {np.__version__}, scipy {scipy.__version__}")
    print(f"threads : NUMBA_NUM_THREADS = {os.environ['NUMBA_NUM_THREADS']} (numba uses "
          f"{numba.get_num_threads()}); one seed per run, so one core")
    print(f"cache   : fresh OVERLAPDYN_CACHE_DIR = {CACHE_DIR}")
    print("times are medians of time.perf_counter() over the repeats shown")


def median(function: Callable[[], float], repeats: int) -> float:
    """Median of the values ``function()`` returns over ``repeats`` calls."""
    return statistics.median(function() for _ in range(max(repeats, 1)))


def fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


# --------------------------------------------------------------------------- 1: throughput


def sim_seconds(model: Model, d: int, steps: int) -> float:
    """Wall time of the simulator's compiled loop (``run``) for ``steps`` steps, one seed."""
    sim = simulate(model, d, np.array([0.0, steps / d]))
    if sim.steps != steps or sim.failed_at[0] >= 0:
        raise SystemExit(f"simulate did {sim.steps} steps, not {steps}")
    return sim.wall_time_s


def initial_weights(model: Model, d: int, seed: int = 0) -> np.ndarray:
    """The simulator's random init for ``seed`` (rows of W i.i.d. N(0, I_d))."""
    return np.random.default_rng([seed, d]).normal(size=(model.p, d))


def numpy_sgd(model: Model, W: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """The simulator's update in plain NumPy: vectorised per step, a Python loop over steps.

    erf committee teacher along the first k axes (``z = x[:k]``, P = I), erf student, MSE,
    n_b = 1, no weight decay; ``W`` is updated in place.
    """
    p, d = W.shape
    k = model.k
    a = np.array(model.student.a)
    c_p, c_k, eta = model.student.c_p, model.target.c_k, model.protocol.eta
    sqrt_d, root2, slope = math.sqrt(d), math.sqrt(2.0), math.sqrt(2.0 / math.pi)
    erf = scipy.special.erf
    for _ in range(steps):
        x = rng.standard_normal(d)
        lam = W @ x / sqrt_d
        z = x[:k]
        e = c_k * erf(z / root2).sum() - c_p * (a * erf(lam / root2)).sum()
        G = c_p * a * e * slope * np.exp(-0.5 * lam * lam)  # σ'(λ) of erf(λ/√2)
        W += np.outer((eta / sqrt_d) * G, x)
    return W


@njit(cache=False)
def _legacy_normals(x: np.ndarray, steps: int) -> float:
    """d normals per step from Numba's legacy np.random (the simulator's first generator)."""
    total = 0.0
    for _ in range(steps):
        for i in range(x.size):
            x[i] = np.random.standard_normal()  # noqa: NPY002 (the legacy stream, compared)
        total += x[0]
    return total


@njit(cache=False)
def _generator_normals(generator, x: np.ndarray, steps: int) -> float:
    """The same with an np.random.Generator (PCG64, ziggurat normals) inside Numba."""
    total = 0.0
    for _ in range(steps):
        for i in range(x.size):
            x[i] = generator.standard_normal()
        total += x[0]
    return total


@njit(cache=False, fastmath={"contract", "reassoc"})   # the simulator's own options
def _floor(generator, W: np.ndarray, x: np.ndarray, lam: np.ndarray, steps: int) -> float:
    """What any one-pass SGD step must do, and nothing else: d normals from the generator the
    simulator uses, the mat-vec ``λ = Wx/√d`` and the rank-one update ``W += g xᵀ``."""
    p, d = W.shape
    scale = 1e-3 / np.sqrt(d)
    for _ in range(steps):
        for i in range(d):
            x[i] = generator.standard_normal()
        for j in range(p):
            acc = 0.0
            for i in range(d):
                acc += W[j, i] * x[i]
            lam[j] = acc / np.sqrt(d)
        for j in range(p):
            g = scale * lam[j]
            for i in range(d):
                W[j, i] += g * x[i]
    return lam[0]


@njit(cache=False)
def _triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, s: float, times: int) -> None:
    for _ in range(times):
        for i in range(a.size):
            a[i] = b[i] + s * c[i]


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def bandwidth(entries: int, repeats: int) -> dict[str, float]:
    """Single-core bandwidth (bytes/s, STREAM counting) on arrays of ``entries`` float64."""
    a, b, c = (np.full(entries, value) for value in (1.0, 2.0, 3.0))
    _triad(a, b, c, 0.5, 1)
    times = max(1, int(4 * BIG / entries))  # ≥ 32 M entries per timing: small arrays loop
    result = {
        "numba triad": 3 * 8 * entries * times / median(
            lambda: timed(lambda: _triad(a, b, c, 0.5, times)), repeats),
    }
    if entries >= BIG:
        def numpy_triad() -> None:  # two ufunc passes: c·s → a, then a + b → a (5 arrays)
            np.multiply(c, 0.5, out=a)
            np.add(a, b, out=a)

        result["numpy copy"] = 2 * 8 * entries / median(
            lambda: timed(lambda: np.copyto(a, b)), repeats)
        result["numpy triad"] = 5 * 8 * entries / median(lambda: timed(numpy_triad), repeats)
    return result


def bench_throughput(repeats: int) -> None:
    seconds = SETTINGS["seconds"]
    rows_a, rows_b, checks = [], [], []
    dram = bandwidth(BIG, repeats)
    dram_bw = max(dram.values())
    x_rng = np.empty(10)
    _legacy_normals(x_rng, 1)
    generator = np.random.default_rng(0)
    _generator_normals(generator, x_rng, 1)
    for d in DIMENSIONS:
        for p in WIDTHS:
            model = committee(p)
            # calibrate the number of steps to about `seconds` per timed run
            probe = max(10, 2_000_000 // (d * p))
            rate = d * probe / sim_seconds(model, d, probe)
            steps = max(10, int(seconds * rate / d))
            sim = median(lambda m=model, d=d, s=steps: sim_seconds(m, d, s) / (d * s), repeats)
            np_probe = max(5, 200_000 // d)
            W = initial_weights(model, d)
            rng = np.random.default_rng(1)
            np_rate = d * np_probe / timed(lambda m=model, W=W, n=np_probe, r=rng:
                                           numpy_sgd(m, W, n, r))
            np_steps = max(5, int(seconds * np_rate / d))
            plain = median(lambda m=model, W=W, n=np_steps, r=rng, d=d:
                           timed(lambda: numpy_sgd(m, W, n, r)) / (d * n), repeats)
            x = np.empty(d)
            rng_steps = max(1, int(seconds / (sim * d)))
            legacy = median(lambda x=x, n=rng_steps: timed(
                lambda: _legacy_normals(x, n)) / (x.size * n), repeats)
            ziggurat = median(lambda x=x, n=rng_steps: timed(
                lambda: _generator_normals(generator, x, n)) / (x.size * n), repeats)
            W_floor, lam = initial_weights(model, d), np.empty(p)
            _floor(generator, W_floor, x, lam, 1)
            floor = median(lambda W=W_floor, x=x, lam=lam, n=rng_steps: timed(
                lambda: _floor(generator, W, x, lam, n)) / (x.size * n), repeats)
            rows_a.append([
                f"d={d} p={p}", f"{steps:,}", f"{1e9 * sim:.1f}", f"{1e-6 / sim:.1f}",
                f"{1e9 * p * sim:.2f}", f"{1e-6 / plain:.1f}", f"{plain / sim:.2f}x",
                f"{1e9 * legacy:.1f}", f"{1e9 * ziggurat:.1f}", f"{1e9 * floor:.1f}",
                f"{sim / floor:.2f}"])
            moved = 8 * (2 * p + 2)
            cache = bandwidth(p * d, repeats)["numba triad"]
            rows_b.append([
                f"d={d} p={p}", str(moved), f"{p * d * 8 / 1024:,.0f}",
                f"{1e-6 * dram_bw / moved:,.0f}", f"{100 * moved / (sim * dram_bw):.1f}%",
                f"{1e-9 * cache:.1f}", f"{1e-6 * cache / moved:,.0f}",
                f"{100 * moved / (sim * cache):.1f}%"])
            if d == DIMENSIONS[0] and p == 4:
                checks.append(check_numpy_loop(model, d, 5.0))
    print_table(
        "1a. simulator throughput, one seed on one core (erf committee, k = 2, n_b = 1), "
        f"median of {repeats} runs of the compiled loop;\n    plain NumPy loop of the same "
        "update; the d normals per step alone, with Numba's legacy np.random and with the "
        "np.random.Generator (ziggurat)\n    the simulator draws from; the floor: those "
        "normals plus the two mat-vecs (λ = Wx, W += g xᵀ), and sim / floor",
        ["config", "steps/run", "sim [ns per d·step]", "sim [M d·steps/s]",
         "sim [ns per p·d·step]", "NumPy loop [M d·steps/s]", "sim / NumPy",
         "legacy RNG [ns per d·step]", "Generator RNG [ns per d·step]",
         "floor [ns per d·step]", "sim / floor"],
        rows_a)
    print(f"    check: NumPy loop vs simulate from the same W0 at d = 1000, p = 4, t = 5: "
          f"{checks[0]}")
    print_table(
        "1b. against the memory-bandwidth bound: bound [d·steps/s] = bandwidth / (bytes per "
        "d·step), bytes per d·step = 8·(2p + 2)\n    (W read + written, x written + read "
        "once). DRAM: best single-core bandwidth on 64 MiB arrays, "
        + ", ".join(f"{name} {1e-9 * bw:.1f} GB/s" for name, bw in dram.items())
        + ";\n    cache: the Numba triad on three arrays of W's size (W fits in L2/L3 here, "
        "so DRAM is never the limit)",
        ["config", "bytes per d·step", "W [KiB]", "DRAM bound [M d·steps/s]",
         "sim / DRAM bound", "cache BW [GB/s]", "cache bound [M d·steps/s]",
         "sim / cache bound"],
        rows_b)


def check_numpy_loop(model: Model, d: int, t_end: float) -> str:
    """Run the NumPy loop and the simulator from the same W0: overlaps agree to O(d^-1/2)."""
    sim = simulate(model, d, np.array([0.0, t_end]))
    W = numpy_sgd(model, initial_weights(model, d), int(round(t_end * d)),
                  np.random.default_rng(2))
    M = W[:, :model.k] / math.sqrt(d)
    Q = W @ W.T / d
    dM = np.abs(M - sim.trajectories[0].M[-1]).max()
    dQ = np.abs(Q - sim.trajectories[0].Q[-1]).max()
    scale = max(np.abs(sim.trajectories[0].Q[-1]).max(), 1.0)
    verdict = "ok" if max(dM, dQ) < 10 * scale / math.sqrt(d) else "MISMATCH"
    return (f"max |ΔM| = {dM:.3f}, max |ΔQ| = {dQ:.3f} (|Q| ≤ {scale:.2f}, d^-1/2 = "
            f"{d ** -0.5:.3f}) {verdict}")


def bench_generators(repeats: int) -> None:
    d, steps = 10_000, 200
    x = np.empty(d)
    generator = np.random.default_rng(0)
    legacy = np.random.RandomState(0)
    cases = {
        "Numba, np.random.standard_normal() (what simulate uses)":
            lambda: _legacy_normals(x, steps),
        "Numba, np.random.Generator.standard_normal() (PCG64, ziggurat)":
            lambda: _generator_normals(generator, x, steps),
        "NumPy, Generator.standard_normal(out=x)":
            lambda: [generator.standard_normal(out=x) for _ in range(steps)],
        "NumPy, RandomState.standard_normal(d)":
            lambda: [legacy.standard_normal(d) for _ in range(steps)],
    }
    rows = []
    for label, function in cases.items():
        function()
        per = median(lambda f=function: timed(f), repeats) / (d * steps)
        rows.append([label, f"{1e9 * per:.2f}", f"{1e-6 / per:.0f}"])
    print_table(f"1c. standard normals, d = {d} per call, {steps} calls per timing, "
                f"median of {repeats}", ["generator", "ns per normal", "M normals/s"], rows)


# --------------------------------------------------------------------------- 2: memory

_MEMORY_CHILD = r"""
import json, resource, sys, time
import numba
import numpy as np
from overlapdyn.sgd.simulator import simulate
from overlapdyn.model.spec import model_from_dict

def status_kib(field):
    with open("/proc/self/status") as handle:
        for row in handle:
            if row.startswith(field + ":"):
                return int(row.split()[1])
    raise OSError(field)

model = model_from_dict(json.loads(sys.argv[1]))
d, seeds = int(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
simulate(model, 200, np.array([0.0, 0.05]))  # load the compiled simulator and risk
warm = time.perf_counter() - start
# ru_maxrss alone would not do: Linux carries the parent's RSS at fork over the exec
try:  # reset the peak (VmHWM) to the current RSS, so that the run's own peak is seen
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    method = "VmHWM after clear_refs"
except OSError:
    method = "ru_maxrss"
before = status_kib("VmRSS")
start = time.perf_counter()
sim = simulate(model, d, np.array([0.0, 2.0 / d]), seeds=range(seeds))
wall = time.perf_counter() - start
peak = (status_kib("VmHWM") if method != "ru_maxrss"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
print(json.dumps({"before": before, "peak": peak, "wall": wall, "warm": warm, "method": method,
                  "threads": numba.get_num_threads(), "steps": sim.steps}))
"""


def run_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter sharing the environment; its last stdout line."""
    done = subprocess.run([sys.executable, "-c", code, *args], env=dict(os.environ),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child process failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_memory(configs: Sequence[tuple[int, int, int]]) -> None:
    rows, methods = [], set()
    for d, p, seeds in configs:
        model = committee(p)
        result = run_child(_MEMORY_CHILD, json.dumps(model.to_dict()), str(d), str(seeds))
        methods.add(result["method"])
        threads = result["threads"]
        weights = 8 * p * d * seeds
        estimate = 8 * p * d * (seeds + min(threads, seeds))
        extra = 1024 * (result["peak"] - result["before"])
        rows.append([
            f"d={d:,} p={p} seeds={seeds}", str(threads), f"{weights / 2**20:,.1f}",
            f"{estimate / 2**20:,.1f}", f"{result['warm']:.2f}",
            f"{result['before'] / 1024:,.0f}",
            f"{result['peak'] / 1024:,.0f}", f"{extra / 2**20:,.1f}",
            f"{extra / estimate:.2f}", f"{result['wall']:.1f}"])
    print_table(
        "2. peak memory of simulate, a fresh process per row: warm-up at d = 200 (loads the "
        "compiled code), then the peak is reset\n    and one run of 2 steps (2 saved times) is "
        f"measured: growth = peak RSS ({' / '.join(sorted(methods))}) − RSS just before it;\n"
        "    estimate = 8·p·d·(seeds + threads) bytes (every seed's W0, and W per running "
        "seed: batch 1 needs no gradient buffer)",
        ["config", "threads", "W0 [MiB]", "estimate [MiB]", "warm-up [s]", "RSS before [MiB]",
         "peak RSS [MiB]", "growth [MiB]", "growth / estimate", "run [s]"],
        rows)


# --------------------------------------------------------------------------- 3: sim vs ODE


def bench_versus_ode(d: int, repeats: int) -> None:
    model = committee(2, 2)
    times = np.concatenate([[0.0], np.logspace(-2, math.log10(20.0), 29)])
    start = time.perf_counter()
    sim = simulate(model, d, times, seeds=(0,))
    total = time.perf_counter() - start
    kernel = sim.wall_time_s
    trajectory = sim.trajectories[0]
    compiled = CompiledModel(model)
    init = (trajectory.M[0], trajectory.Q[0])
    save = SaveAt.at(trajectory.t)
    first = timed(lambda: integrate(compiled, init, save))
    ode = median(lambda: timed(lambda: integrate(compiled, init, save)), repeats)
    curve = integrate(compiled, init, save)
    gap = np.abs(curve.risk - trajectory.risk).max()
    print_table(
        f"3. one learning curve, erf K = M = 2, c_p = c_k = 1, η = {ETA}, t ∈ [0, 20] on "
        f"{trajectory.t.size} log-spaced points: simulation (one seed, one core)\n    vs the "
        f"warm ODE from the simulation's measured initial overlaps (median of {repeats}; "
        "LSODA, rtol 1e-8, atol 1e-10)",
        ["d", "steps", "sim: run [s]", "sim: simulate() [s]", "ODE 1st call (compiles rhs) [s]",
         "ODE warm [ms]", "ODE nfev", "sim / ODE", "R(0) → R(20): sim", "ODE",
         "max |R_sim − R_ODE|"],
        [[f"{d:,}", f"{sim.steps:,}", f"{kernel:.1f}", f"{total:.1f}",
          f"{first:.2f}", f"{1e3 * ode:.1f}", str(curve.solver.nfev),
          f"{kernel / ode:,.0f}x", f"{trajectory.risk[0]:.3f} → {trajectory.risk[-1]:.4f}",
          f"{curve.risk[-1]:.4f}", f"{gap:.4f}"]])


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats, shorter runs, smaller memory cases, section 3 "
                             "at d = 2000")
    parser.add_argument("--keep-cache", action="store_true",
                        help="keep the temporary cache folder (default: remove it)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 5
    SETTINGS["seconds"] = 0.1 if args.quick else 0.3
    memory = [(100_000, 16, 1), (1_000_000, 4, 1), (1_000_000, 16, 1)]
    if not args.quick:
        memory += [(1_000_000, 16, 4), (1_000_000, 16, 8)]
    start = time.perf_counter()
    try:
        print_header()
        cold = timed(lambda: simulate(committee(2), 100, np.array([0.0, 1.0])))
        print(f"cold    : first simulate() call (codegen + Numba compile of the simulator "
              f"and of the ODE risk): {cold:.1f} s")
        bench_throughput(repeats)
        bench_generators(repeats)
        bench_memory(memory)
        bench_versus_ode(2000 if args.quick else 10_000, repeats)
    finally:
        if not args.keep_cache:
            shutil.rmtree(CACHE_DIR, ignore_errors=True)
    print(f"\ntotal benchmark time: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
