"""Does the overlap SDE's escape-time law approach SGD's as d grows? KS distance against d.

The model of examples/sde_saad_solla.py: Saad & Solla's (1995) erf committees K = M = 2
(``erf(x/√2)``), c_k = c_p = 1, mse, plain one-pass SGD, n_b = 1, η = 1, no label noise, from
the symmetric start M₀ = 0, Q₀ = ¼·I, where the ODE sits on the symmetric plateau for ever and
SGD leaves it by its own noise. Escape: the largest cosine ``|M_jr|/√(Q_jj P_rr)`` reaches
0.9. The SDE (:func:`~overlapdyn.ode.integrate_sde`, sampled noise, m = 8, its default dt)
keeps SGD's O(d^−1/2) noise at leading order and leaves out O(1/d) terms (the drift's
O(1/d) corrections, the higher cumulants of SGD's steps), so the escape-time laws should
approach each other as d grows. Their KS distance is visible only where it exceeds the
samples' own KS noise (typically ``0.87·√((n+m)/(nm))``, 5 % critical value
``1.36·√((n+m)/(nm))``: 0.024 and 0.037 for 2000 SGD seeds against 4000 SDE paths), hence
small d and many runs. A more sensitive measure of the same systematic gap is the
difference of the medians, with its bootstrap standard error. Below d ≈ 20 a few per cent
of the SDE's paths leave the Gram-matrix set (by more than the projection accepts); they
count as never escaping in the KS distance and are left out of the quartiles and medians.

Per d the script prints: n SGD seeds and m SDE paths, KS(SDE, SGD) with its 5 % critical
value and the typical KS of two samples of those sizes of one law, KS(SGD, SGD) between
the seeds' two halves (the measured noise floor) and its critical value, the quartiles of
both, and the gap of the medians (SDE − SGD) ± its standard error. Then the exponent of a
least-squares fit ``log KS = a + β log d`` with a bootstrap standard error (runs resampled
with replacement, 200 resamples; above d ≈ 24 KS is at the noise, so this β is flattened),
and a weighted fit ``gap = c·(d/16)^β``. A figure of both against d, with the critical band,
goes to ``--out``/ks_vs_d.png, the escape times to ``--out``/escape_times.npz (``--load``
builds table, fits and figure again from such files, without measuring).

    .venv/bin/python examples/sde_escape_vs_d.py [--ds 12 32 128] [--seeds 4000]
        [--paths 4000] [--first-seed 0] [--dt DT] [--samples 8] [--out DIR] [--quick]
        [--load FILE.npz ...]

Every number is deterministic (SGD seeds first…first+n−1, SDE seeds
``first·10⁶ + 1000·d + chunk``, the same with any thread count), so a subset of ds gives
the same rows as the full run and ``--first-seed`` an independent replicate. Wall time on
the 2 cores of the development machine: 226 s with the defaults when they were otherwise
idle (per d the SDE's 4000 paths 32–43 s, SGD's 4000 seeds 22–52 s), about twice that while
shared with other jobs; the eight d of the guide's table (docs/guide/sde.md) take 10–20
minutes; ``--quick`` (d = 12 and 128,
300 seeds, 600 paths) under a minute, too few runs to resolve the gap.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from scipy.optimize import curve_fit
from scipy.stats import ks_2samp
from tqdm import tqdm

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.errors import SDEStepError
from overlapdyn.ode import integrate_sde
from overlapdyn.scaling.escape import escape_time
from overlapdyn.sgd import simulate

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--ds", type=int, nargs="+", default=[12, 32, 128])
parser.add_argument("--seeds", type=int, default=4000, help="SGD seeds per d")
parser.add_argument("--paths", type=int, default=4000, help="SDE paths per d")
parser.add_argument("--first-seed", type=int, default=0,
                    help="SGD seeds first…first+n−1, SDE seeds first·10⁶ + 1000·d + chunk")
parser.add_argument("--chunk", type=int, default=500, help="SDE paths per call (progress)")
parser.add_argument("--t-max", type=float, default=250.0)
parser.add_argument("--threshold", type=float, default=0.9)
parser.add_argument("--samples", type=int, default=8, help="the sampled noise's m")
parser.add_argument("--noise", default="sampled", choices=("sampled", "cubature"))
parser.add_argument("--dt", type=float, default=None, help="the SDE's step (default its own)")
parser.add_argument("--bootstrap", type=int, default=200)
parser.add_argument("--out", default="outputs/sde-escape-vs-d")
parser.add_argument("--quick", action="store_true", help="d = 12, 128; 300 seeds, 600 paths")
parser.add_argument("--load", nargs="+", default=None,
                    help="escape_times.npz of earlier runs: table, fit and figure only")
args = parser.parse_args()
if args.quick:
    args.ds, args.seeds, args.paths, args.chunk = [12, 128], 300, 600, 300
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)

model = Model(Target(k=2, activation="erf", c_k=1.0), Student(p=2, activation="erf", c_p=1.0),
              Protocol(eta=1.0, n_b=1, loss="mse"), name="Saad–Solla erf K = M = 2, η = 1")
start = (np.zeros((2, 2)), 0.25 * np.eye(2))


def sde_escapes(d: int) -> tuple[np.ndarray, int, float]:
    """Escape times of ``args.paths`` SDE paths at d (chunked for the progress bar), the
    number of paths that failed (left the Gram-matrix set; kept as never escaping), dt."""
    times, failed, dt = [], 0, float("nan")
    chunks = range(0, args.paths, args.chunk)
    for first in tqdm(chunks, desc=f"SDE d = {d}", unit="chunk", leave=False):
        size = min(args.chunk, args.paths - first)
        try:
            seed = args.first_seed * 10**6 + 1000 * d + first // args.chunk
            run = integrate_sde(model, args.t_max, d=d, paths=size, init=start, seed=seed,
                                threshold=args.threshold,
                                stop_at_escape=True, n_saves=2, samples=args.samples,
                                noise=args.noise, dt=args.dt)
        except SDEStepError as error:   # a path left the Gram-matrix set: count it
            run = error.trajectory
        failed += int((run.failed_at >= 0).sum())
        escaped = np.where(run.failed_at >= 0, np.nan, run.escape_times)
        times.append(escaped)
        dt = run.dt
    return np.concatenate(times), failed, dt


def sgd_escapes(d: int) -> np.ndarray:
    """Escape times of ``args.seeds`` SGD runs at d, saved every max(1/d, 0.05) of time and
    interpolated linearly between the saves (escape_time)."""
    grid = np.arange(0.0, args.t_max + 1e-9, max(1.0 / d, 0.05))
    times = []
    # batches of 1000 seeds keep the saved overlaps' memory down (each seed's run is its own)
    for first in range(args.first_seed, args.first_seed + args.seeds, 1000):
        seeds = list(range(first, min(first + 1000, args.first_seed + args.seeds)))
        runs = simulate(model, d, grid, seeds=seeds, init=start,
                        stop_overlap=args.threshold, progress=True)
        times += [escape_time(tr, args.threshold) for tr in runs.trajectories]
    return np.array(times)


def ks(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample KS distance, runs that never escaped counted as escaping at +∞."""
    a, b = (np.where(np.isfinite(x), x, np.inf) for x in (a, b))
    return float(ks_2samp(a, b).statistic)


