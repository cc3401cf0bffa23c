"""The ODE integrator: SciPy's ``solve_ivp`` on the compiled drift, what to save, events.

:func:`integrate` is the one entry point for the ODE (diffrax-like: the model, the initial
overlaps, what to save, when to stop), returning a :class:`~overlapdyn.ode.trajectory.Trajectory`.

Default solver: ``LSODA``. The drift is smooth, but near a plateau (a saddle of the
overlap dynamics) its Jacobian has a slow unstable direction next to fast stable ones — the
system turns stiff exactly there, and non-stiff again during an escape. LSODA switches
between Adams (non-stiff) and BDF (stiff) on its own; pass ``solver=Solver("DOP853")`` for
tight tolerances on non-stiff runs, or ``Solver("Radau")``/``Solver("BDF")`` for long plateaus.
The events (:mod:`overlapdyn.ode.events`) are anything with a ``name``, ``terminal``,
``direction`` and ``function(M, Q, a, risk)``.

Blow-up (a learning rate too large for the activation, typically) is detected three ways:
the state exceeding ``blowup_norm``, Ω = [[Q, M], [Mᵀ, P]] losing positive
semi-definiteness, or the solver failing on a non-finite drift. The run then stops with an
:class:`IntegrationError` that names the probable cause and carries the trajectory up to
there (``error.trajectory``), or returns it with ``outcome = Outcome.FAILED`` if
``on_failure="return"``.

The work is bounded: a run stops after ``max_evaluations`` drift evaluations (default
:data:`MAX_EVALUATIONS` = 10⁶, a few minutes at most at p = k = 2; the solver's own
finite-difference Jacobians count too) with an :class:`IntegrationError` (or
``Outcome.FAILED``) saying how far it got. A learning rate far too large for a saturating
activation (erf, η = 10⁶) is the case this catches: the drift saturates, the state grows
like a power of t instead of exploding, and the solver's steps shrink as the state grows,
so the blow-up norm would be reached only after ~10⁸ evaluations. Healthy runs need far
fewer (10³–10⁴ with LSODA; ~2·10⁵ for DOP853 on a stiff 10⁵-long plateau).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy
import scipy.integrate
import scipy.optimize

from ..compile.compiled import CompiledModel
from ..derive.methods import Derivation, ModelFunctions
from ..errors import ConfigError, IntegrationError, OverlapdynError, RoughKernelWarning
from ..model.checks import check_integer, check_real
from ..model.spec import Model
from ..progress import progress_bar
from .events import Event, EventLike, OverlapCrosses, RiskBelow, check_events  # noqa: F401
from .state import (
    BLOWUP_NORM,
    blowup_message,
    check_overlaps,
    overlap_covariance,
    trajectory_from_states,
    warn_if_runaway,
)
from .trajectory import Outcome, SolverStats, Trajectory

# Event, RiskBelow and OverlapCrosses live in .events; importing them from here keeps working
__all__ = [
    "IMPLICIT_METHODS",
    "JACOBIANS",
    "MAX_EVALUATIONS",
    "METHODS",
    "SaveAt",
    "Solver",
    "check_solver",
    "integrate",
]

# how often a run abandoned at a blow-up is redone to just before it
_BLOWUP_RETRIES = 6
#: the default cap on drift evaluations of one :func:`integrate` call (see the module doc)
MAX_EVALUATIONS = 1_000_000


class _Budget:
    """Counts the drift evaluations of one run, all its attempts together.

    When ``limit`` is reached the run is stopped at its next accepted step by a terminal
    event (keeping the states so far); a step that never returns (the solver shrinking its
    step inside its Fortran code) is cut by the right-hand side raising
    :class:`_OutOfBudget` at twice the limit.
    """

    def __init__(self, limit: int) -> None:
        self.limit, self.count, self.cut = limit, 0, None
        self.on_step = None     # called with t after each accepted step (a progress bar)

    def spend(self, t: float) -> None:
        self.count += 1
        if self.count > 2 * self.limit:
            raise _OutOfBudget(t)

    def event(self, t, y) -> float:
        """Positive until the limit is reached, then negative from the first accepted time
        after that (a step in t, so the event's root-finding lands on that time)."""
        if self.on_step is not None:
            self.on_step(t)
        if self.cut is None and self.count >= self.limit:
            self.cut = float(t)
        return 1.0 if self.cut is None or t < self.cut else -1.0

    def solve_ivp_event(self):
        def function(t, y):
            return self.event(t, y)

        function.terminal, function.direction = True, -1
        return function


class _OutOfBudget(Exception):
    """Raised by the guarded right-hand side at twice the evaluation budget."""

    def __init__(self, t: float) -> None:
        super().__init__(t)
        self.t = float(t)


class _BlowUp(Exception):
    """Raised by the guarded right-hand side when the state passes the blow-up norm."""

    def __init__(self, t: float) -> None:
        super().__init__(t)
        self.t = float(t)


def _initial_only(y0: np.ndarray):
    """A solve_ivp-like result holding just the initial state (a blow-up at once)."""
    return scipy.optimize.OptimizeResult(t=np.zeros(1), y=y0[:, None], status=0, message="",
                                         t_events=None, y_events=None, nfev=0)


@dataclass(frozen=True)
class SaveAt:
    """Where the trajectory is recorded: t = 0 and ``n_points − 1`` times up to ``t_end``.

    Attributes:
        t_end: final time (t = steps/d).
        n_points: number of saved times, t = 0 included.
        log: log-spaced times from ``t_first`` (learning curves live on log axes), else
            uniform.
        t_first: first positive saved time when ``log``.
        times: explicit saved times (see :meth:`at`); overrides the three above.
    """

    t_end: float
    n_points: int = 200
    log: bool = True
    t_first: float = 1e-2
    times: tuple[float, ...] | None = None

    @classmethod
    def at(cls, times) -> SaveAt:
        """Save exactly at ``times`` (increasing, starting at 0), e.g. a simulation's grid."""
        times = tuple(float(t) for t in times)
        if len(times) < 2 or times[0] != 0.0 or np.any(np.diff(times) <= 0):
            raise OverlapdynError("times must increase strictly from t = 0 (at least 2 of them)")
        return cls(times[-1], len(times), log=False, times=times)

    def __post_init__(self) -> None:
        if np.ndim(self.t_end) != 0:
            raise OverlapdynError(f"SaveAt's t_end is one number, got an array of shape "
                                  f"{np.shape(self.t_end)}; to save at given times use "
                                  "SaveAt.at(times)")
        if not (np.isfinite(self.t_end) and self.t_end > 0):
            raise OverlapdynError(f"t_end must be > 0, got {self.t_end}")
        if self.n_points < 2:
            raise OverlapdynError(f"n_points must be ≥ 2, got {self.n_points}")
        if self.log and not 0 < self.t_first < self.t_end:
            raise OverlapdynError(f"t_first must lie in (0, t_end), got {self.t_first}")

    def grid(self) -> np.ndarray:
        if self.times is not None:
            return np.array(self.times)
        if self.log:
            return np.concatenate([[0.0], np.geomspace(self.t_first, self.t_end,
                                                       self.n_points - 1)])
        return np.linspace(0.0, self.t_end, self.n_points)


#: the ``solve_ivp`` methods a :class:`Solver` takes
METHODS = ("LSODA", "RK45", "RK23", "DOP853", "Radau", "BDF")
#: the methods that use a Jacobian (``jacobian="exact"`` needs one of them)
IMPLICIT_METHODS = ("LSODA", "BDF", "Radau")
#: what the implicit methods differentiate with (:class:`Solver`'s ``jacobian``)
JACOBIANS = ("auto", "exact", "solver")


def check_solver(method: str, rtol: float, atol: float, jacobian: str, where: str
                 ) -> tuple[str, float, float, str]:
    """The solver settings checked, tolerances as floats; ``where`` prefixes the names in
    errors (``"Solver."``, ``"integrate."``).

    Raises:
        ConfigError: an unknown method or Jacobian choice, a tolerance that is not a finite
            number > 0, or an exact Jacobian asked of an explicit method.
    """
    if method not in METHODS:
        raise ConfigError(f"{where}method must be one of {METHODS}, got {method!r}")
    tolerances = []
    for name, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, str | bool):
            raise ConfigError(f"{where}{name} must be a number, got {value!r}")
        tolerances.append(check_real(value, f"{where}{name}", positive=True))
    if jacobian not in JACOBIANS:
        raise ConfigError(f"{where}jacobian must be 'auto', 'exact' or 'solver', got "
                          f"{jacobian!r}")
    if jacobian == "exact" and method not in IMPLICIT_METHODS:
        raise ConfigError(f"method {method!r} uses no Jacobian; jacobian='exact' needs one "
                          f"of {IMPLICIT_METHODS}")
    return method, tolerances[0], tolerances[1], jacobian


