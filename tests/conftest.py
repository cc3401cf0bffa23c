"""Test configuration: deterministic property tests unless asked otherwise.

``HYPOTHESIS_PROFILE=explore make test`` draws fresh random examples; the default profile
replays the same ones every run, so CI never turns red by chance.
"""

import os
from pathlib import Path

from hypothesis import settings

# Generated kernels and Numba's machine code go to a folder of the checkout, so the suite
# never touches ~/.cache and a second run is warm.
os.environ.setdefault("OVERLAPDYN_CACHE_DIR",
                      str(Path(__file__).resolve().parents[1] / ".cache" / "kernels"))

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
