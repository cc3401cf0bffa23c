r"""Template: a model's kernels as tables, calling the shared evaluator by its symbol name.

Each polynomial kernel of the model is printed (:func:`overlapdyn.compile.tables.
table_kernel_source`) as its table's arrays — module constants decoded on import from
base64 text (``decoded``), which Numba freezes into the machine code — and a wrapper::

    @njit(**LOOP)
    def I4sss(c_11, …, c_44):
        return evaluate_table(I4sss_A_parent.ctypes.data, …, nA, nB, T,
                              stack_address((c_11, …, c_44)), 10)

``evaluate_table`` is the C function of ``polynomial_table.py`` (one module for every
model, compiled once), reached by the symbol name ``TABLE_SYMBOL`` that the process
registers before this module is compiled or loaded; ``stack_address`` stores the arguments
in the wrapper's stack frame and gives their address. The wrappers thus compile to a call
each, whatever the degree.
"""

import numpy as np

from generated import base64, cgutils, intrinsic, ir, types

# ------------------------------------------------------------------------ rendered from here
TABLE_SYMBOL = "overlapdyn_evaluate_table"
evaluate_table = types.ExternalFunction(TABLE_SYMBOL, types.float64(*(types.int64,) * 12))


def decoded(text, dtype, shape):
    """The array written as base64 text of its bytes (little-endian ``dtype``, C order)."""
    return np.frombuffer(base64.b64decode(text), dtype=dtype).reshape(shape).copy()


@intrinsic
def stack_address(typingctx, values):
    """The address (int64) of the float64 ``values`` (a tuple) stored in the caller's stack
    frame, valid until the caller returns."""
    count = len(values)

    def codegen(context, builder, signature, args):
        array = cgutils.alloca_once(builder, ir.DoubleType(), size=count)
        for i in range(count):
            value = context.cast(builder, builder.extract_value(args[0], i), values[i],
                                 types.float64)
            builder.store(value, builder.gep(array, [ir.Constant(ir.IntType(32), i)]))
        return builder.ptrtoint(array, ir.IntType(64))

    return types.int64(values), codegen
