r"""Few-point kernels: the small Gaussian expectations the drift is assembled from.

The drift is never expanded symbolically in p and k. Instead a handful of *kernels* —
expectations over a small covariance block, derived once — are evaluated in compiled loops
over neurons (:mod:`overlapdyn.compile.compiled`). With σ the student activation, σ* a committee
teacher's, and generic zero-mean fields ``x1..x4`` with covariance entries ``c_ij``:

=========  =====================================  ================================
kernel     expectation                            role (SPEC symbols)
=========  =====================================  ================================
``I2ss``   E[σ(x1) σ(x2)]                         risk, da (student–student)
``J2s``    E[σ'(x1) σ'(x2)]                       label-noise part of E[G_j G_l]
``I3ss``   E[σ'(x1) x2 σ(x3)]                     E[G_j z_r], E[G_j λ_l]
``I4sss``  E[σ'(x1) σ'(x2) σ(x3) σ(x4)]           E[G_j G_l]
``I2st``   E[σ(x1) σ*(x2)]      (committee)       risk, da
``I2tt``   E[σ*(x1) σ*(x2)]     (committee)       E[g²]
``I3st``   E[σ'(x1) x2 σ*(x3)]  (committee)       E[G_j z_r], E[G_j λ_l]
``I4sst``  E[σ'(x1) σ'(x2) σ(x3) σ*(x4)]          E[G_j G_l]
``I4stt``  E[σ'(x1) σ'(x2) σ*(x3) σ*(x4)]         E[G_j G_l]
=========  =====================================  ================================

These are Saad & Solla's I2, I3, I4 and J2 in generic form: the drift calls them with the
matching block of Ω (e.g. ``I3ss(Q_jj, M_jr, Q_jl, P_rr, M_lr, Q_ll)`` for the fields
``(λ_j, z_r, λ_l)``); coincident fields (j = l) simply give a singular block, which every
formula below handles. For a multi-index target g(z1..zk) the teacher kernels involve the
whole latent block, with P and g fixed numerically at derivation time — or, for a
polynomial g (``derive_kernels(…, symbolic_target=True)``, which the coefficient tables of
:mod:`overlapdyn.compile.tables` use), with P's entries ``p_r_t`` and the coefficients
``gc_i`` of g's monomials, ``g(z) = Σ_i gc_i z^{ν_i}`` (:func:`target_coefficients`), as
further arguments, so that one derivation serves every P and every g with those monomials:

=========  =========================  ======================  ===========
kernel     expectation                args                    role
=========  =========================  ======================  ===========
``Tg1``    E[σ(λ1) g(z)]              q_11, m_1_*             risk, da
``Tgz_r``  E[σ'(λ1) z_r g(z)]         q_11, m_1_*             E[G_j z_r]
``Tgl``    E[σ'(λ1) λ2 g(z)]          q_11..q_22, m           E[G_j λ_l]
``Tgg``    E[σ'(λ1) σ'(λ2) g(z)²]     q_11..q_22, m           E[G_j G_l]
``Tgs``    E[σ'(λ1) σ'(λ2) σ(λ3) g]   q_11..q_33, m           E[G_j G_l]
``Eg2``    E[g(z)²]                   constant                risk
=========  =========================  ======================  ===========

(``m_a_r`` is the overlap of the a-th student field with z_r; with ``symbolic_target`` each
target kernel ends with the ``p_r_t`` and then the ``gc_i``.)

Where each kernel comes from (the methods of :mod:`overlapdyn.derive.methods`, by label):

* ``exact`` (:class:`~overlapdyn.derive.methods.Exact`) — polynomial σ, σ* and g: the exact
  engine of :mod:`overlapdyn.derive.gaussian`;
* ``closed-form`` (:class:`~overlapdyn.derive.methods.ClosedForm`) — erf(x/√2) student and
  committee teacher: the Saad–Solla arcsine formulas; a kinked student (relu, ``|x|``, leaky
  relu) and committee teacher (those, sign or the step): the arc-cosine kernels, orthant
  probabilities and, for the four-field kernels, a smooth one-dimensional integral of
  closed forms where the four fields are distinct (a closed form where two coincide;
  :mod:`overlapdyn.derive.kinked`);
* ``quadrature`` (:class:`~overlapdyn.derive.methods.Quadrature`) — any σ, σ* and g: every
  kernel evaluated at run time by compiled tensor Gauss–Hermite cubature over its covariance
  block (``nodes`` per direction: exponentially accurate for smooth functions,
  algebraically for kinks such as relu), the reference for the truncated kernels. A
  multi-index target's ``Tg…`` kernels integrate over the whole block ``(λ…, z1..zk)``
  with P fixed; ``Eg2`` is computed once, by cubature under N(0, P);
* ``hermite`` (:class:`~overlapdyn.derive.methods.HermiteTruncation`) — every
  non-polynomial σ, σ* replaced by its Hermite truncation at order L, and a non-polynomial
  multi-index target g by its multivariate Hermite truncation at total degree L
  (coefficients by cubature under N(0, P)); the relative L² truncation errors are reported;
  then exact. The reported error is for unit variances: where Q_jj or P_rr move far from 1
  the truncated polynomial is evaluated where its error is larger (at Q_11 ≈ 1.35 a tanh
  truncated at L = 5 misses E[G G] by a factor 5), so this route suits spherical or
  near-unit-norm dynamics.

:class:`~overlapdyn.derive.methods.Auto` picks exact, else closed form, else quadrature
(committees), else — multi-index targets — Hermite truncation where it is accurate
(relative L² error ≤ ``Auto.tolerance`` for every non-polynomial function) and quadrature
where it is not.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import sympy

from ..errors import NotPolynomialError, OverlapdynError
from ..model.activations import X
from ..model.activations import activation as resolve_activation
from ..model.formula import parse_formula
from ..model.spec import Model
from ..storage.memo import memoised
from .cubature import numeric_expectation
from .gaussian import GaussianFields, expectation
from .hermite import hermite_expansion
from .kinked import kinked_kernel_terms
from .methods import Derivation, check_derivation
from .multihermite import multivariate_hermite

__all__ = ["Kernel", "KernelSet", "derive_kernels", "has_symbolic_target", "kernel_identity",
           "target_coefficients"]


@dataclass(frozen=True)
class Kernel:
    """One scalar kernel of the scalar arguments ``args``: the formula ``expr``; or (for
    quadrature) ``E[Π_i f_i(x_i)]`` with ``integrand`` naming the ``f_i`` (``"sig"``,
    ``"dsig"``, ``"tsig"``, ``"ident"``); or (kinked activations) ``basis = (function,
    terms)``, the sum of the terms of :func:`~overlapdyn.derive.kinked.kinked_kernel_terms`."""

    name: str
    args: tuple[str, ...]
    expr: sympy.Expr | None
    integrand: tuple[str, ...] = ()
    basis: tuple = ()


@dataclass(frozen=True)
class KernelSet:
    """Everything the drift needs, with how it was obtained.

    Attributes:
        kernels: the kernels (names as in the module docstring).
        committee: whether the target kernels are the committee ones (I2st…) or the
            multi-index ones (Tg1…).
        method: the label of the method actually used
            (:class:`~overlapdyn.derive.methods.Auto` resolved).
        truncation_errors: ``{function: relative L²(γ) error}`` of each Hermite-truncated
            activation (empty unless ``method == "hermite"``).
        functions: for quadrature, ``{"sig": σ, "dsig": σ', "tsig": σ*, "ident": x}`` in
            :data:`X`, and for a multi-index target ``"g"``: g in ``z1..zk``.
        quadrature_nodes: nodes per direction of the quadrature kernels.
        latent_covariance: P (k×k, nested tuples) of a multi-index target's quadrature
            kernels, which integrate over it; else empty.
        symbolic_target: a multi-index target's kernels take P's entries ``p_r_t`` (r ≤ t)
            and then the coefficients ``gc_i`` of g's monomials as arguments after their own
            (``Eg2`` takes them alone), so they serve every P and every g with the same
            monomials (:func:`derive_kernels` with ``symbolic_target``); else P and g are
            numbers in them.
        coefficients: with ``symbolic_target``, the number of g's monomials (the ``gc_i``).
    """

    kernels: tuple[Kernel, ...]
    committee: bool
    method: str
    truncation_errors: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    quadrature_nodes: int = 0
    latent_covariance: tuple = ()
    symbolic_target: bool = False
    coefficients: int = 0

    def __getitem__(self, name: str) -> Kernel:
        for kernel in self.kernels:
            if kernel.name == name:
                return kernel
        raise KeyError(name)


# ----------------------------------------------------------------------------- helpers


def _generic(n: int) -> GaussianFields:
    return GaussianFields.generic([f"x{i}" for i in range(1, n + 1)], symbol="c")


def _entry_names(n: int) -> tuple[str, ...]:
    return tuple(f"c_{i}{j}" for i, j in itertools.combinations_with_replacement(
        range(1, n + 1), 2))


def _at(f: sympy.Expr, variable: str) -> sympy.Expr:
    return f.subs(X, sympy.Symbol(variable))


def _polynomial_kernels(sigma: sympy.Expr, teacher: sympy.Expr | None) -> list[Kernel]:
    """Student (and committee) kernels of polynomial activations, by the exact engine."""
    d_sigma = sympy.diff(sigma, X)
    pieces = {
        "I2ss": (2, [_at(sigma, "x1"), _at(sigma, "x2")]),
        "J2s": (2, [_at(d_sigma, "x1"), _at(d_sigma, "x2")]),
        "I3ss": (3, [_at(d_sigma, "x1"), sympy.Symbol("x2"), _at(sigma, "x3")]),
        "I4sss": (4, [_at(d_sigma, "x1"), _at(d_sigma, "x2"), _at(sigma, "x3"),
                      _at(sigma, "x4")]),
    }
    if teacher is not None:
        pieces |= {
            "I2st": (2, [_at(sigma, "x1"), _at(teacher, "x2")]),
            "I2tt": (2, [_at(teacher, "x1"), _at(teacher, "x2")]),
            "I3st": (3, [_at(d_sigma, "x1"), sympy.Symbol("x2"), _at(teacher, "x3")]),
            "I4sst": (4, [_at(d_sigma, "x1"), _at(d_sigma, "x2"), _at(sigma, "x3"),
                          _at(teacher, "x4")]),
            "I4stt": (4, [_at(d_sigma, "x1"), _at(d_sigma, "x2"), _at(teacher, "x3"),
                          _at(teacher, "x4")]),
        }
    return [Kernel(name, _entry_names(n), expectation(factors, _generic(n)))
            for name, (n, factors) in pieces.items()]


QUADRATURE_INTEGRANDS = {
    "I2ss": ("sig", "sig"), "J2s": ("dsig", "dsig"), "I3ss": ("dsig", "ident", "sig"),
    "I4sss": ("dsig", "dsig", "sig", "sig"), "I2st": ("sig", "tsig"), "I2tt": ("tsig", "tsig"),
    "I3st": ("dsig", "ident", "tsig"), "I4sst": ("dsig", "dsig", "sig", "tsig"),
    "I4stt": ("dsig", "dsig", "tsig", "tsig"),
}


def _numeric_form(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with its kinks written as conditionals, for compiled cubature."""
    return expr.rewrite(sympy.Piecewise) if expr.has(sympy.Heaviside, sympy.sign,
                                                     sympy.DiracDelta) else expr


def _quadrature_kernels(sigma: sympy.Expr, teacher: sympy.Expr, nodes: int) -> KernelSet:
    """Kernels evaluated by compiled cubature; kinks are written as conditionals."""
    functions = {"sig": _numeric_form(sigma), "dsig": _numeric_form(sympy.diff(sigma, X)),
                 "tsig": _numeric_form(teacher), "ident": X}
    kernels = tuple(Kernel(name, _entry_names(len(integrand)), None, integrand)
                    for name, integrand in QUADRATURE_INTEGRANDS.items())
    return KernelSet(kernels, True, "quadrature", functions=functions, quadrature_nodes=nodes)


def _multi_index_quadrature_kernels(sigma: sympy.Expr, g: sympy.Expr, P: np.ndarray,
                                    nodes: int) -> KernelSet:
    """A multi-index target's kernels by compiled cubature at run time.

    The student kernels have the committee route's integrands (:data:`QUADRATURE_INTEGRANDS`);
    each target kernel ``Tg…`` integrates its student factors and ``g`` (``"g"``), ``g²``
    (``"gg"``) or ``z_r g`` (``"zg<r>"``) over its whole block ``[[q, m], [mᵀ, P]]``; the
    compile stage prints them all (``ranked_cubature_source`` of
    :mod:`overlapdyn.compile.printer`). ``E[g²]`` does not depend on the state: it is
    computed here, by cubature under N(0, P) (``numeric_expectation``), and printed as a
    number.
    """
    k = P.shape[0]
    z = [sympy.Symbol(f"z{r}") for r in range(1, k + 1)]
    args = {n: tuple(_latent_fields(n, P)[1]) for n in (1, 2, 3)}
    targets = {"Tg1": (1, ("sig", "g")),
               **{f"Tgz_{r}": (1, ("dsig", f"zg{r}")) for r in range(1, k + 1)},
               "Tgl": (2, ("dsig", "ident", "g")), "Tgg": (2, ("dsig", "dsig", "gg")),
               "Tgs": (3, ("dsig", "dsig", "sig", "g"))}
    kernels = [Kernel(name, _entry_names(len(QUADRATURE_INTEGRANDS[name])), None,
                      QUADRATURE_INTEGRANDS[name]) for name in ("I2ss", "J2s", "I3ss", "I4sss")]
    kernels += [Kernel(name, args[n], None, integrand)
                for name, (n, integrand) in targets.items()]
    mean_square = numeric_expectation(g * g, [str(v) for v in z], P)
    kernels.append(Kernel("Eg2", (), sympy.Float(mean_square)))
    functions = {"sig": _numeric_form(sigma), "dsig": _numeric_form(sympy.diff(sigma, X)),
                 "ident": X, "g": _numeric_form(g)}
    return KernelSet(tuple(kernels), False, "quadrature", functions=functions,
                     quadrature_nodes=nodes,
                     latent_covariance=tuple(tuple(float(v) for v in row) for row in P))


def _erf_kernels(committee: bool) -> list[Kernel]:
    """Saad–Solla closed forms for σ = σ* = erf(x/√2) (Saad & Solla 1995, Phys. Rev. E 52, 4225)."""
    c = {name: sympy.Symbol(name) for name in _entry_names(4)}
    c11, c12, c13, c14 = c["c_11"], c["c_12"], c["c_13"], c["c_14"]
    c22, c23, c24, c33, c34, c44 = (c[n] for n in ("c_22", "c_23", "c_24", "c_33", "c_34",
                                                  "c_44"))
    pi = sympy.pi
    i2 = 2 / pi * sympy.asin(c12 / sympy.sqrt((1 + c11) * (1 + c22)))
    lam3 = (1 + c11) * (1 + c33) - c13**2
    i3 = 2 / pi * (c23 * (1 + c11) - c12 * c13) / ((1 + c11) * sympy.sqrt(lam3))
    lam4 = (1 + c11) * (1 + c22) - c12**2
    lam0 = (lam4 * c34 - c23 * c24 * (1 + c11) - c13 * c14 * (1 + c22)
            + c12 * c13 * c24 + c12 * c14 * c23)
    lam1 = lam4 * (1 + c33) - c23**2 * (1 + c11) - c13**2 * (1 + c22) + 2 * c12 * c13 * c23
    lam2 = lam4 * (1 + c44) - c24**2 * (1 + c11) - c14**2 * (1 + c22) + 2 * c12 * c14 * c24
    i4 = 4 / pi**2 / sympy.sqrt(lam4) * sympy.asin(lam0 / sympy.sqrt(lam1 * lam2))
    j2 = 2 / pi / sympy.sqrt(1 + c11 + c22 + c11 * c22 - c12**2)
    forms = {"I2ss": (2, i2), "J2s": (2, j2), "I3ss": (3, i3), "I4sss": (4, i4)}
    if committee:
        forms |= {"I2st": (2, i2), "I2tt": (2, i2), "I3st": (3, i3), "I4sst": (4, i4),
                  "I4stt": (4, i4)}
    return [Kernel(name, _entry_names(n), expr) for name, (n, expr) in forms.items()]


def _coefficient_names(n: int) -> list[str]:
    """The names of a symbolic target's coefficients as kernel arguments: ``gc_1..gc_n``."""
    return [f"gc_{i}" for i in range(1, n + 1)]


def target_coefficients(g: sympy.Expr, k: int) -> tuple[str, np.ndarray]:
    """A polynomial target split into its monomials and their coefficients.

    ``g(z) = Σ_i gc_i z^{ν_i}`` over the monomials ``z^{ν_i}`` of g in SymPy's
    lexicographic order (``sympy.Poly.terms``), so two targets with the same monomials
    number them alike whatever their coefficients.

    Returns:
        ``(template, values)``: the formula ``Σ_i gc_i z^{ν_i}`` as a string in the
        symbols ``gc_i`` and ``z1..zk`` (the kernels' identity), and ``values[i − 1] =
        gc_i`` (float64, shape ``(n,)``: the run-time arguments).
    """
    z = sympy.symbols([f"z{r}" for r in range(1, k + 1)])
    terms = sympy.Poly(g, *z).terms()
    names = _coefficient_names(len(terms))
    template = sympy.Add(*(sympy.Symbol(name)
                           * sympy.Mul(*(zr**e for zr, e in zip(z, nu, strict=True)))
                           for name, (nu, _) in zip(names, terms, strict=True)))
    return str(template), np.array([float(c) for _, c in terms], dtype=float)


def _latent_names(k: int) -> list[str]:
    """The names of P's entries as kernel arguments: ``p_r_t``, r ≤ t (row by row)."""
    return [f"p_{r}_{t}" for r, t in itertools.combinations_with_replacement(range(1, k + 1),
                                                                            2)]


def _latent_fields(n_student: int, P: np.ndarray, symbolic: bool = False,
                   coefficient_names: list[str] | None = None
                   ) -> tuple[GaussianFields, list[str]]:
    """Fields (l1..ln, z1..zk) with symbolic λ-block q_ab, cross block m_a_r, and P numeric
    or (``symbolic``) the symbols ``p_r_t``, which then end the arguments, followed by
    ``coefficient_names``."""
    k = P.shape[0]
    q = [[sympy.Symbol(f"q_{min(a, b)}{max(a, b)}") for b in range(1, n_student + 1)]
         for a in range(1, n_student + 1)]
    m = [[sympy.Symbol(f"m_{a}_{r}") for r in range(1, k + 1)] for a in range(1, n_student + 1)]
    if symbolic:
        p_block = [[sympy.Symbol(f"p_{min(r, t)}_{max(r, t)}") for t in range(1, k + 1)]
                   for r in range(1, k + 1)]
    else:
        p_block = [[sympy.nsimplify(float(v), rational=True) for v in row] for row in P]
    top = [q[a] + m[a] for a in range(n_student)]
    bottom = [[m[a][r] for a in range(n_student)] + p_block[r] for r in range(k)]
    names = [f"l{a}" for a in range(1, n_student + 1)] + [f"z{r}" for r in range(1, k + 1)]
    args = [f"q_{a}{b}" for a, b in itertools.combinations_with_replacement(
        range(1, n_student + 1), 2)] + [f"m_{a}_{r}" for a in range(1, n_student + 1)
                                        for r in range(1, k + 1)]
    if symbolic:
        args += _latent_names(k) + list(coefficient_names or ())
    return GaussianFields(tuple(names), sympy.Matrix(top + bottom), label="Ω"), args


def _multi_index_kernels(sigma: sympy.Expr, g: sympy.Expr, P: np.ndarray,
                         symbolic: bool = False, coefficients: int = 0) -> list[Kernel]:
    """The target kernels; with ``symbolic`` g holds the ``coefficients`` symbols ``gc_i``,
    which end every kernel's arguments."""
    d_sigma = sympy.diff(sigma, X)
    k = P.shape[0]
    kernels = []
    names = _coefficient_names(coefficients)

    def mean(factors: list, fields: GaussianFields) -> sympy.Expr:
        return expectation(factors, fields, parameters=names)

    fields1, args1 = _latent_fields(1, P, symbolic, names)
    kernels.append(Kernel("Tg1", tuple(args1), mean([_at(sigma, "l1"), g], fields1)))
    for r in range(1, k + 1):
        kernels.append(Kernel(f"Tgz_{r}", tuple(args1), mean(
            [_at(d_sigma, "l1"), sympy.Symbol(f"z{r}"), g], fields1)))
    fields2, args2 = _latent_fields(2, P, symbolic, names)
    kernels.append(Kernel("Tgl", tuple(args2), mean(
        [_at(d_sigma, "l1"), sympy.Symbol("l2"), g], fields2)))
    kernels.append(Kernel("Tgg", tuple(args2), mean(
        [_at(d_sigma, "l1"), _at(d_sigma, "l2"), g, g], fields2)))
    fields3, args3 = _latent_fields(3, P, symbolic, names)
    kernels.append(Kernel("Tgs", tuple(args3), mean(
        [_at(d_sigma, "l1"), _at(d_sigma, "l2"), _at(sigma, "l3"), g], fields3)))
    latent_only = GaussianFields(tuple(f"z{r}" for r in range(1, k + 1)),
                                 fields1.covariance[1:, 1:], label="P")
    kernels.append(Kernel("Eg2", tuple(_latent_names(k) + names) if symbolic else (),
                          mean([g, g], latent_only)))
    return kernels


def _truncated(expr: sympy.Expr, order: int, errors: dict, label: str) -> sympy.Expr:
    """``Σ_{n≤L} c_n He_n`` with only the significant coefficients (the exact parity's zeros
    and those above :data:`~overlapdyn.derive.hermite.ZERO_TOLERANCE`·‖f‖): round-off kept
    in the other orders would make every kernel a dense polynomial."""
    expansion = hermite_expansion(expr, order)
    errors[label] = expansion.relative_truncation_error
    coefficients = [float(c) for c in expansion.significant()]
    return sympy.expand(sum(sympy.Float(c) * sympy.hermite_prob(n, X)
                            for n, c in enumerate(coefficients) if c != 0.0))


def _truncated_target(g: sympy.Expr, P: np.ndarray, order: int, errors: dict) -> sympy.Expr:
    """Multivariate Hermite truncation of a multi-index target at total degree ``order``.

    ``g(Lw) ≈ Σ_{|ν|≤L} ĝ_ν Π_i He_{ν_i}(w_i)`` (:func:`~overlapdyn.derive.multihermite.
    multivariate_hermite`), returned as a polynomial in z (``w = L⁻¹z``, ``P = L Lᵀ``); the
    relative L²(N(0, P)) error is recorded in ``errors``.
    """
    k = P.shape[0]
    expansion = multivariate_hermite(g, k, P=P, order=order)
    z = sympy.symbols([f"z{r}" for r in range(1, k + 1)])
    w = sympy.Matrix(np.linalg.inv(np.linalg.cholesky(P)).tolist()) * sympy.Matrix(z)
    errors[f"g = {g}"] = expansion.relative_error
    return expansion.as_expr(w)


# ------------------------------------------------------------------------------ entry


def derive_kernels(model: Model, derivation: Derivation | None = None,
                   symbolic_target: bool = False) -> KernelSet:
    """Derive every kernel the drift of ``model`` needs.

    Args:
        model: the model.
        derivation: how (:mod:`overlapdyn.derive.methods`; default
            :class:`~overlapdyn.derive.methods.Auto`).
        symbolic_target: for a polynomial multi-index target on the ``exact`` or ``hermite``
            route, keep P's entries and the coefficients of g's monomials
            (:func:`target_coefficients`) as symbols, arguments of the target kernels
            (``KernelSet.symbolic_target``), so that the kernels serve every P and every g
            with the same monomials; ignored elsewhere (:func:`has_symbolic_target`).

    Only the activations, the target function and P matter (not p, η, c_p, a, …), so the
    result is memoised on those (on P only where it is a number in the kernels).

    Raises:
        NotPolynomialError: :class:`~overlapdyn.derive.methods.Exact` requested for
            non-polynomial functions.
        OverlapdynError: a method that does not apply to the model.
    """
    method = check_derivation(derivation).resolve(model)
    symbolic = symbolic_target and has_symbolic_target(model, method)
    return _derive(*kernel_identity(model, symbolic), method.label, method.resolution,
                   symbolic)


def has_symbolic_target(model: Model, derivation: Derivation) -> bool:
    """Whether ``derive_kernels(model, derivation, symbolic_target=True)`` keeps P and g's
    coefficients symbolic: a multi-index target that is a polynomial, on the ``exact`` or
    ``hermite`` route (whose truncation of σ does not depend on P; a truncated g would)."""
    target = model.target
    if target.is_committee or derivation.label not in ("exact", "hermite"):
        return False
    return target.function().is_polynomial(*sympy.symbols(target.latent_names))


def kernel_identity(model: Model, symbolic_target: bool = False) -> tuple:
    """What the kernels of ``model`` depend on, and nothing else: the student activation and
    either the committee's activation or the multi-index target's formula, P and k (not p,
    η, c_p, a, b, c_k, …). Equal identities, equal kernels: the key of every kernel cache.

    With ``symbolic_target`` (kernels that take P and g's coefficients as arguments,
    :func:`has_symbolic_target`) P is left out too, and the formula is g's monomials with
    symbolic coefficients (the template of :func:`target_coefficients`).

    Returns:
        ``(student activation, teacher activation | None, formula | None, P | None, k | 0)``.
    """
    target = model.target
    if target.is_committee:
        return (model.student.activation, target.activation, None, None, 0)
    if symbolic_target:
        template, _ = target_coefficients(target.function(), target.k)
        return (model.student.activation, None, template, None, target.k)
    return (model.student.activation, None, str(target.function()), target.P, target.k)


@memoised(maxsize=64)
def _derive(student: str, teacher_name: str | None, expression: str | None, P: tuple | None,
            k: int, method: str, resolution: int | None, symbolic_target: bool = False
            ) -> KernelSet:
    """The kernels by ``method`` (a label) at ``resolution`` (its order or nodes)."""
    committee = teacher_name is not None
    if method == "closed-form" and student == "erf" and teacher_name == "erf":
        return KernelSet(tuple(_erf_kernels(committee)), committee, method)
    if method == "closed-form":
        return KernelSet(tuple(Kernel(name, _entry_names({"moment2": 2, "stein3": 3,
                                                          "kinked4": 4}[function]), None,
                                      basis=(function, terms))
                               for name, (function, terms)
                               in kinked_kernel_terms(student, teacher_name).items()),
                         committee, method)
    if method == "quadrature" and committee:
        return _quadrature_kernels(resolve_activation(student).expr,
                                   resolve_activation(teacher_name).expr, resolution)
    if method == "quadrature":
        return _multi_index_quadrature_kernels(
            resolve_activation(student).expr,
            parse_formula(expression, tuple(f"z{r + 1}" for r in range(k)),
                          what="target expression"),
            np.eye(k) if P is None else np.array(P), resolution)
    errors: dict[str, float] = {}
    sigma = resolve_activation(student).expr
    if sigma is None:
        raise OverlapdynError(f"student activation {student!r} has no symbolic form")
    if method == "hermite" and not sigma.is_polynomial(X):
        sigma = _truncated(sigma, resolution, errors, f"σ = {student}")
    teacher = None
    if committee:
        teacher = resolve_activation(teacher_name).expr
        if method == "hermite" and not teacher.is_polynomial(X):
            teacher = _truncated(teacher, resolution, errors, f"σ* = {teacher_name}")
        return KernelSet(tuple(_polynomial_kernels(sigma, teacher)), True, method, errors)
    names = [f"z{r}" for r in range(1, k + 1)]
    # a symbolic target's template names each of its coefficients gc_i once
    coefficients = expression.count("gc_") if symbolic_target else 0
    g = parse_formula(expression, names + _coefficient_names(coefficients),
                      what="target expression")
    z = sympy.symbols(names)
    P_matrix = np.eye(k) if P is None else np.array(P)
    if not g.is_polynomial(*z):
        if method != "hermite":
            raise NotPolynomialError(
                f"the multi-index target {g} is not a polynomial: use HermiteTruncation(order) "
                "(its multivariate Hermite truncation), or write it as a committee")
        g = _truncated_target(g, P_matrix, resolution, errors)
    symbolic = symbolic_target and g.is_polynomial(*z)
    kernels = (_polynomial_kernels(sigma, None)
               + _multi_index_kernels(sigma, g, P_matrix, symbolic, coefficients))
    return KernelSet(tuple(kernels), False, method, errors, symbolic_target=symbolic,
                     coefficients=coefficients)
