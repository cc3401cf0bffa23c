r"""Reduced states for wide networks: the overlap ODE at large width p without its O(p⁴) drift.

The full drift (:class:`~overlapdyn.compile.CompiledModel`) stores ``Q`` (p×p) and sums
four-field kernels over all pairs of neurons: O(p⁴) per evaluation, out of reach for
p = 500–5000. Two reductions keep a state that the full ODE leaves invariant (exactly, or as
p → ∞), and evaluate their drift with the *same compiled kernels* as the full one (the
model's own module: ``I3ss``, ``Tgz``, ``I4sss`` …, so the Gaussian expectations are those
of the library and nothing is re-derived by hand).

Orthogonal-diagonal reduction (:class:`OrthogonalReduction`)
-------------------------------------------------------------
Split every student vector into its part in the teacher subspace and the rest,
``w_j = (M P⁻¹ U)_j + w⊥_j``, so ``Q = M P⁻¹ Mᵀ + Q⊥`` with ``Q⊥ = W⊥W⊥ᵀ/d``. The reduction
assumes ``Q⊥`` *diagonal* — the orthogonal parts of different neurons orthogonal, as for
independent random directions in d → ∞ dimensions — and keeps ``(M, q⊥)``, ``q⊥_j = Q⊥_jj``:
pk + p numbers (the reduction of Arnaboldi, Stephan, Krzakala & Loureiro 2023,
arXiv:2302.05882, their code's ``largep`` ODE with ``P = I``, there at ``c_p = 1/p``,
``a = 1``; here for any P, c_p, a and the spherical protocol). Its drift is SPEC's, on
that set: ``dM`` as in SPEC and ``dq⊥_j = dQ_jj − 2 (dM P⁻¹ Mᵀ)_jj``, at O(p²k) kernel calls
per evaluation (``compile/templates/wide_loops.py``) instead of O(p⁴).

*When it is exact.* Write ``λ⊥_l = λ_l − (M P⁻¹ z)_l`` (independent of z, covariance Q⊥).
From SPEC, ``dQ⊥_jl/dt = η (E[G_j λ⊥_l] + E[G_l λ⊥_j]) + (η²/n_b) E[G_j G_l]`` (the dM terms
cancel the projection of the first-order terms exactly; weight decay gives ``−2ηω Q⊥_jl``,
and the spherical projection ``−η Q⊥_jl (E[G_j λ_j] + E[G_l λ_l])``: both vanish with Q⊥_jl).
On the set, Stein's lemma gives ``E[G_j λ⊥_l] = q⊥_l E[∂G_j/∂λ_l]``, and for j ≠ l:

* correlation loss (``e = y``): ``∂G_j/∂λ_l = 0`` — the first-order drift keeps Q⊥ diagonal
  exactly, at every p;
* mse: ``∂G_j/∂λ_l = −u_j u_l σ'(λ_j) σ'(λ_l)`` (``u = c_p a``): the set is left at the rate
  ``−η u_j u_l (q⊥_j + q⊥_l) E[σ'_j σ'_l]``, O(η c_p²) per pair, whose effect on neuron j
  (its drift sums the pairs with weights ``c_p a_l``) is O(c_p) relative to the kept drift:
  exact as p → ∞ at ``c_p = 1/p`` (mean-field readout), in the time ``η c_p t``;
* the η² parts (label noise and I4 variance) put ``(η²/n_b) u_j u_l E[e² σ'_j σ'_l]`` on
  *every* pair — a component common to all orthogonal parts, since all neurons step along
  the same sample x — whose effect on neuron j is of the same order as their diagonal part:
  no width makes it negligible relative to them. The reduction therefore keeps the
  first-order drift only and refuses a model whose ``protocol.terms`` keep the noise
  (Δ > 0) or the variance part (:class:`~overlapdyn.errors.ReductionError`, fix:
  ``terms="gradient-flow"``); against SGD it is the limit ``η c_p/n_b → 0``.

Checked at run time: the start (``Q`` given in full) must have ``|Q⊥_jl| ≤ tolerance`` for
j ≠ l (a start measured at finite d has entries of order d^-1/2: pass ``tolerance`` to drop
them, the d → ∞ limit of that start); along the run the trajectory records ``closure``, the
largest rate ``c_p Σ_{l≠j} |a_l dQ⊥_jl/dt|`` that the full ODE has on the set (zero where the
reduction is exact; O(c_p) for mse).

Symmetric committee ansatz (:class:`SymmetricReduction`)
---------------------------------------------------------
For a committee target whose teacher units are exchangeable (equal weights ``b_r``, and
``P = p_d I + p_o (11ᵀ − I)``) and a student with equal readouts ``a_j = a``, split the p
students into G groups of n = p/G and set

    M_jr = R if G = k and r is j's group, else S;   (G = 1: M_jr = R for all r)
    Q_jl = Q_d (j = l),  C_s (same group),  C_d (different groups).

The full ODE commutes with permuting students within a group, and (G = k) with permuting
the groups together with the teachers (G = 1: any teacher permutation): the set is invariant
— exact at every p, with every part of the drift (noise, I4 variance, weight decay,
spherical). The state ``(R, S, Q_d, C_s, C_d)`` has five numbers whatever p (unused ones —
S and C_d for G = 1, C_s for n = 1 — keep their start value). G = 1 with ``R = 0`` is SPEC's
random start at d → ∞ (M = 0, Q = I): the unspecialised plateau; G = k contains Saad &
Solla's specialised symmetric solution (p = k: R, S, Q, C). The drift of one representative
neuron (and pair) is the full drift's sum over neurons grouped by their covariances with
it: each distinct kernel value is computed once and weighted by how many neurons give it,
so its cost does not depend on p (a p = 5000 learning curve in well under a second;
``benchmarks/bench_wide.py``).

Checked: the model (committee, exchangeable teachers, equal readouts, p divisible by G)
and the start (``Q``, ``M`` given in full must lie on the set to a tolerance).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import ClassVar

import numpy as np
import scipy.integrate

from ..compile.cache import source_key
from ..compile.compiled import CompiledModel
from ..compile.linking import function_addresses, load_shared_module
from ..compile.render import template_digest
from ..derive.methods import Derivation
from ..errors import OverlapdynError, ReductionError
from ..model.spec import Model, model_from_dict
from ..storage.results import Result
from ..storage.versions import __version__
from .integrator import SaveAt, Solver

__all__ = ["OrthogonalReduction", "SymmetricReduction", "WideTrajectory"]

# bump when wide_loops.py's assembly changes beyond what its text hashes
WIDE_VERSION = 1
SYMMETRIC_NAMES = ("R", "S", "Q_d", "C_s", "C_d")
#: the reductions' default solver: explicit (they have no exact Jacobian here), tight
DEFAULT_SOLVER = Solver("DOP853", rtol=1e-8, atol=1e-10)


def _wide_module() -> ModuleType:
    """The generated module of ``templates/wide_loops.py`` (with the kernel table), shared by
    every model and compiled once per cache folder."""
    key = source_key(__version__, WIDE_VERSION, template_digest(), "wide loops")
    return load_shared_module(key, "the orthogonal-diagonal reduction, for every model",
                              ("kernel_table", "wide_loops"),
                              required=("KERNEL_NAMES", "KERNEL_TYPES", "orthogonal_drift",
                                        "orthogonal_risk", "orthogonal_closure"))


def _kernels_of(model: Model, derivation: Derivation | None) -> CompiledModel:
    """The compiled kernels of ``model``: those of a one-neuron copy, since the kernels
    depend on the activations and the target only (a wide model itself is refused by
    :class:`CompiledModel`, whose drift is O(p⁴))."""
    student = dataclasses.replace(model.student, p=1, a=(1.0,), c_p=1.0, train_readout=False,
                                  eta_a=0.0)
    return CompiledModel(dataclasses.replace(model, student=student), derivation)


def _check_common(model: Model, what: str) -> None:
    if model.student.train_readout:
        raise ReductionError(f"the {what} keeps the readout fixed, but {model.name} trains it "
                             f"(student.train_readout): set train_readout = false, or use the "
                             f"full ODE (overlapdyn.ode.integrate) at small p")


@dataclass(frozen=True, eq=False)
class WideTrajectory(Result):
    """A learning curve of a reduced wide-network state.

    Attributes:
        model: the model (any width p).
        reduction: ``"orthogonal"`` or ``"symmetric"``.
        t: times ``t = steps/d``, shape (T,).
        states: the reduced states, shape (T, n): ``[M.ravel(), q⊥]`` (n = pk + p) for
            ``"orthogonal"``; ``[R, S, Q_d, C_s, C_d]`` (n = 5) for ``"symmetric"``.
        risk: population risk, shape (T,).
        groups: G of the symmetric ansatz (0 for the orthogonal reduction).
        closure: the orthogonal reduction's neglected rate at each saved time, shape (T,)
            (see the module docstring; NaN where not computed; zeros for the symmetric
            ansatz, exact by symmetry).
        wall_time_s: the solver's wall time.
        evaluations: drift evaluations.
    """

    FORMAT: ClassVar[str] = "overlapdyn.WideTrajectory"

    model: Model
    reduction: str
    t: np.ndarray
    states: np.ndarray
    risk: np.ndarray
    groups: int = 0
    closure: np.ndarray | None = None
    wall_time_s: float = 0.0
    evaluations: int = 0
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reduction not in ("orthogonal", "symmetric"):
            raise OverlapdynError(f"WideTrajectory.reduction must be 'orthogonal' or "
                                  f"'symmetric', got {self.reduction!r}")
        t = np.array(self.t, dtype=float)
        for name, shape in (("t", t.shape), ("states", (len(t), -1)), ("risk", t.shape),
                            ("closure", t.shape)):
            value = getattr(self, name)
            array = np.zeros(t.shape) if value is None else np.array(value, dtype=float)
            if name == "states":
                array = array.reshape(len(t), -1)
            elif array.shape != shape:
                raise OverlapdynError(f"WideTrajectory.{name} must have shape {shape}, got "
                                      f"{array.shape}")
            array.flags.writeable = False
            object.__setattr__(self, name, array)

    def describe(self) -> str:
        return (f"{self.reduction} reduction of {self.model.name} (p = {self.model.p}, k = "
                f"{self.model.k}): {len(self.t)} times to t = {self.t[-1]:.4g}, risk "
                f"{self.risk[0]:.4g} → {self.risk[-1]:.4g}, {self.evaluations} drift "
                f"evaluations in {self.wall_time_s:.3g} s; largest closure rate "
                f"{float(np.nanmax(self.closure)):.3g}")

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        fields = {"model": self.model.to_dict(), "reduction": self.reduction,
                  "groups": self.groups, "wall_time_s": self.wall_time_s,
                  "evaluations": self.evaluations, "metadata": self.metadata}
        return fields, {"t": self.t, "states": self.states, "risk": self.risk,
                        "closure": self.closure}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> WideTrajectory:
        return cls(model_from_dict(header["model"], header["model"].get("name", "model")),
                   header["reduction"], arrays["t"], arrays["states"], arrays["risk"],
                   int(header["groups"]), arrays["closure"], float(header["wall_time_s"]),
                   int(header["evaluations"]), dict(header.get("metadata", {})))


class _Reduction:
    """What both reductions share: the model's parameters and the integration."""

    reduction: str = ""
    groups: int = 0

    def _parameters(self, model: Model) -> None:
        target, student, protocol = model.target, model.student, model.protocol
        terms = protocol.terms
        self.model = model
        self.P = np.ascontiguousarray(target.gram, dtype=float)
        self.a = np.ascontiguousarray(student.a, dtype=float)
        self.c_p = float(student.c_p)
        self.mse = protocol.loss == "mse"
        self.first = protocol.eta * float(terms.gradient)
        self.shrink = protocol.eta * protocol.weight_decay * float(terms.decay)
        self.second = protocol.eta ** 2 / protocol.n_b
        self.noise = target.noise * float(terms.noise)       # Δ in the drift's B
        self.variance = float(terms.variance)
        self.spherical = protocol.spherical

    def _overlaps(self, M, Q) -> tuple[np.ndarray, np.ndarray]:
        """M (p, k) and Q (p, p) as float arrays, their shapes checked."""
        p, k = self.model.p, self.model.k
        M, Q = np.asarray(M, dtype=float), np.asarray(Q, dtype=float)
        if M.shape != (p, k) or Q.shape != (p, p):
            raise ReductionError(f"M and Q must have shapes {(p, k)} and {(p, p)}, got "
                                 f"{M.shape} and {Q.shape}")
        return M, Q

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:   # pragma: no cover - abstract
        raise NotImplementedError

    def risk(self, y: np.ndarray) -> float:    # pragma: no cover - abstract
        raise NotImplementedError

    def closure(self, y: np.ndarray) -> float:
        return 0.0

    def integrate(self, y0: np.ndarray, save: SaveAt | float, solver: Solver = DEFAULT_SOLVER,
                  closure: bool = True) -> WideTrajectory:
        """Integrate the reduced ODE from the reduced state ``y0`` (:meth:`state`).

        Args:
            y0: the reduced start, shape (n,).
            save: a :class:`~overlapdyn.ode.SaveAt` or ``t_end`` (200 log-spaced times).
            solver: ``solve_ivp``'s method and tolerances (default DOP853: the reduced drift
                has no exact Jacobian here, and plateaus of wide networks are mild).
            closure: record the closure rate at every saved time (O(p²) kernel calls each
                for the orthogonal reduction, like the risk); else at the start and the end.

        Raises:
            IntegrationError-like :class:`~overlapdyn.errors.OverlapdynError`: the solver
                failed (a non-finite drift: a learning rate too large).
        """
        save = save if isinstance(save, SaveAt) else SaveAt(float(save))
        grid = save.grid()
        y0 = np.array(y0, dtype=float)
        start = time.perf_counter()
        solution = scipy.integrate.solve_ivp(self.rhs, (0.0, float(grid[-1])), y0,
                                             method=solver.method, t_eval=grid,
                                             rtol=solver.rtol, atol=solver.atol)
        wall = time.perf_counter() - start
        if solution.status < 0 or not np.all(np.isfinite(solution.y)):
            raise OverlapdynError(f"the {self.reduction} reduction of {self.model.name} failed "
                                  f"at t = {solution.t[-1] if len(solution.t) else 0.0:.4g}: "
                                  f"{solution.message} (a learning rate too large for the "
                                  f"activation?)")
        states = solution.y.T
        return WideTrajectory(self.model, self.reduction, solution.t, states,
                              np.array([self.risk(y) for y in states]), self.groups,
                              np.array([self.closure(y) if closure or i in (0, len(states) - 1)
                                        else np.nan for i, y in enumerate(states)]), wall,
                              int(solution.nfev))


