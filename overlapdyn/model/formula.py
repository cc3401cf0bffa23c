"""Formulas written by users (``"He3(z1)*z2 + relu(z1)"``) read into SymPy, never evaluated.

Every formula overlapdyn accepts — a target's ``expression``, an activation or link written
as a formula, a hierarchical target's ``inner`` / ``outer``, an integrand of
:func:`~overlapdyn.derive.expectation`, the same keys on a sweep axis, an exact coefficient
read back from a saved result — is read by :func:`parse_formula`. The text is parsed by
Python's ``ast`` into a tree (no code runs), every node of the tree is checked against a
whitelist, and the SymPy expression is built node by node from it. Nothing in the text can
reach Python's ``eval``: a config file shared with a collaborator cannot run a command.

A formula is made of:

* numbers: integers and decimals (``3``, ``0.5``, ``1e-3``); complex numbers are refused;
* the variables of its context: ``z1..zk`` in a target's expression, ``x`` in an activation
  or in ``inner`` / ``outer``, the field names (and parameters) in an integrand;
* ``+ - * / **`` (``^`` is read as ``**``), unary ``-`` and ``+``, parentheses;
* calls, with positional arguments, of the functions of :data:`FUNCTIONS` — ``He<n>(u)``
  (``He0``, ``He1``, …) and ``He(n, u)`` are the probabilists' Hermite polynomials, expanded
  on the spot (so ``He2(z1)*He1(z2)`` is a polynomial); ``relu(u) = max(0, u)``,
  ``sigmoid(u) = 1/(1 + e^(−u))``, ``softplus(u) = log(1 + e^u)``; the others are SymPy's.
  Inside a formula ``erf`` is the standard error function; the *activation named*
  ``"erf"`` is ``erf(u/√2)`` (see :mod:`overlapdyn.model.activations`);
* the constants ``pi`` and ``E``.

Anything else — attributes, indexing, strings, keyword arguments, lambdas, comprehensions,
comparisons, names that are neither variables nor functions — is a :class:`ConfigError`
naming the offending piece and listing what is allowed.

Limits, so that a formula cannot make SymPy hang: at most :data:`MAX_LENGTH` characters,
:data:`MAX_DEPTH` levels of nesting (a long sum or product counts as one level) of which at
most :data:`MAX_CALL_DEPTH` function calls inside one another, Hermite degrees and powers
of a variable at most :data:`MAX_DEGREE`, and a power of two numbers at most
:data:`MAX_NUMBER_BITS` bits. The result must be finite and real (``1/0``, ``sqrt(-1)``
are refused).

Symbols are created without assumptions, so ``sympy.Symbol("z1")`` written by a user and the
``z1`` produced here are the same symbol.
"""

from __future__ import annotations

import ast
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import sympy

from ..errors import ConfigError

__all__ = ["CONSTANTS", "as_expression", "FUNCTIONS", "MAX_CALL_DEPTH", "MAX_DEGREE", "MAX_DEPTH",
           "MAX_LENGTH", "MAX_NUMBER_BITS", "FormulaFunction", "allowed_summary",
           "parse_formula"]

#: Longest formula accepted, in characters.
MAX_LENGTH = 10_000
#: Deepest nesting of parentheses, calls and powers (a chain ``a + b + c …`` is one level).
MAX_DEPTH = 100
#: Deepest nesting of function calls. SymPy's time to build ``tanh(sigmoid(cosh(…)))`` grows
#: exponentially with it (seconds at depth 3–4 for some chains, a minute at ten ``tanh``).
MAX_CALL_DEPTH = 4
#: Largest Hermite degree ``n`` of ``He<n>`` / ``He(n, u)``, and largest numeric exponent of
#: a power of anything but a number (also after SymPy combines ``(z1**8)**8``).
MAX_DEGREE = 64
#: Largest power of two numbers (``10**300`` is fine, ``(2**64)**64**64`` is not), in bits.
MAX_NUMBER_BITS = 10_000


@dataclass(frozen=True)
class FormulaFunction:
    """A function a formula may call.

    Attributes:
        arity: number of positional arguments; ``None`` for two or more.
        build: the arguments (SymPy) → the SymPy expression; raises ValueError for
            arguments it does not take.
        meaning: how the docs and error messages describe it.
    """

    arity: int | None
    build: Callable[..., sympy.Expr]
    meaning: str


def _hermite(n: sympy.Expr, u: sympy.Expr) -> sympy.Expr:
    if not (n.is_Integer and 0 <= n <= MAX_DEGREE):
        raise ValueError(f"n must be a whole number 0 ≤ n ≤ {MAX_DEGREE}, got {n}")
    return sympy.hermite_prob(int(n), u)


