"""The result of an ODE integration, a state evolution or a simulated run: a learning curve.

A :class:`Trajectory` holds the overlaps ``M = WUᵀ/d`` (p×k), ``Q = WWᵀ/d`` (p×p), the
readout ``a`` (p) and the population risk ``R`` on the time grid ``t = steps/d`` (SPEC), with
the :class:`~overlapdyn.model.spec.Model` that produced them, how the run ended
(:class:`Outcome`) and what the run recorded on the way (events, solver statistics, the SGD
run it was measured on …), each a typed field.

Files are one ``.npz`` holding the arrays plus a JSON header (model spec, outcome, message,
the other fields): :class:`~overlapdyn.storage.results.Result`'s protocol. Version-1 files
(before the fields, everything but the arrays in a ``metadata`` dict) still load.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..errors import OverlapdynError
from ..model.spec import Model, model_from_dict
from ..storage.results import Result

__all__ = ["Outcome", "SgdRun", "SolverStats", "State", "Trajectory"]


class Outcome(enum.Enum):
    """How a run ended; each value is the message (SciPy's status code is ``status``)."""

    REACHED_END = "reached the end time"
    EVENT = "a terminal event stopped the run"
    FAILED = "the run failed (a blow-up, or the solver gave up)"

    @property
    def status(self) -> int:
        """SciPy's ``solve_ivp`` code of the outcome (0 reached the end, 1 an event stopped
        it, −1 failed)."""
        return _STATUS[self]

    @classmethod
    def from_status(cls, status: int) -> Outcome:
        """The outcome of SciPy's ``solve_ivp`` status code (−1, 0 or 1)."""
        for outcome, code in _STATUS.items():
            if status == code and not isinstance(status, bool):
                return outcome
        raise OverlapdynError(f"a SciPy status is −1, 0 or 1, got {status!r}")


_STATUS = {Outcome.REACHED_END: 0, Outcome.EVENT: 1, Outcome.FAILED: -1}
_ARRAYS = ("t", "M", "Q", "a", "risk")


@dataclass(frozen=True)
class SolverStats:
    """The ODE solver of a run: ``solve_ivp``'s method and tolerances, the number of drift
    evaluations ``nfev``, and what the implicit methods differentiated with (``jacobian``:
    ``"exact"``, the drift's exact Jacobian, or ``"solver"``, the solver's own finite
    differences)."""

    method: str
    rtol: float
    atol: float
    nfev: int
    jacobian: str = "solver"


@dataclass(frozen=True)
class SgdRun:
    """The finite-d SGD run a simulated trajectory was measured on.

    Attributes:
        d: the dimension.
        seed: the seed of the initial weights and the data stream.
        n_test: held-out samples per saved time of the test risk (0: none).
        failed_at: the step where the error turned non-finite (−1: it never did).
    """

    d: int
    seed: int
    n_test: int = 0
    failed_at: int = -1


class State(NamedTuple):
    """The overlaps at one grid point: ``t``, ``M`` (p×k), ``Q`` (p×p), ``a`` (p), ``risk``."""

    t: float
    M: np.ndarray
    Q: np.ndarray
    a: np.ndarray
    risk: float


@dataclass(frozen=True, eq=False, repr=False)
class Trajectory(Result):
    """Overlaps along a learning curve, on the ODE's time grid ``t = steps/d`` (SPEC).

    Attributes:
        t: times, shape (T,).
        M: student–teacher overlaps ``M = WUᵀ/d``, shape (T, p, k).
        Q: student–student overlaps ``Q = WWᵀ/d``, shape (T, p, p).
        a: readout, shape (T, p).
        risk: population risk ``R(t)``, shape (T,).
        model: the model whose dynamics these are.
        outcome: how the run ended (:attr:`status` is SciPy's code of it).
        message: what the solver or the simulator said (the failure's cause).
        events: ``{event name: times it fired}`` (ODE runs with events).
        test_risk: the held-out risk, shape (T,) (simulations with ``n_test`` > 0), else
            None.
        solver: the ODE solver's method, tolerances and drift evaluations (ODE runs).
        sgd: the SGD run it was measured on (simulations).
        alpha: ``n_b/d`` of the large-batch state evolution
            (:func:`~overlapdyn.ode.state_evolution.evolve`).
        kernels: how the drift's kernels were derived (``"exact"``, ``"hermite"`` …).
        truncation_errors: ``{function: relative L² error}`` of the Hermite truncation: of
            the kernels with ``"hermite"``; with ``"quadrature"`` chosen by ``Auto`` for a
            multi-index target, what truncation would have missed (why it was not chosen).
        wall_time_s: the solver's wall time (ODE runs).
        versions: the library versions that computed it.
        metadata: free-form notes a caller attaches (JSON-able to save); overlapdyn
            writes and reads none of it.

    The arrays are float copies and read-only. Equality is identity (arrays have no single
    truth value); compare fields with ``np.testing`` instead.
    """

    FORMAT = "overlapdyn.Trajectory"
    VERSION = 2
    READS = (1, 2)

    t: np.ndarray
    M: np.ndarray
    Q: np.ndarray
    a: np.ndarray
    risk: np.ndarray
    model: Model
    outcome: Outcome = Outcome.REACHED_END
    message: str = ""
    events: dict = field(default_factory=dict)
    test_risk: np.ndarray | None = None
    solver: SolverStats | None = None
    sgd: SgdRun | None = None
    alpha: float | None = None
    kernels: str | None = None
    truncation_errors: dict = field(default_factory=dict)
    wall_time_s: float | None = None
    versions: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.model, Model):
            raise OverlapdynError(f"Trajectory.model must be an overlapdyn Model, got "
                                  f"{type(self.model).__name__}")
        t = np.array(self.t, dtype=float)
        if t.ndim != 1 or len(t) == 0:
            raise OverlapdynError(f"Trajectory.t must have shape (T,) with T ≥ 1, got shape "
                                  f"{t.shape}")
        T, p, k = len(t), self.model.p, self.model.k
        expected = {"t": (T,), "M": (T, p, k), "Q": (T, p, p), "a": (T, p), "risk": (T,)}
        if self.test_risk is not None:
            expected["test_risk"] = (T,)
        for name, shape in expected.items():
            array = np.array(getattr(self, name), dtype=float)  # a copy, never a view
            if array.shape != shape:
                raise OverlapdynError(
                    f"Trajectory.{name} must have shape {shape} (T={T}, p={p}, k={k}), got "
                    f"{array.shape}")
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        if not isinstance(self.outcome, Outcome):
            raise OverlapdynError(f"Trajectory.outcome must be an Outcome (SciPy status 0, 1, "
                                  f"−1: REACHED_END, EVENT, FAILED), got {self.outcome!r}")
        object.__setattr__(self, "message", str(self.message))
        for name, kind in (("solver", SolverStats), ("sgd", SgdRun)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise OverlapdynError(f"Trajectory.{name} must be a {kind.__name__} or None, "
                                      f"got {type(value).__name__}")
        for name in ("events", "truncation_errors", "versions", "metadata"):
            value = getattr(self, name)
            if not isinstance(value, dict):
                raise OverlapdynError(f"Trajectory.{name} must be a dict, got "
                                      f"{type(value).__name__}")
            object.__setattr__(self, name, dict(value))
        object.__setattr__(self, "events", {name: tuple(float(v) for v in times)
                                            for name, times in self.events.items()})
        for name in ("alpha", "wall_time_s"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def status(self) -> int:
        """SciPy's code of the outcome (0 reached the end time, 1 a terminal event stopped
        it, −1 the run failed)."""
        return self.outcome.status

    def __repr__(self) -> str:
        return (f"Trajectory(model={self.model.name!r}, p={self.model.p}, k={self.model.k}, "
                f"T={len(self.t)}, t=[{self.t[0]:.4g}, {self.t[-1]:.4g}], "
                f"final risk={self.risk[-1]:.4g}, status={self.status})")

    def samples(self, d: int) -> np.ndarray:
        """Samples used up to each grid point, ``n = t·d·n_b`` (shape (T,), float)."""
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1:
            raise OverlapdynError(f"the input dimension d must be a positive integer, got {d!r}")
        return self.t * d * self.model.protocol.n_b

    def at(self, time: float) -> State:
        """The state at the grid point nearest to ``time`` (the first one on a tie)."""
        if not np.isfinite(time):
            raise OverlapdynError(f"time must be finite, got {time!r}")
        i = int(np.argmin(np.abs(self.t - time)))
        return State(float(self.t[i]), self.M[i], self.Q[i], self.a[i], float(self.risk[i]))

    @property
    def final(self) -> State:
        """The last state on the grid."""
        return State(float(self.t[-1]), self.M[-1], self.Q[-1], self.a[-1],
                     float(self.risk[-1]))

    def describe(self) -> str:
        """A few lines: the model, how the run ended, the risk, the events."""
        model = self.model
        lines = [f"{model.name}: p = {model.p}, k = {model.k}, σ = {model.student.activation}, "
                 f"η = {model.protocol.eta:g}, n_b = {model.protocol.n_b}"
                 + ("" if model.protocol.terms.full else
                    f"; drift terms kept: {model.protocol.terms}"),
                 f"  {self.outcome.value} at t = {self.t[-1]:.4g} ({self.t.size} saved times); "
                 f"risk {self.risk[0]:.4g} → {self.risk[-1]:.4g}"]
        if self.message and self.message != self.outcome.value:
            lines.append(f"  {self.message}")
        if self.events:
            lines.append("  events: " + ", ".join(
                f"{name} at t = {times[0]:.4g}" for name, times in self.events.items() if times))
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        if self.test_risk is not None:
            arrays["test_risk"] = self.test_risk
        fields = {
            "model": self.model.to_dict(), "outcome": self.outcome.name,
            "message": self.message, "events": self.events,
            "solver": None if self.solver is None else dataclasses.asdict(self.solver),
            "sgd": None if self.sgd is None else dataclasses.asdict(self.sgd),
            "alpha": self.alpha, "kernels": self.kernels,
            "truncation_errors": self.truncation_errors, "wall_time_s": self.wall_time_s,
            "versions": self.versions, "metadata": self.metadata,
        }
        return fields, arrays

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> Trajectory:
        fields = _from_version_1(header, arrays) if header.get("version") == 1 else dict(
            outcome=Outcome[header["outcome"]], message=header["message"],
            events=header["events"],
            solver=None if header["solver"] is None else SolverStats(**header["solver"]),
            sgd=None if header["sgd"] is None else SgdRun(**header["sgd"]),
            alpha=header["alpha"], kernels=header["kernels"],
            truncation_errors=header["truncation_errors"], wall_time_s=header["wall_time_s"],
            versions=header["versions"], metadata=header["metadata"],
            test_risk=arrays.get("test_risk"))
        return cls(**{name: arrays[name] for name in _ARRAYS},
                   model=model_from_dict(header["model"]), **fields)


def _from_version_1(header: dict, arrays: dict[str, np.ndarray]) -> dict:
    """The fields of a version-1 file: status and message, and the entries overlapdyn
    wrote into its ``metadata`` dict (integrate, evolve, simulate and the validation store);
    entries of another shape stay in ``metadata``."""
    metadata = dict(header["metadata"])
    fields = {"outcome": Outcome.from_status(header["status"]), "message": header["message"]}

    def take(name: str, convert) -> None:
        if name in metadata:
            try:
                fields[name] = convert(metadata[name])
            except (TypeError, ValueError, AttributeError):
                return  # not what overlapdyn wrote there: a caller's own note
            del metadata[name]

    take("events", lambda events: {str(k): tuple(float(t) for t in v)
                                   for k, v in events.items()})
    take("solver", lambda solver: SolverStats(**solver))
    take("kernels", _text)
    take("truncation_errors", lambda errors: {str(k): float(v) for k, v in errors.items()})
    take("wall_time_s", float)
    take("alpha", float)
    take("versions", lambda versions: {str(k): str(v) for k, v in versions.items()})
    if {"d", "seed"} <= set(metadata):
        n_test = int(metadata.pop("n_test", 0))
        fields["sgd"] = SgdRun(int(metadata.pop("d")), int(metadata.pop("seed")), n_test,
                               int(metadata.pop("failed_at", -1)))
        test_risk = metadata.pop("test_risk", None)
        if n_test and test_risk is not None:
            fields["test_risk"] = np.array(test_risk, dtype=float)
    fields["metadata"] = metadata
    return fields


def _text(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value
