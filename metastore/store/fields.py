"""Reading the catalog's field table into the pure :class:`~metastore.schema.Schema`."""

from __future__ import annotations

from .. import schema as S


def load_fields(con) -> list[S.Field]:
    rows = con.execute(
        "SELECT id, name, type, declared, locked, options, count FROM fields ORDER BY name").fetchall()
    return [S.Field(name, type_, fid, bool(declared), bool(locked), tuple(options or ()), int(count or 0))
            for fid, name, type_, declared, locked, options, count in rows]


def load_schema(con, *, with_tags: bool = True) -> S.Schema:
    fields = load_fields(con)
    n = con.execute("SELECT count(*) FROM images").fetchone()[0]
    tags: tuple[str, ...] = ()
    if with_tags:
        tags = tuple(r[0] for r in con.execute(
            "SELECT t FROM (SELECT unnest(tags) AS t FROM images) GROUP BY t ORDER BY count(*) DESC, t").fetchall())
    return S.Schema(tuple(fields), tags, n)
