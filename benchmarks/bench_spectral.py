"""The spectral estimators of the index subspace at finite d (overlapdyn.limits.spectral):
time of the labels' preprocessing G(y), T(y), of the symmetric estimator (top eigenvector of
the dk × dk matrix D, Lanczos) and of the asymmetric one (eigenvalue of largest real part of
the nk × nk matrix L, ARPACK, never formed), at d = 2000 and α ≤ 6, with the overlaps found.

Run:  python benchmarks/bench_spectral.py            # d = 2000
      python benchmarks/bench_spectral.py --quick    # d = 500
"""

import math
import sys
import time

from _tables import print_machine, print_table

from overlapdyn.limits import (
    asymmetric_estimator,
    label_preprocessing,
    multi_index_data,
    symmetric_estimator,
    weak_recovery_thresholds,
)

CASES = [("sign(z1*z2)", 0.0, 2.0), ("sign(z1*z2)", 0.0, 6.0), ("z**2", 0.1, 0.3),
         ("z**2", 0.1, 2.0), ("z**2", 0.1, 6.0), ("z1*z2", 0.1, 4.0)]


def main(d: int) -> None:
    print_machine(f"spectral estimators at d = {d}")
    rows = []
    for link, noise, alpha in CASES:
        alpha_c = weak_recovery_thresholds(link, noise=noise).alpha_c
        start = time.perf_counter()
        data = multi_index_data(link, d, alpha, noise=noise, seed=0)
        drawn = time.perf_counter()
        pre = label_preprocessing(data.link, data.y)
        prepared = time.perf_counter()
        symmetric = symmetric_estimator(data, pre)
        middle = time.perf_counter()
        asymmetric = asymmetric_estimator(data, pre)
        end = time.perf_counter()
        rows.append([link + (f" + √{noise:g}ξ" if noise else ""), f"{alpha:g}",
                     f"{alpha / alpha_c:.2f}", f"{data.n * data.link.k}",
                     f"{drawn - start:.2f}", f"{prepared - drawn:.2f}", f"{middle - prepared:.2f}",
                     f"{end - middle:.2f}", f"{symmetric.overlap:.3f}",
                     f"{asymmetric.overlap:.3f}", f"{asymmetric.eigenvalue.real:.3f}",
                     f"{max(alpha / alpha_c, math.sqrt(alpha / alpha_c)):.3f}"])
    print_table("seconds (data, G and T, symmetric, asymmetric) and what they found",
                ["link", "α", "α/α_c", "nk", "data", "G,T", "sym", "asym", "q sym", "q asym",
                 "Re λ(L)", "predicted"], rows)


if __name__ == "__main__":
    main(500 if "--quick" in sys.argv else 2000)
