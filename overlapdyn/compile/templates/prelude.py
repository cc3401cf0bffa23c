"""Template: the top of every generated module — its imports and Numba's options.

The renderer writes the module's docstring above this body and sets each option dict to its
value in :mod:`overlapdyn.compile.policy`; the module's own constants (``METHOD`` …) follow.
"""

# ------------------------------------------------------------------------ rendered from here
# the imports serve the bodies rendered after this one
import base64  # noqa: F401
import math  # noqa: F401

import numpy as np  # noqa: F401
from llvmlite import ir  # noqa: F401
from numba import carray, cfunc, njit, prange, types  # noqa: F401
from numba.core import cgutils  # noqa: F401
from numba.extending import intrinsic  # noqa: F401

KERNEL = {}
LOOP = {}
SGD = {}
SGD_PARALLEL = {}

# The index of an argument that is no state entry (P's entries), in the Jacobian's
# accumulators. An np.int64, not the literal −1: Numba compiles a function once per distinct
# literal integer it is called with, and would compile each accumulator twice.
NO_INDEX = np.int64(-1)
