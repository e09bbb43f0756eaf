"""The catalog store: the only package that imports duckdb."""

from .catalog import Catalog, ImageInfo, KeyInfo, StoredValue, default_db
from .importer import ImportReport

__all__ = ["Catalog", "ImageInfo", "KeyInfo", "StoredValue", "ImportReport", "default_db"]
