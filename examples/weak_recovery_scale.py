"""Is n* = d·d₁/λ the sample scale of the first layer at every d? M_W against n/n*.

SIGHT target with ε = 1/2, g* = tanh(3·), the normalised P3 and the authors' code variant;
the layer-wise first layer of overlapdyn.depth.training (reused data, 8 spherical steps, η = 5 √d₁,
linear part removed) at n = f·n* for several f and d. M_W starts from its random value
√(d₁/d), so the table also gives the excess overlap ``(M_W² − d₁/d)/(1 − d₁/d)`` (0 at a
random start, 1 on span(W*)), which should depend on f only if n* is the right scale.

    python examples/weak_recovery_scale.py [--ds 64 256 576] [--fractions 0.25 1 4] [--seeds 2]
"""

import argparse
import time

import numpy as np

import overlapdyn as od
from overlapdyn.depth.config import DepthConfig, KappaSweep, Network, Training
from overlapdyn.depth.training import run_instance

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--ds", type=int, nargs="+", default=[64, 256, 576])
parser.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0, 4.0])
parser.add_argument("--seeds", type=int, default=2)
parser.add_argument("--p1", type=int, default=128)
args = parser.parse_args()

print("| P | d | d₁ | n* | κ* | " + " | ".join(f"f = {f:g}" for f in args.fractions) + " |")
print("|---|---|---|---|---|" + "---|" * len(args.fractions))
for inner, normalize in (("P3", True), ("P3-code", False)):
    for d in args.ds:
        started = time.perf_counter()
        target = od.depth.HierarchicalTarget(d=d, inner=inner, normalize=normalize)
        threshold = od.depth.weak_recovery(target)
        config = DepthConfig(target, Network(p1=args.p1, p2=8),
                             Training(steps1=8, eta1=5.0, remove_linear=True),
                             KappaSweep(methods=("three_layer",)))
        floor = target.d_eff / d
        cells = []
        for f in args.fractions:
            excess = []
            for seed in range(args.seeds):
                instance = target.draw(seed)
                x_te, y_te = instance.sample(200, np.random.default_rng([1, seed]))
                run = run_instance(config, instance, int(f * threshold.n),
                                   np.random.default_rng([2, seed]),
                                   (x_te, y_te, instance.h_star(x_te)))
                excess.append((run["M_W"] ** 2 - floor) / (1 - floor))
            cells.append(f"{np.mean(excess):.2f}")
        print(f"| {inner} | {d} | {target.d_eff} | {threshold.n:.0f} | {threshold.kappa:.3f} | "
              + " | ".join(cells) + f" |   ({time.perf_counter() - started:.0f} s)", flush=True)
