"""Where a job writes: the folder given, or one named after the configuration file."""

from __future__ import annotations

from pathlib import Path

__all__ = ["output_folder"]


def output_folder(out: str | Path | None, config: str | Path, kind: str = "") -> Path:
    """``out`` when given, else ``outputs/<kind>-<config file stem>`` (``outputs/<stem>``
    without a ``kind``)."""
    if out is not None:
        return Path(out)
    stem = Path(config).stem
    return Path("outputs") / (f"{kind}-{stem}" if kind else stem)
