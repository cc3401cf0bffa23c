"""The overlap SDE against finite-d SGD: noise-driven escapes and the spread around the ODE.

One He2 neuron learning a He2 single-index target (mse, n_b = 1, η = 0.1, plain SGD):

1. escape times (cosine ½) from the SPEC's random start, SDE paths against SGD seeds, at
   each d: KS distance, medians and quartiles (``compare_escape_times``);
2. from the symmetric start M₀ = 0 (Q₀ = 1) — where the ODE never moves — the same at one d;
3. a learning curve from M₀ = 0.3: d·Var M(t) over SDE paths and over SGD seeds (both should
   be the same d-independent curve: the spread around the ODE is O(1/d));
4. the He2 committee of the validation table (p = k = 2, spherical, correlation loss,
   n_b = 8, η = 0.2) from a random start, which the ODE route cannot validate: the
   ``validate(..., route="sde")`` report at one d;
5. the two noise schemes against each other: escape times from M₀ = 0 and the mean and
   d·Var of M along the learning curve, sampled (m = 8 and 2) against cubature, at each d.

    .venv/bin/python examples/sde_escape.py [--ds 250 1000 4000] [--paths 1000] [--seeds 200]
        [--parts 1 2 3 4] [--noise sampled|cubature] [--figure sde_escape.png]

Part 1 is SGD's cost: 200 seeds at d = 4000 to their escape take most of an hour on a
loaded 2-core machine (the SDE: 13 s for all three d).
"""

import argparse
import time

import numpy as np

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.ode import SaveAt, integrate, integrate_sde
from overlapdyn.scaling import compare_escape_times, measure_escape_sde, predict_scaling
from overlapdyn.scaling.escape import EscapeTimes, escape_time, measure_escape_simulated
from overlapdyn.sgd import simulate

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--ds", type=int, nargs="+", default=[250, 1000, 4000])
parser.add_argument("--paths", type=int, default=1000)
parser.add_argument("--seeds", type=int, default=200)
parser.add_argument("--t-max", type=float, default=40.0)
parser.add_argument("--parts", type=int, nargs="+", default=[1, 2, 3, 4, 5])
parser.add_argument("--committee-d", type=int, default=1000)
parser.add_argument("--committee-paths", type=int, default=200)
parser.add_argument("--noise", default="sampled", choices=["sampled", "cubature"],
                    help="the SDE's noise (the numbers in docs/guide/sde.md: cubature)")
parser.add_argument("--figure", default=None, help="save the escape ECDFs and bands here")
args = parser.parse_args()

model = Model(Target(k=1, activation="He2"), Student(p=1, activation="He2"),
              Protocol(eta=0.1, n_b=1, loss="mse"), name="He2 neuron, mse, η = 0.1")

if 1 in args.parts:
    print("1. escape from the random start")
    started = time.perf_counter()
    sde = measure_escape_sde(model, args.ds, paths=args.paths, seed=0, t_max=args.t_max,
                             noise=args.noise)
    sde_wall = time.perf_counter() - started
    started = time.perf_counter()
    sim = measure_escape_simulated(model, args.ds, seeds=args.seeds, t_max=args.t_max,
                                   n_saves=400)
    sim_wall = time.perf_counter() - started
    print(compare_escape_times(sde, sim).describe())
    print(f"escaped: SDE {np.round(sde.escaped, 3)}, SGD {np.round(sim.escaped, 3)}; wall "
          f"time SDE {sde_wall:.1f} s ({args.paths} paths per d), SGD {sim_wall:.1f} s "
          f"({args.seeds} seeds per d)")


def symmetric_start():
    print("\n2. escape from the symmetric start M0 = 0, Q0 = 1")
    d0 = args.ds[min(1, len(args.ds) - 1)]
    zero = ([[0.0]], [[1.0]])
    ode = integrate(model, zero, SaveAt(args.t_max, n_points=5))
    print(f"ODE: M(t_max) = {ode.M[-1, 0, 0]:g} (it never leaves)")
    paths = integrate_sde(model, args.t_max, d=d0, paths=args.paths, init=zero, seed=1,
                          stop_at_escape=True, n_saves=2, noise=args.noise)
    runs = simulate(model, d0, np.geomspace(1 / d0, args.t_max, 400), seeds=args.seeds,
                    init=zero, stop_overlap=0.5)
    sgd_times = np.array([escape_time(tr, 0.5) for tr in runs.trajectories])
    as_escape = [EscapeTimes(route, model, (d0,), (model.protocol.eta,), times[None, :], 0.5,
                             predict_scaling(model)) for route, times in
                 (("sde", paths.escape_times), ("simulation", sgd_times))]
    print(compare_escape_times(*as_escape).describe())


