"""Learnability limits: α_c and the staircase of k ≤ 3 polynomial and published links (target
< 5 s each), the generative exponent of a polynomial link (target < 2 s), the
Bayes-optimal overlap curve of a single-index channel (its f(q) table, then 50 values of α),
and the multi-index state evolution's curve Q(α) at 50 values of α (target < 1 min for k = 2;
the time includes preparing the channel, the linearisation at Q = 0, both starts and the
two-resolution error; the result column gives the maps evaluated and the CPU time, which
counts both threads of the compiled sums).

Run:  python benchmarks/bench_limits.py
"""

import time

import numpy as np

from overlapdyn.limits import (
    bayes_optimal_overlap,
    channel_information,
    generative_exponent,
    multi_index_overlap,
    weak_recovery_thresholds,
)

ROWS = [("α_c + staircase", weak_recovery_thresholds, link) for link in
        ("z1**2", "z1*z2", "z1/z2", "sign(z1*z2)", "sign(z1*z2*z3)", "z1 + z1*z2",
         "z1*z2*z3", "z1 + z1*z2*z3", "z1 + z1*z2 + z1*z2*z3")] + \
       [("generative exponent", generative_exponent, link) for link in
        ("He3(z)", "He4(z)", "z1*z2")]


def _bayes_curve(link: str, noise: float = 0.1):
    """The f(q) table and 50 values of α from 0.1 to 10 (both in the time)."""
    table = channel_information(link, noise=noise)
    return bayes_optimal_overlap(link, np.geomspace(0.1, 10.0, 50), table=table)


ROWS += [("Bayes-optimal q(α)", _bayes_curve, link) for link in ("z**2", "abs(z)", "tanh(z)")]


def _multi_index_curve(link: str, noise: float = 0.1):
    """50 values of α from 0.1 to 10, both starts (CPU time recorded in the result)."""
    start = time.process_time()
    curve = multi_index_overlap(link, np.geomspace(0.1, 10.0, 50), noise=noise)
    return curve, time.process_time() - start


ROWS += [("multi-index Q(α)", _multi_index_curve, link) for link in
         ("z1*z2", "z1 + z2**2", "tanh(2*z1 + z2)*z2", "(z1**2 + z2**2 + z3**2)/3")]


def _summary(result) -> str:
    if isinstance(result, tuple):
        curve, cpu = result
        alpha_c = "0 (trivial)" if curve.trivial_subspace.shape[1] else f"{curve.alpha_c:.6g}"
        return (f"Δ = {curve.noise:g}, {curve.method}: α_c = {alpha_c}, q(α = 10) = "
                f"{curve.overlaps()[-1].round(4).tolist()}, {int(curve.iterations.sum())} maps, "
                f"error {curve.error.max():.0e}, first order at "
                f"{int(curve.first_order.sum())} α, CPU {cpu:.1f} s")
    if hasattr(result, "uninformed"):
        return (f"Δ = {result.noise:g}: α_c = {result.alpha_c:.6g}, q(α = 10) = "
                f"{result.uninformed[-1]:.4f}, table error {result.error:.0e}")
    if hasattr(result, "steps"):
        return " → ".join(f"{s.kind}({s.directions.shape[1]}) {s.alpha:.6g}"
                          for s in result.steps)
    return f"k* = {result.exponent:g}"


if __name__ == "__main__":
    print(f"{'quantity':20s} {'link':22s} {'seconds':>8s}  result")
    for what, function, link in ROWS:
        start = time.perf_counter()
        result = function(link)
        print(f"{what:20s} {link:22s} {time.perf_counter() - start:8.2f}  {_summary(result)}")
