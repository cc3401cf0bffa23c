"""Test configuration: deterministic property tests, and a kernel cache per test process.

``HYPOTHESIS_PROFILE=explore make test`` draws fresh random examples; the default profile
replays the same ones every run, so CI never turns red by chance.

``make test`` runs the suite in one process per core (pytest-xdist, ``--dist loadfile``).
Every test file is a unit that one process runs whole, so a model is compiled once for its
tests; files that build the same models are one unit (:data:`SHARED_BUILDS`, a scheduler of
our own: xdist's ``loadgroup`` marks do not group under pytest 9), and the longest units start
first (:data:`LONGEST_FIRST`), so that no process is left alone with a long one at the end.
Each process gets its own cache folder: processes that compile the same module into one
folder at the same time can write Numba cache files that disagree on the functions' internal
names (numba issues 10128 and 4807: segmentation faults on the next load; see
:mod:`overlapdyn.compile.policy`).
"""

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Generated kernels and Numba's machine code go to a folder of the checkout, so the suite
# never touches ~/.cache and a second run is warm.
# The controller process picks the folder first and its workers inherit its environment, so
# a worker replaces a folder that this file chose (marked) by its own; a folder the user set
# is kept as it is.
_CACHE = Path(__file__).resolve().parents[1] / ".cache" / "kernels"
if os.environ.get("OVERLAPDYN_TEST_CACHE") == "1" or "OVERLAPDYN_CACHE_DIR" not in os.environ:
    os.environ["OVERLAPDYN_CACHE_DIR"] = str(
        _CACHE / os.environ.get("PYTEST_XDIST_WORKER", "main"))
    os.environ["OVERLAPDYN_TEST_CACHE"] = "1"

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# Files whose tests build the same models (cold builds of 10–30 s each): one process runs
# them all, which builds each model once instead of once per process.
SHARED_BUILDS = {
    # the single-index, staircase and leap models of the scaling tests and notebook 03 are
    # also among the derivation routes checked against cubature; the exact Jacobian's loops
    # (20 s to compile) serve the Jacobian's tests, fixed points and `overlapdyn point` (the
    # erf committee's); the tanh quadrature modules serve the Jacobian's and the templates'
    # tests too
    "tests/compile/test_compiled.py": "compile and scaling",
    "tests/compile/test_tables.py": "compile and scaling",
    "tests/compile/test_templates.py": "compile and scaling",
    "tests/compile/test_estimate.py": "compile and scaling",
    "tests/compile/test_cache.py": "compile and scaling",
    "tests/compile/test_jacobian.py": "compile and scaling",
    "tests/jobs/test_ode_job.py": "compile and scaling",
    "tests/scaling/test_escape.py": "compile and scaling",
    "tests/test_notebooks.py": "compile and scaling",
    "tests/jobs/test_scaling_job.py": "compile and scaling",
    "tests/ode/test_state_evolution.py": "compile and scaling",
    "tests/ode/test_integrate.py": "compile and scaling",
    "tests/ode/test_fast_paths.py": "compile and scaling",
    "tests/ode/test_fixed_points.py": "compile and scaling",
    "tests/jobs/test_cli.py": "compile and scaling",
    "tests/jobs/test_derivation_option.py": "compile and scaling",
    # simulators: the linear model's (sweeps), the erf committee's (and its drift, which the
    # fresh-process test loads), the staircase's
    "tests/jobs/test_validate_job.py": "simulators",
    "tests/sgd/test_simulate.py": "simulators",
    "tests/storage/test_results.py": "simulators",
    "tests/sweeps/test_sweep.py": "simulators",
    "tests/ode/test_evolve_arguments.py": "simulators",
    "tests/ode/test_fresh_process.py": "simulators",
    # the relu and |x| committees' kinked modules
    "tests/derive/test_kinked.py": "kinked",
    "tests/ode/test_rough_kernels.py": "kinked",
    "tests/sgd/test_kinked_validation.py": "kinked",
    # the state evolution's loops (about 15 s to compile with the drift's)
    "tests/test_bad_inputs.py": "state evolution",
    "tests/readout/test_readout.py": "state evolution",
    "tests/readout/test_staircase.py": "state evolution",
    # the drift terms: the He3 and erf committees' kernels and Jacobians, the state
    # evolution's loops (about 2 minutes cold together)
    "tests/ode/test_drift_terms.py": "drift terms",
    "tests/ode/test_terms_results.py": "drift terms",
    # the data-reuse modules
    "tests/reuse/test_closed_form.py": "reuse",
    "tests/reuse/test_simulator.py": "reuse",
    "tests/reuse/test_reuse_kernels.py": "reuse",
    "tests/reuse/test_dmft.py": "reuse",
    "tests/reuse/test_reuse_escape.py": "reuse online",
    "tests/reuse/test_reuse_hard_case.py": "reuse online",
    "tests/reuse/test_reuse_ode.py": "reuse online",
}

# Single tests that run in another unit than their file's: the depth notebook (about a minute)
# builds the depth experiment's models, not the compile group's, and would otherwise lengthen
# that group, the suite's longest.
MOVED_TESTS = {
    "tests/test_notebooks.py::test_notebook_runs[04_depth.ipynb]":
        "tests/depth/test_hierarchical.py",
    # the giant-steps notebook builds the staircase tests' softplus model
    "tests/test_notebooks.py::test_notebook_runs[07_giant_steps.ipynb]": "state evolution",
    # the learnability notebook's two-field state evolution, the data-reuse notebook's
    # online-reuse models
    "tests/test_notebooks.py::test_notebook_runs[05_learnability.ipynb]":
        "tests/limits/test_bayes_multi.py",
    "tests/test_notebooks.py::test_notebook_runs[06_data_reuse.ipynb]": "reuse online",
}

# The longest units, longest first (measured on a clean clone); the rest follow in the
# order they are collected. Only the wall time depends on this list, never a result.
LONGEST_FIRST = ("compile and scaling", "simulators", "kinked",
                 "tests/depth/test_hierarchical.py", "tests/derive/test_hermite.py",
                 "tests/test_docs.py")


def _unit(nodeid: str) -> str:
    """The unit of a test: its file, or the shared unit its file (or the test) belongs to."""
    if nodeid in MOVED_TESTS:
        return MOVED_TESTS[nodeid]
    path = nodeid.split("::", 1)[0]
    return SHARED_BUILDS.get(path, path)


def pytest_collection_modifyitems(config, items):
    """The longest units first, the rest in the order collected (every process sorts
    alike, as xdist requires)."""
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_unit(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)   # a hook of pytest-xdist: absent without it
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadfile``: xdist's file scheduling with :func:`_unit` as the unit, the
    units handed out in the order collected (not xdist's default, most tests first)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedBuildScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    config.option.loadscopereorder = False
    return SharedBuildScheduling(config, log)
