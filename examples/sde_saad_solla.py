"""The Saad–Solla plateau at finite d: escape times of the overlap SDE against SGD.

Soft committee machine of Saad & Solla (1995): teacher and student erf committees with
K = M = 2 (``erf`` is ``erf(x/√2)``, SPEC), unit readouts ``c_k = c_p = 1`` (their scaling),
mse, plain one-pass SGD with n_b = 1, η = 1 (inside their stable range), no label noise.
Start: M₀ = 0, Q₀ = ¼·I — every student neuron has the same overlaps (the permutation-
symmetric subspace), so the ODE goes to the symmetric plateau (M_jr ≈ 0.43 for all j, r,
cosine ≈ 0.6) and stays there for ever, while SGD at finite d breaks the symmetry by its
own noise and specialises. The escape is the first time the largest cosine
``|M_jr|/√(Q_jj P_rr)`` reaches 0.9 (above the plateau's, below the specialised 1).

At each d: SDE paths (sampled noise, the default) against SGD seeds from the same overlaps
(:func:`~overlapdyn.sgd.simulate` draws weights with them): KS distance, p-value, quartiles.

    .venv/bin/python examples/sde_saad_solla.py [--ds 250 1000 4000] [--paths 2000]
        [--seeds 400 200 144] [--t-max 250] [--save saad_solla_escape.npz]

SGD dominates the cost: one seed at d = 4000 to its escape (≈ 4·10⁵ steps) takes about
20 s of one core; the SDE's 2000 paths per d take two to four minutes (2 shared cores).
"""

import argparse
import time

import numpy as np

from overlapdyn import Model, Protocol, Student, Target
from overlapdyn.compile.compiled import CompiledModel
from overlapdyn.ode import SaveAt, find_fixed_point, integrate, integrate_sde
from overlapdyn.scaling import compare_escape_times, predict_scaling
from overlapdyn.scaling.escape import EscapeTimes, escape_time
from overlapdyn.sgd import simulate

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--ds", type=int, nargs="+", default=[250, 1000, 4000])
parser.add_argument("--paths", type=int, default=2000)
parser.add_argument("--seeds", type=int, nargs="+", default=[400, 200, 144],
                    help="SGD seeds per d (one number: the same at every d)")
parser.add_argument("--eta", type=float, default=1.0)
parser.add_argument("--t-max", type=float, default=250.0)
parser.add_argument("--threshold", type=float, default=0.9)
parser.add_argument("--samples", type=int, default=8, help="the sampled noise's m")
parser.add_argument("--save", default=None, help="keep the escape times in this .npz")
args = parser.parse_args()
seeds = args.seeds * len(args.ds) if len(args.seeds) == 1 else args.seeds

model = Model(Target(k=2, activation="erf", c_k=1.0), Student(p=2, activation="erf", c_p=1.0),
              Protocol(eta=args.eta, n_b=1, loss="mse"),
              name=f"Saad–Solla erf K = M = 2, c_p = 1, η = {args.eta:g}")
start = (np.zeros((2, 2)), 0.25 * np.eye(2))

ode = integrate(model, start, SaveAt(args.t_max, n_points=6))
cosine = np.abs(ode.M) / np.sqrt(np.diagonal(ode.Q, axis1=1, axis2=2))[:, :, None]
print(f"{model.name}; ODE from M0 = 0, Q0 = I/4: M(t) = "
      f"{np.array2string(ode.M[:, 0, 0], precision=3)}, largest cosine "
      f"{np.array2string(cosine.max(axis=(1, 2)), precision=3)} at t = "
      f"{np.array2string(ode.t, precision=3)} (the symmetric plateau: it never escapes)")

# the plateau's unstable rate λ: an escape driven by O(d^-1/2) noise takes ≈ ln(d)/(2λ) + c,
# so the median escape time should move by ln(4)/(2λ) per factor 4 in d
plateau = find_fixed_point(CompiledModel(model), ode.M[-1], ode.Q[-1])
rate = float(np.max(np.real(plateau.eigenvalues)))
print(f"plateau: M_jr = {plateau.M[0, 0]:.4f}, Q = {plateau.Q[0, 0]:.4f}/{plateau.Q[0, 1]:.4f}, "
      f"risk {plateau.risk:.4f}; unstable rate λ = {rate:.4f}: the median escape time "
      f"should grow by ln 4/(2λ) = {np.log(4) / (2 * rate):.2f} per factor 4 in d")

kept = {}
prediction = predict_scaling(model)
for d, n_seeds in zip(args.ds, seeds, strict=True):
    began = time.perf_counter()
    paths = integrate_sde(model, args.t_max, d=d, paths=args.paths, init=start, seed=d,
                          threshold=args.threshold, stop_at_escape=True, n_saves=2,
                          samples=args.samples)
    sde_wall = time.perf_counter() - began
    began = time.perf_counter()
    runs = simulate(model, d, np.linspace(0.0, args.t_max, int(4 * args.t_max) + 1),
                    seeds=n_seeds, init=start, stop_overlap=args.threshold)
    sgd_wall = time.perf_counter() - began
    sgd = np.array([escape_time(tr, args.threshold) for tr in runs.trajectories])
    escapes = [EscapeTimes(route, model, (d,), (args.eta,), times[None, :], args.threshold,
                           prediction) for route, times in
               (("sde", paths.escape_times), ("simulation", sgd))]
    comparison = compare_escape_times(*escapes)
    print(f"\nd = {d}: {args.paths} SDE paths ({sde_wall:.0f} s, dt = {paths.dt:.3g}, "
          f"m = {args.samples}), {n_seeds} SGD seeds ({sgd_wall:.0f} s); escaped: SDE "
          f"{paths.escaped:.3f}, SGD {np.isfinite(sgd).mean():.3f}")
    print(comparison.describe())
    kept[f"sde_{d}"], kept[f"sgd_{d}"] = paths.escape_times, sgd
    if args.save:
        np.savez(args.save, **kept)