def critical(n: int, m: int, c: float = 1.358) -> float:
    """The KS distance of two samples of one law exceeded with probability 5 % (c = 1.358;
    c = 0.87 gives its median), asymptotic."""
    return c * np.sqrt((n + m) / (n * m))


def median_gap(sde: np.ndarray, sgd: np.ndarray, draws: int = 400) -> tuple[float, float]:
    """The SDE's median escape time minus SGD's, and its bootstrap standard error."""
    rng = np.random.default_rng(1)
    gaps = [np.nanmedian(rng.choice(sde, sde.size)) - np.nanmedian(rng.choice(sgd, sgd.size))
            for _ in range(draws)]
    return float(np.nanmedian(sde) - np.nanmedian(sgd)), float(np.std(gaps, ddof=1))


def exponent(ds, values) -> float:
    """β of the least-squares fit log KS = a + β log d."""
    return float(np.polyfit(np.log(ds), np.log(values), 1)[0])


def summary(d: int, sde: np.ndarray, sgd: np.ndarray, failed: int) -> dict:
    """One row of the table: sizes, KS distances and their references, quartiles, gap."""
    half = sgd.size // 2
    return dict(d=d, n=sgd.size, m=sde.size, failed=failed, ks=ks(sde, sgd),
                crit=critical(sgd.size, sde.size), typical=critical(sgd.size, sde.size, 0.87),
                floor=ks(sgd[:half], sgd[half:]), floor_crit=critical(half, sgd.size - half),
                q_sde=np.nanquantile(sde, [0.25, 0.5, 0.75]),
                q_sgd=np.nanquantile(sgd, [0.25, 0.5, 0.75]), gap=median_gap(sde, sgd))


kept: dict[str, np.ndarray] = {}
if args.load:   # the escape times of earlier runs: no new measurement
    for name in args.load:
        with np.load(name) as saved:
            kept.update({key: saved[key] for key in saved.files})
else:
    for d in args.ds:
        began = time.perf_counter()
        sde, failed, dt = sde_escapes(d)
        sde_wall = time.perf_counter() - began
        began = time.perf_counter()
        sgd = sgd_escapes(d)
        sgd_wall = time.perf_counter() - began
        kept.update({f"sde_{d}": sde, f"sgd_{d}": sgd, f"failed_{d}": np.array(failed),
                     f"dt_{d}": np.array(dt)})
        np.savez(out / "escape_times.npz", **kept)
        print(f"d = {d}: KS {ks(sde, sgd):.4f}; SDE {sde_wall:.0f} s (dt = {dt:.3g}, {failed} "
              f"path(s) left the Gram-matrix set), SGD {sgd_wall:.0f} s", flush=True)

