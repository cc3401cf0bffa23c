"""Learnability limits: α_c and the staircase of k ≤ 3 polynomial and published links (target
< 5 s each) and the generative exponent of a polynomial link (target < 2 s).

Run:  python benchmarks/bench_limits.py
"""

import time

from overlapdyn.limits import generative_exponent, weak_recovery_thresholds

ROWS = [("α_c + staircase", weak_recovery_thresholds, link) for link in
        ("z1**2", "z1*z2", "z1/z2", "sign(z1*z2)", "sign(z1*z2*z3)", "z1 + z1*z2",
         "z1*z2*z3", "z1 + z1*z2*z3", "z1 + z1*z2 + z1*z2*z3")] + \
       [("generative exponent", generative_exponent, link) for link in
        ("He3(z)", "He4(z)", "z1*z2")]


def _summary(result) -> str:
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
