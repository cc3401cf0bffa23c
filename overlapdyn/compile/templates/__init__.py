"""The hand-written parts of the generated modules, as real Python files.

A generated module (:mod:`overlapdyn.compile.render`) is ``prelude.py`` followed by code
printed from SymPy (:mod:`overlapdyn.compile.printer`) and by the other templates here. A
model's module holds its kernels and its target's sums; the drift's loops
(``kernel_table.py``, ``drift_loops.py``, ``state_evolution.py``) are one module shared by
every model, compiled once, which calls a model's kernels by address:

* ``prelude.py`` — the imports and Numba's options (:mod:`overlapdyn.compile.policy`);
* ``cubature.py`` — Gauss–Hermite rules and the eigen-factor, for a committee's cubature
  kernels;
* ``ranked_cubature.py`` — the rules by rank and the semi-definite Cholesky factor, for a
  multi-index target's cubature kernels;
* ``committee_target.py`` — the target's sums over a committee teacher;
* ``kernel_table.py`` — the types of a model's ten kernels and target sums, and the
  first-class functions made of their addresses, through which the loops below call them;
* ``drift_loops.py`` — the drift's loops over neurons (:class:`~overlapdyn.compile.CompiledModel`);
* ``sgd_loop.py`` — the fused SGD steps of :func:`overlapdyn.sgd.simulate`;
* ``reuse_gd.py`` — labels, errors and gradients of a whole batch, for full-batch gradient
  descent on reused data (:mod:`overlapdyn.reuse`);
* ``state_evolution.py`` — the large-batch state evolution's map, whole runs in one loop
  (:func:`overlapdyn.ode.evolve`);
* ``committee_target_gradient.py``, ``drift_jacobian.py`` — the exact Jacobian of the drift
  (:meth:`CompiledModel.jacobian <overlapdyn.compile.CompiledModel.jacobian>`), chained from
  the kernels' partial derivatives.

Each template is a complete module that ruff checks like any other, in two parts split by
the line ``# ---… rendered from here``:

* the head — the docstring, the imports, and stand-ins for the names that the generated
  module defines elsewhere, imported ``from generated import …`` (the kernels printed from
  SymPy, the functions of the templates before it, the option dicts ``KERNEL``, ``LOOP``,
  ``SGD``, ``SGD_PARALLEL`` of the prelude). It is for the reader and the linter, and is
  dropped when rendering;
* the body — copied into the generated module verbatim, except the module-level constants
  the renderer sets: a line ``NAME = …`` whose name it is given becomes ``NAME = <value>``
  (the renderer refuses a name that is not assigned exactly once at the start of a line).

Functions are decorated ``@njit(**LOOP)`` (or ``KERNEL``, ``SGD``, ``SGD_PARALLEL``): the
options are written out once in the prelude, from the policy. The template files are read
as text (:mod:`importlib.resources`) and never imported: nothing imports them (the
``generated`` stand-in would fail if anything did), so ``import overlapdyn`` compiles
nothing. Their text and the options are hashed into every generated module's cache key.
"""
