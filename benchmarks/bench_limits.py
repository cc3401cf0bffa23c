"""Learnability limits: α_c and the staircase of small polynomial links (target < 5 s) and the
generative exponent of a polynomial link (target < 2 s)."""

import time

from overlapdyn.limits import generative_exponent, weak_recovery_thresholds

ROWS = [("α_c + staircase", weak_recovery_thresholds, link) for link in
        ("z1**2", "z1*z2", "z1/z2", "sign(z1*z2)", "sign(z1*z2*z3)")] + \
       [("generative exponent", generative_exponent, link) for link in
        ("He3(z)", "He4(z)", "z1*z2")]

if __name__ == "__main__":
    print(f"{'quantity':22s} {'link':16s} {'result':>12s} {'seconds':>8s}")
    for what, function, link in ROWS:
        start = time.perf_counter()
        result = function(link)
        value = getattr(result, "alpha_c", getattr(result, "exponent", None))
        print(f"{what:22s} {link:16s} {value:12.6g} {time.perf_counter() - start:8.2f}")
