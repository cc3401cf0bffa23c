"""Analysis at a point: drift, risk, Jacobian, fixed points and their eigenvalues.

What theorists do by hand: find the plateau of a committee (an unspecialised fixed point of
the overlap ODEs), read its risk, and predict how fast the dynamics leave it from the
largest real part λ₊ of the Jacobian's eigenvalues there — near the fixed point the
distance grows like ``e^{λ₊ t}``, so leaving a plateau entered at distance δ₀ takes about
``log(δ_exit/δ₀)/λ₊``.

Only points where ``Ω = [[Q, M], [Mᵀ, P]]`` is positive semi-definite are states of the
dynamics (overlaps of real weights). A root of the drift outside that cone is an artefact of
the closed-form kernels continued past it (e.g. K = M = 2 erf, c_p = 1, η = 2 has one with
risk −0.043): :func:`find_fixed_point` checks every root with
:func:`~overlapdyn.ode.state.check_overlaps` (the check :func:`~overlapdyn.ode.integrate`
applies to its initial state) and by default refuses one outside. At a plateau on the cone's
boundary (the student vectors coincide, Ω singular) a plain displacement along an
eigenvector leaves the cone at second order; :meth:`FixedPoint.perturbed` lifts it back in.

The Jacobian is exact (:meth:`CompiledModel.jacobian
<overlapdyn.compile.CompiledModel.jacobian>`: the kernels' partial derivatives, taken by
SymPy, chained through the drift's loops) whenever the kernels have formulas — every
derivation but quadrature; there, central differences of the generated drift stand in
(step ``h·max(1, |y_i|)``, h = 1e-6 by default, truncation error O(h²) ≈ 1e-12 relative for
the smooth drifts here). Fixed points and their stability use it over the free
coordinates: M, the upper triangle of Q (without the diagonal when spherical), and a when
trained.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.optimize

from ..compile.compiled import CompiledModel
from ..derive.methods import derivation_from_dict
from ..errors import CovarianceError, OverlapdynError
from ..model.checks import smallest_eigenvalue
from ..model.spec import model_from_dict
from ..storage.results import Result
from .state import check_overlaps, overlap_covariance

__all__ = ["FixedPoint", "find_fixed_point", "jacobian", "stability"]

#: what :func:`find_fixed_point` does with a root outside the PSD cone
ON_OUTSIDE = ("raise", "warn", "return")


def _central_differences(function, x: np.ndarray, h: float) -> np.ndarray:
    """Columns ``(f(x + δe_i) − f(x − δe_i)) / 2δ`` with ``δ = h·max(1, |x_i|)``."""
    columns = []
    for i in range(x.size):
        step = h * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        columns.append((function(up) - function(down)) / (2 * step))
    return np.column_stack(columns)


def jacobian(compiled: CompiledModel, y: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """``∂(dy/dt)/∂y`` at the packed state ``y`` (shape (n, n), n = state size): exact when
    the kernels have formulas, else central differences with step ``h·max(1, |y_i|)``."""
    y = np.asarray(y, dtype=float)
    if compiled.has_exact_jacobian:
        return compiled.jacobian(0.0, y)
    return _central_differences(lambda v: compiled.rhs(0.0, v), y, h)


def _independent(compiled: CompiledModel) -> np.ndarray:
    """Indices of the state's free coordinates: M, the upper triangle of Q (the diagonal
    dropped when spherical, where Q_jj = 1 is imposed), and a if trained."""
    p, k = compiled.model.p, compiled.model.k
    first = 1 if compiled.model.protocol.spherical else 0
    upper = [p * k + j * p + l for j in range(p) for l in range(j + first, p)]
    rest = list(range(p * k + p * p, compiled.state_size))
    return np.array(list(range(p * k)) + upper + rest, dtype=int)


def _embedding(compiled: CompiledModel) -> np.ndarray:
    """``∂y/∂x`` of :func:`_full` (shape (n, n_free)): a free Q_jl sets both Q_jl and Q_lj."""
    p, k = compiled.model.p, compiled.model.k
    free = _independent(compiled)
    E = np.zeros((compiled.state_size, free.size))
    E[free, np.arange(free.size)] = 1.0
    for column, index in enumerate(free):
        if p * k <= index < p * k + p * p:
            j, l = divmod(index - p * k, p)
            E[p * k + l * p + j, column] = 1.0
    return E


def _full(compiled: CompiledModel, x: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Embed the free coordinates ``x`` into a packed state (Q symmetrised)."""
    p, k = compiled.model.p, compiled.model.k
    y = template.copy()
    y[_independent(compiled)] = x
    Q = y[p * k: p * k + p * p].reshape(p, p)
    upper = np.triu(Q)
    y[p * k: p * k + p * p] = (upper + np.triu(Q, 1).T).ravel()
    return y


