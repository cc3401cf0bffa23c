"""Veiga et al. 2022's phases (arXiv:2202.00293) on the symmetric ansatz against one-pass SGD.

At κ = 0 (a fixed width p = p₀), one point per phase — δ = 0.5 (perfect learning), δ = 0
(plateau), δ = −0.25 (noise-dominated) — the excess risk E = R − Δ/2 at the paper's time
α_end (t = α_end d^s, s = ``time_exponent(κ, δ)``) from
:class:`~overlapdyn.ode.wide.SymmetricReduction` (every part of the drift, the model of
``PhaseSetup.model``) is compared with finite-d SGD (``overlapdyn.sgd.simulate``) from the
same warm start: M_jr = R₀ for the own teacher, S = 0, Q_d = 1, C_s = R₀², C_d = 0 (passed as
``init=(M, Q)``; a fresh orthogonal part per seed). The noise excess D = E − E_gf subtracts
the reduction's gradient flow E_gf from both. Its exponent against d, s_D, classifies the
point as ``overlapdyn.scaling.phases`` does (s_D < −0.1 perfect, |s_D| ≤ 0.1 plateau,
s_D > 0.1 or an excess above the start noise-dominated).

The setting is the small one of tests/scaling/test_phases.py: erf committee, k = 2,
p₀ = γ₀ = 2, Δ = 10⁻², R₀ = 0.1, mean-field readout c_p = 1/p, c_k = 1/k.

    python examples/veiga_sgd_check.py [--dims 500 1000 2000] [--seeds 8]
        [--alpha-end 100] [--p0 2] [--deltas 0.5 0 -0.25]

``--alpha-end`` takes one value, or one per delta. SGD costs t·d = α d^(1+s) steps of O(p d)
each; at δ = 0.5 (s = 1/2) that is ≈ 1.8·10¹⁰ d·steps per seed at d = 2000, α = 100, the
rest is ≤ 4·10⁸. The script prints the estimate before it runs (the simulator does
≈ 2.5·10⁸ d·steps per second per core at p = 2): about 6 min on 2 cores with the defaults;
``--alpha-end 10 100 100 --dims 500 2000`` takes 40 s (at α = 10 the reduction's own s_D at
δ = −0.25 is 0.095 at these d, "plateau": the noise-dominated growth needs the longer run).
"""

import argparse
import time

import numpy as np

from overlapdyn.ode.integrator import SaveAt
from overlapdyn.ode.wide import SymmetricReduction
from overlapdyn.scaling.phases import PhaseSetup, classify_phase, paper_phase, time_exponent
from overlapdyn.sgd import simulate

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dims", type=int, nargs="+", default=[500, 1000, 2000])
parser.add_argument("--seeds", type=int, default=8)
parser.add_argument("--alpha-end", type=float, nargs="+", default=[100.0],
                    help="α_end, one for all deltas or one per delta")
parser.add_argument("--p0", type=float, default=2.0, help="p₀ = γ₀ (κ = 0: p = p₀)")
parser.add_argument("--deltas", type=float, nargs="+", default=[0.5, 0.0, -0.25])
parser.add_argument("--start", type=float, default=0.1, help="R₀ of the start")
args = parser.parse_args()

KAPPA = 0.0
if len(args.alpha_end) not in (1, len(args.deltas)):
    parser.error(f"--alpha-end takes one value or one per delta ({len(args.deltas)})")
alphas = dict(zip(args.deltas, np.broadcast_to(args.alpha_end, len(args.deltas)),
                  strict=True))
# the model of each point (its α_end is per delta: `alphas`)
setup = PhaseSetup(k=2, p0=args.p0, gamma0=args.p0, noise=1e-2, dims=tuple(args.dims),
                   start=args.start)
R0, k = setup.start, setup.k
RATE = 2.5e8        # the simulator's d·steps per second per core at p = 2 (measured)


