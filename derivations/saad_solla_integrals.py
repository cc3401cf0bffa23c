r"""Saad–Solla integrals I2, I3, I4 (and J2) for Hermite activations, derived exactly.

What the integrals are
----------------------
In the overlap ODEs of a two-layer network (Saad & Solla 1995; Goldt et al. 2019,
arXiv:1906.08632) every drift term is a Gaussian expectation of products of the activation
``g`` and its derivative ``g'``, evaluated at jointly Gaussian pre-activations. With the
arguments ``(a, b, c, d)`` zero-mean Gaussian with covariance ``C`` *in the order written*
(entries ``C_11, C_12, …``, ``C_ij = C_ji``):

    I2(a, b)       = E[g(a) g(b)]
    I3(a, b, c)    = E[g'(a) · b · g(c)]          (b enters linearly, without activation)
    I4(a, b, c, d) = E[g'(a) g'(b) g(c) g(d)]
    J2(a, b)       = E[g'(a) g'(b)]

Their role in the ODE (docs/conventions.md, MSE loss, committee target
``y = c_k Σ_r b_r g(z_r) + √Δ ξ``, student ``ŷ = c_p Σ_j a_j g(λ_j)``,
``G_j = c_p a_j e g'(λ_j)``, ``e = y − ŷ``):

* the first-order ("gradient") drifts ``η E[G_j z_r]`` of ``dM/dt`` and ``η E[G_j λ_l]`` of
  ``dQ/dt`` are sums of I3 terms, e.g.
  ``E[G_j z_r] = c_p a_j (c_k Σ_s b_s I3(λ_j, z_r, z_s) − c_p Σ_l a_l I3(λ_j, z_r, λ_l))``;
* the second-order ("variance") term ``(η²/n_b) E[G_j G_l]`` of ``dQ/dt`` is a sum of I4
  terms, plus ``Δ · c_p² a_j a_l J2(λ_j, λ_l)`` from the label noise;
* the readout drift ``da_j/dt = η_a c_p E[e g(λ_j)]`` and the population risk
  ``R = ½ E[e²]`` are sums of I2 terms.

The covariance of each integral is the matching block of ``Ω = [[Q, M], [Mᵀ, P]]``; e.g.
``I3(λ_j, z_r, λ_l)`` uses ``C_11 = Q_jj``, ``C_12 = M_jr``, ``C_13 = Q_jl``, ``C_22 = P_rr``, ….
For ``g = erf(·/√2)`` the integrals have the classical arcsine forms (Saad & Solla 1995); for a
polynomial ``g`` they are polynomials in the ``C_ij``, which this script derives with
:func:`overlapdyn.expectation`.

Conventions
-----------
``g = He_n`` is the probabilists' Hermite polynomial (``He_2 = x² − 1``, ``He_3 = x³ − 3x``,
``E[He_m He_n] = n! δ_mn`` under N(0, 1)) and ``g' = He_n' = n He_{n−1}``. The integrals are
over the generic symbolic covariance ``GaussianFields.generic(names, symbol="C")``; the
fields are named ``a, b, c, d``. Unit variances are *not* assumed. Any other polynomial
activation known to :func:`overlapdyn.activation` (``square``, ``linear``, ``He5`` …) can be
passed with ``--activations``.

Checks
------
Every result is evaluated at a random positive-definite covariance (seeded:
``A = rng.normal(size=(4, 4)); C = A Aᵀ/4 + 0.1 I``, the leading block for fewer fields) and
compared with the cubature of :func:`overlapdyn.numeric_expectation`; the script exits with
status 1 if a relative error exceeds 1e-9. For ``He_n`` it also checks
``I2 = n! ρⁿ`` at ``C_11 = C_22 = 1, C_12 = ρ`` and ``He_n' = n He_{n−1}``.

Usage
-----
::

    python derivations/saad_solla_integrals.py                      # He2, He3, He4
    python derivations/saad_solla_integrals.py --activations He2 He3 --seed 3
    python derivations/saad_solla_integrals.py --latex-only --out integrals.tex

Reusing it (``derivations/`` is not a package), e.g. from a test::

    import runpy
    ns = runpy.run_path("derivations/saad_solla_integrals.py")  # does not run main()
    integrals = ns["derive_integrals"]("He3")          # {"I2": expr, "I3": …, "I4": …, "J2": …}
    rows = ns["check_integrals"]("He3", integrals, seed=0)  # [(name, exact, numeric, rel_err)]
    assert ns["main"](["--activations", "He2"]) == 0

(``importlib.util.spec_from_file_location`` + ``exec_module`` works as well.)
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import sympy

import overlapdyn
from overlapdyn import GaussianFields, activation, expectation, numeric_expectation
from overlapdyn.model import X

DEFAULT_ACTIVATIONS = ("He2", "He3", "He4")
TOLERANCE = 1e-9
FIELD_NAMES = ("a", "b", "c", "d")


class IntegralSpec(NamedTuple):
    """One Saad–Solla-type integral: its fields and its factors in terms of (g, g')."""

    name: str
    fields: tuple[str, ...]
    description: str  # plain text, e.g. "E[g'(a) b g(c)]"
    latex: str  # the left-hand side in LaTeX, with {g} as a placeholder for the activation
    factors: Callable[[sympy.Expr, sympy.Expr, tuple[sympy.Symbol, ...]], list[sympy.Expr]]


def _at(expr: sympy.Expr, field: sympy.Symbol) -> sympy.Expr:
    """The activation expression (written in ``overlapdyn.model.X``) evaluated at a field."""
    return expr.xreplace({X: field})


INTEGRALS: tuple[IntegralSpec, ...] = (
    IntegralSpec(
        "I2",
        FIELD_NAMES[:2],
        "E[g(a) g(b)]",
        r"I_2^{{{g}}}(a,b)",
        lambda g, dg, f: [_at(g, f[0]), _at(g, f[1])],
    ),
    IntegralSpec(
        "I3",
        FIELD_NAMES[:3],
        "E[g'(a) b g(c)]",
        r"I_3^{{{g}}}(a,b,c)",
        lambda g, dg, f: [_at(dg, f[0]), f[1], _at(g, f[2])],
    ),
    IntegralSpec(
        "I4",
        FIELD_NAMES[:4],
        "E[g'(a) g'(b) g(c) g(d)]",
        r"I_4^{{{g}}}(a,b,c,d)",
        lambda g, dg, f: [_at(dg, f[0]), _at(dg, f[1]), _at(g, f[2]), _at(g, f[3])],
    ),
    IntegralSpec(
        "J2",
        FIELD_NAMES[:2],
        "E[g'(a) g'(b)]",
        r"J_2^{{{g}}}(a,b)",
        lambda g, dg, f: [_at(dg, f[0]), _at(dg, f[1])],
    ),
)
SPECS = {spec.name: spec for spec in INTEGRALS}


def _polynomial_activation(name: str) -> tuple[str, sympy.Expr, sympy.Expr]:
    """``(display name, g, g')`` for a polynomial activation, both written in ``X``."""
    act = overlapdyn.activation(name)
    if not act.is_polynomial:
        raise overlapdyn.errors.NotPolynomialError(
            f"{act.name} is not a polynomial; the exact Saad–Solla integrals of this script "
            "need a polynomial activation (He<n>, square, linear, …)"
        )
    return act.name, act.expr, sympy.expand(sympy.diff(act.expr, X))


def _hermite_degree(name: str) -> int | None:
    """``n`` if the activation is ``He_n``, else ``None``."""
    display = activation(name).name
    return int(display[2:]) if display.startswith("He") and display[2:].isdigit() else None


def fields_for(spec: IntegralSpec) -> GaussianFields:
    """The generic symbolic fields ``a, b, …`` with covariance entries ``C_11, C_12, …``."""
    return GaussianFields.generic(spec.fields, symbol="C")


def integrand_factors(activation_name: str, integral: str) -> list[sympy.Expr]:
    """The factors of the integrand of ``integral`` ("I2", "I3", "I4", "J2") for an activation."""
    _, g, dg = _polynomial_activation(activation_name)
    spec = SPECS[integral]
    return spec.factors(g, dg, fields_for(spec).symbols)


def derive_integrals(activation_name: str) -> dict[str, sympy.Expr]:
    """Exact I2, I3, I4 and J2 of a polynomial activation as polynomials in the ``C_ij``.

    Returns:
        ``{"I2": …, "I3": …, "I4": …, "J2": …}``, each an expanded SymPy expression in the
        entries of :func:`fields_for` of that integral.
    """
    return {
        spec.name: expectation(integrand_factors(activation_name, spec.name), fields_for(spec))
        for spec in INTEGRALS
    }


def random_covariance(size: int, seed: int) -> np.ndarray:
    """A random positive-definite ``size × size`` matrix ``A Aᵀ/size + 0.1 I`` (seeded)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(size, size))
    return a @ a.T / size + 0.1 * np.eye(size)


def _relative_error(exact: float, numeric: float) -> float:
    if exact == 0.0:
        return abs(numeric)
    return abs(exact - numeric) / abs(exact)


def check_integrals(
    activation_name: str,
    integrals: dict[str, sympy.Expr] | None = None,
    *,
    seed: int = 0,
    covariance: np.ndarray | None = None,
) -> list[tuple[str, float, float, float]]:
    """Compare exact integrals with the cubature of ``numeric_expectation``.

    Args:
        activation_name: the activation the integrals belong to.
        integrals: the output of :func:`derive_integrals` (derived here when omitted).
        seed: seed of :func:`random_covariance` (4×4; each integral uses its leading block).
        covariance: a 4×4 covariance to use instead of the random one.

    Returns:
        ``[(name, exact, numeric, relative error), …]`` in the order I2, I3, I4, J2.
    """
    if integrals is None:
        integrals = derive_integrals(activation_name)
    full = random_covariance(len(FIELD_NAMES), seed) if covariance is None else covariance
    rows = []
    for name, expr in integrals.items():
        spec = SPECS[name]
        fields = fields_for(spec)
        size = len(spec.fields)
        block = np.asarray(full, dtype=float)[:size, :size]
        values = {
            fields.covariance[i, j]: float(block[i, j]) for i in range(size) for j in range(size)
        }
        exact = float(expr.xreplace(values))
        numeric = numeric_expectation(integrand_factors(activation_name, name), fields, block)
        rows.append((name, exact, numeric, _relative_error(exact, numeric)))
    return rows


def unit_variance_identity(
    activation_name: str, i2: sympy.Expr | None = None
) -> tuple[sympy.Expr, sympy.Expr] | None:
    """``(I2 at C_11 = C_22 = 1, C_12 = ρ, n! ρⁿ)`` for ``He_n``; ``None`` for other activations."""
    n = _hermite_degree(activation_name)
    if n is None:
        return None
    if i2 is None:
        i2 = derive_integrals(activation_name)["I2"]
    rho = sympy.Symbol("rho")
    c11, c12, c22 = (sympy.Symbol(s) for s in ("C_11", "C_12", "C_22"))
    reduced = sympy.expand(i2.xreplace({c11: 1, c22: 1, c12: rho}))
    return reduced, sympy.factorial(n) * rho**n


def derivative_identity_holds(activation_name: str) -> bool | None:
    """Whether ``He_n' = n He_{n−1}`` for the derivative used here (``None`` if not ``He_n``)."""
    n = _hermite_degree(activation_name)
    if n is None:
        return None
    _, _, dg = _polynomial_activation(activation_name)
    return sympy.expand(dg - n * overlapdyn.derive.He(max(n - 1, 0), X)) == 0


# --------------------------------------------------------------------------- output


def _latex_activation(name: str) -> str:
    n = _hermite_degree(name)
    return rf"\mathrm{{He}}_{{{n}}}" if n is not None else rf"\mathrm{{{name}}}"


def latex_lines(expr: sympy.Expr, width: int = 90) -> list[str]:
    """The LaTeX of an expanded sum, split between terms into lines of about ``width`` chars."""
    terms = sympy.Add.make_args(expr) if expr != 0 else (sympy.Integer(0),)
    ordered = sympy.Add(*terms, evaluate=False).as_ordered_terms() if len(terms) > 1 else terms
    lines: list[str] = []
    current = ""
    for term in ordered:
        text = sympy.latex(term)
        if current:
            piece = "- " + text[1:].lstrip() if text.startswith("-") else "+ " + text
            if len(current) + 1 + len(piece) > width:
                lines.append(current)
                current = piece
            else:
                current += " " + piece
        else:
            current = text
    lines.append(current)
    return lines


def latex_equation(activation_name: str, integral: str, expr: sympy.Expr) -> str:
    """One ``align*`` row (possibly several lines) ``I_k^{g}(…) &= …``."""
    lhs = SPECS[integral].latex.format(g=_latex_activation(activation_name))
    lines = latex_lines(expr)
    body = lhs + " &= " + lines[0]
    for line in lines[1:]:
        body += " \\\\\n  &\\quad " + line
    return body


def tex_fragment(results: dict[str, dict[str, sympy.Expr]]) -> str:
    """An ``align*`` document fragment with every derived integral (needs amsmath)."""
    out = [
        "% Saad–Solla-type integrals for polynomial activations, derived by overlapdyn "
        f"{overlapdyn.__version__}",
        "% (derivations/saad_solla_integrals.py). Arguments zero-mean Gaussian with covariance",
        "% C in the order written; He_n probabilists' Hermite, He_n' = n He_{n-1}.",
        "% I2 = E[g(a)g(b)], I3 = E[g'(a) b g(c)], I4 = E[g'(a)g'(b)g(c)g(d)], J2 = E[g'(a)g'(b)].",
    ]
    for name, integrals in results.items():
        out.append(f"% ---- g = {name}")
        out.append("\\begin{align*}")
        rows = [latex_equation(name, key, expr) for key, expr in integrals.items()]
        out.append(" \\\\\n".join(rows))
        out.append("\\end{align*}")
    return "\n".join(out) + "\n"


def _wrapped(text: str, indent: str = "    ", width: int = 100) -> str:
    return textwrap.fill(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _n_terms(expr: sympy.Expr) -> int:
    return len(sympy.Add.make_args(expr)) if expr != 0 else 0


def _print_derivation(name: str, integrals: dict[str, sympy.Expr], latex_only: bool) -> None:
    if latex_only:  # printed all at once by main(), as the same fragment as --out
        return
    _, g, dg = _polynomial_activation(name)
    title = f" g = {name}(x) = {sympy.sstr(g)},   g'(x) = {sympy.sstr(dg)}"
    print("=" * 100)
    print(title)
    print("=" * 100)
    for key, expr in integrals.items():
        spec = SPECS[key]
        print(
            f"\n--- {key}({', '.join(spec.fields)}) = {spec.description}   [{_n_terms(expr)} terms]"
        )
        print("  SymPy:")
        print(_wrapped(sympy.sstr(expr)))
        print("  LaTeX:")
        print(_wrapped(sympy.latex(expr)))


def _print_checks(
    name: str,
    rows: Sequence[tuple[str, float, float, float]],
    identity: tuple[sympy.Expr, sympy.Expr] | None,
    derivative_ok: bool | None,
    seed: int,
) -> None:
    print(
        f"\n--- numeric check of {name} against numeric_expectation "
        f"(seed {seed}, tolerance {TOLERANCE:g})"
    )
    print(f"    {'integral':<9}{'exact':>24}{'cubature':>24}{'rel. error':>12}  status")
    for key, exact, numeric, error in rows:
        status = "ok" if error <= TOLERANCE else "FAIL"
        print(f"    {key:<9}{exact:>24.16g}{numeric:>24.16g}{error:>12.2e}  {status}")
    n = _hermite_degree(name)
    if derivative_ok is not None and n:
        print(f"    He_{n}' = {n} He_{n - 1}: {'ok' if derivative_ok else 'FAIL'}")
    if identity is not None:
        reduced, expected = identity
        status = "ok" if sympy.expand(reduced - expected) == 0 else "FAIL"
        print(
            f"    I2 at C_11 = C_22 = 1, C_12 = rho: {sympy.sstr(reduced)}   "
            f"(expected n! rho^n = {sympy.sstr(expected)})  {status}"
        )


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Derive the Saad–Solla integrals I2, I3, I4 (and J2) of polynomial "
        "activations over a generic covariance C and check them numerically."
    )
    parser.add_argument(
        "--activations",
        nargs="+",
        default=list(DEFAULT_ACTIVATIONS),
        metavar="NAME",
        help="polynomial activations (default: He2 He3 He4; any He<n>, square, linear)",
    )
    parser.add_argument(
        "--latex-only",
        action="store_true",
        help="print only the LaTeX equations (checks still run; failures go "
        "to stderr and set the exit status)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the random covariance of the numeric check (default 0)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="also write every equation to FILE as an align* LaTeX fragment",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the derivation and the checks; return 0 if every check passes, else 1."""
    args = _parse_args(argv)
    try:
        names = [_polynomial_activation(a)[0] for a in args.activations]
    except overlapdyn.OverlapdynError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.latex_only:
        print(
            f"overlapdyn {overlapdyn.__version__}, SymPy {sympy.__version__}: "
            "Saad–Solla integrals over a generic covariance C (entries C_ij, in the order "
            "of the arguments)"
        )
        print(
            "I2(a,b) = E[g(a)g(b)]   I3(a,b,c) = E[g'(a) b g(c)]   "
            "I4(a,b,c,d) = E[g'(a)g'(b)g(c)g(d)]   J2(a,b) = E[g'(a)g'(b)]\n"
        )
    results: dict[str, dict[str, sympy.Expr]] = {}
    failures: list[str] = []
    for name in names:
        integrals = derive_integrals(name)
        results[name] = integrals
        _print_derivation(name, integrals, args.latex_only)
        rows = check_integrals(name, integrals, seed=args.seed)
        identity = unit_variance_identity(name, integrals["I2"])
        derivative_ok = derivative_identity_holds(name)
        failures += [
            f"{name} {key}: exact {exact!r}, cubature {numeric!r}, relative error "
            f"{error:.2e} > {TOLERANCE:g}"
            for key, exact, numeric, error in rows
            if not error <= TOLERANCE
        ]
        if identity is not None and sympy.expand(identity[0] - identity[1]) != 0:
            failures.append(f"{name} I2 at unit variances is {identity[0]}, not {identity[1]}")
        if derivative_ok is False:
            failures.append(f"{name}: the derivative is not n He_(n-1)")
        if not args.latex_only:
            _print_checks(name, rows, identity, derivative_ok, args.seed)
            print()
    if args.latex_only:
        print(tex_fragment(results), end="")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(tex_fragment(results))
        if not args.latex_only:
            print(f"wrote {args.out}")
    if failures:
        print("FAILED checks:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    if not args.latex_only:
        n_checks = sum(len(r) for r in results.values())
        print(f"all {n_checks} integrals agree with the cubature to {TOLERANCE:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
