"""The embedded default job of ``make demo`` / ``overlapdyn demo``.

1. Two learning curves from the overlap ODEs, started at the overlaps of a random
   initialisation in d = 10 000: the Saad–Solla committee (erf(x/√2), K = M = 2, c_p = 1),
   with its symmetric plateau and the specialisation that ends it, and the staircase
   ``z1 + z1 z2 + z1 z2 z3`` learned direction by direction (saddle to saddle). Each is saved
   (``*.npz``, with its full model spec) and plotted.
2. A few exact Gaussian expectations over Ω = [[Q, M], [Mᵀ, P]], checked against cubature
   at a random valid Ω, and the Hermite expansion and information exponent of the common
   activations.

Outputs: PNG figures, trajectories, a text report, a LaTeX fragment and a JSON file with
every number and the configuration that produced it.
"""

from __future__ import annotations

import argparse
import json
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy

from ..derive.cubature import numeric_expectation
from ..derive.gaussian import GaussianFields, expectation
from ..derive.hermite import hermite_expansion
from ..model.spec import Model, Protocol, Student, Target
from ..ode.integrator import SaveAt, integrate
from ..ode.state import initial_overlaps
from ..plot.axes import save_figure
from ..plot.trajectories import plot_learning_curve, plot_overlaps
from ..storage.files import atomic_write_text
from ..storage.versions import __version__

__all__ = ["DemoConfig", "add_arguments", "run", "run_demo"]

DEMO_LINKS = ("linear", "relu", "abs", "erf", "tanh", "sigmoid", "softplus", "He2", "He3",
              "He4", "He3(x) + He4(x)", "x**2")

