r"""The phase diagram of SGD in wide two-layer networks (Veiga, Stephan, Loureiro, Krzakala &
Zdeborová 2022, arXiv:2202.00293), measured on the symmetric committee ansatz.

The paper's setting, in SPEC's symbols
--------------------------------------
An erf committee target ``y = (1/k) Σ_r erf(z_r/√2) + √Δ ξ`` (``erf`` means ``erf(x/√2)``
throughout, as in SPEC), ``P = I``, and an erf student ``ŷ = (1/p) Σ_j erf(λ_j/√2)`` with a
fixed readout: SPEC's ``c_k = 1/k``, ``c_p = 1/p``, ``a = 1``, mse loss, ``n_b = 1``. The
paper's step ``w_j ← w_j + (γ/p) e σ'(λ_j) x/√d`` is SPEC's with ``η = γ``. Width and
learning rate scale with the dimension as

    p = p₀ d^κ,    γ = γ₀ d^-δ,

so the ratio of the drift's η² parts (label noise, I4 variance) to its first-order part is
``ε = γ/p = (γ₀/p₀) d^-(κ+δ)``. The paper's time counts steps on the scale where the overlaps
first move at an O(1) rate: ``α = steps/d^(1+s)``, i.e. SPEC's ``t = steps/d = α d^s``, with

    s = κ + δ        (κ + δ ≥ 0: the first-order part sets the pace),
    s = 2 (κ + δ)    (κ + δ < 0: the η² parts, ε² per unit t, set it).

The paper's phases (its Fig. 1), as d → ∞ at fixed α:

* **perfect learning** (``κ + δ > 0``): ε → 0, the η² parts drop out, SGD is gradient flow
  and the excess risk goes to 0;
* **plateau** (the line ``κ + δ = 0``): both parts stay, the excess risk tends to a finite,
  noise-induced value (Saad & Solla's finite-learning-rate asymptote);
* **noise-dominated** ("bad learning", ``κ < −δ < (κ + 1)/2``): on the scale s the
  first-order part drops out, the η² parts grow Q with M frozen;
* **no ODEs** (``κ + δ < 0`` and ``−δ ≥ (κ + 1)/2``): the step is too large for a
  deterministic limit; outside the theory, refused here (:func:`paper_phase` names it).

How a point is measured (:func:`phase_point`)
---------------------------------------------
At each dimension of ``setup.dims`` the model above is integrated, with
:class:`~overlapdyn.ode.wide.SymmetricReduction` (G = k groups, exact at every p with every
part of the drift), from the weakly specialised symmetric start ``M_jr = R₀`` (own teacher),
``S = 0``, ``Q_d = 1``, ``C_s = R₀²``, ``C_d = 0`` (``w_j = R₀ u_g + √(1 − R₀²) ξ_j`` with
independent ξ: real vectors at every p), to ``α = setup.alpha_end`` — twice: with every
part of the drift (excess risk ``E = R − Δ/2``) and as gradient flow (``E_gf``, the same run
without the η² parts). The **noise excess** ``D(d) = E − E_gf`` is what the η² parts add;
its exponent ``s_D = d log D / d log d`` (least squares over ``dims``) classifies the point:

* ``s_D < −tolerance``: perfect learning (the noise excess vanishes; the prediction is
  ``s_D = −(κ + δ)``, since D ∝ ε);
* ``|s_D| ≤ tolerance``: plateau (a finite noise excess);
* ``s_D > tolerance``, or an excess risk at the largest d above the initial one (nothing
  learned: the noise excess has saturated at the noise-only value, where ``s_D`` → 0):
  noise-dominated.

Subtracting gradient flow removes what the excess risk keeps of the *transient* at
``α_end`` (slow wide-network modes, the specialisation plateau), which would otherwise hide
the ε-dependence in the perfect-learning region. A noise excess below ``floor`` (relative to
the initial excess) at the largest d counts as perfect learning (below the integration's
resolution).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import ClassVar

import numpy as np

from ..errors import OverlapdynError
from ..model.spec import MAX_WIDTH, Model, Protocol, Student, Target
from ..ode.integrator import SaveAt, Solver
from ..ode.wide import DEFAULT_SOLVER, SymmetricReduction
from ..progress import progress_bar
from ..storage.results import Result

__all__ = ["PHASES", "PhaseDiagram", "PhasePoint", "PhaseSetup", "boundary_distance",
           "classify_phase", "paper_phase", "phase_diagram", "phase_point", "time_exponent"]

#: the phase labels (the paper's three ODE phases, then its region without ODEs)
PHASES = ("perfect", "plateau", "noise", "no-ode")
#: |κ + δ| below this is on the plateau line
_LINE = 1e-9


def _check_exponents(kappa: float, delta: float) -> tuple[float, float]:
    kappa, delta = float(kappa), float(delta)
    if not (np.isfinite(kappa) and np.isfinite(delta)):
        raise OverlapdynError(f"the exponents must be finite numbers, got κ = {kappa}, "
                              f"δ = {delta}")
    if kappa < 0:
        raise OverlapdynError(f"κ = {kappa} < 0 makes the width p = p₀ d^κ shrink with d; the "
                              f"phase diagram of Veiga et al. 2022 is for κ ≥ 0 (use κ = 0 for a "
                              f"fixed width)")
    return kappa, delta


def paper_phase(kappa: float, delta: float) -> str:
    """The phase that Veiga et al. 2022 (Fig. 1) assign to ``p ∝ d^κ``, ``γ ∝ d^-δ``.

    Returns:
        ``"perfect"`` (κ + δ > 0), ``"plateau"`` (κ + δ = 0, to 1e-9), ``"noise"``
        (κ < −δ < (κ + 1)/2) or ``"no-ode"`` (κ + δ < 0 and −δ ≥ (κ + 1)/2).

    Raises:
        OverlapdynError: κ < 0 or a non-finite exponent.
    """
    kappa, delta = _check_exponents(kappa, delta)
    if abs(kappa + delta) <= _LINE:
        return "plateau"
    if kappa + delta > 0:
        return "perfect"
    return "noise" if -delta < (kappa + 1) / 2 else "no-ode"


def _segment_distance(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    along = np.clip(np.dot(point - a, b - a) / np.dot(b - a, b - a), 0.0, 1.0)
    return float(np.linalg.norm(point - (a + along * (b - a))))


def boundary_distance(kappa: float, delta: float) -> float:
    """Euclidean distance in the (δ, κ) plane from ``(δ, κ)`` to the nearest boundary of the
    paper's phases: the plateau line ``δ = −κ`` (κ ≥ 0) or the no-ODE line
    ``δ = −(κ + 1)/2`` (0 ≤ κ ≤ 1, where it bounds the noise-dominated band). 0 on a line."""
    kappa, delta = _check_exponents(kappa, delta)
    point = np.array([delta, kappa])
    far = 1e6
    plateau = _segment_distance(point, np.array([0.0, 0.0]), np.array([-far, far]))
    no_ode = _segment_distance(point, np.array([-0.5, 0.0]), np.array([-1.0, 1.0]))
    return min(plateau, no_ode)


def time_exponent(kappa: float, delta: float) -> float:
    """``s`` of the paper's time ``α = t/d^s`` (t = steps/d): ``κ + δ`` if ``κ + δ ≥ 0``,
    else ``2(κ + δ)`` (the η² parts, ε² per unit t, then move the overlaps first)."""
    kappa, delta = _check_exponents(kappa, delta)
    return kappa + delta if kappa + delta >= 0 else 2.0 * (kappa + delta)


@dataclass(frozen=True)
class PhaseSetup:
    """What a phase-diagram measurement holds fixed (defaults: the paper's example, k = 4,
    p₀ = 8, γ₀ = p₀, Δ = 10⁻³).

    Attributes:
        k: teacher units (erf committee, ``P = I``).
        p0, gamma0: prefactors of ``p = p₀ d^κ`` (rounded to a multiple of k, at least k)
            and ``γ = γ₀ d^-δ``.
        noise: label noise variance Δ (> 0: without it the plateau line has no finite
            excess to measure).
        dims: the dimensions d at which each point is integrated (≥ 2, increasing).
        alpha_end: the paper's time ``α`` at which the excess risk is read (the phases hold
            at every fixed α as d → ∞; a short run reaches that limit at smaller d in the
            noise-dominated band, where the first-order drift left over the run is
            ``α d^(κ+δ)``. With the default start, α = 10 is on the unspecialised plateau
            (R ≈ 0.31, S ≈ 0.21 at p = 8) and the specialisation comes at α ≈ 10²–10³;
            the guide lists how the agreement depends on α and R₀).
        start: ``R₀``, every student's overlap with its own teacher at t = 0 (``S = 0``,
            ``Q_d = 1``, ``C_s = R₀²``, ``C_d = 0``): a start that is already
            (weakly) specialised, so that the symmetric set G = k can leave ``R = S``.
        tolerance: ``|s_D|`` at most this is a plateau (see the module docstring).
        floor: a noise excess below ``floor`` × the initial excess counts as zero.
        rtol, atol: the solver's tolerances (DOP853).
    """

    k: int = 4
    p0: float = 8.0
    gamma0: float = 8.0
    noise: float = 1e-3
    dims: tuple[float, ...] = (1e3, 1e4)
    alpha_end: float = 10.0
    start: float = 0.1
    tolerance: float = 0.1
    floor: float = 1e-9
    rtol: float = 1e-8
    atol: float = 1e-10

    def __post_init__(self) -> None:
        dims = tuple(float(d) for d in self.dims)
        object.__setattr__(self, "dims", dims)
        problems = []
        if int(self.k) != self.k or self.k < 1:
            problems.append(f"k = {self.k} must be a positive integer")
        if self.p0 <= 0 or self.gamma0 <= 0:
            problems.append(f"p₀ = {self.p0} and γ₀ = {self.gamma0} must be positive")
        if not self.noise > 0:
            problems.append(f"noise Δ = {self.noise} must be positive (the plateau line's "
                            f"finite excess is noise-induced)")
        if len(dims) < 2 or np.any(np.diff(dims) <= 0) or dims[0] <= 1:
            problems.append(f"dims = {dims} must be ≥ 2 increasing dimensions above 1 (the "
                            f"exponent s_D is a slope against d)")
        if not (self.alpha_end > 0 and 0 < self.start < 1 and self.tolerance > 0):
            problems.append(f"alpha_end = {self.alpha_end} > 0, 0 < start = {self.start} < 1 "
                            f"and tolerance = {self.tolerance} > 0 are needed")
        if problems:
            raise OverlapdynError("PhaseSetup: " + "; ".join(problems))

    def width(self, kappa: float, d: float) -> int:
        """``p = p₀ d^κ`` rounded to a multiple of k (at least k).

        Raises:
            OverlapdynError: p above the library's largest width (``MAX_WIDTH``).
        """
        p = int(max(1, round(self.p0 * d ** kappa / self.k)) * self.k)
        if p > MAX_WIDTH:
            raise OverlapdynError(f"p = p₀ d^κ = {self.p0:g} × {d:g}^{kappa:g} = {p} is above "
                                  f"the largest width {MAX_WIDTH}: lower the largest of dims, "
                                  f"p₀ or κ")
        return p

    def model(self, kappa: float, delta: float, d: float, terms: str = "all") -> Model:
        """The SPEC model of ``(κ, δ)`` at dimension d: ``c_p = 1/p``, ``η = γ₀ d^-δ``."""
        return Model(Target(self.k, activation="erf", noise=self.noise),
                     Student(self.width(kappa, d), "erf"),
                     Protocol(self.gamma0 * d ** (-delta), terms=terms),
                     name=f"veiga(kappa={kappa:g}, delta={delta:g}, d={d:g})")


@dataclass(frozen=True)
class PhasePoint:
    """One measured point (see the module docstring).

    Attributes:
        kappa, delta: the exponents.
        widths: p at each dimension, shape (n_d,).
        initial: excess risk at t = 0, shape (n_d,).
        excess: excess risk ``E`` at ``α_end`` with every part of the drift, shape (n_d,).
        gradient: the same for gradient flow, ``E_gf``, shape (n_d,).
        slope: ``s_D``, the exponent of ``D = E − E_gf`` against d (NaN if D ≤ 0 somewhere).
        phase: the measured phase.
        predicted: :func:`paper_phase`.
    """

    kappa: float
    delta: float
    widths: np.ndarray
    initial: np.ndarray
    excess: np.ndarray
    gradient: np.ndarray
    slope: float
    phase: str
    predicted: str

    @property
    def noise_excess(self) -> np.ndarray:
        """``D = E − E_gf`` per dimension, shape (n_d,)."""
        return self.excess - self.gradient


def _final_excess(model: Model, start: float, t_end: float, solver: Solver
                  ) -> tuple[float, float]:
    reduction = SymmetricReduction(model, groups=model.k)
    # w_j = R₀ u_g + √(1 − R₀²) ξ_j (ξ independent, orthogonal to the teachers): a start of
    # real vectors at every p (C_s = 0 would need (p/k) R₀² ≤ 1)
    y0 = np.array([start, 0.0, 1.0, start ** 2, 0.0])
    curve = reduction.integrate(y0, SaveAt(t_end, 2, log=False), solver, closure=False)
    return (float(curve.risk[0] - model.target.noise / 2),
            float(curve.risk[-1] - model.target.noise / 2))


def classify_phase(dims, excess, gradient, initial: float, setup: PhaseSetup
                   ) -> tuple[float, str]:
    """The phase of one point from its excess risks at ``α_end`` (the module docstring's
    rule), for the reduction's numbers or another's (e.g. SGD's seed means).

    Args:
        dims: the dimensions, shape (n_d,).
        excess: ``E`` at each, every part of the drift, shape (n_d,).
        gradient: ``E_gf`` at each, gradient flow, shape (n_d,).
        initial: the excess risk at t = 0 at the largest d.
        setup: its ``tolerance`` and ``floor``.

    Returns:
        ``(s_D, phase)``: the exponent of ``D = E − E_gf`` against d (NaN where D ≤ 0
        somewhere, classified as a plateau) and one of :data:`PHASES`.
    """
    dims, excess, gradient = (np.asarray(a, dtype=float) for a in (dims, excess, gradient))
    noise_excess = excess - gradient
    slope = (float(np.polyfit(np.log(dims), np.log(noise_excess), 1)[0])
             if np.all(noise_excess > 0) else float("nan"))
    if noise_excess[-1] <= setup.floor * initial:
        return slope, "perfect"
    if excess[-1] >= initial:
        return slope, "noise"     # ends above its start: nothing learned
    if not np.isfinite(slope) or abs(slope) <= setup.tolerance:
        return slope, "plateau"
    return slope, "perfect" if slope < 0 else "noise"


def phase_point(kappa: float, delta: float, setup: PhaseSetup | None = None) -> PhasePoint:
    """Measure the phase of ``(κ, δ)``: the noise excess's exponent against d.

    Cost: 2 × len(dims) symmetric-ansatz learning curves (≈ 0.05 s each at α = 10, 0.6 s at
    α = 10³, whatever p).

    Raises:
        OverlapdynError: κ < 0, or a point in the paper's no-ODE region (no deterministic
            limit there to integrate), or a learning curve that failed.
    """
    setup = setup or PhaseSetup()
    predicted = paper_phase(kappa, delta)
    if predicted == "no-ode":
        raise OverlapdynError(
            f"(κ, δ) = ({kappa:g}, {delta:g}) lies in the paper's no-ODE region "
            f"(κ + δ < 0 and −δ ≥ (κ + 1)/2 = {(kappa + 1) / 2:g}): one SGD step moves the "
            f"overlaps by O(1) there and no ODE describes SGD; take −δ < (κ + 1)/2")
    solver = Solver(DEFAULT_SOLVER.method, rtol=setup.rtol, atol=setup.atol)
    s = time_exponent(kappa, delta)
    runs = []
    for d in setup.dims:
        t_end = setup.alpha_end * d ** s
        initial, excess = _final_excess(setup.model(kappa, delta, d), setup.start, t_end,
                                        solver)
        _, gradient = _final_excess(setup.model(kappa, delta, d, "gradient-flow"),
                                    setup.start, t_end, solver)
        runs.append((setup.width(kappa, d), initial, excess, gradient))
    widths, initial, excess, gradient = np.array(runs).T
    slope, phase = classify_phase(setup.dims, excess, gradient, float(initial[-1]), setup)
    return PhasePoint(float(kappa), float(delta), widths.astype(int), initial, excess,
                      gradient, slope, phase, predicted)


_CODES = {name: code for code, name in enumerate(PHASES)}


@dataclass(frozen=True, eq=False)
class PhaseDiagram(Result):
    """A measured phase diagram on a (κ, δ) grid, with the paper's phases alongside.

    Attributes:
        setup: the :class:`PhaseSetup`.
        kappas: width exponents, shape (K,).
        deltas: learning-rate exponents, shape (D,).
        phase: measured phase codes (index into :data:`PHASES`), shape (K, D); the no-ODE
            points are not integrated and carry code 3.
        predicted: the paper's phase codes, shape (K, D).
        slope: the noise-excess exponent ``s_D``, shape (K, D) (NaN where not measured).
        initial, excess, gradient: ``E(0)``, ``E(α_end)``, ``E_gf(α_end)`` at each
            dimension, shape (K, D, n_d) (NaN where not measured).
        wall_time_s: the sweep's wall time.
    """

    FORMAT: ClassVar[str] = "overlapdyn.PhaseDiagram"

    setup: PhaseSetup
    kappas: np.ndarray
    deltas: np.ndarray
    phase: np.ndarray
    predicted: np.ndarray
    slope: np.ndarray
    initial: np.ndarray
    excess: np.ndarray
    gradient: np.ndarray
    wall_time_s: float = 0.0
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (len(self.kappas), len(self.deltas))
        for name in ("kappas", "deltas", "phase", "predicted", "slope", "initial", "excess",
                     "gradient"):
            array = np.array(getattr(self, name),
                             dtype=int if name in ("phase", "predicted") else float)
            expected = {"kappas": (shape[0],), "deltas": (shape[1],)}.get(
                name, shape if name in ("phase", "predicted", "slope") else
                shape + (len(self.setup.dims),))
            if array.shape != expected:
                raise OverlapdynError(f"PhaseDiagram.{name} must have shape {expected}, got "
                                      f"{array.shape}")
            array.flags.writeable = False
            object.__setattr__(self, name, array)

    @property
    def measured(self) -> np.ndarray:
        """Measured phase labels, shape (K, D)."""
        return np.array(PHASES)[self.phase]

    @property
    def integrated(self) -> np.ndarray:
        """Which points have ODEs (the paper's no-ODE region excluded), shape (K, D)."""
        return self.predicted != _CODES["no-ode"]

    @property
    def agreement(self) -> float:
        """Fraction of the integrated points whose measured phase is the paper's."""
        keep = self.integrated
        return float(np.mean(self.phase[keep] == self.predicted[keep])) if keep.any() else 1.0

    def disagreements(self) -> list[tuple[float, float, str, str, float, float]]:
        """``(κ, δ, measured, paper's, s_D, distance to the nearest boundary)`` for every
        integrated point whose phases differ."""
        rows = []
        for i, j in np.argwhere(self.integrated & (self.phase != self.predicted)):
            kappa, delta = float(self.kappas[i]), float(self.deltas[j])
            rows.append((kappa, delta, PHASES[self.phase[i, j]], PHASES[self.predicted[i, j]],
                         float(self.slope[i, j]), boundary_distance(kappa, delta)))
        return rows

    def describe(self) -> str:
        keep = self.integrated
        dims = ", ".join(f"{d:g}" for d in self.setup.dims)
        return (f"phase diagram of {len(self.kappas)} × {len(self.deltas)} (κ, δ) points "
                f"({int(keep.sum())} with ODEs) at d = {dims}"
                f", α = {self.setup.alpha_end:g}: {100 * self.agreement:.1f} % agree with "
                f"Veiga et al. 2022; {self.wall_time_s:.3g} s")

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        fields = {"setup": asdict(self.setup), "wall_time_s": self.wall_time_s,
                  "metadata": self.metadata}
        return fields, {name: getattr(self, name) for name in (
            "kappas", "deltas", "phase", "predicted", "slope", "initial", "excess", "gradient")}

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> PhaseDiagram:
        setup = dict(header["setup"])
        setup["dims"] = tuple(setup["dims"])
        return cls(PhaseSetup(**setup), *(arrays[name] for name in (
            "kappas", "deltas", "phase", "predicted", "slope", "initial", "excess", "gradient")),
            float(header["wall_time_s"]), dict(header.get("metadata", {})))


def phase_diagram(kappas, deltas, setup: PhaseSetup | None = None,
                  progress: bool = False) -> PhaseDiagram:
    """Measure :func:`phase_point` on every ``(κ, δ)`` of the grid (a plain loop: a 9 × 17
    grid is 35 s of one core at α = 10, 5 min at α = 10³); points of the paper's no-ODE
    region are recorded as such, not integrated.

    Args:
        kappas: width exponents (≥ 0), shape (K,).
        deltas: learning-rate exponents, shape (D,).
        setup: what is held fixed (default :class:`PhaseSetup`).
        progress: show a progress bar over the grid's points.
    """
    setup = setup or PhaseSetup()
    kappas = np.atleast_1d(np.asarray(kappas, dtype=float))
    deltas = np.atleast_1d(np.asarray(deltas, dtype=float))
    shape, n_d = (len(kappas), len(deltas)), len(setup.dims)
    phase = np.full(shape, _CODES["no-ode"])
    predicted = np.array([[_CODES[paper_phase(kappa, delta)] for delta in deltas]
                          for kappa in kappas]).reshape(shape)
    slope = np.full(shape, np.nan)
    initial, excess, gradient = (np.full(shape + (n_d,), np.nan) for _ in range(3))
    start = time.perf_counter()
    grid = np.argwhere(predicted != _CODES["no-ode"])
    for i, j in progress_bar(progress, grid, desc="phase diagram", unit="point"):
        point = phase_point(kappas[i], deltas[j], setup)
        phase[i, j] = _CODES[point.phase]
        slope[i, j] = point.slope
        initial[i, j], excess[i, j], gradient[i, j] = (point.initial, point.excess,
                                                       point.gradient)
    return PhaseDiagram(setup, kappas, deltas, phase, predicted, slope, initial, excess,
                        gradient, time.perf_counter() - start)
