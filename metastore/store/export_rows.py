"""The DuckDB side of export: the rows of a search, the catalog's state, and parquet files.

The rows for exports that go through Python (media placement, ``json``, and rebuilding a
pre-issue-16 BLAKE2b export); manifests written by DuckDB itself are ``export_sql.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import duckdb

from .. import schema as S
from .connection import quote


def search_rows(result) -> list[tuple]:
    """Every row of a :class:`~metastore.store.search.SearchResult` as tuples
    ``(path, media_id, <column values>…)``, in the result's order."""
    with result.catalog.reading() as con:
        return con.execute(result.sql, result.params).fetchall()


def catalog_state(catalog) -> dict:
    """What identifies the catalog's content now: image count, the last import or edit, and the
    keys with their types. Two equal states mean no import, edit or undo happened in between."""
    with catalog.reading() as con:
        images = con.execute("SELECT count(*) FROM images").fetchone()[0]
        last = con.execute("SELECT id, kind, ts FROM sources ORDER BY id DESC LIMIT 1").fetchone()
        undone = con.execute("SELECT count(*) FROM sources WHERE undone_by IS NOT NULL").fetchone()[0]
        fields = con.execute("SELECT name, type FROM fields ORDER BY name").fetchall()
    return {
        "images": int(images),
        "last_source_id": int(last[0]) if last else None,
        "last_source_kind": last[1] if last else None,
        "last_source_at": (last[2].isoformat() + "Z") if last and last[2] is not None else None,
        "undone_sources": int(undone),
        "fields": [[name, type_] for name, type_ in fields],
    }


def write_parquet(path: Path, names: Sequence[str], types: Sequence[str], columns: Sequence[list]) -> None:
    """Write columns (lists of Python values, one list per column) to a parquet file.

    ``types`` are metastore field types (``"string"`` for path, media_id, split)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        cols = ", ".join(f"{quote(n)} {S.SQL_TYPES[t]}" for n, t in zip(names, types))
        con.execute(f"CREATE TABLE manifest ({cols})")
        if columns and len(columns[0]):
            holders = ", ".join(f"unnest(${i + 1}::{S.SQL_TYPES[t]}[])" for i, t in enumerate(types))
            con.execute(f"INSERT INTO manifest SELECT {holders}", list(columns))
        con.execute(f"COPY manifest TO '{_sql_text(str(path))}' (FORMAT parquet)")
    except duckdb.IOException as exc:  # disk full, read-only folder: the caller reports it as a file error
        raise OSError(str(exc).split("\n")[0]) from None
    finally:
        con.close()


def _sql_text(text: str) -> str:
    """A file name as an SQL string literal body (COPY … TO does not take parameters)."""
    return text.replace("'", "''")
