r"""The compiled drift: SPEC's ODEs assembled from kernels in Numba loops over neurons.

With ``u_j = c_p a_j``, ``G_j = u_j e σ'(λ_j)`` and ``e = y − ŷ`` (mse) or ``e = y``
(correlation), the loops compute, at a state (M, Q, a)::

    A^z_jr = E[G_j z_r],   A^λ_jl = E[G_j λ_l],   B_jl = E[G_j G_l],   D_j = E[e σ(λ_j)],

and the population risk R, from the kernels of :mod:`overlapdyn.derive.kernels`; e.g. for mse::

    A^z_jr = u_j ( E[σ'(λ_j) z_r g] − Σ_l u_l I3ss(λ_j, z_r, λ_l) ),
    B_jl  = u_j u_l ( E[σ'σ' g²] − 2 Σ_m u_m E[σ'_j σ'_l σ_m g]
                      + Σ_mn u_m u_n I4sss(λ_j, λ_l, λ_m, λ_n) + Δ J2s(λ_j, λ_l) ).

Then (SPEC) ``dM = η A^z − ηωM``, ``dQ = η(A^λ + A^λᵀ) − 2ηωQ + (η²/n_b) B``,
``da = η_a c_p D``; the spherical variant and the large-batch state evolution
(:meth:`CompiledModel.evolve_steps`, whole runs of the map in one compiled loop) use the
same four arrays. Each named part of the drift (:mod:`overlapdyn.model.terms`: the gradient
terms in η, η_a; the label-noise part ``Δ u_j u_l J2s`` of B; its I4 part, the rest of B;
weight decay) is multiplied by a run-time factor, 1 or 0, from the model's
``protocol.terms``: switching parts compiles nothing, and with the I4 part off its O(p⁴)
kernel calls are skipped (:meth:`CompiledModel.drift_parts` gives each part's share).
Cost per evaluation: O(p⁴) kernel calls for the I4 sum (p²(p+1)/2 · (p+1)/2 after
symmetry), O(p²k²) for the committee's teacher terms.

The state vector of the integrators is ``y = [M.ravel(), Q.ravel(), a]`` (``a`` only when
the readout is trained): lengths pk, p² and p.

Two generated modules serve a model. Its own holds the kernels and the target's sums, the
only code that depends on the model; the loops above are one module for every model
(``templates/kernel_table.py``, ``drift_loops.py``, ``state_evolution.py``), compiled once
per cache folder, to which a model passes the addresses of its compiled kernels (the model's
module, which owns that code, is held by the :class:`CompiledModel`). A new model thus
compiles its kernels only (a He3 committee p = k = 2, cold: 6.6 s to drift and risk instead
of 11.1 s), for one indirect call per kernel value (the kernels are not inlined into the
loops). The exact Jacobian is built the same way (``templates/gradient_table.py``,
``drift_jacobian.py``).

A polynomial model's kernels (routes ``exact`` and ``hermite``) can be compiled two ways:
their formulas printed as straight-line code, or stored as coefficient tables
(:mod:`overlapdyn.compile.tables`) that one evaluator, compiled once for every model and
called by its symbol name, sums at run time; the model's module then holds small wrappers
whose compile time does not grow with the degree. Measured on the 2-core development
machine (``benchmarks/bench_tables.py``: committees σ = σ* = He_n, p = k = 2, the drift's
loops already in the cache; under a load of 3–9 from other jobs, so ±50 %): the printed
formulas take 4.8 s (He2), 8 s (He3), 26 s (He4), 45–224 s (He5), 180 s (He6) to a first
drift, the tables 4–13 s at every degree (3.4 s for He2 at a load of 1, 3.8 s for He6 at 4); the
drift then costs 1.3–5.6× more CPU per call with tables (He4 8.7 → 27 µs, He5 24 → 135 µs),
and the two agree to ≤ 5e-14 relative. Where a model is built once and integrated briefly —
a new activation or target, a sweep over models — tables pay; where one model is integrated
for long, the formulas do once built. ``CompiledModel`` therefore uses tables by default
from an expansion size of :data:`~overlapdyn.compile.tables.TABLE_EXPANSION` (1000: a He4
committee and above, where the formulas take over 10 s; :func:`uses_tables`), and
``tables=True``/``False`` forces either. P, c_p, the committee's b and c_k, and Δ are
run-time arguments of the loops on both routes, and with tables so are the P and the
coefficients of a polynomial multi-index target (P's entries and the coefficients of g's
monomials are arguments of the target kernels, ``derive_kernels(…, symbolic_target=True)``;
the coefficients are the loops' ``v``, ``CompiledModel.target_vector``): a sweep over
them compiles nothing after its first model — unless a coefficient passes through zero, which
changes g's monomials and so the module. The exact
Jacobian of a model of tables takes its kernels' partial derivatives as tables too (He6
committee: 7.4 s cold, within 3e-10 of central differences), not printed from SymPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from ..derive.methods import (
    Choice,
    Derivation,
    HermiteTruncation,
    check_derivation,
    truncation_errors,
)
from ..errors import OverlapdynError
from ..model.spec import Model, check_drift_cost
from ..model.terms import TERM_NAMES
from ..storage.versions import __version__
from .cache import is_cached, load_module, source_key
from .choices import remembered_choice
from .linking import compile_quietly, compile_typed, function_addresses, load_shared_module
from .render import (
    cubature_prelude,
    kinked_prelude,
    module_source,
    ranked_cubature_prelude,
    template_body,
    template_digest,
)

if TYPE_CHECKING:
    from ..derive.kernels import Kernel, KernelSet
    from .estimate import BuildEstimate

# What only building a module needs (the derivation of the kernels, the printer, the tables,
# the estimate: SymPy) is imported where a module is built: a model loaded from the cache
# imports none of it (overlapdyn.compile.choices remembers its method, tables and key).

__all__ = ["BuildPlan", "CompiledModel", "DriftTerms", "plan_build", "table_evaluator",
           "uses_tables"]

# The generated text's version beyond what the key hashes (the templates' text, Numba's
# options): bump it when the printer, the tables (tables.py) or the assembly below change the
# modules they write.
TEMPLATE_VERSION = 12

# The entries of the drift's loops called from here, and the names of their types
# (templates/drift_loops.py): each compiled, or loaded from Numba's cache, on first use
LOOP_ENTRIES = {"rhs": "RHS_TYPE", "risk": "RISK_TYPE", "terms": "TERMS_TYPE",
                "guarded_rhs": "GUARDED_RHS_TYPE", "risk_path": "RISK_PATH_TYPE"}

# The templates of the drift's loops and of its Jacobian's: one module each for every model
# (see _loops_module, _jacobian_loops_module)
LOOP_TEMPLATES = ("kernel_table", "drift_loops", "state_evolution")
JACOBIAN_TEMPLATES = ("kernel_table", "gradient_table", "drift_jacobian")

# Gauss–Legendre nodes of the one-dimensional integral in a kinked activation's four-field
# kernels (templates/kinked.py): at 24 the kernels are within ~1e-11 of an independent
# quadrature over random and coincident covariances (tests/derive/test_kinked.py)
KINKED_NODES = 8


def _drift_parts(kernels: KernelSet, k: int, tables: bool = False) -> list[str]:
    """The sources of one model's kernels and the target's sums; with ``tables``, each
    polynomial kernel as its coefficient table and a wrapper of the one evaluator
    (:mod:`overlapdyn.compile.tables`) instead of its printed formula."""
    from .printer import basis_kernel_source, kernel_source, target_wrappers_source
    from .tables import kernel_table, table_kernel_source

    if kernels.method == "quadrature" and not kernels.committee:
        return _ranked_cubature_parts(kernels, k)
    parts = []
    if kernels.method == "quadrature":
        parts += _cubature_parts(kernels)
    else:
        if any(kernel.basis for kernel in kernels.kernels):
            parts.append(kinked_prelude(KINKED_NODES))
        if tables:
            parts.append(template_body("table_kernels", TABLE_SYMBOL=repr(_table_symbol())))
        for kernel in kernels.kernels:
            name = _scalar_name(kernel, kernels)
            table = kernel_table(kernel.args, kernel.expr) if tables else None
            if kernel.basis:
                parts.append(basis_kernel_source(kernel.name, kernel.args, *kernel.basis))
            elif table is not None:
                parts.append(table_kernel_source(name, table))
            else:
                parts.append(kernel_source(name, kernel.args, kernel.expr))
    parts.append(template_body("committee_target") if kernels.committee
                 else target_wrappers_source(k, kernels.symbolic_target, kernels.coefficients))
    return parts


def _scalar_name(kernel: Kernel, kernels: KernelSet) -> str:
    # a multi-index model's target kernels take scalars; the wrappers take arrays
    scalar = not kernels.committee and kernel.name.startswith(("Tg", "Eg"))
    return f"{kernel.name}_k" if scalar else kernel.name


def _cubature_parts(kernels: KernelSet) -> list[str]:
    """A committee's quadrature kernels: the rules, σ, σ', σ* printed from SymPy, and the
    cubature over each kernel's few fields."""
    from .printer import cubature_kernel_source, kernel_source

    parts = [cubature_prelude(kernels.quadrature_nodes)]
    parts += [kernel_source(name, ("x",), expr) for name, expr in kernels.functions.items()]
    return parts + [cubature_kernel_source(kernel.name, kernel.integrand)
                    for kernel in kernels.kernels]


