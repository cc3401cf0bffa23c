r"""Finite-d one-pass SGD: exactly the training of SPEC, the ground truth for the ODEs.

Each step draws ``n_b`` fresh inputs ``x ~ N(0, I_d)``, forms ``λ = Wx/√d``, ``z = Ux/√d``,
``y = g(z) + √Δ ξ``, ``e = y − ŷ`` (mse) or ``e = y`` (correlation), ``G_j = c_p a_j e σ'(λ_j)``
and updates

    w_j ← w_j + (η/√d)(1/n_b) Σ_μ G_jμ x_μ − (ηω/d) w_j,
    a_j ← a_j + (η_a/d)(1/n_b) Σ_μ c_p e_μ σ(λ_jμ)        (trained readout),

renormalising ``‖w_j‖² = d`` after the step when spherical. Overlaps ``M = WUᵀ/d``,
``Q = WWᵀ/d`` are recorded on the ODE's grid ``t = steps/d``.

The teacher is placed along the first k coordinate axes, ``U = √d [L 0]`` with ``P = LLᵀ``:
``x`` and a random init are rotation invariant, so this is the SPEC's model in distribution,
and ``z = L x_{1..k}`` costs nothing. One step costs O(p·d·n_b) in a fused Numba kernel (the
d Gaussian draws dominate at small p); seeds run in parallel threads, each with its own
PCG64 generator, so results do not depend on the thread count. Memory is O(p·d) per seed:
no weight history.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from ..compile.cache import source_key
from ..compile.compiled import CompiledModel
from ..compile.linking import function_addresses, load_shared_module, quietly
from ..compile.pointwise import model_functions
from ..compile.render import template_digest
from ..errors import ConfigError, OverlapdynError
from ..model.checks import check_dimension, check_memory, check_seeds
from ..model.spec import Model
from ..ode.state import BLOWUP_NORM, check_overlaps, random_weights
from ..ode.trajectory import Outcome, SgdRun, Trajectory
from ..progress import progress_bar
from ..storage.results import Result, archive_parts, restore_parts
from ..storage.versions import __version__, library_versions

__all__ = ["Simulation", "recorded_steps", "simulate", "warm_start_weights"]

#: how many calls a run with a progress bar is cut into (between saved times)
PROGRESS_CHUNKS = 50

#: seeds per call of the compiled loop (they run in parallel threads): its generators come
#: as a tuple of this fixed length, so the loop compiles once for any number of seeds
SEED_BATCH = 16

# bump when the printer or the assembly below changes the modules; the templates are hashed
_SIMULATION_VERSION = 7


def _sgd_loop():
    """The generated SGD loop (``templates/sgd_loop.py``), one module for every model: a
    model's σ, σ' and g come as addresses of their compiled code."""
    key = source_key(__version__, _SIMULATION_VERSION, template_digest(), "simulate loop")
    return load_shared_module(key, "finite-d SGD, for every model", ("sgd_loop",),
                              required=("FUNCTION_NAMES", "FUNCTION_TYPES", "run"))


def warm_start_weights(M: np.ndarray, Q: np.ndarray, P: np.ndarray, d: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Student weights W (p×d) with exactly the overlaps (M, Q), teacher along the first k axes.

    SPEC's construction: ``W = M P⁻¹ U + R``, R orthogonal to the teacher rows,
    ``R Rᵀ/d = Q − M P⁻¹ Mᵀ``.

    Raises:
        CovarianceError: if (M, Q) is not a valid Gram block with P (Ω = [[Q, M], [Mᵀ, P]]
            is not positive semi-definite: :func:`~overlapdyn.ode.state.check_overlaps`).
        ConfigError: d < p + k.
    """
    p, k = M.shape
    check_overlaps(M, Q, P, what="the warm start (M, Q)")
    check_dimension(d, p, k)
    residual = Q - M @ np.linalg.solve(P, M.T)
    # Ω ⪰ 0 makes the residual Gram matrix ⪰ 0 up to rounding: clipped below
    eigenvalues, vectors = np.linalg.eigh((residual + residual.T) / 2)
    L = np.linalg.cholesky(P)
    U_block = np.sqrt(d) * L                            # U = [U_block, 0]: (k, d)
    orthonormal = np.linalg.qr(rng.normal(size=(d - k, p)))[0].T   # (p, d−k), rows orthonormal
    R = (vectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ orthonormal * np.sqrt(d)
    W = np.zeros((p, d))
    W[:, :k] = M @ np.linalg.solve(P, U_block)
    W[:, k:] = R
    return W


@dataclass(frozen=True)
class Simulation(Result):
    """Simulated learning curves: one :class:`Trajectory` per seed, on ``t = steps/d``.

    Attributes:
        trajectories: per seed; ``risk`` is the population risk of the measured overlaps
            (the ODE's formula), ``test_risk`` the held-out estimate (``n_test`` > 0), and
            ``sgd`` the run (d, seed, the step of a failure).
        d: the dimension.
        seeds: the seeds.
        wall_time_s: the compiled loop's wall time (of the runs simulated, not loaded).
        steps: SGD steps per seed (the last saved time's).
        loaded_from_store: how many seeds were read from a validation store rather than
            simulated.
    """

    FORMAT = "overlapdyn.Simulation"
    VERSION = 1

    trajectories: tuple[Trajectory, ...]
    d: int
    seeds: tuple[int, ...]
    wall_time_s: float = 0.0
    steps: int = 0
    loaded_from_store: int = 0

    @property
    def t(self) -> np.ndarray:
        return self.trajectories[0].t

    @property
    def failed_at(self) -> tuple[int, ...]:
        """The step where each seed's error turned non-finite, −1 for none (a seed whose Q
        passed 10⁸ also has ``outcome = FAILED`` and says so in its message)."""
        return tuple(-1 if tr.sgd is None else tr.sgd.failed_at for tr in self.trajectories)

    @property
    def samples_per_seed(self) -> int:
        """The samples each seed drew, ``steps · n_b``."""
        return self.steps * self.trajectories[0].model.protocol.n_b

    def stack(self, quantity: str) -> np.ndarray:
        """The quantity (``"M"``, ``"Q"``, ``"a"``, ``"risk"``) of every seed: (seeds, T, …).

        Warns (:class:`RuntimeWarning`) when seeds failed: their curves, hence the stack,
        stop where they diverged, short of the grid asked for.

        Raises:
            OverlapdynError: the seeds' trajectories have different lengths.
        """
        return self._stack(quantity, stacklevel=3)

    def mean(self, quantity: str) -> np.ndarray:
        """The seed mean of ``quantity``, shape (T, …) (warns as :meth:`stack` does)."""
        return self._stack(quantity, stacklevel=3).mean(axis=0)

    def percentile(self, quantity: str, q: float) -> np.ndarray:
        """The q-th percentile over seeds of ``quantity``, shape (T, …) (warns as
        :meth:`stack` does)."""
        return np.percentile(self._stack(quantity, stacklevel=3), q, axis=0)

    def _stack(self, quantity: str, stacklevel: int) -> np.ndarray:
        if len({tr.t.size for tr in self.trajectories}) > 1:
            raise OverlapdynError("the seeds' trajectories have different lengths (stopped by "
                                  "stop_overlap or by a failure): use .trajectories")
        failed = [tr for tr in self.trajectories if tr.outcome is Outcome.FAILED]
        if failed:
            warnings.warn(f"{len(failed)} of {len(self.trajectories)} seeds failed (first: "
                          f"{failed[0].message}); their {quantity} stops at t = "
                          f"{failed[0].t[-1]:.4g} ({failed[0].t.size} saved time(s))",
                          RuntimeWarning, stacklevel=stacklevel)
        return np.stack([getattr(tr, quantity) for tr in self.trajectories])

    def describe(self) -> str:
        """One line per seed: how its run ended, its final risk."""
        model = self.trajectories[0].model
        lines = [f"{model.name}: {len(self.seeds)} seed(s) at d = {self.d}, {self.steps} steps "
                 f"({self.samples_per_seed} samples) per seed, {self.wall_time_s:.2f} s"
                 + (f", {self.loaded_from_store} loaded from a store"
                    if self.loaded_from_store else "")]
        for seed, tr in zip(self.seeds, self.trajectories, strict=True):
            lines.append(f"  seed {seed}: {tr.outcome.value} at t = {tr.t[-1]:.4g}, risk "
                         f"{tr.risk[-1]:.4g}")
        return "\n".join(lines)

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        runs, arrays = archive_parts(self.trajectories, "runs")
        return {"d": self.d, "seeds": self.seeds, "wall_time_s": self.wall_time_s,
                "steps": self.steps, "loaded_from_store": self.loaded_from_store,
                "runs": runs}, arrays

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> Simulation:
        runs = restore_parts(Trajectory, header["runs"], arrays, "runs")
        return cls(runs, header["d"], tuple(header["seeds"]), header["wall_time_s"],
                   header["steps"], header["loaded_from_store"])


def simulate(
    model: Model,
    d: int,
    times: np.ndarray,
    *,
    seeds: int | tuple[int, ...] | list[int] = (0,),
    init: tuple[np.ndarray, np.ndarray] | None = None,
    n_test: int = 0,
    compiled: CompiledModel | None = None,
    stop_overlap: float | None = None,
    progress: bool = False,
) -> Simulation:
    """Run one-pass SGD at dimension d for each seed and record the overlaps at ``times``.

    Args:
        model: the model (the same spec as the ODE).
        d: input dimension (≥ p + k).
        times: ODE times t = steps/d to record (rounded to whole steps; 0 included).
        seeds: a number n (the seeds 0…n−1) or the seeds; one run per seed (random init and
            data stream both drawn from it).
        init: a warm start ``(M, Q)`` (the same for every seed), else the SPEC's random init.
        n_test: held-out samples per saved time for the test-set risk (0: skip).
        compiled: the model's compiled drift, to compute the overlap risk (built if None).
        stop_overlap: stop a seed at the first saved time where some cosine
            ``|M_jr|/√(Q_jj P_rr)`` reaches this value (escape-time measurements); its
            trajectory then ends there, so seeds may have different lengths.
        progress: a progress bar (tqdm) over the steps, shown once the run has taken a
            second; the compiled loop then runs in up to ``PROGRESS_CHUNKS`` (50) calls
            between saved times, which changes no number.

    Returns:
        A :class:`Simulation`. A seed whose error turns non-finite stops there; its
        trajectory keeps the saved times before that step.
    """
    if not model.protocol.terms.full:
        raise ConfigError(f"the simulator runs SGD itself, whose steps carry every part of the "
                          f"drift, but {model.name} keeps only {list(model.protocol.terms.names)} "
                          f"(protocol.terms): simulate the model with protocol.terms = 'all' "
                          f"(dataclasses.replace) and compare that with this ODE")
    check_dimension(d, model.p, model.k)
    steps = recorded_steps(times, d)
    seeds = check_seeds(seeds, "a simulation")
    # the weights of every seed, a batch of inputs and a test set, each p or n_b rows of d
    rows = len(seeds) * (model.p + model.k) + model.protocol.n_b + n_test + model.k
    check_memory(8.0 * rows * d, f"simulate at d = {d} with {len(seeds)} seed(s)",
                 "lower d, or run fewer seeds per call")
    W0 = np.stack([_initial_weights(model, d, seed, init) for seed in seeds])
    Ms, Qs, As, test_risk, failed_at, wall = _run(model, W0, d, steps, seeds, n_test,
                                                  stop_overlap, progress)
    compiled = compiled or CompiledModel(model)
    trajectories = tuple(
        _seed_trajectory(model, compiled, d, steps, seed, Ms[s], Qs[s], As[s], test_risk[s],
                         int(failed_at[s]), n_test)
        for s, seed in enumerate(seeds))
    return Simulation(trajectories, d, seeds, wall_time_s=wall, steps=int(steps[-1]))


def recorded_steps(times, d: int) -> np.ndarray:
    """The SGD steps :func:`simulate` records for ``times`` at dimension d: ``t·d`` rounded
    to whole steps, duplicates merged, step 0 added; shape (S,), int64, increasing.

    Raises:
        ConfigError: ``times`` is empty, not one-dimensional, or not finite, non-negative
            and strictly increasing (nothing is reordered or dropped silently).
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0:
        raise ConfigError(f"times must be a non-empty 1-d array of t = steps/d, got shape "
                          f"{times.shape}")
    if not np.all(np.isfinite(times)) or times[0] < 0 or np.any(np.diff(times) <= 0):
        raise ConfigError(f"times must be finite, ≥ 0 and strictly increasing (t = steps/d), "
                          f"got {np.array2string(times, threshold=8)}; sort them and drop "
                          f"the negative and NaN ones")
    steps = np.unique(np.round(times * d).astype(np.int64))
    return steps if steps[0] == 0 else np.concatenate([[0], steps])


def _initial_weights(model: Model, d: int, seed: int,
                     init: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """The weights W (p×d) a seed starts from: the warm start's, else the random start."""
    rng = np.random.default_rng([seed, d])
    if init is not None:
        return warm_start_weights(np.asarray(init[0], float), np.asarray(init[1], float),
                                  model.target.gram, d, rng)
    return random_weights(model, d, rng)


def _run(model: Model, W0: np.ndarray, d: int, steps: np.ndarray, seeds: tuple[int, ...],
         n_test: int, stop_overlap: float | None, progress: bool = False):
    """Run the generated SGD loop from ``W0`` (seeds, p, d; advanced in place); returns the
    overlaps saved at ``steps`` ``(Ms, Qs, As, test_risk, failed_at)``, NaN after a seed
    stopped, and the loop's wall time (loading the module not included). With ``progress``
    the loop runs between chunks of the saved times, with a bar over the steps."""
    student, protocol, target = model.student, model.protocol, model.target
    shape = (len(seeds), steps.size)
    Ms = np.full((*shape, model.p, model.k), np.nan)
    Qs = np.full((*shape, model.p, model.p), np.nan)
    As = np.full((*shape, model.p), np.nan)
    test_risk = np.full(shape, np.nan)
    failed_at = np.full(len(seeds), -1, dtype=np.int64)
    # One PCG64 Generator per seed (ziggurat normals, ~9x faster than the legacy stream),
    # independent of the one that drew the initial weights.
    generators = [np.random.default_rng([seed, d, 1]) for seed in seeds]
    A0 = np.tile(np.array(student.a, dtype=float), (len(seeds), 1))   # per seed, advanced
    L = np.linalg.cholesky(target.gram)
    stopped = np.zeros(len(seeds), dtype=np.bool_)
    loop, functions = _sgd_loop(), model_functions(model)   # both held while their code runs
    addresses = function_addresses(functions, loop.FUNCTION_NAMES, loop.FUNCTION_TYPES)
    spare = np.random.default_rng(0)   # fills a short batch's tuple; never drawn from
    options = (float(student.c_p), float(protocol.eta), float(student.eta_a),
               int(protocol.n_b), float(protocol.weight_decay), bool(protocol.spherical),
               protocol.loss == "mse", bool(student.train_readout),
               float(np.sqrt(target.noise)), int(n_test),
               np.inf if stop_overlap is None else float(stop_overlap))
    chunks = _chunks(steps, PROGRESS_CHUNKS if progress else 1)
    batches = range(0, len(seeds), SEED_BATCH)
    start = time.perf_counter()
    with quietly(), progress_bar(progress, total=len(batches) * int(steps[-1]),
                                 desc="simulate", unit="step", unit_scale=True,
                                 delay=1.0) as bar:
        # quietly: the loop compiles on its first call in a process without a cache
        for first in batches:
            batch = slice(first, first + SEED_BATCH)
            # a tuple's length is part of its Numba type: always SEED_BATCH generators (the
            # unused ones are never drawn from), so one compiled loop serves every seed count
            padded = (*generators[batch], *(spare,) * (SEED_BATCH - len(generators[batch])))
            for chunk in chunks:
                # the chunk starts where the last one saved (step 0: the first saved time);
                # its records go through C-contiguous copies, the layout the loop is
                # compiled for
                begin = int(steps[chunk.start - 1]) if chunk.start else 0
                records = [np.ascontiguousarray(array[batch, chunk])
                           for array in (Ms, Qs, As, test_risk)]
                loop.run(addresses, W0[batch], A0[batch], L, padded, begin, steps[chunk],
                         *options, *records, failed_at[batch], stopped[batch])
                for array, record in zip((Ms, Qs, As, test_risk), records, strict=True):
                    array[batch, chunk] = record
                bar.update(int(steps[chunk.stop - 1]) - begin)
    return Ms, Qs, As, test_risk, failed_at, time.perf_counter() - start


def _chunks(steps: np.ndarray, count: int) -> list[slice]:
    """The saved times cut into at most ``count`` slices of about equal numbers of steps
    (each slice at least one saved time)."""
    if count <= 1 or len(steps) < 2:
        return [slice(0, len(steps))]
    ends = np.searchsorted(steps, np.linspace(0, steps[-1], count + 1)[1:], side="left")
    bounds = sorted({0, *(int(min(end, len(steps) - 1)) + 1 for end in ends)})
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _seed_trajectory(model: Model, compiled: CompiledModel, d: int, steps: np.ndarray, seed: int,
                     Ms: np.ndarray, Qs: np.ndarray, As: np.ndarray, test_risk: np.ndarray,
                     failed_at: int, n_test: int) -> Trajectory:
    """One seed's saved overlaps as a :class:`Trajectory`, its status saying whether the
    error turned non-finite (``failed_at ≥ 0``) or the weights diverged."""
    keep = ~np.isnan(Ms[:, 0, 0])
    risk = np.array([compiled.risk(M, Q, a) for M, Q, a in zip(
        Ms[keep], Qs[keep], As[keep], strict=True)])
    outcome = Outcome.FAILED if failed_at >= 0 else Outcome.REACHED_END
    message = (f"the error turned non-finite at step {failed_at} (t = "
               f"{failed_at / d:.4g}); η is probably too large"
               if outcome is Outcome.FAILED else "done")
    sane = np.isfinite(risk) & (np.abs(Qs[keep]) <= BLOWUP_NORM).all(axis=(1, 2))
    if outcome is Outcome.REACHED_END and not sane.all():
        first = int(np.argmin(sane))
        outcome = Outcome.FAILED
        message = (f"the weights diverged (|Q| > {BLOWUP_NORM:g} or a non-finite risk) by "
                   f"t = {steps[keep][first] / d:.4g}; η is probably too large")
    return Trajectory(
        t=steps[keep] / d, M=Ms[keep], Q=Qs[keep], a=As[keep], risk=risk,
        model=model, outcome=outcome, message=message,
        test_risk=test_risk[keep] if n_test else None,
        sgd=SgdRun(d, seed, int(n_test), int(failed_at)), versions=library_versions())
