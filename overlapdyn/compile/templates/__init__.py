"""The hand-written parts of the generated modules, as real Python files.

A generated module (:mod:`overlapdyn.compile.render`) is ``prelude.py`` followed by code
printed from SymPy (:mod:`overlapdyn.compile.printer`) and by the other templates here. A
model's module holds its kernels and its target's sums (and, for the simulator and the SDE,
σ, σ' and g: :mod:`overlapdyn.compile.pointwise`); the loops (``drift_loops.py`` with
``state_evolution.py``, ``drift_jacobian.py``, ``sgd_loop.py``, ``sde_loop.py``) are modules
shared by every model, compiled once, which call a model's functions by address:

* ``prelude.py`` — the imports, Numba's options (:mod:`overlapdyn.compile.policy`) and
  ``NO_INDEX`` (an accumulator's index of an argument that is no state entry);
* ``cubature.py`` — Gauss–Hermite rules and the eigen-factor, for a committee's cubature
  kernels;
* ``ranked_cubature.py`` — the rules by rank and the semi-definite Cholesky factor, for a
  multi-index target's cubature kernels;
* ``polynomial_table.py`` — the one evaluator of polynomial kernels stored as coefficient
  tables, a C function compiled once for every model and registered under a symbol name
  (:func:`~overlapdyn.compile.compiled.table_evaluator`);
* ``table_kernels.py`` — a model's kernels as tables: their arrays, decoded on import, and
  wrappers that call that evaluator by name (:mod:`overlapdyn.compile.tables`);
* ``committee_target.py`` — the target's sums over a committee teacher;
* ``addresses.py`` — Numba's types and ``function_at``, the first-class function at an
  address, for every module shared by all models;
* ``kernel_table.py`` — the types of a model's ten kernels and target sums, and the tuple of
  first-class functions made of their addresses, through which the loops below call them;
* ``drift_loops.py`` — the drift's loops over neurons (:class:`~overlapdyn.compile.CompiledModel`);
* ``sgd_loop.py`` — the fused SGD steps of :func:`overlapdyn.sgd.simulate`;
* ``sde_loop.py`` — the overlap SDE: its diffusion by a Gauss–Hermite cubature over the
  fields or its noise from fresh samples of them (the sampled noise), the projection onto the
  Gram-matrix set, and Euler–Maruyama paths in parallel
  (:func:`overlapdyn.ode.integrate_sde`), calling the drift's ``rhs`` by address;
* ``reuse_gd.py`` — labels, errors and gradients of a whole batch, for full-batch gradient
  descent on reused data (:mod:`overlapdyn.reuse`);
* ``reuse_dmft.py`` — one step of the DMFT's effective training sample of full-batch GD
  (fields with their memory term, gradients, the Gauss–Newton path response), for
  :func:`overlapdyn.reuse.solve_dmft`;
* ``reuse_online.py`` — the composite gradient of online SGD with reused samples
  (extragradient, repeated steps) and its moments at the nodes of a quadrature rule
  (:class:`~overlapdyn.reuse.ReuseDrift`);
* ``output_channel.py`` — the Bayes-optimal output function ``g_out`` of a single-index
  channel and its derivative, sample by sample (:class:`~overlapdyn.limits.OutputChannel`);
* ``gamp_products.py`` — the products with the data matrix of one GAMP iteration, for k
  fields at once (:func:`overlapdyn.limits.run_gamp`,
  :func:`overlapdyn.limits.run_multi_index_gamp`);
* ``two_field_channel.py`` — the output Fisher information ``E[g_out g_outᵀ]`` of a
  two-field channel, label by label, for the multi-index state evolution
  (:class:`~overlapdyn.limits.MultiIndexChannel`);
* ``wide_loops.py`` — the drift, risk and closure rate of the orthogonal-diagonal reduction
  of a wide network, on a model's kernels (:class:`~overlapdyn.ode.wide.OrthogonalReduction`);
* ``two_field_output.py`` — the posterior mean and covariance of two fields given a label
  and a Gaussian estimate, sample by sample: the output function ``g_out`` and its Jacobian
  of the two-field GAMP (:meth:`MultiIndexChannel.output
  <overlapdyn.limits.MultiIndexChannel.output>`);
* ``state_evolution.py`` — the large-batch state evolution's map, whole runs in one loop
  (:func:`overlapdyn.ode.evolve`);
* ``committee_target_gradient.py``, ``gradient_table.py``, ``drift_jacobian.py`` — the exact
  Jacobian of the drift (:meth:`CompiledModel.jacobian
  <overlapdyn.compile.CompiledModel.jacobian>`), chained from the kernels' partial
  derivatives (a model's accumulators, their types and table, the loops shared by every model).

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
