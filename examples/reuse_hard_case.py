"""The hard case of data reuse (Arnaboldi, Dandi, Krzakala, Pesce & Stephan 2024): online SGD
with extragradient steps on sign(z1 z2 z3) — generative exponent 3, not learned in O(d log d)
samples — against (z1² − 1) + 5 sign(z1 z2 z3), whose z1 (k* = 2 along it) is learned first
and then opens z2 and z3: a staircase.

Setting (their code, IdePHICS/Repetita-Iuvant, hyperparameters SQStair_long): p = 4 ReLU
neurons, c_p = 1/p, batch one, prefactor 0.01 and rho_prefactor 0.1 — η = 0.04, ρ = 0.4 in
SPEC's convention — with the readout fixed at a = 1 (theirs: Gaussian, drawn per seed), the
parity as their "enchanted" 5·sign(z1 z2 z3), SPEC's random start, d ∈ {256, 512, 1024}.
Prints each direction's cosine max_j |M_jr|/√(Q_jj P_rr) (seed mean ± s.e.) against
n/(d log d), and the n/(d log d) at which each direction first reaches cosine ½.

Run:  .venv/bin/python examples/reuse_hard_case.py [--horizon 1000] [--seeds 4]
          [--ds 256 512 1024] [--figure PATH] [--out FOLDER]
      (about 15 minutes on 2 cores with the defaults)
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import overlapdyn as od
from overlapdyn.reuse import OnlineReuse, learn_directions

TARGETS = {"parity": "5*sign(z1*z2*z3)", "staircase": "(z1**2 - 1) + 5*sign(z1*z2*z3)"}


def spec(target: str) -> OnlineReuse:
    model = od.Model(od.Target(k=3, expression=target),
                     od.Student(p=4, activation="relu", c_p=0.25), od.Protocol(eta=0.04))
    return OnlineReuse.from_papers(model, rho_prefactor=0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--horizon", type=float, default=1000.0,
                        help="the last n/(d log d) (default 1000)")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--ds", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--figure", help="write the figure (PNG) here")
    parser.add_argument("--out", help="save the two DirectionLearning results in this folder")
    args = parser.parse_args()
    results = {}
    for name, target in TARGETS.items():
        start = time.perf_counter()
        result = learn_directions(spec(target), args.ds, args.horizon, seeds=args.seeds,
                                  n_saves=30)
        results[name] = result
        print(f"\n== {name}: y = {target}  ({time.perf_counter() - start:.0f} s)")
        print(result.describe())
        reached = result.reached(0.5)
        for i, d in enumerate(result.ds):
            cells = []
            for r in range(reached.shape[-1]):
                values = reached[i, :, r]
                done = np.isfinite(values)
                cells.append(f"z{r + 1}: {int(done.sum())}/{values.size} seeds"
                             + (f", median {np.median(values[done]):.3g}" if done.any()
                                else ""))
            print(f"  d = {d}: cosine ½ reached at n/(d log d) — " + "; ".join(cells))
        if args.out:
            folder = Path(args.out)
            folder.mkdir(parents=True, exist_ok=True)
            result.save(folder / f"{name}.npz")
    print("\nrandom level d^(−1/2): " + ", ".join(f"{1 / math.sqrt(d):.3f}" for d in args.ds))
    if args.figure:
        from overlapdyn.plot import plot_direction_learning, save_figure

        save_figure(plot_direction_learning([results["staircase"], results["parity"]]),
                    args.figure)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
