"""Test configuration: deterministic property tests, and a kernel cache per test process.

``HYPOTHESIS_PROFILE=explore make test`` draws fresh random examples; the default profile
replays the same ones every run, so CI never turns red by chance.

``make test`` runs the suite in one process per core (pytest-xdist, ``--dist loadfile``: a
file's tests share a process, so a model is compiled once for them). Each process gets its
own cache folder: the simulator's ``parallel=True`` functions are cached, and processes
that compile and write the same ones at the same time are numba issue 4807's configuration
(see :mod:`overlapdyn.compile.policy`).
"""

import os
from pathlib import Path

from hypothesis import settings

# Generated kernels and Numba's machine code go to a folder of the checkout, so the suite
# never touches ~/.cache and a second run is warm.
_CACHE = Path(__file__).resolve().parents[1] / ".cache" / "kernels"
os.environ.setdefault("OVERLAPDYN_CACHE_DIR",
                      str(_CACHE / os.environ.get("PYTEST_XDIST_WORKER", "main")))

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
