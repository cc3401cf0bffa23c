r"""Template: the cubature of a multi-index target's kernels (its quadrature route).

A kernel is ``E[h(z) Π_a f_a(λ_a)]`` over the fields ``(z_1..z_k, λ_1..λ_n)`` — the latent
ones first — with covariance ``C = [[P, mᵀ], [m, q]]`` (P = ``P_TARGET``, fixed when the
module is generated; k = 0 for the student-only kernels). Its Cholesky factor ``C = L Lᵀ``
(``_semidefinite_cholesky``) writes field a as ``x_a = Σ_{b≤a} L_ab ξ_b`` with independent
standard ξ, so a field is complete once the loop over ``ξ_a`` is reached and its factor is
evaluated there, once per outer point, not at every point of the grid: h at the last latent
level, f_a at its student level, one function call per innermost point. Along ``ξ_a`` a
student factor varies on the scale of λ_a's *conditional* standard deviation, which is what
the one-dimensional rule has to resolve (the eigen-factor of the committee kernels makes
every factor depend on every direction: for tanh students the Cholesky order is as
accurate or up to 100× more at equal nodes).

A zero pivot (a field fixed by the previous ones: coincident students, j = l) makes its
level a single point, and the r = rank(C) other levels share the rank-r rule: ``RULES``
holds ``(nodes, weights)`` for r = 0..R (r = 0: the point 0 with weight 1), set by the
renderer with ``P_TARGET``; ``RULE_SIZES``, ``RULE_NODES``, ``RULE_WEIGHTS`` are them padded
into arrays, row r. ``_semidefinite_cholesky`` returns, per level, the row of its rule: r,
or 0 for a zero pivot.
"""

import math

import numpy as np
from numba import njit

from generated import LOOP

# ------------------------------------------------------------------------ rendered from here
RULES = ((np.zeros(1), np.ones(1)),)
P_TARGET = np.eye(1)
# a pivot at or below this fraction of its diagonal entry is zero (round-off)
PIVOT_TOLERANCE = 1e-10


def _rule_tables(rules):
    widest = max(nodes.shape[0] for nodes, _ in rules)
    sizes = np.array([nodes.shape[0] for nodes, _ in rules], dtype=np.int64)
    nodes = np.zeros((len(rules), widest))
    weights = np.zeros((len(rules), widest))
    for rank, (rule_nodes, rule_weights) in enumerate(rules):
        nodes[rank, :rule_nodes.shape[0]] = rule_nodes
        weights[rank, :rule_weights.shape[0]] = rule_weights
    return sizes, nodes, weights


RULE_SIZES, RULE_NODES, RULE_WEIGHTS = _rule_tables(RULES)


@njit(**LOOP)
def _semidefinite_cholesky(C):
    # L with L Lᵀ = C for C positive semi-definite: a zero pivot leaves its column zero
    n = C.shape[0]
    L = np.zeros((n, n))
    active = np.zeros(n, dtype=np.bool_)
    for a in range(n):
        pivot = C[a, a]
        for b in range(a):
            pivot -= L[a, b] * L[a, b]
        if pivot > PIVOT_TOLERANCE * C[a, a] and pivot > 0.0:
            L[a, a] = math.sqrt(pivot)
            active[a] = True
            for c in range(a + 1, n):
                s = C[c, a]
                for b in range(a):
                    s -= L[c, b] * L[a, b]
                L[c, a] = s / L[a, a]
    rank = 0
    for a in range(n):
        if active[a]:
            rank += 1
    rows = np.zeros(n, dtype=np.int64)
    for a in range(n):
        if active[a]:
            rows[a] = rank
    return L, rows


@njit(**LOOP)
def _target_block(C):
    # the latent block of C, the first k fields: P_TARGET
    k = P_TARGET.shape[0]
    for r in range(k):
        for t in range(k):
            C[r, t] = P_TARGET[r, t]
