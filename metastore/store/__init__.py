"""The catalog store: the only package that imports duckdb.

The :class:`~metastore.catalog.Catalog` facade sits above it (and above ``export.py``); nothing
here imports upward. Names are loaded lazily, so ``metastore.store.stats`` (shell completion) can
answer from its cache without importing duckdb.
"""

__all__ = ["ImportReport"]


def __getattr__(name: str):
    if name == "ImportReport":
        from .importer import ImportReport

        return ImportReport
    raise AttributeError(name)
