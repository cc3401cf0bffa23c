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

from ..model.formula import as_expression

__all__ = ["basis_kernel_source", "cubature_kernel_source", "expression_source",
           "kernel_accumulator_source", "kernel_source", "ranked_cubature_source",
           "ranked_target_wrappers_source", "target_accumulators_source",
           "target_wrappers_source"]


class _Printer(PythonCodePrinter):
    """Plain ``math``-module Python that Numba compiles (no NumPy, no mpmath)."""

    def _print_Float(self, expr: sympy.Float) -> str:
        return repr(float(expr))


def kernel_source(name: str, args: tuple[str, ...], expr: sympy.Expr) -> str:
    """Source of ``@njit(**KERNEL) def name(*args)`` returning ``expr`` (floats)."""
    printer = _Printer({"standard": "python3"})
    replacements, (reduced,) = sympy.cse(as_expression(expr), optimizations="basic")
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
    expr = as_expression(expr)
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


def basis_kernel_source(name: str, args: tuple[str, ...], function: str,
                        terms: tuple[tuple[float, tuple[int, ...]], ...]) -> str:
    """Source of ``name(*args)`` = ``Σ coefficient · function(*codes, *args)`` over
    ``terms``: a kinked activation's kernel as the sum of its basis terms
    (:func:`overlapdyn.derive.kinked.kinked_kernel_terms`; ``function`` is one of
    ``templates/kinked.py``), summed in the order of ``terms``.

    A single term is printed as a call with literal codes: Numba then compiles a copy of
    ``function`` specialised to them, which runs about 10 % faster (relu committee, p = 3).
    Several terms are read in a loop from module-level arrays instead: Numba compiles one
    copy per distinct combination of literal integers, so a relu–sign committee's 16
    four-field terms took 16 compilations of ``kinked4`` (54 s) where the loop takes one.
    Both sum in the order of ``terms``: the values are the same to the bit.
    """
    head = ["@njit(**LOOP)", f"def {name}({', '.join(args)}):"]
    if len(terms) == 1:
        (coefficient, term), = terms
        call = f"{function}({', '.join(map(str, term))}, {', '.join(args)})"
        return "\n".join(head + [f"    return {float(coefficient)!r} * {call}"]) + "\n"
    weights = ", ".join(repr(float(coefficient)) for coefficient, _ in terms)
    codes = ", ".join("(" + ", ".join(map(str, term)) + ")" for _, term in terms)
    arity = len(terms[0][1])
    lines = [f"{name}_WEIGHTS = np.array([{weights}])",
             f"{name}_CODES = np.array([{codes}], dtype=np.int64)", "", "", *head,
             "    total = 0.0",
             f"    for term in range({len(terms)}):",
             f"        codes = {name}_CODES[term]",
             f"        total += {name}_WEIGHTS[term] * {function}("
             + ", ".join(f"codes[{i}]" for i in range(arity)) + f", {', '.join(args)})",
             "    return total"]
    return "\n".join(lines) + "\n"