class OrthogonalReduction(_Reduction):
    """The orthogonal-diagonal reduction: state ``(M, q⊥)``, ``Q = M P⁻¹ Mᵀ + diag(q⊥)``
    (see the module docstring for the derivation and when it is exact).

    Args:
        model: the model, any width p (the first-order drift only: its
            ``protocol.terms`` must not keep label noise with Δ > 0 or the variance part).
        derivation: how the kernels are derived (default Auto), as for the full ODE.

    Raises:
        ReductionError: a model with the η² parts kept, or a trained readout.
    """

    reduction = "orthogonal"

    def __init__(self, model: Model, derivation: Derivation | None = None) -> None:
        _check_common(model, "orthogonal reduction")
        terms = model.protocol.terms
        if terms.variance or (terms.noise and model.target.noise > 0):
            kept = [name for name in ("noise", "variance") if getattr(terms, name)
                    and (name == "variance" or model.target.noise > 0)]
            raise ReductionError(
                f"the orthogonal reduction keeps the orthogonal parts of different neurons "
                f"orthogonal (Q⊥ diagonal), but the η² parts {kept} of {model.name}'s drift put "
                f"(η²/n_b) u_j u_l E[e² σ'_j σ'_l] on every pair j ≠ l, as large in effect as "
                f"on the diagonal at any width: integrate the first-order drift "
                f"(protocol.terms = 'gradient-flow', the limit η c_p/n_b → 0; here "
                f"η c_p/n_b = {model.protocol.eta * model.student.c_p / model.protocol.n_b:.3g})"
                f", or use SymmetricReduction, exact with every part")
        self._parameters(model)
        self.Pinv = np.ascontiguousarray(np.linalg.inv(self.P))
        self.compiled = _kernels_of(model, derivation)
        self.v = self.compiled.target_vector
        self._loops = _wide_module()
        self._addresses = function_addresses(self.compiled.module, self._loops.KERNEL_NAMES,
                                             self._loops.KERNEL_TYPES)

    @property
    def size(self) -> int:
        return self.model.p * self.model.k + self.model.p

    def state(self, M: np.ndarray, Q: np.ndarray, tolerance: float = 1e-10) -> np.ndarray:
        """The reduced state ``[M.ravel(), q⊥]`` of full overlaps ``(M, Q)``, checked.

        Args:
            M, Q: shapes (p, k), (p, p).
            tolerance: the largest ``|Q⊥_jl|`` (j ≠ l) accepted, ``Q⊥ = Q − M P⁻¹ Mᵀ``;
                such entries are then dropped. A start measured at dimension d has them of
                order d^-1/2.

        Raises:
            ReductionError: shapes, or an off-diagonal ``Q⊥`` above ``tolerance``.
        """
        p = self.model.p
        M, Q = self._overlaps(M, Q)
        perp = Q - M @ self.Pinv @ M.T
        off = perp - np.diag(np.diag(perp))
        worst = float(np.abs(off).max()) if p > 1 else 0.0
        if worst > tolerance:
            j, l = np.unravel_index(int(np.argmax(np.abs(off))), off.shape)
            raise ReductionError(
                f"the orthogonal reduction assumes the orthogonal parts of different neurons "
                f"orthogonal, Q_jl − (M P⁻¹ Mᵀ)_jl = 0 for j ≠ l, but the start has "
                f"{off[j, l]:.3g} at (j, l) = ({j}, {l}) (tolerance {tolerance:g}): start on "
                f"that set, or, for a start measured at dimension d (entries of order "
                f"d^-1/2), pass tolerance ≈ 5/√d to drop them (their d → ∞ limit)")
        if np.any(np.diag(perp) < -1e-12):
            raise ReductionError("Q − M P⁻¹ Mᵀ has a negative diagonal entry: (M, Q) is no "
                                 "overlap of real vectors")
        return np.concatenate([M.ravel(), np.maximum(np.diag(perp), 0.0)])

    def matrices(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The full ``(M, Q)`` of a reduced state (shapes (p, k), (p, p): small p only)."""
        M, qperp = self._split(y)
        return M.copy(), M @ self.Pinv @ M.T + np.diag(qperp)

    def _split(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p, k = self.model.p, self.model.k
        y = np.ascontiguousarray(y, dtype=float)
        return y[:p * k].reshape(p, k), y[p * k:]

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """``d[M.ravel(), q⊥]/dt`` (t unused)."""
        M, qperp = self._split(y)
        dM, dq = self._loops.orthogonal_drift(self._addresses, M, qperp, self.Pinv, self.a,
                                              self.c_p, self.v, self.P, self.mse, self.first,
                                              self.shrink, self.spherical)
        return np.concatenate([dM.ravel(), dq])

    def risk(self, y: np.ndarray) -> float:
        """SPEC's population risk at the reduced state."""
        M, qperp = self._split(y)
        return float(self._loops.orthogonal_risk(self._addresses, M, qperp, self.Pinv, self.a,
                                                 self.c_p, self.v, self.P,
                                                 float(self.model.target.noise)))

    def closure(self, y: np.ndarray) -> float:
        """``max_j c_p Σ_{l≠j} |a_l dQ⊥_jl/dt|``: how fast the full ODE leaves the set here
        (0 for the correlation loss; O(c_p) relative for mse). O(p²) kernel calls."""
        M, qperp = self._split(y)
        return float(self._loops.orthogonal_closure(self._addresses, M, qperp, self.Pinv,
                                                    self.a, self.c_p, self.mse, self.first))


@dataclass(frozen=True)
class _Slot:
    """A neuron, or a class of ``count`` interchangeable neurons, of one group."""

    group: int
    count: int
    named: int   # ≥ 0: a named neuron (count 1); −1: the other neurons of the group


class SymmetricReduction(_Reduction):
    """The symmetric committee ansatz: state ``(R, S, Q_d, C_s, C_d)`` of p students in
    ``groups`` exchangeable groups (see the module docstring: exact at every p, every part of
    the drift kept).

    Args:
        model: a committee model with exchangeable teachers and equal readouts, any width.
        groups: G = 1 (every student alike: ``M_jr = R``) or G = k (group g aligned with
            teacher g: ``M_jr = R`` for r = g, S otherwise); p must be a multiple of G.
        derivation: how the kernels are derived (default Auto).

    Raises:
        ReductionError: the model breaks an assumption (each named with its fix).
    """

    reduction = "symmetric"

    def __init__(self, model: Model, groups: int = 1, derivation: Derivation | None = None
                 ) -> None:
        _check_common(model, "symmetric ansatz")
        target, student, k, p = model.target, model.student, model.k, model.p
        if not target.is_committee:
            raise ReductionError(f"the symmetric ansatz needs exchangeable teacher units: a "
                                 f"committee target, not the formula {target.expression!r}")
        if groups not in (1, k):
            raise ReductionError(f"groups must be 1 (all students alike) or k = {k} (one group "
                                 f"per teacher unit), got {groups!r}")
        if p % groups:
            raise ReductionError(f"groups = {groups} splits the p = {p} students into equal "
                                 f"groups: make p a multiple of {groups}")
        if np.ptp(target.b) > 0:
            raise ReductionError(f"the symmetric ansatz permutes the teacher units, which needs "
                                 f"equal committee weights; target.b = {list(target.b)}: set "
                                 f"them equal")
        P = target.gram
        off = P[~np.eye(k, dtype=bool)]
        if np.ptp(np.diag(P)) > 0 or (k > 1 and np.ptp(off) > 0):
            raise ReductionError(f"the symmetric ansatz permutes the teacher units, which needs "
                                 f"P = p_d I + p_o (11ᵀ − I); target.P = {P.tolist()}")
        if np.ptp(student.a) > 0:
            raise ReductionError(f"the symmetric ansatz exchanges the students, which needs "
                                 f"equal readouts; student.a has {np.min(student.a):g} … "
                                 f"{np.max(student.a):g}: set them equal")
        self._parameters(model)
        self.groups = int(groups)
        self.n = p // groups
        self.u = self.c_p * float(student.a[0])
        self.compiled = _kernels_of(model, derivation)
        self.v = self.compiled.target_vector
        kernels = self.compiled.module
        self.I2ss, self.J2s, self.I3ss, self.I4sss = (kernels.I2ss, kernels.J2s,
                                                      kernels.I3ss, kernels.I4sss)
        self.Tg1, self.Tgz, self.Tgl, self.Tgg, self.Tgs = (kernels.Tg1, kernels.Tgz,
                                                           kernels.Tgl, kernels.Tgg, kernels.Tgs)
        self.Eg2 = float(kernels.Eg2(self.v, self.P))

    names = SYMMETRIC_NAMES

    # ---------------------------------------------------------------- the set

    def state(self, M: np.ndarray, Q: np.ndarray, tolerance: float = 1e-10) -> np.ndarray:
        """``[R, S, Q_d, C_s, C_d]`` of full overlaps on the set, checked (student j is in
        group ``j // n``).

        Raises:
            ReductionError: shapes, or an entry off the set by more than ``tolerance``.
        """
        p, k = self.model.p, self.model.k
        M, Q = self._overlaps(M, Q)
        group = np.arange(p) // self.n
        own = (np.arange(k)[None, :] == group[:, None]) if self.groups > 1 else np.ones(
            (p, k), bool)
        same = group[:, None] == group[None, :]
        eye = np.eye(p, dtype=bool)
        values = []
        for array, mask in ((M, own), (M, ~own), (Q, eye), (Q, same & ~eye), (Q, ~same)):
            values.append(float(array[mask].mean()) if mask.any() else np.nan)
        y = np.array(values)
        y[1] = y[0] if np.isnan(y[1]) else y[1]
        y[3] = y[4] if np.isnan(y[3]) else y[3]
        y[4] = y[3] if np.isnan(y[4]) else y[4]
        y = np.nan_to_num(y)
        Mr, Qr = self.matrices(y)
        worst = max(float(np.abs(M - Mr).max()), float(np.abs(Q - Qr).max()))
        if worst > tolerance:
            raise ReductionError(
                f"the start is not on the symmetric set (students exchangeable within "
                f"{self.groups} group(s) of {self.n}, student j in group j // {self.n}): an "
                f"entry differs from the set's by {worst:.3g} (tolerance {tolerance:g}); start "
                f"on it (SymmetricReduction.matrices builds such overlaps), or use "
                f"OrthogonalReduction for a start with no symmetry")
        return y

    def matrices(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The full ``(M, Q)`` of ``[R, S, Q_d, C_s, C_d]`` (student j in group j // n)."""
        p, k = self.model.p, self.model.k
        R, S, Qd, Cs, Cd = (float(v) for v in y)
        group = np.arange(p) // self.n
        if self.groups > 1:
            M = np.where(np.arange(k)[None, :] == group[:, None], R, S)
        else:
            M = np.full((p, k), R)
        Q = np.where(group[:, None] == group[None, :], Cs, Cd)
        np.fill_diagonal(Q, Qd)
        return M.astype(float), Q.astype(float)

    # ---------------------------------------------------------------- the drift

    def _row(self, y: np.ndarray, group: int) -> np.ndarray:
        R, S = float(y[0]), float(y[1])
        if self.groups == 1:
            return np.full(self.model.k, R)
        row = np.full(self.model.k, S)
        row[group] = R
        return row

    def _slots(self, named: tuple[_Slot, ...]) -> list[_Slot]:
        """The named neurons and, per group, the class of all its other neurons."""
        slots = list(dict.fromkeys(named))
        for g in range(self.groups):
            rest = self.n - sum(1 for s in slots if s.group == g)
            if rest > 0:
                slots.append(_Slot(g, rest, -1))
        return slots

    @staticmethod
    def _q(y: np.ndarray, a: _Slot, b: _Slot, same: bool) -> float:
        if same:
            return float(y[2])
        return float(y[3] if a.group == b.group else y[4])

    def _pairs(self, slots: list[_Slot]):
        """(m, n, count, same neuron?) over ordered pairs of neurons, by class."""
        for a in slots:
            for b in slots:
                if a is b:
                    if a.named >= 0:
                        yield a, b, 1.0, True
                    else:
                        yield a, b, float(a.count), True
                        if a.count > 1:
                            yield a, b, float(a.count * (a.count - 1)), False
                else:
                    yield a, b, float(a.count * b.count), False

    def _az(self, y, j: _Slot) -> np.ndarray:
        """E[G_j z_r] (k,)."""
        k = self.model.k
        Mj = self._row(y, j.group)
        qjj = float(y[2])
        out = np.empty(k)
        for r in range(k):
            s = self.Tgz(r, qjj, Mj, self.v, self.P)
            if self.mse:
                for m in self._slots((j,)):
                    Mm = self._row(y, m.group)
                    s -= m.count * self.u * self.I3ss(qjj, Mj[r], self._q(y, j, m, m is j),
                                                      self.P[r, r], Mm[r], float(y[2]))
            out[r] = self.u * s
        return out

    def _al(self, y, j: _Slot, l: _Slot) -> float:
        """E[G_j λ_l]."""
        Mj, Ml = self._row(y, j.group), self._row(y, l.group)
        qd = float(y[2])
        qjl = self._q(y, j, l, j is l)
        s = self.Tgl(qd, qjl, qd, Mj, Ml, self.v, self.P)
        if self.mse:
            for m in self._slots((j, l)):
                s -= m.count * self.u * self.I3ss(qd, qjl, self._q(y, j, m, m is j), qd,
                                                  self._q(y, l, m, m is l), qd)
        return self.u * s

    def _b(self, y, j: _Slot, l: _Slot) -> float:
        """``variance·B^var_jl + Δ u² J2s`` (the η² part of dQ_jl before η²/n_b)."""
        Mj, Ml = self._row(y, j.group), self._row(y, l.group)
        qd = float(y[2])
        qjl = self._q(y, j, l, j is l)
        s = self.noise * self.J2s(qd, qjl, qd)
        if self.variance:
            v = self.Tgg(qd, qjl, qd, Mj, Ml, self.v, self.P)
            if self.mse:
                slots = self._slots((j, l))
                for m in slots:
                    Mm = self._row(y, m.group)
                    v -= 2.0 * m.count * self.u * self.Tgs(
                        qd, qjl, self._q(y, j, m, m is j), qd, self._q(y, l, m, m is l), qd,
                        Mj, Ml, Mm, self.v, self.P)
                for m, n, count, same in self._pairs(slots):
                    v += count * self.u * self.u * self.I4sss(
                        qd, qjl, self._q(y, j, m, m is j), self._q(y, j, n, n is j), qd,
                        self._q(y, l, m, m is l), self._q(y, l, n, n is l), qd,
                        self._q(y, m, n, same), qd)
            s += self.variance * v
        return self.u * self.u * s

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """``d[R, S, Q_d, C_s, C_d]/dt`` (t unused): SPEC's drift of one representative entry
        of each kind."""
        k = self.model.k
        j = _Slot(0, 1, 0)
        same = _Slot(0, 1, 1)
        other = _Slot(1, 1, 2) if self.groups > 1 else None
        first, shrink, second = self.first, self.shrink, self.second
        az = self._az(y, j)
        al_jj = self._al(y, j, j)
        b_jj = self._b(y, j, j)
        out = np.zeros(5)
        Mj = self._row(y, 0)
        for index, r in ((0, 0), (1, 1 if k > 1 and self.groups > 1 else None)):
            if r is None:
                continue
            if self.spherical:
                out[index] = first * (az[r] - Mj[r] * al_jj) - 0.5 * second * Mj[r] * b_jj
            else:
                out[index] = first * az[r] - shrink * Mj[r]
        if not self.spherical:
            out[2] = 2.0 * first * al_jj - 2.0 * shrink * y[2] + second * b_jj
        for index, l in ((3, same if self.n > 1 else None), (4, other)):
            if l is None:
                continue
            qjl = float(y[index])
            al_jl, al_lj, b_jl = self._al(y, j, l), self._al(y, l, j), self._b(y, j, l)
            if self.spherical:
                out[index] = (first * (al_jl + al_lj) - 2.0 * first * qjl * al_jj
                              + second * b_jl - second * qjl * b_jj)
            else:
                out[index] = first * (al_jl + al_lj) - 2.0 * shrink * qjl + second * b_jl
        return out

    def risk(self, y: np.ndarray) -> float:
        """SPEC's population risk at ``[R, S, Q_d, C_s, C_d]``."""
        j = _Slot(0, 1, 0)
        qd = float(y[2])
        total = self.noise_risk + self.Eg2
        for m in self._slots((j,)):
            total -= 2.0 * m.count * self.u * self.Tg1(qd, self._row(y, m.group), self.v,
                                                       self.P)
        # Σ_jl u² I2ss over ordered pairs: p/G neurons of each group alike, so G times the
        # sum of one group's neuron j over its partners
        pair = 0.0
        for m in self._slots((j,)):
            pair += m.count * self.u * self.u * self.I2ss(qd, self._q(y, j, m, m is j), qd)
        total += self.model.p * pair
        # the target term too is summed over neurons: its slot sum covers every neuron once
        return 0.5 * total

    @property
    def noise_risk(self) -> float:
        return float(self.model.target.noise)