def _one(function: Callable, meaning: str) -> FormulaFunction:
    return FormulaFunction(1, function, meaning)


#: The functions a formula may call, by name (``He<n>`` stands for ``He0``, ``He1``, …).
FUNCTIONS: Mapping[str, FormulaFunction] = MappingProxyType({
    "He": FormulaFunction(2, _hermite, "He(n, u) = He_n(u), probabilists' Hermite"),
    "relu": _one(lambda u: sympy.Max(0, u), "max(0, u)"),
    "sigmoid": _one(lambda u: 1 / (1 + sympy.exp(-u)), "1/(1 + e^(−u))"),
    "softplus": _one(lambda u: sympy.log(1 + sympy.exp(u)), "log(1 + e^u)"),
    "exp": _one(sympy.exp, "e^u"),
    "log": _one(sympy.log, "natural logarithm"),
    "sqrt": _one(sympy.sqrt, "square root"),
    "sin": _one(sympy.sin, "sine"),
    "cos": _one(sympy.cos, "cosine"),
    "tan": _one(sympy.tan, "tangent"),
    "sinh": _one(sympy.sinh, "hyperbolic sine"),
    "cosh": _one(sympy.cosh, "hyperbolic cosine"),
    "tanh": _one(sympy.tanh, "hyperbolic tangent"),
    "erf": _one(sympy.erf, "error function erf(u) (not erf(u/√2))"),
    "erfc": _one(sympy.erfc, "1 − erf(u)"),
    "abs": _one(sympy.Abs, "|u|"),
    "Abs": _one(sympy.Abs, "|u| (SymPy's spelling)"),
    "sign": _one(sympy.sign, "sign of u (0 at 0)"),
    "Max": FormulaFunction(None, sympy.Max, "largest argument"),
    "Min": FormulaFunction(None, sympy.Min, "smallest argument"),
})

#: The named constants a formula may use.
CONSTANTS: Mapping[str, sympy.Expr] = MappingProxyType({"pi": sympy.pi, "E": sympy.E})

_HERMITE_NAME = re.compile(r"He(\d{1,3})")
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}
_OTHER_OPERATORS = {ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<",
                    ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^",
                    ast.Invert: "~", ast.Not: "not"}
# what each refused kind of node is called in an error message
_REFUSED = {ast.Attribute: "the attribute access", ast.Subscript: "the indexing",
            ast.Lambda: "the lambda", ast.Compare: "the comparison",
            ast.BoolOp: "the logical operation", ast.IfExp: "the conditional",
            ast.ListComp: "the comprehension", ast.SetComp: "the comprehension",
            ast.DictComp: "the comprehension", ast.GeneratorExp: "the generator",
            ast.List: "the list", ast.Tuple: "the tuple", ast.Dict: "the dict",
            ast.Set: "the set", ast.Starred: "the starred argument",
            ast.NamedExpr: "the assignment", ast.JoinedStr: "the f-string",
            ast.Slice: "the slice"}


def _function_named(name: str) -> FormulaFunction | None:
    if name in FUNCTIONS:
        return FUNCTIONS[name]
    match = _HERMITE_NAME.fullmatch(name)
    if match and int(match.group(1)) <= MAX_DEGREE:
        n = int(match.group(1))
        return FormulaFunction(1, lambda u: sympy.hermite_prob(n, u), f"He_{n}(u)")
    return None


def _short(expr: sympy.Expr) -> str:
    """``expr`` printed, cut to 40 characters (a number may have thousands of digits)."""
    if expr.is_Rational:
        bits = max(abs(expr.p).bit_length(), expr.q.bit_length())
        if bits > 1000:  # printing it would take long, and its digits say nothing
            return f"a number of {bits} bits"
    text = sympy.sstr(expr)
    return text if len(text) <= 40 else text[:37] + "..."


def allowed_summary(variables: Iterable[str] | None = ()) -> str:
    """One sentence listing what a formula may contain (for errors and the docs);
    ``variables=None``: any name is a variable."""
    names = ("any name not starting with _" if variables is None else
             str(list(variables)))
    return (f"a formula may use numbers, the variables {names}, + - * / ** (or ^), "
            f"parentheses, the constants {', '.join(CONSTANTS)} and the functions "
            f"{', '.join(FUNCTIONS)}, He<n> (n ≤ {MAX_DEGREE})")