def _ranked_cubature_parts(kernels: KernelSet, k: int) -> list[str]:
    """A multi-index target's quadrature kernels and sums: the rules by rank, σ, σ' and
    ``g_target(z1..zk)`` printed from SymPy, the kernels over their whole blocks, E[g²] (a
    number) and the target's sums calling the shared kernels."""
    from .printer import kernel_source, ranked_cubature_source, ranked_target_wrappers_source

    # fields: up to 3 students (Tgs) and the k latent ones
    parts = [ranked_cubature_prelude(kernels.quadrature_nodes, 3 + k,
                                     kernels.latent_covariance)]
    latent = tuple(f"z{r}" for r in range(1, k + 1))
    parts += [kernel_source("g_target", latent, expr) if name == "g"
              else kernel_source(name, ("x",), expr)
              for name, expr in kernels.functions.items()]
    numeric = [(kernel.name, kernel.args, kernel.integrand) for kernel in kernels.kernels
               if kernel.expr is None]
    source, calls = ranked_cubature_source(numeric, k)
    parts.append(source)
    parts += [kernel_source(_scalar_name(kernel, kernels), kernel.args, kernel.expr)
              for kernel in kernels.kernels if kernel.expr is not None]
    return [*parts, ranked_target_wrappers_source(k, calls)]


