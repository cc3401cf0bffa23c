"""Test configuration: deterministic property tests, and a kernel cache per test process.

``HYPOTHESIS_PROFILE=explore make test`` draws fresh random examples; the default profile
replays the same ones every run, so CI never turns red by chance.

``make test`` runs the suite in one process per core (pytest-xdist, ``--dist loadfile``: a
file's tests share a process, so a model is compiled once for them). Each process gets its
own cache folder: processes that compile the same module into one folder at the same time
can write Numba cache files that disagree on the functions' internal names (numba issues
10128 and 4807: segmentation faults on the next load; see :mod:`overlapdyn.compile.policy`).
"""

import os
from pathlib import Path

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