def target_accumulators_source(k: int, symbolic_target: bool = False,
                               coefficients: int = 0) -> str:
    """Array-argument accumulators around the scalar multi-index kernels' ``*_k_acc``
    (the gradients of the wrappers printed for a multi-index target); with ``symbolic_target``
    the kernels' P and coefficient arguments are passed with index ``NO_INDEX`` (no state
    entry)."""
    latent = _target_arguments(k, symbolic_target, coefficients)
    none = ["NO_INDEX"] * len(latent)

    def row(name: str) -> list[str]:
        return [f"{name}[{r}]" for r in range(k)]

    def at(index: str) -> list[str]:
        return [f"{index} + {r}" for r in range(k)]

    def call(kernel: str, values: list, indices: list) -> str:
        return f"{kernel}({', '.join([*values, *latent, 'coef', 'out', *indices, *none])})"

    dispatch = "\n".join(f"    {'if' if r == 0 else 'elif'} r == {r}:\n        "
                         + call(f"Tgz_{r + 1}_k_acc", ["q", *row("mj")], ["iq", *at("im")])
                         for r in range(k))
    pair = ["qjj", "qjl", "qll"]
    pair_at = ["iqjj", "iqjl", "iqll"]
    triple = ["qjj", "qjl", "qjm", "qll", "qlm", "qmm"]
    triple_at = ["iqjj", "iqjl", "iqjm", "iqll", "iqlm", "iqmm"]
    return f'''
@njit(**LOOP)
def Tg1_acc(q, mj, v, P, coef, out, iq, im):
    {call("Tg1_k_acc", ["q", *row("mj")], ["iq", *at("im")])}


@njit(**LOOP)
def Tgz_acc(r, q, mj, v, P, coef, out, iq, im):
{dispatch}


@njit(**LOOP)
def Tgl_acc(qjj, qjl, qll, mj, ml, v, P, coef, out, iqjj, iqjl, iqll, imj, iml):
    {call("Tgl_k_acc", [*pair, *row("mj"), *row("ml")], [*pair_at, *at("imj"), *at("iml")])}


@njit(**LOOP)
def Tgg_acc(qjj, qjl, qll, mj, ml, v, P, coef, out, iqjj, iqjl, iqll, imj, iml):
    {call("Tgg_k_acc", [*pair, *row("mj"), *row("ml")], [*pair_at, *at("imj"), *at("iml")])}


@njit(**LOOP)
def Tgs_acc(qjj, qjl, qjm, qll, qlm, qmm, mj, ml, mm, v, P, coef, out,
            iqjj, iqjl, iqjm, iqll, iqlm, iqmm, imj, iml, imm):
    {call("Tgs_k_acc", [*triple, *row("mj"), *row("ml"), *row("mm")],
          [*triple_at, *at("imj"), *at("iml"), *at("imm")])}
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


def ranked_cubature_source(kernels: list[tuple[str, tuple[str, ...], tuple[str, ...]]],
                           k: int) -> tuple[str, dict[str, tuple[str, int]]]:
    """Sources of cubature kernels over whole blocks, by the block's rank (the quadrature
    route of a multi-index target), and how to call each.

    Each kernel is ``(name, args, integrand)``: ``args`` are the block's entries ``c_ab`` or
    ``q_ab`` (a ≤ b, the student fields) then ``m_a_r`` (student field a with latent field
    r), as the symbolic kernels of :func:`overlapdyn.derive.kernels.derive_kernels` name
    them; ``integrand`` names the factor of each student field (``"sig"``, ``"dsig"``,
    ``"ident"``) and, when the kernel has latent fields, last the target's: ``"g"``,
    ``"gg"`` (g²) or ``"zg<r>"`` (z_r g), with ``g_target(z1, …, zk)`` printed from SymPy.

    A kernel without latent fields (I2ss …) is printed as ``name(*args)``. The target's
    kernels over the same fields share one function ``_cubature_<n>sz(mode, *args)`` (n
    student fields) whose ``mode`` picks the integrand, called directly by the target's
    sums (:func:`ranked_target_wrappers_source`): Numba compiles a function again into each
    caller, so one body per field count and no wrapper level keep the compile short. Each
    sums over the tensor rule of the block's rank, one loop per field (a field fixed by the
    others runs once), over the Cholesky factor of the block with the latent fields first,
    carrying the partial sums of the fields and of the product of weights and factors down
    the loops; ``_semidefinite_cholesky``, ``_target_block`` and the ``RULE_*`` tables come from
    ``templates/ranked_cubature.py``.

    Returns:
        The source, and ``{target kernel name: (shared function, mode)}``.
    """
    groups: dict[int, list] = {}
    parts, calls = [], {}
    for name, args, integrand in kernels:
        if any(arg.startswith("m_") for arg in args):
            groups.setdefault(len(integrand) - 1, []).append((name, args, integrand))
        else:
            parts.append(_ranked_shared_source(name, args, [integrand], len(integrand), 0,
                                               mode=False))
    for students, members in groups.items():
        shared = f"_cubature_{students}sz"
        parts.append(_ranked_shared_source(shared, members[0][1], [m[2] for m in members],
                                           students, k, mode=True))
        calls |= {name: (shared, mode) for mode, (name, _, _) in enumerate(members)}
    return "\n\n".join(parts), calls


def _ranked_shared_source(name: str, args: tuple[str, ...], integrands: list[tuple[str, ...]],
                          n: int, k: int, *, mode: bool) -> str:
    """``name(mode, *args)``: ``E[integrands[mode]]`` over the block of ``args`` (``name(*args)``
    for the single integrand when not ``mode``), fields ordered z1..zk, then the n students;
    one loop per field over the Cholesky factor of the block, each field's factor evaluated
    in its own loop (see ``templates/ranked_cubature.py``)."""
    fields = n + k
    mode_arg = ["mode"] if mode else []
    lines = ["@njit(**LOOP)", f"def {name}({', '.join([*mode_arg, *args])}):",
             f"    C = np.empty(({fields}, {fields}))"]
    if k:
        lines.append("    _target_block(C)")
    for arg in args:
        if arg.startswith("m_"):  # m_a_r: student field a with latent field r
            a, r = (int(part) - 1 for part in arg.split("_")[1:])
            lines.append(f"    C[{r}, {k + a}] = C[{k + a}, {r}] = {arg}")
        else:  # c_ab or q_ab: student fields a, b (one digit each: at most 4 fields)
            a, b = int(arg[2]) - 1 + k, int(arg[3]) - 1 + k
            lines.append(f"    C[{a}, {b}] = C[{b}, {a}] = {arg}" if a != b
                         else f"    C[{a}, {a}] = {arg}")
    lines += ["    L, rows = _semidefinite_cholesky(C)",
              *(f"    row{level} = rows[{level}]" for level in range(fields)),
              "    total = 0.0"]
    indent = "    "
    for level in range(fields):
        previous = f"y{level - 1}_" if level else None
        lines += [f"{indent}for i{level} in range(RULE_SIZES[row{level}]):",
                  f"{indent}    u = RULE_NODES[row{level}, i{level}]"]
        for field in range(level, fields):  # the partial sums of the fields not yet complete
            head = f"{previous}{field} + " if previous else ""
            target = f"x{level}" if field == level else f"y{level}_{field}"
            lines.append(f"{indent}    {target} = {head}L[{field}, {level}] * u")
        weight = f"RULE_WEIGHTS[row{level}, i{level}]"
        product = weight if level == 0 else f"p{level - 1} * {weight}"
        factors = [_level_factor(level, integrand, n, k) for integrand in integrands]
        if level == k - 1:
            lines.append(f"{indent}    gv = g_target({', '.join(f'x{r}' for r in range(k))})")
        if all(factor is None for factor in factors):
            lines.append(f"{indent}    p{level} = {product}")
        elif len(set(factors)) == 1:
            lines.append(f"{indent}    p{level} = {product} * {factors[0]}")
        else:
            for index, factor in enumerate(dict.fromkeys(factors)):
                modes = " or ".join(f"mode == {m}" for m, f in enumerate(factors)
                                    if f == factor)
                lines += [f"{indent}    {'if' if index == 0 else 'elif'} {modes}:",
                          f"{indent}        p{level} = {product} * {factor}"]
            lines += [f"{indent}    else:", f"{indent}        p{level} = 0.0"]
        indent += "    "
    lines += [f"{indent}total += p{fields - 1}", "    return total"]
    return "\n".join(lines) + "\n"


def _level_factor(level: int, integrand: tuple[str, ...], n: int, k: int) -> str | None:
    """The factor of ``integrand`` evaluated in the loop of ``level`` (None: none there)."""
    if level >= k:  # a student field
        return f"{integrand[level - k]}(x{level})"
    if level < k - 1:
        return None
    target = integrand[n]
    if target == "g":
        return "gv"
    if target == "gg":
        return "gv * gv"
    return f"x{int(target[2:]) - 1} * gv"  # zg<r>


def ranked_target_wrappers_source(k: int, calls: dict[str, tuple[str, int]]) -> str:
    """The target's sums of ``templates/committee_target.py`` (same names and arguments) for
    a multi-index target's quadrature kernels: each calls the shared cubature function of
    its kernel with its mode (``calls``, from :func:`ranked_cubature_source`); E[g²] is the
    number ``Eg2_k()``."""
    def row(name: str) -> str:
        return ", ".join(f"{name}[{r}]" for r in range(k))

    def call(kernel: str, args: str) -> str:
        # np.int64(mode), not the literal: Numba compiles a function once per distinct
        # literal integer it is called with, and a cubature function is costly to compile
        function, mode = calls[kernel]
        return f"{function}(np.int64({mode}), {args})"

    tgz, first = calls["Tgz_1"]
    if any(calls[f"Tgz_{r}"] != (tgz, first + r - 1) for r in range(1, k + 1)):
        raise ValueError("the Tgz_r kernels must share one function, in the order of r")
    return f'''
