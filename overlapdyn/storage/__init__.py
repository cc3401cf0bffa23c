"""What every result needs to be saved and found again: the result protocol (one ``.npz``
per result), atomic writes, the one JSON conversion, library versions and the resumable
result store; and the registry of the in-memory caches (memos), so that one call reports or
clears them all.
"""

from .lazy import lazy_namespace

# Each name is imported from its module on first use (PEP 562), so that importing one module
# (``overlapdyn.storage.versions`` for ``overlapdyn.__version__``, the command line's
# ``--help``) does not import NumPy with the others.
_HOMES = {
    "encoding": ("json_digest", "jsonable"),
    "files": ("atomic_write", "atomic_write_text", "remove_stale_temporaries"),
    "memo": ("BoundedCache", "MemoInfo", "clear_memos", "memo_info", "memoised",
             "register_memo"),
    "results": ("Result", "archive_part", "archive_parts", "restore_part", "restore_parts",
                "saved_format"),
    "store": ("ResultStore", "open_manifest"),
    "versions": ("__version__", "library_versions"),
}
__getattr__, __dir__ = lazy_namespace(__name__, _HOMES)


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
