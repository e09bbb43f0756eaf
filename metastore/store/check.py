"""``metastore check``: an integrity check of a catalog, read-only.

Each rule is one SQL count over the catalog; every rule that finds something adds one problem
line (what is wrong, how many rows, an example). An empty list means the catalog is consistent:
the schema version is known, every key has its typed value column and its source column, the
key counts are current, every value has a source that exists, paths and media ids are unique,
history and import records point at things that exist, enum values are among their options.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import schema as S
from .. import types as T
from . import ddl
from .connection import quote
from .edits import TAGS_SRC

#: Columns each table must have, with their DuckDB types (``images`` also has v<N>/s<N>).
TABLES = {
    "meta": {"key": "VARCHAR", "value": "VARCHAR"},
    "fields": {"id": "INTEGER", "name": "VARCHAR", "type": "VARCHAR", "declared": "BOOLEAN",
               "locked": "BOOLEAN", "options": "VARCHAR[]", "count": "BIGINT", "created_at": "TIMESTAMP"},
    "images": {"id": "BIGINT", "path": "VARCHAR", "media_id": "UUID", "tags": "VARCHAR[]",
               "edited": "BOOLEAN", "src": "INTEGER"},
    "sources": {"id": "INTEGER", "kind": "VARCHAR", "ts": "TIMESTAMP", "detail": "VARCHAR",
                "strategy": "VARCHAR", "status": "VARCHAR", "rows_read": "BIGINT", "rows_written": "BIGINT",
                "rows_failed": "BIGINT", "rows_unchanged": "BIGINT", "images_added": "BIGINT",
                "keys": "VARCHAR[]", "options": "VARCHAR", "undone_by": "INTEGER"},
    "import_errors": {"source_id": "INTEGER", "file": "VARCHAR", "row": "BIGINT", "key": "VARCHAR",
                      "value": "VARCHAR", "reason": "VARCHAR"},
    "history": {"source_id": "INTEGER", "ts": "TIMESTAMP", "image_id": "BIGINT", "field_id": "INTEGER",
                "old_value": "VARCHAR", "old_src": "INTEGER", "new_value": "VARCHAR", "new_src": "INTEGER"},
    "files": {"path": "VARCHAR", "size": "BIGINT", "mtime_ns": "BIGINT", "source_id": "INTEGER"},
}
SOURCE_KINDS = ("import", "edit", "undo", "retype")


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    images: int = 0
    keys: int = 0
    sources: int = 0
    history: int = 0
    rules: int = 0  # how many rules ran

    @property
    def ok(self) -> bool:
        return not self.problems


def check_catalog(con) -> CheckReport:
    """Run every rule against an open catalog connection (read-only is enough)."""
    rep = CheckReport()
    columns: dict[str, dict[str, str]] = {}
    for table, name, type_ in con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_catalog = current_database() ORDER BY table_name, ordinal_position").fetchall():
        columns.setdefault(table, {})[name] = type_
    rep.rules += 1
    for table, want in TABLES.items():
        have = columns.get(table)
        if have is None:
            rep.problems.append(f"table '{table}' is missing")
            continue
        for col, type_ in want.items():
            if col not in have:
                rep.problems.append(f"table '{table}' has no column '{col}'")
            elif have[col] != type_:
                rep.problems.append(f"{table}.{col} is {have[col]}, expected {type_}")
    if rep.problems:
        return rep  # the rules below read these tables

    def rule(sql: str, what: str, params=None) -> None:
        """``sql`` selects (count, example) of the rows breaking a rule."""
        rep.rules += 1
        n, example = con.execute(sql, params or []).fetchone()
        if n:
            rep.problems.append(f"{what}: {n:,} row{'s' if n != 1 else ''}"
                                + (f", e.g. {example}" if example is not None else ""))

    versions = [r[0] for r in con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()]
    rep.rules += 1
    if versions != [str(ddl.SCHEMA_VERSION)]:
        rep.problems.append(f"schema_version is {versions or 'missing'}, expected ['{ddl.SCHEMA_VERSION}']")

    # -- fields and their columns ----------------------------------------------------------
    rows = con.execute("SELECT id, name, type, options, count FROM fields ORDER BY id").fetchall()
    rep.keys = len(rows)
    rule("SELECT count(*), any_value(name) FROM (SELECT name FROM fields GROUP BY name HAVING count(*) > 1)",
         "key names used by more than one field")
    rule("SELECT count(*), any_value(id) FROM (SELECT id FROM fields GROUP BY id HAVING count(*) > 1)",
         "field ids used more than once")
    rule("SELECT count(*), any_value(id) FROM fields WHERE id IS NULL OR id <= 0", "field ids not positive")
    img_cols = columns["images"]
    fields: list[S.Field] = []
    for fid, name, type_, options, count in rows:
        if type_ not in S.TYPES:
            rep.problems.append(f"key '{name}' has unknown type '{type_}'")
            continue
        problem = S.key_problem(name or "")
        if problem:
            rep.problems.append(f"key {name!r} breaks the key rules: {problem}")
        f = S.Field(name, type_, fid, options=tuple(options or ()), count=int(count or 0))
        ok = True
        for col, want in ((f.column, f.sql_type), (f.source_column, "INTEGER")):
            if col not in img_cols:
                rep.problems.append(f"key '{name}' (field {fid}) has no column images.{col}")
                ok = False
            elif img_cols[col] != want:
                rep.problems.append(f"images.{col} of key '{name}' is {img_cols[col]}, expected {want} ({type_})")
                ok = False
        if ok:
            fields.append(f)
    known = {c for f in rows for c in (f"v{f[0]}", f"s{f[0]}")}
    stray = [c for c in img_cols if c not in TABLES["images"] and c not in known]
    if stray:
        rep.problems.append(f"images has columns of no field: {', '.join(stray[:5])}")

    # -- images ----------------------------------------------------------------------------
    rep.images = con.execute("SELECT count(*) FROM images").fetchone()[0]
    rule("SELECT count(*), any_value(id) FROM images WHERE id IS NULL OR path IS NULL OR media_id IS NULL "
         "OR tags IS NULL OR edited IS NULL", "images with a NULL id, path, media_id, tags or edited")
    for col in ("id", "path", "media_id"):
        rule(f"SELECT count(*), any_value({col}::VARCHAR) FROM (SELECT {col} FROM images WHERE {col} IS NOT NULL "
             f"GROUP BY {col} HAVING count(*) > 1)", f"duplicate image {col}s")
    rule("SELECT count(*), any_value(path) FROM images i WHERE src IS NOT NULL "
         "AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.id = i.src)", "images registered by a source that does not exist")

    # -- values: counts, provenance, options -------------------------------------------------
    if fields:
        counts = con.execute("SELECT " + ", ".join(f"count({quote(f.column)})" for f in fields)
                             + " FROM images").fetchone()
        for f, n in zip(fields, counts):
            rep.rules += 1
            if n != f.count:
                rep.problems.append(f"key '{f.name}': fields.count is {f.count:,} but {n:,} images have a value")
    for f in fields:
        v, s = quote(f.column), quote(f.source_column)
        rule(f"SELECT count(*), any_value(path) FROM images WHERE {v} IS NOT NULL AND {s} IS NULL",
             f"key '{f.name}': values without a source")
        rule(f"SELECT count(*), any_value(path) FROM images i WHERE {s} IS NOT NULL "
             f"AND NOT EXISTS (SELECT 1 FROM sources x WHERE x.id = i.{s})",
             f"key '{f.name}': values whose source does not exist")
        rule(f"SELECT count(*), any_value(path) FROM images i WHERE {s} IN "
             f"(SELECT id FROM sources WHERE undone_by IS NOT NULL)",
             f"key '{f.name}': values credited to an undone import")
        t = T.TYPES[f.type]
        if t.options and not t.listed:
            rule(f"SELECT count(*), any_value({v}) FROM images WHERE {v} IS NOT NULL "
                 f"AND NOT list_contains(?::VARCHAR[], {v})", f"key '{f.name}': values not among its options",
                 [list(f.options)])
        elif t.options:
            rule(f"SELECT count(*), any_value(x) FROM (SELECT unnest({v}) AS x FROM images WHERE {v} IS NOT NULL) "
                 f"WHERE x IS NULL OR NOT list_contains(?::VARCHAR[], x)", f"key '{f.name}': values not among its options",
                 [list(f.options)])
        if t.options:
            rep.rules += 1
            if len(f.options) > S.MAX_OPTIONS or any(len(o) > S.MAX_OPTION_LENGTH for o in f.options):
                rep.problems.append(f"key '{f.name}': options exceed {S.MAX_OPTIONS} or {S.MAX_OPTION_LENGTH} characters")

    # -- sources (import records) ----------------------------------------------------------
    rep.sources = con.execute("SELECT count(*) FROM sources").fetchone()[0]
    rule("SELECT count(*), any_value(id) FROM (SELECT id FROM sources GROUP BY id HAVING count(*) > 1)",
         "source ids used more than once")
    rule("SELECT count(*), any_value(id) FROM sources WHERE id IS NULL OR kind IS NULL OR NOT list_contains(?::VARCHAR[], kind)",
         f"sources of unknown kind (not {', '.join(SOURCE_KINDS)})", [list(SOURCE_KINDS)])
    rule("SELECT count(*), any_value(id) FROM sources WHERE kind = 'import' AND NOT ("
         "coalesce(rows_read >= 0 AND rows_written >= 0 AND rows_failed >= 0 AND rows_unchanged >= 0 "
         "AND images_added >= 0 AND rows_failed <= rows_read AND rows_written <= rows_read "
         "AND images_added <= rows_written AND list_contains(['ok', 'partial'], status), false))",
         "import records with impossible counts or status")
    rule("SELECT count(*), any_value(id) FROM sources s WHERE undone_by IS NOT NULL AND NOT EXISTS "
         "(SELECT 1 FROM sources u WHERE u.id = s.undone_by AND u.kind = 'undo')",
         "imports undone by a change that is not an undo")
    rule("SELECT count(*), any_value(source_id) FROM import_errors e WHERE NOT EXISTS "
         "(SELECT 1 FROM sources s WHERE s.id = e.source_id AND s.kind = 'import')",
         "import errors of no import")
    rule("SELECT count(*), any_value(path) FROM files f WHERE NOT EXISTS "
         "(SELECT 1 FROM sources s WHERE s.id = f.source_id)", "scanned files of no import")

    # -- history ---------------------------------------------------------------------------
    rep.history = con.execute("SELECT count(*) FROM history").fetchone()[0]
    for col in ("source_id", "old_src", "new_src"):
        rule(f"SELECT count(*), any_value({col}) FROM history h WHERE {col} IS NOT NULL AND NOT EXISTS "
             f"(SELECT 1 FROM sources s WHERE s.id = h.{col})", f"history rows whose {col} does not exist")
    rule("SELECT count(*), any_value(source_id) FROM history WHERE source_id IS NULL OR image_id IS NULL "
         "OR field_id IS NULL", "history rows without a source, image or field")
    rule(f"SELECT count(*), any_value(field_id) FROM history h WHERE field_id <> {ddl.TAGS_FIELD_ID} "
         "AND NOT EXISTS (SELECT 1 FROM fields f WHERE f.id = h.field_id)", "history rows of a field that does not exist")
    rule(f"SELECT count(*), any_value(i.path) FROM images i JOIN {TAGS_SRC} c ON c.id = i.id "
         f"WHERE c.src IN (SELECT id FROM sources WHERE undone_by IS NOT NULL)",
         "image tags credited to an undone import")
    # An image an undo removed keeps its history; any other history row needs its image.
    rule("SELECT count(*), any_value(image_id) FROM history h WHERE NOT EXISTS "
         "(SELECT 1 FROM images i WHERE i.id = h.image_id) "
         "AND NOT EXISTS (SELECT 1 FROM sources s WHERE s.kind = 'undo')",
         "history rows of an image that does not exist")
    # Source ids grow with time: history older than the image's registration means a reused id.
    rule("SELECT count(*), any_value(i.path) FROM history h JOIN images i ON i.id = h.image_id "
         "WHERE i.src IS NOT NULL AND h.source_id < i.src", "history rows older than their image (a reused image id)")
    return rep


__all__ = ["CheckReport", "check_catalog"]
