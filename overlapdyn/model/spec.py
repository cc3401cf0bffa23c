"""Model specs: what a user writes down — target, student, protocol — as immutable dataclasses.

One :class:`Model` drives everything (ODE, state evolution, simulator, scaling tools). It is
built in Python or read from TOML (:func:`load_model`); ``examples/`` holds annotated files.
Symbols follow the documentation's conventions page (SPEC):

* target ``y = g(z_1..z_k) + √Δ ξ`` — a committee ``g = c_k Σ_r b_r σ*(z_r)`` or any formula
  in ``z1..zk``; teacher Gram matrix ``P = UUᵀ/d`` (default ``I_k``);
* student ``ŷ = c_p Σ_j a_j σ(λ_j)`` with p neurons, readout scale ``c_p`` (default ``1/p``)
  and readout ``a`` (fixed, or trained with learning rate ``η_a``);
* protocol: learning rate η, batch ``n_b``, loss ``mse`` (``e = y − ŷ``) or ``correlation``
  (``e = y``), spherical or not, weight decay ω.

TOML layout (every key optional except those marked)::

    [target]
    k = 2                     # required: number of latent directions
    activation = "erf"        # committee σ* …
    b = [1.0, 1.0]            #   … with weights b_r (default 1) and scale c_k (default 1/k)
    c_k = 1.0
    # expression = "z1 + z1*z2"   (instead of activation: any formula in z1..zk)
    noise = 0.0               # Δ
    # P = [[1.0, 0.0], [0.0, 1.0]]

    [student]
    p = 2                     # required
    activation = "erf"        # required
    c_p = 1.0
    a = [1.0, 1.0]            # readout (initial value if trained)
    train_readout = false
    eta_a = 0.0

    [protocol]
    eta = 0.5                 # required
    n_b = 1
    loss = "mse"
    spherical = false
    weight_decay = 0.0
    terms = "all"             # the drift's parts kept (overlapdyn.model.terms): a preset
                              # or a list of "gradient", "noise", "variance", "decay"
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError, CovarianceError, ResourceError
from ..storage.encoding import json_digest, jsonable
from .checks import (
    check_covariance,
    check_finite,
    check_flag,
    check_floats,
    check_integer,
    check_real,
    check_section,
    smallest_eigenvalue,
)
from .names import check_activation
from .terms import Terms

if TYPE_CHECKING:
    import sympy

__all__ = ["Model", "Protocol", "Student", "Target", "check_drift_cost", "model_from_dict",
           "section_dict", "target_from_dict"]

LOSSES = ("mse", "correlation")

#: the most neurons a student or teacher may have (the overlaps grow as p² and (p+k)²)
MAX_WIDTH = 100_000
#: the largest drift cost p²(p+k)² accepted (p ≈ 500: about a second per evaluation)
MAX_DRIFT_COST = 1e11


def _width(value, name: str) -> int:
    """A number of neurons, 1 ≤ value ≤ :data:`MAX_WIDTH`."""
    width = check_integer(value, name, 1)
    if width > MAX_WIDTH:
        raise ResourceError(f"{name} = {width} is above {MAX_WIDTH}: the overlaps alone "
                            f"would hold {float(width) ** 2:.3g} numbers; lower it")
    return width


@dataclass(frozen=True)
class Target:
    """The teacher: ``y = g(z_1..z_k) + √Δ ξ``, ``z_r = u_r·x/√d``, ``P = UUᵀ/d``.

    Give either ``activation`` (a committee ``g = c_k Σ_r b_r σ*(z_r)``) or ``expression``
    (any formula in ``z1..zk``, e.g. ``"z1 + z1*z2 + z1*z2*z3"``, ``"He2(z1)*He1(z2)"``,
    ``"tanh(z1 + z2)"``).

    Attributes:
        k: number of latent directions.
        activation: committee activation σ* (name or formula in x), or ``None``.
        expression: multi-index formula in ``z1..zk``, or ``None``.
        b: committee weights (length k; default all ones).
        c_k: committee scale (default ``1/k``), any real number.
        noise: label-noise variance Δ ≥ 0.
        P: teacher Gram matrix (k×k, symmetric positive definite; default ``I_k``).
    """

    k: int
    activation: str | None = None
    expression: str | None = None
    b: tuple[float, ...] | None = None
    c_k: float | None = None
    noise: float = 0.0
    P: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", _width(self.k, "target.k"))
        if (self.activation is None) == (self.expression is None):
            raise ConfigError("give the target exactly one of 'activation' (a committee) or "
                              "'expression' (a formula in z1..zk)")
        if self.activation is not None:
            check_activation(self.activation)  # unknown names fail here, listing the known
            b = self.b if self.b is not None else [1.0] * self.k
            object.__setattr__(self, "b", check_floats(b, "target.b", self.k,
                                                       each="latent direction, target.k"))
            object.__setattr__(self, "c_k", check_finite(self.c_k, "target.c_k")
                               if self.c_k is not None else 1.0 / self.k)
        else:
            if self.b is not None or self.c_k is not None:
                raise ConfigError("target.b and target.c_k belong to committee targets; put "
                                  "the coefficients into the expression instead")
            if isinstance(self.expression, int | float) and not isinstance(self.expression,
                                                                           bool):
                object.__setattr__(self, "expression", str(self.expression))  # a constant
            self.function()  # a formula in z1..zk only (model.formula), or a ConfigError
        object.__setattr__(self, "noise", check_real(self.noise, "target.noise (Δ)"))
        if self.P is not None:
            matrix = np.array(self.P, dtype=object)
            if matrix.shape != (self.k, self.k):
                raise CovarianceError(f"target.P must be {self.k}×{self.k}, got shape "
                                      f"{matrix.shape}")
            matrix = np.reshape(check_floats(matrix, "target.P"), (self.k, self.k))
            check_covariance(matrix, "P")
            if smallest_eigenvalue(matrix) <= 1e-12 * np.abs(matrix).max():
                raise CovarianceError(f"target.P must be positive definite (teacher directions "
                                      f"linearly independent):\n{matrix}")
            object.__setattr__(self, "P", tuple(tuple(float(v) for v in row) for row in matrix))

    @property
    def latent_names(self) -> tuple[str, ...]:
        """``("z1", …, "zk")``."""
        return tuple(f"z{r}" for r in range(1, self.k + 1))

    @property
    def is_committee(self) -> bool:
        return self.activation is not None

    @property
    def written(self) -> str:
        """How a person writes the target (not its SymPy expansion) — the expression as
        given, or the committee ``c_k Σ_r b_r σ*(z_r)`` (``He3(z1)`` for one unit of
        weight 1)."""
        if not self.is_committee:
            return self.expression
        scale = "" if self.c_k == 1 else f"{self.c_k:g}·"
        if self.k == 1:
            weight = "" if self.b[0] == 1 else f"{self.b[0]:g}·"
            return f"{scale}{weight}{self.activation}(z1)"
        return f"{scale}Σ_r b_r {self.activation}(z_r), b = {list(self.b)}"

    @property
    def gram(self) -> np.ndarray:
        """P as an array (k×k)."""
        return np.eye(self.k) if self.P is None else np.array(self.P)

    def function(self) -> sympy.Expr:
        """``g(z1..zk)`` as a SymPy expression in the plain symbols ``z1..zk``."""
        import sympy  # SymPy only where a formula is built: a named model is built without it

        from .activations import X
        from .activations import activation as resolve_activation
        from .formula import parse_formula

        z = sympy.symbols(self.latent_names)
        if self.is_committee:
            sigma = resolve_activation(self.activation)
            return sympy.Float(self.c_k) * sum(
                sympy.Float(b) * sigma.expr.subs(X, zr) for b, zr in zip(self.b, z, strict=True))
        return parse_formula(self.expression, self.latent_names,
                             what=f"target expression (k = {self.k})")


@dataclass(frozen=True)
class Student:
    """The two-layer network ``ŷ = c_p Σ_j a_j σ(λ_j)``, ``λ_j = w_j·x/√d``.

    Attributes:
        p: number of hidden neurons.
        activation: σ (a name such as ``"erf"`` — meaning erf(x/√2) — ``"relu"``, ``"He3"``,
            or a formula in x such as ``"He3(x) + He4(x)"``).
        c_p: readout scale (default ``1/p``; ``1`` is the Saad–Solla scaling).
        a: readout weights (length p, default ones) — fixed, or the initial value if trained.
        train_readout: whether ``a`` follows ``da_j/dt = η_a c_p E[e σ(λ_j)]``.
        eta_a: readout learning rate η_a (used only when ``train_readout``).
    """

    p: int
    activation: str
    c_p: float | None = None
    a: tuple[float, ...] | None = None
    train_readout: bool = False
    eta_a: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "p", _width(self.p, "student.p"))
        check_activation(self.activation)
        object.__setattr__(self, "c_p", check_real(self.c_p, "student.c_p", positive=True)
                           if self.c_p is not None else 1 / self.p)
        object.__setattr__(self, "a", check_floats(self.a if self.a is not None else [1.0] * self.p,
                                              "student.a", self.p,
                                              each="student neuron, student.p"))
        object.__setattr__(self, "eta_a", check_real(self.eta_a, "student.eta_a"))
        object.__setattr__(self, "train_readout", check_flag(self.train_readout,
                                                        "student.train_readout"))
        if self.train_readout and not self.eta_a > 0:
            raise ConfigError("student.train_readout needs a positive student.eta_a")


@dataclass(frozen=True)
class Protocol:
    """Online SGD: ``w_j ← w_j + (η/√d)(1/n_b) Σ_μ G_jμ x_μ − (ηω/d) w_j`` (SPEC).

    Attributes:
        eta: learning rate η > 0.
        n_b: batch size (fresh samples per step), ≥ 1.
        loss: ``"mse"`` (``e = y − ŷ``) or ``"correlation"`` (``e = y``).
        spherical: renormalise every ``w_j`` to ``‖w_j‖² = d`` after each step (``Q_jj = 1``).
        weight_decay: ω ≥ 0.
        terms: the parts of the drift that the ODE, the state evolution and the fixed points
            keep (:class:`~overlapdyn.model.terms.Terms`): given as a :class:`Terms`, a
            preset (``"all"``, the default; ``"gradient-flow"``; ``"classic"``) or a list of
            ``"gradient"``, ``"noise"``, ``"variance"``, ``"decay"``; stored as a
            :class:`Terms`. The finite-d simulator runs SGD itself, which has every part.
    """

    eta: float
    n_b: int = 1
    loss: str = "mse"
    spherical: bool = False
    weight_decay: float = 0.0
    terms: Terms = Terms()

    def __post_init__(self) -> None:
        object.__setattr__(self, "eta", check_real(self.eta, "protocol.eta", positive=True))
        object.__setattr__(self, "n_b", check_integer(self.n_b, "protocol.n_b", 1))
        if self.loss not in LOSSES:
            raise ConfigError(f"protocol.loss must be one of {LOSSES}, got {self.loss!r}")
        object.__setattr__(self, "weight_decay", check_real(self.weight_decay,
                                                       "protocol.weight_decay"))
        object.__setattr__(self, "spherical", check_flag(self.spherical, "protocol.spherical"))
        object.__setattr__(self, "terms", Terms.of(self.terms))


@dataclass(frozen=True)
class Model:
    """Target + student + protocol: everything that defines the learning dynamics."""

    target: Target
    student: Student
    protocol: Protocol
    name: str = field(default="model", compare=False)

    def __post_init__(self) -> None:
        if self.protocol.spherical and self.protocol.weight_decay:
            raise ConfigError("weight decay has no effect with spherical SGD (‖w_j‖² = d is "
                              "imposed); set protocol.weight_decay = 0")
        terms = self.protocol.terms
        if not (terms.gradient or terms.variance or terms.noise and self.target.noise
                or terms.decay and self.protocol.weight_decay):
            raise ConfigError(f"protocol.terms keeps only {list(terms.names)}, which this model "
                              f"does not have (label noise Δ = {self.target.noise:g}, weight "
                              f"decay ω = {self.protocol.weight_decay:g}): the overlaps would "
                              f"not move; keep 'gradient' or 'variance' too")

    @property
    def p(self) -> int:
        return self.student.p

    @property
    def k(self) -> int:
        return self.target.k

    def to_dict(self) -> dict:
        """A plain, JSON/TOML-serialisable dict (defaults filled in); inverse: model_from_dict."""
        return {"name": self.name, "target": section_dict(self.target),
                "student": section_dict(self.student), "protocol": section_dict(self.protocol)}

    def fingerprint(self) -> str:
        """A hash of the canonical spec (the name excluded): equal dynamics, equal hash."""
        payload = self.to_dict()
        payload.pop("name")
        return json_digest(payload)


def check_drift_cost(model: Model) -> None:
    """Refuse the full overlap drift of a model too wide for it (p²(p+k)² above
    ``MAX_DRIFT_COST`` = 1e11); checked where the drift is built
    (:class:`~overlapdyn.compile.CompiledModel`), not by :class:`Model` itself, which the
    reduced states of wide networks (:mod:`overlapdyn.ode.wide`) take at any width.

    Raises:
        ResourceError: the cost, and the reductions to use instead.
    """
    cost = float(model.p) ** 2 * float(model.p + model.k) ** 2
    if cost > MAX_DRIFT_COST:
        raise ResourceError(f"the overlap drift of p = {model.p} student and k = {model.k} "
                            f"teacher neurons costs about p²(p+k)² = {cost:.3g} operations "
                            f"per evaluation (limit {MAX_DRIFT_COST:.0e}), and the ODE "
                            f"needs thousands: lower p, or use a reduced state of a wide "
                            f"network (overlapdyn.ode.wide: OrthogonalReduction, "
                            f"SymmetricReduction)")


def section_dict(spec: Target | Student | Protocol) -> dict:
    """One section of :meth:`Model.to_dict`: the fields of a target, student or protocol as
    plain JSON/TOML values, those left at ``None`` omitted; inverse: :func:`target_from_dict`
    for a target, :func:`model_from_dict` for a whole model. A protocol's ``terms`` are the
    list of the parts kept, and left out when every part is (the default: the dicts, and
    fingerprints, of models written before the terms existed are unchanged)."""
    values = {}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if isinstance(value, Terms):
            if value.full:
                continue
            value = value.to_value()
        if value is not None:
            values[f.name] = jsonable(value, f.name)
    return values


def target_from_dict(values: dict) -> Target:
    """The :class:`Target` of a ``[target]`` section (:func:`section_dict`'s dict, after a
    JSON or TOML round trip).

    Raises:
        ConfigError: unknown or missing keys, naming them and the allowed ones.
    """
    values = check_section(values, "target", Target)
    try:
        return Target(**values)
    except TypeError as error:  # a missing required key
        raise ConfigError(f"[target]: {error}") from error


def model_from_dict(config: dict, name: str = "model") -> Model:
    """Build a :class:`Model` from a dict with sections ``target``, ``student``, ``protocol``.

    Raises:
        ConfigError: unknown or missing sections/keys, naming them and the allowed ones.
    """
    sections = {"target": Target, "student": Student, "protocol": Protocol}
    # Sections read by other commands (how to integrate, simulate or sweep a model) may sit
    # in the same file; they are not part of the model.
    unknown = sorted(set(config) - set(sections)
                     - {"name", "sweep", "integrate", "simulate", "derivation"})
    if unknown:
        raise ConfigError(f"unknown config sections {unknown}; expected {sorted(sections)}")
    built = {}
    for key, cls in sections.items():
        if key not in config:
            raise ConfigError(f"the config has no [{key}] section")
        values = check_section(config[key], key, cls)
        try:
            built[key] = cls(**values)
        except TypeError as error:  # a missing required key
            raise ConfigError(f"[{key}]: {error}") from error
    return Model(built["target"], built["student"], built["protocol"],
                 name=str(config.get("name", name)))


