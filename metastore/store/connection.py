"""Opening the catalog file: locking, waiting, creating, and migrating. Imports duckdb.

Readers ATTACH the file read-only to this process's one in-memory DuckDB instance, which may keep
it attached between reads (``warm.py``: warm reads, and the registry that keeps one process from
holding a file through two handles). Writers open the file as a database of their own.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
import time
from pathlib import Path
from typing import Callable, Iterator

import duckdb

from ..errors import CatalogError, CatalogLockedError, NotFoundError, UsageError
from . import ddl
from .stamp import settled, stamp
from .txn import atomic
from .warm import _ENGINE, Handle, _InProcessConflict, _key, _unwant, want_write


def _connect_writer(path: Path) -> duckdb.DuckDBPyConnection:
    """A writer's connection: an in-memory instance (its built-in functions loaded) that ATTACHes
    the file and USEs it. Opening the file directly replays a leftover WAL (a writer killed right
    after COMMIT) before DuckDB has loaded core_functions, so the replay of e.g. a retype's ALTER
    ... USING strftime(...) asked to download that extension and every later writer failed."""
    db = duckdb.connect(":memory:", config={"temp_directory": str(path) + ".tmp"})
    try:
        db.execute("SELECT strftime(TIMESTAMP '2000-01-01', '%Y'), array_to_string(['a'], ','), "
                   "to_json(1), list_sort([1]), regexp_full_match('a', 'a')").fetchall()
        db.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS {WRITER_ALIAS}")
        db.execute(f"USE {WRITER_ALIAS}")
    except BaseException:
        db.close()
        raise
    return db


#: The name a writer's connection gives the catalog it attaches (``current_database()``).
WRITER_ALIAS = "catalog"


def quote(identifier: str) -> str:
    """Quote an SQL identifier for the store's own statements (identifiers come from the catalog;
    search SQL quotes through ``query.compiler.quote``, per dialect)."""
    return '"' + identifier.replace('"', '""') + '"'


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


#: A writer that finds the file locked retries at least this long, so idle readers can let go
#: (even with ``--wait 0``); a real lock holder still makes it give up after that.
GRACE_SECONDS = 0.5


def open_db(
    path: str | os.PathLike,
    *,
    read_only: bool,
    wait: float = 10.0,
    on_wait: Callable[[str], None] | None = None,
):
    """Open the catalog, waiting up to ``wait`` seconds for another process's lock (or for this
    process's own use of the file the other way). Read-only: the file attached to the engine;
    writing: a DuckDB database of its own. Either way a :class:`Handle`; close it when done."""
    path = Path(path)
    if read_only and not path.exists():
        raise NotFoundError(
            f"no catalog at {path}",
            help="import something first (metastore import FILE) or point --db / METASTORE_DB at a catalog",
        )
    if path.exists() and path.is_dir():
        raise CatalogError(f"{path} is a directory, not a catalog file", help="pass --db PATH/catalog.duckdb")
    if "\\" in str(path):  # DuckDB reads a backslash as a folder separator: it would open another file
        raise CatalogError(f"the catalog path {path} holds a backslash, which DuckDB reads as a folder separator",
                           help="choose a file name without '\\'")
    start = time.monotonic()
    deadline = start + max(wait, 0.0)
    told = signalled = False
    key = _key(path)
    while True:
        in_process = False
        try:
            if read_only:
                con = _ENGINE.attach(key)
            else:
                _ENGINE.begin_write(key)
                try:
                    con = Handle(_connect_writer(path), key, _ENGINE.end_write)
                except BaseException:
                    _ENGINE.end_write(key)
                    raise
            break
        except _InProcessConflict:
            in_process = True
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                _check_magic(path)
                raise CatalogError(f"cannot open catalog {path}: {_first_line(exc)}") from None
        except duckdb.Error as exc:
            _check_magic(path)
            raise CatalogError(
                f"cannot open catalog {path}: {_first_line(exc)}",
                help="is it a metastore catalog (a DuckDB file)?",
            ) from None
        if not in_process and not read_only:
            want_write(key)  # readers elsewhere keeping the file warm: let go
            signalled = True
        now_t = time.monotonic()
        if now_t >= deadline and (in_process or read_only or now_t - start >= GRACE_SECONDS):
            if signalled:
                _unwant(key)
            if in_process:
                raise CatalogLockedError(
                    f"catalog {path} is open for {'writing' if read_only else 'reading'} elsewhere in this process",
                    help="close the other connection (or search result) first",
                ) from None
            raise CatalogLockedError(
                f"catalog {path} is locked by another process",
                help="wait for the other metastore command to finish, or pass --wait SECONDS",
            ) from None
        # a writer says so once idle readers had their moment to let go (or its --wait is up)
        quiet = not (in_process or read_only) and now_t - start < min(GRACE_SECONDS, wait)
        if not told and on_wait is not None and not quiet:
            on_wait(f"catalog {path} is in use by another {'thread' if in_process else 'process'}; "
                    f"waiting up to {wait:g}s…")
            told = True
        time.sleep(0.01 if in_process else 0.05 if signalled and now_t - start < GRACE_SECONDS else 0.1)
    if signalled:
        _unwant(key)
    try:
        if not read_only:
            con.execute("SET TimeZone = 'UTC'")
            _ensure_schema(con, path, read_only)
        elif _ENGINE._checked.get(key) != (now := stamp(key)):
            _ensure_schema(con, path, read_only)
            if settled(now):  # this file, unchanged, was already found current: skip the query
                _ENGINE._checked[key] = now
    except BaseException:
        con.close()
        raise
    return con


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_magic(path: Path) -> None:
    """After DuckDB failed to open ``path``: say so when it is not a DuckDB file at all (an SQLite
    file made DuckDB try to download its sqlite_scanner extension). Only on that failure path: a
    process that opens and closes a file it holds through DuckDB drops DuckDB's POSIX lock."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc.strerror or exc}") from None
    if not head:
        return  # an empty file becomes a new catalog
    if head.startswith(b"SQLite format 3"):
        raise CatalogError(f"{path} is an SQLite database, not a metastore catalog",
                           help="pass --db with a metastore catalog (a DuckDB file), or a new file name")
    if head[8:12] != b"DUCK":
        raise CatalogError(f"{path} is not a metastore catalog (not a DuckDB file)",
                           help="pass --db with a metastore catalog, or a new file name")


