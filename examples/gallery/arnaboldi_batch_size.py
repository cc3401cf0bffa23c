"""Arnaboldi, Dandi, Krzakala, Loureiro, Pesce & Stephan (2024), "Online learning and
information exponents: on the importance of batch size, and time/complexity tradeoffs".

One spherical neuron, ŷ = h₃(λ), learns y = h₃(z) (h₃ = He₃/√3!, information exponent ℓ = 3)
from m₀ = d^(−1/2) by one-pass SGD on mini-batches of n_b fresh samples. T is the number of
steps until m = 1/2, at the learning rate that makes it smallest; n = T·n_b is the number of
samples used. Published:

- square loss: for n_b ≲ d^(ℓ/2), T ∝ d^(ℓ−1)/n_b, so n ≍ d^(ℓ−1) does not change — a
  larger batch buys time for free; beyond n_b ≫ d^(ℓ/2) it buys nothing (T stops falling,
  n grows);
- correlation loss (e = y: no auto-correlation term ŷ² in the loss): the gain goes on, down
  to a few steps.

overlapdyn runs the large-batch state evolution (:func:`overlapdyn.evolve`, α = n_b/d): one
step of the map is one SGD step at learning rate d·η, with the mean gradient's own square
kept, so that the same map covers every batch size (for n_b ≪ d it is the Euler scheme of the
overlap ODE). The learning rate is scanned on a log grid, four per decade.

    python examples/gallery/arnaboldi_batch_size.py [--out docs/gallery]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import overlapdyn as od

ELL = 3
M_LEARNED = 0.5
ETAS = np.logspace(3, -7, 41)     # the map's η (SGD's is d·η), scanned downwards
LOSSES = ("mse", "correlation")


def neuron(loss: str, eta: float) -> od.Model:
    return od.Model(od.Target(k=1, expression="He3(z1)/sqrt(6)"),
                    od.Student(p=1, activation="He3(x)/sqrt(6)", c_p=1.0),
                    od.Protocol(eta=eta, loss=loss, spherical=True),
                    name=f"h3 neuron, {loss} loss")


def steps_to_learn(loss: str, d: int, n_b: float, eta: float) -> float:
    """Steps of the map until m = 1/2 from m₀ = d^(−1/2); ``inf`` if m falls to m₀/4 first
    (the noise won) or the budget of 30 d^(ℓ−1)/n_b + 100 steps runs out."""
    m0 = d ** -0.5
    lost = od.ode.Event("lost", lambda M, Q, a, risk: abs(M[0, 0]) - m0 / 4, True, -1.0)
    budget = int(30 * d ** (ELL - 1) / n_b) + 100
    try:
        run = od.evolve(neuron(loss, eta), (np.array([[m0]]), np.eye(1)), budget, n_b / d,
                        events=[od.OverlapCrosses(M_LEARNED), lost])
    except od.IntegrationError:      # η so large that the map blows up
        return math.inf
    learned = [times for name, times in run.events.items() if name != "lost" and times]
    return float(learned[0][0]) if learned else math.inf


def fastest(loss: str, d: int, n_b: float) -> tuple[float, float]:
    """``(T, η)``: the fewest steps over the η grid. Below the best η, T grows like 1/η, so
    the scan stops once it is 1.5 times the best after three successes."""
    best, best_eta, successes = math.inf, math.nan, 0
    for eta in ETAS:
        steps = steps_to_learn(loss, d, n_b, eta)
        if steps < best:
            best, best_eta = steps, eta
        successes += math.isfinite(steps)
        if successes >= 3 and steps > 1.5 * best:
            break
    return best, best_eta


def scan(d: int, batches) -> list[dict]:
    """One row per loss and batch size: T, the best η of the map and n = T·n_b."""
    rows = []
    for loss in LOSSES:
        for n_b in batches:
            T, eta = fastest(loss, d, n_b)
            rows.append({"d": d, "loss": loss, "n_b": n_b, "T": T, "eta": eta,
                         "n": T * n_b})
    return rows


def regimes(rows: list[dict]) -> dict[str, float]:
    """The measured regimes of one d: n/d^(ℓ−1) at the smallest batch, per loss; the largest
    n_b/d^(ℓ/2) at which the square loss's n is still within 20 % of it; the fewest steps."""
    d = rows[0]["d"]
    out = {}
    for loss in LOSSES:
        own = [row for row in rows if row["loss"] == loss]
        out[f"n/d² ({loss}, smallest n_b)"] = own[0]["n"] / d ** (ELL - 1)
        out[f"fewest steps ({loss})"] = min(row["T"] for row in own)
    square = [row for row in rows if row["loss"] == "mse"]
    free = [row["n_b"] for row in square if row["n"] <= 1.2 * square[0]["n"]]
    out["largest n_b/d^(3/2) with n unchanged (mse)"] = max(free) / d ** (ELL / 2)
    return out


def figure(results: dict[int, list[dict]]):
    fig = od.plot.new_figure(figsize=(9.0, 3.6))
    left, right = fig.subplots(1, 2)
    for (d, rows), marker in zip(results.items(), "os", strict=False):
        for loss, colour in zip(LOSSES, ("C0", "C1"), strict=True):
            own = [row for row in rows if row["loss"] == loss]
            x = [row["n_b"] / d ** (ELL / 2) for row in own]
            left.plot(x, [row["T"] for row in own], marker + "-", color=colour, ms=4,
                      label=f"{loss}, d = {d:g}")
            right.plot(x, [row["n"] / d ** (ELL - 1) for row in own], marker + "-",
                       color=colour, ms=4, label=f"{loss}, d = {d:g}")
    for ax in (left, right):
        ax.axvline(1.0, color="grey", lw=1, ls=":")
        ax.set(xscale="log", yscale="log", xlabel=r"$n_b / d^{\ell/2}$")
        ax.legend(fontsize="x-small")
    left.set(ylabel="steps $T$ to $m = 1/2$ (best η)")
    left.set_title(r"square loss: $T$ stops falling beyond $n_b \sim d^{\ell/2}$", fontsize="small")
    right.set(ylabel=r"samples $n = T n_b$, over $d^{\ell-1}$")
    right.set_title(r"$\ell = 3$: $n \asymp d^{\ell-1}$ while the batch is free",
                    fontsize="small")
    return fig


def main(out: Path) -> None:
    results = {1000: scan(1000, np.logspace(2, 9, 15)),
               10_000: scan(10_000, np.logspace(5, 11, 13))}
    print("| d | loss | n_b | T | η (map) | n |\n|---|---|---|---|---|---|")
    for rows in results.values():
        for row in rows:
            print(f"| {row['d']} | {row['loss']} | {row['n_b']:.2g} | {row['T']:g} | "
                  f"{row['eta']:.3g} | {row['n']:.3g} |")
    print("\n| measured | d = 1000 | d = 10000 |\n|---|---|---|")
    measured = {d: regimes(rows) for d, rows in results.items()}
    for name in measured[1000]:
        print(f"| {name} | {measured[1000][name]:.3g} | {measured[10_000][name]:.3g} |")
    od.plot.save_figure(figure(results), out / "arnaboldi_batch_size.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/gallery"))
    main(parser.parse_args().out)
