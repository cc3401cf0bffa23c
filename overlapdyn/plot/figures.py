"""Matplotlib figures of trajectories, without pyplot's global state.

Every function builds a :class:`matplotlib.figure.Figure` (or draws into the ``ax`` given) and
returns the figure; nothing is registered with pyplot, so nothing leaks between calls, threads
or tests. Symbols follow the conventions page (SPEC): ``t = steps/d``, ``n = t·d·n_b``,
``M = WUᵀ/d`` (p×k), ``Q = WWᵀ/d`` (p×p), population risk ``R(t)``; indices j (student) and r
(latent) start at 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from ..errors import OverlapdynError
from ..ode.integrator import overlap_cosines
from ..ode.trajectory import Trajectory

if TYPE_CHECKING:
    from ..depth.experiment import DepthResult
    from ..depth.first_layer import Stage1Validation
    from ..scaling.escape import EscapeTimes
    from ..scaling.saddles import SaddleToSaddle
    from ..sgd.validation import ValidationReport

__all__ = ["plot_depth", "plot_escape_curves", "plot_escape_scaling", "plot_gap_scaling",
           "plot_learning_curve", "plot_overlap_heatmap", "plot_overlaps",
           "plot_saddles", "plot_stage1", "plot_sweep", "plot_validation", "save_figure"]


def _axes(ax: Axes | None, figsize=(5.0, 3.6)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _log(ax: Axes, logx: bool, logy: bool = False) -> None:
    # "mask" drops t = 0 (the initial condition) instead of clipping it to a huge negative log.
    if logx:
        ax.set_xscale("log", nonpositive="mask")
    if logy:
        ax.set_yscale("log", nonpositive="mask")


def plot_learning_curve(trajectories: Trajectory | Sequence[Trajectory], *,
                        ax: Axes | None = None, d: int | None = None,
                        labels: Sequence[str] | None = None, logx: bool = True,
                        logy: bool = True) -> Figure:
    """Population risk ``R(t)`` against ``t = steps/d``, or against the number of samples
    ``n = t·d·n_b`` when ``d`` is given; one line per trajectory.

    Args:
        trajectories: one :class:`Trajectory` or a list of them.
        ax: axes to draw into (default: a new figure).
        d: input dimension; switches the x axis to samples.
        labels: one legend label per trajectory (default: the model names when there are
            several, none for a single trajectory).
        logx, logy: logarithmic axes (non-positive points are left out).
    """
    trajs = [trajectories] if isinstance(trajectories, Trajectory) else list(trajectories)
    if not trajs:
        raise OverlapdynError("plot_learning_curve needs at least one Trajectory")
    if labels is None:
        labels = [tr.model.name for tr in trajs] if len(trajs) > 1 else [None]
    elif len(labels) != len(trajs):
        raise OverlapdynError(f"got {len(labels)} labels for {len(trajs)} trajectories")
    fig, ax = _axes(ax)
    for tr, label in zip(trajs, labels, strict=True):
        x = tr.t if d is None else tr.samples(d)
        ax.plot(x, tr.risk, label=label)
    _log(ax, logx, logy)
    ax.set_xlabel("t = steps/d" if d is None else f"samples n = t·d·n_b  (d = {d})")
    ax.set_ylabel("population risk R")
    if any(label is not None for label in labels):
        ax.legend()
    return fig


def plot_overlaps(trajectory: Trajectory, *, ax: Axes | None = None,
                  logx: bool = True) -> Figure:
    """Every student–teacher overlap ``M_jr(t)`` (solid) and every off-diagonal
    student–student overlap ``Q_jl(t)``, ``j < l`` (dashed), against ``t = steps/d``:
    ``p·k + p(p−1)/2`` lines, labelled with 1-based indices."""
    fig, ax = _axes(ax)
    tr = trajectory
    p, k = tr.model.p, tr.model.k
    for j in range(p):
        for r in range(k):
            ax.plot(tr.t, tr.M[:, j, r], "-", label=f"$M_{{{j + 1},{r + 1}}}$")
    for j in range(p):
        for l in range(j + 1, p):
            ax.plot(tr.t, tr.Q[:, j, l], "--", label=f"$Q_{{{j + 1},{l + 1}}}$")
    _log(ax, logx)
    ax.set_xlabel("t = steps/d")
    ax.set_ylabel("overlap")
    ax.legend(fontsize="small", ncols=max(1, (p * k + p * (p - 1) // 2) // 8))
    return fig


def plot_overlap_heatmap(trajectory: Trajectory, time: float | None = None, *,
                         ax: Axes | None = None) -> Figure:
    """Heat map of ``M = WUᵀ/d`` (rows: student j, columns: latent r) at the grid point
    nearest to ``time`` (default: the final state), on a diverging colour scale centred on 0,
    with a colorbar."""
    state = trajectory.final if time is None else trajectory.at(time)
    fig, ax = _axes(ax, figsize=(4.0, 3.6))
    vmax = float(np.max(np.abs(state.M))) or 1.0
    image = ax.imshow(state.M, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    p, k = state.M.shape
    ax.set_xticks(range(k), [str(r + 1) for r in range(k)])
    ax.set_yticks(range(p), [str(j + 1) for j in range(p)])
    ax.set_xlabel("latent r")
    ax.set_ylabel("student j")
    ax.set_title(f"$M_{{jr}}$ at t = {state.t:.4g}")
    fig.colorbar(image, ax=ax, label="$M_{jr}$")
    return fig


def _summaries(model) -> list[tuple[str, Callable[[Trajectory], np.ndarray]]]:
    """The scalar curves shown by :func:`plot_validation`: (label, trajectory → (T,))."""
    out = [("population risk R", lambda tr: tr.risk)]
    out += [(f"$\\max_j |M_{{j{r + 1}}}|$", lambda tr, r=r: np.abs(tr.M[:, :, r]).max(axis=1))
            for r in range(model.k)]
    out.append(("mean$_j$ $Q_{jj}$", lambda tr: np.diagonal(tr.Q, axis1=1, axis2=2).mean(1)))
    if model.student.train_readout:
        out.append(("mean$_j$ $a_j$", lambda tr: tr.a.mean(axis=1)))
    return out


def _grid(n: int, width: float = 3.6, height: float = 2.9) -> tuple[Figure, list[Axes]]:
    cols = 2 if n == 4 else min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig, list(axes[:n])


def plot_validation(report: ValidationReport, d: int | None = None) -> Figure:
    """The ODE against the simulations at one dimension d (default: the largest).

    One panel per curve: the risk R(t), ``max_j |M_jr|(t)`` for each latent r, the mean of
    ``Q_jj(t)`` and, with a trained readout, the mean of ``a_j(t)``: ``1 + k + 1 (+1)`` axes.
    Each shows the simulations' seed mean (solid) and 10–90 % percentile band (shaded) and the
    ODE started at each seed's measured overlaps, averaged over seeds (dashed), against
    ``t = steps/d`` on a log axis (t = 0 left out). Runs that stopped early are cut to the
    shortest one.
    """
    d = max(report.ds) if d is None else int(d)
    if d not in report.ds:
        raise OverlapdynError(f"the report has no runs at d = {d}; it has d ∈ {report.ds}")
    i = report.ds.index(d)
    sims, odes = report.simulations[i].trajectories, report.odes[i]
    model = sims[0].model
    length = min(len(tr.t) for tr in (*sims, *odes))
    t = sims[0].t[:length]
    curves = _summaries(model)
    fig, axes = _grid(len(curves))
    for ax, (label, curve) in zip(axes, curves, strict=True):
        sim = np.array([curve(tr)[:length] for tr in sims])       # (seeds, T)
        ode = np.mean([curve(tr)[:length] for tr in odes], axis=0)
        low, high = np.percentile(sim, [10, 90], axis=0)
        ax.fill_between(t, low, high, alpha=0.3, color="C0", lw=0,
                        label=f"simulation 10–90 % ({len(sims)} seeds)")
        ax.plot(t, sim.mean(axis=0), color="C0", label="simulation mean")
        ax.plot(t, ode, "--", color="C3", label="ODE")
        _log(ax, bool(np.any(t > 0)))
        ax.set_xlabel("t = steps/d")
        ax.set_ylabel(label)
    axes[0].legend(fontsize="small")
    fig.suptitle(f"{model.name}: ODE vs SGD at d = {d}")
    return fig


def plot_gap_scaling(report: ValidationReport) -> Figure:
    """Gap between simulation and ODE against d, log-log, one panel per quantity.

    Dots: each seed's sup-norm gap; circles: their mean, with the fitted power law
    ``∝ d^exponent`` (solid; the report's exponent in the title); squares: the gap of the
    seed means; dotted grey: the theory ``∝ d^(−1/2)`` through the first mean. Quantities
    conserved exactly (``report.exact``) have no panel.
    """
    ds = np.array(report.ds, dtype=float)
    fig, axes = _grid(len(report.exponents))
    for ax, (q, exponent) in zip(axes, report.exponents.items(), strict=True):
        gaps = report.gaps[q]                                      # (len(ds), seeds)
        mean = gaps.mean(axis=1)
        ax.plot(np.repeat(ds, gaps.shape[1]), gaps.ravel(), ".", color="C0", alpha=0.4,
                label="per seed")
        ax.plot(ds, mean, "o", color="C0", label="seed average")
        slope, intercept = np.polyfit(np.log(ds), np.log(mean), 1)
        ax.plot(ds, np.exp(intercept) * ds ** slope, "-", color="C0", label="fit")
        ax.plot(ds, report.mean_gaps[q], "s", mfc="none", color="C1", label="gap of means")
        ax.plot(ds, mean[0] * (ds / ds[0]) ** -0.5, ":", color="0.4", label="$d^{-1/2}$")
        _log(ax, True, True)
        ax.set_xticks(ds, [str(int(d)) for d in ds], minor=False)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("d")
        ax.set_ylabel(f"sup-norm gap of {q}")
        ax.set_title(f"{q}: slope {exponent:.2f} (theory −0.5)")
    axes[0].legend(fontsize="small")
    return fig


def plot_sweep(data, x: str, *, hue: str | None = None, ax: Axes | None = None,
               logx: bool = False, logy: bool = False, band: bool = True) -> Figure:
    """One value of a sweep (:func:`overlapdyn.io.netcdf.aggregate`) against one axis.

    ``data`` is a labelled array — a variable of the dataset, or a selection of one, e.g.
    ``ds.event_time`` (escape time vs d, one line per η: ``x="d", hue="eta"``) or
    ``ds.risk.sel(t=100, method="nearest")`` (risk at fixed t vs ``n_b``). Every dimension
    other than ``x`` and ``hue`` (seeds, typically) is averaged over, NaN (failed or missing
    tasks) left out; with ``band`` the shaded area is ± one standard deviation over them.

    Args:
        data: an :class:`xarray.DataArray`.
        x: the dimension on the horizontal axis.
        hue: a dimension drawn as one line per value (None: a single line).
        ax: axes to draw into (default: a new figure).
        logx, logy: logarithmic axes.
        band: shade ± one standard deviation over the averaged dimensions.

    Raises:
        OverlapdynError: ``x`` or ``hue`` is not a dimension of ``data``.
    """
    for dim in (x, hue):
        if dim is not None and dim not in data.dims:
            raise OverlapdynError(f"{dim!r} is not a dimension of {data.name!r}; its "
                                  f"dimensions are {list(data.dims)}")
    others = [dim for dim in data.dims if dim not in (x, hue)]
    mean = data.mean(others, skipna=True) if others else data
    spread = data.std(others, skipna=True) if others else None
    fig, ax = _axes(ax)
    xs = np.asarray(data[x].values) if x in data.coords else np.arange(data.sizes[x])
    lines = [None] if hue is None else list(range(data.sizes[hue]))
    for index in lines:
        pick = {} if index is None else {hue: index}
        y = np.asarray(mean.isel(pick).transpose(x).values, dtype=float)
        label = None if index is None else f"{hue} = {data[hue].values[index]}"
        (line,) = ax.plot(xs, y, "o-", label=label)
        if band and spread is not None:
            s = np.asarray(spread.isel(pick).transpose(x).values, dtype=float)
            ax.fill_between(xs, y - s, y + s, color=line.get_color(), alpha=0.2, lw=0)
    _log(ax, logx, logy)
    ax.set_xlabel(x)
    ax.set_ylabel(str(data.name))
    if others:
        ax.set_title(f"mean over {', '.join(others)}", fontsize="small")
    if hue is not None:
        ax.legend(fontsize="small")
    return fig


def _cosine(trajectory: Trajectory, direction: int | None = None) -> np.ndarray:
    cosines = overlap_cosines(trajectory.M, trajectory.Q,
                              np.diag(trajectory.model.target.gram)).max(axis=1)
    return cosines.max(axis=1) if direction is None else cosines[:, direction]


def plot_escape_scaling(escapes: EscapeTimes | Sequence[EscapeTimes], *,
                        ax: Axes | None = None) -> Figure:
    """Escape sample count ``n`` against d, log-log: medians (with the 16–84 % band over
    seeds for simulations), the fitted power law, and the predicted slope ``max(ℓ−1, 1)``
    drawn through the data's centre (dashed; × log d at ℓ = 2).
    """
    escapes = [escapes] if not isinstance(escapes, Sequence) else list(escapes)
    if not escapes:
        raise OverlapdynError("plot_escape_scaling needs at least one EscapeTimes")
    fig, ax = _axes(ax)
    for index, escape in enumerate(escapes):
        color = f"C{index % 10}"
        ds = np.asarray(escape.ds, dtype=float)
        n = np.where(np.isfinite(escape.samples), escape.samples, np.inf)
        median = escape.median_samples
        keep = np.isfinite(median)
        label = (f"{escape.route}, ℓ = {escape.prediction.exponent}"
                 f" ({escape.prediction.target})")
        if n.shape[1] > 1:
            low, high = np.percentile(n, [16, 84], axis=1)
            high = np.where(np.isfinite(high), high, median)
            ax.errorbar(ds[keep], median[keep], yerr=[median[keep] - low[keep],
                                                      high[keep] - median[keep]],
                        fmt="o", color=color, capsize=3, label=label)
        else:
            ax.plot(ds[keep], median[keep], "o", color=color, label=label)
        if escape.fittable:
            fit = escape.fit()
            factor = np.log(ds) if fit.log_factor else 1.0
            ax.plot(ds, np.exp(fit.intercept) * ds**fit.exponent * factor, "-", color=color,
                    lw=1, label=f"fit: slope {fit.exponent:.2f}")
            predicted = escape.prediction.samples(ds)
            centre = np.exp(np.mean(np.log(median[keep]) - np.log(predicted[keep])))
            ax.plot(ds, centre * predicted, "--", color=color, lw=1,
                    label=f"predicted: d^{escape.prediction.sample_exponent}"
                          + (" log d" if escape.prediction.log_factor else ""))
    _log(ax, True, True)
    ax.set_xlabel("dimension d")
    ax.set_ylabel(f"samples to escape  (cos ≥ {escapes[0].threshold:g})")
    ax.legend(fontsize="small")
    return fig


def plot_escape_curves(trajectories: Sequence[Trajectory], labels: Sequence[str], *,
                       ax: Axes | None = None, direction: int | None = None) -> Figure:
    """Overlap ``max_j |M_jr|/√(Q_jj P_rr)`` against samples per dimension ``n/d = t·n_b``,
    log-log: the information-exponent escape plot (one line per trajectory)."""
    if len(labels) != len(trajectories):
        raise OverlapdynError(f"got {len(labels)} labels for {len(trajectories)} trajectories")
    fig, ax = _axes(ax)
    for trajectory, label in zip(trajectories, labels, strict=True):
        ax.plot(trajectory.t * trajectory.model.protocol.n_b, _cosine(trajectory, direction),
                label=label)
    _log(ax, True, True)
    ax.set_xlabel("samples per dimension n/d")
    ax.set_ylabel("overlap  max_j |M_jr| / √(Q_jj P_rr)")
    ax.legend(fontsize="small")
    return fig


def plot_saddles(trajectory: Trajectory, saddles: SaddleToSaddle) -> Figure:
    """Saddle to saddle: the risk with its plateaus shaded (top) and each direction's cosine
    overlap with its learning time marked (bottom), against t on a log axis."""
    fig = Figure(figsize=(5.6, 5.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(trajectory.t, trajectory.risk, color="k")
    for plateau in saddles.plateaus:
        top.axvspan(plateau.t_start, plateau.t_end, color="0.85", lw=0)
    top.set_ylabel("population risk R")
    for r in range(trajectory.M.shape[-1]):
        color = f"C{r % 10}"
        bottom.plot(trajectory.t, _cosine(trajectory, r), color=color, label=f"z{r + 1}")
        if np.isfinite(saddles.learn_times[r]):
            for ax in (top, bottom):
                ax.axvline(saddles.learn_times[r], color=color, ls=":", lw=1)
    bottom.axhline(saddles.threshold, color="0.5", lw=0.8)
    bottom.set_ylabel("max_j |M_jr| / √(Q_jj P_rr)")
    bottom.set_xlabel("t = steps/d")
    bottom.legend(fontsize="small")
    _log(top, True)
    return fig


_METHOD_LABELS = {"three_layer": "3-layer, layer-wise",
                  "two_layer": "2-layer (trained W1 + ridge)", "kernel": "quadratic kernel",
                  "random_features": "random features", "joint": "3-layer, joint (Adam)"}


def plot_depth(result: DepthResult, *, band: tuple[float, float] = (25, 75)) -> Figure:
    """The paper's Fig. 2 layout: test error vs κ = log n/log d for every method (median over
    seeds and a percentile band), and the overlaps M_W, M_h of the three-layer net, with the
    predicted thresholds 1 + ε (W*), kε (h*) and 2 (quadratic kernel) marked, for a SIGHT
    target the finite-d weak-recovery point κ* of W* (:mod:`overlapdyn.depth.recovery`), and
    the κ at which each overlap has made half its rise (:meth:`DepthResult.onset`)."""
    from ..depth.targets import thresholds

    fig, axes = _grid(2, width=4.4, height=3.3)
    kappa = result.kappa
    target = result.config.target
    ax = axes[0]
    for method, label in _METHOD_LABELS.items():
        key = f"error_{method}"
        if key not in result.values:
            continue
        line, = ax.plot(kappa, result.median(key), "o-", ms=3, label=label)
        ax.fill_between(kappa, result.percentile(key, band[0]), result.percentile(key, band[1]),
                        color=line.get_color(), alpha=0.2, lw=0)
    null = float(np.median(result.null_error))
    ax.axhline(null, color="0.5", ls=":", label="Var y")
    ax.set_ylim(0, 1.3 * null)   # errors above Var y (tiny n, bad ridge) are clipped
    degree = len(target.polynomial()) - 1
    report = thresholds(target.levels, degree, target.r)
    marks = {"1+ε (W*)": report.subspace[0], "kε (h*)": report.features[0], "2 (kernel)": 2.0}
    from ..depth.recovery import unsupported, weak_recovery
    if not unsupported(target):
        finite = weak_recovery(target)   # where W* becomes recoverable at this d
        if np.isfinite(finite.kappa):
            marks[f"κ* = {finite.kappa:.2f} (W* at d = {target.d})"] = finite.kappa
    for ax_ in axes:
        for i, (name, value) in enumerate(marks.items()):
            ax_.axvline(value, color=f"C{i + 4}", ls="--", lw=0.8, label=name if ax_ is ax
                        else None)
    ax.set_xlabel("κ = log n / log d")
    ax.set_ylabel("test MSE")
    ax.set_title(f"d = {target.d}, ε = {target.levels[0]:g}, {result.config.sweep.seeds} seeds")
    ax.legend(fontsize="x-small")
    ax = axes[1]
    for i, key in enumerate(("M_W", "M_h")):
        if key in result.values:
            ax.plot(kappa, result.median(key), "o-", ms=3, color=f"C{i}", label=key)
            ax.fill_between(kappa, result.percentile(key, band[0]),
                            result.percentile(key, band[1]), color=f"C{i}", alpha=0.2, lw=0)
            onset = result.onset(key)   # where the median has made half its rise
            if onset is not None:
                ax.axvline(onset, color=f"C{i}", ls=":", lw=1.0,
                           label=f"{key} half-rise κ ≈ {onset:.2f}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("κ = log n / log d")
    ax.set_ylabel("overlap")
    ax.legend(fontsize="small")
    return fig


def plot_stage1(validation: Stage1Validation) -> Figure:
    """Stage-1 M_W against the step number: simulation (seed mean ± std) and the map."""
    fig, ax = _axes(None)
    steps = np.arange(validation.simulated.shape[2])
    for i, d in enumerate(validation.ds):
        sim = validation.simulated[i]
        ax.errorbar(steps, sim.mean(axis=0), yerr=sim.std(axis=0), fmt="o", ms=3,
                    color=f"C{i}", label=f"simulation d = {d}")
        ax.plot(steps, validation.theory[i].mean(axis=0), "-", color=f"C{i}",
                label=f"theory d = {d}")
    ax.set_xlabel("stage-1 step")
    ax.set_ylabel("$M_W$ (RMS over neurons)")
    ax.legend(fontsize="small")
    return fig


def save_figure(fig: Figure, path: str | os.PathLike) -> None:
    """Write ``fig`` to ``path`` as a PNG at 120 dpi."""
    fig.savefig(path, dpi=120, format="png")