# (label, integrand) over the fields of GaussianFields.overlaps(p=2, k=1)
DEMO_EXPECTATIONS = (
    ("E[He3(λ1) He3(z1)]", "He3(lambda1)*He3(z1)"),
    ("E[He2(λ1) He2(λ2)]", "He2(lambda1)*He2(lambda2)"),
    ("E[He3'(λ1) z1 He3(z1)]  (I3-type, He3 student and teacher)",
     "3*He2(lambda1)*z1*He3(z1)"),
    ("E[He3'(λ1) He3'(λ2) He3(z1)²]  (I4-type)", "9*He2(lambda1)*He2(lambda2)*He3(z1)**2"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn demo``."""
    parser.add_argument("--out", default="outputs/demo",
                        help="output folder (default: %(default)s)")
    parser.add_argument("--order", type=int, default=8, help="Hermite truncation order")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random Ω check")


def run(args: argparse.Namespace) -> None:
    """``overlapdyn demo``: :func:`run_demo` into ``--out``."""
    run_demo(Path(args.out), DemoConfig(order=args.order, seed=args.seed))


@dataclass(frozen=True)
class DemoConfig:
    """What the demo computes.

    Attributes:
        order: Hermite truncation order L of the activation table.
        p, k: student width and number of latent directions of the expectations' Ω.
        seed: seed of the random initialisation and of the random Ω of the cubature check.
        d: dimension whose random initialisation starts the learning curves.
    """

    order: int = 8
    p: int = 2
    k: int = 1
    seed: int = 0
    d: int = 10_000


def _random_overlaps(fields: GaussianFields, seed: int) -> dict[str, float]:
    """A valid Ω: the Gram matrix of random vectors, read off as Q, M, P values."""
    size = len(fields.names)
    vectors = np.random.default_rng(seed).normal(size=(size, size + 2)) / np.sqrt(size + 2)
    gram = vectors @ vectors.T
    return {str(fields.covariance[i, j]): float(gram[i, j])
            for i in range(size) for j in range(size)}


DEMO_MODELS = (
    (Model(Target(k=2, activation="erf", c_k=1.0), Student(p=2, activation="erf", c_p=1.0),
           Protocol(eta=0.5), name="saad_solla_erf_K2"), 2000.0),
    # the readout is trained: with a = 1 fixed the four neurons cannot represent z1·z2·z3
    # and the risk stops at 1.01 although every direction is found
    (Model(Target(k=3, expression="z1 + z1*z2 + z1*z2*z3"),
           Student(p=4, activation="x + x**2 + x**3/6", train_readout=True, eta_a=0.5),
           Protocol(eta=0.1, n_b=16), name="staircase"), 5000.0),
)


def _learning_curves(out: Path, d: int, seed: int) -> list[dict]:
    rows = []
    for model, t_end in DEMO_MODELS:
        trajectory = integrate(model, initial_overlaps(model, d, seed)[:2], SaveAt(t_end, 200))
        trajectory.save(out / f"{model.name}.npz")
        save_figure(plot_learning_curve(trajectory), out / f"{model.name}_risk.png")
        save_figure(plot_overlaps(trajectory), out / f"{model.name}_overlaps.png")
        alignment = np.abs(trajectory.M).max(axis=1)
        rows.append({
            "model": model.name, "t_end": t_end, "final_risk": float(trajectory.risk[-1]),
            "initial_risk": float(trajectory.risk[0]),
            "t_alignment_0.2": [float(trajectory.t[np.argmax(alignment[:, r] > 0.2)])
                                if alignment[-1, r] > 0.2 else None
                                for r in range(model.k)],
            "wall_time_s": trajectory.wall_time_s,
            "spec": model.to_dict(),
        })
    return rows


def _activation_table(order: int) -> list[dict]:
    rows = []
    for link in DEMO_LINKS:
        expansion = hermite_expansion(link, order)
        rows.append({
            "activation": link,
            "information_exponent": expansion.information_exponent(),
            "normalized_coefficients": [float(a) for a in expansion.normalized()],
            "relative_truncation_error": expansion.relative_truncation_error,
            "exact": expansion.exact,
        })
    return rows


def _expectation_rows(config: DemoConfig) -> list[dict]:
    fields = GaussianFields.overlaps(config.p, config.k)
    point = _random_overlaps(fields, config.seed)
    rows = []
    for label, integrand in DEMO_EXPECTATIONS:
        exact = expectation(integrand, fields)
        exact_value = float(exact.xreplace({sympy.Symbol(k): v for k, v in point.items()}))
        numeric_value = numeric_expectation(integrand, fields, point)
        rows.append({
            "label": label, "integrand": integrand, "sympy": str(exact),
            "latex": sympy.latex(exact), "exact_value": exact_value,
            "cubature_value": numeric_value,
            "relative_gap": abs(exact_value - numeric_value) / max(abs(numeric_value), 1e-300),
        })
    return rows


def run_demo(out: Path, config: DemoConfig = DemoConfig()) -> dict:
    """Run the demo, print its report and write ``report.txt``, ``expectations.tex``, ``demo.json``.

    Returns:
        Everything written to ``demo.json``.
    """
    out.mkdir(parents=True, exist_ok=True)
    curves = _learning_curves(out, config.d, config.seed)
    table = _activation_table(config.order)
    expectations = _expectation_rows(config)
    lines = [f"overlapdyn {__version__} demo — learning curves from the overlap ODEs "
             f"(random initialisation at d = {config.d})", ""]
    for row in curves:
        times = ", ".join("—" if t is None else f"{t:.3g}" for t in row["t_alignment_0.2"])
        lines.append(f"{row['model']:<20} risk {row['initial_risk']:.4f} → {row['final_risk']:.2e}"
                     f" at t = {row['t_end']:g}; max_j |M_jr| passes 0.2 at t = {times} "
                     f"({row['wall_time_s']:.2f} s)")
    lines += ["", f"Hermite expansions (order {config.order}) and "
             "information exponents", "",
             f"{'activation':<34} {'k*':>3} {'a1':>9} {'a2':>9} {'a3':>9} {'a4':>9} "
             f"{'‖f−f_L‖/‖f‖':>12}"]
    for row in table:
        a = row["normalized_coefficients"]
        lines.append(f"{row['activation']:<34} {row['information_exponent']:>3} "
                     + " ".join(f"{v:>9.5f}" for v in a[1:5])
                     + f" {row['relative_truncation_error']:>12.2e}")
    lines += ["", "a_n = √n! c_n are the orthonormal Hermite coefficients; erf means erf(x/√2).",
              "", f"Exact Gaussian expectations over Ω = [[Q, M], [Mᵀ, P]] (p={config.p}, "
              f"k={config.k}), checked by cubature at a random valid Ω:", ""]
    for row in expectations:
        lines += [row["label"], f"  = {row['sympy']}",
                  f"  at the random Ω: exact {row['exact_value']:.12g}, cubature "
                  f"{row['cubature_value']:.12g}, relative gap {row['relative_gap']:.1e}", ""]
    report = "\n".join(lines)
    print(report)
    atomic_write_text(out / "report.txt", report + "\n")
    tex = "\n".join(f"% {row['label']}\n\\begin{{equation}}\n{row['latex']}\n\\end{{equation}}"
                    for row in expectations)
    atomic_write_text(out / "expectations.tex", tex + "\n")
    payload = {
        "config": config.__dict__,
        "versions": {"overlapdyn": __version__, "python": platform.python_version(),
                     "sympy": sympy.__version__, "numpy": np.__version__},
        "learning_curves": curves,
        "activations": table,
        "expectations": expectations,
    }
    atomic_write_text(out / "demo.json", json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out}/: report.txt, expectations.tex, demo.json, *.npz, *.png")
    return payload

