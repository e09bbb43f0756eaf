"""What the Catalog's listing commands read: one image with its provenance, the keys with
examples, a key's values, the import records. Read-only; each function takes an open connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .. import schema as S
from ..errors import NotFoundError
from .connection import quote
from .fields import load_fields


@dataclass
class StoredValue:
    key: str
    type: str
    value: object
    source_id: int | None
    source_kind: str | None
    source_detail: str | None
    at: object


@dataclass
class ImageInfo:
    path: str
    media_id: str
    tags: list[str]
    values: list[StoredValue]


@dataclass
class KeyInfo:
    name: str
    type: str
    declared: bool
    locked: bool
    count: int
    distinct: int
    examples: list[object]
    options: tuple[str, ...]


@dataclass
class ValueCounts:
    key: str
    type: str
    rows: list  # (value, count), most common first
    missing: int  # images (matching the query) without the key


def field(con, key: str) -> S.Field:
    """The key named ``key`` (exact, else the only case-insensitive match), or NotFoundError."""
    return S.Schema(tuple(load_fields(con))).require(key)


def show(con, path: str) -> ImageInfo:
    fields = load_fields(con)
    cols = ", ".join(f"{quote(f.column)}, {quote(f.source_column)}" for f in fields)
    row = con.execute(
        f"SELECT path, media_id::VARCHAR, tags{', ' + cols if cols else ''} FROM images WHERE path = ?",
        [path]).fetchone()
    if row is None:
        raise NotFoundError(f"no image '{path}' in the catalog", help=_similar_paths(con, path))
    sources = {r[0]: r[1:] for r in con.execute("SELECT id, kind, detail, ts FROM sources").fetchall()}
    values = []
    for i, f in enumerate(fields):
        value, src = row[3 + 2 * i], row[4 + 2 * i]
        if value is None:
            continue
        kind, detail, at = sources.get(src, (None, None, None))
        values.append(StoredValue(f.name, f.type, value, src, kind, detail, at))
    return ImageInfo(row[0], row[1], list(row[2] or []), values)


def known_paths(con, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` are images of the catalog (one query for the lot)."""
    paths = list(dict.fromkeys(paths))
    if not paths:
        return set()
    return {r[0] for r in con.execute("SELECT path FROM images WHERE list_contains(?, path)", [paths]).fetchall()}


def keys(con) -> list[KeyInfo]:
    fields = load_fields(con)
    if not fields:
        return []
    aggs = []
    for f in fields:
        c = quote(f.column)
        aggs.append(f"count(DISTINCT {c})")
        aggs.append(f"list(DISTINCT {c}) FILTER (WHERE {c} IS NOT NULL)[1:3]")
    row = con.execute(f"SELECT {', '.join(aggs)} FROM images").fetchone()
    return [KeyInfo(f.name, f.type, f.declared, f.locked, f.count, row[2 * i], list(row[2 * i + 1] or []),
                    f.options) for i, f in enumerate(fields)]


def value_counts(con, key: str, *, prefix: str | None = None, limit: int | None = 50,
                 where: tuple[str, list] = ("TRUE", [])) -> ValueCounts:
    """Distinct values of ``key`` with counts, most common first, among the images ``where``
    (compiled query SQL with positional parameters) selects; and how many of those lack the key."""
    sql, qparams = where
    f = field(con, key)
    c = quote(f.column)
    item = f.kind.each(c)
    params = list(qparams)
    cond = ""
    if prefix:
        params.append(prefix)
        cond = f"WHERE starts_with(lower(CAST(v AS VARCHAR)), lower(${len(params)}))"
    lim = "" if limit is None else f"LIMIT {int(limit)}"
    rows = con.execute(
        f"SELECT v, count(*) AS n FROM (SELECT {item} AS v FROM images WHERE {c} IS NOT NULL AND ({sql})) "
        f"{cond} GROUP BY v ORDER BY n DESC, v {lim}", params).fetchall()
    missing = con.execute(f"SELECT count(*) FROM images WHERE {c} IS NULL AND ({sql})", list(qparams)).fetchone()[0]
    return ValueCounts(f.name, f.type, rows, missing)


def source_kind(con, sid: int) -> str | None:
    """What made change ``sid`` (``import``, ``edit``, ``retype``, ``undo``), or None."""
    row = con.execute("SELECT kind FROM sources WHERE id = ?", [sid]).fetchone()
    return row[0] if row else None


def imports(con) -> list[dict]:
    cur = con.execute(
        "SELECT id, ts, detail, strategy, status, rows_read, rows_written, rows_failed, rows_unchanged, "
        "images_added, keys, undone_by FROM sources WHERE kind = 'import' ORDER BY id")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def import_record(con, import_id: int) -> tuple[dict, list[tuple]]:
    cur = con.execute("SELECT * FROM sources WHERE id = ? AND kind = 'import'", [import_id])
    row = cur.fetchone()
    if row is None:
        raise NotFoundError(f"no import with id {import_id}", help="list them with: metastore imports")
    rec = dict(zip([d[0] for d in cur.description], row))
    errors = con.execute(
        "SELECT file, row, key, value, reason FROM import_errors WHERE source_id = ? "
        "ORDER BY row NULLS FIRST, file", [import_id]).fetchall()
    return rec, errors


def is_blank(con) -> bool:
    """True when the catalog holds nothing a user made: no source, key or image."""
    return con.execute("SELECT NOT EXISTS (SELECT 1 FROM sources) AND NOT EXISTS (SELECT 1 FROM fields) "
                       "AND NOT EXISTS (SELECT 1 FROM images)").fetchone()[0]


def _similar_paths(con, path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    rows = con.execute("SELECT path FROM images WHERE path LIKE '%' || ? ORDER BY path LIMIT 3",
                       [name]).fetchall()
    if rows:
        return "did you mean " + ", ".join(repr(r[0]) for r in rows) + "?"
    return "paths are stored as given at import; list some with: metastore search '' --limit 5"


__all__ = ["StoredValue", "ImageInfo", "KeyInfo", "ValueCounts", "field", "show", "known_paths", "keys", "is_blank",
           "value_counts", "source_kind", "imports", "import_record"]
