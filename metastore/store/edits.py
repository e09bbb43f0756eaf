"""Manual edits (set, unset, tag), history, and undo of an import. Each is one transaction;
every value replaced or removed is written to ``history`` first."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .. import infer
from .. import schema as S
from .. import types as T
from ..errors import MetastoreError, NotFoundError, UsageError
from .codec import from_json_expr
from .connection import quote
from .ddl import TAGS_FIELD_ID
from .fields import load_fields
from .handoff import REVERT, UNDONE
from .txn import atomic
from .writes import create_field, drop_source, insert_history, new_source, refresh_field_stats


@dataclass
class HistoryEntry:
    ts: object
    key: str
    old: object
    new: object
    source_id: int | None
    source: str  # "import 3 (file.csv)", "edit", "undo of import 3"


def _image_ids(con, paths: list[str]) -> list[int]:
    rows = dict(con.execute("SELECT path, id FROM images WHERE path IN (SELECT unnest(?::VARCHAR[]))", [paths]).fetchall())
    missing = [p for p in paths if p not in rows]
    if missing:
        raise NotFoundError(f"no image '{missing[0]}' in the catalog"
                            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                            help="paths are matched exactly as imported; find them with metastore search")
    return [rows[p] for p in paths]


def _typed(key: str, text: str, field: S.Field | None, forced: str | None) -> tuple[str, object]:
    """Read one hand-typed value: the key's type if it exists, else --type, else auto-typing."""
    if field is not None and forced and forced != field.type:
        raise UsageError(f"key '{key}' is {field.kind.a}, not {forced}",
                         help=f"metastore fields retype {key} {forced} widens it" if forced in T.TYPES and T.TYPES[forced].fits_any else None)
    if forced and forced not in S.TYPES:
        raise UsageError(f"unknown type '{forced}'", help=f"types are: {', '.join(S.TYPES)}")
    try:
        if field is not None:
            return field.type, infer.coerce(text, field.type)
        if forced:
            return forced, infer.coerce(text, forced)
        return infer.infer_and_coerce(text)
    except infer.ValueProblem as exc:
        kind = field.type if field is not None else forced
        raise MetastoreError(f"key '{key}': {exc}", help=f"'{key}' is {T.TYPES[kind].a}") from None


def set_values(con, path: str, assignments: list[tuple[str, str]], types: dict[str, str]) -> int:
    """``metastore set PATH k=v…``: returns the number of values changed."""
    with atomic(con):
        (image_id,) = _image_ids(con, [path])
        fields = {f.name: f for f in load_fields(con)}
        typed = []
        for key, text in assignments:
            problem = S.key_problem(key)
            if problem:  # a bad value (exit 1), like a value that does not fit the key's type
                raise MetastoreError(f"invalid key '{key}': {problem}")
            f = fields.get(key)
            if f is not None and f.locked:
                raise MetastoreError(f"key '{key}' is locked", help="locked keys cannot be edited")
            type_, value = _typed(key, text, f, types.get(key))
            if f is None:
                f = fields[key] = create_field(con, key, type_, declared=key in types)
            typed.append((f, value))
        sid = new_source(con, "edit", f"set {path}")
        changed = 0
        for f, value in typed:
            changed += _write(con, image_id, f, value, sid)
        _after_edit(con, image_id, [f for f, _ in typed], sid, changed)
    return changed


def unset_values(con, path: str, keys: list[str]) -> int:
    with atomic(con):
        (image_id,) = _image_ids(con, [path])
        schema = S.Schema(tuple(load_fields(con)))
        targets = []
        for key in keys:
            f = schema.exact(key) or schema.require(key)
            if f.locked:
                raise MetastoreError(f"key '{key}' is locked", help="locked keys cannot be edited")
            targets.append(f)
        sid = new_source(con, "edit", f"unset {path}")
        changed = sum(_write(con, image_id, f, None, sid) for f in targets)
        _after_edit(con, image_id, targets, sid, changed)
    return changed


def _write(con, image_id: int, f: S.Field, value, sid: int) -> int:
    """Set one value (None removes it), history first. Returns 1 if it changed."""
    col, src = quote(f.column), quote(f.source_column)
    old = con.execute(f"SELECT {col} IS NOT DISTINCT FROM $v, {col} IS NULL FROM images WHERE id = $id",
                      {"v": value, "id": image_id}).fetchone()
    if old[0]:
        return 0
    if not old[1]:
        insert_history(con, source="$sid", image="id", field=str(f.id), old=col, old_src=src,
                       new=None if value is None else "$v::" + f.sql_type, new_src="$sid",
                       rest="FROM images WHERE id = $id",
                       params={"sid": sid, "id": image_id, **({} if value is None else {"v": value})})
    con.execute(f"UPDATE images SET {col} = $v, {src} = $sid WHERE id = $id",
                {"v": value, "sid": sid, "id": image_id})
    return 1


def _after_edit(con, image_id: int, fields: list[S.Field], sid: int, changed: int) -> None:
    con.execute("UPDATE images SET edited = true WHERE id = ?", [image_id])
    if not changed:
        drop_source(con, sid)  # nothing happened: no record
    refresh_field_stats(con, fields)


