"""Goldt, Advani, Saxe, Krzakala & Zdeborová (2019), "Dynamics of stochastic gradient descent
for two-layer neural networks in the teacher-student setup": over-parameterised students.

A teacher of M = 2 erf(x/√2) units (c_k = 1, weights b = 1) with label noise of variance σ²
(``target.noise`` Δ = σ²) teaches a student of K = M + L units (c_p = 1), by online SGD at
learning rate η. Their generalisation error is the noiseless part of the risk,
ε_g = R − σ²/2 (overlapdyn's risk R = ½E[(y − ŷ)²] includes the noise). Published:

- training only the first layer (a = 1 fixed), the final error grows with the student's size,
  ε_g* ∝ ησ²L for small η;
- training both layers, it stays constant or even decreases with K.

The exact case is the linear network, first layer only: ŷ depends on W only through Σ_j w_j,
which moves like one perceptron at learning rate Kη, so that (a short calculation with the
SPEC's η² term) ε_g* = ηKσ²/(2(2 − ηK)) — linear in K for small η. For erf units the ODE
shows how the surplus L units are disposed of: a unit switched off (w_j → 0, which still
fluctuates and costs error), or two units that cancel (w_j ≈ −w_l, erf being odd), whose
norm then grows slowly while the error it costs fades.

    python examples/gallery/goldt_overparameterised.py [--out docs/gallery]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import overlapdyn as od

TEACHER_UNITS = 2
ETA = 0.2
NOISE = 0.01          # σ²
D_START = 10_000      # the random start's dimension
START_SCALE = 0.03    # small initial weights, as in the paper (W₀ scaled down)
T_END = 2e5


def network(K: int, activation: str, *, both_layers: bool, M: int = TEACHER_UNITS,
            eta: float = ETA) -> od.Model:
    return od.Model(
        od.Target(k=M, activation=activation, c_k=1.0, noise=NOISE),
        od.Student(p=K, activation=activation, c_p=1.0, train_readout=both_layers,
                   eta_a=eta if both_layers else 0.0),
        od.Protocol(eta=eta), name=f"{activation} K = {K}, M = {M}")


def linear_published(K: int, eta: float = ETA) -> float:
    """ε_g* of a linear student of K units, first layer only (exact)."""
    return eta * K * NOISE / (2 * (2 - eta * K))


def final_error(model: od.Model, t_end: float = T_END, seed: int = 0
                ) -> tuple[float, od.Trajectory]:
    """``(ε_g at t_end, the trajectory)`` from a small random start."""
    M0, Q0, a0 = od.initial_overlaps(model, d=D_START, seed=seed)
    curve = od.integrate(model, (START_SCALE * M0, START_SCALE**2 * Q0, a0),
                         od.SaveAt(t_end=t_end, n_points=120, t_first=1.0))
    return float(curve.risk[-1]) - NOISE / 2, curve


def linear_table(Ks=(1, 2, 3, 4, 5, 6)) -> list[dict]:
    """Linear networks, first layer only: exact ε_g* against the ODE's at t = 2000."""
    rows = []
    for K in Ks:
        error, _ = final_error(network(K, "linear", both_layers=False, M=1), t_end=2000.0)
        rows.append({"K": K, "published": linear_published(K), "overlapdyn": error})
    return rows


def surplus_units(curve: od.Trajectory) -> tuple[int, int]:
    """``(units switched off, cancelling pairs)`` in the final state: Q_jj below 1 % of the
    largest, and pairs of units with cosine below −0.99."""
    Q = curve.Q[-1]
    norms = np.sqrt(np.diag(Q))
    off = int(np.sum(np.diag(Q) < 0.01 * np.diag(Q).max()))
    cosine = Q / np.outer(norms, norms)
    pairs = int(np.sum(np.triu(cosine < -0.99, 1)))
    return off, pairs


def erf_table(Ks=(2, 3, 4, 5, 6), t_end: float = T_END) -> list[dict]:
    """ε_g*/(ησ²) of erf students, first layer only and both layers, at t_end."""
    rows = []
    for K in Ks:
        first, curve = final_error(network(K, "erf", both_layers=False), t_end)
        both, _ = final_error(network(K, "erf", both_layers=True), t_end)
        off, pairs = surplus_units(curve)
        rows.append({"K": K, "L": K - TEACHER_UNITS, "first layer": first / (ETA * NOISE),
                     "both layers": both / (ETA * NOISE), "off": off, "pairs": pairs})
    return rows


def figure(rows: list[dict], linear: list[dict]):
    fig = od.plot.new_figure(figsize=(9.0, 3.6))
    left, right = fig.subplots(1, 2)
    for K in (2, 3, 4):
        _, curve = final_error(network(K, "erf", both_layers=False))
        left.plot(curve.t[1:], od.plot.above_round_off(curve.risk[1:] - NOISE / 2),
                  label=f"K = {K}, first layer")
    _, curve = final_error(network(4, "erf", both_layers=True))
    left.plot(curve.t[1:], od.plot.above_round_off(curve.risk[1:] - NOISE / 2), "k--",
              label="K = 4, both layers")
    left.set(xscale="log", yscale="log", xlabel=r"time $t$ = steps$/d$",
             ylabel=r"$\varepsilon_g = R - \sigma^2/2$",
             title=f"erf, M = {TEACHER_UNITS}, η = {ETA}, σ² = {NOISE}")
    left.title.set_fontsize("small")
    left.legend(fontsize="small")
    L = [row["L"] for row in rows]
    right.plot(L, [row["first layer"] for row in rows], "o-", label="erf, first layer")
    right.plot(L, [row["both layers"] for row in rows], "s-", label="erf, both layers")
    scale = ETA * NOISE
    right.plot([row["K"] - 1 for row in linear], [row["published"] / scale for row in linear],
               "k-", lw=2.5, alpha=0.4, label="linear (M = 1), exact")
    right.plot([row["K"] - 1 for row in linear], [row["overlapdyn"] / scale for row in linear],
               "kx", label="linear, overlapdyn")
    right.set(xlabel="surplus units L = K − M", ylabel=r"$\varepsilon_g^* / (\eta\sigma^2)$",
              title=f"final error (t = {T_END:.0e})")
    right.title.set_fontsize("small")
    right.legend(fontsize="small")
    return fig


def main(out: Path) -> None:
    linear = linear_table()
    print("| linear, K | published ε_g* | overlapdyn |\n|---|---|---|")
    for row in linear:
        print(f"| {row['K']} | {row['published']:.6e} | {row['overlapdyn']:.6e} |")
    rows = erf_table()
    print("\n| erf, K | L | ε_g*/(ησ²), first layer | units off, cancelling pairs | "
          "ε_g*/(ησ²), both layers |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['K']} | {row['L']} | {row['first layer']:.3f} | {row['off']}, "
              f"{row['pairs']} | {row['both layers']:.3f} |")
    od.plot.save_figure(figure(rows, linear), out / "goldt_overparameterised.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/gallery"))
    main(parser.parse_args().out)
