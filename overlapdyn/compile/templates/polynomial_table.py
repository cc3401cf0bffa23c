r"""Template: the one evaluator of every polynomial kernel stored as a table, compiled once.

A polynomial kernel of its arguments ``x = (x_1..x_n)`` (covariance entries),

    K(x) = Σ_t c_t Π_i x_i^{e_ti},

is stored as its table (:mod:`overlapdyn.compile.tables`), split at a column h: each
term's monomial is a monomial of the first h variables (part A) times one of the others
(part B), and each part's monomials are built by chains, monomial m being monomial
``parent[m]`` times ``x[var[m]]`` (``A_parent``, ``A_var``, ``B_parent``, ``B_var``);
per term t its A monomial ``group[t]``, B monomial ``index[t]`` and coefficient ``c[t]``.
``evaluate_table`` forms the monomials' values (one multiplication each) and sums
``K = Σ_t c_t a_group[t] b_index[t]``: nA + nB + 2T multiplications, no powers, no branch
on the data. The indices are int32, the coefficients float64.

This module is shared by every model and compiled once per cache folder. Its evaluator is a
C function (``cfunc``) of the arrays' addresses and sizes (int64), which the process
registers under a symbol name (:func:`overlapdyn.compile.compiled.table_evaluator`); a
model's kernels (``table_kernels.py``) call it by that name, so their machine code, cached,
holds no copy of the evaluator and no address of this process: a model's module compiles in
a time that does not depend on the degree, and loads from the cache like any other.
"""

import numpy as np

from generated import SCALAR, carray, cfunc, cgutils, intrinsic, ir, types

# ------------------------------------------------------------------------ rendered from here
COUNT64 = types.int64
EVALUATE_TYPE = SCALAR(*(COUNT64,) * 12)


@intrinsic
def pointer_at(typingctx, address, dtype):
    """The pointer to ``dtype`` values at ``address`` (an int64)."""
    kind = types.CPointer(dtype.dtype)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], ir.PointerType(context.get_value_type(kind.dtype)))

    return kind(address, dtype), codegen


# monomial values kept in the evaluator's stack frame (32 kB) rather than allocated per call
# (≈ 50 ns, the whole cost of a small kernel); larger tables allocate
STACK_VALUES = 4096


@intrinsic
def stack_values(typingctx):
    """A pointer to STACK_VALUES float64 in the caller's stack frame."""
    kind = types.CPointer(types.float64)

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, ir.DoubleType(), size=STACK_VALUES)

    return kind(), codegen


@cfunc(EVALUATE_TYPE, cache=True)
def evaluate_table(A_parent_at, A_var_at, B_parent_at, B_var_at, group_at, index_at, c_at,
                   nA, nB, terms, x_at, n):
    A_parent = carray(pointer_at(A_parent_at, types.int32), (nA,))
    A_var = carray(pointer_at(A_var_at, types.int32), (nA,))
    B_parent = carray(pointer_at(B_parent_at, types.int32), (nB,))
    B_var = carray(pointer_at(B_var_at, types.int32), (nB,))
    group = carray(pointer_at(group_at, types.int32), (terms,))
    index = carray(pointer_at(index_at, types.int32), (terms,))
    c = carray(pointer_at(c_at, types.float64), (terms,))
    x = carray(pointer_at(x_at, types.float64), (n,))
    # the monomials' values, a then b, in one scratch array, each one multiplication from
    # an earlier one
    values = (carray(stack_values(), (nA + nB,)) if nA + nB <= STACK_VALUES
              else np.empty(nA + nB))
    values[0] = 1.0
    for m in range(1, nA):
        values[m] = values[A_parent[m]] * x[A_var[m]]
    values[nA] = 1.0
    for m in range(1, nB):
        values[nA + m] = values[nA + B_parent[m]] * x[B_var[m]]
    # strict IEEE: with fast math LLVM turns this pass into vector gathers, 4× slower on the
    # machine measured; four partial sums overlap it instead
    s0 = s1 = s2 = s3 = 0.0
    quads = terms - terms % 4
    for t in range(0, quads, 4):
        s0 += c[t] * values[group[t]] * values[nA + index[t]]
        s1 += c[t + 1] * values[group[t + 1]] * values[nA + index[t + 1]]
        s2 += c[t + 2] * values[group[t + 2]] * values[nA + index[t + 2]]
        s3 += c[t + 3] * values[group[t + 3]] * values[nA + index[t + 3]]
    for t in range(quads, terms):
        s0 += c[t] * values[group[t]] * values[nA + index[t]]
    return (s0 + s1) + (s2 + s3)
