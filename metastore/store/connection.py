"""Opening the catalog file: locking, waiting, creating, and migrating. Imports duckdb.

Readers do not open a DuckDB database per operation: building a DuckDB instance costs ~30 ms
whatever the file, so the process keeps one in-memory instance (the *engine*) and ATTACHes the
catalog to it read-only (~1–2 ms). Writers open the file as its own database.

Warm reads. DETACH drops DuckDB's cached column data, so the next read starts cold (1.3–1.8×
the same query on an open connection). The engine therefore keeps a catalog attached after its
last reader closes — *warm* — while three things hold:

* no writer is waiting for it: a writer that finds the file locked (in any process) touches
  ``<catalog>.write-wanted`` each time it retries (:func:`want_write`); a watcher thread in each
  reading process looks for a fresh one every :data:`POLL_SECONDS` and detaches its idle
  catalogs at once, so a writer waits at most about one poll longer than for a running read;
* the file's stamp (``stamp.py``) is the one it had when attached: a write that bypassed the
  lock (another handle in this process) means re-attach, never stale pages;
* it was used in the last :data:`LINGER_SECONDS` (a writer that does not know the signal, such
  as a plain ``duckdb`` session, waits at most that long).

A writer in this process simply detaches idle catalogs first. :func:`release_idle` detaches them
on demand (e.g. before opening the file with a raw ``duckdb.connect()``).

One rule keeps this safe: a process must never hold the same file through two handles, because
POSIX file locks belong to the process and closing either handle drops both. So this module
keeps a registry: a path attached for reading cannot be opened for writing in the same process
until the readers close, and the other way round; a conflict waits like another process's lock.
(Code that also opens the catalog with its own ``duckdb.connect()`` in the same process is
outside the registry: close such connections before using a ``Catalog`` on the same file.)
"""

from __future__ import annotations

import itertools
import os
import re
from contextlib import contextmanager
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import duckdb

from ..errors import CatalogError, CatalogLockedError, NotFoundError, UsageError
from . import ddl
from .stamp import settled, stamp
from .txn import atomic


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


#: Results pages up to this many rows (limit + offset) fetch their columns after the sort.
LATE_ROWS = 2000
#: How often a reading process looks for a waiting writer's signal (seconds).
POLL_SECONDS = 0.02
#: An idle attach is released after this long unused (seconds).
LINGER_SECONDS = float(os.environ.get("METASTORE_READ_LINGER", "5"))
#: A signal younger than this means a writer is waiting (writers renew it every retry).
_FRESH_SECONDS = 1.0
#: A writer that finds the file locked retries at least this long, so idle readers can let go
#: (even with ``--wait 0``); a real lock holder still makes it give up after that.
GRACE_SECONDS = 0.5


def signal_path(key: str) -> str:
    return key + ".write-wanted"