ds_run = sorted(int(key[4:]) for key in kept if key.startswith("sde_"))
rows = [summary(d, kept[f"sde_{d}"], kept[f"sgd_{d}"], int(kept[f"failed_{d}"]))
        for d in ds_run]
print(f"\n{model.name}, from M₀ = 0, Q₀ = I/4, escape at cosine {args.threshold:g}; SDE: "
      f"{args.noise} noise" + (f", m = {args.samples}" if args.noise == "sampled" else ""))
print("| d | SGD seeds | SDE paths (failed) | KS(SDE, SGD) | 5 % crit. | typical | "
      "KS(SGD, SGD halves) | its 5 % crit. | SDE quartiles of t | SGD quartiles of t | "
      "median gap SDE − SGD |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['d']} | {r['n']} | {r['m']} ({r['failed']}) | {r['ks']:.4f} | {r['crit']:.4f} | "
          f"{r['typical']:.4f} | {r['floor']:.4f} | {r['floor_crit']:.4f} | "
          + " / ".join(f"{q:.1f}" for q in r["q_sde"]) + " | "
          + " / ".join(f"{q:.1f}" for q in r["q_sgd"])
          + f" | {r['gap'][0]:+.2f} ± {r['gap'][1]:.2f} |")

ds = np.array(ds_run, float)
distances = np.array([r["ks"] for r in rows])
if len(ds) > 1:
    rng = np.random.default_rng(0)
    draws = []
    for _ in tqdm(range(args.bootstrap), desc="bootstrap", leave=False):
        resampled = [ks(*(rng.choice(kept[f"{side}_{d}"], kept[f"{side}_{d}"].size)
                          for side in ("sde", "sgd"))) for d in ds_run]
        draws.append(exponent(ds, resampled))
    print(f"\nfit KS ∝ d^β over d = {ds_run}: β = {exponent(ds, distances):.2f} ± "
          f"{np.std(draws, ddof=1):.2f} (bootstrap standard error, {args.bootstrap} resamples)")

fitted = None   # the median gap's power law, once three d or more pin it
gaps = np.array([r["gap"] for r in rows])
if len(ds) > 2:
    fitted, covariance = curve_fit(lambda d, c, beta: c * (d / 16.0) ** beta, ds,
                                   gaps[:, 0], p0=(-1.0, -1.0), sigma=gaps[:, 1],
                                   absolute_sigma=True)
    errors = np.sqrt(np.diag(covariance))
    scaled = gaps[:, 0] * ds
    print(f"fit median gap = c·(d/16)^β (weighted by its standard errors): c = "
          f"{fitted[0]:.2f} ± {errors[0]:.2f}, β = {fitted[1]:.2f} ± {errors[1]:.2f}; "
          "d × gap = " + ", ".join(f"{g:.0f}" for g in scaled)
          + f"; mean d × gap {np.average(scaled, weights=(ds * gaps[:, 1]) ** -2.0):.1f} ± "
          f"{np.sum((ds * gaps[:, 1]) ** -2.0) ** -0.5:.1f}")

import matplotlib  # noqa: E402  (only for the figure)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.fill_between(ds, 1e-3, [r["crit"] for r in rows], color="0.85",
                  label="5 % critical value, SDE vs SGD")
left.plot(ds, [r["typical"] for r in rows], ":", color="0.4", label="typical KS of one law")
left.plot(ds, [r["floor_crit"] for r in rows], "--", color="0.6",
          label="5 % critical value, SGD halves")
left.plot(ds, distances, "o-", label="KS(SDE, SGD)")
left.plot(ds, [r["floor"] for r in rows], "s--", label="KS(SGD, SGD halves)")
left.set(xscale="log", yscale="log", xlabel="d", ylabel="KS distance of escape times",
         ylim=(0.01, None))
left.legend(fontsize=8, loc="upper right")
right.axhline(0.0, color="0.5", lw=0.8)
right.errorbar(ds, gaps[:, 0], yerr=gaps[:, 1], fmt="o", capsize=3, label="measured")
if fitted is not None:
    right.plot(ds, fitted[0] * (ds / 16.0) ** fitted[1], "--",
               label=f"fit {fitted[0]:.2f}·(d/16)^{fitted[1]:.2f}")
    right.legend(fontsize=8)
right.set(xscale="log", xlabel="d", ylabel="median escape time, SDE − SGD (± 1 s.e.)")
for axes in (left, right):
    axes.set_xticks(ds, [str(int(d)) for d in ds])
    axes.xaxis.set_minor_formatter(NullFormatter())
figure.suptitle(f"{model.name}: escape at cosine {args.threshold:g}")
figure.tight_layout()
figure.savefig(out / "ks_vs_d.png", dpi=120)
print(f"figure: {out / 'ks_vs_d.png'}" + ("" if args.load else
                                            f"; escape times: {out / 'escape_times.npz'}"))
