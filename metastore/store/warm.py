"""Warm reads: the process's one in-memory DuckDB instance (the *engine*) and the registry of
catalog files this process holds. Imports duckdb.

Readers do not open a DuckDB database per operation: building a DuckDB instance costs ~30 ms
whatever the file, so the process keeps one in-memory instance and ATTACHes the catalog to it
read-only (~1–2 ms).

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
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import duckdb

from .stamp import stamp

#: Results pages up to this many rows (limit + offset) fetch their columns after the sort.
LATE_ROWS = 2000
#: How often a reading process looks for a waiting writer's signal (seconds).
POLL_SECONDS = 0.02
#: An idle attach is released after this long unused (seconds).
LINGER_SECONDS = float(os.environ.get("METASTORE_READ_LINGER", "5"))
#: A signal younger than this means a writer is waiting (writers renew it every retry).
_FRESH_SECONDS = 1.0

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
