"""metastore: a local, DuckDB-backed catalog of image metadata with a search language.

    from metastore import Catalog
    paths = Catalog("metastore.duckdb").search("weather:rain quality_score>=80").paths()
"""

from __future__ import annotations

from .errors import (CatalogError, CatalogLockedError, ExportError, ImportFailed, MetastoreError, NotFoundError,
                     QueryError, QuerySemanticError, QuerySyntaxError, UsageError)

__all__ = [
    "Catalog", "compile_query", "MetastoreError", "QueryError", "QuerySyntaxError", "QuerySemanticError",
    "UsageError", "CatalogError", "CatalogLockedError", "NotFoundError", "ImportFailed", "ExportError",
]


def __getattr__(name: str):
    # Lazy: `import metastore` (and the CLI's --help, and shell completion) stays free of duckdb.
    if name == "Catalog":
        from .catalog import Catalog

        return Catalog
    if name == "compile_query":
        from .query import compile_query

        return compile_query
    raise AttributeError(name)