@dataclass(frozen=True)
class Solver:
    """How :func:`integrate` solves the ODE: SciPy's ``solve_ivp`` method and tolerances,
    and what the implicit methods differentiate.

    Attributes:
        method: one of :data:`METHODS` (``solve_ivp``'s): ``"LSODA"`` (default; switches
            between Adams and BDF as the run turns stiff near a plateau), ``"DOP853"``
            (tight tolerances on non-stiff runs), ``"Radau"``/``"BDF"`` (long plateaus), …
        rtol, atol: relative and absolute tolerances (finite, > 0).
        jacobian: ``"exact"`` — the drift's exact Jacobian (:meth:`CompiledModel.jacobian
            <overlapdyn.compile.CompiledModel.jacobian>`; derived and compiled once per
            model, then cached); ``"solver"`` — the solver's own finite differences;
            ``"auto"`` — exact for BDF and Radau (which evaluate it at every step they
            refactor), the solver's for LSODA (which needs it only in stiff stretches, where
            the one-time derivation seldom pays off) and the explicit methods (no Jacobian).
            For many runs of one large model pass ``"exact"`` with LSODA too: each of its
            finite-difference Jacobians costs n drift evaluations (an erf committee
            K = M = 8, n = 128: 1536 of a curve's 2006 evaluations; with the exact one 471,
            the curve ≈ 3× faster, ``benchmarks/bench_speed.py``).

    Raises:
        ConfigError: an unknown method or Jacobian choice, a tolerance that is not a finite
            number > 0, or ``jacobian="exact"`` with an explicit method.
    """

    method: str = "LSODA"
    rtol: float = 1e-8
    atol: float = 1e-10
    jacobian: str = "auto"

    def __post_init__(self) -> None:
        checked = check_solver(self.method, self.rtol, self.atol, self.jacobian, "Solver.")
        for name, value in zip(("method", "rtol", "atol", "jacobian"), checked, strict=True):
            object.__setattr__(self, name, value)


