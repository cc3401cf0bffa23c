"""Exceptions raised by overlapdyn.

Every error names the offending input and says how to fix it. They all derive from
:class:`OverlapdynError` (itself a :class:`ValueError`), so ``except ValueError`` keeps working
for callers that do not care which check failed.
"""

from __future__ import annotations

__all__ = [
    "CacheWarning",
    "ConfigError",
    "CovarianceError",
    "DMFTError",
    "DiskFullError",
    "FieldMismatchError",
    "FixedPointError",
    "HeavyTailError",
    "IntegrationError",
    "KinkAccuracyWarning",
    "LearningRateWarning",
    "NotPolynomialError",
    "OutputError",
    "OverlapdynError",
    "QuadratureError",
    "ReductionError",
    "ResourceError",
    "RoughKernelWarning",
    "RunawayWarning",
    "SchedulerError",
    "SDEStepError",
    "UnknownActivationError",
    "UnknownTermError",
]


class OverlapdynError(ValueError):
    """Base class of every error overlapdyn raises on bad input."""


class UnknownActivationError(OverlapdynError, KeyError):
    """An activation was named that the registry does not know."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class NotPolynomialError(OverlapdynError):
    """The exact engine was given a factor that is not a polynomial in the fields."""


class CovarianceError(OverlapdynError):
    """A covariance is not square, not symmetric, not positive semi-definite, or incomplete."""


class FieldMismatchError(OverlapdynError):
    """An integrand uses symbols that are neither Gaussian fields nor declared parameters."""


class QuadratureError(OverlapdynError):
    """A numerical quadrature did not reach the requested tolerance."""


class HeavyTailError(QuadratureError):
    """A distribution (of a label, of a conditional moment) has so heavy tails that the
    mass beyond the integration range exceeds the requested tolerance."""


class DiskFullError(OverlapdynError):
    """An output could not be written: the disk (or the quota) is full. The file it was
    meant for is left as it was; free space and run again."""


class OutputError(OverlapdynError):
    """An output folder or file cannot be made or written: the path is a file, sits inside a
    file, or lies on a read-only disk or folder. Nothing was computed yet; give another
    ``--out``."""


class ResourceError(OverlapdynError):
    """A run was refused before it started because it would need more memory or time than
    is sensible (the message gives the estimate and how to shrink the run)."""


class SchedulerError(OverlapdynError):
    """A Dask scheduler address is malformed, or no scheduler answers there; or a sweep
    stopped waiting on a cluster that lost its workers (none left for a while, or many lost
    with no task finishing), its unfinished tasks recorded as failed."""


class CacheWarning(UserWarning):
    """The code cache repaired itself (a damaged generated module or Numba file rebuilt) or
    fell back to a temporary folder because its folder cannot be written; the message says
    which, and the fix (``OVERLAPDYN_CACHE_DIR``) where one is needed."""


class KinkAccuracyWarning(UserWarning):
    """Quadrature kernels of an activation with a kink (relu, ``|x|``, …) are less accurate
    than the quadrature route's ~1e-3: Gauss–Hermite converges only algebraically across a
    kink (1.5 % for relu at 16 nodes per direction). The message gives the estimate and the
    way out: the closed forms (``ClosedForm()``) where the model has them, else more nodes
    or a smooth activation."""


class RoughKernelWarning(UserWarning):
    """The kernels are rougher than the solver's tolerance: quadrature of an activation with
    a kink (relu, ``|x|``, sign, …) puts Gauss–Hermite nodes on both sides of the kink as Ω
    moves, so the drift jumps at the 1e-6…1e-4 level and an adaptive solver at a tight
    ``rtol`` crawls. The message names the way out: the closed forms (``ClosedForm()``,
    exact for kinked committees) or a looser tolerance."""


class ConfigError(OverlapdynError):
    """A malformed model or run config: unknown, missing or ill-typed key or value."""


class ReductionError(ConfigError):
    """A reduced state for wide networks (:mod:`overlapdyn.ode.wide`) was asked for a model
    or a start outside the set where it is exact; the message names the assumption broken
    and the fix."""


class UnknownTermError(ConfigError):
    """A drift term was named that the vocabulary does not know (``protocol.terms``); the
    message lists the valid names and presets (:mod:`overlapdyn.model.terms`)."""


class IntegrationError(OverlapdynError):
    """The integration failed; ``trajectory`` holds what was computed up to the failure.

    ``trajectory`` is an :class:`overlapdyn.ode.Trajectory` (or None when the run failed
    before its first saved time); it is not annotated here because errors sit below every
    stage of the pipeline.
    """

    def __init__(self, message: str, trajectory=None) -> None:
        super().__init__(message)
        self.trajectory = trajectory


class SDEStepError(IntegrationError):
    """The overlap SDE's Euler–Maruyama step is too large for its drift
    (:mod:`overlapdyn.ode.sde`): ``dt`` times the drift's largest Jacobian eigenvalue is
    above the scheme's limit, or a path's overlaps turned non-finite or left the set of Gram
    matrices (Ω = [[Q, M], [Mᵀ, P]] not positive semi-definite). The message gives the
    largest ``dt`` that passes the check, or the time and path of the first failure; the fix
    is a smaller ``dt``. ``trajectory`` holds the paths' result when the run finished."""


class FixedPointError(OverlapdynError):
    """An iterated fixed point (the giant-step readout's overlaps and conjugates) did not
    converge or left the finite numbers; ``residual`` is its last change."""

    def __init__(self, message: str, residual: float) -> None:
        super().__init__(message)
        self.residual = residual


class DMFTError(OverlapdynError):
    """The DMFT of full-batch GD (:func:`overlapdyn.reuse.solve_dmft`) cannot go on: its
    effective process diverged (non-finite fields or kernels), or its Gaussian field got no
    new noise where Stein's lemma needs some; ``step`` is the step t where it stopped."""

    def __init__(self, message: str, step: int) -> None:
        super().__init__(message)
        self.step = step


class LearningRateWarning(UserWarning):
    """The learning rate is at or above the critical one of the start
    (:func:`overlapdyn.scaling.critical_learning_rate`): the η² term holds the start, and the
    escape the run measures will not come. The message gives η, η_c and the fix."""


class RunawayWarning(UserWarning):
    """The overlaps ran away without blowing up: a student's squared norm ``Q_jj`` grew far
    beyond its start (:data:`overlapdyn.ode.state.RUNAWAY_FACTOR` times it, or times 1 if it
    started below 1), although the run reached its end. For SGD this is a learning rate too
    large to learn with — the risk curve can still look like convergence (the Saad–Solla
    erf committee at η = 20: R ≈ 0.08 at t = 3000 while Q_jj ≈ 400) — or, when another unit
    grew along the same line, two units of a student larger than the target needs whose
    outputs cancel (erf units anti-aligned), which no learning rate cures. The message names
    the unit, how far and by when, which case it is, and the fix."""
