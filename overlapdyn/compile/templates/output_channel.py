r"""Template: the Bayes-optimal output function of a single-index channel, sample by sample.

The channel ``P(y | z) = N(y; g(z), Δ)`` is tabulated on the uniform grid ``z_j = z0 + j h``
(``gz[j] = g(z_j)``). For each sample μ, ``output_moments`` takes the posterior of z given the
label ``y_μ`` and the Gaussian estimate ``z ~ N(ω_μ, V_μ)``,
``∝ P(y_μ | z) exp(−(z − ω_μ)²/(2V_μ))``, and fills

* ``gout[μ] = E[z − ω | y, ω, V]/V`` (``= ∂_ω log Z_out``);
* ``dgout[μ] = ∂_ω g_out = Var[z | y, ω, V]/V² − 1/V``.

The sums run over the grid points within ``reach·√V_μ`` of ``ω_μ``, and on outward beyond
them as long as the prior factor alone could still give a weight above ``e^CUT`` of the
largest so far (weights below that are left out). Each sum is kept relative to its largest
exponent so far (log-sum-exp in one pass), so a label that the estimate puts far in the
channel's tail, whose weights would all underflow, still gets its posterior. The samples are
independent: the loop over them runs in threads, and the result does not depend on the
thread count. :mod:`overlapdyn.limits.bayes` calls it for GAMP (:mod:`overlapdyn.limits.gamp`).
"""

import math

from numba import njit

from generated import SGD

# ------------------------------------------------------------------------ rendered from here
CUT = -45.0   # weights below e^CUT ≈ 3e-20 of the largest are left out of the sums


@njit(**SGD)
def _add(exponent, u, top, s0, s1, s2):
    """The sums ``Σ w (1, u, u²)`` relative to ``e^top``, with one more point of weight
    ``e^exponent``: rescaled when it is the largest so far, skipped below ``e^(top + CUT)``."""
    if exponent > top:
        scale = math.exp(top - exponent)
        return exponent, s0 * scale + 1.0, s1 * scale + u, s2 * scale + u * u
    if exponent - top > CUT:
        w = math.exp(exponent - top)
        return top, s0 + w, s1 + w * u, s2 + w * u * u
    return top, s0, s1, s2


@njit(**SGD)
def output_moments(y, omega, V, z0, h, gz, noise, reach, gout, dgout):
    last = gz.shape[0] - 1
    half_precision = 0.5 / noise
    for mu in range(y.shape[0]):
        v = V[mu]
        half = reach * math.sqrt(v)
        prior = 0.5 / v
        # the window of grid points within reach·√V of ω, clipped to the grid
        lo = min(max(int(math.floor((omega[mu] - half - z0) / h)), 0), last)
        hi = max(min(int(math.ceil((omega[mu] + half - z0) / h)), last), lo)
        top = -math.inf
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        for j in range(lo, hi + 1):
            r = y[mu] - gz[j]
            u = z0 + j * h - omega[mu]
            top, s0, s1, s2 = _add(-half_precision * r * r - prior * u * u, u, top, s0, s1,
                                   s2)
        # beyond the window, while the prior factor alone (the label's is ≤ 1) could still
        # reach e^(top + CUT): a label the estimate puts far in the tail moves the posterior
        # away from ω
        for step in (1, -1):
            j = hi + 1 if step == 1 else lo - 1
            while 0 <= j <= last:
                u = z0 + j * h - omega[mu]
                if -prior * u * u - top < CUT:
                    break
                r = y[mu] - gz[j]
                top, s0, s1, s2 = _add(-half_precision * r * r - prior * u * u, u, top, s0,
                                       s1, s2)
                j += step
        mean = s1 / s0
        gout[mu] = mean / v
        dgout[mu] = (s2 / s0 - mean * mean) / (v * v) - 1.0 / v
