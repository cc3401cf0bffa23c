r"""How the drift's kernels are derived: one small immutable class per method.

A derivation is not part of the model — the same model, other numerics — so it is passed
beside it (``CompiledModel(model, HermiteTruncation(order=4))``). Each class checks its own
arguments when built, and :meth:`Derivation.resolve` checks that it applies to a model.

========================  ===============  =============================================
class                     label            the kernels (:mod:`overlapdyn.derive.kernels`)
========================  ===============  =============================================
``Exact()``               ``exact``        exact Gaussian moments: polynomial σ, σ* and g
``ClosedForm()``          ``closed-form``  Saad–Solla arcsines: erf(x/√2) student, erf
                                           committee
``HermiteTruncation(L)``  ``hermite``      every non-polynomial function replaced by its
                                           Hermite truncation at order L, then exact
``Quadrature(n)``         ``quadrature``   compiled Gauss–Hermite cubature at run time
``Auto()``                (resolves)       the first of these that applies (see :class:`Auto`)
========================  ===============  =============================================

The label is how the method is reported (``KernelSet.method``, ``CompiledModel.method``, a
trajectory's ``kernels``, printed summaries) and saved (:meth:`Derivation.to_dict`,
:func:`derivation_from_dict`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

import sympy

from ..errors import NotPolynomialError, OverlapdynError
from ..model.activations import activation as resolve_activation
from ..model.checks import check_integer
from ..model.spec import Model

__all__ = ["Auto", "ClosedForm", "DERIVATIONS", "Derivation", "Exact", "HermiteTruncation",
           "Quadrature", "check_derivation", "derivation_from_dict"]


@dataclass(frozen=True)
class ModelFunctions:
    """What the choice of a method reads off a model: is everything polynomial, is it the
    erf/erf pair of the closed forms, is the target a committee."""

    polynomial: bool
    erf_pair: bool
    committee: bool

    @classmethod
    def of(cls, model: Model) -> ModelFunctions:
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
        return cls(polynomial, erf_pair, teacher is not None)


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
    """Exact Gaussian moments (:mod:`overlapdyn.derive.gaussian`): polynomial σ, σ* and g."""

    label: ClassVar[str] = "exact"

    def resolve(self, model: Model) -> Derivation:
        if not ModelFunctions.of(model).polynomial:
            raise NotPolynomialError(
                "Exact() needs polynomial activations and target; use HermiteTruncation(order) "
                "(Hermite truncation) or Quadrature(nodes), or for erf committees ClosedForm()")
        return self


@dataclass(frozen=True)
class ClosedForm(Derivation):
    """Saad & Solla's arcsine formulas, for an erf(x/√2) student learning an erf committee."""

    label: ClassVar[str] = "closed-form"

    def resolve(self, model: Model) -> Derivation:
        if not ModelFunctions.of(model).erf_pair:
            raise OverlapdynError("closed-form kernels exist for erf(x/√2) students learning "
                                  "erf committees; use Exact() or HermiteTruncation(order) for "
                                  "this model")
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
    """Every kernel evaluated at run time by compiled tensor Gauss–Hermite cubature over the
    eigen-factor of its covariance block (exponentially accurate in ``nodes`` for smooth
    functions, algebraically for kinks such as relu).

    Attributes:
        nodes: Gauss–Hermite nodes per direction of a four-field kernel ≥ 2 (an I4 call
            costs nodes⁴ activation evaluations; two- and three-field kernels use 4·nodes and
            2·nodes per direction).
    """

    nodes: int = 16
    label: ClassVar[str] = "quadrature"

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", check_integer(self.nodes, "Quadrature.nodes", 2))

    def resolve(self, model: Model) -> Derivation:
        if not ModelFunctions.of(model).committee:
            raise OverlapdynError("quadrature kernels are implemented for committee targets; "
                                  "a multi-index target needs polynomial functions (Exact()) "
                                  "or HermiteTruncation(order)")
        return self

    @property
    def resolution(self) -> int:
        return self.nodes


@dataclass(frozen=True)
class Auto(Derivation):
    """The first method that applies: :class:`Exact` for polynomial models, else
    :class:`ClosedForm` for erf committees, else ``quadrature`` for committees and
    ``truncation`` for multi-index targets.

    Attributes:
        truncation: the Hermite truncation used where truncation is chosen.
        quadrature: the cubature used where quadrature is chosen.
    """

    truncation: HermiteTruncation = field(default_factory=HermiteTruncation)
    quadrature: Quadrature = field(default_factory=Quadrature)
    label: ClassVar[str] = "auto"

    def __post_init__(self) -> None:
        if not isinstance(self.truncation, HermiteTruncation):
            raise OverlapdynError(f"Auto.truncation must be a HermiteTruncation, got "
                                  f"{self.truncation!r}")
        if not isinstance(self.quadrature, Quadrature):
            raise OverlapdynError(f"Auto.quadrature must be a Quadrature, got "
                                  f"{self.quadrature!r}")

    def resolve(self, model: Model) -> Derivation:
        functions = ModelFunctions.of(model)
        if functions.polynomial:
            return Exact()
        if functions.erf_pair:
            return ClosedForm()
        return self.quadrature if functions.committee else self.truncation

    def to_dict(self) -> dict:
        return {"method": self.label, "truncation": self.truncation.to_dict(),
                "quadrature": self.quadrature.to_dict()}


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
            return Auto(**{name: derivation_from_dict(value) for name, value in data.items()})
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
