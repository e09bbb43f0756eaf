"""What completion needs from the catalog, fast enough for one process per keypress.

Computing it (keys, the top values of every key, ranges, tags) scans the catalog: about 0.6 s
on a million images, and ``import duckdb`` alone costs ~0.2 s. So the result is cached as a
small JSON file in the user's cache directory (``$XDG_CACHE_HOME/metastore/`` or
``~/.cache/metastore/``, one file per catalog, named by a hash of its absolute path), stamped
with the catalog file's identity (``stamp.py``): a cache hit needs only two ``stat`` calls and
a JSON read — no duckdb import — and can never serve keys from before an import, ``set`` or
``undo``; stats computed while the file's mtime is less than :data:`RACY_SECONDS` old are used
but not cached.

This module imports duckdb only on a cache miss (see :func:`compute_stats`).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from pathlib import Path

from .. import schema as S
from .. import types as T
from ..types import date_text
from ..query.complete import CompletionStats, KeyStats
from .stamp import RACY_SECONDS, settled, stamp

#: Values kept per key (most common first); a key with at most this many distinct values is
#: listed completely.
TOP_VALUES = 100
_FORMAT = 1


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "metastore"


def cache_file(db: Path) -> Path:
    digest = hashlib.sha256(str(db).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return cache_dir() / f"complete-{digest}.json"



def completion_stats(db: str | os.PathLike, *, wait: float = 1.0, use_cache: bool = True) -> CompletionStats:
    """Stats for completing queries against the catalog at ``db`` (empty if there is none)."""
    path = Path(os.path.abspath(db))
    before = stamp(path)
    if before[0] is None:
        return CompletionStats()
    cfile = cache_file(path)
    if use_cache:
        try:
            data = json.loads(cfile.read_text(encoding="utf-8"))
            if data.get("format") == _FORMAT and data.get("stamp") == before and data.get("db") == str(path):
                return CompletionStats.from_dict(data["stats"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    from .connection import open_db

    con = open_db(path, read_only=True, wait=wait)
    try:
        stats = compute_stats(con)
    finally:
        con.close()
    if use_cache and settled(before) and stamp(path) == before:
        _write(cfile, {"format": _FORMAT, "db": str(path), "stamp": before, "stats": stats.to_dict()})
    return stats


def lookup_values(db: str | os.PathLike, key: str, typed: str, *, contains: bool = False,
                  limit: int = TOP_VALUES, wait: float = 1.0, cached: bool = False) -> tuple:
    """The most common values of ``key`` that start with (or contain) ``typed``, any case, as
    (query text, images) pairs — for keys with more values than the cache keeps.

    ``cached``: for a long-lived process (``metastore serve``, the interactive search bar) —
    the key's values are read once per catalog stamp and kept in memory, most common first
    (:data:`CACHED_VALUES_PER_KEY` at most per key, :data:`CACHED_VALUES_TOTAL` in all), and
    each lookup filters that list: the same answer without a scan of the catalog per keypress."""
    if cached and typed.isascii():  # Python's lower() is DuckDB's on ASCII; other text asks DuckDB
        values = _key_values(Path(os.path.abspath(db)), key, wait)
        if values is not None:
            t = typed.lower()
            out = []
            for low, v, n in values:
                if len(out) >= limit:
                    break
                if (t in low) if contains else low.startswith(t):
                    out.append((v, n))
            return tuple(out)
    return _lookup_sql(db, key, typed, contains=contains, limit=limit, wait=wait)


def _lookup_sql(db, key: str, typed: str, *, contains: bool, limit: int, wait: float) -> tuple:
    from .connection import open_db

    con = open_db(Path(db), read_only=True, wait=wait)
    try:
        c = _top_column(con, key)
        if c is None:
            return ()
        test = "contains(lower(v), lower($t))" if contains else "starts_with(lower(v), lower($t))"
        rows = con.execute(
            f"SELECT v, count(*) AS n FROM (SELECT {c} AS v FROM images WHERE {c} IS NOT NULL) WHERE {test} "
            f"GROUP BY v ORDER BY n DESC, v LIMIT {int(limit)}", {"t": typed}).fetchall()
        return tuple((str(v), int(n)) for v, n in rows)
    finally:
        con.close()


def _top_column(con, key: str) -> str | None:
    """The quoted column of ``key`` when completion looks its values up (None: it does not)."""
    from .connection import quote
    from .fields import load_fields

    f = S.Schema(tuple(load_fields(con))).get(key)
    if f is None or T.TYPES[f.type].facet != "top":  # keys with more values than the cache keeps
        return None
    return quote(f.column)


#: Values of one key :func:`lookup_values` keeps in memory (a key with more is looked up in the
#: catalog each time), and in all (the least recently used key goes first).
CACHED_VALUES_PER_KEY = 100_000
CACHED_VALUES_TOTAL = 400_000
_values_cache: "OrderedDict[tuple[str, str], tuple[list, tuple | None]]" = OrderedDict()
_values_lock = threading.Lock()


def _key_values(path: Path, key: str, wait: float) -> tuple | None:
    """Every value of ``key`` as (lower(value), value, images), most common first (then by value)
    — the order of the lookup's SQL; ``()`` for a key completion does not look up; None when the
    key has too many values to keep."""
    before = stamp(path)
    entry_key = (str(path), key)
    with _values_lock:
        hit = _values_cache.get(entry_key)
        if hit is not None and hit[0] == before:
            _values_cache.move_to_end(entry_key)
            return hit[1]
    from .connection import open_db

    con = open_db(path, read_only=True, wait=wait)
    try:
        c = _top_column(con, key)
        if c is None:
            values: tuple | None = ()
        else:
            rows = con.execute(
                f"SELECT lower(v), v, count(*) AS n FROM (SELECT {c} AS v FROM images WHERE {c} IS NOT NULL) "
                f"GROUP BY v ORDER BY n DESC, v LIMIT {CACHED_VALUES_PER_KEY + 1}").fetchall()
            values = None if len(rows) > CACHED_VALUES_PER_KEY else tuple(
                (str(low), str(v), int(n)) for low, v, n in rows)
    finally:
        con.close()
    if settled(before) and stamp(path) == before:
        with _values_lock:
            _values_cache[entry_key] = (before, values)
            _values_cache.move_to_end(entry_key)
            total = sum(len(v or ()) for _, v in _values_cache.values())
            while total > CACHED_VALUES_TOTAL and len(_values_cache) > 1:
                _, (_, dropped) = _values_cache.popitem(last=False)
                total -= len(dropped or ())
    return values


def _write(cfile: Path, data: dict) -> None:
    import tempfile

    try:
        cfile.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".complete-", dir=cfile.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
        os.replace(tmp, cfile)
    except OSError:
        pass  # a read-only home: completion still works, just without the cache


#: A stored value as the text a query would use for it (a midnight datetime as its date).
query_text = date_text


def compute_stats(con) -> CompletionStats:
    """Scan the catalog: per key its count, top values (with the number of distinct values),
    enum options and numeric/datetime range; tags by frequency."""
    from .connection import quote
    from .fields import load_fields

    n_images = con.execute("SELECT count(*) FROM images").fetchone()[0]
    keys = []
    for f in load_fields(con):
        c = quote(f.column)
        values: tuple = ()
        distinct = low = high = None
        t = T.TYPES[f.type]
        if t.ordered:
            cond = f"{c} IS NOT NULL" + (f" AND isfinite({c})" if t.finite else "")
            low, high = con.execute(f"SELECT min({c}), max({c}) FROM images WHERE {cond}").fetchone()
            low = None if low is None else query_text(low)
            high = None if high is None else query_text(high)
        if t.suggest_values:
            item = f"unnest({c})" if t.listed else c
            rows = con.execute(
                f"SELECT v, count(*) AS n, count(*) OVER () FROM (SELECT {item} AS v FROM images "
                f"WHERE {c} IS NOT NULL) WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {TOP_VALUES}"
            ).fetchall()
            values = tuple((query_text(v), int(n)) for v, n, _ in rows)
            distinct = int(rows[0][2]) if rows else 0
        keys.append(KeyStats(f.name, f.type, int(f.count), values, distinct, tuple(f.options), low, high))
    tags = tuple((t, int(n)) for t, n in con.execute(
        "SELECT t, count(*) AS n FROM (SELECT unnest(tags) AS t FROM images) GROUP BY t "
        f"ORDER BY n DESC, t LIMIT {TOP_VALUES * 10}").fetchall())
    return CompletionStats(tuple(keys), tags, int(n_images))


__all__ = ["completion_stats", "compute_stats", "lookup_values", "cache_dir", "cache_file", "stamp", "query_text",
           "TOP_VALUES", "RACY_SECONDS", "CACHED_VALUES_PER_KEY", "CACHED_VALUES_TOTAL"]
