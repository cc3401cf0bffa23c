"""SymPy → Python source that Numba compiles: the kernels, and the shape-specialised code.

Each kernel becomes one function whose body is the common-subexpression-eliminated formula
(``sympy.cse``), printed with ``math`` calls only, so Numba compiles it to straight-line
machine code. The other printers write the code whose structure depends on a size: the
cubature kernel over n fields, the target's sums for a multi-index target of k directions.
Every function is decorated with one of the option dicts of the generated module's prelude
(``@njit(**KERNEL)``, ``@njit(**LOOP)``; :mod:`overlapdyn.compile.policy`).
"""

from __future__ import annotations

import sympy
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["cubature_kernel_source", "expression_source", "kernel_accumulator_source",
           "kernel_source", "target_accumulators_source", "target_wrappers_source"]


class _Printer(PythonCodePrinter):
    """Plain ``math``-module Python that Numba compiles (no NumPy, no mpmath)."""

    def _print_Float(self, expr: sympy.Float) -> str:
        return repr(float(expr))


def kernel_source(name: str, args: tuple[str, ...], expr: sympy.Expr) -> str:
    """Source of ``@njit(**KERNEL) def name(*args)`` returning ``expr`` (floats)."""
    printer = _Printer({"standard": "python3"})
    replacements, (reduced,) = sympy.cse(sympy.sympify(expr, strict=True), optimizations="basic")
    lines = ["@njit(**KERNEL)", f"def {name}({', '.join(args)}):"]
    for symbol, value in [*replacements, (sympy.Symbol("result"), reduced)]:
        lines += _assignment(str(symbol), value, printer)
    lines.append("    return float(result)")
    return "\n".join(lines) + "\n"


def kernel_accumulator_source(name: str, args: tuple[str, ...], expr: sympy.Expr) -> str:
    """Source of ``name_acc(*args, coef, out, *indices)``: adds ``coef · ∂expr/∂args[i]`` to
    ``out[indices[i]]`` for every argument whose index is ≥ 0 (−1 marks a constant).

    The partial derivatives are taken symbolically and printed with one common-subexpression
    elimination over all of them; a kernel of m arguments thus scatters its gradient into a
    state vector in one call (the drift's Jacobian, ``templates/drift_jacobian.py``).
    """
    printer = _Printer({"standard": "python3"})
    expr = sympy.sympify(expr, strict=True)
    symbols = {symbol.name: symbol for symbol in expr.free_symbols}
    partials = [sympy.diff(expr, symbols[arg]) if arg in symbols else sympy.S.Zero
                for arg in args]
    replacements, reduced = sympy.cse(partials, optimizations="basic")
    indices = [f"i_{arg}" for arg in args]
    lines = ["@njit(**KERNEL)",
             f"def {name}_acc({', '.join([*args, 'coef', 'out', *indices])}):"]
    for symbol, value in replacements:
        lines += _assignment(str(symbol), value, printer)
    for index, partial in zip(indices, reduced, strict=True):
        if partial != 0:
            lines.append(f"    if {index} >= 0:")
            lines += ["    " + line for line in _assignment("g", partial, printer)]
            lines.append(f"        out[{index}] += coef * g")
    if all(partial == 0 for partial in reduced):
        lines.append("    return")
    return "\n".join(lines) + "\n"


def target_accumulators_source(k: int) -> str:
    """Array-argument accumulators around the scalar multi-index kernels' ``*_k_acc``
    (the gradients of the wrappers printed for a multi-index target)."""
    def row(name: str) -> str:
        return ", ".join(f"{name}[{r}]" for r in range(k))

    def at(index: str) -> str:
        return ", ".join(f"{index} + {r}" for r in range(k))

    dispatch = "\n".join(f"    {'if' if r == 0 else 'elif'} r == {r}:\n"
                         f"        Tgz_{r + 1}_k_acc(q, {row('mj')}, coef, out, iq, {at('im')})"
                         for r in range(k))
    return f'''
@njit(**LOOP)
def Tg1_acc(q, mj, v, P, coef, out, iq, im):
    Tg1_k_acc(q, {row("mj")}, coef, out, iq, {at("im")})


@njit(**LOOP)
def Tgz_acc(r, q, mj, v, P, coef, out, iq, im):
{dispatch}


@njit(**LOOP)
def Tgl_acc(qjj, qjl, qll, mj, ml, v, P, coef, out, iqjj, iqjl, iqll, imj, iml):
    Tgl_k_acc(qjj, qjl, qll, {row("mj")}, {row("ml")}, coef, out, iqjj, iqjl, iqll,
              {at("imj")}, {at("iml")})


@njit(**LOOP)
def Tgg_acc(qjj, qjl, qll, mj, ml, v, P, coef, out, iqjj, iqjl, iqll, imj, iml):
    Tgg_k_acc(qjj, qjl, qll, {row("mj")}, {row("ml")}, coef, out, iqjj, iqjl, iqll,
              {at("imj")}, {at("iml")})


@njit(**LOOP)
def Tgs_acc(qjj, qjl, qjm, qll, qlm, qmm, mj, ml, mm, v, P, coef, out,
            iqjj, iqjl, iqjm, iqll, iqlm, iqmm, imj, iml, imm):
    Tgs_k_acc(qjj, qjl, qjm, qll, qlm, qmm, {row("mj")}, {row("ml")}, {row("mm")}, coef, out,
              iqjj, iqjl, iqjm, iqll, iqlm, iqmm, {at("imj")}, {at("iml")}, {at("imm")})
'''


