"""Figures of the learnability limits: a finite-d GAMP (:class:`~overlapdyn.limits.GampSweep`)
beside the Bayes-optimal state evolution, the overlap matrix of the multi-index state
evolution against α (:class:`~overlapdyn.limits.MultiIndexCurve`), and the two-field GAMP
beside it (:class:`~overlapdyn.limits.MultiIndexGampSweep`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .axes import axes_grid, log_scales

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..limits.bayes_multi import MultiIndexCurve
    from ..limits.gamp import GampSweep, MultiIndexGampSweep

__all__ = ["plot_gamp", "plot_multi_index_gamp", "plot_multi_index_overlap"]


def plot_gamp(sweep: GampSweep, quantity: str = "overlap") -> Figure:
    """GAMP's overlaps against the state evolution, and how their gap shrinks with d.

    ``quantity``: GAMP's ``|q| = |ŵ·w*|/d`` (``"overlap"``) or its squared cosine with w*
    (``"cosine"``), both estimates of the state evolution's q
    (:class:`~overlapdyn.limits.GampSweep`).

    Left: the state evolution's overlap ``q(α)`` from the uninformed start (solid) and, where
    the transition is first order, from the informed one (dashed); the weak-recovery
    threshold α_c (dotted vertical line, when finite and positive); GAMP's values, seed mean
    ± standard error, one colour per d (shifted slightly in α so the bars do not hide each
    other). Right: the mean per-seed gap to the state evolution against d, log–log, one
    colour per α, with the fitted power law ``∝ d^(−γ)`` (solid) where one was fitted
    (:meth:`~overlapdyn.limits.GampSweep.fits`).
    """
    values = sweep.values(quantity)   # refuses an unknown quantity before drawing
    mean, sem, gaps = sweep.mean(quantity), sweep.sem(quantity), sweep.gaps(quantity)
    fig, (left, right) = axes_grid(2, width=4.4, height=3.4)
    curve = sweep.curve
    left.plot(curve.alphas, curve.uninformed, color="k", lw=1.5,
              label="state evolution (uninformed)")
    if curve.first_order.any():
        informed = np.where(curve.first_order, curve.informed, np.nan)
        left.plot(curve.alphas, informed, "--", color="k", lw=1, label="informed start")
    if 0 < sweep.alpha_c < np.inf:
        left.axvline(sweep.alpha_c, ls=":", color="0.4", label=f"α_c = {sweep.alpha_c:.4g}")
    spread = 0.01 * (sweep.alphas.max() - sweep.alphas.min() or sweep.alphas.max())
    shifts = (np.arange(sweep.ds.size) - (sweep.ds.size - 1) / 2) * spread
    for i, d in enumerate(sweep.ds):
        left.errorbar(sweep.alphas + shifts[i], mean[:, i], yerr=sem[:, i],
                      fmt="o", ms=3.5, capsize=2, color=f"C{i}", label=f"GAMP d = {d}")
    left.set_xlabel("α = n/d")
    left.set_ylabel("overlap $|\\hat w \\cdot w^*|/d$" if quantity == "overlap" else
                    "squared cosine of $\\hat w$ and $w^*$")
    left.set_ylim(bottom=-0.02)
    left.legend(fontsize="small", loc="lower right")
    _gap_panel(right, sweep.ds, gaps.mean(axis=2), sweep.fits(quantity),
               sweep.fitted(quantity), [f"α = {alpha:g}" for alpha in sweep.alphas])
    fig.suptitle(f"GAMP vs state evolution: y = {sweep.link} + √{sweep.noise:g} ξ "
                 f"({values.shape[2]} seeds, {quantity})")
    return fig


def _gap_panel(axes, ds, gaps, line, fitted, labels) -> None:
    """The mean per-seed gaps (R, D) against d, log–log, one colour per row, with the
    fitted power law where one was fitted (both GAMP figures' right panel)."""
    ds = np.asarray(ds)
    x = ds.astype(float)
    for row, label in enumerate(labels):
        positive = gaps[row] > 1e-12   # a gap of round-off: GAMP on the SE's value
        if not positive.any():
            continue
        axes.plot(x[positive], gaps[row][positive], "o", color=f"C{row}", ms=4,
                  label=label + (f": γ = {-line.slope[row]:.2f}" if fitted[row] else ""))
        if fitted[row]:
            axes.plot(x, np.exp(line.intercept[row]) * x ** line.slope[row], "-",
                      color=f"C{row}", lw=1)
    log_scales(axes, True, logy=True)
    from matplotlib.ticker import NullFormatter  # matplotlib: only once a figure is made

    axes.set_xticks(x, [str(d) for d in ds])   # the d's run, not crowded 10^k labels
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("d")
    axes.set_ylabel("mean per-seed gap to the state evolution")
    axes.legend(fontsize="small")


def plot_multi_index_gamp(sweep: MultiIndexGampSweep, quantity: str = "overlap") -> Figure:
    """The two-field GAMP's overlaps per direction against the multi-index state evolution,
    and how their gaps shrink with d.

    ``quantity``: ``"overlap"`` (singular values of ``Ŵᵀ W*/d``), ``"cosine"`` (squared
    principal cosines of Ŵ and W*) or ``"norm"`` (eigenvalues of ``ŴᵀŴ/d``), each sorted
    descending (:class:`~overlapdyn.limits.MultiIndexGampSweep`).

    Left: the state evolution's overlap per direction (the eigenvalues of Q, largest first)
    from the uninformed start, one line style per direction; α_c (dotted, when finite and
    positive); GAMP's values per direction (seed mean ± standard error), one colour per d,
    one marker per direction. Right: the mean per-seed gap against d, log–log, one colour per
    (α, direction), with the fitted power law ``∝ d^(−γ)``.
    """
    values = sweep.values(quantity)   # refuses an unknown quantity before drawing
    mean, sem = sweep.mean(quantity), sweep.sem(quantity)
    fig, (left, right) = axes_grid(2, width=4.4, height=3.4)
    curve = sweep.curve
    se = curve.overlaps()
    styles, markers = ("-", "--", ":"), ("o", "s", "^")
    for r in range(sweep.k):
        left.plot(curve.alphas, se[:, r], styles[r % 3], color="k", lw=1.3,
                  label=f"state evolution, direction {r + 1}")
    if 0 < sweep.alpha_c < np.inf:
        left.axvline(sweep.alpha_c, ls=":", color="0.4", label=f"α_c = {sweep.alpha_c:.4g}")
    spread = 0.01 * (sweep.alphas.max() - sweep.alphas.min() or sweep.alphas.max())
    shifts = (np.arange(sweep.ds.size) - (sweep.ds.size - 1) / 2) * spread
    for i, d in enumerate(sweep.ds):
        for r in range(sweep.k):
            left.errorbar(sweep.alphas + shifts[i], mean[:, i, r], yerr=sem[:, i, r],
                          fmt=markers[r % 3], ms=3.5, capsize=2, color=f"C{i}",
                          label=f"GAMP d = {d}" if r == 0 else None)
    left.set_xlabel("α = n/d")
    left.set_ylabel({"overlap": "singular values of $\\hat W^T W^*/d$",
                     "cosine": "squared principal cosines",
                     "norm": "eigenvalues of $\\hat W^T \\hat W/d$"}[quantity])
    left.set_ylim(bottom=-0.02)
    left.legend(fontsize="x-small", loc="lower right")
    gaps = sweep.gaps(quantity).mean(axis=2)                  # (A, D, k)
    rows = np.moveaxis(gaps, 2, 1).reshape(-1, sweep.ds.size)
    line, fitted = sweep.fits(quantity), sweep.fitted(quantity)
    _gap_panel(right, sweep.ds, rows, type(line)(line.slope.ravel(), line.intercept.ravel(),
                                                 line.stderr.ravel()), fitted.ravel(),
               [f"α = {alpha:g}, r = {r + 1}" for alpha in sweep.alphas
                for r in range(sweep.k)])
    fig.suptitle(f"two-field GAMP vs state evolution: y = {sweep.link} + √{sweep.noise:g} ξ "
                 f"({values.shape[2]} seeds, {quantity})")
    return fig


def plot_multi_index_overlap(curve: MultiIndexCurve) -> Figure:
    """The multi-index state evolution's fixed points against α, two panels.

    Left: the overlap in each learned direction (the eigenvalues of Q, largest first, one
    colour each) from the uninformed start (solid) and, where the transition is first order,
    from the informed one (dashed); the line α = α_c where ``Q = 0`` loses stability (when
    finite and positive). Right: the entries ``Q_rs`` of the uninformed fixed point (r ≤ s),
    which say along which fields the learned directions lie.
    """
    fig, (left, right) = axes_grid(2, width=4.2, height=3.3)
    values, informed = curve.overlaps(), curve.overlaps("informed")
    for i in range(curve.k):
        left.plot(curve.alphas, values[:, i], "o-", ms=3, color=f"C{i}",
                  label=f"direction {i + 1}")
        if curve.first_order.any():
            left.plot(curve.alphas, np.where(curve.first_order, informed[:, i], np.nan), "--",
                      color=f"C{i}", lw=1, label="informed start" if i == 0 else None)
    if 0 < curve.alpha_c < np.inf:
        left.axvline(curve.alpha_c, ls=":", color="0.4", label=f"α_c = {curve.alpha_c:.4g}")
    left.set(xlabel="α = n/d", ylabel="overlap (eigenvalue of Q)", ylim=(-0.02, 1.02))
    left.legend(fontsize="small")
    for r in range(curve.k):
        for s in range(r, curve.k):
            right.plot(curve.alphas, curve.uninformed[:, r, s], "-" if r == s else "--",
                       label=f"Q{r + 1}{s + 1}")
    right.set(xlabel="α = n/d", ylabel="entries of Q (uninformed)")
    right.legend(fontsize="small")
    fig.suptitle(f"multi-index state evolution: y = {curve.link} + √{curve.noise:g} ξ "
                 f"(k = {curve.k})")
    return fig