#: The source of each image's current tags: the newest history row of its tags (none: no source).
TAGS_SRC = (f"(SELECT image_id AS id, arg_max_null(new_src, source_id) AS src FROM history "
            f"WHERE field_id = {TAGS_FIELD_ID} GROUP BY image_id)")


def tag(con, paths: list[str] | None, where: tuple[str, list] | None, add: list[str], remove: list[str]) -> int:
    """Add/remove tags on paths (or on every image a compiled query matches). Returns images changed."""
    for t in add + remove:
        if not t.strip():
            raise UsageError("a tag cannot be empty")
    with atomic(con):
        if paths is not None:
            ids = _image_ids(con, paths)
        else:
            sql, qparams = where  # compiled by the query package: positional $1… parameters
            ids = [r[0] for r in con.execute(f"SELECT id FROM images WHERE {sql}", qparams).fetchall()]
        sid = new_source(con, "edit", "tag")
        new = "list_sort(list_distinct(list_filter(list_concat(tags, $add), lambda t: NOT list_contains($rm, t))))"
        params = {"ids": ids, "add": add, "rm": remove}
        changed_where = f"id IN (SELECT unnest($ids::BIGINT[])) AND tags IS DISTINCT FROM {new}"
        insert_history(con, source="$sid", image="id", field=str(TAGS_FIELD_ID), old="tags", old_src="c.src",
                       new=new, new_src="$sid", rest=f"FROM images LEFT JOIN {TAGS_SRC} c USING (id) WHERE {changed_where}",
                       params={**params, "sid": sid})
        n = con.execute(f"UPDATE images SET tags = {new}, edited = true WHERE {changed_where}", params).fetchone()[0]
        if not n:
            drop_source(con, sid)
    return n


def history(con, path: str, key: str | None) -> list[HistoryEntry]:
    (image_id,) = _image_ids(con, [path])
    fields = {f.id: f for f in load_fields(con)}
    names = {fid: f.name for fid, f in fields.items()} | {TAGS_FIELD_ID: "tags"}
    if key is not None and key != "tags" and key not in names.values():
        raise NotFoundError(f"unknown key '{key}'")
    sources = {r[0]: r[1:] for r in con.execute("SELECT id, kind, detail, ts FROM sources").fetchall()}

    def label(sid):
        kind, detail, _ = sources.get(sid, ("?", "", None))
        if kind == "import":
            return f"import {sid} ({detail})"
        return f"{kind} {sid}" + (f" ({detail})" if detail and kind != "edit" else "")

    entries: list[HistoryEntry] = []
    # source_id made the change; new_src is where the new value comes from (they differ for an
    # undo, which puts back the value and the provenance it replaced).
    rows = con.execute("SELECT ts, field_id, old_value, old_src, new_value, new_src, source_id FROM history "
                       "WHERE image_id = ? ORDER BY ts, rowid", [image_id]).fetchall()
    first_seen: set[int] = set()
    last_src: dict[int, int] = {}
    for ts, fid, old, old_src, new, new_src, by in rows:
        last_src[fid] = new_src
        if fid not in first_seen and old is not None and old_src is not None:
            # The value before the first recorded change was set by old_src.
            entries.append(HistoryEntry(sources.get(old_src, (None, None, None))[2], names.get(fid, "?"), None,
                                        json.loads(old), old_src, label(old_src)))
        first_seen.add(fid)
        entries.append(HistoryEntry(ts, names.get(fid, "?"), None if old is None else json.loads(old),
                                    None if new is None else json.loads(new), by, label(by)))
    cols = ", ".join(f"{quote(f.column)}, {quote(f.source_column)}" for f in fields.values())
    if cols:
        row = con.execute(f"SELECT {cols} FROM images WHERE id = ?", [image_id]).fetchone()
        for i, (fid, f) in enumerate(fields.items()):
            value, src = row[2 * i], row[2 * i + 1]
            if value is not None and last_src.get(fid) != src:  # set after the last recorded change
                entries.append(HistoryEntry(sources.get(src, (None, None, None))[2], f.name, None, value, src,
                                            label(src)))
    entries.sort(key=lambda e: (e.ts is None, e.ts))
    return [e for e in entries if key is None or e.key == key]


@dataclass
class UndoReport:
    import_id: int
    undo_id: int
    values_reverted: int
    values_kept: int  # changed again after the import: left as they are
    images_removed: int