def _assignment(target: str, value: sympy.Expr, printer: _Printer, chunk: int = 32) -> list[str]:
    """``target = value``; long sums are accumulated in chunks, because Python's compiler
    recurses once per ``+`` of a single expression and fails beyond a few thousand."""
    terms = sympy.Add.make_args(value)
    if len(terms) <= chunk:
        return [f"    {target} = {printer.doprint(value)}"]
    lines = [f"    {target} = 0.0"]
    for start in range(0, len(terms), chunk):
        lines.append(f"    {target} += {printer.doprint(sympy.Add(*terms[start:start + chunk]))}")
    return lines


def expression_source(name: str, arg: str, expr: sympy.Expr) -> str:
    """Source of ``@njit(**LOOP) def name(arg)`` returning ``float(expr)``, printed as it is
    (no cse; SymPy's own float printing), e.g. the simulator's target ``g(zv[0], …)``."""
    body = PythonCodePrinter({"standard": "python3"}).doprint(expr)
    return f"@njit(**LOOP)\ndef {name}({arg}):\n    return float({body})\n"


def cubature_kernel_source(name: str, functions: tuple[str, ...]) -> str:
    """Source of ``name(c_11, c_12, …)`` = ``E[Π_i f_i(x_i)]`` for x ~ N(0, C) by tensor
    Gauss–Hermite cubature over the eigen-factor of C (``functions[i]`` names ``f_i``); the
    rules ``XI{n}``, ``WEIGHTS{n}`` and ``_factor`` come from ``templates/cubature.py``."""
    n = len(functions)
    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    args = [f"c_{i + 1}{j + 1}" for i, j in pairs]
    lines = ["@njit(**LOOP)", f"def {name}({', '.join(args)}):",
             f"    C = np.empty(({n}, {n}))"]
    lines += [f"    C[{i}, {j}] = C[{j}, {i}] = c_{i + 1}{j + 1}" for i, j in pairs]
    lines += ["    A = _factor(C)", "    total = 0.0"]
    indent = "    "
    for level in range(n):
        lines.append(f"{indent}for i{level} in range(XI{n}.shape[0]):")
        indent += "    "
    weight = " * ".join(f"WEIGHTS{n}[i{level}]" for level in range(n))
    for i in range(n):
        point = " + ".join(f"A[{i}, {j}] * XI{n}[i{j}]" for j in range(n))
        lines.append(f"{indent}x{i} = {point}")
    values = " * ".join(f"{f}(x{i})" for i, f in enumerate(functions))
    lines.append(f"{indent}total += {weight} * {values}")
    lines.append("    return total")
    return "\n".join(lines) + "\n"


def target_wrappers_source(k: int) -> str:
    """The target's sums of ``templates/committee_target.py`` (same names and arguments) for
    a multi-index target of k directions: each unpacks the rows ``mj = M[j]`` (k,) into the
    scalar kernels ``Tg1_k(q, m_1, …, m_k)``, … printed from SymPy."""
    def row(name: str) -> str:
        return ", ".join(f"{name}[{r}]" for r in range(k))

    dispatch = "\n".join(f"    {'if' if r == 0 else 'elif'} r == {r}:\n"
                         f"        return Tgz_{r + 1}_k(q, {row('mj')})" for r in range(k))
    return f'''
@njit(**LOOP)
def Tg1(q, mj, v, P):
    return Tg1_k(q, {row("mj")})


@njit(**LOOP)
def Tgz(r, q, mj, v, P):
{dispatch}
    return 0.0


@njit(**LOOP)
def Tgl(qjj, qjl, qll, mj, ml, v, P):
    return Tgl_k(qjj, qjl, qll, {row("mj")}, {row("ml")})


@njit(**LOOP)
def Tgg(qjj, qjl, qll, mj, ml, v, P):
    return Tgg_k(qjj, qjl, qll, {row("mj")}, {row("ml")})


@njit(**LOOP)
def Tgs(qjj, qjl, qjm, qll, qlm, qmm, mj, ml, mm, v, P):
    return Tgs_k(qjj, qjl, qjm, qll, qlm, qmm, {row("mj")}, {row("ml")}, {row("mm")})


@njit(**LOOP)
def Eg2(v, P):
    return Eg2_k()
'''
