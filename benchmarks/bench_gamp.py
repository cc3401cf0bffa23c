"""Finite-d GAMP for a single-index channel: seconds per iteration (target: seconds at
d = 2000, α = 4), and, with ``--sweep``, the overlaps against the state evolution over α, d
and seeds with the fitted finite-size exponent (the numbers of docs/guide/limits.md).

Run:  python benchmarks/bench_gamp.py                 # the timing table, about a minute
      python benchmarks/bench_gamp.py --sweep FILE    # the d sweep (long: about an hour on
                                                      # 2 busy cores), saved to FILE (.npz)
"""

import argparse
import time

from _tables import print_machine, print_table

from overlapdyn.limits import gamp_sweep, run_gamp

TIMED = [("z**2", 0.1, 4.0, 2000), ("z**2", 0.1, 4.0, 500), ("z", 0.1, 4.0, 2000),
         ("tanh(z)", 0.1, 4.0, 2000)]
SWEEP = {"link": "z**2", "noise": 0.1, "alphas": [0.4, 0.6, 1.0, 2.0],
         "ds": [250, 500, 1000, 2000], "seeds": 5}


def timing() -> None:
    run_gamp("z", 1.0, 50, noise=0.1)   # loads (or compiles) the channel's code
    rows = []
    for link, noise, alpha, d in TIMED:
        start = time.perf_counter()
        run = run_gamp(link, alpha, d, noise=noise, seed=0)
        seconds = time.perf_counter() - start
        rows.append([link, f"{noise:g}", f"{alpha:g}", str(d), str(run.n),
                     str(run.iterations), f"{seconds:.2f}", f"{seconds / run.iterations:.3f}",
                     f"{run.overlap:.4f}"])
    print_table("GAMP, one run from the random start (data drawn, run to the stopping rule)",
                ["link", "Δ", "α", "d", "n", "iterations", "seconds", "s / iteration",
                 "|q|"], rows)


def sweep(path: str) -> None:
    start = time.perf_counter()
    result = gamp_sweep(SWEEP["link"], SWEEP["alphas"], SWEEP["ds"], SWEEP["seeds"],
                        noise=SWEEP["noise"], progress=True)
    print(result.describe())
    print(f"({time.perf_counter() - start:.0f} s)")
    result.save(path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", metavar="FILE", help="run the d sweep and save it to FILE")
    args = parser.parse_args()
    print_machine("overlapdyn benchmark: finite-d GAMP")
    if args.sweep:
        sweep(args.sweep)
    else:
        timing()