@dataclass(frozen=True)
class FixedPoint(Result):
    """A fixed point of the overlap ODEs and its linear stability.

    Attributes:
        M, Q, a: the overlaps there (shapes (p,k), (p,p), (p,)).
        risk: the population risk there.
        eigenvalues: of the Jacobian restricted to the free coordinates, sorted by
            decreasing real part.
        eigenvectors: the matching eigenvectors (columns) in the free coordinates.
        residual: max ``|dy/dt|`` at the point.
        compiled: the compiled model it belongs to (saved as its model and derivation; a
            load compiles it again, or loads it from the kernel cache).

    Derived from these: :attr:`in_cone` (whether Ω = [[Q, M], [Mᵀ, P]] is a Gram matrix,
    i.e. the point is a state of the dynamics), :attr:`cone_violation` (why not) and
    :attr:`smallest_covariance_eigenvalue` (of Ω).
    """

    FORMAT = "overlapdyn.FixedPoint"
    VERSION = 1

    M: np.ndarray
    Q: np.ndarray
    a: np.ndarray
    risk: float
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    residual: float
    compiled: CompiledModel

    @property
    def cone_violation(self) -> str | None:
        """Why no weights have these overlaps — the message of
        :func:`~overlapdyn.ode.state.check_overlaps` (Ω not positive semi-definite up to
        10⁻¹⁰ of its largest entry, or a spherical ``Q_jj ≠ 1``) — or None where they do."""
        model = self.compiled.model
        try:
            check_overlaps(self.M, self.Q, model.target.gram, what="this fixed point (M, Q)",
                           spherical=model.protocol.spherical)
        except OverlapdynError as error:
            return str(error)
        return None

    @property
    def in_cone(self) -> bool:
        """Whether the point is a state of the dynamics, Ω ⪰ 0 (else
        :attr:`cone_violation` says why not)."""
        return self.cone_violation is None

    @property
    def smallest_covariance_eigenvalue(self) -> float:
        """The smallest eigenvalue of Ω = [[Q, M], [Mᵀ, P]] (≈ 0 where students coincide)."""
        return smallest_eigenvalue(overlap_covariance(self.M, self.Q,
                                                      self.compiled.model.target.gram))

    def perturbed(self, epsilon: float, mode: int = 0) -> tuple[np.ndarray, ...]:
        """``(M, Q, a)`` displaced by ``epsilon`` along eigenvector ``mode`` (0: the most
        unstable; scaled to max-norm 1), then lifted into the PSD cone — e.g. to start an
        escape from the plateau.

        At a plateau where student vectors coincide (``Q_11 = Q_12``, Ω singular) the
        unstable direction moves ``M_1·`` and ``M_2·`` apart while ``Q`` says ``w_1 = w_2``:
        Ω's smallest eigenvalue becomes ≈ −4ε², and no weights have those overlaps. The
        lift adds ``s I`` to Q with the smallest such s,
        ``s = max(0, −λ_min(Q − M P⁻¹ Mᵀ))`` (Ω ⪰ 0 exactly when its Schur complement is,
        P ≻ 0): O(ε²) there, 0 where the displacement stays inside. For spherical SGD the
        lifted rows are renormalised to ``Q_jj = 1`` (a congruence: Ω stays ⪰ 0).

        Raises:
            OverlapdynError: the fixed point itself lies outside the cone.
        """
        violation = self.cone_violation
        if violation is not None:
            raise OverlapdynError(f"no state of the dynamics lies near this fixed point: "
                                  f"{violation}")
        y = self.compiled.pack(self.M, self.Q, self.a)
        free = _independent(self.compiled)
        direction = np.real(self.eigenvectors[:, mode])
        direction /= np.abs(direction).max()
        M, Q, a = (np.array(v) for v in self.compiled.unpack(
            _full(self.compiled, y[free] + epsilon * direction, y)))
        M, Q = _lift_into_cone(M, Q, self.compiled.model.target.gram,
                               self.compiled.model.protocol.spherical)
        return M, Q, a

    @property
    def growth_rate(self) -> float:
        """Largest real part λ₊ of the eigenvalues (> 0 means unstable, e.g. a plateau)."""
        return float(self.eigenvalues[0].real)

    def time_to_leave(self, start_distance: float, exit_distance: float = 0.1) -> float:
        """Predicted time ``log(exit/start)/λ₊`` to move from ``start_distance`` to
        ``exit_distance`` along the unstable direction (leaving a plateau; the *escape*
        of :mod:`overlapdyn.scaling` is the cosine overlap reaching a threshold)."""
        if self.growth_rate <= 0:
            raise OverlapdynError("this fixed point is stable: it is never left")
        return float(np.log(exit_distance / start_distance) / self.growth_rate)

    def describe(self) -> str:
        """The risk there, the residual drift, the leading eigenvalues, and whether the
        point is a state of the dynamics (inside the PSD cone)."""
        leading = ", ".join(f"{value:.4g}" for value in self.eigenvalues[:4])
        kind = "unstable" if self.growth_rate > 0 else "stable"
        where = ("" if self.in_cone else
                 f"; OUTSIDE the PSD cone (smallest eigenvalue of Ω = [[Q, M], [Mᵀ, P]] "
                 f"{self.smallest_covariance_eigenvalue:.3g}): no weights have these "
                 "overlaps, not a state of the dynamics")
        terms = self.compiled.model.protocol.terms
        kept = "" if terms.full else f" (drift terms kept: {terms})"
        return (f"fixed point of {self.compiled.model.name}{kept}: risk {self.risk:.6g}, "
                f"max |dy/dt| "
                f"{self.residual:.1e}; {kind}, λ₊ = {self.growth_rate:.4g} (eigenvalues "
                f"{leading}{' …' if len(self.eigenvalues) > 4 else ''}){where}")

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {name: np.asarray(getattr(self, name))
                  for name in ("M", "Q", "a", "eigenvalues", "eigenvectors")}
        return {"model": self.compiled.model.to_dict(),
                "derivation": self.compiled.derivation.to_dict(),
                "risk": self.risk, "residual": self.residual}, arrays

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> FixedPoint:
        compiled = CompiledModel(model_from_dict(header["model"]),
                                 derivation_from_dict(header["derivation"]))
        return cls(arrays["M"], arrays["Q"], arrays["a"], header["risk"], arrays["eigenvalues"],
                   arrays["eigenvectors"], header["residual"], compiled)


