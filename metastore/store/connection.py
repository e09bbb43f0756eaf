"""Opening the catalog file: locking, waiting, creating, and migrating. Imports duckdb."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import duckdb

from ..errors import CatalogError, CatalogLockedError, NotFoundError
from . import ddl


def quote(identifier: str) -> str:
    """The one quoting helper for SQL identifiers (all of which come from the catalog)."""
    return '"' + identifier.replace('"', '""') + '"'


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


def open_db(
    path: str | os.PathLike,
    *,
    read_only: bool,
    wait: float = 10.0,
    on_wait: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the catalog, waiting up to ``wait`` seconds for another process's lock."""
    path = Path(path)
    if read_only and not path.exists():
        raise NotFoundError(
            f"no catalog at {path}",
            help="import something first (metastore import FILE) or point --db / METASTORE_DB at a catalog",
        )
    if path.exists() and path.is_dir():
        raise CatalogError(f"{path} is a directory, not a catalog file", help="pass --db PATH/catalog.duckdb")
    deadline = time.monotonic() + max(wait, 0.0)
    told = False
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise CatalogError(f"cannot open catalog {path}: {_first_line(exc)}") from None
            if time.monotonic() >= deadline:
                raise CatalogLockedError(
                    f"catalog {path} is locked by another process",
                    help="wait for the other metastore command to finish, or pass --wait SECONDS",
                ) from None
            if not told and on_wait is not None:
                on_wait(f"catalog {path} is in use by another process; waiting up to {wait:g}s…")
                told = True
            time.sleep(0.1)
        except duckdb.Error as exc:
            raise CatalogError(
                f"cannot open catalog {path}: {_first_line(exc)}",
                help="is it a metastore catalog (a DuckDB file)?",
            ) from None
    try:
        con.execute("SET TimeZone = 'UTC'")
        _ensure_schema(con, path, read_only)
    except BaseException:
        con.close()
        raise
    return con


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _version(con) -> int | None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.CatalogException:
        return None
    return int(row[0]) if row else None


def _ensure_schema(con, path: Path, read_only: bool) -> None:
    version = _version(con)
    if version is None:
        has_tables = con.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0]
        if has_tables:
            raise CatalogError(f"{path} is a DuckDB file but not a metastore catalog")
        if read_only:
            raise CatalogError(f"{path} is empty; it is not a metastore catalog yet")
        con.execute("BEGIN")
        for stmt in ddl.CREATE:
            con.execute(stmt)
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(ddl.SCHEMA_VERSION)])
        con.execute("COMMIT")
        return
    if version > ddl.SCHEMA_VERSION:
        raise CatalogError(
            f"catalog {path} has schema version {version}; this metastore knows up to {ddl.SCHEMA_VERSION}",
            help="upgrade metastore (pip install -U metastore) to open it",
        )
    if version < ddl.SCHEMA_VERSION:
        if read_only:
            raise CatalogError(
                f"catalog {path} has an older schema (version {version})",
                help="run any writing command once (e.g. metastore import, set or tag) to migrate it",
            )
        con.execute("BEGIN")
        for v in range(version, ddl.SCHEMA_VERSION):
            for stmt in ddl.MIGRATIONS[v]:
                con.execute(stmt)
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(ddl.SCHEMA_VERSION)])
        con.execute("COMMIT")
