"""The DMFT of full-batch GD (``od.reuse.solve_dmft``): its cost, the published numbers, the
authors' DMFT at every step, and finite-d simulations.

The authors' setting (Dandi et al. 2024, arXiv:2402.03220; repository
IdePHICS/benefit-reusing-batch): target tanh(z1 + He3(z2)), ReLU student p = 2 with the fixed
readout a = (1, −1)/√2 (c_p = 1), M⁰ = 0, Q⁰ = I, α = 3, lr = 0.2 (SPEC's η = lr·α = 0.6).

Tables:

1. timings: T = 7 (and 10) with 16 blocks × 2¹⁶ scrambled-Sobol draws per step (≈ 10⁶),
   exact (Stein) and Gauss–Newton response;
2. M¹₁· and M²₁· against the published DMFT values;
3. M^t₁· for every t against the authors' DMFT (``m`` of their
   ``data/DMFT_A3_T7_P2_sym=TEST_lambda0.0_lr0.2_samples10000000.npz``) and their d = 5000
   simulation (32 seeds, ``data/simulations_A3_p2_k2_D5000_T7_…npz``), numbers copied below;
4. ``simulate_gd`` at d (full: 5000 with 32 seeds, quick: 2000 with 8) against the DMFT:
   per step, the largest |z| over the entries of M, Q and the risks, z = (sim − DMFT) /
   √(sem² + DMFT error²), for both responses;
5. the same for another model: erf student p = 2, a = (1, 0.5), target relu(z1) with label
   noise Δ = 0.1, ridge λ_r = 0.1, η = 1, α = 2, from a warm start (full: d = 2000 with 32
   seeds, quick: d = 1000 with 16).

Run:  .venv/bin/python benchmarks/bench_dmft.py [--quick]
      (full: about 10 minutes on 2 cores, most of it the d = 5000 simulation, 600 MB per
      training set, one seed at a time)
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _tables import print_machine, print_table

import overlapdyn as od
from overlapdyn.reuse import FullBatchGD, simulate_gd, solve_dmft

PUBLISHED = {"M¹₁·": (0.0758, -0.0632), "M²₁·": (0.1238, -0.1027)}
# the authors' DMFT, m[t, 0, :] for t = 0..6 (IdePHICS/benefit-reusing-batch, data/DMFT_A3_T7_
# P2_sym=TEST_lambda0.0_lr0.2_samples10000000.npz; Gauss–Newton, 10⁷ samples)
THEIR_DMFT = np.array([[0.0, 0.0], [0.07576, -0.06323], [0.1238, -0.10271],
                       [0.15537, -0.1276], [0.17862, -0.14489], [0.1982, -0.15885],
                       [0.21618, -0.17142]])
# their simulation at d = 5000, 32 seeds: mean and standard error of magnetisation_list[:, t, 0]
# (data/simulations_A3_p2_k2_D5000_T7_sym=offline_learn_lambda0.0_lr0.2_onlineFalse.npz)
THEIR_SIM = np.array([[0.0, 0.0], [0.07572, -0.06258], [0.12384, -0.10184],
                      [0.15618, -0.12758], [0.17998, -0.14607], [0.19887, -0.16036],
                      [0.21468, -0.17219]])
THEIR_SIM_SEM = np.array([[0.0, 0.0], [0.00043, 0.00042], [0.00069, 0.0007],
                          [0.00081, 0.00092], [0.00087, 0.0011], [0.0009, 0.00126],
                          [0.00095, 0.00138]])


def paper_spec() -> FullBatchGD:
    return FullBatchGD.from_papers(
        od.Target(k=2, expression="tanh(z1 + He3(z2))"),
        od.Student(p=2, activation="relu", c_p=1.0, a=(2 ** -0.5, -(2 ** -0.5))),
        lr=0.2, alpha=3.0)


def other_spec() -> FullBatchGD:
    return FullBatchGD(od.Target(k=1, expression="relu(z1)", noise=0.1),
                       od.Student(p=2, activation="erf", c_p=1.0, a=(1.0, 0.5)),
                       eta=1.0, alpha=2.0, ridge=0.1)


OTHER_INIT = (np.array([[0.3], [-0.2]]), np.array([[1.0, 0.2], [0.2, 1.0]]))


def pm(value: float, error: float) -> str:
    return f"{value:.5f} ± {error:.1g}"


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def z_rows(sim, solutions: dict) -> list[list[str]]:
    """Per step, the largest |z| of M, Q, the training and the test risk, per solution."""
    steps = min(sim.steps, *(s.steps for s in solutions.values()))
    rows = []
    for t in range(1, steps + 1):
        row = [str(t)]
        for solution in solutions.values():
            for name in ("M", "Q", "train_risk", "test_risk"):
                error = getattr(solution, f"{name}_error")[t]
                z = (sim.mean(name)[t] - getattr(solution, name)[t]) / np.sqrt(
                    sim.sem(name)[t] ** 2 + error ** 2)
                row.append(f"{np.max(np.abs(z)):.1f}")
        rows.append(row)
    return rows


def print_z_table(title: str, sim, solutions: dict) -> None:
    headers = ["t"] + [f"{name}: {q}" for name in solutions
                       for q in ("M", "Q", "train", "test")]
    print_table(title, headers, z_rows(sim, solutions))


def main(quick: bool) -> None:
    print_machine("Full-batch GD on reused data: the DMFT")
    spec = paper_spec()
    solve_dmft(spec, 2, samples=2 ** 10, blocks=2)      # compile outside the timings
    solve_dmft(spec, 2, samples=2 ** 10, blocks=2, curvature="gauss-newton")
    exact, t_exact = timed(solve_dmft, spec, 7)
    theirs, t_theirs = timed(solve_dmft, spec, 7, curvature="gauss-newton")
    _, t_ten = timed(solve_dmft, spec, 10)
    print_table("Timings (16 blocks × 2¹⁶ Sobol draws per step, compilation excluded)",
                ["run", "wall time"],
                [["T = 7, exact response (Stein)", f"{t_exact:.1f} s"],
                 ["T = 7, Gauss–Newton response (path)", f"{t_theirs:.1f} s"],
                 ["T = 10, exact response", f"{t_ten:.1f} s"]])

    rows = []
    for t, name in ((1, "M¹₁·"), (2, "M²₁·")):
        for r in range(2):
            rows.append([f"{name}[{r + 1}]", f"{PUBLISHED[name][r]:.4f}",
                         pm(exact.M[t, 0, r], exact.M_error[t, 0, r]),
                         pm(theirs.M[t, 0, r], theirs.M_error[t, 0, r])])
    print_table("The published DMFT values (their 10⁷ samples: error ≈ 1e-4)",
                ["quantity", "published", "DMFT exact", "DMFT Gauss–Newton"], rows)

    rows = []
    for t in range(1, 7):
        for r in range(2):
            rows.append([f"M^{t}₁{r + 1}", f"{THEIR_DMFT[t, r]:.5f}",
                         f"{exact.M[t, 0, r]:.5f} ({exact.M[t, 0, r] - THEIR_DMFT[t, r]:+.5f})",
                         f"{theirs.M[t, 0, r]:.5f} ({theirs.M[t, 0, r] - THEIR_DMFT[t, r]:+.5f})",
                         pm(THEIR_SIM[t, r], THEIR_SIM_SEM[t, r])])
    print_table("Every step against the authors' DMFT (difference in brackets) and their "
                "d = 5000 simulation", ["entry", "their DMFT", "DMFT exact", "DMFT Gauss–Newton",
                                        "their simulation"], rows)

    d, seeds = (2000, 8) if quick else (5000, 32)
    sim, t_sim = timed(simulate_gd, spec, d, 7, seeds=seeds, risk_samples=400_000)
    rows = [[f"M^{t}₁{r + 1}", pm(exact.M[t, 0, r], exact.M_error[t, 0, r]),
             pm(sim.mean("M")[t, 0, r], sim.sem("M")[t, 0, r])]
            for t in range(1, 8) for r in range(2)]
    rows += [[f"Q^{t}₁₁", pm(exact.Q[t, 0, 0], exact.Q_error[t, 0, 0]),
              pm(sim.mean("Q")[t, 0, 0], sim.sem("Q")[t, 0, 0])] for t in (1, 4, 7)]
    rows += [[f"{name} risk t={t}", pm(getattr(exact, f"{name}_risk")[t],
                                       getattr(exact, f"{name}_risk_error")[t]),
              pm(sim.mean(f"{name}_risk")[t], sim.sem(f"{name}_risk")[t])]
             for name in ("train", "test") for t in (1, 4, 7)]
    print_table(f"DMFT (exact) against simulate_gd, d = {d}, {seeds} seeds ({t_sim:.0f} s)",
                ["quantity", "DMFT", "simulation"], rows)
    print_z_table(f"Largest |z| per step, d = {d}, {seeds} seeds (the simulated test risk also "
                  "carries the Monte Carlo error of its 4·10⁵ shared draws, ≈ 5e-4, not in z)",
                  sim, {"exact": exact, "Gauss–Newton": theirs})

    other = other_spec()
    d, seeds = (1000, 16) if quick else (2000, 32)
    mine = solve_dmft(other, 7, init=OTHER_INIT)
    gauss_newton = solve_dmft(other, 7, init=OTHER_INIT, curvature="gauss-newton")
    sim = simulate_gd(other, d, 7, seeds=seeds, init=OTHER_INIT, risk_samples=400_000)
    print(other.describe())
    print_z_table(f"Largest |z| per step, the erf student, d = {d}, {seeds} seeds", sim,
                  {"exact": mine, "Gauss–Newton": gauss_newton})


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
