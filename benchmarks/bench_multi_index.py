"""A non-polynomial multi-index target: the tanh student on tanh(z1 + z2) of issue 16.

    .venv/bin/python benchmarks/bench_multi_index.py                # about 2 minutes on 2 cores
    .venv/bin/python benchmarks/bench_multi_index.py --truncation   # + HermiteTruncation(6),
                                                                    #   several minutes more

Model: k = 2, g = tanh(z1 + z2), P = I; student p = 2, σ = tanh, c_p = 1/2, a = 1; η = 0.5,
online MSE. Every build runs in a fresh temporary ``OVERLAPDYN_CACHE_DIR``.

1. **Cold build** of ``CompiledModel(model)`` (Auto: the quadrature route) — what Auto chose
   and why, ``CompiledModel`` itself (the choice, SymPy, code generation, import), the
   Numba compile of the first ``rhs`` call, and the total (the goal: under a minute); with
   ``--truncation`` the same for ``HermiteTruncation(6)`` (before issue 16: 11 min
   derivation, 44 min generation, no compile after 50 min).
2. **Drift against an independent quadrature**: SPEC's expectations written out over all
   p + k = 4 fields and integrated here with NumPy by tensor Gauss–Hermite cubature over the
   eigen-factor of the full Ω (no kernel, no generated code; 48 nodes per direction, which
   agrees with 64 to ≤ 1e-5 at these points), at the random start ``initial_overlaps(model,
   10000, 0)`` and at random overlaps scaled to Q_jj ≈ 0.2, 0.6 and 2: the largest
   ``|Δ(dM, dQ)| / max |(dM, dQ)|`` for ``Quadrature(n)``, n = 16 (Auto's) and 24 (the
   goal: 1e-3).
3. **Cost per right-hand side** (median over batches ≥ 0.5 s), the same n.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import numpy as np
from _tables import print_machine, print_table
from scipy.special import roots_hermitenorm

CACHE = tempfile.mkdtemp(prefix="overlapdyn-bench-")
os.environ["OVERLAPDYN_CACHE_DIR"] = CACHE  # before overlapdyn is imported

import overlapdyn as od  # noqa: E402

MODEL = od.Model(od.Target(k=2, expression="tanh(z1 + z2)"), od.Student(p=2, activation="tanh"),
                 od.Protocol(eta=0.5))


def independent_drift(M: np.ndarray, Q: np.ndarray, n_nodes: int = 48):
    """(dM, dQ) of SPEC (online SGD, MSE, no noise) by one cubature over Ω = [[Q, M], [Mᵀ, I]]."""
    p, k = M.shape
    omega = np.block([[Q, M], [M.T, np.eye(k)]])
    values, vectors = np.linalg.eigh(omega)
    keep = values > 1e-12 * values.max()
    factor = vectors[:, keep] * np.sqrt(values[keep])
    nodes, weights = roots_hermitenorm(n_nodes)
    weights = weights / weights.sum()
    rank = factor.shape[1]
    grid = np.stack(np.meshgrid(*([nodes] * rank), indexing="ij"), 0).reshape(rank, -1)
    w = weights
    for _ in range(rank - 1):
        w = np.multiply.outer(w, weights).ravel()
    fields = factor @ grid
    lam, z = fields[:p], fields[p:]
    c_p, eta = MODEL.student.c_p, MODEL.protocol.eta
    error = np.tanh(z.sum(axis=0)) - c_p * np.tanh(lam).sum(axis=0)
    G = c_p * error / np.cosh(lam) ** 2                       # (p, N), a = 1
    Az, Al, B = (G * w) @ z.T, (G * w) @ lam.T, (G * w) @ G.T
    return eta * Az, eta * (Al + Al.T) + eta**2 * B


def states() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The random start, and one random (M, Q) — Gram blocks of random vectors — scaled
    to three sizes of Q (Ω stays positive semi-definite: it is D Ω D, D diagonal)."""
    M0, Q0, _ = od.initial_overlaps(MODEL, 10_000, seed=0)
    rng = np.random.default_rng(1)
    dim = 7
    basis, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    U = basis[:2] * np.sqrt(dim)
    W = np.sqrt(0.8) * rng.normal(size=(2, dim)) + 0.6 * rng.normal(size=(2, 2)) @ U / np.sqrt(
        dim)
    M, Q = W @ U.T / dim, W @ W.T / dim
    out = {"random start (d = 10⁴)": (M0, Q0)}
    for scale in (0.3, 1.0, 3.0):
        out[f"random, Q_jj ≈ {np.mean(np.diag(Q)) * scale:.1f}"] = (M * np.sqrt(scale),
                                                                   Q * scale)
    return out


def cold_build(derivation) -> list[str]:
    """CompiledModel and the first rhs, in an emptied cache folder with emptied memos."""
    od.compile.cache.clear()
    start = time.perf_counter()
    compiled = od.CompiledModel(MODEL, derivation)
    built = time.perf_counter()
    compiled.rhs(0.0, compiled.pack(*od.initial_overlaps(MODEL, 10_000, 0)[:2]))
    done = time.perf_counter()
    return [type(compiled.derivation).__name__, compiled.method, compiled.choice.reason,
            f"{built - start:.1f}", f"{done - built:.1f}", f"{done - start:.1f}"]


def rhs_cost(compiled: od.CompiledModel, y: np.ndarray) -> float:
    times = []
    for _ in range(3):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.5:
            compiled.rhs(0.0, y)
            calls += 1
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--truncation", action="store_true",
                        help="also build HermiteTruncation(6) (several minutes)")
    args = parser.parse_args()
    print_machine("bench_multi_index: tanh student on tanh(z1 + z2), p = k = 2")
    try:
        builds = [cold_build(None)]
        if args.truncation:
            builds.append(cold_build(od.HermiteTruncation(6)))
        print_table("1. cold build in an emptied cache folder [s]",
                    ["derivation", "method", "why", "CompiledModel", "Numba (1st rhs)",
                     "total"], builds)
        references = {name: (M, Q, independent_drift(M, Q)) for name, (M, Q) in
                      states().items()}
        rows, costs = [], []
        for nodes in (16, 24):
            compiled = od.CompiledModel(MODEL, od.Quadrature(nodes))
            for name, (M, Q, expected) in references.items():
                got = compiled.drift(M, Q)[:2]
                gap = max(np.abs(g - e).max() / np.abs(e).max()
                          for g, e in zip(got, expected, strict=True))
                rows.append([f"Quadrature({nodes})", name, f"{gap:.1e}"])
            y = compiled.pack(*od.initial_overlaps(MODEL, 10_000, 0)[:2])
            costs.append([f"Quadrature({nodes})", f"{rhs_cost(compiled, y) * 1e3:.1f}"])
        print_table("2. drift against an independent full-Ω cubature (48⁴ nodes)",
                    ["derivation", "state", "max |Δ drift| / max |drift|"], rows)
        print_table("3. right-hand side, median of 3 batches", ["derivation", "ms per call"],
                    costs)
    finally:
        shutil.rmtree(CACHE, ignore_errors=True)


if __name__ == "__main__":
    main()
