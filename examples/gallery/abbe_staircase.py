"""Abbe, Boix-Adserà & Misiakiewicz (2022, 2023): the merged staircase and the leap.

The leap of a multi-index target (the largest number of new coordinates, counted with their
Hermite degree, that one step of the best ordering of its Hermite support adds) sets the
sample complexity of online SGD, n ≍ d^max(Leap − 1, 1), and SGD learns the support in that
order, saddle to saddle. Published: the staircase z1 + z1z2 + z1z2z3 has leap 1 and is learned
z1 → z2 → z3; z1z2z3 has leap 3. overlapdyn computes the leap from the exact Hermite expansion
and integrates the overlap ODE of a p = 4 network on the staircase (σ = x + x² + x³/6, trained
readout, n_b = 16, from a random start at d = 10⁴); the figure shows M_jr by direction.

    python examples/gallery/abbe_staircase.py [--out docs/gallery]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import overlapdyn as od

STAIRCASE = "z1 + z1*z2 + z1*z2*z3"

#: (target, k, published leap, published order of learning or None)
PUBLISHED = (
    (STAIRCASE, 3, 1, "z1 → z2 → z3"),
    ("z1*z2*z3", 3, 3, None),
    ("z1 + z1*z2 + z1*z2*z3 + z1*z2*z3*z4", 4, 1, "z1 → z2 → z3 → z4"),
)


def model() -> od.Model:
    return od.Model(od.Target(k=3, expression=STAIRCASE),
                    od.Student(p=4, activation="x + x**2 + x**3/6", train_readout=True,
                               eta_a=0.5),
                    od.Protocol(eta=0.1, n_b=16), name="staircase")


def learning_curve(t_end: float = 5000.0, d: int = 10_000) -> od.Trajectory:
    staircase = model()
    return od.integrate(staircase, od.initial_overlaps(staircase, d=d, seed=0),
                        od.SaveAt(t_end, n_points=300))


def order(trajectory: od.Trajectory, threshold: float = 0.3) -> str:
    """The order in which the ODE learns the directions (cosine ≥ threshold)."""
    saddles = od.saddle_to_saddle(trajectory, threshold=threshold)
    return " → ".join(f"z{r + 1}" for r in saddles.order)


def table(trajectory: od.Trajectory | None = None) -> list[dict]:
    rows = []
    for target, k, leap, published_order in PUBLISHED:
        found = od.leap(target, k=k)
        rows.append({"target": target, "published leap": leap, "overlapdyn leap": found.value,
                     "published order": published_order or "—",
                     "overlapdyn order": (order(trajectory) if target == STAIRCASE
                                          and trajectory is not None else found.learned_as)})
    return rows


def figure(trajectory: od.Trajectory):
    fig = od.plot.plot_overlaps(trajectory)
    fig.suptitle("merged staircase z1 + z1·z2 + z1·z2·z3, p = 4, d = 10⁴", fontsize="small")
    return fig


def main(out: Path) -> None:
    trajectory = learning_curve()
    print("| target | published leap | overlapdyn | published order | overlapdyn |")
    print("|---|---|---|---|---|")
    for row in table(trajectory):
        print("| " + " | ".join(str(value) for value in row.values()) + " |")
    print(f"risk {trajectory.risk[0]:.3g} → {trajectory.risk[-1]:.3g} at t = "
          f"{trajectory.t[-1]:g}; max_j |M_jr| at the end: "
          f"{np.abs(trajectory.M[-1]).max(axis=0).round(2).tolist()}")
    od.plot.save_figure(figure(trajectory), out / "abbe_staircase.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/gallery"))
    main(parser.parse_args().out)
