r"""How the drift's kernels are derived: one small immutable class per method.

A derivation is not part of the model — the same model, other numerics — so it is passed
beside it (``CompiledModel(model, HermiteTruncation(order=4))``). Each class checks its own
arguments when built, and :meth:`Derivation.resolve` checks that it applies to a model.

========================  ===============  =============================================
class                     label            the kernels (:mod:`overlapdyn.derive.kernels`)
========================  ===============  =============================================
``Exact()``               ``exact``        exact Gaussian moments: polynomial σ, σ* and g
``ClosedForm()``          ``closed-form``  Saad–Solla arcsines: erf(x/√2) student, erf
                                           committee; arc-cosine kernels: relu, ``|x|``
                                           students, kinked committees
``HermiteTruncation(L)``  ``hermite``      every non-polynomial function replaced by its
                                           Hermite truncation at order L, then exact
``Quadrature(n)``         ``quadrature``   compiled Gauss–Hermite cubature at run time
``Auto()``                (resolves)       the first of these that applies (see :class:`Auto`)
========================  ===============  =============================================

:meth:`Derivation.choose` returns the method used with what the choice measured
(:class:`Choice`): :class:`Auto` measures the Hermite truncation errors of a multi-index
model's non-polynomial functions and takes quadrature where they exceed its tolerance, so
the truncation error is reported whichever route it takes.

The label is how the method is reported (``KernelSet.method``, ``CompiledModel.method``, a
trajectory's ``kernels``, printed summaries) and saved (:meth:`Derivation.to_dict`,
:func:`derivation_from_dict`).
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..errors import ConfigError, KinkAccuracyWarning, NotPolynomialError, OverlapdynError
from ..model.checks import check_finite, check_integer, check_section
from ..model.spec import Model
from ..storage.memo import memoised

if TYPE_CHECKING:
    import sympy

# SymPy, SciPy and the activation registry are imported where a choice is computed, not at
# module level: a warm CompiledModel needs only the classes below (overlapdyn.compile.choices)

__all__ = ["kinks", "Auto", "Choice", "ClosedForm", "DERIVATIONS", "Derivation", "Exact",
           "HermiteTruncation", "ModelFunctions", "QUADRATURE_ACCURACY", "Quadrature",
           "check_derivation", "kink_errors",
           "derivation_from_config", "derivation_from_dict", "parse_derivation",
           "truncation_errors"]


def kinks() -> tuple:
    """The SymPy functions that put a kink into an activation or a target (also the
    module's ``KINKS``, made on first use: this module is imported without SymPy)."""
    import sympy

    return (sympy.Max, sympy.Min, sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Piecewise)


def __getattr__(name: str):
    # KINKS, the tuple of kinks(), on first use (PEP 562)
    if name == "KINKS":
        return kinks()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class ModelFunctions:
    """What the choice of a method reads off a model: is everything polynomial, is it the
    erf/erf pair or a kinked pair (:mod:`overlapdyn.derive.kinked`) of the closed forms, is
    the target a committee, does any function have a kink (:func:`kinks`)."""

    polynomial: bool
    erf_pair: bool
    committee: bool
    kinked_pair: bool = False
    kinked: bool = False

    @classmethod
    def of(cls, model: Model) -> ModelFunctions:
        import sympy

        from ..model.activations import activation as resolve_activation
        from .kinked import kinked_basis

        sigma = resolve_activation(model.student.activation)
        target = model.target
        if sigma.expr is None:
            raise OverlapdynError(f"the student activation {model.student.activation!r} has no "
                                  "symbolic form; give a name or a formula")
        teacher = resolve_activation(target.activation) if target.is_committee else None
        z = sympy.symbols(target.latent_names)
        polynomial = sigma.is_polynomial and (
            teacher.is_polynomial if teacher is not None else target.function().is_polynomial(*z))
        erf_pair = sigma.name == "erf" and teacher is not None and teacher.name == "erf"
        kinked_pair = False
        if teacher is not None and not polynomial and not erf_pair:
            student_basis = kinked_basis(model.student.activation)
            teacher_basis = kinked_basis(target.activation)
            kinked_pair = (student_basis is not None and student_basis.is_student
                           and teacher_basis is not None)
        functions = [sigma.expr] + ([teacher.expr] if teacher is not None
                                    else [target.function()])
        kinked = any(f is not None and f.has(*kinks()) for f in functions)
        return cls(polynomial, erf_pair, teacher is not None, kinked_pair, kinked)


@dataclass(frozen=True)
class Choice:
    """The method that derives a model's kernels, and what choosing it measured.

    Attributes:
        method: the method used (never :class:`Auto`).
        truncation_errors: ``{function: relative L²(γ) error}`` of the Hermite truncation
            of each non-polynomial function, where the choice measured them (:class:`Auto`,
            multi-index targets); else empty.
        reason: one sentence: why this method.
    """

    method: Derivation
    truncation_errors: dict = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class Derivation:
    """The base of the derivation methods (use one of its subclasses).

    Subclasses set ``label`` and implement :meth:`resolve`.
    """

    label: ClassVar[str] = ""

    def __post_init__(self) -> None:
        if type(self) is Derivation:
            raise OverlapdynError("Derivation is the base class: use Exact(), ClosedForm(), "
                                  "HermiteTruncation(order), Quadrature(nodes) or Auto()")

    def resolve(self, model: Model) -> Derivation:
        """The method that derives ``model``'s kernels: ``self`` after checking that it
        applies (:class:`Auto` returns the method it picks).

        Raises:
            NotPolynomialError, OverlapdynError: the method does not apply to the model.
        """
        raise NotImplementedError

    def choose(self, model: Model) -> Choice:
        """:meth:`resolve` with what the choice measured and why (:class:`Choice`)."""
        return Choice(self.resolve(model), {}, f"{self.label}, as asked")

    @property
    def resolution(self) -> int | None:
        """The method's numerical resolution (truncation order or nodes), else None."""
        return None

    def to_dict(self) -> dict:
        """``{"method": label, **arguments}``, JSON-ready; inverse: :func:`derivation_from_dict`."""
        return {"method": self.label, **{f.name: getattr(self, f.name)
                                         for f in dataclasses.fields(self)}}


@dataclass(frozen=True)
class Exact(Derivation):
    """Exact Gaussian moments (:mod:`overlapdyn.derive.gaussian`): polynomial σ, σ* and g.

    The kernels are polynomials in the covariance entries. The compile stage prints them as
    formulas, or from an expansion size of 1000 (a He4 committee and above, whose formulas
    take Numba 26 s to minutes: He6 180 s) stores them as coefficient tables summed by one
    shared evaluator: 4–13 s to a first drift at any degree ≤ 6, each drift call 1.3–6× slower
    (:mod:`overlapdyn.compile.tables`; ``CompiledModel(model, Exact(), tables=…)`` forces
    either). The same holds for :class:`HermiteTruncation`, whose kernels are polynomials
    too.
    """

    label: ClassVar[str] = "exact"

    def resolve(self, model: Model) -> Derivation:
        if not ModelFunctions.of(model).polynomial:
            raise NotPolynomialError(
                "Exact() needs polynomial activations and target; use HermiteTruncation(order) "
                "(Hermite truncation) or Quadrature(nodes), or for erf committees ClosedForm()")
        return self


@dataclass(frozen=True)
class ClosedForm(Derivation):
    """Closed-form kernels: Saad & Solla's arcsine formulas for an erf(x/√2) student learning
    an erf committee; for a kinked student (relu, ``|x|``, leaky relu: any σ in the span of x,
    relu(x) and 1) learning a committee of kinked or linear teachers (also sign and the
    step), the arc-cosine kernels and orthant probabilities, and for the four-field kernels
    of four distinct fields a one-dimensional integral of closed forms by a graded
    Gauss–Legendre rule, smooth in Ω (closed forms where two of the fields coincide;
    :mod:`overlapdyn.derive.kinked`)."""

    label: ClassVar[str] = "closed-form"

    def resolve(self, model: Model) -> Derivation:
        functions = ModelFunctions.of(model)
        if not (functions.erf_pair or functions.kinked_pair):
            raise OverlapdynError(
                "closed-form kernels exist for erf(x/√2) students learning erf committees and "
                "for relu/|x|/leaky-relu students learning committees of relu, |x|, sign, "
                "step or linear teachers; use Exact(), Quadrature(nodes) or "
                "HermiteTruncation(order) for this model")
        return self


@dataclass(frozen=True)
class HermiteTruncation(Derivation):
    """Every non-polynomial σ, σ* replaced by its Hermite truncation at order L, and a
    non-polynomial multi-index target g by its multivariate truncation at total degree L;
    then exact. The relative L² truncation errors are reported.

    Attributes:
        order: the truncation order L ≥ 1. The kernels of a truncated activation are dense
            polynomials whose size grows steeply with L (I4 of a relu student: 1.6k terms at
            L = 4, 26k at L = 6, 228k at L = 8).
    """

    order: int = 6
    label: ClassVar[str] = "hermite"

    def __post_init__(self) -> None:
        object.__setattr__(self, "order", check_integer(self.order, "HermiteTruncation.order",
                                                        1))

    def resolve(self, model: Model) -> Derivation:
        ModelFunctions.of(model)  # a student without a formula cannot be truncated
        return self

    @property
    def resolution(self) -> int:
        return self.order


@dataclass(frozen=True)
class Quadrature(Derivation):
    """Every kernel evaluated at run time by compiled tensor Gauss–Hermite cubature
    (exponentially accurate in ``nodes`` for smooth functions, algebraically for kinks such
    as relu: ∝ 1/n, 1.5e-2 for relu at 16 nodes, :func:`kink_errors`, which the choice's
    reason states and a :class:`~overlapdyn.errors.KinkAccuracyWarning` reports above
    :data:`QUADRATURE_ACCURACY`); any σ, σ* and g.

    A committee's kernels integrate over the eigen-factor of their few fields. A multi-index
    target's integrate over their whole block (student fields and z1..zk) in the order of its
    Cholesky factor, latent fields first (``templates/ranked_cubature.py``), with the rule of
    the block's rank r: 4n, 4n, 2n, n nodes per direction for r = 1..4 and ⌊n^(4/r)⌋ (at
    least 2) beyond, so no call costs more than n⁴ points
    (:func:`overlapdyn.compile.render.ranked_rule_sizes`). For the tanh student on
    tanh(z1 + z2) at n = 16 the drift is within 2e-4 of an independent cubature for
    Q_jj ≲ 1.5 and 8e-4 at Q_jj ≈ 3 (``benchmarks/bench_multi_index.py``).

    Attributes:
        nodes: n ≥ 2, Gauss–Hermite nodes per direction of a four-field kernel (an I4 call
            costs n⁴ activation evaluations; two- and three-field kernels use 4n and 2n per
            direction).
    """

    nodes: int = 16
    label: ClassVar[str] = "quadrature"

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", check_integer(self.nodes, "Quadrature.nodes", 2))

    def resolve(self, model: Model) -> Derivation:
        ModelFunctions.of(model)  # a student without a formula cannot be compiled
        return self

    def choose(self, model: Model) -> Choice:
        return Choice(self.resolve(model), {}, f"{self.label}, as asked"
                      + _kink_note(model, self))

    @property
    def resolution(self) -> int:
        return self.nodes


@dataclass(frozen=True)
class Auto(Derivation):
    """The first method that applies:

    1. :class:`Exact` for polynomial σ, σ* and g;
    2. :class:`ClosedForm` for an erf student learning an erf committee, or a kinked
       (piecewise-linear) student learning a kinked or linear committee;
    3. ``quadrature`` for any other committee;
    4. for a multi-index target, ``truncation`` where it is accurate — every non-polynomial
       function's Hermite truncation at ``truncation.order`` misses it by at most
       ``tolerance`` in relative L²(γ) (:func:`truncation_errors`) — else ``quadrature``.

    The criterion of 4 is measured at unit variances, where the truncation is at its best
    (away from Q_jj = 1 its error grows, see :mod:`overlapdyn.derive.kernels`), and the
    kernels multiply several truncated factors, so the default tolerance asks ten times
    more than the ~1e-3 relative accuracy of the quadrature route's drift. Common
    activations miss it at order 6 (tanh 6e-2, erf 3e-2, relu 7e-2, softplus 7e-4), so
    quadrature is what non-polynomial multi-index models get unless told otherwise; the
    measured errors are reported either way (:class:`Choice`, ``CompiledModel.
    truncation_errors``).

    Attributes:
        truncation: the Hermite truncation used where truncation is chosen.
        quadrature: the cubature used where quadrature is chosen.
        tolerance: the largest relative L²(γ) truncation error accepted (> 0).
    """

    truncation: HermiteTruncation = field(default_factory=HermiteTruncation)
    quadrature: Quadrature = field(default_factory=Quadrature)
    tolerance: float = 1e-4
    label: ClassVar[str] = "auto"

    def __post_init__(self) -> None:
        if not isinstance(self.truncation, HermiteTruncation):
            raise OverlapdynError(f"Auto.truncation must be a HermiteTruncation, got "
                                  f"{self.truncation!r}")
        if not isinstance(self.quadrature, Quadrature):
            raise OverlapdynError(f"Auto.quadrature must be a Quadrature, got "
                                  f"{self.quadrature!r}")
        tolerance = check_finite(self.tolerance, "Auto.tolerance")
        if not tolerance > 0:
            raise OverlapdynError(f"Auto.tolerance must be > 0, got {self.tolerance!r}")
        object.__setattr__(self, "tolerance", tolerance)

    def resolve(self, model: Model) -> Derivation:
        return self.choose(model).method

    def choose(self, model: Model) -> Choice:
        functions = ModelFunctions.of(model)
        if functions.polynomial:
            return Choice(Exact(), {}, "exact: every function is a polynomial")
        if functions.erf_pair:
            return Choice(ClosedForm(), {}, "closed-form: erf student, erf committee")
        if functions.kinked_pair:
            return Choice(ClosedForm(), {}, "closed-form: kinked (piecewise-linear) student "
                          "and committee; the four-field kernels by a graded one-dimensional "
                          "rule, within ~1e-11 of independent quadrature")
        if functions.committee:
            return Choice(self.quadrature, {}, "quadrature: a non-polynomial committee"
                          + _kink_note(model, self.quadrature))
        order = self.truncation.order
        errors = truncation_errors(model, order)
        worst = max(errors.values())
        if worst <= self.tolerance:
            return Choice(self.truncation, errors, f"hermite: the truncation at order {order} "
                          f"misses by at most {worst:.1e} ≤ {self.tolerance:g}")
        return Choice(self.quadrature, errors, f"quadrature: the truncation at order {order} "
                      f"would miss by {worst:.1e} > {self.tolerance:g} (relative L²)"
                      + _kink_note(model, self.quadrature))

    def to_dict(self) -> dict:
        return {"method": self.label, "truncation": self.truncation.to_dict(),
                "quadrature": self.quadrature.to_dict(), "tolerance": self.tolerance}


#: the relative accuracy the quadrature route's drift has for smooth functions at its default
#: nodes; a kink that does worse is reported (:class:`~overlapdyn.errors.KinkAccuracyWarning`)
QUADRATURE_ACCURACY = 1e-3


def kink_errors(model: Model, nodes: int) -> dict[str, float]:
    """``{function: error}``: how well ``nodes``-point Gauss–Hermite integrates each of a
    model's activations with a kink (σ, ``"σ = name"``; a committee's σ*, ``"σ* = name"``).

    A kink makes Gauss–Hermite converge algebraically (∝ 1/n for relu), not exponentially,
    and the quadrature route's four-field kernels use ``nodes`` per direction. The error is
    ``max_f |Σᵢ wᵢ f(xᵢ) − E f| / √E[f²]`` over ``f = σ(x)`` and ``x σ(x)``, x ~ N(0, 1), the
    exact E by adaptive quadrature split at the kinks. For relu at 16 nodes it is 1.5e-2;
    the drift of a relu student on the target z1·z2 was 2–3 % off an independent cubature
    there, so it gives the order of the drift's error, not a bound. Smooth activations and
    multi-index targets' g are not listed.
    """
    target = model.target
    names = [("σ", model.student.activation)]
    if target.is_committee:
        names.append(("σ*", target.activation))
    return {f"{symbol} = {name}": _kink_error(name, int(nodes)) for symbol, name in names
            if _has_kink(name)}


def _has_kink(name: str) -> bool:
    from ..model.activations import activation as resolve_activation

    expr = resolve_activation(name).expr
    return expr is not None and expr.has(*kinks())


@memoised(maxsize=64)
def _kink_error(name: str, nodes: int) -> float:
    from ..model.activations import activation as resolve_activation

    sigma = resolve_activation(name)
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    edges = [-np.inf, *sorted({0.0, *sigma.breakpoints}), np.inf]
    worst = 0.0
    for f in (sigma, lambda t: t * sigma(t)):
        exact = _gaussian_mean(f, edges)
        norm = np.sqrt(_gaussian_mean(lambda t, f=f: f(t) ** 2, edges))
        if norm > 0:
            worst = max(worst, abs(float(w @ f(x)) - exact) / norm)
    return worst


def _gaussian_mean(f, edges) -> float:
    """E f(x), x ~ N(0, 1), by adaptive quadrature between consecutive ``edges``."""
    from scipy import integrate

    return sum(integrate.quad(lambda t: f(t) * np.exp(-t * t / 2), a, b, limit=200)[0]
               for a, b in itertools.pairwise(edges)) / np.sqrt(2 * np.pi)


def _kink_note(model: Model, quadrature: Quadrature) -> str:
    """The quadrature's accuracy at a kink, for the choice's reason ("" without one); a
    :class:`~overlapdyn.errors.KinkAccuracyWarning` when it is worse than
    :data:`QUADRATURE_ACCURACY`."""
    errors = kink_errors(model, quadrature.nodes)
    if not errors:
        return ""
    name, worst = max(errors.items(), key=lambda item: item[1])
    if worst > QUADRATURE_ACCURACY:
        way = ("ClosedForm() is exact for a kinked student on a kinked or linear committee"
               if ModelFunctions.of(model).kinked_pair else
               "no exact route exists for this model: raise Quadrature(nodes) (error ∝ 1/n, "
               "cost ∝ n⁴) or use a smooth activation (softplus, gelu)")
        warnings.warn(KinkAccuracyWarning(
            f"{model.name}: {quadrature.nodes}-node Gauss–Hermite across the kink of {name} "
            f"is accurate to only ~{worst:.1e} (one-dimensional moments; the drift's error is "
            f"of this order, e.g. 2–3 % for a relu student on z1*z2 at 16 nodes); {way}"),
            stacklevel=4)
    return f"; the kink of {name} limits it to ~{worst:.1e} at {quadrature.nodes} nodes"


def truncation_errors(model: Model, order: int) -> dict[str, float]:
    """``{function: relative L²(γ) error}`` of the Hermite truncation at ``order`` of each
    non-polynomial function of ``model``: σ (``"σ = name"``), a committee's σ*
    (``"σ* = name"``) or a multi-index g under N(0, P) (``"g = formula"``) — the keys of
    ``truncation_errors`` of :class:`~overlapdyn.derive.kernels.KernelSet`."""
    target = model.target
    return dict(_truncation_errors(model.student.activation, target.activation,
                                   None if target.is_committee else target.function(),
                                   target.P, target.k, int(order)))


@memoised(maxsize=64)
def _truncation_errors(student: str, teacher: str | None, g: sympy.Expr | None,
                       P: tuple | None, k: int, order: int) -> dict[str, float]:
    import sympy

    from ..model.activations import activation as resolve_activation
    from .hermite import hermite_expansion
    from .multihermite import multivariate_hermite

    errors = {}
    for key, name in ((f"σ = {student}", student), (f"σ* = {teacher}", teacher)):
        if name is not None and not resolve_activation(name).is_polynomial:
            errors[key] = hermite_expansion(name, order).relative_truncation_error
    if g is not None and not g.is_polynomial(*sympy.symbols([f"z{r}" for r in range(1, k + 1)])):
        # a measurement for a decision: a grid of at most ~2e6 points, however large k
        nodes = min(32, max(order + 2, int((2e6) ** (1 / k))))
        errors[f"g = {g}"] = multivariate_hermite(
            g, k, P=None if P is None else np.array(P), order=order, n_nodes=nodes).relative_error
    return errors


#: The methods by label, as :func:`derivation_from_dict` reads them.
DERIVATIONS: dict[str, type[Derivation]] = {
    cls.label: cls for cls in (Exact, ClosedForm, HermiteTruncation, Quadrature, Auto)}


def derivation_from_dict(data: dict) -> Derivation:
    """The method saved by :meth:`Derivation.to_dict`.

    Also reads the older form ``{"method": label, "hermite_order": L, "quadrature_nodes":
    n}`` of archives written before the methods were classes.
    """
    data = dict(data)
    label = data.pop("method", None)
    if label not in DERIVATIONS:
        raise OverlapdynError(f"unknown derivation method {label!r}; known: "
                              f"{sorted(DERIVATIONS)}")
    if "hermite_order" in data or "quadrature_nodes" in data:  # the older form
        truncation = HermiteTruncation(data.pop("hermite_order", 6))
        quadrature = Quadrature(data.pop("quadrature_nodes", 16))
        return {"auto": Auto(truncation, quadrature), "hermite": truncation,
                "quadrature": quadrature}.get(label) or DERIVATIONS[label]()
    try:
        if label == "auto":
            return Auto(**{name: derivation_from_dict(value) if isinstance(value, dict) else value
                           for name, value in data.items()})
        return DERIVATIONS[label](**data)
    except TypeError as error:  # an argument the method does not have
        raise OverlapdynError(f"bad arguments for the derivation {label!r}: {error}") from error


def check_derivation(derivation: Derivation | None) -> Derivation:
    """``derivation``, or :class:`Auto` for None; anything else is refused with the choices."""
    if derivation is None:
        return Auto()
    if not isinstance(derivation, Derivation):
        raise OverlapdynError(
            f"a derivation is one of Exact(), ClosedForm(), HermiteTruncation(order), "
            f"Quadrature(nodes) or Auto() (overlapdyn.derive), got {derivation!r}")
    return derivation


#: The keys of a ``[derivation]`` table, by method (``method`` itself defaults to ``auto``).
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "exact": ("method",), "closed-form": ("method",), "hermite": ("method", "order"),
    "quadrature": ("method", "nodes"), "auto": ("method", "order", "nodes", "tolerance")}


