r"""Template: the one evaluator of every polynomial kernel stored as a table, compiled once.

A polynomial kernel of its arguments ``x = (x_1..x_n)`` (covariance entries),

    K(x) = Σ_t c_t Π_i x_i^{e_ti},

is stored as its table (:mod:`overlapdyn.compile.tables`), split at a column h into two
parts: the distinct monomials of the first h variables ``A`` (nA, h) and of the others
``B`` (nB, n − h), int64 rows in lexicographic order, with how many leading exponents a row
shares with the row before (``A_shared``, ``B_shared``), and per term t its A row
``group[t]``, B row ``index[t]`` and coefficient ``c[t]`` (T,). ``evaluate_table`` builds
the powers ``x_i^0..x_i^top`` (``top`` the largest exponent), the values ``a``, ``b`` of
both parts' monomials by prefixes (one multiplication per exponent a row does not share with
the row before), then ``K = Σ_t c_t a_group[t] b_index[t]``: about 2T + nA + nB
multiplications.

This module is shared by every model and compiled once per cache folder. Its evaluator is a
C function (``cfunc``) of the arrays' addresses and sizes (int64), which the process
registers under a symbol name (:func:`overlapdyn.compile.compiled.table_evaluator`); a
model's kernels (``table_kernels.py``) call it by that name, so their machine code, cached,
holds no copy of the evaluator and no address of this process: a model's module compiles in
a time that does not depend on the degree, and loads from the cache like any other.
"""

import numpy as np

from generated import SCALAR, carray, cfunc, intrinsic, ir, types

# ------------------------------------------------------------------------ rendered from here
COUNT64 = types.int64
EVALUATE_TYPE = SCALAR(*(COUNT64,) * 14)


@intrinsic
def pointer_at(typingctx, address, dtype):
    """The pointer to ``dtype`` values at ``address`` (an int64)."""
    kind = types.CPointer(dtype.dtype)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], ir.PointerType(context.get_value_type(kind.dtype)))

    return kind(address, dtype), codegen


@cfunc(EVALUATE_TYPE, cache=True)
def evaluate_table(A_at, A_shared_at, B_at, B_shared_at, group_at, index_at, c_at, nA, h, nB,
                   terms, top, x_at, n):
    A = carray(pointer_at(A_at, types.int64), (nA, h))
    A_shared = carray(pointer_at(A_shared_at, types.int64), (nA,))
    B = carray(pointer_at(B_at, types.int64), (nB, n - h))
    B_shared = carray(pointer_at(B_shared_at, types.int64), (nB,))
    group = carray(pointer_at(group_at, types.int64), (terms,))
    index = carray(pointer_at(index_at, types.int64), (terms,))
    c = carray(pointer_at(c_at, types.float64), (terms,))
    x = carray(pointer_at(x_at, types.float64), (n,))
    # one scratch array: the powers x_i^e at i·(top + 1) + e, the monomials' values a then
    # b, and the running prefix products. Strict IEEE: with fast math LLVM turns the pass
    # over the terms into vector gathers, 4× slower on the machine measured; four partial
    # sums overlap it instead
    stride = top + 1
    a0 = n * stride
    b0 = a0 + nA
    p0 = b0 + nB
    scratch = np.empty(p0 + n + 1)
    for i in range(n):
        scratch[i * stride] = 1.0
        for e in range(1, stride):
            scratch[i * stride + e] = scratch[i * stride + e - 1] * x[i]
    scratch[p0] = 1.0
    for m in range(nA):
        for d in range(A_shared[m], h):
            scratch[p0 + d + 1] = scratch[p0 + d] * scratch[d * stride + A[m, d]]
        scratch[a0 + m] = scratch[p0 + h]
    for m in range(nB):
        for d in range(B_shared[m], n - h):
            scratch[p0 + d + 1] = scratch[p0 + d] * scratch[(h + d) * stride + B[m, d]]
        scratch[b0 + m] = scratch[p0 + n - h]
    s0 = s1 = s2 = s3 = 0.0
    quads = terms - terms % 4
    for t in range(0, quads, 4):
        s0 += c[t] * scratch[a0 + group[t]] * scratch[b0 + index[t]]
        s1 += c[t + 1] * scratch[a0 + group[t + 1]] * scratch[b0 + index[t + 1]]
        s2 += c[t + 2] * scratch[a0 + group[t + 2]] * scratch[b0 + index[t + 2]]
        s3 += c[t + 3] * scratch[a0 + group[t + 3]] * scratch[b0 + index[t + 3]]
    for t in range(quads, terms):
        s0 += c[t] * scratch[a0 + group[t]] * scratch[b0 + index[t]]
    return (s0 + s1) + (s2 + s3)