def integrate(
    model: Model | CompiledModel,
    init: tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray],
    save: SaveAt | float,
    *,
    events: Sequence[EventLike] = (),
    solver: Solver = Solver(),
    derivation: Derivation | None = None,
    blowup_norm: float = BLOWUP_NORM,
    on_failure: str = "raise",
    max_evaluations: int = MAX_EVALUATIONS,
    progress: bool = False,
) -> Trajectory:
    """Integrate the overlap ODEs of SPEC from ``init`` and record the learning curve.

    Args:
        model: the model, or an already compiled one (reuse it across many runs).
        init: initial ``(M, Q)`` or ``(M, Q, a)``; shapes (p,k), (p,p), (p,).
        save: a :class:`SaveAt`, or just ``t_end`` (200 log-spaced points).
        events: events to record (:class:`~overlapdyn.ode.events.RiskBelow`,
            :class:`~overlapdyn.ode.events.OverlapCrosses`, :class:`~overlapdyn.ode.events.Event`;
            anything :class:`~overlapdyn.ode.events.EventLike`).
        solver: the :class:`Solver`: ``solve_ivp``'s method and tolerances, and what the
            implicit methods differentiate (``jacobian``).
        derivation: how kernels are derived (when ``model`` is not compiled yet): a
            method of :mod:`overlapdyn.derive.methods`, default ``Auto()``.
        blowup_norm: the state's max-norm that counts as a blow-up.
        on_failure: ``"raise"`` an :class:`IntegrationError` carrying the partial trajectory,
            or ``"return"`` it with ``outcome = Outcome.FAILED`` (status −1).
        max_evaluations: the most drift evaluations the run may use, all attempts together
            (an integer ≥ 1); past it the run fails as above, with the states so far.
        progress: a progress bar (tqdm) over t, shown once the run has taken a second.

    Returns:
        The :class:`Trajectory` (:attr:`~Trajectory.outcome` ``REACHED_END``: reached
        ``t_end``; ``EVENT``: a terminal event fired), with the events' times, the solver's
        statistics, the kernels and the wall time as its fields.
    """
    if on_failure not in ("raise", "return"):
        raise OverlapdynError(f"on_failure must be 'raise' or 'return', got {on_failure!r}")
    if not isinstance(solver, Solver):
        raise OverlapdynError(f"solver must be a Solver, e.g. Solver('DOP853', rtol=1e-10), "
                              f"got {solver!r}")
    events = check_events(events)
    max_evaluations = check_integer(max_evaluations, "max_evaluations", 1)
    compiled = model if isinstance(model, CompiledModel) else CompiledModel(model, derivation)
    spec = compiled.model
    save = save if isinstance(save, SaveAt) else SaveAt(float(save))
    exact = _use_exact_jacobian(compiled, solver)
    _warn_if_rough(compiled, solver)
    y0 = compiled.pack(*init)
    M0, Q0, _ = compiled.unpack(y0)
    check_overlaps(M0, Q0, spec.target.gram, what="the initial state (M, Q)",
                   spherical=spec.protocol.spherical)
    start = time.perf_counter()
    budget = _Budget(max_evaluations)
    with progress_bar(progress, total=float(save.t_end), desc="integrate", unit="t",
                      delay=1.0, bar_format="{l_bar}{bar}| t = {n:.4g}/{total:.4g} "
                                            "[{elapsed}<{remaining}]") as bar:
        budget.on_step = _advancer(bar) if progress else None
        solution, blown_at = _solve(compiled, y0, save, events, solver, blowup_norm, exact,
                                    budget)
    wall = time.perf_counter() - start
    fired = {e.name: [float(t) for t in times] for e, times in zip(
        events, solution.t_events or [], strict=False) if len(times)}
    ts, ys = _saved_states(solution)
    scale = max(1.0, float(np.abs(overlap_covariance(M0, Q0, spec.target.gram)).max()))
    ts, ys, failure = _diagnose(compiled, ts, ys, solution, blown_at, scale, blowup_norm)
    if failure is None and budget.cut is not None:
        failure = _out_of_budget_message(spec, budget, ts, ys)
    status, message = (solution.status, solution.message) if failure is None else (-1, failure)
    trajectory = trajectory_from_states(
        compiled, ts, ys, outcome=Outcome.from_status(int(status)), message=str(message),
        events=fired, solver=SolverStats(solver.method, solver.rtol, solver.atol,
                                         int(solution.nfev), "exact" if exact else "solver"),
        wall_time_s=wall)
    if failure is not None and on_failure == "raise":
        raise IntegrationError(failure, trajectory)
    if failure is None:
        warn_if_runaway(trajectory)
    return trajectory


