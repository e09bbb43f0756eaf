"""Reading the catalog's field table into the pure :class:`~metastore.schema.Schema`."""

from __future__ import annotations

import os
import threading

from .. import schema as S
from .stamp import settled, stamp


_COLUMNS = "id, name, type, declared, locked, options, count"


def _field(fid, name, type_, declared, locked, options, count, *_) -> S.Field:
    return S.Field(name, type_, fid, bool(declared), bool(locked), tuple(options or ()), int(count or 0))


def load_fields(con) -> list[S.Field]:
    return [_field(*r) for r in con.execute(f"SELECT {_COLUMNS} FROM fields ORDER BY name").fetchall()]


def load_schema(con, *, with_tags: bool = True) -> S.Schema:
    # one statement for the fields and the image count (each statement costs ~1 ms)
    rows = con.execute(f"SELECT {_COLUMNS}, (SELECT count(*) FROM images) FROM fields ORDER BY name").fetchall()
    fields = [_field(*r) for r in rows]
    n = rows[0][7] if rows else con.execute("SELECT count(*) FROM images").fetchone()[0]
    tags: tuple[str, ...] = ()
    if with_tags:
        tags = tuple(r[0] for r in con.execute(
            "SELECT t FROM (SELECT unnest(tags) AS t FROM images) GROUP BY t ORDER BY count(*) DESC, t").fetchall())
    return S.Schema(tuple(fields), tags, n)


_KEPT: dict[str, tuple[list, S.Schema]] = {}  # catalog path -> (stamp, schema without tags)
_KEPT_LOCK = threading.Lock()


def kept_schema(path: str | os.PathLike) -> S.Schema | None:
    """The schema :func:`read_schema` kept for the catalog at ``path`` if its stamp still holds
    (no connection needed: a warm search parses and checks without opening the catalog)."""
    key = os.path.realpath(path)
    with _KEPT_LOCK:
        kept = _KEPT.get(key)
    return kept[1] if kept is not None and kept[0] == stamp(key) else None


def read_schema(con, path: str | os.PathLike) -> S.Schema:
    """``load_schema(con, with_tags=False)`` for the catalog at ``path``, kept in memory while
    the file's stamp holds (``stamp.py``), so repeated searches and facets in one process read
    the field table once per write. ``con`` must be open on ``path``: while it is, no other
    process can commit, so the stamp read now is the stamp of what ``con`` sees."""
    key = os.path.realpath(path)
    now = stamp(key)
    with _KEPT_LOCK:
        kept = _KEPT.get(key)
    if kept is not None and kept[0] == now:
        return kept[1]
    schema = load_schema(con, with_tags=False)
    if settled(now):
        with _KEPT_LOCK:
            _KEPT[key] = (now, schema)
    return schema
