"""Full-batch GD on reused data: the two-step closed form against the published DMFT and the
finite-d simulator at large d.

The authors' setting (Dandi et al. 2024, arXiv:2402.03220; repository
IdePHICS/benefit-reusing-batch): target tanh(z1 + He3(z2)), ReLU student p = 2 with the fixed
readout a = (1, −1)/√2 (c_p = 1), M⁰ = 0, Q⁰ = I, α = 3, lr = 0.2 (SPEC's η = lr·α = 0.6).

Tables:

1. the closed form (``od.reuse.closed_form``, 16 blocks of 2¹⁸ scrambled-Sobol draws; error =
   the standard error over blocks) with exact and Gauss–Newton curvature, against the
   published DMFT values of M¹₁· and M²₁·;
2. the simulator (``od.reuse.simulate_gd``) at each d, seed mean ± standard error, against
   the closed form, with the distance in standard errors (z), for M¹, M², Q¹ and the risks;
3. timings.

Run:  .venv/bin/python benchmarks/bench_reuse.py [--quick]
      (--quick: d = 2000 with 8 seeds only; the full run adds d = 5000 with 8 seeds,
      about 600 MB per training set, one seed at a time)
"""

from __future__ import annotations

import sys
import time

from _tables import print_machine, print_table

import overlapdyn as od
from overlapdyn.reuse import FullBatchGD, simulate_gd, two_step

PUBLISHED = {"M¹₁·": (0.0758, -0.0632), "M²₁·": (0.1238, -0.1027)}


def spec() -> FullBatchGD:
    return FullBatchGD.from_papers(
        od.Target(k=2, expression="tanh(z1 + He3(z2))"),
        od.Student(p=2, activation="relu", c_p=1.0, a=(2 ** -0.5, -(2 ** -0.5))),
        lr=0.2, alpha=3.0)


def pm(value: float, error: float) -> str:
    return f"{value:.5f} ± {error:.1g}"


def closed_form_table(exact, theirs) -> None:
    rows = []
    for t, name in ((1, "M¹₁·"), (2, "M²₁·")):
        for r in range(2):
            rows.append([f"{name}[{r + 1}]", f"{PUBLISHED[name][r]:.4f}",
                         pm(exact.M[t, 0, r], exact.M_error[t, 0, r]),
                         pm(theirs.M[t, 0, r], theirs.M_error[t, 0, r])])
    rows.append(["train risk t=1", "—", pm(exact.train_risk[1], exact.train_risk_error[1]),
                 pm(theirs.train_risk[1], theirs.train_risk_error[1])])
    print_table("Closed form vs the published DMFT (their 10⁷ samples: error ≈ 1e-4)",
                ["quantity", "published", "exact curvature", "Gauss–Newton (theirs)"], rows)


def simulation_rows(sim, theory) -> list[list[str]]:
    M, dM, Q, dQ = sim.mean("M"), sim.sem("M"), sim.mean("Q"), sim.sem("Q")
    rows = []
    for t in (1, 2):
        for j in range(2):
            for r in range(2):
                rows.append([f"M^{t}[{j + 1},{r + 1}]", pm(theory.M[t, j, r],
                                                           theory.M_error[t, j, r]),
                             pm(M[t, j, r], dM[t, j, r]),
                             f"{(M[t, j, r] - theory.M[t, j, r]) / dM[t, j, r]:+.2f}"])
    for j, l in ((0, 0), (0, 1), (1, 1)):
        rows.append([f"Q¹[{j + 1},{l + 1}]", pm(theory.Q[1, j, l], theory.Q_error[1, j, l]),
                     pm(Q[1, j, l], dQ[1, j, l]),
                     f"{(Q[1, j, l] - theory.Q[1, j, l]) / dQ[1, j, l]:+.2f}"])
    for name, values, errors in (("train risk", theory.train_risk, theory.train_risk_error),
                                 ("test risk", theory.test_risk, theory.test_risk_error)):
        key = name.replace(" ", "_")
        mean, sem = sim.mean(key), sim.sem(key)
        for t in (0, 1):
            # at t = 0 every seed has the same (M⁰, Q⁰), hence the same test risk
            z = f"{(mean[t] - values[t]) / sem[t]:+.2f}" if sem[t] > 1e-12 else "—"
            rows.append([f"{name} t={t}", pm(values[t], errors[t]), pm(mean[t], sem[t]), z])
    return rows


def main(quick: bool) -> None:
    print_machine("Full-batch GD on reused data: two-step closed form vs DMFT and simulation")
    model = spec()
    two_step(model, samples=2 ** 10, blocks=2)   # compile the kernels outside the timings
    start = time.perf_counter()
    exact = two_step(model, samples=2 ** 18, blocks=16)
    time_exact = time.perf_counter() - start
    theirs = two_step(model, samples=2 ** 18, blocks=16, curvature="gauss-newton")
    closed_form_table(exact, theirs)
    timings = [["two_step, 16 × 2¹⁸ Sobol draws", f"{time_exact:.1f} s"]]
    for d, seeds in ((2000, 8),) if quick else ((2000, 8), (5000, 8)):
        start = time.perf_counter()
        sim = simulate_gd(model, d, 2, seeds=seeds, risk_samples=200_000)
        timings.append([f"simulate_gd d = {d}, n = {sim.n}, T = 2, {seeds} seeds",
                        f"{time.perf_counter() - start:.1f} s"])
        print_table(f"Simulation at d = {d} ({seeds} seeds, test risk from 2·10⁵ shared draws) "
                    "vs the closed form", ["quantity", "closed form", "simulation", "z"],
                    simulation_rows(sim, exact))
        z_gn = ((sim.mean("train_risk")[1] - theirs.train_risk[1])
                / sim.sem("train_risk")[1])
        print(f"Gauss–Newton training risk at t = 1 vs this simulation: z = {z_gn:+.1f}\n")
    print_table("Timings", ["run", "wall time"], timings)


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