def _state_event(compiled: CompiledModel, event: EventLike):
    """``event`` as a ``solve_ivp`` event of the packed state."""
    def function(t, y):
        M, Q, a = compiled.unpack(y)
        return event.function(M, Q, a, compiled.risk(M, Q, a))

    function.terminal, function.direction = event.terminal, event.direction
    return function


def _out_of_budget_message(spec: Model, budget: _Budget, ts: np.ndarray, ys: np.ndarray
                           ) -> str:
    """The failure of a run that used up its drift evaluations."""
    start, now = (float(np.abs(ys[:, i]).max()) for i in (0, -1))
    return (f"the solver used its {budget.limit} drift evaluations (max_evaluations) by "
            f"t = {budget.cut:.4g}, with |state| = {now:.3g} (at t = 0: {start:.3g}). If "
            "|state| grew far above its start, the overlaps are diverging: the learning rate "
            f"η = {spec.protocol.eta:g} is probably too large for the activation "
            f"{spec.student.activation!r} (lower η, or raise n_b); if not, the run is stiff: "
            "try Solver('Radau') or Solver('LSODA'), or raise max_evaluations")


def _guarded_rhs(compiled: CompiledModel, blowup_norm: float, budget: _Budget):
    """The drift, abandoning the run past the blow-up norm or twice the evaluation budget,
    and frozen where not finite."""
    # Past the blow-up norm the run is abandoned (and redone to just before, by _solve):
    # LSODA shrinking its step towards a finite-time singularity (dQ/dt ∝ Q², a learning
    # rate too large) can loop forever inside its Fortran code. Where the state or the drift
    # is not finite (closed forms outside the PSD cone) the state is frozen instead (zeros),
    # so that a rejected trial stage is harmless; saved points past a failure are cut
    # afterwards. The checks run inside the compiled call (CompiledModel.guarded_rhs).
    drift = compiled.guarded_rhs(blowup_norm)
    spend = budget.spend

    def rhs(t, y):
        spend(t)
        dy = drift(np.ascontiguousarray(y, dtype=float))
        if not dy.size:
            raise _BlowUp(t)
        return dy

    return rhs


