"""Arnaboldi, Stephan, Krzakala & Loureiro (2023), "From high-dimensional & mean-field
dynamics to dimensionless ODEs": the square activation in closed form.

ŷ = (1/p) Σ_j λ_j², y = (1/k) Σ_r z_r² (c_p = 1/p, c_k = 1/k, σ = σ* = x², MSE), learning
rate γ = η and time t_A = t·γ/p. Their closed form of the gradient terms:

    dM/dt_A = 2[(tr P/k − tr Q/p) M + 2(M P/k − Q M/p)],
    dQ/dt_A = 4[(tr P/k − tr Q/p) Q + 2(M Mᵀ/k − Q²/p)] + (variance terms ∝ γ/p),
    R = ½[((tr P)² + 2 tr P²)/k² + ((tr Q)² + 2 tr Q²)/p² − 2(tr Q tr P + 2 tr M Mᵀ)/(p k)].

overlapdyn derives its drift from the activation alone; the table compares it with these
formulas at random states (dM has no variance term, so it must agree at any γ), and the
figure its learning curves at several γ/p with the published γ/p → 0 flow, integrated by
SciPy from the closed form.

    python examples/gallery/arnaboldi_square.py [--out docs/gallery]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import scipy.integrate

import overlapdyn as od

P_STUDENTS, K_TEACHER = 3, 2


def model(gamma: float) -> od.Model:
    return od.Model(od.Target(k=K_TEACHER, activation="square"),
                    od.Student(p=P_STUDENTS, activation="square"), od.Protocol(eta=gamma))


def closed_form(M: np.ndarray, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The published dM/dt_A, dQ/dt_A without the variance terms, and R (P = I)."""
    p, k = M.shape
    P = np.eye(k)
    trace = np.trace(P) / k - np.trace(Q) / p
    dM = 2 * (trace * M + 2 * (M @ P / k - Q @ M / p))
    dQ = 4 * (trace * Q + 2 * (M @ M.T / k - Q @ Q / p))
    risk = 0.5 * ((np.trace(P) ** 2 + 2 * np.trace(P @ P)) / k**2
                  + (np.trace(Q) ** 2 + 2 * np.trace(Q @ Q)) / p**2
                  - 2 * (np.trace(Q) * np.trace(P) + 2 * np.trace(M @ M.T)) / (p * k))
    return dM, dQ, float(risk)


def random_state(rng) -> tuple[np.ndarray, np.ndarray]:
    W = rng.normal(size=(P_STUDENTS, K_TEACHER + P_STUDENTS)) / 2
    return W[:, :K_TEACHER], W @ W.T


def drift_gaps(gamma: float = 0.3, states: int = 5) -> dict[str, float]:
    """Largest relative gaps between overlapdyn and the closed form at random states: dM
    (at this γ), dQ (at γ → 0: the η-linear part, from two learning rates) and R."""
    rng = np.random.default_rng(0)
    compiled, doubled = od.CompiledModel(model(gamma)), od.CompiledModel(model(2 * gamma))
    gaps = {"dM/dt_A": 0.0, "dQ/dt_A (γ/p → 0)": 0.0, "R": 0.0}
    for _ in range(states):
        M, Q = random_state(rng)
        want_dM, want_dQ, want_risk = closed_form(M, Q)
        dM, dQ, _ = compiled.drift(M, Q)
        dQ2 = doubled.drift(M, Q)[1]
        scale = P_STUDENTS / gamma          # d/dt_A = (p/γ) d/dt
        # dQ/γ = linear part + γ·(variance part): the linear part from γ and 2γ
        linear = P_STUDENTS * (2 * dQ / gamma - dQ2 / (2 * gamma))
        gaps["dM/dt_A"] = max(gaps["dM/dt_A"], _relative(scale * dM, want_dM))
        gaps["dQ/dt_A (γ/p → 0)"] = max(gaps["dQ/dt_A (γ/p → 0)"],
                                         _relative(linear, want_dQ))
        gaps["R"] = max(gaps["R"], abs(compiled.risk(M, Q) - want_risk) / want_risk)
    return gaps


def _relative(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / np.abs(want).max())


def flow(M0: np.ndarray, Q0: np.ndarray, t_A: np.ndarray) -> np.ndarray:
    """The published γ/p → 0 flow's risk along t_A, by SciPy (rtol 1e-11)."""
    p, k = M0.shape

    def rate(_, y):
        M, Q = y[:p * k].reshape(p, k), y[p * k:].reshape(p, p)
        dM, dQ, _ = closed_form(M, Q)
        return np.concatenate([dM.ravel(), dQ.ravel()])

    solution = scipy.integrate.solve_ivp(rate, (0, t_A[-1]), np.concatenate(
        [M0.ravel(), Q0.ravel()]), t_eval=t_A, rtol=1e-11, atol=1e-13, method="DOP853")
    return np.array([closed_form(y[:p * k].reshape(p, k), y[p * k:].reshape(p, p))[2]
                     for y in solution.y.T])


def curves(ratios=(0.01, 0.05, 0.15), t_A_end: float = 8.0, d: int = 10_000):
    """``t_A``, the published flow's risk and overlapdyn's risk per γ/p, from one start."""
    M0, Q0, _ = od.initial_overlaps(model(1.0), d=d, seed=0)
    t_A = np.linspace(0.0, t_A_end, 161)
    ours = {}
    for ratio in ratios:
        gamma = ratio * P_STUDENTS
        run = od.integrate(model(gamma), (M0, Q0), od.SaveAt.at(t_A * P_STUDENTS / gamma))
        ours[ratio] = run.risk
    return t_A, flow(M0, Q0, t_A), ours


def figure():
    t_A, published, ours = curves()
    fig, ax = od.plot.new_axes(figsize=(5.4, 3.6))
    ax.plot(t_A, published, "k-", lw=2.5, alpha=0.4, label=r"published, $\gamma/p \to 0$")
    for ratio, risk in ours.items():
        ax.plot(t_A, risk, "--", label=rf"overlapdyn, $\gamma/p$ = {ratio:g}")
    ax.set_yscale("log")
    ax.set_xlabel(r"$t_A = t\,\gamma/p$")
    ax.set_ylabel("population risk $R$")
    ax.set_title(f"square activation, p = {P_STUDENTS}, k = {K_TEACHER}", fontsize="small")
    ax.legend(fontsize="small")
    return fig


def main(out: Path) -> None:
    print("| quantity | largest relative gap to the closed form |\n|---|---|")
    for name, gap in drift_gaps().items():
        print(f"| {name} | {gap:.1e} |")
    t_A, published, ours = curves(ratios=(1e-3,))
    print(f"| R(t_A) at γ/p = 0.001, t_A ≤ 8 | "
          f"{np.abs(ours[1e-3] - published).max() / published.max():.1e} |")
    od.plot.save_figure(figure(), out / "arnaboldi_square.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/gallery"))
    main(parser.parse_args().out)