def _module_source(kernels: KernelSet, k: int, jacobian: bool = False,
                   tables: bool = False) -> str:
    """The generated module of one model: its kernels and the target's sums, and with
    ``jacobian`` their gradients for the drift's exact Jacobian: every kernel's partial
    derivatives (printed from SymPy as accumulators, or with ``tables`` their tables) and
    the target's (the loops that chain them are one module for every model,
    :func:`_jacobian_loops_module`)."""
    from .printer import kernel_accumulator_source, target_accumulators_source
    from .tables import kernel_table, table_accumulator_source

    parts = _drift_parts(kernels, k, tables)
    if jacobian:
        for kernel in kernels.kernels:
            if kernel.args:
                name = _scalar_name(kernel, kernels)
                table = kernel_table(kernel.args, kernel.expr) if tables else None
                parts.append(table_accumulator_source(name, table) if table is not None
                             else kernel_accumulator_source(name, kernel.args, kernel.expr))
        parts.append(template_body("committee_target_gradient") if kernels.committee
                     else target_accumulators_source(k, kernels.symbolic_target,
                                                     kernels.coefficients))
    errors = {str(name): float(value) for name, value in kernels.truncation_errors.items()}
    title = "kernels and their gradients" if jacobian else "kernels"
    return module_source(f"{title} of one model", parts, METHOD=kernels.method,
                         TRUNCATION_ERRORS=errors,
                         EXACT_JACOBIAN=all(kernel.expr is not None or not kernel.args
                                            for kernel in kernels.kernels))


@dataclass(frozen=True)
class BuildPlan:
    """What :class:`CompiledModel` will build for a model, known before building it.

    Attributes:
        model: the model.
        choice: the method chosen and why (:class:`~overlapdyn.derive.methods.Choice`).
        key: the generated module's cache key.
        cached: whether the module is already built (imported in this process or on disk):
            then building derives nothing; else SymPy derives the kernels now.
        truncation_errors: ``{function: relative L²(γ) error}`` of the Hermite truncation
            (the kernels' own for ``hermite``; what ``Auto`` measured when it chose); else
            empty.
        estimate: what a cold build makes and roughly how long it takes
            (:class:`~overlapdyn.compile.estimate.BuildEstimate`), whether or not cached.
    """

    model: Model
    choice: Choice
    key: str
    cached: bool
    truncation_errors: dict
    estimate: BuildEstimate

    @property
    def method(self) -> str:
        """The label of the method that will derive the kernels (``CompiledModel.method``)."""
        return self.choice.method.label

    def describe(self) -> str:
        """One line: the route, why, the truncation error, and cached (loading in about a
        second) or compiling now: how many kernels, their size and a rough time range."""
        errors = "; ".join(f"{name} {value:.1e}" for name, value
                           in self.truncation_errors.items())
        state = ("cached: loading the compiled module" if self.cached else
                 f"not cached: compiling now {self.estimate.describe()}, cached afterwards")
        return (f"kernels of {self.model.name}: {self.method} ({self.choice.reason})"
                + (f"; Hermite truncation error (relative L²) {errors}" if errors else "")
                + f"; {state}")