def _guarded_jacobian(compiled: CompiledModel):
    """The exact Jacobian, zero where the state is not finite (the drift is frozen there)."""
    def jacobian(t, y):
        return compiled.jacobian(t, y) if np.all(np.isfinite(y)) else np.zeros((y.size,) * 2)

    return jacobian


#: below this ``rtol`` the drift's own roughness under quadrature of a kinked activation
#: (second differences ~1e-5 of the drift along steps of 1e-3 in Ω) dominates the solver
ROUGH_RTOL = 1e-5


def _warn_if_rough(compiled: CompiledModel, solver: Solver) -> None:
    """A :class:`~overlapdyn.errors.RoughKernelWarning` when quadrature kernels of a kinked
    activation meet a tolerance they cannot honour."""
    if compiled.method != "quadrature" or solver.rtol >= ROUGH_RTOL:
        return
    functions = ModelFunctions.of(compiled.model)
    if not functions.kinked:
        return
    way = ("derive the kernels with ClosedForm() (exact closed forms for this committee; "
           "the default Auto() picks them)" if functions.kinked_pair else
           f"loosen the solver (Solver(rtol={ROUGH_RTOL:g})) or use a smooth activation")
    warnings.warn(RoughKernelWarning(
        f"{compiled.model.name}: quadrature kernels of a kinked function are rough (their "
        f"nodes cross the kink as Ω moves, so the drift jumps at the 1e-6…1e-4 level) and "
        f"rtol = {solver.rtol:g} asks for more: the solver may crawl; {way}"), stacklevel=3)


def _use_exact_jacobian(compiled: CompiledModel, solver: Solver) -> bool:
    """Whether ``solve_ivp`` gets the exact Jacobian (see :class:`Solver`'s ``jacobian``;
    the choice and the method were checked when the :class:`Solver` was made)."""
    if solver.jacobian == "exact" and not compiled.has_exact_jacobian:
        raise OverlapdynError(f"the {compiled.method} kernels of this model have no formula to "
                              "differentiate: use "
                              "jacobian='solver', or derive the kernels another way")
    return solver.jacobian == "exact" or (
        solver.jacobian == "auto" and solver.method in ("BDF", "Radau")
        and compiled.has_exact_jacobian)


def _advancer(bar):
    """A function of t that moves ``bar`` (total t_end) on to t."""
    def advance(t: float) -> None:
        t = min(float(t), bar.total)
        if t > bar.n:   # root finding evaluates events at earlier times too
            bar.update(t - bar.n)

    return advance


