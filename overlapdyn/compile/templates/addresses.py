r"""Template: functions as arguments — Numba types, and first-class functions by address.

Code shared by every model (the drift's loops, the simulator's SGD loop) is one generated
module, compiled once; what depends on the model (its kernels, its activation and target)
is compiled in the model's own module and reaches the shared code as the addresses of its
compiled functions (an int64 array), which ``function_at`` turns into Numba first-class
functions of a declared type. The shared code makes one indirect call per value (the
functions are not inlined into it).

An address is that of the function's code in Numba's own calling convention (the
``jit_addr`` of a first-class function), so an exception it raises (a division by zero)
reaches the caller as from a direct call. Types are exact: a row ``M[j]`` of a C-contiguous
``M`` is ``ROW``; arrays passed must be C-contiguous float64.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# ------------------------------------------------------------------------ rendered from here
SCALAR = types.float64
ROW = types.float64[::1]
MATRIX = types.float64[:, ::1]
COUNT = types.int64
FLAG = types.boolean
ADDRESSES = types.int64[::1]
TUPLE = types.Tuple


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
