"""The phase diagram of Veiga, Stephan, Loureiro, Krzakala & Zdeborová 2022 (arXiv:2202.00293):
perfect learning / plateau / noise-dominated as functions of the width exponent κ
(p = p₀ d^κ) and the learning-rate exponent δ (γ = γ₀ d^-δ), measured on the symmetric
committee ansatz and compared with the paper's boundaries (κ + δ = 0; −δ = (κ + 1)/2).

The paper's example setting: erf committee target (erf(x/√2)), k = 4, p₀ = 8, γ₀ = p₀,
Δ = 10⁻³, mean-field readout c_p = 1/p, batch 1; each point integrated at d = 10³ and 10⁴
to α = 10 on the paper's time scale, with every part of the drift and as gradient flow
(overlapdyn.scaling.phases says how a point is classified: the exponent s_D of the noise
excess D = E − E_gf against d).

Prints the comparison (the fraction of grid points whose phase is the paper's; where they
differ, how far from a boundary) and, per point, s_D against the prediction −(κ + δ) in
the perfect-learning region; writes the figure and the saved result.

    python examples/veiga_phase_diagram.py [--out veiga_phase_diagram] [--figure F.png]
        [--step 0.125] [--dims 1e3 1e4] [--alpha-end 10]

The 9 × 17 grid (step 0.125: 129 points with ODEs, 516 learning curves) takes about 35 s
of one core; the figure of docs/gallery.md is

    python examples/veiga_phase_diagram.py --out /tmp/veiga \
        --figure docs/gallery/veiga_phase_diagram.png
"""

import argparse
import dataclasses

import numpy as np

from overlapdyn.errors import OverlapdynError
from overlapdyn.plot import plot_phase_diagram, save_figure
from overlapdyn.scaling.phases import (
    PHASES,
    PhaseSetup,
    boundary_distance,
    phase_diagram,
    phase_point,
)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default="veiga_phase_diagram", help="file stem of the .npz")
parser.add_argument("--figure", default=None, help="the PNG (default: OUT.png)")
parser.add_argument("--step", type=float, default=0.125, help="grid step in κ and δ")
parser.add_argument("--dims", type=float, nargs="+", default=[1e3, 1e4])
parser.add_argument("--alpha-end", type=float, default=10.0)
parser.add_argument("--start", type=float, default=0.1, help="R₀ of the start")
args = parser.parse_args()

kappas = np.arange(0.0, 1.0 + 1e-9, args.step)
deltas = np.arange(-1.0, 1.0 + 1e-9, args.step)
setup = PhaseSetup(dims=tuple(args.dims), alpha_end=args.alpha_end, start=args.start)
diagram = phase_diagram(kappas, deltas, setup, progress=True)
diagram.save(f"{args.out}.npz")
figure = args.figure or f"{args.out}.png"
save_figure(plot_phase_diagram(diagram), figure)
print(diagram.describe())

print("\n  κ      δ     paper     measured   s_D       −(κ+δ)   distance to a boundary")
for i, kappa in enumerate(diagram.kappas):
    for j, delta in enumerate(diagram.deltas):
        paper, measured = PHASES[diagram.predicted[i, j]], PHASES[diagram.phase[i, j]]
        if paper == "no-ode":
            print(f"{kappa:5.2f}  {delta:+5.2f}  {paper:8s}  (not integrated)")
            continue
        mark = "" if paper == measured else "   <-- differs"
        print(f"{kappa:5.2f}  {delta:+5.2f}  {paper:8s}  {measured:9s}  "
              f"{diagram.slope[i, j]:+7.3f}  {-(kappa + delta):+7.3f}  "
              f"{boundary_distance(kappa, delta):6.3f}{mark}")

perfect = (diagram.predicted == PHASES.index("perfect")) & np.isfinite(diagram.slope)
exponent_gap = np.abs(diagram.slope + diagram.kappas[:, None] + diagram.deltas[None, :])
print(f"\nagreement with the paper: {100 * diagram.agreement:.1f} % of "
      f"{int(diagram.integrated.sum())} points with ODEs")
print(f"perfect-learning points: s_D = −(κ + δ) to {exponent_gap[perfect].max():.3g} at worst "
      f"(median {np.median(exponent_gap[perfect]):.2g}) over {int(perfect.sum())} points")
for kappa, delta, measured, paper, slope, distance in diagram.disagreements():
    print(f"differs: κ = {kappa:g}, δ = {delta:g}: measured {measured}, paper {paper}, "
          f"s_D = {slope:+.3f}, {distance:.3f} from a boundary")
# each differing point again at ten times the dimensions (where p = p₀ d^κ allows)
larger = dataclasses.replace(setup, dims=tuple(10 * d for d in setup.dims))
for kappa, delta, *_ in diagram.disagreements():
    try:
        point = phase_point(kappa, delta, larger)
    except OverlapdynError as error:   # e.g. p = p₀ d^κ above the largest width
        print(f"κ = {kappa:g}, δ = {delta:g} at d = {larger.dims}: {error}")
        continue
    print(f"κ = {kappa:g}, δ = {delta:g} at d = {', '.join(f'{d:g}' for d in larger.dims)}: "
          f"measured {point.phase} (paper {point.predicted}), s_D = {point.slope:+.3f}")
print(f"wrote {args.out}.npz and {figure}")