def _solve(compiled: CompiledModel, y0: np.ndarray, save: SaveAt,
           events: Sequence[EventLike], solver: Solver, blowup_norm: float, exact: bool,
           budget: _Budget):
    """``solve_ivp`` from ``y0`` on the saved grid; ``(solution, blown_at)``, ``blown_at`` the
    first time the state passed the blow-up norm (None if it never did); with ``exact`` the
    implicit solver gets the drift's exact Jacobian. The run stops once ``budget`` is spent
    (``budget.cut`` is then set; the budget's event is the last of the solution's)."""
    rhs = _guarded_rhs(compiled, blowup_norm, budget)
    jacobian = {"jac": _guarded_jacobian(compiled)} if exact else {}
    grid, t_end, blown_at = save.grid(), save.t_end, None
    for attempt in range(_BLOWUP_RETRIES):
        try:
            t_eval = grid[grid <= t_end]
            if events:
                solution = scipy.integrate.solve_ivp(
                    rhs, (0.0, t_end), y0, method=solver.method, t_eval=t_eval,
                    events=[*(_state_event(compiled, e) for e in events),
                            budget.solve_ivp_event()],
                    rtol=solver.rtol, atol=solver.atol, **jacobian)
            else:
                solution = _solve_budgeted(rhs, t_end, y0, t_eval, solver, budget, jacobian)
            break
        except _OutOfBudget as stopped:
            budget.cut = stopped.t
            solution = _initial_only(y0)
            break
        except _BlowUp as blowup:
            # solve_ivp keeps nothing when the right-hand side raises: integrate again, to
            # a little before the first time the state was seen past the blow-up norm
            blown_at = blowup.t if blown_at is None else min(blown_at, blowup.t)
            t_end = blown_at * (1.0 - 0.01 * 2**attempt)
            if t_end <= 0.0 or attempt == _BLOWUP_RETRIES - 1:
                solution = _initial_only(y0)
                break
    return solution, blown_at


# solve_ivp's messages for its statuses 0 and 1 (a failed step keeps the solver's own)
_SOLVED = "The solver successfully reached the end of the integration interval."
_TERMINATED = "A termination event occurred."


def _solve_budgeted(rhs, t_end: float, y0: np.ndarray, t_eval: np.ndarray, solver: Solver,
                    budget: _Budget, jacobian: dict):
    """What ``solve_ivp(rhs, (0, t_end), y0, t_eval=t_eval, events=[budget's event])``
    returns, step for step, driving SciPy's solver object (``scipy.integrate.LSODA`` …)
    directly: the budget's event, a function of t alone (+1, then −1 from the first accepted
    time once the budget is spent; terminal, direction −1), is evaluated in plain Python at
    each step, and its root found by the same ``brentq`` call (xtol = rtol = 4ε) only when
    it changes sign. This skips solve_ivp's per-step event machinery (≈ 20 µs a step:
    arrays of the event values, the search for active ones), a fifth of a warm K = 2 curve.
    """
    method = getattr(scipy.integrate, solver.method)
    ode = method(rhs, 0.0, y0, t_end, vectorized=False, rtol=solver.rtol, atol=solver.atol,
                 **jacobian)
    event = budget.event
    before = event(0.0, y0)
    saved, index = np.empty((y0.size, len(t_eval))), 0
    times, count = t_eval.tolist(), len(t_eval)
    t_events, y_events = [[]], [[]]
    status, message = None, None
    while status is None:
        message = ode.step()
        if ode.status == "finished":
            status = 0
        elif ode.status == "failed":
            status = -1
            break
        t_old, t = ode.t_old, ode.t
        dense = None
        after = event(t, ode.y)
        if before >= 0 >= after:     # the event's crossing: the budget is spent
            dense = ode.dense_output()
            root = scipy.optimize.brentq(lambda s, dense=dense: event(s, dense(s)), t_old,
                                         t, xtol=4 * _EPS, rtol=4 * _EPS)
            t_events[0].append(root)
            y_events[0].append(dense(root))
            status, t = 1, root
        before = after
        new_index = index   # searchsorted(t_eval, t, side="right"): t never decreases
        while new_index < count and times[new_index] <= t:
            new_index += 1
        if new_index > index:
            if dense is None:
                dense = ode.dense_output()
            saved[:, index:new_index] = dense(t_eval[index:new_index])
            index = new_index
    return scipy.optimize.OptimizeResult(
        t=t_eval[:index].copy(), y=saved[:, :index],
        t_events=[np.asarray(t_events[0])], y_events=[np.asarray(y_events[0])],
        nfev=ode.nfev, njev=ode.njev, nlu=ode.nlu, status=status,
        message={0: _SOLVED, 1: _TERMINATED}.get(status, message), success=status >= 0)


