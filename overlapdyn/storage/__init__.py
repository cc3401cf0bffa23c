"""What every result needs to be saved and found again: atomic writes, the one JSON
conversion, library versions and the resumable result store.
"""

from .encoding import (
    json_digest,
    jsonable,
)
from .files import (
    atomic_write,
    atomic_write_text,
)
from .store import (
    ResultStore,
    open_manifest,
)
from .versions import (
    __version__,
    library_versions,
)

__all__ = [
    "__version__",
    "atomic_write",
    "atomic_write_text",
    "json_digest",
    "jsonable",
    "library_versions",
    "open_manifest",
    "ResultStore",
]
