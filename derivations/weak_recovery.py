r"""Where W* becomes recoverable at finite d for a SIGHT target, derived.

One latent field z ~ N(0, 1) enters ``h* = δ P(z) + R`` with ``δ = a*/√d₁`` and the rest
``R ~ N(0, σ²)`` (the other d₁ − 1 fields, σ² = Var P). Bayes' formula to first order in δ,

    p(h | z)/p(h) = 1 + δ P(z) h/σ² + O(δ²),

gives ``E[He₂(z) | h*] = δ h* E[He₂ P]/σ² + O(δ²)`` (E[P] = 0). SymPy evaluates E[He₂ P]
for ``P = Σ c_n He_n`` (= 2c₂), so with ĥ = h*/σ

    E_y[(E[He₂(z) | y])²] = λ/d₁,      λ = (4 c₂²/σ²) E_y[E[ĥ | y]²],

and the optimal spectral threshold 1/α_c = λ/d₁ (Mondelli & Montanari 2018; Defilippis et al.
2025 for several indices) puts weak recovery of W* at ``n* = d d₁/λ``, ``κ* = log n*/log d``.
The script prints the derivation (text and LaTeX) and κ* for the named inner polynomials and
a range of d (g* = tanh(3·), noiseless), next to the asymptotic 1 + ε.

Run:  python derivations/weak_recovery.py [--eps 0.5] [--outer 'tanh(3*x)']
"""

from __future__ import annotations

import argparse

import sympy

import overlapdyn as od

Z, H, DELTA, SIGMA = sympy.symbols("z h delta sigma", real=True)


def gaussian_mean(expr: sympy.Expr) -> sympy.Expr:
    """E[expr] for z ~ N(0, 1) (expr polynomial in z)."""
    density = sympy.exp(-Z ** 2 / 2) / sympy.sqrt(2 * sympy.pi)
    return sympy.simplify(sympy.integrate(sympy.expand(expr) * density, (Z, -sympy.oo, sympy.oo)))


def derive(degree: int = 3) -> dict[str, sympy.Expr]:
    """The leading-order conditional mean E[He₂(z) | h] for P = Σ_{n=1..degree} c_n He_n."""
    c = sympy.symbols(f"c1:{degree + 1}", real=True)
    P = sum(cn * sympy.hermite_prob(n, Z) for n, cn in enumerate(c, 1))
    he2 = sympy.hermite_prob(2, Z)
    likelihood_ratio = 1 + DELTA * P * H / SIGMA ** 2          # p(h|z)/p(h) to O(δ)
    numerator = gaussian_mean(he2 * likelihood_ratio)
    normaliser = gaussian_mean(likelihood_ratio)                 # = 1: E[P] = 0
    conditional = sympy.simplify(sympy.series(numerator / normaliser, DELTA, 0, 2).removeO())
    variance = gaussian_mean(P ** 2)
    return {"P": P, "E[He2 P]": gaussian_mean(he2 * P), "Var P": variance,
            "E[He2|h]": conditional,
            "lambda": sympy.simplify(4 * c[1] ** 2 / variance) * sympy.Symbol("E[E[u|y]^2]")}


def table(eps: float, outer: str, ds=(64, 256, 1024, 4096, 2 ** 16)) -> list[tuple]:
    """κ* for each named inner polynomial and each d."""
    rows = []
    for inner, normalize in (("P3", True), ("P3-code", False), ("He2(x) + He3(x)/3", True),
                             ("He2(x)", True)):
        def target(d, inner=inner, normalize=normalize):
            return od.depth.HierarchicalTarget(d=d, levels=(eps,), inner=inner,
                                               normalize=normalize, outer=outer)

        kappas = [od.depth.weak_recovery(target(d)).kappa for d in ds]
        share = od.depth.weak_recovery(target(ds[0]))
        rows.append((inner, share.he2_weight / 2, share.signal, kappas))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eps", type=float, default=0.5, help="ε (d₁ = d^ε)")
    parser.add_argument("--outer", default="tanh(3*x)", help="g*")
    args = parser.parse_args(argv)
    result = derive()
    print(f"P = {result['P']}")
    print(f"E[He2 P] = {result['E[He2 P]']},  Var P = {result['Var P']}")
    print(f"E[He2(z) | h] = {result['E[He2|h]']} + O(delta^2)")
    print(f"lambda = d1 E_y[(E[He2(z)|y])^2] = {result['lambda']}")
    print("LaTeX: \\mathbb{E}[\\mathrm{He}_2(z)\\mid h] = "
          + sympy.latex(result["E[He2|h]"]) + " + O(\\delta^2)")
    ds = (64, 256, 1024, 4096, 2 ** 16)
    print(f"\nκ* = log(d·d^ε/λ)/log d for g* = {args.outer}, ε = {args.eps} "
          f"(asymptotic 1 + ε = {1 + args.eps:g})")
    print(f"{'inner P':<20} {'He2 share':>9} {'λ':>6}  " + "  ".join(f"d={d:<6}" for d in ds))
    for inner, share, signal, kappas in table(args.eps, args.outer, ds):
        print(f"{inner:<20} {share:>9.2f} {signal:>6.3f}  "
              + "  ".join(f"{k:<8.3f}" for k in kappas))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