_EPS = np.finfo(float).eps


def _saved_states(solution) -> tuple[np.ndarray, np.ndarray]:
    """The saved times (T,) and states (size, T), with the state where a terminal event
    fired appended (not only the grid)."""
    ts, ys = solution.t, solution.y
    if solution.status == 1:
        when, where = min((float(t[0]), y[0]) for t, y in zip(
            solution.t_events, solution.y_events, strict=True) if len(t))
        if not ts.size or when > ts[-1]:
            ts, ys = np.append(ts, when), np.column_stack([ys, where])
    return ts, ys


def _diagnose(compiled: CompiledModel, ts: np.ndarray, ys: np.ndarray, solution,
              blown_at: float | None, scale: float, blowup_norm: float):
    """``(ts, ys, failure)``: the saved states cut before the first unhealthy one, and the
    failure's message (None when the run is sound)."""
    spec = compiled.model
    healthy = _healthy(compiled, ys, scale, blowup_norm)
    if not healthy.all():
        bad = int(np.argmin(healthy))
        finite_bad = np.all(np.isfinite(ys[:, bad])) and np.abs(ys[:, bad]).max() <= (
            0.5 * blowup_norm)
        why = ("Ω = [[Q, M], [Mᵀ, P]] lost positive semi-definiteness; if the drift stayed "
               "small, the solver's steps may be at fault: try Solver('DOP853') or a smaller "
               "rtol" if finite_bad else
               f"|state| passed {0.5 * blowup_norm:g} or the drift became non-finite")
        last_good = float(ts[bad - 1]) if bad else 0.0
        failure = blowup_message(spec, f"between t = {last_good:.4g} and {ts[bad]:.4g}", why)
        return ts[:bad], ys[:, :bad], failure
    if solution.status == -1:
        return ts, ys, blowup_message(spec, f"after t = {ts[-1] if ts.size else 0.0:.4g}",
                                      f"the solver failed: {solution.message}")
    if blown_at is not None:
        return ts, ys, blowup_message(spec, f"at t ≈ {blown_at:.4g}",
                                      f"|state| passed {blowup_norm:g}")
    return ts, ys, None


def _healthy(compiled: CompiledModel, ys: np.ndarray, scale: float, blowup_norm: float
             ) -> np.ndarray:
    """For each saved state (a column of ``ys``, (n, T)): finite, below half the blow-up
    norm, and Ω positive semi-definite (smallest eigenvalue above −10⁻⁸·scale); bool (T,).

    One batched ``eigvalsh`` over the stack of the sound states' Ω (the same LAPACK call per
    matrix as one at a time, so the same eigenvalues, without a NumPy dispatch and an
    ``np.block`` per saved point)."""
    spec = compiled.model
    p, k, T = spec.p, spec.k, ys.shape[1]
    healthy = np.isfinite(ys).all(axis=0)
    healthy[healthy] = np.abs(ys[:, healthy]).max(axis=0, initial=0.0) <= 0.5 * blowup_norm
    sound = np.flatnonzero(healthy)
    if sound.size:
        omega = np.empty((sound.size, p + k, p + k))
        omega[:, :p, :p] = ys[p * k:p * k + p * p, sound].T.reshape(-1, p, p)
        M = ys[:p * k, sound].T.reshape(-1, p, k)
        omega[:, :p, p:] = M
        omega[:, p:, :p] = M.transpose(0, 2, 1)
        omega[:, p:, p:] = spec.target.gram
        healthy[sound] = np.linalg.eigvalsh(omega)[:, 0] > -1e-8 * scale
    return healthy[:T]
