"""One home per kind of catalog write: a new id, a new source (import or edit record), a new
key with its columns, a history row, the per-key counts. Every writer (import, set, unset, tag,
undo, fields declare/retype) calls these, inside ``with atomic(con):`` (``tx.py``).

The layout of the ``fields``, ``sources`` and ``history`` tables (``ddl.py``) is written out
here and nowhere else in the writers.
"""

from __future__ import annotations

from typing import Sequence

from .. import schema as S
from .codec import to_json_expr
from .connection import quote

#: Tables whose ``id`` column numbers its rows (1, 2, …).
_NUMBERED = ("fields", "sources", "images")


def next_id(con, table: str) -> int:
    """The next free id of ``table`` (``fields``, ``sources`` or ``images``)."""
    if table not in _NUMBERED:
        raise ValueError(table)
    return con.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]


def last_image_id(con) -> int:
    """The highest image id ever used; new images are numbered above it, so an id an undo
    removed is never reused (its history rows still name it)."""
    return con.execute("SELECT greatest((SELECT coalesce(max(id), 0) FROM images), "
                       "(SELECT coalesce(max(image_id), 0) FROM history))").fetchone()[0]


def new_source(con, kind: str, detail: str, *, status: str | None = "ok", options: str | None = None,
               sid: int | None = None) -> int:
    """Record an edit, undo or retype in ``sources``; returns its id. (An import writes its
    full record with :func:`record_import` once it knows its counts.)"""
    sid = next_id(con, "sources") if sid is None else sid
    con.execute("INSERT INTO sources (id, kind, ts, detail, status, options) VALUES (?, ?, now()::TIMESTAMP, ?, ?, ?)",
                [sid, kind, detail, status, options])
    return sid


def record_import(con, sid: int, *, detail: str, strategy: str, status: str, rows_read: int, rows_written: int,
                  rows_failed: int, rows_unchanged: int, images_added: int, keys: Sequence[str],
                  options: str) -> None:
    con.execute(
        "INSERT INTO sources (id, kind, ts, detail, strategy, status, rows_read, rows_written, rows_failed, "
        "rows_unchanged, images_added, keys, options, undone_by) "
        "VALUES (?, 'import', now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [sid, detail, strategy, status, rows_read, rows_written, rows_failed, rows_unchanged, images_added,
         list(keys), options])


def drop_source(con, sid: int) -> None:
    """Forget a source that changed nothing (no record of an edit that did not happen)."""
    con.execute("DELETE FROM sources WHERE id = ?", [sid])


def create_field(con, name: str, type_: str, *, declared: bool, locked: bool = False,
                 options: Sequence[str] = (), fid: int | None = None) -> S.Field:
    """Create a key: its ``fields`` row and its value and source columns in ``images``."""
    fid = next_id(con, "fields") if fid is None else fid
    f = S.Field(name, type_, fid, declared=declared, locked=locked, options=tuple(sorted(set(options))))
    con.execute("INSERT INTO fields (id, name, type, declared, locked, options, count, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, now()::TIMESTAMP)",
                [fid, name, type_, declared, locked, list(f.options)])
    con.execute(f"ALTER TABLE images ADD COLUMN {quote(f.column)} {f.sql_type}")
    con.execute(f"ALTER TABLE images ADD COLUMN {quote(f.source_column)} INTEGER")
    return f


def insert_history(con, *, source: str, image: str, field: str, old: str, old_src: str, new: str | None,
                   new_src: str, rest: str, params=None, new_is_json: bool = False) -> None:
    """``INSERT INTO history`` one row per row of ``rest`` (``FROM … WHERE …``). The other
    arguments are SQL expressions over it: ``old``/``new`` are values (written as JSON; ``new``
    None is a removal, ``new_is_json`` when it is JSON already); ``*_src`` are source ids."""
    new_json = "NULL" if new is None else new if new_is_json else to_json_expr(new)
    con.execute(
        "INSERT INTO history (source_id, ts, image_id, field_id, old_value, old_src, new_value, new_src) "
        f"SELECT {source}, now()::TIMESTAMP, {image}, {field}, {to_json_expr(old)}, {old_src}, {new_json}, "
        f"{new_src} {rest}", params if params is not None else {})


def refresh_field_stats(con, field_list: list[S.Field]) -> None:
    """Keep ``fields.count`` (images having the key) and discovered enum options current."""
    if not field_list:
        return
    counts = con.execute(
        "SELECT " + ", ".join(f"count({quote(f.column)})" for f in field_list) + " FROM images").fetchone()
    for f, n in zip(field_list, counts):
        con.execute("UPDATE fields SET count = ? WHERE id = ?", [n, f.id])
        if f.kind.options:
            items = f.kind.each(quote(f.column))
            # the distinct options first, then one sorted list (not a list of every value: half the time)
            con.execute(
                f"UPDATE fields SET options = (SELECT list(x ORDER BY x) FROM (SELECT DISTINCT x FROM "
                f"(SELECT unnest(options) AS x FROM fields WHERE id = $id UNION ALL "
                f"SELECT {items} AS x FROM images WHERE {quote(f.column)} IS NOT NULL) WHERE x IS NOT NULL)) WHERE id = $id",
                {"id": f.id})


__all__ = ["next_id", "last_image_id", "new_source", "record_import", "drop_source", "create_field",
           "insert_history", "refresh_field_stats"]
