r"""The κ sweep of a depth experiment and the ``overlapdyn depth`` job.

For each seed a target draw and a test set; for each κ a training set of ``n = round(d^κ)``
samples and every method of :func:`overlapdyn.depth.training.run_instance`. :class:`DepthResult`
holds the per-(κ, seed) arrays with the full configuration (median, percentile band,
half-rise κ of the overlaps, a Markdown table, save/load);
:func:`~overlapdyn.jobs.depth.depth_job` writes the thresholds report, ``result.npz``
(+ JSON), ``fig2.png`` and ``table.md``.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import OverlapdynError
from ..progress import progress_bar
from ..storage.results import Result
from ..storage.versions import library_versions
from .config import METHODS, DepthConfig
from .training import run_instance

__all__ = ["DepthResult", "run_depth"]


@dataclass(frozen=True)
class DepthResult(Result):
    """A κ sweep: per-(κ, seed) arrays, with the full configuration.

    Attributes:
        config: the :class:`DepthConfig`.
        kappa: κ grid (K,); n: sample sizes (K,).
        values: ``name → array (K, S)``: ``error_<method>``, ``M_W``, ``M_h``, ``time_*``.
        null_error: test variance of y (error of the best constant), per seed (S,).
        wall_s: total wall-clock seconds.

    :meth:`save` writes ``result.npz`` and the summary :meth:`to_dict` as ``result.json``;
    :meth:`load` also reads the files of overlapdyn before the result protocol (the
    configuration in the ``.json`` beside a header-less ``.npz``).
    """

    FORMAT = "overlapdyn.DepthResult"
    VERSION = 1

    config: DepthConfig
    kappa: np.ndarray
    n: np.ndarray
    values: dict[str, np.ndarray]
    null_error: np.ndarray
    wall_s: float = 0.0

    def median(self, name: str) -> np.ndarray:
        """Median over seeds, shape (K,)."""
        return np.nanmedian(self.values[name], axis=1)

    def percentile(self, name: str, q: float) -> np.ndarray:
        """The q-th percentile over seeds, shape (K,)."""
        return np.nanpercentile(self.values[name], q, axis=1)

    def _first_rise_through(self, curve: np.ndarray, level: float) -> float | None:
        """The first κ, linearly interpolated, where ``curve`` goes from below ``level`` to
        at or above it; None if it never does."""
        for i in range(1, len(curve)):
            if curve[i - 1] < level <= curve[i]:
                k0, k1 = self.kappa[i - 1], self.kappa[i]
                return float(k0 + (k1 - k0) * (level - curve[i - 1]) / (curve[i] - curve[i - 1]))
        return None

    def crossover(self) -> float | None:
        """The first κ (linearly interpolated) at which the median M_h exceeds M_W."""
        return self._first_rise_through(self.median("M_h") - self.median("M_W"), 0.0)

    def onset(self, name: str) -> float | None:
        """The first κ (linearly interpolated) at which the median of ``name`` reaches half
        its rise: ``m(κ_min) + (max m − m(κ_min))/2``. ``None`` if it never rises.

        This is how the paper's Fig. 2 reads the overlaps: M_W (from its random-start value
        √(d^ε/d)) and M_h (from 0) are plotted in separate panels on their own scales, and
        the point is that both rise at the same κ, the threshold 1 + ε (the authors' code
        draws a line there in both panels), not that one curve crosses the other.
        """
        m = self.median(name)
        if len(m) < 2 or not np.all(np.isfinite(m)) or m.max() <= m[0]:
            return None
        return self._first_rise_through(m, m[0] + 0.5 * (m.max() - m[0]))

    def stage_times(self) -> dict[str, float]:
        """Total seconds spent per stage / baseline over the sweep."""
        return {k[5:]: float(np.nansum(v)) for k, v in self.values.items()
                if k.startswith("time_")}

    def describe(self) -> str:
        """Median test errors (and M_W, M_h) per κ as a Markdown table; with both networks,
        also the number of seeds in which the three-layer error is below the two-layer one."""
        methods = [m for m in METHODS if f"error_{m}" in self.values]
        extra = [q for q in ("M_W", "M_h") if q in self.values]
        wins = None
        if {"three_layer", "two_layer"} <= set(methods):
            wins = np.sum(self.values["error_three_layer"] < self.values["error_two_layer"],
                          axis=1)
        head = "| κ | n | " + " | ".join(methods + extra) + (
            f" | 3-layer < 2-layer (of {self.values['error_two_layer'].shape[1]})"
            if wins is not None else "") + " |"
        lines = [head, "|" + "---|" * (2 + len(methods) + len(extra) + (wins is not None))]
        columns = ([(self.median(f"error_{m}"), "{:.3f}") for m in methods]
                   + [(self.median(q), "{:.2f}") for q in extra]
                   + ([] if wins is None else [(wins, "{:d}")]))
        for i, (k, n) in enumerate(zip(self.kappa, self.n, strict=True)):
            cells = [form.format(values[i]) for values, form in columns]
            lines.append(f"| {k:.2f} | {n} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The summary: configuration, wall time, crossover and onsets, time per stage, the
        library versions and (SIGHT targets) the weak-recovery threshold."""
        summary = {"config": self.config.to_dict(), "wall_s": self.wall_s,
                   "crossover": self.crossover() if {"M_W", "M_h"} <= set(self.values)
                   else None,
                   "onset": {q: self.onset(q) for q in ("M_W", "M_h") if q in self.values},
                   "stage_times_s": self.stage_times(),
                   "versions": library_versions()}
        from .recovery import unsupported, weak_recovery
        if not unsupported(self.config.target):
            summary["weak_recovery"] = weak_recovery(self.config.target).to_dict()
        return summary

    def archive(self) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {"kappa": self.kappa, "n": self.n, "null_error": self.null_error,
                  **{f"values/{k}": v for k, v in self.values.items()}}
        return {"config": self.config.to_dict(), "wall_s": self.wall_s,
                "values": list(self.values)}, arrays

    @classmethod
    def from_archive(cls, header: dict, arrays: dict[str, np.ndarray]) -> DepthResult:
        return cls(DepthConfig.from_dict(header["config"]), arrays["kappa"], arrays["n"],
                   {k: arrays[f"values/{k}"] for k in header["values"]},
                   arrays["null_error"], header["wall_s"])

    @classmethod
    def load(cls, path: str | os.PathLike) -> DepthResult:
        path = Path(path)
        with open(path, "rb") as handle:
            legacy = zipfile.is_zipfile(handle)
            if legacy:
                handle.seek(0)
                with np.load(handle, allow_pickle=False) as data:
                    legacy = "header" not in data.files
        if not legacy:
            return super().load(path)
        try:   # an .npz of arrays, the configuration in the summary beside it
            meta = json.loads(path.with_suffix(".json").read_text())
            with np.load(path, allow_pickle=False) as data:
                values = {k[7:]: data[k] for k in data.files if k.startswith("values/")}
                return cls(DepthConfig.from_dict(meta["config"]), data["kappa"], data["n"],
                           values, data["null_error"], meta.get("wall_s", 0.0))
        except Exception as error:
            raise OverlapdynError(f"{path} is not a saved overlapdyn DepthResult: "
                                  f"{type(error).__name__}: {error}") from error