def learning_curve():
    """Returns the SDE paths per d (for the figure)."""
    print("\n3. d·Var M(t) along a learning curve from M0 = 0.3 (SDE / SGD)")
    start = (np.array([[0.3]]), np.array([[1.0]]))
    times = np.linspace(0.0, 10.0, 6)
    header = "".join(f"{f't = {t:g}':>16}" for t in times[1:])
    print(f"{'d':>6}{header}")
    bands = {}
    for d in args.ds:
        sde_paths = integrate_sde(model, times[-1], d=d, paths=args.paths, init=start, seed=2,
                                  n_saves=times.size, noise=args.noise)
        sgd = simulate(model, d, times, seeds=args.seeds, init=start).stack("M")[:, :, 0, 0]
        ratio = d * sde_paths.variance("M")[1:, 0, 0], d * sgd[:, 1:].var(axis=0, ddof=1)
        print(f"{d:>6}" + "".join(f"{a:>8.3f}/{b:<7.3f}" for a, b in zip(*ratio, strict=True)))
        bands[d] = sde_paths
    return bands


def committee():
    print("\n4. the He2 committee p = k = 2 from a random start: validate(route='sde')")
    from overlapdyn import validate

    model = Model(Target(k=2, activation="He2"), Student(p=2, activation="He2"),
                  Protocol(eta=0.2, n_b=8, loss="correlation", spherical=True),
                  name="He2 committee p = k = 2, spherical, correlation, n_b = 8")
    started = time.perf_counter()
    report = validate(model, [args.committee_d], np.linspace(0.0, 30.0, 16), seeds=64,
                      paths=args.committee_paths, route="sde", noise=args.noise)
    print(report.describe())
    print(f"({time.perf_counter() - started:.0f} s)")


def schemes():
    from scipy.stats import ks_2samp

    print("\n5. sampled against cubature noise (escape from M0 = 0; M along the curve)")
    zero, start = ([[0.0]], [[1.0]]), (np.array([[0.3]]), np.array([[1.0]]))
    n = 2 * args.paths
    for d in args.ds:
        late = {}
        for noise, m in (("cubature", 1), ("sampled", 8), ("sampled", 2)):
            run = integrate_sde(model, 60.0, d=d, paths=n, init=zero, seed=11, n_saves=2,
                                stop_at_escape=True, noise=noise, samples=m)
            late[noise, m] = np.where(np.isfinite(run.escape_times), run.escape_times, np.inf)
        for key in (("sampled", 8), ("sampled", 2)):
            test = ks_2samp(late[key], late["cubature", 1])
            print(f"d = {d}, {n} paths each: {key[0]} m = {key[1]} against cubature: KS "
                  f"{test.statistic:.4f} (p = {test.pvalue:.3f}), quartiles "
                  f"{np.quantile(late[key], [0.25, 0.5, 0.75]).round(2)} against "
                  f"{np.quantile(late['cubature', 1], [0.25, 0.5, 0.75]).round(2)}")
        for noise in ("sampled", "cubature"):
            run = integrate_sde(model, 6.0, d=d, paths=n, init=start, seed=12, n_saves=4,
                                noise=noise)
            print(f"   {noise:>8}: mean M(t = 2, 4, 6) {run.mean('M')[1:, 0, 0].round(4)}, "
                  f"d·Var M {(d * run.variance('M')[1:, 0, 0]).round(3)}")


if 2 in args.parts:
    symmetric_start()
bands = learning_curve() if 3 in args.parts else {}
if 4 in args.parts:
    committee()
if 5 in args.parts:
    schemes()

if args.figure and 1 in args.parts and bands:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from overlapdyn.plot import plot_escape_ecdf, plot_sde_bands

    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    plot_escape_ecdf([sde, sim], ax=axes[0])
    plot_sde_bands(bands[args.ds[0]], "cosine", ax=axes[1])
    figure.tight_layout()
    figure.savefig(args.figure, dpi=120)
    print(f"figure: {args.figure}")
