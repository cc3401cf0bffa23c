"""What every result needs to be saved and found again: the result protocol (one ``.npz``
per result), atomic writes, the one JSON conversion, library versions and the resumable
result store; and the registry of the in-memory caches (memos), so that one call reports or
clears them all.
"""

from .encoding import (
    json_digest,
    jsonable,
)
from .files import (
    atomic_write,
    atomic_write_text,
    remove_stale_temporaries,
)
from .memo import (
    BoundedCache,
    MemoInfo,
    clear_memos,
    memo_info,
    memoised,
    register_memo,
)
from .results import (
    Result,
    archive_part,
    archive_parts,
    restore_part,
    restore_parts,
    saved_format,
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
    "archive_part",
    "archive_parts",
    "atomic_write",
    "atomic_write_text",
    "remove_stale_temporaries",
    "BoundedCache",
    "clear_memos",
    "json_digest",
    "jsonable",
    "library_versions",
    "memo_info",
    "memoised",
    "MemoInfo",
    "open_manifest",
    "register_memo",
    "restore_part",
    "restore_parts",
    "saved_format",
    "Result",
    "ResultStore",
]
