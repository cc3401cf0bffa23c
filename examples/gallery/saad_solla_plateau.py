"""Saad & Solla (1995), "On-line learning in soft committee machines": the symmetric plateau.

K = M erf(x/√2) units, c_p = c_k = 1, an orthonormal teacher (P = I). Their result for the
symmetric fixed point as η → 0: every student has the same overlap with every teacher and
with every other student,

    R* = 1/√(K(2K − 1)),   Q* = C* = 1/(2K − 1),

(in this library's symbols M_jr = R*, Q_jj = Q*, Q_jl = C*), so that the plateau's risk is
ε_g* = (1/π)[K π/6 − K² arcsin(1/(2K))]. overlapdyn finds the fixed point by Newton's method
on the compiled drift, at small η, and its escape rate λ₊ from the exact Jacobian; the figure
shows the learning curves at η = 0.1 with the η → 0 plateau.

    python examples/gallery/saad_solla_plateau.py [--out docs/gallery]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import overlapdyn as od


def committee(K: int, eta: float) -> od.Model:
    return od.Model(od.Target(k=K, activation="erf", c_k=1.0),
                    od.Student(p=K, activation="erf", c_p=1.0), od.Protocol(eta=eta),
                    name=f"erf K = M = {K}")


def published(K: int) -> dict[str, float]:
    """The η → 0 symmetric fixed point and its risk."""
    return {"M_jr": 1 / math.sqrt(K * (2 * K - 1)), "Q_jj": 1 / (2 * K - 1),
            "Q_jl": 1 / (2 * K - 1),
            "risk": (K * math.pi / 6 - K**2 * math.asin(1 / (2 * K))) / math.pi}


def plateau(K: int, eta: float) -> od.ode.FixedPoint:
    """overlapdyn's symmetric fixed point, from a guess 10 % off the published one."""
    guess = published(K)
    M = np.full((K, K), 1.1 * guess["M_jr"])
    Q = np.full((K, K), 0.9 * guess["Q_jl"]) + np.eye(K) * 0.2 * guess["Q_jj"]
    return od.find_fixed_point(od.CompiledModel(committee(K, eta)), M, Q)


def table(Ks=(2, 3, 4), eta: float = 1e-4) -> list[dict]:
    """Published (η → 0) against overlapdyn's fixed point at ``eta``."""
    rows = []
    for K in Ks:
        point, want = plateau(K, eta), published(K)
        got = {"M_jr": point.M[0, 1], "Q_jj": point.Q[0, 0], "Q_jl": point.Q[0, 1],
               "risk": point.risk}
        rows += [{"K": K, "quantity": name, "published": want[name], "overlapdyn": got[name]}
                 for name in want]
        rows.append({"K": K, "quantity": "λ₊ / η", "published": math.nan,
                     "overlapdyn": point.growth_rate / eta})
    return rows


def figure(Ks=(2, 3), eta: float = 0.1, d: int = 10_000):
    """Learning curves from a random start at d, with the published plateau risks."""
    fig, ax = od.plot.new_axes(figsize=(5.4, 3.6))
    for K in Ks:
        model = committee(K, eta)
        M0, Q0, _ = od.initial_overlaps(model, d=d, seed=0)
        curve = od.integrate(model, (M0, Q0), od.SaveAt(t_end=4000 * K / eta / 10, n_points=300))
        (line,) = ax.plot(eta * curve.t[1:], od.plot.above_round_off(curve.risk)[1:],
                          label=f"K = M = {K}")
        ax.axhline(published(K)["risk"], color=line.get_color(), ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\eta\, t$")
    ax.set_ylabel("population risk $R$")
    ax.set_title(f"Saad & Solla: plateaus (dashed: published, η → 0), η = {eta}",
                 fontsize="small")
    ax.legend()
    return fig


def main(out: Path) -> None:
    print("| K | quantity | published (η → 0) | overlapdyn (η = 1e-4) |\n|---|---|---|---|")
    for row in table():
        published_text = "—" if math.isnan(row["published"]) else f"{row['published']:.6f}"
        print(f"| {row['K']} | {row['quantity']} | {published_text} | {row['overlapdyn']:.6f} |")
    od.plot.save_figure(figure(), out / "saad_solla_plateau.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/gallery"))
    main(parser.parse_args().out)