def _version(con, path: Path) -> int | None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except duckdb.CatalogException:
        return None
    except duckdb.Error:  # a 'meta' table of someone else's (other columns)
        raise CatalogError(f"{path} is a DuckDB file but not a metastore catalog (its 'meta' table is not "
                           f"metastore's)", help="pass --db with a metastore catalog, or a new file name") from None
    if not row:
        return None
    try:
        return int(str(row[0]).strip())
    except ValueError:
        raise CatalogError(f"catalog {path} has schema version {str(row[0])[:40]!r}, which is not a number: "
                           f"the file is damaged or not a metastore catalog",
                           help="restore it from a backup, or pass --db with another catalog") from None


def _ensure_schema(con, path: Path, read_only: bool) -> None:
    version = _version(con, path)
    if version is None:
        has_tables = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database()").fetchone()[0]
        if has_tables:
            raise CatalogError(f"{path} is a DuckDB file but not a metastore catalog")
        if read_only:
            raise CatalogError(f"{path} is empty; it is not a metastore catalog yet")
        with atomic(con):
            for stmt in ddl.CREATE:
                con.execute(stmt)
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(ddl.SCHEMA_VERSION)])
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
        with atomic(con):
            for v in range(version, ddl.SCHEMA_VERSION):
                for stmt in ddl.MIGRATIONS[v]:
                    con.execute(stmt)
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(ddl.SCHEMA_VERSION)])


@contextmanager
def scratch() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory catalog, for a dry run against a catalog that does not exist yet."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    for stmt in ddl.CREATE:
        con.execute(stmt)
    try:
        yield con
    finally:
        con.close()


def forget_new_catalog(path: Path) -> None:
    """Remove the catalog file (and its WAL) that a write of this process created and then wrote
    nothing into (a failed first import): a failed import leaves no catalog behind. Called right
    after the writer closed it; a catalog another writer opened and wrote in that instant would
    be lost, which needs two first imports into one new file at once, one of them failing."""
    for leftover in (Path(str(path) + ".wal"), Path(path)):
        try:
            leftover.unlink()
        except FileNotFoundError:
            pass


#: DuckDB memory for one import on a writer's connection. Past it, the import's TEMP tables (the
#: all-text stage, the option maps …) spill to the catalog's own temp folder (``<catalog>.tmp``)
#: instead of growing the process: issue 16 measured 4.3 GB at 10M rows without it.
IMPORT_MEMORY_LIMIT = "1GB"
#: The environment variable that sets it for one run (``METASTORE_IMPORT_MEMORY=4GB``).
IMPORT_MEMORY_ENV = "METASTORE_IMPORT_MEMORY"
_MEMORY_RE = re.compile(r"\s*\d+(?:\.\d+)?\s*(?:[KMGT]i?B)\s*", re.I | re.A)


def import_memory_limit() -> str:
    """The import's memory cap: ``$METASTORE_IMPORT_MEMORY`` when set, else ``IMPORT_MEMORY_LIMIT``."""
    value = os.environ.get(IMPORT_MEMORY_ENV)
    if value is None or value == "":
        return IMPORT_MEMORY_LIMIT
    if not _MEMORY_RE.fullmatch(value):
        raise UsageError(f"{IMPORT_MEMORY_ENV}={value!r} is not an amount of memory",
                         help=f"give a number and a unit, e.g. {IMPORT_MEMORY_ENV}=4GB (KB, MB, GB, TB)")
    return value.strip()


@contextmanager
def bounded_memory(con, limit: str | None = None) -> Iterator[None]:
    """Cap DuckDB's memory on a writer's connection for the block (restored after). Only where
    the connection spills to the catalog's folder (a writer's ``<catalog>.tmp``): an in-memory
    scratch catalog would spill to the working directory, so it is left alone."""
    spill = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    if not spill.endswith(".tmp") or os.path.basename(spill) == ".tmp":
        yield
        return
    con.execute(f"SET memory_limit = '{limit or import_memory_limit()}'")
    try:
        yield
    finally:
        try:
            con.execute("RESET memory_limit")
        except duckdb.Error:  # a broken connection: it is closed next, the setting with it
            pass
