"""Stage-1 overlap theory against the simulator: M_W per step at d = 64, 256, 1024.

SIGHT target with ε = 1/2, P3 = (He2 + He3)/√8, g* = tanh(3·); fresh batches B = α d^(1+ε),
η = η̄ √(d^ε) (the limit in which the map of overlapdyn.depth.first_layer holds). Prints the table of
the README and writes outputs/stage1_validation.png.

    python examples/stage1_validation.py [--ds 64 256 1024] [--seeds 4]
"""

import argparse
import time
from pathlib import Path

from overlapdyn.depth.first_layer import validate_stage1
from overlapdyn.plot import plot_stage1, save_figure

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--ds", type=int, nargs="+", default=[64, 256, 1024])
parser.add_argument("--seeds", type=int, default=4)
parser.add_argument("--alpha", type=float, default=4.0)
parser.add_argument("--eta-bar", type=float, default=2.0)
parser.add_argument("--steps", type=int, default=6)
parser.add_argument("--p1", type=int, default=64)
args = parser.parse_args()

started = time.perf_counter()
validation = validate_stage1(args.ds, alpha=args.alpha, eta_bar=args.eta_bar, steps=args.steps,
                             p1=args.p1, seeds=args.seeds, progress=True)
print(validation.describe())
print(f"gap exponent (log gap vs log d): {validation.exponent:.2f}  (ε/2 = 0.25 expected)")
print(f"total {time.perf_counter() - started:.0f} s")
out = Path("outputs")
out.mkdir(exist_ok=True)
save_figure(plot_stage1(validation), out / "stage1_validation.png")