def _loops_module() -> ModuleType:
    """The generated module of the drift's loops (``templates/drift_loops.py``,
    ``state_evolution.py``), the same for every model: its kernels come as addresses
    (``templates/kernel_table.py``), so the loops are compiled once per cache folder."""
    key = source_key(__version__, TEMPLATE_VERSION, template_digest(), "drift loops")
    return load_shared_module(key, "the drift's loops, for every model", LOOP_TEMPLATES,
                              required=("KERNEL_NAMES", "KERNEL_TYPES", "evolve_steps",
                                        *LOOP_ENTRIES, *LOOP_ENTRIES.values()))


def _jacobian_loops_module() -> ModuleType:
    """The generated module of the exact Jacobian's loops (``templates/drift_jacobian.py``),
    the same for every model: kernels and their accumulators come as addresses
    (``templates/kernel_table.py``, ``gradient_table.py``); compiled once per cache folder."""
    key = source_key(__version__, TEMPLATE_VERSION, template_digest(), "drift jacobian")
    return load_shared_module(key, "the drift's exact Jacobian, for every model",
                              JACOBIAN_TEMPLATES,
                              required=("GRADIENT_NAMES", "GRADIENT_TYPES", "drift_jacobian"))


def _table_key() -> str:
    return source_key(__version__, TEMPLATE_VERSION, template_digest(), "table evaluator")


def _table_symbol() -> str:
    # the evaluator's name in the process, tied to its text (a model's module calls it by
    # this name, and is keyed on the same templates)
    return f"overlapdyn_evaluate_table_{_table_key()}"


def table_evaluator() -> str:
    """Compile (once per cache folder) or load the evaluator of polynomial kernel tables
    (``templates/polynomial_table.py``), register its address in this process under its
    symbol name, and return that name; a model whose kernels are tables
    (``templates/table_kernels.py``) calls it by that name, so this must run before such a
    model's module is compiled or loaded (:class:`CompiledModel` does)."""
    import llvmlite.binding as llvm  # numba's: only when compiling or loading

    symbol = _table_symbol()
    if symbol not in _REGISTERED:
        module = load_shared_module(_table_key(), "the evaluator of kernel tables",
                                    ("polynomial_table",), required=("evaluate_table",))
        llvm.add_symbol(symbol, module.evaluate_table.address)
        _REGISTERED[symbol] = module
    return symbol


# the evaluators registered in this process, held for its lifetime: their machine code must
# outlive every module that calls it by name (cache.clear() forgets imported modules)
_REGISTERED: dict[str, ModuleType] = {}


def _symbolic_target(model: Model, method: Derivation, tables: bool) -> bool:
    # tables keep a polynomial multi-index target's P and coefficients symbolic: arguments
    # of the target kernels, the loops' run-time P and v (formulas would grow with them for
    # nothing)
    from ..derive.kernels import has_symbolic_target

    return tables and has_symbolic_target(model, method)


def _module_key(model: Model, method: Derivation, tables: bool = False) -> str:
    """The cache key of the module of ``model``'s kernels derived by ``method`` (with
    ``tables``, the polynomial kernels as tables: another module, and one for every P of a
    polynomial multi-index target)."""
    from ..derive.kernels import kernel_identity

    symbolic = _symbolic_target(model, method, tables)
    parts = (__version__, TEMPLATE_VERSION, template_digest(), kernel_identity(model, symbolic),
             method.label, method.resolution, KINKED_NODES)
    return source_key(*parts, "tables", symbolic) if tables else source_key(*parts)


def plan_build(model: Model, derivation: Derivation | None = None,
               tables: bool | None = None) -> BuildPlan:
    """What ``CompiledModel(model, derivation, tables)`` will build, without building it:
    the method chosen (its choice is cheap: at most a few one-dimensional Hermite expansions,
    and the multi-index truncation measurement :class:`~overlapdyn.derive.methods.Auto`
    makes anyway), whether the kernels will be tables (:func:`uses_tables`), the cache key,
    and whether that module is already cached. Derives nothing.
    """
    from .estimate import estimate_build

    choice, key, tables, _, _ = _build_facts(model, check_derivation(derivation), tables)
    method = choice.method
    errors = dict(choice.truncation_errors)
    if not errors and isinstance(method, HermiteTruncation):
        errors = truncation_errors(model, method.order)
    return BuildPlan(model, choice, key, is_cached(key), errors,
                     estimate_build(model, method, tables))


def uses_tables(model: Model, method: Derivation) -> bool:
    """Whether :class:`CompiledModel` stores ``model``'s kernels derived by ``method`` (not
    :class:`~overlapdyn.derive.methods.Auto`) as coefficient tables when not told: on the
    routes whose kernels are polynomials (``exact``, ``hermite``) when the expansion size
    (:func:`~overlapdyn.compile.estimate.estimate_build`) is at least
    :data:`~overlapdyn.compile.tables.TABLE_EXPANSION` — where printed formulas take Numba
    longer than the tables' run-time price is worth (a He4 committee and above)."""
    from .estimate import estimate_build
    from .tables import TABLE_EXPANSION

    return (method.label in ("exact", "hermite")
            and estimate_build(model, method).expansion >= TABLE_EXPANSION)