@njit(**LOOP)
def Tg1(q, mj, v, P):
    return {call("Tg1", f"q, {row('mj')}")}


@njit(**LOOP)
def Tgz(r, q, mj, v, P):
    return {tgz}({first} + r, q, {row("mj")})


@njit(**LOOP)
def Tgl(qjj, qjl, qll, mj, ml, v, P):
    return {call("Tgl", f"qjj, qjl, qll, {row('mj')}, {row('ml')}")}


@njit(**LOOP)
def Tgg(qjj, qjl, qll, mj, ml, v, P):
    return {call("Tgg", f"qjj, qjl, qll, {row('mj')}, {row('ml')}")}


@njit(**LOOP)
def Tgs(qjj, qjl, qjm, qll, qlm, qmm, mj, ml, mm, v, P):
    return {call("Tgs", f"qjj, qjl, qjm, qll, qlm, qmm, {row('mj')}, {row('ml')}, {row('mm')}")}


@njit(**LOOP)
def Eg2(v, P):
    return Eg2_k()
'''


def _target_arguments(k: int, symbolic_target: bool, coefficients: int) -> list[str]:
    # a symbolic target's kernels end with P's entries, then g's coefficients: the loops'
    # run-time P and v (v holds a committee's b c_k, and a multi-index target's coefficients)
    if not symbolic_target:
        return []
    return ([f"P[{r}, {t}]" for r in range(k) for t in range(r, k)]
            + [f"v[{i}]" for i in range(coefficients)])


def target_wrappers_source(k: int, symbolic_target: bool = False,
                           coefficients: int = 0) -> str:
    """The target's sums of ``templates/committee_target.py`` (same names and arguments) for
    a multi-index target of k directions: each unpacks the rows ``mj = M[j]`` (k,) into the
    scalar kernels ``Tg1_k(q, m_1, …, m_k)``, … printed from SymPy; with ``symbolic_target``
    the kernels take P's entries ``P[r, t]`` (r ≤ t) and then g's ``coefficients``
    coefficients ``v[i]`` after those (``Eg2_k`` them alone): the run-time P and v of the
    loops."""
    latent = _target_arguments(k, symbolic_target, coefficients)

    def row(name: str) -> list[str]:
        return [f"{name}[{r}]" for r in range(k)]

    def call(kernel: str, *args: str | list[str]) -> str:
        flat = [a for arg in args for a in ([arg] if isinstance(arg, str) else arg)]
        return f"{kernel}({', '.join(flat + latent)})"

    dispatch = "\n".join(f"    {'if' if r == 0 else 'elif'} r == {r}:\n"
                         f"        return {call(f'Tgz_{r + 1}_k', 'q', row('mj'))}"
                         for r in range(k))
    return f'''
@njit(**LOOP)
def Tg1(q, mj, v, P):
    return {call("Tg1_k", "q", row("mj"))}


@njit(**LOOP)
def Tgz(r, q, mj, v, P):
{dispatch}
    return 0.0


@njit(**LOOP)
def Tgl(qjj, qjl, qll, mj, ml, v, P):
    return {call("Tgl_k", "qjj", "qjl", "qll", row("mj"), row("ml"))}


@njit(**LOOP)
def Tgg(qjj, qjl, qll, mj, ml, v, P):
    return {call("Tgg_k", "qjj", "qjl", "qll", row("mj"), row("ml"))}


@njit(**LOOP)
def Tgs(qjj, qjl, qjm, qll, qlm, qmm, mj, ml, mm, v, P):
    return {call("Tgs_k", "qjj", "qjl", "qjm", "qll", "qlm", "qmm", row("mj"), row("ml"),
                 row("mm"))}


@njit(**LOOP)
def Eg2(v, P):
    return {call("Eg2_k")}
'''
