"""The ``overlapdyn point CONFIG`` job: drift, risk and Jacobian eigenvalues at an overlap
point (M, Q, a), and optionally the fixed point Newton's method reaches from there."""

from __future__ import annotations

import argparse
import json

import numpy as np

from ..compile.compiled import CompiledModel
from ..errors import ConfigError
from ..io.toml import load_run
from ..model.spec import Model
from ..ode.analysis import find_fixed_point, stability
from ..ode.state import check_overlaps
from .build import add_derivation_option, build_model, chosen_derivation

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``overlapdyn point``."""
    parser.add_argument("config",
                        help="model TOML file (its [integrate] start is the default)")
    parser.add_argument("--M", help="M as JSON, e.g. '[[0.5, 0.1], [0.1, 0.5]]' (p×k)")
    parser.add_argument("--Q", help="Q as JSON (p×p)")
    parser.add_argument("--a", help="readout a as JSON (p), if trained")
    parser.add_argument("--fixed-point", action="store_true",
                        help="solve dy/dt = 0 from the point; print it and its eigenvalues")
    add_derivation_option(parser)


def _matrix(text: str | None, name: str) -> np.ndarray | None:
    """The option ``--name`` read as a JSON array of numbers (None when not given)."""
    if text is None:
        return None
    try:
        array = np.array(json.loads(text), dtype=float)
    except (ValueError, TypeError) as error:  # bad JSON, ragged rows, strings
        raise ConfigError(f"--{name} must be a JSON list of lists of numbers, e.g. "
                          f"'[[0.5, 0.1]]' (every row as long); got {text!r}") from error
    if not np.all(np.isfinite(array)):
        raise ConfigError(f"--{name} must hold finite numbers, got {text!r}")
    return array


def _check_point(model: Model, M: np.ndarray, Q: np.ndarray, a: np.ndarray | None) -> None:
    """Refuse a point no weights have: M must be p×k, Q p×p and symmetric, a of length p,
    and Ω = [[Q, M], [Mᵀ, P]] positive semi-definite (the check :func:`integrate` makes)."""
    p, k = model.p, model.k
    if M.shape != (p, k):
        raise ConfigError(f"--M must be p×k = {p}×{k} (one row per student neuron), got "
                          f"shape {M.shape}")
    _check_symmetric(Q)
    if Q.shape != (p, p):
        raise ConfigError(f"--Q must be p×p = {p}×{p}, got shape {Q.shape}")
    if a is not None and a.shape != (p,):
        raise ConfigError(f"--a must be a list of p = {p} numbers, got shape {a.shape}")
    check_overlaps(M, Q, model.target.gram, what="the point (--M, --Q)",
                   spherical=model.protocol.spherical)


def _check_symmetric(Q: np.ndarray) -> None:
    """Refuse a Q that is not symmetric: ``Q = WWᵀ/d`` always is, and the drift of a
    non-symmetric one is meaningless."""
    if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
        raise ConfigError(f"--Q must be a square p×p matrix, got shape {Q.shape}")
    asymmetry = float(np.max(np.abs(Q - Q.T))) if Q.size else 0.0
    if not asymmetry <= 1e-12 * max(float(np.max(np.abs(Q))), 1e-300):
        raise ConfigError(f"--Q must be symmetric (Q = WWᵀ/d), got max |Q − Qᵀ| = "
                          f"{asymmetry:.3g}:\n{Q}")


def run(args: argparse.Namespace) -> None:
    """``overlapdyn point``: print the drift, risk and eigenvalues at the point given (the
    file's start by default) and, with ``--fixed-point``, the fixed point reached from it.

    Arrays are printed with 6 digits inside :func:`numpy.printoptions`, so the caller's NumPy
    print options are left as they were.
    """
    model, config = load_run(args.config)
    derivation = chosen_derivation(args.derivation, args.config)
    M, Q, a = config.initial_state(model)
    M = _matrix(args.M, "M") if args.M else M
    Q = _matrix(args.Q, "Q") if args.Q else Q
    if args.a and not model.student.train_readout:
        raise ConfigError(f"--a sets a trained readout, but {model.name}'s readout is fixed "
                          f"(student.a = {list(model.student.a)}): drop --a, or change "
                          f"student.a or set student.train_readout = true in the file")
    a = _matrix(args.a, "a") if args.a else a
    _check_point(model, M, Q, a)
    # after the checks: a bad point costs no compile
    compiled, _ = build_model(model, derivation)
    with np.printoptions(precision=6, suppress=True, linewidth=100):
        print(f"model {model.name}: kernels {compiled.method}")
        dM, dQ, da = compiled.drift(M, Q, a)
        print(f"at M =\n{M}\nQ =\n{Q}\nrisk R = {compiled.risk(M, Q, a):.10g}")
        print(f"dM/dt =\n{dM}\ndQ/dt =\n{dQ}" + (f"\nda/dt = {da}" if da is not None else ""))
        values, _ = stability(compiled, M, Q, a)
        print(f"Jacobian eigenvalues (largest real parts): {values[:6]}")
        if args.fixed_point:
            _print_fixed_point(compiled, M, Q, a)


def _print_fixed_point(compiled: CompiledModel, M: np.ndarray, Q: np.ndarray,
                       a: np.ndarray | None) -> None:
    # a root outside the PSD cone is printed with the reason it is no state, not refused:
    # the command is for looking at the drift's landscape
    fixed = find_fixed_point(compiled, M, Q, a, on_outside="return")
    if not fixed.in_cone:
        print(f"\nWARNING: the root found from there is not a state of the dynamics: "
              f"{fixed.cone_violation.splitlines()[0]}")
    print(f"\nfixed point found from there (max |drift| {fixed.residual:.1e}):\n"
          f"M* =\n{fixed.M}\nQ* =\n{fixed.Q}\nrisk R* = {fixed.risk:.10g}\n"
          f"eigenvalues (largest real parts): {fixed.eigenvalues[:6]}\n"
          f"growth rate λ₊ = {fixed.growth_rate:.6g}"
          + (f" (leaving it from distance 1e-6 to 0.1 takes t ≈ "
             f"{fixed.time_to_leave(1e-6):.4g})" if fixed.growth_rate > 0 else " (stable)"))