def warm_start(p: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, Q) of the symmetric start: student j belongs to teacher j // (p/k)."""
    own = np.repeat(np.arange(k), p // k)[:, None] == np.arange(k)[None, :]
    same = own @ own.T
    return R0 * own.astype(float), np.where(same, R0 ** 2, 0.0) + (1 - R0 ** 2) * np.eye(p)


def reduction_excess(delta: float, d: int, terms: str) -> tuple[float, float]:
    """E(0) and E(α_end) of the symmetric ansatz (G = k groups)."""
    model = setup.model(KAPPA, delta, d, terms)
    t_end = alphas[delta] * d ** time_exponent(KAPPA, delta)
    y0 = np.array([R0, 0.0, 1.0, R0 ** 2, 0.0])
    risk = SymmetricReduction(model, groups=k).integrate(y0, SaveAt(t_end, 2, log=False),
                                                         closure=False).risk
    return float(risk[0] - setup.noise / 2), float(risk[-1] - setup.noise / 2)


def phase_of(dims, excess, gradient, initial) -> tuple[float, str]:
    """The library's rule (classify_phase); SGD's D can be ≤ 0 within its noise, which
    leaves no exponent: "unresolved" unless nothing was learned."""
    if np.any(np.asarray(excess) - np.asarray(gradient) <= 0):
        return float("nan"), "unresolved" if excess[-1] < initial else "noise"
    return classify_phase(dims, excess, gradient, initial, setup)

plan = []
for delta in args.deltas:
    for d in args.dims:
        t_end = alphas[delta] * d ** time_exponent(KAPPA, delta)
        steps = int(round(t_end * d))
        plan.append((delta, d, t_end, steps, steps * d * setup.width(KAPPA, d) / setup.p0))
cost = sum(row[-1] for row in plan) * args.seeds / RATE / 2
print(f"SGD cost estimate: {sum(row[-1] for row in plan) * args.seeds:.3g} d·steps·(p/p₀) "
      f"≈ {cost:.0f} s on 2 cores")

start = time.perf_counter()
rows = {}
for delta, d, t_end, _, _ in plan:
    model = setup.model(KAPPA, delta, d)
    p = model.p
    initial, excess = reduction_excess(delta, d, "all")
    _, gradient = reduction_excess(delta, d, "gradient-flow")
    tic = time.perf_counter()
    sim = simulate(model, d, np.array([0.0, t_end]), seeds=args.seeds, init=warm_start(p))
    finals = np.array([tr.risk[-1] if len(tr.t) == 2 else np.nan for tr in sim.trajectories])
    sgd = finals - setup.noise / 2
    rows[delta, d] = (p, model.protocol.eta, t_end, sim.steps, initial, excess, gradient,
                      np.nanmean(sgd), np.nanstd(sgd, ddof=1) / np.sqrt(np.sum(np.isfinite(sgd))),
                      int(np.sum(~np.isfinite(sgd))), time.perf_counter() - tic)

print(f"\nk = {k}, p₀ = γ₀ = {args.p0:g}, Δ = {setup.noise:g}, R₀ = {R0:g}, κ = 0, "
      f"{args.seeds} SGD seeds per d")
print(" δ      paper     α_end  d     p   η      t_end     steps    E(0)      E_red     E_gf      "
      "E_SGD ± sem             (E_SGD−E_red)/sem  D_red     D_SGD ± sem")
for (delta, d), (p, eta, t_end, steps, initial, excess, gradient, mean, sem, failed,
                 wall) in rows.items():
    note = f"  ({failed} seeds diverged)" if failed else ""
    print(f"{delta:+5.2f}  {paper_phase(KAPPA, delta):8s} {alphas[delta]:5g} {d:5d} {p:4d} "
          f"{eta:6.3g} {t_end:8.3g} {steps:9d}  {initial:.3e} {excess:.3e} {gradient:.3e} "
          f"{mean:.3e} ± {sem:.1e}  {(mean - excess) / sem:+8.2f}          "
          f"{excess - gradient:.2e}  {mean - gradient:.2e} ± {sem:.1e}   [{wall:.0f} s]{note}")

print("\n δ      paper     s_D red   phase red   s_D SGD   phase SGD   E_SGD trend with d")
for delta in args.deltas:
    got = [rows[delta, d] for d in args.dims]
    initial = got[-1][4]
    s_red, phase_red = phase_of(args.dims, [g[5] for g in got], [g[6] for g in got], initial)
    s_sgd, phase_sgd = phase_of(args.dims, [g[7] for g in got], [g[6] for g in got], initial)
    trend = " → ".join(f"{g[7]:.3e}" for g in got)
    print(f"{delta:+5.2f}  {paper_phase(KAPPA, delta):8s}  {s_red:+7.3f}   {phase_red:9s}  "
          f"{s_sgd:+7.3f}   {phase_sgd:9s}   {trend}")
print(f"\ntotal {time.perf_counter() - start:.0f} s")
