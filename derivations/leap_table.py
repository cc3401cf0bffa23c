r"""Information exponents and leaps of the literature's reference targets, derived.

For each target ``g(z1..zk)`` (``z ~ N(0, I_k)``) the script expands g in multivariate
probabilists' Hermite polynomials, ``g = Σ_ν ĝ_ν Π_i He_{ν_i}(z_i)`` (exact for polynomials,
truncated at the stated total degree otherwise), finds the leap — the minimum over orderings
of the support of the largest number of new coordinates, counted with Hermite degree, that one
element adds (Abbe, Boix-Adserà & Misiakiewicz 2023; SPEC "Scaling quantities") — with the
ordering that achieves it, and the predicted one-pass SGD sample complexity
``n ≍ d^max(ℓ−1, 1)`` (``d log d`` at ℓ = 2). Each row is compared with the value the
literature gives (``overlapdyn.scaling.leaps.LITERATURE_TARGETS``). ``--latex`` prints the table as
LaTeX.

Run:  python derivations/leap_table.py [--latex]
"""

from __future__ import annotations

import argparse

import sympy

import overlapdyn as od
from overlapdyn.scaling.leaps import LITERATURE_TARGETS


def table_rows() -> list[dict]:
    """One row per reference target: formula, leap, literature value, ordering, prediction."""
    rows = []
    for formula, k, order, value, source in LITERATURE_TARGETS:
        prediction = od.predict_scaling(formula, k, order=order or 8)
        result = prediction.leap
        rows.append({
            "target": formula, "k": k, "leap": result.value, "literature": value,
            "agrees": result.value == value, "source": source,
            "ordering": " → ".join(f"He{nu}" for nu in result.ordering),
            "learned": result.learned_as,
            "samples": f"d^{prediction.sample_exponent}" + (" log d" if
                                                             prediction.log_factor else ""),
            "exact": result.exact,
        })
    return rows


def latex(rows: list[dict]) -> str:
    lines = [r"\begin{tabular}{llccl}", r"\hline",
             r"target $g(z)$ & support order & $\ell$ & literature & $n \asymp$ \\", r"\hline"]
    for row in rows:
        target = sympy.latex(sympy.sympify(row["target"].replace("He", "He_"),
                                           locals={f"He_{n}": sympy.Function(f"He_{n}")
                                                   for n in range(1, 9)}))
        samples = row["samples"].replace("log", r"\log")
        lines.append(f"${target}$ & {row['learned']} & {row['leap']} & {row['literature']} & "
                     f"${samples}$ \\\\")
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latex", action="store_true", help="print the table as LaTeX")
    args = parser.parse_args()
    rows = table_rows()
    if args.latex:
        print(latex(rows))
        return
    print(f"{'target':<24} {'ℓ':>2} {'lit.':>4}  {'n ≍':<10} ordering of the Hermite support")
    for row in rows:
        flag = "" if row["agrees"] else "   ← DISAGREES"
        print(f"{row['target']:<24} {row['leap']:>2} {row['literature']:>4}  "
              f"{row['samples']:<10} {row['ordering']}{flag}")
    print(f"\n{sum(row['agrees'] for row in rows)}/{len(rows)} agree with the literature")


if __name__ == "__main__":
    main()
