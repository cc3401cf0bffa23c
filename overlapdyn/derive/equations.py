r"""A model's ODEs as formulas: what the compiled drift computes, written out in the overlaps.

:func:`drift_equations` writes SPEC's ODEs for one model the way a theorist writes them by
hand, with the sums over neurons kept as sums and the expectations named by the kernels they
are assembled from (the names of :mod:`overlapdyn.derive.kernels`). With ``u_j = c_p a_j``,
``G_j = u_j e σ'(λ_j)``, ``e = y − ŷ`` (mse) and the committee teacher ``g = c_k Σ_r b_r σ*(z_r)``::

    dM_jr/dt = η A^z_jr − ηω M_jr
    dQ_jl/dt = η (A^λ_jl + A^λ_lj) − 2ηω Q_jl + (η²/n_b) B_jl
    da_j/dt  = η_a c_p D_j

    A^z_jr = E[G_j z_r] = u_j ( c_k Σ_s b_s I3st(Q_jj, M_jr, M_js, P_rr, P_rs, P_ss)
                                − Σ_l u_l I3ss(Q_jj, M_jr, Q_jl, P_rr, M_lr, Q_ll) )
    A^λ_jl = E[G_j λ_l],  B_jl = E[G_j G_l],  D_j = E[e σ(λ_j)],  R = ½ E[(y − ŷ)²]

(the spherical variant and the correlation loss ``e = y`` likewise). A kernel is called with
the entries of the covariance block of its fields, row by row: ``I3ss(c_11, c_12, c_13,
c_22, c_23, c_33)`` for the fields ``(λ_j, z_r, λ_l)`` is ``I3ss(Q_jj, M_jr, Q_jl, P_rr,
M_lr, Q_ll)``. A multi-index target's kernels (``Tg1``, ``Tgz``, …) take whole rows
``M_j1 … M_jk`` instead, with P fixed.

The result, :class:`Equations`, holds SymPy expressions in ``IndexedBase`` symbols (``M[j,
r]``, ``Q[j, l]``, ``a[j]``, indices from 1 as in the papers), prints as LaTeX
(:meth:`Equations.latex`) or Mathematica (:meth:`Equations.mathematica`), and evaluates
at a state (:meth:`Equations.evaluate`: sums done, kernels replaced by their formulas) —
the check that the formulas are the compiled drift (``tests/derive/test_equations.py``).
Terms that vanish for the model (ω = 0, Δ = 0) are left out, and so are the parts of the
drift that ``protocol.terms`` switches off (:mod:`overlapdyn.model.terms`: without
``variance`` B keeps only its label-noise part ``Δ u_j u_l J2s``, and so on); every other
parameter is a symbol, its value in :attr:`Equations.parameters`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.mathematica import MCodePrinter

from ..errors import OverlapdynError
from ..model.activations import X
from ..model.activations import activation as resolve_activation
from ..model.spec import Model
from .kernels import KernelSet, derive_kernels
from .methods import Derivation

__all__ = ["Equations", "drift_equations"]

# student indices j, l, m, n; teacher indices r, s (t is time)
j, l, m, n = sympy.symbols("j l m n", integer=True, positive=True)
r, s = sympy.symbols("r s", integer=True, positive=True)
p, k = sympy.symbols("p k", integer=True, positive=True)
M, Q, P = sympy.IndexedBase("M"), sympy.IndexedBase("Q"), sympy.IndexedBase("P")
a, b = sympy.IndexedBase("a"), sympy.IndexedBase("b")
Az, Al = sympy.IndexedBase("Az"), sympy.IndexedBase("Al")
B, D = sympy.IndexedBase("B"), sympy.IndexedBase("D")
eta, omega, n_b, eta_a = sympy.symbols("eta omega n_b eta_a", positive=True)
c_p, c_k = sympy.symbols("c_p c_k", real=True)
Delta = sympy.Symbol("Delta", nonnegative=True)

# each rate's overlap and indices
RATES = {"dM/dt": ("M", "jr"), "dQ/dt": ("Q", "jl"), "da/dt": ("a", "j")}

# What each kernel is, in the fields x1..x4 of its covariance block (derive/kernels.py)
KERNEL_DEFINITIONS = {
    "I2ss": r"\mathbb{E}[\sigma(x_1)\,\sigma(x_2)]",
    "J2s": r"\mathbb{E}[\sigma'(x_1)\,\sigma'(x_2)]",
    "I3ss": r"\mathbb{E}[\sigma'(x_1)\,x_2\,\sigma(x_3)]",
    "I4sss": r"\mathbb{E}[\sigma'(x_1)\,\sigma'(x_2)\,\sigma(x_3)\,\sigma(x_4)]",
    "I2st": r"\mathbb{E}[\sigma(x_1)\,\sigma^*(x_2)]",
    "I2tt": r"\mathbb{E}[\sigma^*(x_1)\,\sigma^*(x_2)]",
    "I3st": r"\mathbb{E}[\sigma'(x_1)\,x_2\,\sigma^*(x_3)]",
    "I4sst": r"\mathbb{E}[\sigma'(x_1)\,\sigma'(x_2)\,\sigma(x_3)\,\sigma^*(x_4)]",
    "I4stt": r"\mathbb{E}[\sigma'(x_1)\,\sigma'(x_2)\,\sigma^*(x_3)\,\sigma^*(x_4)]",
    "Tg1": r"\mathbb{E}[\sigma(\lambda_1)\,g(z)]",
    "Tgz": r"\mathbb{E}[\sigma'(\lambda_1)\,z_r\,g(z)]",
    "Tgl": r"\mathbb{E}[\sigma'(\lambda_1)\,\lambda_2\,g(z)]",
    "Tgg": r"\mathbb{E}[\sigma'(\lambda_1)\,\sigma'(\lambda_2)\,g(z)^2]",
    "Tgs": r"\mathbb{E}[\sigma'(\lambda_1)\,\sigma'(\lambda_2)\,\sigma(\lambda_3)\,g(z)]",
    "Eg2": r"\mathbb{E}[g(z)^2]",
}


@dataclass(frozen=True)
class Equations:
    """SPEC's ODEs of one model, as SymPy formulas (see the module docstring).

    Attributes:
        model: the model.
        method: the label of the derivation method that gave the kernels.
        rates: ``{"dM/dt": dM_jr, "dQ/dt": dQ_jl, "da/dt": da_j}`` (no ``da/dt`` when
            the readout is fixed), in the indices j, l (students) and r (teacher).
        expectations: ``{Az[j, r]: …, Al[j, l]: …, B[j, l]: …, D[j]: …}``: E[G_j z_r],
            E[G_j λ_l], E[G_j G_l] and E[e σ(λ_j)] written with the kernels.
        risk: the population risk R.
        kernels: ``{name: (arguments, formula or None)}``, every kernel called above;
            the formula is None for kernels computed numerically at run time
            (quadrature, and the kinked activations' one-dimensional integrals).
        parameters: ``{symbol: value}``: p, k, η, n_b, c_p, … and the entries of P, b and
            (fixed readout) a.
        functions: LaTeX lines saying what σ, σ* or g are.
    """

    model: Model
    method: str
    rates: dict
    expectations: dict
    risk: sympy.Expr
    kernels: dict
    parameters: dict = field(repr=False)
    functions: tuple = ()

    # ------------------------------------------------------------------ printing

    def latex(self, kernels: bool = True) -> str:
        r"""The equations as one LaTeX ``align*`` environment: the rates, the expectations,
        the risk, and (``kernels``) each kernel with its definition and formula."""
        printer = _Latex()
        lines = [rf"\frac{{d{RATES[name][0]}_{{{RATES[name][1]}}}}}{{dt}} &= "
                 f"{printer.doprint(rate)}"
                 for name, rate in self.rates.items()]
        lines += [f"{printer.doprint(symbol)} &= {printer.doprint(value)}"
                  for symbol, value in self.expectations.items()]
        lines.append(f"R &= {printer.doprint(self.risk)}")
        if kernels:
            lines += list(self.functions)
            for name, (args, formula) in self.kernels.items():
                if not args:    # E[g²] of a multi-index target: a number
                    lines.append(rf"\mathbb{{E}}[g^2] &= {printer.doprint(formula)}")
                    continue
                head = f"{printer.doprint(sympy.Function(name)(*args))} &= {_definition(name)}"
                lines.append(head + (f" = {printer.doprint(formula)}" if formula is not None
                                     else rf" \quad \text{{({self.method}, at run time)}}"))
        return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"

    def mathematica(self, kernels: bool = True) -> str:
        """The equations as Mathematica definitions (``dM[j_, r_] := …``, ``Az[j_, r_] :=
        …``, ``I3ss[c11_, …] := …``) with the parameters as ``name = value;`` lines, ready to
        paste into a notebook."""
        printer = _Mathematica()
        lines = [f"(* {self.model.name}: {self.method} kernels; indices from 1 *)"]
        lines += [f"{printer.doprint(symbol)} = {_mathematica_number(value)};"
                  for symbol, value in self.parameters.items()]
        lines += [f"d{RATES[name][0]}[{', '.join(f'{i}_' for i in RATES[name][1])}] := "
                  f"{printer.doprint(rate)}"
                  for name, rate in self.rates.items()]
        lines += [f"{printer.doprint(symbol.base)}[{', '.join(f'{i}_' for i in symbol.indices)}]"
                  f" := {printer.doprint(value)}" for symbol, value in self.expectations.items()]
        lines.append(f"R := {printer.doprint(self.risk)}")
        if kernels:
            for name, (args, formula) in self.kernels.items():
                if not args:    # E[g²] of a multi-index target: a number
                    lines.append(f"Eg2 = {printer.doprint(formula)};")
                elif formula is not None:
                    patterns = ", ".join(f"{printer.doprint(arg)}_" for arg in args)
                    lines.append(f"{name}[{patterns}] := {printer.doprint(formula)}")
                else:
                    lines.append(f"(* {name}: {self.method}, computed at run time *)")
        return "\n".join(lines)

    def sympy_text(self, kernels: bool = True) -> str:
        """The equations as SymPy's own text, one ``name = expression`` line each."""
        lines = [f"{name}[{', '.join(RATES[name][1])}] = {rate}"
                 for name, rate in self.rates.items()]
        lines += [f"{symbol} = {value}" for symbol, value in self.expectations.items()]
        lines.append(f"R = {self.risk}")
        if kernels:
            lines += [f"{name}({', '.join(map(str, args))}) = "
                      + (str(formula) if formula is not None else f"({self.method}, at run time)")
                      for name, (args, formula) in self.kernels.items()]
        return "\n".join(lines)

    def text(self, format: str = "latex", kernels: bool = True) -> str:
        """:meth:`latex`, :meth:`mathematica` or :meth:`sympy_text` by name (``format``)."""
        printers = {"latex": self.latex, "mathematica": self.mathematica,
                    "sympy": self.sympy_text}
        if format not in printers:
            raise OverlapdynError(f"unknown format {format!r} for the equations: use one of "
                                  f"{', '.join(printers)}")
        return printers[format](kernels=kernels)

    def __str__(self) -> str:
        return self.sympy_text(kernels=False)

    # ---------------------------------------------------------------- evaluation

    def evaluate(self, M_value, Q_value, a_value=None) -> tuple:
        """The rates and the risk at one state, from these formulas alone: the sums done,
        the kernels replaced by their formulas, the parameters by their values.

        Args:
            M_value, Q_value: the overlaps, shapes (p, k) and (p, p).
            a_value: the readout (p,); default the model's.

        Returns:
            ``(dM (p, k), dQ (p, p), da (p,) or None, R)``, floats.

        Raises:
            OverlapdynError: wrong shapes; a kernel has no formula (quadrature, kinked
                activations):
                evaluate those with :meth:`CompiledModel.drift
                <overlapdyn.compile.compiled.CompiledModel.drift>`.
        """
        numeric = [name for name, (_, formula) in self.kernels.items() if formula is None]
        if numeric:
            raise OverlapdynError(f"the kernels {', '.join(numeric)} of this model are computed "
                                  f"numerically ({self.method}): these formulas cannot be "
                                  "evaluated alone; use CompiledModel.drift")
        model = self.model
        pv, kv = model.p, model.k
        M_value, Q_value = np.asarray(M_value, dtype=float), np.asarray(Q_value, dtype=float)
        a_value = np.asarray(model.student.a if a_value is None else a_value, dtype=float)
        if M_value.shape != (pv, kv) or Q_value.shape != (pv, pv) or a_value.shape != (pv,):
            raise OverlapdynError(f"M, Q and a must have shapes {(pv, kv)}, {(pv, pv)} and "
                                  f"{(pv,)}; got {M_value.shape}, {Q_value.shape} and "
                                  f"{a_value.shape}")
        values = dict(self.parameters)
        values.update({M[i + 1, q + 1]: float(M_value[i, q]) for i in range(pv)
                       for q in range(kv)})
        values.update({Q[i + 1, q + 1]: float(Q_value[i, q]) for i in range(pv)
                       for q in range(pv)})
        values.update({a[i + 1]: float(a_value[i]) for i in range(pv)})
        number = _Evaluator(self, values)
        dM = np.array([[number(self.rates["dM/dt"], {j: i, r: q}) for q in range(1, kv + 1)]
                       for i in range(1, pv + 1)])
        dQ = np.array([[number(self.rates["dQ/dt"], {j: i, l: q}) for q in range(1, pv + 1)]
                       for i in range(1, pv + 1)])
        da = (np.array([number(self.rates["da/dt"], {j: i}) for i in range(1, pv + 1)])
              if "da/dt" in self.rates else None)
        return dM, dQ, da, number(self.risk, {})


class _Evaluator:
    """Numbers from the formulas of an :class:`Equations` at the values given."""

    def __init__(self, equations: Equations, values: dict) -> None:
        self.values = values
        self.definitions = {symbol.base: (symbol.indices, value)
                            for symbol, value in equations.expectations.items()}
        self.kernels = {name: sympy.Lambda(args, formula)
                        for name, (args, formula) in equations.kernels.items() if args}
        if "Eg2" in equations.kernels:     # a multi-index target's E[g²]: a constant
            self.values[sympy.Symbol("E_g2")] = equations.kernels["Eg2"][1]

    def __call__(self, expr: sympy.Expr, indices: dict) -> float:
        expr = self._expand(expr.xreplace(indices))
        expr = expr.xreplace(self.values)
        expr = expr.replace(lambda e: isinstance(e, sympy.core.function.AppliedUndef),
                            self._kernel).xreplace(self.values)
        if expr.free_symbols:
            raise OverlapdynError(f"{sorted(map(str, expr.free_symbols))} left without a value "
                                  "in the equations (an overlapdyn bug: please report it)")
        return float(sympy.N(expr, 17))

    def _expand(self, expr: sympy.Expr) -> sympy.Expr:
        """Replace the expectations by their definitions and do every sum."""
        def define(symbol):
            indices, value = self.definitions[symbol.base]
            return value.xreplace(dict(zip(indices, symbol.indices, strict=True)))

        expr = expr.replace(lambda e: isinstance(e, sympy.Indexed)
                            and e.base in self.definitions, define)
        return expr.xreplace({p: self.values[p], k: self.values[k]}).doit()

    def _kernel(self, call) -> sympy.Expr:
        name = call.func.__name__
        if name == "Tgz":    # a multi-index target's E[σ' z_r g]: one kernel per r
            return self.kernels[f"Tgz_{int(call.args[0])}"](*call.args[1:])
        return self.kernels[name](*call.args)


def drift_equations(model: Model, derivation: Derivation | None = None) -> Equations:
    """The ODEs of ``model`` written out (see the module docstring and :class:`Equations`).

    Args:
        model: the model.
        derivation: how the kernels are obtained (:mod:`overlapdyn.derive.methods`; default
            :class:`~overlapdyn.derive.methods.Auto`), as for
            :class:`~overlapdyn.compile.compiled.CompiledModel`.

    Returns:
        The :class:`Equations`: SymPy formulas, printable as LaTeX and Mathematica.
    """
    kernels = derive_kernels(model, derivation)
    target, student, protocol = model.target, model.student, model.protocol
    mse = protocol.loss == "mse"
    teacher = _CommitteeSums() if target.is_committee else _MultiIndexSums(model.k)
    u = {i: c_p * a[i] for i in (j, l, m, n)}
    noise = Delta if target.noise else 0
    terms = protocol.terms
    expectations = _expectations(teacher, u, noise if terms.noise else 0, mse, terms.variance)
    risk = sympy.Rational(1, 2) * (
        noise + teacher.Eg2() - 2 * sympy.Sum(u[j] * teacher.Tg1(j), (j, 1, p))
        + sympy.Sum(u[j] * u[l] * _I2ss(j, l), (j, 1, p), (l, 1, p)))
    rates = _rates(protocol, student.train_readout, second_order=expectations[B[j, l]] != 0)
    used = _used_kernels(list(rates.values()) + list(expectations.values()) + [risk])
    return Equations(model, kernels.method, rates, expectations, risk,
                     _kernel_formulas(kernels, used, model.k),
                     _parameters(model), _function_lines(model))


def _I2ss(i, q):
    return sympy.Function("I2ss")(Q[i, i], Q[i, q], Q[q, q])


def _expectations(teacher, u: dict, noise, mse: bool, variance: bool = True) -> dict:
    """E[G_j z_r], E[G_j λ_l], E[G_j G_l] and E[e σ(λ_j)] in the kernels (compiled.py);
    ``noise`` is Δ (or 0: the label-noise part off), and without ``variance`` B keeps only
    that part (the I4 part off)."""
    I3ss, I4sss, J2s = (sympy.Function(name) for name in ("I3ss", "I4sss", "J2s"))
    z_part = teacher.Tgz(j, r)
    l_part = teacher.Tgl(j, l)
    g_part = (teacher.Tgg(j, l) if variance else 0) + noise * J2s(Q[j, j], Q[j, l], Q[l, l])
    d_part = teacher.Tg1(j)
    if mse:
        z_part -= sympy.Sum(u[l] * I3ss(Q[j, j], M[j, r], Q[j, l], P[r, r], M[l, r], Q[l, l]),
                            (l, 1, p))
        l_part -= sympy.Sum(u[m] * I3ss(Q[j, j], Q[j, l], Q[j, m], Q[l, l], Q[l, m], Q[m, m]),
                            (m, 1, p))
        if variance:
            g_part += (-2 * sympy.Sum(u[m] * teacher.Tgs(j, l, m), (m, 1, p))
                       + sympy.Sum(u[m] * u[n] * I4sss(Q[j, j], Q[j, l], Q[j, m], Q[j, n],
                                                       Q[l, l], Q[l, m], Q[l, n], Q[m, m],
                                                       Q[m, n], Q[n, n]),
                                   (m, 1, p), (n, 1, p)))
        d_part -= sympy.Sum(u[l] * _I2ss(j, l), (l, 1, p))
    return {Az[j, r]: u[j] * z_part, Al[j, l]: u[j] * l_part,
            B[j, l]: u[j] * u[l] * g_part, D[j]: d_part}


def _rates(protocol, train_readout: bool, second_order: bool = True) -> dict:
    """SPEC's dM/dt, dQ/dt (plain or spherical) and da/dt in Az, Al, B, D, with the parts
    ``protocol.terms`` keeps (``second_order``: whether B has a part left)."""
    terms = protocol.terms
    decay = omega if protocol.weight_decay and terms.decay else 0
    first = eta if terms.gradient else 0
    second = eta ** 2 / n_b if second_order else 0
    if protocol.spherical:
        dM = first * (Az[j, r] - M[j, r] * Al[j, j]) - second / 2 * M[j, r] * B[j, j]
        off = (first * (Al[j, l] + Al[l, j]) - first * Q[j, l] * (Al[j, j] + Al[l, l])
               + second * B[j, l] - second / 2 * Q[j, l] * (B[j, j] + B[l, l]))
        dQ = sympy.Piecewise((0, sympy.Eq(j, l)), (off, True))
    else:
        dM = first * Az[j, r] - eta * decay * M[j, r]
        dQ = first * (Al[j, l] + Al[l, j]) - 2 * eta * decay * Q[j, l] + second * B[j, l]
    rates = {"dM/dt": dM, "dQ/dt": dQ}
    if train_readout:
        rates["da/dt"] = (eta_a * c_p * D[j]) if terms.gradient else sympy.Integer(0)
    return rates


class _CommitteeSums:
    """The target's sums for ``g = c_k Σ_r b_r σ*(z_r)`` (templates/committee_target.py)."""

    @staticmethod
    def Tg1(i):
        return c_k * sympy.Sum(b[s] * sympy.Function("I2st")(Q[i, i], M[i, s], P[s, s]),
                               (s, 1, k))

    @staticmethod
    def Tgz(i, q):
        return c_k * sympy.Sum(b[s] * sympy.Function("I3st")(
            Q[i, i], M[i, q], M[i, s], P[q, q], P[q, s], P[s, s]), (s, 1, k))

    @staticmethod
    def Tgl(i, q):
        return c_k * sympy.Sum(b[s] * sympy.Function("I3st")(
            Q[i, i], Q[i, q], M[i, s], Q[q, q], M[q, s], P[s, s]), (s, 1, k))

    @staticmethod
    def Tgg(i, q):
        return c_k ** 2 * sympy.Sum(b[r] * b[s] * sympy.Function("I4stt")(
            Q[i, i], Q[i, q], M[i, r], M[i, s], Q[q, q], M[q, r], M[q, s],
            P[r, r], P[r, s], P[s, s]), (r, 1, k), (s, 1, k))

    @staticmethod
    def Tgs(i, q, o):
        return c_k * sympy.Sum(b[r] * sympy.Function("I4sst")(
            Q[i, i], Q[i, q], Q[i, o], M[i, r], Q[q, q], Q[q, o], M[q, r], Q[o, o], M[o, r],
            P[r, r]), (r, 1, k))

    @staticmethod
    def Eg2():
        return c_k ** 2 * sympy.Sum(b[r] * b[s] * sympy.Function("I2tt")(
            P[r, r], P[r, s], P[s, s]), (r, 1, k), (s, 1, k))


class _MultiIndexSums:
    """A multi-index target's kernels: functions of whole rows of M, P fixed."""

    def __init__(self, k_value: int) -> None:
        self.k = k_value

    def _row(self, i) -> list:
        return [M[i, q] for q in range(1, self.k + 1)]

    def Tg1(self, i):
        return sympy.Function("Tg1")(Q[i, i], *self._row(i))

    def Tgz(self, i, q):
        return sympy.Function("Tgz")(q, Q[i, i], *self._row(i))

    def Tgl(self, i, q):
        return sympy.Function("Tgl")(Q[i, i], Q[i, q], Q[q, q], *self._row(i), *self._row(q))

    def Tgg(self, i, q):
        return sympy.Function("Tgg")(Q[i, i], Q[i, q], Q[q, q], *self._row(i), *self._row(q))

    def Tgs(self, i, q, o):
        return sympy.Function("Tgs")(Q[i, i], Q[i, q], Q[i, o], Q[q, q], Q[q, o], Q[o, o],
                                     *self._row(i), *self._row(q), *self._row(o))

    @staticmethod
    def Eg2():
        return sympy.Symbol("E_g2")


def _used_kernels(exprs: list) -> list[str]:
    names = []
    for expr in exprs:
        for call in expr.atoms(sympy.core.function.AppliedUndef):
            if call.func.__name__ not in names:
                names.append(call.func.__name__)
    if any(expr.has(sympy.Symbol("E_g2")) for expr in exprs):
        names.append("Eg2")
    order = list(KERNEL_DEFINITIONS)
    return sorted(names, key=order.index)


def _kernel_formulas(kernels: KernelSet, used: list[str], k_value: int) -> dict:
    """``{name: (argument symbols, formula or None)}`` for the kernels in ``used``."""
    by_name = {kernel.name: kernel for kernel in kernels.kernels}
    formulas = {}
    for name in used:
        if name == "Tgz":   # one kernel per latent direction: Tgz_1 … Tgz_k
            for q in range(1, k_value + 1):
                kernel = by_name[f"Tgz_{q}"]
                formulas[f"Tgz_{q}"] = (_symbols(kernel.args), kernel.expr)
            continue
        kernel = by_name[name]
        formulas[name] = (_symbols(kernel.args), kernel.expr)
    return formulas


def _symbols(names) -> tuple:
    # the symbols of derive/kernels.py's formulas: plain, without assumptions
    return tuple(sympy.Symbol(name) for name in names)


def _parameters(model: Model) -> dict:
    """``{symbol: value}`` of everything but the state."""
    target, student, protocol = model.target, model.student, model.protocol
    values = {p: model.p, k: model.k, eta: float(protocol.eta), n_b: int(protocol.n_b),
              c_p: float(student.c_p)}
    if protocol.weight_decay:
        values[omega] = float(protocol.weight_decay)
    if target.noise:
        values[Delta] = float(target.noise)
    if student.train_readout:
        values[eta_a] = float(student.eta_a)
    if target.is_committee:
        values[c_k] = float(target.c_k)
        values.update({b[q + 1]: float(target.b[q]) for q in range(model.k)})
    else:
        values[sympy.Symbol("E_g2")] = None    # a kernel: its formula is in ``kernels``
    gram = target.gram
    values.update({P[q + 1, o + 1]: float(gram[q, o]) for q in range(model.k)
                   for o in range(model.k)})
    if not student.train_readout:
        values.update({a[q + 1]: float(student.a[q]) for q in range(model.p)})
    return {symbol: value for symbol, value in values.items() if value is not None}


def _function_lines(model: Model) -> tuple:
    """LaTeX lines naming σ and σ* (or g)."""
    printer = _Latex()
    sigma = resolve_activation(model.student.activation)
    lines = [rf"\sigma(x) &= {_function_latex(sigma, printer)}"]
    if model.target.is_committee:
        teacher = resolve_activation(model.target.activation)
        lines.append(rf"\sigma^*(x) &= {_function_latex(teacher, printer)}")
    else:
        lines.append(rf"g(z) &= {printer.doprint(model.target.function())}")
    return tuple(lines)


def _function_latex(function, printer) -> str:
    if function.expr is None:
        return rf"\text{{{function.name}}}"
    if function.name == "erf":
        return r"\operatorname{erf}(x/\sqrt{2})"
    return printer.doprint(function.expr.subs(X, sympy.Symbol("x")))


def _definition(name: str) -> str:
    return KERNEL_DEFINITIONS[re.sub(r"_\d+$", "", name)]


class _Latex(LatexPrinter):
    """LaTeX with the kernels as I^{ss}_3(…), the expectations as A^z_{jr}, …, and the
    indices of M, Q, P run together (M_{jr})."""

    _NAMES = {"Az": "A^{z}", "Al": r"A^{\lambda}", "E_g2": r"\mathbb{E}[g^2]",
              "eta_a": r"\eta_a", "n_b": "n_b", "Delta": r"\Delta"}

    def _print_Indexed(self, expr):
        base = self._NAMES.get(str(expr.base), str(expr.base))
        return f"{base}_{{{''.join(self._print(i) for i in expr.indices)}}}"

    def _print_Symbol(self, expr, style="plain"):
        if expr.name in self._NAMES:
            return self._NAMES[expr.name]
        return super()._print_Symbol(expr, style)

    def _print_Function(self, expr, exp=None):
        name = expr.func.__name__
        head = _kernel_latex(name)
        if head is None:
            return super()._print_Function(expr, exp)
        args = ", ".join(self._print(arg) for arg in expr.args)
        text = rf"{head}\left({args}\right)"
        return f"{text}^{{{exp}}}" if exp else text


def _kernel_latex(name: str) -> str | None:
    match = re.fullmatch(r"([IJ])(\d)([st]+)", name)
    if match:
        return f"{match[1]}_{{{match[2]}}}^{{{match[3]}}}"
    match = re.fullmatch(r"Tg(\w+?)(?:_(\d+))?", name)
    if match:
        return rf"T_{{g{match[1]}}}" + (f"^{{({match[2]})}}" if match[2] else "")
    return None


def _mathematica_number(value) -> str:
    """A parameter's value as Mathematica reads it: 0.2, 3, 1.*^-5."""
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    if exponent:
        return f"{mantissa if '.' in mantissa else mantissa + '.'}*^{int(exponent)}"
    return text


class _Mathematica(MCodePrinter):
    """Mathematica code with valid names: no underscores (patterns there), ``Sum`` not held."""

    # D is Mathematica's derivative
    _NAMES = {"D": "Dsigma"}

    def _print_Symbol(self, expr):
        return self._NAMES.get(expr.name, expr.name.replace("_", ""))

    def _print_Indexed(self, expr):
        return f"{self._print(expr.base)}[{', '.join(self._print(i) for i in expr.indices)}]"

    def _print_IndexedBase(self, expr):
        return self._print(expr.label)

    def _print_Sum(self, expr):
        limits = ", ".join(f"{{{self._print(i)}, {self._print(lo)}, {self._print(hi)}}}"
                           for i, lo, hi in expr.limits)
        return f"Sum[{self._print(expr.function)}, {limits}]"

    def _print_Piecewise(self, expr):
        (zero, condition), (value, _) = expr.args
        return (f"If[{self._print(condition.lhs)} == {self._print(condition.rhs)}, "
                f"{self._print(zero)}, {self._print(value)}]")
