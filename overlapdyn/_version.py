"""The installed version (set in pyproject.toml), importable without the package's API."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("overlapdyn")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