def undo(con, import_id: int) -> UndoReport:
    """Undo an import: every value (and image's tags) it set that nobody changed since goes back to
    the newest earlier value whose source is not undone — walking back past imports undone before,
    so undo is right in any order. Later changes stand. Images an undone import registered that
    hold nothing any more are removed (history keeps their values)."""
    with atomic(con):
        row = con.execute("SELECT kind, undone_by FROM sources WHERE id = ?", [import_id]).fetchone()
        if row is None or row[0] != "import":
            raise NotFoundError(f"no import with id {import_id}", help="list them with: metastore imports")
        if row[1] is not None:
            raise MetastoreError(f"import {import_id} was already undone (by {row[1]})")
        uid = new_source(con, "undo", f"undo of import {import_id}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {UNDONE} AS SELECT id FROM sources WHERE undone_by IS NOT NULL "
                    "UNION SELECT $x::INTEGER", {"x": import_id})
        limit = con.execute("SELECT count(*) FROM sources").fetchone()[0] + 1
        reverted = kept = 0
        fields = load_fields(con)
        for f in fields:
            col, src = quote(f.column), quote(f.source_column)
            # Values it set that were changed again later: those later changes stand.
            kept += con.execute(
                "SELECT count(*) FROM history WHERE field_id = $f AND old_src = $x AND source_id = new_src "
                "AND source_id <> $x", {"f": f.id, "x": import_id}).fetchone()[0]
            n = _revert(con, import_id, f.id, "", f"i.{src} = $x", limit)
            if n:
                insert_history(con, source="$u", image="i.id", field="$f", old="i." + col, old_src="$x",
                               new=f"{REVERT}.old_value", new_is_json=True, new_src=f"{REVERT}.old_src",
                               rest=f"FROM images i JOIN {REVERT} ON {REVERT}.id = i.id WHERE i.{col} IS NOT NULL "
                                    f"OR {REVERT}.old_value IS NOT NULL", params={"u": uid, "f": f.id, "x": import_id})
                con.execute(
                    f"UPDATE images SET {col} = {from_json_expr(REVERT + '.old_value', f.type)}, {src} = {REVERT}.old_src "
                    f"FROM {REVERT} WHERE images.id = {REVERT}.id")
                reverted += n
        # Tags are one more value per image (field 0); their source is the newest history row's.
        n = _revert(con, import_id, TAGS_FIELD_ID, f"JOIN {TAGS_SRC} c ON c.id = i.id", "c.src = $x", limit)
        if n:
            insert_history(con, source="$u", image="i.id", field=str(TAGS_FIELD_ID), old="i.tags", old_src="$x",
                           new=f"coalesce({REVERT}.old_value, '[]')", new_is_json=True, new_src=f"{REVERT}.old_src",
                           rest=f"FROM images i JOIN {REVERT} ON {REVERT}.id = i.id", params={"u": uid, "x": import_id})
            con.execute(
                f"UPDATE images SET tags = coalesce({from_json_expr(REVERT + '.old_value', S.MULTI_ENUM)}, []::VARCHAR[]) "
                f"FROM {REVERT} WHERE images.id = {REVERT}.id")
        # Images an undone import registered that now hold nothing: gone again (history keeps their values).
        empty = " AND ".join([f"{quote(f.column)} IS NULL" for f in fields] or ["TRUE"])
        removed = con.execute(f"DELETE FROM images WHERE src IN (SELECT id FROM {UNDONE}) AND len(tags) = 0 "
                              f"AND {empty}").fetchone()[0]
        con.execute("DELETE FROM files WHERE source_id = ?", [import_id])
        con.execute("UPDATE sources SET undone_by = ? WHERE id = ?", [uid, import_id])
        con.execute(f"DROP TABLE {UNDONE}")
        refresh_field_stats(con, load_fields(con))
    return UndoReport(import_id, uid, reverted, kept, removed)


def _revert(con, x: int, field_id: int, join: str, where: str, limit: int) -> int:
    """Fill TEMP table ``rv(id, old_value, old_src)``: for the images ``where`` selects (those whose
    value of ``field_id`` import ``x`` set), the value to put back. That is the value ``x``
    replaced — or, while that came from an undone source, the value *that* source replaced, and
    so on (a write row is one whose ``source_id = new_src``; none means the cell was empty)."""
    write = (f"history w ON w.image_id = {REVERT}.id AND w.field_id = $f AND w.source_id = {REVERT}.old_src "
             f"AND w.new_src = {REVERT}.old_src")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {REVERT} AS SELECT i.id, h.old_value, h.old_src FROM images i {join} "
        f"LEFT JOIN history h ON h.image_id = i.id AND h.field_id = $f AND h.source_id = $x AND h.new_src = $x "
        f"WHERE {where}", {"f": field_id, "x": x})
    for _ in range(limit):
        if not con.execute(f"SELECT count(*) FROM {REVERT} JOIN {UNDONE} u ON u.id = {REVERT}.old_src").fetchone()[0]:
            break
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {REVERT} AS SELECT {REVERT}.id, "
            f"CASE WHEN u.id IS NULL THEN {REVERT}.old_value ELSE w.old_value END AS old_value, "
            f"CASE WHEN u.id IS NULL THEN {REVERT}.old_src ELSE w.old_src END AS old_src "
            f"FROM {REVERT} LEFT JOIN {UNDONE} u ON u.id = {REVERT}.old_src LEFT JOIN {write}", {"f": field_id})
    return con.execute(f"SELECT count(*) FROM {REVERT}").fetchone()[0]
