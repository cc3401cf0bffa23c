"""Benchmarks of overlapdyn's Gaussian-expectation engines (exact and numeric).

Prints plain-text tables of

1. exact expectations of degree 12 over four fields (``GaussianFields.generic``): cold (after
   ``overlapdyn.derive.clear_caches()`` *and* SymPy's own ``clear_cache()``) and cached (the same
   call again), medians over repeats, with the number of terms of the result;
2. the same at degree 16 over six fields, with ``as_poly=True`` (sparse ``PolyElement``) and
   with the SymPy expression;
3. throughput (expectations per second) of ``numeric_expectation`` at fresh random
   positive-definite covariances, for a degree-8 polynomial over four fields and for the
   non-polynomial ``tanh(x1)*tanh(x2)*x3`` over three fields, with the integrand given as a
   string, as a pre-built SymPy expression and as a NumPy callable;
4. a reference pure-Python Wick (Isserlis) pairing sum — all (2m−1)!! pairings, accumulated
   into a dict of distinct terms — against the library's multigraph enumeration
   (``overlapdyn.derive.moment``) and the full ``expectation`` pipeline on the same monomial.

Run with ``make bench`` or ``python benchmarks/bench_gaussian.py`` (``--quick`` for fewer
repeats, ``--repeats N`` to change them). A full run takes well under two minutes.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import scipy
import sympy
from _tables import print_machine, print_table

import overlapdyn
from overlapdyn import GaussianFields, expectation, numeric_expectation
from overlapdyn.derive import clear_caches, moment

# --------------------------------------------------------------------------- helpers


def _clear_all() -> None:
    """Forget overlapdyn's caches and SymPy's global expression cache (a cold start)."""
    clear_caches()
    sympy.core.cache.clear_cache()


def median_time(
    function: Callable[[], object], repeats: int, setup: Callable[[], None] | None = None
) -> tuple[float, object]:
    """Median wall time of ``function()`` over ``repeats`` runs (``setup()`` untimed)."""
    times, result = [], None
    for _ in range(max(repeats, 1)):
        if setup is not None:
            setup()
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def n_terms(result: object) -> int:
    """Number of terms of an expectation (``PolyElement`` or SymPy expression)."""
    if isinstance(result, sympy.Basic):
        return len(sympy.Add.make_args(result)) if result != 0 else 0
    return len(result)  # PolyElement: a dict of terms




def ms(seconds: float) -> str:
    return f"{1e3 * seconds:.2f}"




def print_header() -> None:
    from sympy.external.gmpy import GROUND_TYPES

    print_machine("overlapdyn Gaussian-expectation benchmarks")
    print(
        f"versions: overlapdyn {overlapdyn.__version__}, sympy {sympy.__version__} "
        f"(ground types: {GROUND_TYPES}), numpy {np.__version__}, scipy {scipy.__version__}"
    )
    print("times are medians of time.perf_counter() over the repeats shown")


# --------------------------------------------------------------------------- 1 & 2: exact


def bench_exact(
    title: str,
    cases: Sequence[tuple[str, str, int, bool, int]],
    fields: GaussianFields,
    warm_repeats: int,
) -> None:
    """Rows ``(label, integrand, degree, as_poly, cold repeats)``: cold vs cached times."""
    rows = []
    for label, integrand, degree, as_poly, cold_repeats in cases:

        def run(integrand=integrand, as_poly=as_poly):
            return expectation(integrand, fields, as_poly=as_poly)

        cold, result = median_time(run, cold_repeats, setup=_clear_all)
        warm, _ = median_time(run, warm_repeats)
        rows.append(
            [
                label,
                str(len(fields.names)),
                str(degree),
                "PolyElement" if as_poly else "Expr",
                str(n_terms(result)),
                f"{ms(cold)} (n={cold_repeats})",
                f"{ms(warm)} (n={warm_repeats})",
                f"{cold / warm:.0f}x",
            ]
        )
    headers = [
        "integrand E[...]",
        "fields",
        "deg",
        "result",
        "terms",
        "cold [ms]",
        "cached [ms]",
        "cold/cached",
    ]
    print_table(title, headers, rows)


# --------------------------------------------------------------------------- 3: numeric


def random_pd(size: int, rng: np.random.Generator) -> np.ndarray:
    a = rng.normal(size=(size, size))
    return a @ a.T / size + 0.1 * np.eye(size)


def bench_numeric(repeats: int, quick: bool) -> None:
    rng = np.random.default_rng(0)
    names4 = ("x1", "x2", "x3", "x4")
    names3 = ("x1", "x2", "x3")
    poly_text = "He2(x1)*He2(x2)*(x3 + x4)**2*x3*x4"  # total degree 8
    x1, x2, x3, x4 = sympy.symbols("x1 x2 x3 x4")
    poly_expr = (x1**2 - 1) * (x2**2 - 1) * (x3 + x4) ** 2 * x3 * x4  # as the string parses
    poly_callable = sympy.lambdify((x1, x2, x3, x4), poly_expr, "numpy")
    tanh_text = "tanh(x1)*tanh(x2)*x3"
    tanh_expr = sympy.tanh(x1) * sympy.tanh(x2) * x3

    def tanh_callable(a, b, c):
        return np.tanh(a) * np.tanh(b) * c

    n_poly, n_tanh = (20, 5) if quick else (50, 10)
    cases = [
        ("deg-8 poly, string", poly_text, names4, n_poly, None),
        ("deg-8 poly, SymPy expr", poly_expr, names4, n_poly, None),
        ("deg-8 poly, callable, 5 nodes", poly_callable, names4, n_poly, 5),
        ("tanh*tanh*x3, string (default nodes)", tanh_text, names3, n_tanh, None),
        ("tanh*tanh*x3, SymPy expr (default nodes)", tanh_expr, names3, n_tanh, None),
        ("tanh*tanh*x3, callable (default nodes)", tanh_callable, names3, n_tanh, None),
        ("tanh*tanh*x3, string, 20 nodes", tanh_text, names3, 4 * n_tanh, 20),
    ]
    rows = []
    for label, integrand, names, calls, n_nodes in cases:
        covariances = [random_pd(len(names), rng) for _ in range(calls)]
        # one untimed call: lambdify / grid caches are per process, not per covariance
        numeric_expectation(integrand, names, covariances[0], n_nodes=n_nodes)

        def batch(integrand=integrand, names=names, covs=covariances, n_nodes=n_nodes):
            for cov in covs:
                numeric_expectation(integrand, names, cov, n_nodes=n_nodes)

        elapsed, _ = median_time(batch, repeats)
        # the library's defaults: degree // 2 + 1 for a polynomial (exact), otherwise the
        # largest grid of at most 10^6 points with at most 64 nodes per axis
        nodes = n_nodes or (5 if names is names4 else min(64, round(1_000_000 ** (1 / 3))))
        rows.append(
            [
                label,
                str(len(names)),
                f"{nodes}^{len(names)} = {nodes ** len(names)}",
                f"{calls / elapsed:,.0f}",
                f"{1e6 * elapsed / calls:,.0f}",
            ]
        )
    headers = ["integrand", "fields", "grid points", "expectations/s", "us/call"]
    print_table(
        f"3. numeric_expectation throughput at random PD covariances (median of {repeats} "
        "batches; steady state, after a first untimed call)",
        headers,
        rows,
    )


# --------------------------------------------------------------------------- 4: Wick


def wick_moment(alpha: tuple[int, ...]) -> dict[tuple[int, ...], int]:
    """E[φ^α] by summing all (2m−1)!! Wick pairings, in the layout of ``overlapdyn.derive.moment``.

    Keys are exponent tuples of the upper-triangle covariance entries C_11, C_12, …, C_FF
    (row-major); values are the number of pairings giving that term.
    """
    n_fields = len(alpha)
    index = [[0] * n_fields for _ in range(n_fields)]
    for position, (i, j) in enumerate(itertools.combinations_with_replacement(range(n_fields), 2)):
        index[i][j] = index[j][i] = position
    exponents = [0] * (n_fields * (n_fields + 1) // 2)
    counts: dict[tuple[int, ...], int] = {}

    def pair_up(rest: tuple[int, ...]) -> None:
        if not rest:
            key = tuple(exponents)
            counts[key] = counts.get(key, 0) + 1
            return
        first = rest[0]
        for k in range(1, len(rest)):
            slot = index[first][rest[k]]
            exponents[slot] += 1
            pair_up(rest[1:k] + rest[k + 1 :])
            exponents[slot] -= 1

    items = tuple(i for i, a in enumerate(alpha) for _ in range(a))
    if len(items) % 2 == 0:
        pair_up(items)
    return counts


def bench_wick(repeats: int) -> None:
    fields = GaussianFields.generic(["x1", "x2", "x3", "x4"])
    monomials = [(2, 2, 2, 2), (3, 3, 2, 2), (3, 3, 3, 3), (4, 4, 3, 3)]
    rows = []
    for alpha in monomials:
        degree = sum(alpha)
        pairings = math.prod(range(degree - 1, 0, -2))
        wick_repeats = max(1, min(repeats, 2_000_000 // (pairings * 10) or 1))
        wick_time, wick = median_time(lambda alpha=alpha: wick_moment(alpha), wick_repeats)
        moment_time, terms = median_time(
            lambda alpha=alpha: moment(alpha), repeats, setup=moment.cache_clear
        )
        if sorted(wick.items()) != sorted(terms):
            raise AssertionError(f"Wick sum and overlapdyn.derive.moment disagree on {alpha}")
        text = "*".join(f"x{i + 1}**{a}" for i, a in enumerate(alpha))
        full_time, _ = median_time(
            lambda text=text: expectation(text, fields), repeats, setup=_clear_all
        )
        rows.append(
            [
                "x1^{} x2^{} x3^{} x4^{}".format(*alpha),
                str(degree),
                f"{pairings:,}",
                str(len(terms)),
                f"{ms(wick_time)} (n={wick_repeats})",
                ms(moment_time),
                ms(full_time),
                f"{wick_time / moment_time:.0f}x",
            ]
        )
    headers = [
        "monomial",
        "deg",
        "pairings",
        "distinct terms",
        "Wick sum [ms]",
        "moment() cold [ms]",
        "expectation() cold [ms]",
        "Wick/moment",
    ]
    print_table(
        f"4. pure-Python Wick pairing sum vs the multigraph moment (results identical; "
        f"median of {repeats})",
        headers,
        rows,
    )


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeats", type=int, default=7, help="repeats of the fast measurements (default 7)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats and skip the slowest (≈10⁵-term) case"
    )
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    cold_few = 1 if args.quick else 3
    start = time.perf_counter()
    print_header()

    # warm up imports and SymPy internals that are not part of what is measured
    expectation("He2(x1)*x2**2", GaussianFields.generic(["x1", "x2"]))

    four = GaussianFields.generic(["x1", "x2", "x3", "x4"])
    bench_exact(
        "1. exact expectation, 4 fields, degree 12 (generic covariance C_ij)",
        [
            (
                "He3(x1) He3(x2) He3(x3) He3(x4)",
                "He3(x1)*He3(x2)*He3(x3)*He3(x4)",
                12,
                False,
                repeats,
            ),
            (
                "(x1 + x1 x2 + x1 x2 x3)^2 He3(x4) x4^3",
                "(x1 + x1*x2 + x1*x2*x3)**2*He3(x4)*x4**3",
                12,
                False,
                repeats,
            ),
            (
                "He2(x1) He2(x2) (x1+x2+x3+x4)^8",
                "He2(x1)*He2(x2)*(x1 + x2 + x3 + x4)**8",
                12,
                False,
                cold_few,
            ),
            ("(x1 + x2 + x3 + x4)^12", "(x1 + x2 + x3 + x4)**12", 12, False, cold_few),
        ],
        four,
        warm_repeats=3 * repeats,
    )

    six = GaussianFields.generic(["x1", "x2", "x3", "x4", "x5", "x6"])
    sparse = "He3(x1)*He3(x2)*He3(x3)*He3(x4)*He2(x5)*He2(x6)"
    medium = "(x1 + x2 + x3)**4*He2(x1)*He1(x2)*He3(x4)*He3(x5)*He3(x6)"
    dense = "(x1 + x2 + x3 + x4 + x5 + x6)**2*He3(x1)*He3(x2)*He2(x3)*He2(x4)*He2(x5)*He2(x6)"
    cases16 = [
        ("He3(x1..x4) He2(x5) He2(x6)", sparse, 16, True, repeats),
        ("He3(x1..x4) He2(x5) He2(x6)", sparse, 16, False, max(cold_few, 3)),
        ("(x1+x2+x3)^4 He2(x1) He1(x2) He3(x4..x6)", medium, 16, True, cold_few),
        ("(x1+x2+x3)^4 He2(x1) He1(x2) He3(x4..x6)", medium, 16, False, cold_few),
    ]
    if not args.quick:
        cases16 += [
            ("(x1+...+x6)^2 He3(x1) He3(x2) He2(x3..x6)", dense, 16, True, 1),
            ("(x1+...+x6)^2 He3(x1) He3(x2) He2(x3..x6)", dense, 16, False, 1),
        ]
    bench_exact(
        "2. exact expectation, 6 fields, degree 16: sparse PolyElement (as_poly=True) vs "
        "SymPy Expr",
        cases16,
        six,
        warm_repeats=repeats,
    )

    bench_numeric(repeats, args.quick)
    bench_wick(repeats)
    print(f"\ntotal benchmark time: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
