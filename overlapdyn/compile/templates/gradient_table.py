r"""Template: the types of a model's nine gradient accumulators, and their table.

The drift's exact Jacobian (``drift_jacobian.py``) is one generated module for every model,
like the drift's loops: a model reaches it as the addresses of its kernels (``kernel_table``)
and of their accumulators (``addresses``, int64 (9,), in the order of ``GRADIENT_NAMES``),
compiled in the model's own Jacobian module for the types below. ``<name>_acc`` adds
``coef`` times the partial derivatives of ``<name>`` to the state vector ``out`` at the
state indices of its arguments (``NO_INDEX``: not a state entry); see
``committee_target_gradient.py`` and :func:`~overlapdyn.compile.printer.kernel_accumulator_source`.
"""

from numba import njit, types

from generated import COUNT, LOOP, MATRIX, ROW, SCALAR, function_at

# ------------------------------------------------------------------------ rendered from here
GRADIENT_NAMES = ("I2ss_acc", "J2s_acc", "I3ss_acc", "I4sss_acc", "Tg1_acc", "Tgz_acc",
                  "Tgl_acc", "Tgg_acc", "Tgs_acc")
NONE = types.none
PAIR_GRADIENT = types.FunctionType(NONE(*(SCALAR,) * 4, ROW, *(COUNT,) * 3))
TRIPLE_GRADIENT = types.FunctionType(NONE(*(SCALAR,) * 7, ROW, *(COUNT,) * 6))
QUADRUPLE_GRADIENT = types.FunctionType(NONE(*(SCALAR,) * 11, ROW, *(COUNT,) * 10))
TARGET_MEAN_GRADIENT = types.FunctionType(NONE(SCALAR, ROW, ROW, MATRIX, SCALAR, ROW, COUNT,
                                               COUNT))
TARGET_LATENT_GRADIENT = types.FunctionType(NONE(COUNT, SCALAR, ROW, ROW, MATRIX, SCALAR, ROW,
                                                 COUNT, COUNT))
TARGET_PAIR_GRADIENT = types.FunctionType(NONE(*(SCALAR,) * 3, ROW, ROW, ROW, MATRIX, SCALAR,
                                               ROW, *(COUNT,) * 5))
TARGET_TRIPLE_GRADIENT = types.FunctionType(NONE(*(SCALAR,) * 6, ROW, ROW, ROW, ROW, MATRIX,
                                                 SCALAR, ROW, *(COUNT,) * 9))
GRADIENT_TYPES = (PAIR_GRADIENT, PAIR_GRADIENT, TRIPLE_GRADIENT, QUADRUPLE_GRADIENT,
                  TARGET_MEAN_GRADIENT, TARGET_LATENT_GRADIENT, TARGET_PAIR_GRADIENT,
                  TARGET_PAIR_GRADIENT, TARGET_TRIPLE_GRADIENT)


@njit(**LOOP)
def gradient_table(addresses):
    return (function_at(addresses[0], PAIR_GRADIENT), function_at(addresses[1], PAIR_GRADIENT),
            function_at(addresses[2], TRIPLE_GRADIENT),
            function_at(addresses[3], QUADRUPLE_GRADIENT),
            function_at(addresses[4], TARGET_MEAN_GRADIENT),
            function_at(addresses[5], TARGET_LATENT_GRADIENT),
            function_at(addresses[6], TARGET_PAIR_GRADIENT),
            function_at(addresses[7], TARGET_PAIR_GRADIENT),
            function_at(addresses[8], TARGET_TRIPLE_GRADIENT))
