"""SymPy kernels → Python source → Numba, with an on-disk cache (JiTCODE-style).

Each kernel becomes one ``@njit(cache=True)`` function whose body is the common-
subexpression-eliminated formula (``sympy.cse``), printed with ``math`` calls only, so Numba
compiles it to straight-line machine code. A model's kernels and the drift loops that call
them are written as one Python module into the cache folder and imported from there; Numba
stores the machine code beside it (``__pycache__``), so a warm start skips both SymPy and
LLVM.

The cache folder is ``$OVERLAPDYN_CACHE_DIR`` or ``~/.cache/overlapdyn``. Every module is
keyed by a hash of what determines its text (library version included) and starts with a
checksum of its body: a truncated or corrupted file fails the check and is rebuilt, and
files are written to a temporary name then renamed (atomic on POSIX), so concurrent writers
never expose a half-written module.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import sympy
from sympy.printing.pycode import PythonCodePrinter

from ..derive.hermite import gauss_hermite_rule
from ..storage.files import atomic_write_text

__all__ = ["cache_dir", "cubature_kernel_source", "cubature_prelude", "kernel_accumulator_source",
           "kernel_source", "load_module", "source_key", "target_accumulators_source"]

_HEADER = "# overlapdyn generated module; sha256 of the body: "

# Kernel bodies may reassociate and fuse (FMA) their long sums — 1.75× faster for the He3
# I4 kernel, differences at round-off level — but keep IEEE NaN/inf semantics ("nnan",
# "ninf" are left out): a non-finite kernel value is how a state outside the PSD cone shows.
KERNEL_FASTMATH = ("arcp", "contract", "nsz", "reassoc")


def cache_dir() -> Path:
    """Where generated modules live: ``$OVERLAPDYN_CACHE_DIR`` or ``~/.cache/overlapdyn``."""
    root = os.environ.get("OVERLAPDYN_CACHE_DIR")
    path = Path(root) if root else Path.home() / ".cache" / "overlapdyn"
    path.mkdir(parents=True, exist_ok=True)
    return path


def source_key(*parts: object) -> str:
    """A short stable hash of ``parts`` (their ``repr``), for file names."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


class _Printer(PythonCodePrinter):
    """Plain ``math``-module Python that Numba compiles (no NumPy, no mpmath)."""

    def _print_Float(self, expr: sympy.Float) -> str:
        return repr(float(expr))


def kernel_source(name: str, args: tuple[str, ...], expr: sympy.Expr) -> str:
    """Source of ``@njit(cache=True) def name(*args)`` returning ``expr`` (floats)."""
    printer = _Printer({"standard": "python3"})
    replacements, (reduced,) = sympy.cse(sympy.sympify(expr), optimizations="basic")
    flags = "{" + ", ".join(repr(flag) for flag in KERNEL_FASTMATH) + "}"
    lines = [f"@njit(cache=True, fastmath={flags})",
             f"def {name}({', '.join(args)}):"]
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
    expr = sympy.sympify(expr)
    symbols = {symbol.name: symbol for symbol in expr.free_symbols}
    partials = [sympy.diff(expr, symbols[arg]) if arg in symbols else sympy.S.Zero
                for arg in args]
    replacements, reduced = sympy.cse(partials, optimizations="basic")
    indices = [f"i_{arg}" for arg in args]
    flags = "{" + ", ".join(repr(flag) for flag in KERNEL_FASTMATH) + "}"
    lines = [f"@njit(cache=True, fastmath={flags})",
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
@njit(cache=True)
def Tg1_acc(q, mj, v, P, coef, out, iq, im):
    Tg1_k_acc(q, {row("mj")}, coef, out, iq, {at("im")})


@njit(cache=True)
def Tgz_acc(r, q, mj, v, P, coef, out, iq, im):
{dispatch}


@njit(cache=True)
def Tgl_acc(qjj, qjl, qll, mj, ml, v, P, coef, out, iqjj, iqjl, iqll, imj, iml):
    Tgl_k_acc(qjj, qjl, qll, {row("mj")}, {row("ml")}, coef, out, iqjj, iqjl, iqll,
              {at("imj")}, {at("iml")})


@njit(cache=True)
def Tgg_acc(qjj, qjl, qll, mj, ml, v, P, coef, out, iqjj, iqjl, iqll, imj, iml):
    Tgg_k_acc(qjj, qjl, qll, {row("mj")}, {row("ml")}, coef, out, iqjj, iqjl, iqll,
              {at("imj")}, {at("iml")})


@njit(cache=True)
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


def cubature_prelude(n_nodes: int) -> str:
    """Module-level Gauss–Hermite rules and the eigen-factor helper used by
    :func:`cubature_kernel_source`: ``XI{n}``, ``WEIGHTS{n}`` for n = 2, 3, 4 fields, with
    4·n_nodes, 2·n_nodes and n_nodes nodes per direction (a fixed cost per call)."""
    rules = []
    for fields, count in ((2, 4 * n_nodes), (3, 2 * n_nodes), (4, n_nodes)):
        nodes, weights = gauss_hermite_rule(count)
        rules.append(f"XI{fields} = np.array({[float(v) for v in nodes]!r})\n"
                     f"WEIGHTS{fields} = np.array({[float(v) for v in weights]!r})\n")
    return "\n" + "".join(rules) + '''

@njit(cache=True)
def _factor(C):
    # A with A Aᵀ = C over the eigen-directions: singular blocks (coincident fields) are fine
    values, vectors = np.linalg.eigh(C)
    n = C.shape[0]
    A = np.empty((n, n))
    for j in range(n):
        scale = math.sqrt(values[j]) if values[j] > 0.0 else 0.0
        for i in range(n):
            A[i, j] = vectors[i, j] * scale
    return A
'''


def cubature_kernel_source(name: str, functions: tuple[str, ...]) -> str:
    """Source of ``name(c_11, c_12, …)`` = ``E[Π_i f_i(x_i)]`` for x ~ N(0, C) by tensor
    Gauss–Hermite cubature over the eigen-factor of C (``functions[i]`` names ``f_i``)."""
    n = len(functions)
    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    args = [f"c_{i + 1}{j + 1}" for i, j in pairs]
    lines = ["@njit(cache=True)", f"def {name}({', '.join(args)}):",
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


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def _read_valid(path: Path) -> bool:
    try:
        header, body = path.read_text().split("\n", 1)
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return header == _HEADER + _checksum(body)


def _import(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_module(key: str, build_source: Callable[[], str]) -> tuple[ModuleType, bool]:
    """Import the generated module ``key``, building and caching it when needed.

    Args:
        key: the cache key (see :func:`source_key`).
        build_source: returns the module's source; called only on a cache miss, a corrupt
            file, or a file that fails to import.

    Returns:
        ``(module, from_cache)``.
    """
    path = cache_dir() / f"overlapdyn_{key}.py"
    name = f"overlapdyn_generated_{key}"
    if name in sys.modules:
        return sys.modules[name], True
    if _read_valid(path):
        try:
            return _import(path, name), True
        except Exception:  # a stale or damaged module: rebuild it below
            pass
    body = build_source()
    atomic_write_text(path, _HEADER + _checksum(body) + "\n" + body)
    return _import(path, name), False
