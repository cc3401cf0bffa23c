"""The large-batch state evolution of SPEC: the overlaps moved one SGD step at a time when
``n_b = αd`` (O(1) moves per step), the discrete-time counterpart of the ODE.

The map runs in one compiled loop (:meth:`CompiledModel.evolve_steps
<overlapdyn.compile.CompiledModel.evolve_steps>`, rendered from
``compile/templates/state_evolution.py``), which also records the population risk of every
state. Stop events are the :func:`~overlapdyn.ode.integrate` ones (any object with ``name``,
``function(M, Q, a, risk) -> float``, ``terminal`` and ``direction``): with events the loop
runs in chunks, and each new state's event values are computed from views of the recorded
states and their recorded risks (nothing is re-packed or re-evaluated); a terminal event
stops the run at the step where it fired, that state kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..compile.compiled import CompiledModel
from ..derive.methods import Derivation
from ..errors import IntegrationError, OverlapdynError
from ..model.spec import Model
from .events import check_events
from .state import (
    BLOWUP_NORM,
    blowup_message,
    check_overlaps,
    trajectory_from_states,
    warn_if_runaway,
)
from .trajectory import Outcome, Trajectory

__all__ = ["evolve"]

# steps per compiled call when events are watched: the first chunk, and the largest (a
# terminal event wastes at most this many steps of work)
_FIRST_CHUNK, _LARGEST_CHUNK = 16, 1024


def evolve(
    model: Model | CompiledModel,
    init: tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray],
    steps: int,
    alpha: float,
    *,
    events: Sequence = (),
    derivation: Derivation | None = None,
) -> Trajectory:
    """The large-batch state evolution of SPEC (``n_b = αd``, O(1) moves per step).

        M' = M + η E[G zᵀ],
        Q'_jl = Q_jl + η(E[G_j λ_l] + E[G_l λ_j]) + η²(E[G_j φ]ᵀ Ω⁻¹ E[G_l φ] + E[G_j G_l]/α),

    φ = (λ, z), Ω⁻¹ the pseudo-inverse; ``protocol.terms`` switches the parts
    (:mod:`overlapdyn.model.terms`: ``gradient`` is the mean step, η E[G zᵀ] for M and
    η(E[G_j λ_l] + E[G_l λ_j]) + η² E[G_j φ]ᵀ Ω⁻¹ E[G_l φ] for Q; ``noise`` and ``variance``
    the two parts of η² E[G_j G_l]/α). Spherical SGD renormalises each step (``Q_jj = 1``,
    ``M_j· /= √Q'_jj``); a trained readout moves by ``η_a c_p E[e σ(λ_j)]``. The trajectory's
    ``t`` is the step index.

    Args:
        model: the model, or an already compiled one.
        init: initial ``(M, Q)`` or ``(M, Q, a)``; shapes (p,k), (p,p), (p,).
        steps: number of steps of the map.
        alpha: ``n_b/d``.
        events: stop events, as for :func:`~overlapdyn.ode.integrate` (e.g.
            :func:`~overlapdyn.ode.RiskBelow`, :func:`~overlapdyn.ode.OverlapCrosses`): an
            event fires at step s when its value crosses zero between steps s − 1 and s in
            its ``direction`` (SciPy's rule: from ≤ 0 to ≥ 0 upwards, from ≥ 0 to ≤ 0
            downwards); ``events`` of the result maps each name to those steps, and a
            terminal one ends the run at its step (``outcome = Outcome.EVENT``).
        derivation: how kernels are derived (when ``model`` is not compiled yet).

    Raises:
        IntegrationError: a blow-up (a state not finite, or above ``BLOWUP_NORM``); it
            carries the trajectory up to the step before.
    """
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise OverlapdynError(f"evolve needs steps ≥ 1 (an integer), got {steps!r}")
    compiled = model if isinstance(model, CompiledModel) else CompiledModel(model, derivation)
    spec = compiled.model
    if not alpha > 0:
        raise OverlapdynError(f"alpha = n_b/d must be > 0, got {alpha}")
    if spec.protocol.weight_decay and spec.protocol.terms.decay:
        raise OverlapdynError("the state evolution has no weight-decay term (SPEC); set "
                              "protocol.weight_decay = 0, or leave 'decay' out of "
                              "protocol.terms")
    steps = int(steps)
    events = check_events(events)
    y0 = compiled.pack(*init)
    M0, Q0, a0 = compiled.unpack(y0)
    check_overlaps(M0, Q0, spec.target.gram, what="the initial state (M, Q)",
                   spherical=spec.protocol.spherical)
    states = np.empty((steps + 1, y0.size))
    risks = np.empty(steps + 1)
    states[0] = y0
    risks[0] = compiled.risk(M0, Q0, a0)
    if events:
        written, fired, stopped = _run_with_events(compiled, states, risks, steps, alpha,
                                                   events)
    else:
        written, fired, stopped = compiled.evolve_steps(states, risks, 0, steps, alpha,
                                                        BLOWUP_NORM), {}, False
    failure = None if written == steps + 1 or stopped else blowup_message(
        spec, f"at step {written}", "non-finite or huge overlaps")
    outcome = (Outcome.FAILED if failure else Outcome.EVENT if stopped
               else Outcome.REACHED_END)
    message = failure or ("a terminal event stopped the state evolution" if stopped
                          else "state evolution finished")
    trajectory = trajectory_from_states(
        compiled, np.arange(written, dtype=float), states[:written].T, risk=risks[:written],
        outcome=outcome, message=message, alpha=alpha, events=fired)
    if failure:
        raise IntegrationError(failure, trajectory)
    warn_if_runaway(trajectory)
    return trajectory


def _run_with_events(compiled: CompiledModel, states: np.ndarray, risks: np.ndarray,
                     steps: int, alpha: float, events: Sequence
                     ) -> tuple[int, dict[str, list[float]], bool]:
    """The map in chunks, the events checked on each new state: ``(rows written, {name:
    steps where it fired}, whether a terminal one stopped the run)``."""
    spec = compiled.model
    p, k, T = spec.p, spec.k, len(states)
    # views of every row's M, Q and a, made once: an event sees them without copies
    Ms = states[:, :p * k].reshape(T, p, k)
    Qs = states[:, p * k:p * k + p * p].reshape(T, p, p)
    fixed_a = np.asarray(spec.student.a, dtype=float)
    trained = spec.student.train_readout
    rules = [(event.name, event.function, bool(event.terminal), float(event.direction))
             for event in events]

    def values(step: int) -> list[float]:
        a = states[step, p * k + p * p:] if trained else fixed_a
        risk = float(risks[step])
        return [float(function(Ms[step], Qs[step], a, risk)) for _, function, _, _ in rules]

    previous = values(0)
    fired: dict[str, list[float]] = {}
    done, chunk = 0, _FIRST_CHUNK
    while done < steps:
        stop = min(steps, done + chunk)
        written = compiled.evolve_steps(states, risks, done, stop, alpha, BLOWUP_NORM)
        for step in range(done + 1, written):
            current = values(step)
            terminal = False
            for (name, _, stops, direction), before, after in zip(rules, previous, current,
                                                                   strict=True):
                if _crossed(before, after, direction):
                    fired.setdefault(name, []).append(float(step))
                    terminal = terminal or stops
            if terminal:
                return step + 1, fired, True
            previous = current
        if written <= stop:           # a blow-up: rows from `written` on are not valid
            return written, fired, False
        done, chunk = stop, min(2 * chunk, _LARGEST_CHUNK)
    return steps + 1, fired, False


def _crossed(before: float, after: float, direction: float) -> bool:
    """SciPy's event rule between two consecutive values: upwards from ≤ 0 to ≥ 0,
    downwards from ≥ 0 to ≤ 0; ``direction`` > 0, < 0 or 0 (either)."""
    up = before <= 0 <= after
    down = before >= 0 >= after
    return bool(up and direction > 0 or down and direction < 0 or (up or down)
                and direction == 0)