def parse_formula(
    text: str | int | float | sympy.Basic,
    variables: Iterable[str] | None = (),
    *,
    what: str = "formula",
) -> sympy.Expr:
    """Read the formula ``text`` into a SymPy expression, without evaluating any Python.

    Args:
        text: the formula (module docstring); a number (read as that constant); or a SymPy
            expression, returned unchanged.
        variables: the names that are variables here, read as plain symbols (they take
            precedence over the constants); ``None``: any name that is not a function or
            constant and does not start with ``_`` is a symbol (for integrands, whose
            caller checks the names against the fields and parameters).
        what: what the text is, for error messages (``"target expression"``).

    Raises:
        ConfigError: the text is not such a formula; the message names the offending piece
            and lists what is allowed.
    """
    if isinstance(text, sympy.Basic):
        return text
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ConfigError(f"{what} must be a formula written as a string, e.g. \"z1 + z1*z2\"; "
                          f"got {text!r} ({type(text).__name__})")
    if not isinstance(text, str):
        text = repr(text)
    source = text.strip().replace("^", "**")
    if len(source) > MAX_LENGTH:
        raise ConfigError(f"{what} is {len(source)} characters long; a formula may have at "
                          f"most {MAX_LENGTH}")
    allowed = None if variables is None else tuple(variables)
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        why = getattr(error, "msg", None) or str(error)
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise ConfigError(f"{what} {shown!r} is not a formula ({why}); "
                          f"{allowed_summary(allowed)}") from None
    shown = text if len(text) <= 80 else text[:77] + "..."
    reader = _Reader(source, allowed, f"{what} {shown!r}")
    reader.check(tree)
    return reader.finish(reader.build(tree.body, 0, 0))


