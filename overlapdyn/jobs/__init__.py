"""The jobs behind the command line, one module per command (``jobs/<command>.py``).

:data:`COMMANDS` names the commands and says what each does in one line; each command's
module declares its options (``add_arguments(parser)``, and an optional ``EPILOG`` shown
after them) and runs it from the parsed options (``run(args)``). :mod:`overlapdyn.cli`
assembles the parser, importing only the module of the command that runs, so that
``overlapdyn --help`` imports none.
"""

__all__ = ["COMMANDS"]

#: the commands in the order ``overlapdyn --help`` lists them, each with its one-line help
COMMANDS: dict[str, str] = {
    "demo": ("derive and check a few expectations; tabulate Hermite coefficients and "
             "information exponents"),
    "expect": "exact E[...] over Ω = [[Q, M], [Mᵀ, P]] of fields lambda1..p, z1..k",
    "hermite": "Hermite coefficients of an activation",
    "equations": ("the ODEs of a model TOML file written out in the overlaps, as LaTeX, "
                  "Mathematica or SymPy (nothing is compiled)"),
    "ode": ("integrate the overlap ODEs of a model TOML file (see examples/) and write "
            "trajectory, config and figures"),
    "point": ("drift, risk and Jacobian eigenvalues at an overlap point; optionally the fixed "
              "point (e.g. a plateau) reached by Newton's method from there"),
    "validate": ("simulate SGD at several d, compare with the ODE started at each run's "
                 "overlaps, and fit how the gap shrinks with d (theory d^-1/2); resumable"),
    "sweep": ("run a parameter sweep (a model TOML file with a [sweep] table) on Dask — a "
              "local cluster, or --scheduler ADDRESS — into a resumable result store"),
    "scaling": ("information exponent / leap, predicted sample complexity, and escape times "
                "from a random start measured over d, with fitted exponents"),
    "learnability": ("what online SGD, SGD with data reuse and AMP / spectral methods need to "
                     "learn a target: leap, generative exponent, weak-recovery thresholds"),
    "depth": ("hierarchical (SIGHT) target: three-layer layer-wise training vs two-layer, "
              "kernel and random features over κ = log n/log d (the paper's Fig. 2)"),
    "plot": ("draw the figures of a saved result again (a trajectory, simulation, validation "
             "report, escape times, depth result)"),
    "cache": "show or clear the cache of generated and compiled code",
}