def derivation_from_config(section, where: str = "[derivation]") -> Derivation:
    """The method a ``[derivation]`` table of a TOML file asks for.

    The table: ``method`` (``"exact"``, ``"closed-form"``, ``"hermite"``, ``"quadrature"`` or
    ``"auto"``, the default) and that method's arguments: ``order`` (L ≥ 1) for ``hermite``,
    ``nodes`` (n ≥ 2) for ``quadrature``, and for ``auto`` any of ``order`` and ``nodes``
    (of the truncation and the cubature it may choose) and ``tolerance`` (> 0)::

        [derivation]
        method = "quadrature"
        nodes = 24

    Raises:
        ConfigError: not a table, an unknown method or key (naming it and the allowed ones),
            or a bad value.
    """
    values = check_section(section, where.strip("[]"), {key for keys in CONFIG_KEYS.values()
                                                        for key in keys})
    label = values.pop("method", "auto")
    if label not in CONFIG_KEYS:
        raise ConfigError(f"{where} method = {label!r} is not a derivation method; allowed: "
                          f"{', '.join(repr(name) for name in CONFIG_KEYS)}")
    extra = sorted(set(values) - set(CONFIG_KEYS[label]))
    if extra:
        raise ConfigError(f"{where}: method {label!r} takes no {extra}; its keys: "
                          f"{list(CONFIG_KEYS[label])}")
    order = check_integer(values.get("order", 6), f"{where} order (the truncation order)", 1)
    nodes = check_integer(values.get("nodes", 16), f"{where} nodes (Gauss–Hermite nodes per "
                          f"direction)", 2)
    if label == "hermite":
        return HermiteTruncation(order)
    if label == "quadrature":
        return Quadrature(nodes)
    if label == "auto":
        tolerance = check_finite(values.get("tolerance", 1e-4), f"{where} tolerance")
        if not tolerance > 0:
            raise ConfigError(f"{where} tolerance must be > 0, got {tolerance:g}")
        return Auto(HermiteTruncation(order), Quadrature(nodes), tolerance)
    return DERIVATIONS[label]()


def parse_derivation(text: str, where: str = "--derivation") -> Derivation:
    """The method of a command-line option ``METHOD[:N]``: ``exact``, ``closed-form``,
    ``hermite:L`` (order L, default 6), ``quadrature:n`` (nodes n, default 16) or ``auto``.

    Raises:
        ConfigError: an unknown method, a number after a method that takes none, or a
            number that is not an integer in range.
    """
    label, _, number = str(text).strip().partition(":")
    argument = {"hermite": "order", "quadrature": "nodes"}.get(label)
    if number and argument is None:
        raise ConfigError(f"{where} {text!r}: only hermite:ORDER and quadrature:NODES take a "
                          f"number; allowed: exact, closed-form, hermite[:L], quadrature[:n], "
                          f"auto")
    section = {"method": label}
    if number:
        try:
            section[argument] = int(number)
        except ValueError as error:
            raise ConfigError(f"{where} {text!r}: the {argument} after ':' must be an integer, "
                              f"got {number!r}") from error
    return derivation_from_config(section, where=f"{where} {text!r}:")
