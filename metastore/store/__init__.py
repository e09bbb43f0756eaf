"""The catalog store: the only package that imports duckdb.

Names are loaded lazily, so ``metastore.store.stats`` (shell completion) can answer from its
cache without importing duckdb.
"""

__all__ = ["Catalog", "ImageInfo", "KeyInfo", "StoredValue", "ImportReport", "default_db"]


def __getattr__(name: str):
    if name in ("Catalog", "ImageInfo", "KeyInfo", "StoredValue", "default_db"):
        from . import catalog

        return getattr(catalog, name)
    if name == "ImportReport":
        from .importer import ImportReport

        return ImportReport
    raise AttributeError(name)
