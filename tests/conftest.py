"""Test configuration: deterministic property tests unless asked otherwise.

``HYPOTHESIS_PROFILE=explore make test`` draws fresh random examples; the default profile
replays the same ones every run, so CI never turns red by chance.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