class _Reader:
    """Checks a parsed formula against the whitelist, then builds its SymPy expression."""

    def __init__(self, source: str, variables: tuple[str, ...] | None, label: str) -> None:
        self.source, self.variables, self.label = source, variables, label
        self.symbols = {name: sympy.Symbol(name) for name in variables or ()}

    def fail(self, problem: str) -> ConfigError:
        return ConfigError(f"{self.label} {problem}; {allowed_summary(self.variables)}")

    # -------------------------------------------------------------------- the whitelist

    def check(self, tree: ast.Expression) -> None:
        """Raise for every node outside the whitelist, naming all of them (source order)."""
        callees = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        refused, unknown = [], []
        for node in ast.walk(tree):
            problem = self._refusal(node, id(node) in callees)
            if problem is not None:
                refused.append((getattr(node, "col_offset", 0), problem))
            elif isinstance(node, ast.Name) and id(node) not in callees and not self._known(
                    node.id) and node.id not in unknown:
                unknown.append(node.id)
        problems = [problem for _, problem in sorted(refused, key=lambda item: item[0])]
        if unknown:
            what = "a variable here" if self.variables is not None else "allowed"
            problems.insert(0, f"uses {sorted(unknown)}, not {what}")
        if problems:  # the first few, each once: enough to find them all
            raise self.fail(" and ".join(list(dict.fromkeys(problems))[:4]))

    def _refusal(self, node: ast.AST, is_callee: bool) -> str | None:
        """Why ``node`` is not allowed, or None (names are checked by :meth:`check`)."""
        if isinstance(node, ast.Expression | ast.Load | ast.BinOp | ast.UnaryOp
                      ) or type(node) in _BINARY or type(node) in _UNARY:
            return None
        if isinstance(node, ast.Constant):
            if isinstance(node.value, int | float) and not isinstance(node.value, bool):
                return None
            kind = "the complex number" if isinstance(node.value, complex) else "the constant"
            return f"contains {kind} {self._text(node)}"
        if isinstance(node, ast.Name):
            if is_callee and _function_named(node.id) is None:
                if _HERMITE_NAME.fullmatch(node.id) or re.fullmatch(r"He\d+", node.id):
                    return f"calls {node.id}: Hermite degrees go up to {MAX_DEGREE}"
                return f"calls {node.id}, which is not a known function"
            return None
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                return f"calls {self._text(node.func)}, which is not a function name"
            if node.keywords:
                return f"passes keyword arguments in {self._text(node)}"
            return None
        if type(node) in _OTHER_OPERATORS:
            return f"contains the operator {_OTHER_OPERATORS[type(node)]!r}"
        if isinstance(node, ast.expr_context | ast.cmpop | ast.boolop | ast.comprehension |
                      ast.keyword | ast.arguments | ast.arg | ast.FormattedValue):
            return None  # parts of refused nodes, reported there
        kind = _REFUSED.get(type(node), f"the {type(node).__name__}")
        return f"contains {kind} {self._text(node)}"

    def _known(self, name: str) -> bool:
        if name in self.symbols or name in CONSTANTS:
            return True
        return (self.variables is None and not name.startswith("_")
                and _function_named(name) is None)

    def _text(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.source, node) or type(node).__name__
        return repr(segment if len(segment) <= 60 else segment[:57] + "...")

    # ------------------------------------------------------------------------ building

    def build(self, node: ast.expr, depth: int, calls: int) -> sympy.Expr:
        """The SymPy expression of a checked node; ``depth``, ``calls``: the nesting of
        nodes and of function calls above it."""
        if depth > MAX_DEPTH:
            raise self.fail(f"nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, int):
                return sympy.Integer(node.value)
            # from the digits as written, exactly as SymPy reads a decimal
            return sympy.Float(ast.get_source_segment(self.source, node))
        if isinstance(node, ast.Name):
            if node.id in self.symbols:
                return self.symbols[node.id]
            return CONSTANTS[node.id] if node.id in CONSTANTS else sympy.Symbol(node.id)
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand, depth + 1, calls)
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp):
            # a + b + c … nests to the left, one level per term: walk that spine in a loop
            spine = []
            while isinstance(node, ast.BinOp):
                spine.append((node.op, node.right))
                node = node.left
            value = self.build(node, depth + 1, calls)
            for op, right in reversed(spine):
                value = self._binary(op, value, self.build(right, depth + 1, calls))
            return value
        if isinstance(node, ast.Call):
            if calls >= MAX_CALL_DEPTH:
                raise self.fail(f"nests function calls more than {MAX_CALL_DEPTH} deep")
            return self._call(node, depth, calls + 1)
        raise self.fail(f"contains {self._text(node)}")  # unreachable after check()

    def _binary(self, op: ast.operator, left: sympy.Expr, right: sympy.Expr) -> sympy.Expr:
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            return left / right
        if not isinstance(op, ast.Pow):  # unreachable after check()
            raise self.fail(f"contains the operator {type(op).__name__}")
        self._check_power(left, right)
        return left**right

    def _check_power(self, base: sympy.Expr, exponent: sympy.Expr) -> None:
        if not exponent.is_Number:
            return
        if base.is_Rational and exponent.is_Rational:
            size = max(abs(base.p).bit_length(), base.q.bit_length())
            bits = size * math.ceil(abs(exponent))
            if bits > MAX_NUMBER_BITS and abs(base) != 1:
                raise self.fail(f"raises {_short(base)} to the power {_short(exponent)}: a "
                                f"number of about {bits} bits (at most {MAX_NUMBER_BITS})")
        elif not base.is_Number and abs(exponent) > MAX_DEGREE:
            raise self.fail(f"raises {_short(base)} to the power {_short(exponent)} (at most "
                            f"{MAX_DEGREE})")

    def _call(self, node: ast.Call, depth: int, calls: int) -> sympy.Expr:
        name = node.func.id
        function = _function_named(name)
        args = [self.build(arg, depth + 1, calls) for arg in node.args]
        if function.arity is None and len(args) < 2 or (
                function.arity is not None and len(args) != function.arity):
            wanted = "two or more" if function.arity is None else str(function.arity)
            raise self.fail(f"calls {name} with {len(args)} argument(s); it takes {wanted} "
                            f"({function.meaning})")
        try:
            return function.build(*args)
        except (ValueError, TypeError) as error:  # SymPy's, or the table's own checks
            raise self.fail(f"calls {name} with unusable arguments: {error}") from None

    def finish(self, expr: sympy.Expr) -> sympy.Expr:
        """Refuse what SymPy made of a valid text that is still not a usable formula."""
        bad = [atom for atom in (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan, sympy.I)
               if expr.has(atom)]
        if bad:
            raise self.fail(f"is not finite and real (it contains {bad[0]})")
        for power in expr.atoms(sympy.Pow):
            base, exponent = power.as_base_exp()
            if exponent.is_Number and not base.is_Number and abs(exponent) > MAX_DEGREE:
                raise self.fail(f"contains {_short(power)} (powers of at most {MAX_DEGREE})")
        for number in expr.atoms(sympy.Rational):  # e.g. He64(10**1000): too long to print
            bits = max(abs(number.p).bit_length(), number.q.bit_length())
            if bits > MAX_NUMBER_BITS:
                raise self.fail(f"contains a number of {bits} bits (at most "
                                f"{MAX_NUMBER_BITS})")
        return expr


def as_expression(value) -> sympy.Expr:
    """``value`` as a SymPy expression without reading text: SymPy objects pass through,
    Python and NumPy numbers become exact integers or floats. Text is refused — a formula is
    read only by :func:`parse_formula` — so no string can reach SymPy's evaluator.

    Raises:
        ConfigError: ``value`` is text, or neither a SymPy object nor a real number.
    """
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, str):
        raise ConfigError(f"{value!r} is text: read formulas with parse_formula")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{value!r} ({type(value).__name__}) is not a number or a SymPy "
                          "expression")
    if isinstance(value, numbers.Integral):
        return sympy.Integer(int(value))
    if isinstance(value, numbers.Rational):
        return sympy.Rational(int(value.numerator), int(value.denominator))
    return sympy.Float(float(value))
