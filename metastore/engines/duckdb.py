"""The search language over a published folder, on DuckDB (``metastore publish --out DIR``).

    from metastore.engines import duckdb as engine
    rel = engine.search("DIR", "temperature>70 location:warehouse-3")
    rel.fetchall(); rel.arrow(); rel.df()

The types come from ``DIR/metastore.json``; the SQL from the compiler's duckdb dialect over the
columns named by key. The DuckDB work itself lives in the store (the only code importing duckdb).
"""

from __future__ import annotations

from datetime import datetime


def search(path, query: str = "", *, now: datetime | None = None, tz: str = "UTC", con=None):
    """A DuckDB relation of the published images matching ``query`` (every column, path order).
    ``path`` is the folder ``metastore publish`` wrote (or its ``images/`` or ``metastore.json``);
    ``con`` an optional DuckDB connection to run it on."""
    from ..store.publish import search_folder

    return search_folder(path, query, now=now, tz=tz, con=con)


__all__ = ["search"]
