"""Numba's options for all generated code, in one place, with the reasons.

Every generated module starts with these options written out as dicts (``KERNEL = {…}``, see
``templates/prelude.py``) and every function in it is decorated ``@njit(**KERNEL)``,
``@njit(**LOOP)``, …; ``OPTIONS`` names them. The options are part of the generated text,
so they are hashed into the cache key with the templates
(:func:`overlapdyn.compile.render.template_digest`): changing one here recompiles, never
reuses stale machine code.

Caching (``cache=True`` everywhere). Numba writes each function's machine code beside the
generated module (``__pycache__`` in the cache folder), so a warm start skips LLVM as the
module cache skips SymPy: a fresh process loads a model in ≈ 0.2 s instead of 4–6 s.

Fast math, chosen per kind of code:

* kernels (``KERNEL``): the SymPy-printed straight-line formulas may reassociate and fuse
  (FMA) their long sums — 1.75× faster for the He3 I4 kernel, differences at round-off
  level — but keep IEEE NaN/inf semantics (``nnan``, ``ninf`` are left out): a non-finite
  kernel value is how a state outside the PSD cone shows.
* the drift loops, the target sums, the cubature kernels and the simulator's target
  (``LOOP``): strict IEEE. Their cost is the kernel calls they make, not their own
  arithmetic, so fast math would gain little there; their sums keep the written order.
* the simulator (``SGD``, ``SGD_PARALLEL``): ``reassoc`` and ``contract`` let LLVM vectorise
  the length-d dot products and updates that are its whole cost; no flag that changes
  non-finite handling, because a non-finite error is how a diverging run is detected.

One consequence of the kernels' fast math, measured and kept: a model compiled in this
process and the same model loaded from the cache by another process can give drifts and risks
that differ in the last bits (He3 committee, p = k = 2, 20 random states: 23 of 180 values,
at most 1.1e-13 absolute; He2 committee and a staircase target: none). Each route is
deterministic — two fresh compiles agree bit for bit, and so do two cache loads — and with
strict-IEEE kernels the two routes agree exactly; ``contract`` alone or ``reassoc`` alone is
enough to separate them, so the kernels' arithmetic is rearranged differently when LLVM
optimises them together with their callers (the committee target's sums, which inline their
kernels; the drift's loops call kernels by address and inline none) in one process than in
the code the cache holds. Differences of this size are far below every solver tolerance; a
computation that must reproduce bits across processes should compare two cache loads (the
second and later runs of a model), never a first run with a later one.

Parallelism: only the simulator's outer loop over seeds (``SGD_PARALLEL``, ``prange``); each
seed has its own PCG64 generator, so results do not depend on the thread count. The drift
is evaluated one state at a time by SciPy and is too small per call to gain from threads.

``cache=True`` with ``parallel=True``, in Dask worker processes, is the configuration of
`numba issue 4807 <https://github.com/numba/numba/issues/4807>`_ (open): worker processes
that compile and write the same functions' cache files at the same time can crash with
segmentation faults. The project never lets workers race to write:
:func:`overlapdyn.sweeps.run_sweep` warms the cache on the client, one process, before
submitting (:func:`overlapdyn.sweeps.tasks.warm_up` runs each distinct kernel set and the
simulator once), so local workers only read it — each task record counts its Numba
compilations (``numba_compiles``), and the sweep tests check they are all 0; and generated
modules are written atomically under a key of what determines their text, so no process
imports a half-written one. Remote workers that share a cold cache folder on their machine
could still race: warm that folder once first, or give each worker its own. The other
known ``cache`` + ``parallel`` fault, machine code tied to the thread count it was compiled
with (numba issue 7518), was fixed (numba pull request 7625) before the Numba 0.59
this project requires.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KERNEL", "LOOP", "OPTIONS", "SGD", "SGD_PARALLEL", "NumbaOptions"]


@dataclass(frozen=True)
class NumbaOptions:
    """Options of ``numba.njit`` for one kind of generated function.

    Attributes:
        fastmath: the LLVM fast-math flags allowed (empty: strict IEEE).
        parallel: whether ``prange`` loops run in threads.
        cache: whether the machine code is cached on disk.
    """

    fastmath: frozenset[str] = frozenset()
    parallel: bool = False
    cache: bool = True

    def source(self) -> str:
        """The options as a Python dict literal (flags sorted: the text is a cache key)."""
        items = [f'"cache": {self.cache}']
        if self.parallel:
            items.append('"parallel": True')
        if self.fastmath:
            items.append('"fastmath": {' + ", ".join(f'"{f}"' for f in sorted(self.fastmath))
                         + "}")
        return "{" + ", ".join(items) + "}"


KERNEL = NumbaOptions(fastmath=frozenset({"arcp", "contract", "nsz", "reassoc"}))
LOOP = NumbaOptions()
SGD = NumbaOptions(fastmath=frozenset({"contract", "reassoc"}))
SGD_PARALLEL = NumbaOptions(fastmath=SGD.fastmath, parallel=True)

# the names the generated modules (and the templates) use for them
OPTIONS = {"KERNEL": KERNEL, "LOOP": LOOP, "SGD": SGD, "SGD_PARALLEL": SGD_PARALLEL}
