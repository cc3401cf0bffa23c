r"""Template: the types of a model's ten kernels and target sums, and their table.

The drift's loops (``drift_loops.py``, ``state_evolution.py``) are one generated module for
every model: a model reaches them as the addresses of its ten compiled functions
(``addresses``, int64 (10,), in the order of ``KERNEL_NAMES``), compiled for the types
below, which ``kernel_table`` turns into a tuple of first-class functions
(``addresses.py``). ``v`` (k,) and ``P`` (k, k) must be C-contiguous float64.
"""

from numba import njit, types

from generated import COUNT, LOOP, MATRIX, ROW, SCALAR, function_at

# ------------------------------------------------------------------------ rendered from here
KERNEL_NAMES = ("I2ss", "J2s", "I3ss", "I4sss", "Tg1", "Tgz", "Tgl", "Tgg", "Tgs", "Eg2")
PAIR_KERNEL = types.FunctionType(SCALAR(SCALAR, SCALAR, SCALAR))             # I2ss, J2s
TRIPLE_KERNEL = types.FunctionType(SCALAR(*(SCALAR,) * 6))                   # I3ss
QUADRUPLE_KERNEL = types.FunctionType(SCALAR(*(SCALAR,) * 10))               # I4sss
TARGET_MEAN = types.FunctionType(SCALAR(SCALAR, ROW, ROW, MATRIX))           # Tg1
TARGET_LATENT = types.FunctionType(SCALAR(COUNT, SCALAR, ROW, ROW, MATRIX))    # Tgz
TARGET_PAIR = types.FunctionType(SCALAR(SCALAR, SCALAR, SCALAR, ROW, ROW, ROW,
                                        MATRIX))                             # Tgl, Tgg
TARGET_TRIPLE = types.FunctionType(SCALAR(*(SCALAR,) * 6, ROW, ROW, ROW, ROW,
                                          MATRIX))                           # Tgs
TARGET_SQUARE = types.FunctionType(SCALAR(ROW, MATRIX))                      # Eg2
KERNEL_TYPES = (PAIR_KERNEL, PAIR_KERNEL, TRIPLE_KERNEL, QUADRUPLE_KERNEL, TARGET_MEAN,
                TARGET_LATENT, TARGET_PAIR, TARGET_PAIR, TARGET_TRIPLE, TARGET_SQUARE)


@njit(**LOOP)
def kernel_table(addresses):
    return (function_at(addresses[0], PAIR_KERNEL), function_at(addresses[1], PAIR_KERNEL),
            function_at(addresses[2], TRIPLE_KERNEL),
            function_at(addresses[3], QUADRUPLE_KERNEL),
            function_at(addresses[4], TARGET_MEAN), function_at(addresses[5], TARGET_LATENT),
            function_at(addresses[6], TARGET_PAIR), function_at(addresses[7], TARGET_PAIR),
            function_at(addresses[8], TARGET_TRIPLE), function_at(addresses[9], TARGET_SQUARE))
