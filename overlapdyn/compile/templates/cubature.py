"""Template: the tensor Gauss–Hermite rules and the eigen-factor of the cubature kernels.

The cubature kernels printed by :func:`~overlapdyn.compile.printer.cubature_kernel_source`
follow this body: ``E[Π_i f_i(x_i)]`` for ``x ~ N(0, C)`` is ``Σ_q w_q Π_i f_i((A ξ_q)_i)``
over the tensor grid of ``(XI{n}, WEIGHTS{n})`` with ``A Aᵀ = C`` (``_factor``). The renderer
sets ``XI{n}``, ``WEIGHTS{n}`` for n = 2, 3, 4 fields to the rules with 4·n_nodes, 2·n_nodes
and n_nodes nodes per direction (a fixed cost per call).
"""

import math

import numpy as np
from numba import njit

from generated import LOOP

# ------------------------------------------------------------------------ rendered from here
XI2 = np.empty(0)
WEIGHTS2 = np.empty(0)
XI3 = np.empty(0)
WEIGHTS3 = np.empty(0)
XI4 = np.empty(0)
WEIGHTS4 = np.empty(0)


@njit(**LOOP)
def _factor(C):
    # A with A Aᵀ = C over the eigen-directions: singular blocks (coincident fields) are fine
    values, vectors = np.linalg.eigh(C)
    n = C.shape[0]
    A = np.empty((n, n))
    for j in range(n):
        scale = math.sqrt(values[j]) if values[j] > 0.0 else 0.0
        for i in range(n):
            A[i, j] = vectors[i, j] * scale
    return A
