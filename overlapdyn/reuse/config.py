r"""Full-batch gradient descent on reused data: the spec, in SPEC's conventions.

``n = αd`` samples ``x_μ ~ N(0, I_d)`` with labels ``y_μ = g(z_μ) + √Δ ξ_μ`` are drawn once and
reused at every step. The student ``ŷ = c_p Σ_j a_j σ(λ_j)``, ``λ_j = w_j·x/√d``, with a fixed
readout ``a``, descends the empirical risk

    L̂(W) = (1/n) Σ_μ ℓ_μ + (λ_r/2d) Σ_j ‖w_j‖²,    ℓ = ½(y − ŷ)² (mse) or −yŷ (correlation),

with the step of SPEC's large-batch state evolution (learning rate η, time in steps):

    w_j ← (1 − ηλ_r) w_j + η √d (1/n) Σ_μ G_jμ x_μ,       G_jμ = c_p a_j e_μ σ'(λ_jμ),

i.e. ``W ← W − η d ∇L̂``. The first step uses fresh data, so it is exactly the state
evolution's step (``M¹ = (1 − ηλ_r)M⁰ + η E[G zᵀ]``); from the second step on, the data
are reused and the fields of the training samples stop being Gaussian (the DMFT's
business, :mod:`overlapdyn.reuse.closed_form`).

The papers' convention (Dandi, Troiani, Arnaboldi, Pesce, Zdeborová & Krzakala 2024,
arXiv:2402.03220, and the code of their repository ``IdePHICS/benefit-reusing-batch``):
the same ``x ~ N(0, I_d)``, ``‖w_j‖² = d``, ``h = w·x/√d``, ``c_p = 1``, but the loss is
*summed* over the n samples and the ridge penalty is ``(λ/2)‖w‖²``:

    w_j ← w_j + lr Σ_μ G_jμ x_μ/√d − lr λ w_j.

Matching the two updates term by term: ``η = lr·α`` and ``λ_r = λ/α``
(:meth:`FullBatchGD.from_papers`); their ``M¹ = lr·α E[G zᵀ]`` is SPEC's ``η E[G zᵀ]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, OverlapdynError
from ..model.activations import activation as resolve_activation
from ..model.checks import check_integer, check_real
from ..model.spec import LOSSES, Student, Target
from ..storage.encoding import jsonable

__all__ = ["MAX_ALPHA", "MAX_STEPS", "FullBatchGD", "check_finite_array", "check_steps"]

#: the most GD steps a run may ask for (a full-batch step costs O(n·d·p); past this, the
#: dynamics have long converged or diverged, and the cost is better spent on d or seeds)
MAX_STEPS = 100_000
#: the largest sample ratio α = n/d accepted (beyond it full-batch GD is one-pass SGD with
#: a huge batch, and a finite-d run needs α·d² numbers: use the state evolution instead)
MAX_ALPHA = 1e4


def check_steps(steps, maximum: int = MAX_STEPS, why: str = "") -> int:
    """A number of GD steps T, 1 ≤ T ≤ ``maximum`` (``why`` ends the message: what limits it).

    Raises:
        ConfigError: T is not an integer in range, with the range.
    """
    steps = check_integer(steps, "steps (T)", 1)
    if steps > maximum:
        raise ConfigError(f"steps (T) = {steps} is above {maximum}{why}")
    return steps


@dataclass(frozen=True)
class FullBatchGD:
    """Full-batch GD on ``n = αd`` reused samples (module docstring for the update).

    Attributes:
        target: the teacher (any committee or multi-index :class:`~overlapdyn.model.Target`
            with a symbolic g).
        student: the two-layer network; its readout ``a`` stays fixed (``train_readout``
            must be false).
        eta: SPEC's learning rate η > 0 (the papers' ``lr·α``).
        alpha: the sample ratio α = n/d, 0 < α ≤ :data:`MAX_ALPHA`.
        ridge: the ridge penalty λ_r ≥ 0 of ``(λ_r/2d) ‖W‖²`` (the papers' ``λ/α``).
        loss: ``"mse"`` (``e = y − ŷ``) or ``"correlation"`` (``e = y``).
    """

    target: Target
    student: Student
    eta: float
    alpha: float
    ridge: float = 0.0
    loss: str = "mse"

    def __post_init__(self) -> None:
        if not isinstance(self.target, Target) or not isinstance(self.student, Student):
            raise ConfigError("FullBatchGD needs a model.Target and a model.Student, got "
                              f"{type(self.target).__name__} and {type(self.student).__name__}")
        if self.student.train_readout:
            raise ConfigError("full-batch GD here trains the first layer only, with the "
                              "readout a fixed: set student.train_readout = false")
        if resolve_activation(self.student.activation).expr is None:
            raise OverlapdynError(f"the student activation {self.student.activation!r} has no "
                                  "symbolic form, and the compiled GD kernels need one: give "
                                  "a name or a formula in x")
        object.__setattr__(self, "eta", check_real(self.eta, "eta", positive=True))
        alpha = check_real(self.alpha, "alpha (n/d)", positive=True)
        if alpha > MAX_ALPHA:
            raise ConfigError(f"alpha = n/d = {alpha:g} is above {MAX_ALPHA:g}: with that "
                              "much data per step use the large-batch state evolution "
                              "(overlapdyn.evolve), or lower alpha")
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "ridge", check_real(self.ridge, "ridge (λ_r)"))
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {LOSSES}, got {self.loss!r}")

    @classmethod
    def from_papers(cls, target: Target, student: Student, *, lr: float, alpha: float,
                    ridge: float = 0.0, loss: str = "mse") -> FullBatchGD:
        """The spec of the papers' update ``w ← w + lr Σ_μ G_μ x_μ/√d − lr λ w`` (summed
        loss, penalty ``(λ/2)‖w‖²``): ``η = lr·α``, ``λ_r = λ/α``."""
        lr = check_real(lr, "lr", positive=True)
        alpha = check_real(alpha, "alpha (n/d)", positive=True)
        return cls(target, student, eta=lr * alpha, alpha=alpha,
                   ridge=check_real(ridge, "ridge (λ)") / alpha, loss=loss)

    @property
    def p(self) -> int:
        return self.student.p

    @property
    def k(self) -> int:
        return self.target.k

    @property
    def lr(self) -> float:
        """The papers' learning rate ``η/α``."""
        return self.eta / self.alpha

    @property
    def readout(self) -> np.ndarray:
        """``c_p a`` (p,): the weights of σ(λ) in ŷ."""
        return self.student.c_p * np.array(self.student.a)

    def samples(self, d: int) -> int:
        """The training-set size ``n = round(αd)`` at dimension d (at least 1)."""
        return max(1, int(round(self.alpha * d)))

    def to_dict(self) -> dict:
        """A JSON-able dict (defaults filled in); inverse: :meth:`from_dict`."""
        def section(obj) -> dict:
            return {f.name: jsonable(getattr(obj, f.name), f.name)
                    for f in dataclasses.fields(obj) if getattr(obj, f.name) is not None}

        return {"target": section(self.target), "student": section(self.student),
                "eta": self.eta, "alpha": self.alpha, "ridge": self.ridge, "loss": self.loss}

    @classmethod
    def from_dict(cls, config: dict) -> FullBatchGD:
        """Rebuild the spec from :meth:`to_dict`'s dict (after a JSON round trip).

        Raises:
            ConfigError: a missing or unknown key.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ConfigError(f"unknown FullBatchGD keys {unknown}; allowed: {sorted(known)}")
        try:
            target = Target(**_tuples(config["target"]))
            student = Student(**_tuples(config["student"]))
            return cls(target, student, eta=config["eta"], alpha=config["alpha"],
                       ridge=config.get("ridge", 0.0), loss=config.get("loss", "mse"))
        except (KeyError, TypeError) as error:
            raise ConfigError(f"a FullBatchGD dict needs target, student, eta and alpha: "
                              f"{error}") from error

    def describe(self) -> str:
        g = self.target.expression or f"committee of {self.target.activation}"
        return (f"full-batch GD: target {g} (k = {self.k}), student {self.student.activation} "
                f"p = {self.p}, c_p a = {np.round(self.readout, 4).tolist()}, η = "
                f"{self.eta:g} (lr = η/α = {self.lr:g}), α = {self.alpha:g}, ridge λ_r = "
                f"{self.ridge:g}, loss {self.loss}")


def check_finite_array(values, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` as a finite float array of ``shape``.

    Raises:
        ConfigError: another shape or a non-finite entry.
    """
    array = np.asarray(values, dtype=float)
    if array.shape != shape:
        raise ConfigError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ConfigError(f"{name} must be finite, got\n{array}")
    return array


def _tuples(section: dict) -> dict:
    """Lists back to tuples (P as a tuple of rows), as the dataclasses store them."""
    out = {}
    for key, value in section.items():
        if isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        out[key] = value
    return out