def _reduced_jacobian(compiled: CompiledModel, y: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Jacobian over the free coordinates (perturbing Q_jl moves both entries of Q)."""
    free = _independent(compiled)
    if compiled.has_exact_jacobian:
        return compiled.jacobian(0.0, y)[free] @ _embedding(compiled)
    return _central_differences(
        lambda x: compiled.rhs(0.0, _full(compiled, x, y))[free], y[free], h)


def stability(compiled: CompiledModel, M, Q, a=None) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (sorted by decreasing real part) and eigenvectors (columns, in the free
    coordinates: M, upper triangle of Q, a) of the Jacobian at ``(M, Q, a)``."""
    values, vectors = np.linalg.eig(_reduced_jacobian(compiled, compiled.pack(M, Q, a)))
    order = np.argsort(-values.real)
    return values[order], vectors[:, order]


def _lift_into_cone(M: np.ndarray, Q: np.ndarray, P: np.ndarray, spherical: bool
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(M, Q + sI)`` with the smallest ``s ≥ 0`` that makes Ω = [[Q, M], [Mᵀ, P]] ⪰ 0
    (``s = −λ_min(Q − M P⁻¹ Mᵀ)`` when that is positive); spherical: rows renormalised."""
    schur = Q - M @ np.linalg.solve(P, M.T)
    lift = max(0.0, -smallest_eigenvalue((schur + schur.T) / 2))
    Q = Q + lift * np.eye(Q.shape[0])
    if spherical:
        norms = np.sqrt(np.diag(Q))
        Q, M = Q / np.outer(norms, norms), M / norms[:, None]
    return M, Q


def find_fixed_point(compiled: CompiledModel, M, Q, a=None, *, tol: float = 1e-12,
                     on_outside: str = "raise") -> FixedPoint:
    """Solve ``dy/dt = 0`` by SciPy's ``root`` (hybrid Powell) from the guess ``(M, Q, a)``.

    Newton-type solvers converge to the fixed point nearest the guess whatever its
    stability, so a state read off a plateau of a learning curve finds that plateau. They
    also converge to roots that no weights have: the drift's closed forms are defined past
    the cone Ω = [[Q, M], [Mᵀ, P]] ⪰ 0, and have roots there (K = M = 2 erf, c_p = 1, η = 2:
    one with risk −0.043). Every root is checked with
    :func:`~overlapdyn.ode.state.check_overlaps`, the check of
    :func:`~overlapdyn.ode.integrate`'s initial state.

    Args:
        compiled: the compiled model.
        M, Q, a: the guess; shapes (p,k), (p,p), (p,).
        tol: the solver's tolerance.
        on_outside: what to do with a root outside the cone — ``"raise"`` (default) a
            :class:`~overlapdyn.errors.CovarianceError` naming Ω's smallest eigenvalue and
            the root's risk; ``"warn"``: a ``RuntimeWarning``, and return it; ``"return"``:
            return it silently. A returned one has ``in_cone`` False, and its
            :meth:`~FixedPoint.describe` says it is outside.

    Raises:
        OverlapdynError: if the solver does not converge (the message says from where).
        CovarianceError: the root lies outside the cone and ``on_outside="raise"``.
    """
    if on_outside not in ON_OUTSIDE:
        raise OverlapdynError(f"on_outside must be one of {ON_OUTSIDE}, got {on_outside!r}")
    template = compiled.pack(M, Q, a)
    free = _independent(compiled)

    def residual(x):
        return compiled.rhs(0.0, _full(compiled, x, template))[free]

    def residual_jacobian(x):
        return _reduced_jacobian(compiled, _full(compiled, x, template))

    solution = scipy.optimize.root(residual, template[free], method="hybr", tol=tol,
                                   jac=residual_jacobian if compiled.has_exact_jacobian
                                   else None)
    y = _full(compiled, solution.x, template)
    worst = float(np.max(np.abs(compiled.rhs(0.0, y))))
    if not solution.success and worst > 1e-8:
        raise OverlapdynError(f"no fixed point found near the guess ({solution.message}; "
                              f"max |drift| = {worst:.2e}); start from a state closer to one")
    M_star, Q_star, a_star = (np.array(v) for v in compiled.unpack(y))
    values, vectors = stability(compiled, M_star, Q_star, a_star)
    fixed = FixedPoint(M_star, Q_star, a_star, compiled.risk(M_star, Q_star, a_star), values,
                       vectors, worst, compiled)
    violation = fixed.cone_violation
    if violation is not None and on_outside != "return":
        message = (f"the root of the drift found from this guess (risk {fixed.risk:.4g}) is "
                   f"not a state of the dynamics: {violation}\nStart from a guess nearer the "
                   "fixed point you want (a state of a trajectory), or pass "
                   "on_outside='return' to inspect it")
        if on_outside == "raise":
            raise CovarianceError(message)
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    return fixed