def _build_facts(model: Model, derivation: Derivation, tables: bool | None
                 ) -> tuple[Choice, str, bool, bool, list[float]]:
    """What a build of ``model`` by ``derivation`` (``tables`` as given) is: the
    :class:`~overlapdyn.derive.methods.Choice`, the module's cache key, whether the kernels
    are tables, whether the target stays symbolic and then its coefficients
    (:func:`~overlapdyn.derive.kernels.target_coefficients`) — remembered on disk
    (:mod:`overlapdyn.compile.choices`: a model built before needs no SymPy here)."""
    def compute() -> tuple[Choice, str, dict]:
        from ..derive.kernels import target_coefficients

        choice = derivation.choose(model)
        method = choice.method
        used = uses_tables(model, method) if tables is None else bool(tables)
        symbolic = _symbolic_target(model, method, used)
        values = (target_coefficients(model.target.function(), model.k)[1].tolist()
                  if symbolic else [])
        facts = {"tables": used, "symbolic_target": symbolic, "coefficients": values}
        return choice, _module_key(model, method, used), facts

    choice, key, facts = remembered_choice(model, derivation, compute,
                                           options={"tables": tables})
    return (choice, key, bool(facts["tables"]), bool(facts["symbolic_target"]),
            [float(value) for value in facts["coefficients"]])


def _kernels_source(model: Model, method: Derivation, symbolic: bool, tables: bool,
                    jacobian: bool = False) -> str:
    """The generated source of ``model``'s kernels by ``method`` (derived now: SymPy)."""
    from ..derive.kernels import derive_kernels

    return _module_source(derive_kernels(model, method, symbolic), model.k, jacobian=jacobian,
                          tables=tables)


@dataclass(frozen=True)
class DriftTerms:
    """The expectations at one state (shapes: Az (p,k), Al (p,p), B (p,p), D (p,))."""

    Az: np.ndarray
    Al: np.ndarray
    B: np.ndarray
    D: np.ndarray


