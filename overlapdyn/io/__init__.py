"""Files at the edge: configuration files (TOML) and a sweep's results as one labelled
dataset (netCDF).
"""

from .netcdf import (
    STATUS,
    aggregate,
    load_dataset,
    save_dataset,
)
from .toml import (
    load_depth_config,
    load_derivation,
    load_model,
    load_run,
    load_sweep,
    read_toml,
)

__all__ = [
    "aggregate",
    "load_dataset",
    "load_depth_config",
    "load_derivation",
    "load_model",
    "load_run",
    "load_sweep",
    "read_toml",
    "save_dataset",
    "STATUS",
]
