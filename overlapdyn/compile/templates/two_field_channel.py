r"""Template: the output Fisher information of a two-field channel, label by label.

For the channel ``P(y | z) = N(y; g(z), Δ)`` of two fields and a Gaussian estimate of them,
``z ~ N(ω, V)`` with ``V`` diagonal (the state evolution works in the eigenbasis of its
overlap matrix Q, :mod:`overlapdyn.limits.bayes_multi`), ``fisher_sums`` fills, for each
label ``y_m = y0 + m·hy`` of a uniform grid, ``out[m] = (S11, S12, S22)`` with

    S_m = Σ_{a,b} w1_a w2_b ∇Z ∇Zᵀ / Z,     Z(y, ω) = Σ_{ij} P1[i, a] P2[j, b] K(y − g_ij),

``∇ = (∂_ω1, ∂_ω2)``, ``K(t) = e^{−t²/(2Δ)}``: ``Z`` is ``∫ P(y | z) N(z; ω, V) dz`` by the
trapezoid rule on a uniform z grid (up to the factor ``1/√(2πΔ)``, which the caller applies
with the label spacing), at the nodes ``ω = (ω1_a, ω2_b)`` of the outer rule, weights
``w1_a w2_b``. The caller gives the Gaussian factors ``P_r[i, a] = h N(z_i; ω_ra, v_r)`` (grid
point, node; zero where negligible) and their ω-derivatives ``D_r = P_r (z_i − ω_ra)/v_r``;
the grid points in order of their link value (``gs`` sorted, with their grid indices ``ii``,
``jj``); for each grid point i the nodes ``a_lo[i] ≤ a < a_hi[i]`` where ``P1[i, a]`` may be
non-zero (``c_lo``, ``c_hi`` the same for ``P2``); and for each node ``a`` the nodes
``b_lo[a] ≤ b < b_hi[a]`` paired with it (the caller leaves out pairs of negligible weight).

The structure that makes it cheap: K is cut at ``e^CUT``, so the grid points that weigh on
``y_m`` are the run of ``gs`` within ``√(2|CUT|Δ)`` of it (two binary searches); their kernel
values are summed into ``A[j, a] = Σ_i P1[i, a] K`` (and the derivative's ``B``) column by
column, and ``Z`` and its gradient at the node pairs are then outer products summed over the
columns touched, each over the nodes where the factors are not zero. Each label is
independent: the loop over them runs in threads (``prange``), each writing its own row of
``out``, so the result does not depend on the thread count.
"""

import math

import numpy as np
from numba import njit, prange

from generated import SGD_PARALLEL

# ------------------------------------------------------------------------ rendered from here
CUT = -30.0   # label-noise weights below e^CUT ≈ 1e-13 of the largest are left out


@njit(**SGD_PARALLEL)
def fisher_sums(gs, ii, jj, y0, hy, noise, P1, D1, P2, D2, w1, w2, a_lo, a_hi, b_lo, b_hi,
                c_lo, c_hi, out):
    n = P2.shape[0]
    nodes1 = P1.shape[1]
    nodes2 = P2.shape[1]
    reach = math.sqrt(-2.0 * CUT * noise)
    half_precision = 0.5 / noise
    for m in prange(out.shape[0]):
        y = y0 + m * hy
        lo = np.searchsorted(gs, y - reach)
        hi = np.searchsorted(gs, y + reach)
        s11 = 0.0
        s12 = 0.0
        s22 = 0.0
        if hi > lo:
            # A[j, a] = Σ_i P1[i, a] K(y − g_ij), B the same with D1: column sums
            A = np.zeros((n, nodes1))
            B = np.zeros((n, nodes1))
            first = n
            last = -1
            for p in range(lo, hi):
                t = y - gs[p]
                kernel = math.exp(-half_precision * t * t)
                i = ii[p]
                j = jj[p]
                first = min(first, j)
                last = max(last, j)
                for a in range(a_lo[i], a_hi[i]):
                    A[j, a] += P1[i, a] * kernel
                    B[j, a] += D1[i, a] * kernel
            # Z, ∂_ω1 Z, ∂_ω2 Z at every node pair: outer products summed over the columns
            Z = np.zeros((nodes1, nodes2))
            Z1 = np.zeros((nodes1, nodes2))
            Z2 = np.zeros((nodes1, nodes2))
            for j in range(first, last + 1):
                for a in range(0, nodes1):
                    alpha = A[j, a]
                    beta = B[j, a]
                    if alpha == 0.0 and beta == 0.0:
                        continue
                    for b in range(max(b_lo[a], c_lo[j]), min(b_hi[a], c_hi[j])):
                        Z[a, b] += alpha * P2[j, b]
                        Z1[a, b] += beta * P2[j, b]
                        Z2[a, b] += alpha * D2[j, b]
            for a in range(nodes1):
                for b in range(b_lo[a], b_hi[a]):
                    z = Z[a, b]
                    if z > 1e-300:   # a label the estimate cannot produce weighs nothing
                        weight = w1[a] * w2[b] / z
                        s11 += weight * Z1[a, b] * Z1[a, b]
                        s12 += weight * Z1[a, b] * Z2[a, b]
                        s22 += weight * Z2[a, b] * Z2[a, b]
        out[m, 0] = s11
        out[m, 1] = s12
        out[m, 2] = s22