def run_depth(config: DepthConfig, *, progress: bool = True) -> DepthResult:
    """Run the κ sweep of ``config``: for each seed a target draw and a test set, then for
    each κ a fresh training set of ``n = round(d^κ)`` samples and every method.

    For MIGHT targets (r > 1) the label is the committee over the r top indices and M_h is
    the multiple correlation of ĥ with all of them (the second layer learns one direction).

    Seeds are reproducible: seed s uses ``np.random.default_rng([sweep.seed, s])`` for the
    target and test set, and ``[sweep.seed, s, i]`` for the run at the i-th κ.
    """
    started = time.perf_counter()
    sweep, d = config.sweep, config.target.d
    kappas = sweep.kappas
    ns = np.maximum(np.round(float(d) ** kappas).astype(int), 2)
    values: dict[str, np.ndarray] = {}
    null = np.empty(sweep.seeds)
    bar = progress_bar(progress, total=len(kappas) * sweep.seeds, desc="depth sweep")
    for s in range(sweep.seeds):
        rng = np.random.default_rng([sweep.seed, s])
        instance = config.target.draw(rng)
        x_test, y_test = instance.sample(sweep.n_test, rng)
        h_test = instance.h_star(x_test)
        null[s] = float(np.var(y_test))
        for i, n in enumerate(ns):
            run = run_instance(config, instance, int(n), np.random.default_rng([sweep.seed, s, i]),
                               (x_test, y_test, h_test))
            for key, value in run.items():
                values.setdefault(key, np.full((len(kappas), sweep.seeds), np.nan))[i, s] = value
            bar.update()
    bar.close()
    return DepthResult(config, kappas, ns, values, null, time.perf_counter() - started)


