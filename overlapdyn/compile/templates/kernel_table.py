r"""Template: a model's kernels as arguments — their types, and calls by address.

The drift's loops (``drift_loops.py``, ``state_evolution.py``) are one generated module for
every model, compiled once: a model reaches them as the addresses of its ten compiled
kernels (``addresses``, int64 (10,), in the order of ``KERNEL_NAMES``), which
``kernel_table`` turns into Numba first-class functions of the types below. Only a model's
own kernels are compiled for it, each once, for the signature given here; the loops cost
one indirect call per kernel value (the kernels are not inlined into them).

An address is that of the kernel's code in Numba's own calling convention (the ``jit_addr``
of a first-class function), so an exception a kernel raises (a division by zero) reaches
the caller as it would from a direct call. The types are exact: a row ``M[j]`` of a
C-contiguous ``M`` is ``ROW``, and ``v`` (k,), ``P`` (k, k) must be C-contiguous float64.
"""

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from generated import LOOP

# ------------------------------------------------------------------------ rendered from here
SCALAR = types.float64
ROW = types.float64[::1]
MATRIX = types.float64[:, ::1]
COUNT = types.int64
FLAG = types.boolean
ADDRESSES = types.int64[::1]
TUPLE = types.Tuple

KERNEL_NAMES = ("I2ss", "J2s", "I3ss", "I4sss", "Tg1", "Tgz", "Tgl", "Tgg", "Tgs", "Eg2")
PAIR_KERNEL = types.FunctionType(SCALAR(SCALAR, SCALAR, SCALAR))             # I2ss, J2s
TRIPLE_KERNEL = types.FunctionType(SCALAR(*(SCALAR,) * 6))                   # I3ss
QUADRUPLE_KERNEL = types.FunctionType(SCALAR(*(SCALAR,) * 10))               # I4sss
TARGET_MEAN = types.FunctionType(SCALAR(SCALAR, ROW, ROW, MATRIX))           # Tg1
TARGET_LATENT = types.FunctionType(SCALAR(COUNT, SCALAR, ROW, ROW, MATRIX))       # Tgz
TARGET_PAIR = types.FunctionType(SCALAR(SCALAR, SCALAR, SCALAR, ROW, ROW, ROW,
                                        MATRIX))                             # Tgl, Tgg
TARGET_TRIPLE = types.FunctionType(SCALAR(*(SCALAR,) * 6, ROW, ROW, ROW, ROW,
                                          MATRIX))                           # Tgs
TARGET_SQUARE = types.FunctionType(SCALAR(ROW, MATRIX))                      # Eg2
KERNEL_TYPES = (PAIR_KERNEL, PAIR_KERNEL, TRIPLE_KERNEL, QUADRUPLE_KERNEL, TARGET_MEAN,
                TARGET_LATENT, TARGET_PAIR, TARGET_PAIR, TARGET_TRIPLE, TARGET_SQUARE)


@intrinsic
def function_at(typingctx, address, function_type):
    """The first-class function of type ``function_type`` whose code (Numba's calling
    convention) starts at ``address`` (an int64)."""
    kind = function_type.instance_type

    def codegen(context, builder, signature, args):
        function = cgutils.create_struct_proxy(kind)(context, builder)
        function.jit_addr = builder.inttoptr(args[0], ir.IntType(8).as_pointer())
        return function._getvalue()

    return kind(address, function_type), codegen


@njit(**LOOP)
def kernel_table(addresses):
    return (function_at(addresses[0], PAIR_KERNEL), function_at(addresses[1], PAIR_KERNEL),
            function_at(addresses[2], TRIPLE_KERNEL),
            function_at(addresses[3], QUADRUPLE_KERNEL),
            function_at(addresses[4], TARGET_MEAN), function_at(addresses[5], TARGET_LATENT),
            function_at(addresses[6], TARGET_PAIR), function_at(addresses[7], TARGET_PAIR),
            function_at(addresses[8], TARGET_TRIPLE), function_at(addresses[9], TARGET_SQUARE))