class CompiledModel:
    """A model's drift, compiled: derive (or load) the kernels, generate, compile, evaluate.

    Args:
        model: the model spec.
        derivation: how the kernels are obtained, one of the methods of
            :mod:`overlapdyn.derive.methods` (default
            :class:`~overlapdyn.derive.methods.Auto`: exact, closed form, quadrature or
            Hermite truncation, whichever applies first).
        tables: store the polynomial kernels (routes ``exact``, ``hermite``) as coefficient
            tables evaluated by one shared evaluator (:mod:`overlapdyn.compile.tables`;
            compiles in seconds at any degree, 1.3–6× slower per drift call) rather than print
            their formulas; None (default) decides by the size (:func:`uses_tables`). The
            attribute ``tables`` says which was built. Ignored by the other routes.

    The generated module is rendered from the kernels and the templates
    (:mod:`overlapdyn.compile.render`) and cached on disk (:mod:`overlapdyn.compile.cache`);
    ``from_cache`` tells whether this instance loaded it rather than deriving the kernels.
    The method chosen, whether the kernels are tables and the module's key are remembered
    on disk too (:mod:`overlapdyn.compile.choices`), so a model built before, of named
    activations, is loaded without importing SymPy; the loops' entries (``rhs``, ``risk``,
    ``terms``, ``guarded_rhs``, ``risk_path``) are loaded from Numba's cache on first use,
    each alone. ``source`` is the generated code; ``derivation`` is the method given,
    ``choice`` what it chose and why (:class:`~overlapdyn.derive.methods.Choice`),
    ``method`` the label of the method used.
    ``truncation_errors`` (``{function: relative L²(γ) error}``) are those of the Hermite
    truncation: the kernels' own with ``hermite``; with ``quadrature`` chosen by ``Auto``
    for a multi-index target, those that truncation would have had — why it was not chosen.
    ``target_vector`` is the loops' run-time ``v``: a committee's ``b c_k`` (shape (k,)),
    a symbolic multi-index target's coefficients ``gc_i``
    (:func:`~overlapdyn.derive.kernels.target_coefficients`, shape (n,)), else zeros (k,).
    """

    def __init__(self, model: Model, derivation: Derivation | None = None,
                 tables: bool | None = None) -> None:
        check_drift_cost(model)   # before any work: the drift's loops are O(p⁴)
        derivation = check_derivation(derivation)
        self.model = model
        self.derivation = derivation
        self.choice, key, used, symbolic, coefficients = _build_facts(model, derivation,
                                                                      tables)
        method = self.choice.method
        target = model.target
        self.tables: bool = used
        self._symbolic = symbolic
        self._loops = _loops_module()
        self._entries: dict = {}   # the loops' entries compiled for their types (_entry)
        if self.tables:
            table_evaluator()
        self.module, self.from_cache = load_module(
            key, lambda: _kernels_source(model, method, symbolic, used),
            required=("METHOD", "TRUNCATION_ERRORS", "EXACT_JACOBIAN",
                      *self._loops.KERNEL_NAMES))
        self._addresses = function_addresses(self.module, self._loops.KERNEL_NAMES,
                                             self._loops.KERNEL_TYPES)
        self._key = key
        self._resolved = method
        self.method: str = self.module.METHOD
        self.truncation_errors: dict = (dict(self.module.TRUNCATION_ERRORS)
                                        or dict(self.choice.truncation_errors))
        student, protocol = model.student, model.protocol
        if target.is_committee:
            self.target_vector = np.array(target.b, dtype=float) * target.c_k
        else:   # a multi-index target's kernels read v only when symbolic
            self.target_vector = np.array(coefficients if symbolic else np.zeros(model.k),
                                          dtype=float)
        # the kernels' types take C-contiguous float64 v and P (templates/kernel_table.py)
        self._P = np.array(target.gram, dtype=float, order="C")
        # the types the loops are compiled for (templates/drift_loops.py)
        self._args = (int(model.p), int(model.k), float(student.c_p), self.target_vector, self._P,
                      float(target.noise), protocol.loss == "mse", float(protocol.eta),
                      1.0 / protocol.n_b, float(protocol.weight_decay),
                      bool(protocol.spherical), bool(student.train_readout),
                      float(student.eta_a), np.array(student.a, dtype=float),
                      protocol.terms.coefficients)

    def _entry(self, name: str):
        """The loops' entry ``name`` (a key of :data:`LOOP_ENTRIES`), compiled for its type
        or loaded from Numba's cache on first use (a fresh process that integrates loads
        ``guarded_rhs`` and ``risk_path`` only)."""
        entry = self._entries.get(name)
        if entry is None:
            entry = self._entries[name] = compile_typed(
                getattr(self._loops, name), getattr(self._loops, LOOP_ENTRIES[name]))
        return entry

    @property
    def has_exact_jacobian(self) -> bool:
        """Whether :meth:`jacobian` is exact: every kernel has a SymPy formula (all but the
        quadrature kernels, numbers computed by cubature at run time, and a kinked
        activation's, sums of template calls)."""
        return bool(self.module.EXACT_JACOBIAN)

    @cached_property
    def _jacobian_parts(self) -> tuple[ModuleType, ModuleType, np.ndarray]:
        # built on first use: the gradients double the SymPy and Numba work of a model
        loops = _jacobian_loops_module()
        module, _ = load_module(f"{self._key}-jacobian", lambda: _kernels_source(
            self.model, self._resolved, self._symbolic, self.tables, jacobian=True),
            required=loops.GRADIENT_NAMES)
        return loops, module, function_addresses(module, loops.GRADIENT_NAMES,
                                                 loops.GRADIENT_TYPES)

    def jacobian(self, t: float, y: np.ndarray) -> np.ndarray:
        """The exact Jacobian ``∂(dy/dt)/∂y`` of :meth:`rhs` at ``y``, shape (n, n).

        Derived from the kernels' formulas (their partial derivatives are taken by SymPy
        and chained through the drift's loops), so it is exact up to rounding; ``t`` is
        unused. Quadrature kernels have no formula: there it raises — use
        :func:`overlapdyn.ode.jacobian`, which falls back to finite differences.
        """
        if not self.has_exact_jacobian:
            raise OverlapdynError(f"the {self.method} kernels of this model have no formula "
                                  "to differentiate: use overlapdyn.ode.jacobian "
                                  "(finite differences there)")
        loops, _, gradients = self._jacobian_parts
        return loops.drift_jacobian(self._addresses, gradients,
                                    np.ascontiguousarray(y, dtype=float), *self._args)

    def equations(self, format: str = "latex", kernels: bool = True):
        """The ODEs this model integrates, written out in the overlaps
        (:func:`~overlapdyn.derive.equations.drift_equations`, with the kernels of this
        model's derivation): the rates in E[G z], E[G λ], E[G Gᵀ] and E[e σ], these in the
        kernels with the sums over neurons kept, then the kernels' formulas.

        Args:
            format: ``"latex"`` (an ``align*`` environment), ``"mathematica"``
                (definitions) — both strings — or ``"sympy"``: the
                :class:`~overlapdyn.derive.equations.Equations`, whose ``evaluate``
                reproduces :meth:`drift` from the formulas alone.
            kernels: include the kernels' formulas in the text.
        """
        from ..derive.equations import drift_equations  # SymPy

        equations = drift_equations(self.model, self._resolved)
        return equations if format == "sympy" else equations.text(format, kernels=kernels)

    @cached_property
    def source(self) -> str:
        """The generated Python/Numba source of this model's kernels and target sums (the
        loops that call them, the same for every model, are :attr:`loops_source`)."""
        return open(self.module.__file__).read()

    @cached_property
    def loops_source(self) -> str:
        """The generated source of the drift's loops and the state evolution, shared by
        every model (their kernels come as addresses, ``templates/kernel_table.py``)."""
        return open(self._loops.__file__).read()

    # -------------------------------------------------------------- state packing

    @property
    def state_size(self) -> int:
        p, k = self.model.p, self.model.k
        return p * k + p * p + (p if self.model.student.train_readout else 0)

    def pack(self, M: np.ndarray, Q: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
        """``y = [M.ravel(), Q.ravel(), a]`` with shape checks (``a`` only if trained)."""
        p, k = self.model.p, self.model.k
        M = np.asarray(M, dtype=float)
        Q = np.asarray(Q, dtype=float)
        if M.shape != (p, k):
            raise OverlapdynError(f"M must have shape (p, k) = {(p, k)}, got {M.shape}")
        if Q.shape != (p, p):
            raise OverlapdynError(f"Q must have shape (p, p) = {(p, p)}, got {Q.shape}")
        parts = [M.ravel(), Q.ravel()]
        if self.model.student.train_readout:
            a = np.asarray(self.model.student.a if a is None else a, dtype=float)
            if a.shape != (p,):
                raise OverlapdynError(f"a must have shape (p,) = {(p,)}, got {a.shape}")
            parts.append(a)
        return np.concatenate(parts)

    def unpack(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Inverse of :meth:`pack`: ``(M, Q, a)`` (``a`` = the fixed readout if not trained)."""
        p, k = self.model.p, self.model.k
        M = y[: p * k].reshape(p, k)
        Q = y[p * k: p * k + p * p].reshape(p, p)
        a = y[p * k + p * p:] if self.model.student.train_readout else np.array(
            self.model.student.a, dtype=float)
        return M, Q, a

    # ----------------------------------------------------------------- evaluation

    def rhs(self, t: float, y: np.ndarray) -> np.ndarray:
        """``dy/dt`` at ``y`` (SPEC's ODEs, the parts ``protocol.terms`` keeps; ``t`` unused:
        the system is autonomous)."""
        return self._entry("rhs")(self._addresses, np.ascontiguousarray(y, dtype=float),
                               *self._args)

    def drift_call(self) -> tuple[int, np.ndarray, tuple]:
        """What compiled code needs to evaluate this drift itself (the overlap SDE's paths,
        :mod:`overlapdyn.ode.sde`): ``(address, kernels, arguments)``, the address of the
        compiled ``rhs`` of the shared loops (``templates/drift_loops.py``, of type
        ``RHS_TYPE``), the model's kernel addresses (int64) and the arguments that follow
        the state, so that ``rhs(kernels, y, *arguments)`` is :meth:`rhs` at ``y``."""
        from numba import types  # numba: only when compiled code asks for it

        kind = types.FunctionType(self._loops.RHS_TYPE)
        self._entry("rhs")   # compiled for its type, then its address
        address = function_addresses(self._loops, ("rhs",), (kind,))[0]
        return int(address), self._addresses, self._args

    def guarded_rhs(self, blowup: float):
        """The drift as an ODE solver calls it, guarded, in one compiled call per evaluation:
        a function of the packed state ``y`` (C-contiguous float64, shape (n,)) returning
        ``dy/dt`` as :meth:`rhs` does — zeros where ``y`` or the drift is not finite, and an
        empty array (shape (0,)) where ``max |y_i| > blowup``, for the caller to abandon
        the run. The checks cost nothing next to the drift (they were three NumPy
        reductions per call, ≈ 12 µs, three times a K = 2 committee's drift)."""
        guarded, addresses, args = self._entry("guarded_rhs"), self._addresses, self._args
        blowup = float(blowup)

        def drift(y: np.ndarray) -> np.ndarray:
            return guarded(addresses, y, *args, blowup)

        return drift

    def risks(self, states: np.ndarray) -> np.ndarray:
        """The population risk of every packed state: ``states`` (T, n), rows ``y`` as
        :meth:`pack` makes them; shape (T,), each entry as :meth:`risk` gives it, in one
        compiled call."""
        states = np.ascontiguousarray(states, dtype=float)
        p, k, c_p, v, P, noise = self._args[:6]
        if states.ndim != 2 or states.shape[1] != self.state_size:
            raise OverlapdynError(f"states must have shape (T, {self.state_size}), got "
                                  f"{states.shape}")
        return self._entry("risk_path")(self._addresses, states, p, k, c_p, v, P, noise,
                                     bool(self.model.student.train_readout), self._args[13])

    def drift(self, M, Q, a=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(dM/dt, dQ/dt, da/dt)`` at the given overlaps (``da`` None if a is fixed)."""
        dy = self.rhs(0.0, self.pack(M, Q, a))
        dM, dQ, da = self.unpack(dy)
        return dM, dQ, (da if self.model.student.train_readout else None)

    def drift_parts(self, M, Q, a=None) -> dict[str, tuple[np.ndarray, np.ndarray,
                                                            np.ndarray | None]]:
        """Each named part's share of the drift at the given overlaps, whether or not the
        model keeps it (:mod:`overlapdyn.model.terms`): ``{"gradient": (dM, dQ, da),
        "noise": …, "variance": …, "decay": …}``, shapes (p, k), (p, p), (p,) (``da`` None
        if a is fixed). The shares of the parts the model keeps add up to :meth:`drift`."""
        y = self.pack(M, Q, a)
        parts = {}
        for index, name in enumerate(TERM_NAMES):
            alone = np.zeros(len(TERM_NAMES))
            alone[index] = 1.0
            dy = self._entry("rhs")(self._addresses, y, *self._args[:-1], alone)
            dM, dQ, da = self.unpack(dy)
            parts[name] = (dM, dQ, da if self.model.student.train_readout else None)
        return parts

    def terms(self, M, Q, a=None) -> DriftTerms:
        """The expectations ``E[G z]``, ``E[G λ]``, ``E[G Gᵀ]``, ``E[e σ]`` at a state (the
        whole of ``E[G Gᵀ]``, label noise and I4 part, whatever ``protocol.terms`` keeps)."""
        M, Q, a = self.unpack(self.pack(M, Q, a))
        p, k, c_p, v, P, noise, mse = self._args[:7]
        return DriftTerms(*self._entry("terms")(self._addresses, np.ascontiguousarray(Q),
                                             np.ascontiguousarray(M), np.ascontiguousarray(a),
                                             c_p, v, P, noise, mse, 1.0))

    def evolve_steps(self, states: np.ndarray, risks: np.ndarray, start: int, stop: int,
                     alpha: float, blowup: float) -> int:
        """SPEC's large-batch map (``n_b = αd``), steps ``start+1 … stop``, in one compiled
        loop (``templates/state_evolution.py``).

        Args:
            states: packed states, shape (T, state size), C-contiguous float; row ``start``
                is read, rows ``start+1 … stop`` are written.
            risks: population risks, shape (T,); entries ``start+1 … stop`` are written.
            start, stop: ``0 ≤ start ≤ stop < T``.
            alpha: ``n_b/d``.
            blowup: a state with an entry not finite or above this in absolute value stops
                the loop.

        Returns:
            The number of valid rows: ``stop + 1``, or the step that blew up.
        """
        p, k, c_p, v, P, noise, mse, eta = self._args[:8]
        spherical, train_a, eta_a, a_fixed, parts = self._args[10:]
        if not (states.flags.c_contiguous and states.dtype == np.float64
                and risks.flags.c_contiguous and risks.dtype == np.float64
                and 0 <= start <= stop < len(states) == len(risks)):
            raise OverlapdynError("evolve_steps needs C-contiguous float states (T, n) and "
                                  f"risks (T,), and 0 ≤ start ≤ stop < T; got start {start}, "
                                  f"stop {stop}, shapes {states.shape}, {risks.shape}")
        rcond = np.finfo(float).eps * (p + k)   # what lstsq(rcond=None) drops for Ω (p+k square)
        # compiled on first use: it takes longer to compile than all the other loops
        evolve = compile_quietly(self._loops.evolve_steps, self._loops.EVOLVE_TYPE)
        return int(evolve(self._addresses, states, risks, int(start), int(stop), p, k, c_p, v,
                          P, noise, mse, eta, 1.0 / alpha, spherical, train_a, eta_a, a_fixed,
                          rcond, float(blowup), parts))

    def risk(self, M, Q, a=None) -> float:
        """Population risk ``R = ½ E[(y − ŷ)²]`` at the given overlaps (SPEC)."""
        M, Q, a = self.unpack(self.pack(M, Q, a))
        _, _, c_p, v, P, noise = self._args[:6]
        return float(self._entry("risk")(self._addresses, np.ascontiguousarray(Q),
                                       np.ascontiguousarray(M), np.ascontiguousarray(a),
                                       c_p, v, P, noise))