def want_write(key: str) -> None:
    """Tell readers in other processes that a writer waits for ``key`` (renews the signal)."""
    try:
        fd = os.open(signal_path(key), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError:
        return  # cannot signal (read-only folder, a symlink planted there): wait as before
    try:
        os.utime(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unwant(key: str) -> None:
    try:
        os.unlink(signal_path(key))
    except OSError:
        pass


def _writer_waits(key: str) -> bool:
    try:
        st = os.lstat(signal_path(key))
    except OSError:
        return False
    return abs(time.time() - st.st_mtime) < _FRESH_SECONDS


class _InProcessConflict(Exception):
    """The path is held the other way (reading vs writing) by this process."""


class Handle:
    """An open catalog: use it like the DuckDB connection it wraps. ``close()`` (or leaving a
    ``with`` block) closes it and tells the registry (a reader's file is detached when it is
    the last reader of it). A reader's connection is handed back to the engine instead of closed
    (``release(key, con)``), which keeps it for the next reader of the same file."""

    def __init__(self, con: duckdb.DuckDBPyConnection, key: str, release: Callable[[str], None],
                 give_back: Callable[[str, duckdb.DuckDBPyConnection], None] | None = None) -> None:
        self._con = con
        self._key: str | None = key
        self._release = release
        self._give_back = give_back

    def __getattr__(self, name: str):
        return getattr(self._con, name)

    def close(self) -> None:
        key, self._key = self._key, None
        if key is None:
            return
        if self._give_back is not None:
            self._give_back(key, self._con)
            return
        try:
            self._con.close()
        finally:
            self._release(key)

    def __enter__(self) -> "Handle":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


#: Idle reader connections kept per attached catalog (a new connection's first query costs
#: ~0.7 ms more than the next one's: USE, the binder's catalog lookups).
_POOL = 2


class _Engine:
    """The process's one in-memory DuckDB instance and the registry of catalog files in use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db: duckdb.DuckDBPyConnection | None = None
        self._pid = 0
        self._names = itertools.count(1)
        # path key -> [alias, readers, stamp when attached, monotonic time the last reader left,
        #              idle connections already USE-ing the alias]
        self._attached: dict[str, list] = {}
        self._writing: dict[str, int] = {}  # path key -> writers open in this process
        self._checked: dict[str, list] = {}  # path key -> stamp of the file whose schema version was checked
        self._watcher: threading.Thread | None = None

    def _instance(self) -> duckdb.DuckDBPyConnection:
        if self._db is None or self._pid != os.getpid():  # never reuse an instance across fork()
            # spill files (big sorts) go to a private temp dir, not DuckDB's default ./.tmp
            spill = Path(tempfile.gettempdir()) / f"metastore-duckdb-{os.getpid()}"
            self._db = duckdb.connect(":memory:", config={"temp_directory": str(spill)})
            self._db.execute("SET GLOBAL TimeZone = 'UTC'")
            # a page of results (ORDER BY … LIMIT 100 OFFSET n) sorts only the row ids and the
            # sort keys, then fetches the other columns for the page's rows (DuckDB's late
            # materialization; its default stops at 50 rows): `metastore serve` pages of 100
            self._db.execute(f"SET GLOBAL late_materialization_max_rows = {LATE_ROWS}")
            self._pid, self._attached, self._writing, self._watcher = os.getpid(), {}, {}, None
        return self._db

    def _detach(self, key: str) -> None:
        """Detach an idle catalog (under the lock)."""
        entry = self._attached.pop(key)
        for cur in entry[4]:
            cur.close()
        self._db.execute(f"DETACH {entry[0]}")

    def attach(self, key: str) -> Handle:
        with self._lock:
            if self._writing.get(key):
                raise _InProcessConflict
            db = self._instance()
            entry = self._attached.get(key)
            if entry is not None and not entry[1] and entry[2] != stamp(key):
                self._detach(key)  # written past the lock since: never read stale pages
                entry = None
            if entry is None:
                alias = f"catalog{next(self._names)}"
                db.execute(f"ATTACH '{key.replace(chr(39), chr(39) * 2)}' AS {alias} (READ_ONLY)")
                entry = self._attached[key] = [alias, 0, stamp(key), 0.0, []]
            entry[1] += 1
            if entry[4]:
                return Handle(entry[4].pop(), key, self.release, self.give_back)
            try:
                cur = db.cursor()  # under the lock: the shared connection is not thread-safe
            except BaseException:
                self._left(key, entry)
                raise
        try:
            cur.execute(f"USE {entry[0]}").fetchall()  # finished, so cur.sql() may follow
        except BaseException:
            cur.close()
            self.release(key)
            raise
        return Handle(cur, key, self.release, self.give_back)

    def give_back(self, key: str, cur) -> None:
        """A reader closed: keep its connection for the next reader of ``key`` (or close it)."""
        with self._lock:
            entry = self._attached.get(key)
            if entry is not None and self._pid == os.getpid() and len(entry[4]) < _POOL:
                entry[4].append(cur)
            else:
                cur.close()
            if entry is not None and self._pid == os.getpid():
                self._left(key, entry)

    def _left(self, key: str, entry: list) -> None:
        """A reader closed (under the lock): keep the catalog warm unless a writer waits."""
        entry[1] -= 1
        if entry[1] > 0:
            return
        if LINGER_SECONDS <= 0 or _writer_waits(key):
            self._detach(key)
            return
        entry[3] = time.monotonic()
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="metastore-warm-reads", daemon=True)
            self._watcher.start()

    def release(self, key: str) -> None:
        with self._lock:
            entry = self._attached.get(key)
            if entry is None or self._pid != os.getpid():
                return
            self._left(key, entry)

    def _watch(self) -> None:
        """Detach idle catalogs when a writer waits or they have lingered; end when none is attached."""
        me = threading.current_thread()
        while True:
            time.sleep(POLL_SECONDS)
            with self._lock:
                if self._watcher is not me or self._pid != os.getpid():
                    return
                idle = [k for k, e in self._attached.items() if not e[1]]
                now = time.monotonic()
                for key in idle:
                    if now - self._attached[key][3] >= LINGER_SECONDS or _writer_waits(key):
                        self._detach(key)
                if not self._attached:  # kept while anything is attached: a thread costs ~1-3 ms to start
                    self._watcher = None
                    return

    def release_idle(self, key: str | None = None) -> None:
        with self._lock:
            if self._pid != os.getpid():
                return
            for k in [k for k, e in self._attached.items() if not e[1] and key in (None, k)]:
                self._detach(k)

    def begin_write(self, key: str) -> None:
        with self._lock:
            if self._pid == os.getpid() and key in self._attached:
                if self._attached[key][1]:
                    raise _InProcessConflict
                self._detach(key)  # idle: let go, this process is about to write
            self._writing[key] = self._writing.get(key, 0) + 1

    def end_write(self, key: str) -> None:
        with self._lock:
            n = self._writing.get(key, 0) - 1
            if n > 0:
                self._writing[key] = n
            else:
                self._writing.pop(key, None)


_ENGINE = _Engine()


def linger(seconds: float) -> None:
    """How long this process keeps an idle catalog attached (unless ``METASTORE_READ_LINGER``
    says otherwise). A long-lived reader such as ``metastore serve`` keeps it for its user's
    pauses between searches; writers that signal (every metastore writer) still get the file
    within a poll, only a writer that does not signal waits this long."""
    global LINGER_SECONDS
    if "METASTORE_READ_LINGER" not in os.environ:
        LINGER_SECONDS = float(seconds)


def release_idle(path: str | os.PathLike | None = None) -> None:
    """Detach the catalog at ``path`` (default: every catalog) if this process keeps it warm but
    is not reading it (see the module's note). DuckDB refuses a second handle on a file in one
    process, so call this before opening a catalog with a plain ``duckdb.connect()``."""
    _ENGINE.release_idle(None if path is None else _key(Path(path)))


def _key(path: Path) -> str:
    return os.path.realpath(path)


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
