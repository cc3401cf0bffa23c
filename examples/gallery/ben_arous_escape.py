"""Ben Arous, Gheissari & Jagannath (2021), "Online stochastic gradient descent on non-convex
losses from high-dimensional inference": one neuron on the sphere, its gradient flow and the
escape exponents.

A single-index target y = σ*(z) and one spherical student ŷ = σ(λ), σ = σ* = Σ_k a_k h_k in
normalised Hermite polynomials h_k = He_k/√k!, the correlation loss. Their gradient flow for
the overlap m:

    dm/dτ = (1 − m²) Σ_k k a_k² m^(k−1),     τ = η t,

and online SGD needs n ≍ d^(k*−1) samples (d log d at k* = 2, d at k* = 1) from m₀ = d^(−1/2),
k* the information exponent, with η ∝ d^(−(k*−2)/2). overlapdyn's ODE holds the η² term
too; as η → 0 it is this flow. The figure: σ = h3 (k* = 3; He3 with c_p = c_k = 1/√6) from
m₀ = 0.1, the published flow and overlapdyn at two learning rates; the table: the largest
gap, which shrinks like η.

    python examples/gallery/ben_arous_escape.py [--out docs/gallery]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import scipy.integrate

import overlapdyn as od

A = {3: 1.0}                # σ = σ* = a_3 h3 = He3/√6
M0 = 0.1


def model(eta: float) -> od.Model:
    scale = 1 / np.sqrt(6)
    return od.Model(od.Target(k=1, activation="He3", c_k=scale),
                    od.Student(p=1, activation="He3", c_p=scale),
                    od.Protocol(eta=eta, loss="correlation", spherical=True))


def gradient_flow(tau: np.ndarray) -> np.ndarray:
    """The published flow m(τ) from m₀, by SciPy (rtol 1e-12)."""
    def rate(_, m):
        return (1 - m**2) * sum(k * a**2 * m ** (k - 1) for k, a in A.items())

    solution = scipy.integrate.solve_ivp(rate, (0.0, tau[-1]), [M0], t_eval=tau, rtol=1e-12,
                                         atol=1e-14, method="DOP853")
    return solution.y[0]


def overlap(eta: float, tau: np.ndarray) -> np.ndarray:
    """overlapdyn's m(τ) at learning rate η (t = τ/η)."""
    curve = od.integrate(model(eta), (np.array([[M0]]), np.eye(1)),
                         od.SaveAt.at(tau / eta),
                         solver=od.Solver(rtol=1e-10, atol=1e-12))
    return curve.M[:, 0, 0]


def gaps(etas=(1e-3, 1e-4), tau_end: float = 6.0) -> dict[float, float]:
    """max_τ |m_overlapdyn − m_flow| for each η: it shrinks like η."""
    tau = np.linspace(0.0, tau_end, 61)
    flow = gradient_flow(tau)
    return {eta: float(np.abs(overlap(eta, tau) - flow).max()) for eta in etas}


def figure(etas=(1e-2, 1e-3), tau_end: float = 6.0):
    tau = np.linspace(0.0, tau_end, 121)
    fig, ax = od.plot.new_axes(figsize=(5.4, 3.6))
    ax.plot(tau, gradient_flow(tau), "k-", lw=2.5, alpha=0.4, label="published gradient flow")
    for eta in etas:
        ax.plot(tau, overlap(eta, tau), "--", label=f"overlapdyn, η = {eta:g}")
    ax.set_xlabel(r"$\tau = \eta\, t$")
    ax.set_ylabel("overlap $m$")
    ax.set_title(r"one spherical neuron, $\sigma = h_3$ ($k^* = 3$), $m_0 = 0.1$",
                 fontsize="small")
    ax.legend()
    return fig


def main(out: Path) -> None:
    print("| η | max over τ ≤ 6 of abs(m − m_flow) |\n|---|---|")
    for eta, gap in gaps().items():
        print(f"| {eta:g} | {gap:.2e} |")
    od.plot.save_figure(figure(), out / "ben_arous_escape.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/gallery"))
    main(parser.parse_args().out)
