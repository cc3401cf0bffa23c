"""Analysis at a point: drift, risk, Jacobian, fixed points and their eigenvalues.

What theorists do by hand: find the plateau of a committee (an unspecialised fixed point of
the overlap ODEs), read its risk, and predict how fast the dynamics leave it from the
largest real part λ₊ of the Jacobian's eigenvalues there — near the fixed point the
distance grows like ``e^{λ₊ t}``, so leaving a plateau entered at distance δ₀ takes about
``log(δ_exit/δ₀)/λ₊``.

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

from dataclasses import dataclass

import numpy as np
import scipy.optimize

from ..compile.compiled import CompiledModel
from ..derive.methods import derivation_from_dict
from ..errors import OverlapdynError
from ..model.spec import model_from_dict
from ..storage.results import Result

__all__ = ["FixedPoint", "find_fixed_point", "jacobian", "stability"]


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

    def perturbed(self, epsilon: float, mode: int = 0) -> tuple[np.ndarray, ...]:
        """``(M, Q, a)`` displaced by ``epsilon`` along eigenvector ``mode`` (0: the most
        unstable), e.g. to start an escape from the plateau."""
        y = self.compiled.pack(self.M, self.Q, self.a)
        free = _independent(self.compiled)
        direction = np.real(self.eigenvectors[:, mode])
        direction /= np.abs(direction).max()
        return tuple(np.array(v) for v in self.compiled.unpack(
            _full(self.compiled, y[free] + epsilon * direction, y)))

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
        """The risk there, the residual drift and the leading eigenvalues."""
        leading = ", ".join(f"{value:.4g}" for value in self.eigenvalues[:4])
        kind = "unstable" if self.growth_rate > 0 else "stable"
        return (f"fixed point of {self.compiled.model.name}: risk {self.risk:.6g}, max |dy/dt| "
                f"{self.residual:.1e}; {kind}, λ₊ = {self.growth_rate:.4g} (eigenvalues "
                f"{leading}{' …' if len(self.eigenvalues) > 4 else ''})")

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


def find_fixed_point(compiled: CompiledModel, M, Q, a=None, *, tol: float = 1e-12
                     ) -> FixedPoint:
    """Solve ``dy/dt = 0`` by SciPy's ``root`` (hybrid Powell) from the guess ``(M, Q, a)``.

    Newton-type solvers converge to the fixed point nearest the guess whatever its
    stability, so a state read off a plateau of a learning curve finds that plateau.

    Raises:
        OverlapdynError: if the solver does not converge (the message says from where).
    """
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
    return FixedPoint(M_star, Q_star, a_star, compiled.risk(M_star, Q_star, a_star), values,
                      vectors, worst, compiled)
