"""Least-squares lines, and the power laws fitted as lines on log–log axes.

Every exponent the library reports — the sample-complexity exponent of escape times
(:func:`overlapdyn.scaling.prediction.fit_exponent`, its bootstrap included), the finite-size
exponent of the simulation–theory gap (:func:`overlapdyn.sgd.validation.validate`), the
stage-1 gap exponent (:class:`overlapdyn.depth.first_layer.Stage1Validation`) — is the slope
of one line fit, :func:`line_fit`. It needs no model, so it sits at the bottom of the
package, beside ``errors`` and ``storage``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Line", "line_fit", "loglog_slope"]


@dataclass(frozen=True)
class Line:
    """A least-squares line ``y ≈ slope·x + intercept`` (floats, or arrays (…,) for a stack
    of fits).

    Attributes:
        slope, intercept: the line.
        stderr: the slope's standard error ``√(Σ residual² / ((n − 2) Σ (x − x̄)²))`` (nan
            with two points or fewer).
    """

    slope: float | np.ndarray
    intercept: float | np.ndarray
    stderr: float | np.ndarray


def line_fit(x, y, keep=None) -> Line:
    """The least-squares line of ``y`` on ``x`` over the points ``keep`` marks.

    Args:
        x: abscissae, shape (D,).
        y: ordinates, shape (D,) or (…, D): one fit per row, vectorised.
        keep: booleans of y's shape (default all): the points each fit uses; the others
            may hold anything (inf, nan).

    Returns:
        The :class:`Line`, floats for a one-dimensional ``y``, else arrays of shape (…,).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    weight = np.ones(y.shape) if keep is None else np.asarray(keep, dtype=float)
    y = np.where(weight > 0, y, 0.0)
    count = weight.sum(axis=-1)
    x_mean = (weight @ x) / count
    y_mean = (weight * y).sum(axis=-1) / count
    dx = x - x_mean[..., None]
    dy = y - y_mean[..., None]
    spread = (weight * dx**2).sum(axis=-1)
    slope = (weight * dx * dy).sum(axis=-1) / spread
    residual = weight * (dy - slope[..., None] * dx) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        stderr = np.where(count > 2, np.sqrt(residual.sum(axis=-1)
                                             / np.maximum(count - 2, 1) / spread), np.nan)
    intercept = y_mean - slope * x_mean
    if y.ndim == 1:
        return Line(float(slope), float(intercept), float(stderr))
    return Line(slope, intercept, stderr)


def loglog_slope(x, y) -> float:
    """The exponent β of the power law ``y ∝ x^β``: the slope of log y against log x
    (shapes (D,))."""
    return line_fit(np.log(x), np.log(y)).slope
