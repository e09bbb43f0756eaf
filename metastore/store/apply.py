"""Writing a planned import into the catalog under one of the five update strategies.

Runs inside the import's transaction. Every value it replaces or removes goes to ``history``
first (old value, its source, new value, new source); values identical to what is stored are
left alone, so re-importing the same rows writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import schema as S
from .connection import quote
from .handoff import ERRS, INCOMING, STAGE, TYPED
from .plan import Plan
from .reorder import differ_early
from .writes import create_field, insert_history, last_image_id, next_id

STRATEGIES = ("merge", "merge-keep-user", "overwrite", "until-first-change", "append")


@dataclass
class Written:
    rows_written: int = 0
    rows_unchanged: int = 0
    images_added: int = 0
    values_changed: int = 0


def ensure_fields(con, plan: Plan) -> dict[str, S.Field]:
    """Create fields (and their columns) for new keys; return key → Field for every planned key."""
    out: dict[str, S.Field] = {}
    fid = next_id(con, "fields")
    for k in plan.keys:
        if k.field is not None:
            out[k.key] = k.field
            continue
        out[k.key] = create_field(con, k.key, k.type, declared=k.status == "declared", fid=fid)
        fid += 1
    return out


def apply_import(con, plan: Plan, fields: dict[str, S.Field], all_fields: list[S.Field],
                 source_id: int, strategy: str) -> Written:
    if strategy not in STRATEGIES:
        raise ValueError(strategy)
    w = Written()
    keys = [(k, fields[k.key]) for k in plan.keys]
    valid = f"NOT EXISTS (SELECT 1 FROM {ERRS} e WHERE e._file = t._file AND e._row = t._row AND NOT e.cell)"
    # Only images the catalog already has can change. Into an empty catalog, or with only new
    # paths, there are none: skip the join through the typed view, which DuckDB plans in
    # super-linear time in the number of keys (issue 16: 200 keys took minutes for 5,000 rows).
    existing = con.execute(f"SELECT EXISTS (SELECT 1 FROM {STAGE} s JOIN images i ON i.path = s._path)").fetchone()[0]
    if existing:
        _changes(con, w, keys, all_fields, source_id, strategy, valid)

    _insert_new(con, w, keys, source_id, valid, existing)
    return w


def _changes(con, w: Written, keys: list, all_fields: list[S.Field], source_id: int, strategy: str,
             valid: str) -> None:
    """Rows for images the catalog has: history of what they replace, then the update."""
    # Valid rows for images the catalog already has, joined to them (materialised: used often).
    con.execute(
        f"CREATE TEMP TABLE {INCOMING} AS SELECT t.*, i.id AS _id, (SELECT list(e.col) FROM {ERRS} e WHERE e._file = t._file "
        f"AND e._row = t._row AND e.cell) AS _bad FROM {TYPED} t "
        f"JOIN images i ON i.path = t._path WHERE {valid}")

    manual = [r[0] for r in con.execute("SELECT id FROM sources WHERE kind = 'edit'").fetchall()]
    # (field, condition under which it changes, new value); {i} names the images table alias.
    changes: list[tuple[S.Field, str, str]] = []
    for k, f in keys:
        v, s, t = "{i}." + quote(f.column), "{i}." + quote(f.source_column), f"{INCOMING}.{k.typed_col}"
        differs = f"{v} IS DISTINCT FROM {t}"
        cond = {
            "merge": f"{t} IS NOT NULL AND {differs}",
            "merge-keep-user": f"{t} IS NOT NULL AND {differs} AND NOT coalesce(list_contains($manual, {s}), false)",
            "until-first-change": f"{t} IS NOT NULL AND {differs} AND NOT {{i}}.edited",
            "append": f"{t} IS NOT NULL AND {v} IS NULL",
            # a value the import could not read leaves the stored one alone (one bad cell costs one cell)
            "overwrite": f"{differs} AND NOT coalesce(list_contains({INCOMING}._bad, '{k.col}'), false)",
        }[strategy]
        changes.append((f, cond, t))
    if strategy == "overwrite":
        incoming = {f.id for _, f in keys}
        for f in all_fields:
            if f.id not in incoming and not f.locked:
                changes.append((f, "{i}." + quote(f.column) + " IS NOT NULL", "NULL"))
    params = {"manual": manual} if strategy == "merge-keep-user" else {}
    join = f"FROM {INCOMING} JOIN images i ON i.id = {INCOMING}._id"

    def on(alias: str, sql: str) -> str:
        return sql.replace("{i}", alias)

    if changes:
        any_change = " OR ".join(f"({c})" for _, c, _ in changes)
        w.rows_written = con.execute(f"SELECT count(*) {join} WHERE {on('i', any_change)}", params).fetchone()[0]
        # History first: every replaced or removed value, with where it came from.
        for f, cond, new in changes:
            col, src = f"i.{quote(f.column)}", f"i.{quote(f.source_column)}"
            insert_history(con, source="$sid", image="i.id", field=str(f.id), old=col, old_src=src,
                           new=None if new == "NULL" else new, new_src="$sid",
                           rest=f"{join} WHERE {col} IS NOT NULL AND ({on('i', cond)})",
                           params={**params, "sid": source_id})
        n_changed = " + ".join(f"({on('i', c)})::INT" for _, c, _ in changes)
        w.values_changed = con.execute(f"SELECT coalesce(sum({n_changed}), 0) {join}", params).fetchone()[0]
        sets = []
        for f, cond, new in changes:
            c = on("images", cond)
            sets.append(f"{quote(f.column)} = CASE WHEN {c} THEN {new} ELSE images.{quote(f.column)} END")
            sets.append(f"{quote(f.source_column)} = CASE WHEN {c} THEN $sid "
                        f"ELSE images.{quote(f.source_column)} END")
        con.execute(
            f"UPDATE images SET {', '.join(sets)} FROM {INCOMING} "
            f"WHERE images.id = {INCOMING}._id AND ({on('images', any_change)})",
            {**params, "sid": source_id})
    existing = con.execute(f"SELECT count(*) FROM {INCOMING}").fetchone()[0]
    w.rows_unchanged = existing - w.rows_written


#: Rows of new images one sorted run holds at most: an import of more is inserted in runs of this
#: many rows (in file order), each sorted by path. A run's sort then fits the import's memory cap
#: (the 1M-row benchmark sorts in memory; 10M rows in one sort spilled, 3.6x -> 5.1x read_csv), and
#: runs this long still let pages skip row groups (issue 15: 4 runs of 250k served 1M images as
#: fast as one run; runs shorter than a row group, 122,880 rows, did not).
SORTED_RUN_ROWS = 1 << 20


def _runs(sizes: list[int], offsets: list[int], limit: int) -> list[str]:
    """``WHERE`` conditions (over ``t._file``, ``t._row``) cutting the stage's rows, in file order,
    into runs of at most ``limit`` positions; one empty condition when all fit in one."""
    total = sum(sizes)
    if total <= limit:
        return [""]
    out = []
    for lo in range(0, total, limit):
        hi = min(lo + limit, total)
        terms, whole = [], []
        for f, (size, off) in enumerate(zip(sizes, offsets)):
            a, b = max(lo - off, 0), min(hi - off, size)  # rows a < _row <= b of file f
            if a >= b:
                continue
            if a == 0 and b == size:
                whole.append(f)
            else:
                terms.append(f"(t._file = {f} AND t._row > {a} AND t._row <= {b})")
        if whole:
            terms.append(f"(t._file BETWEEN {whole[0]} AND {whole[-1]})")  # consecutive by construction
        out.append(" AND (" + " OR ".join(terms) + ")")
    return out


def _insert_new(con, w: Written, keys: list, source_id: int, valid: str, existing: bool = True) -> None:
    """New images: registered with a fresh media_id, every value from this source — stored in
    path order (``ORDER BY``; DuckDB keeps an insert's order): each import appends sorted runs of
    up to :data:`SORTED_RUN_ROWS` rows, so a page's ``ORDER BY path LIMIT n`` skips row groups by
    their path ranges (``reorder.py`` puts older catalogs in one order) — unless the order could
    not prune: when every path starts with the same 8 bytes (``datasets/coco/…``) the sort (~1 s
    CPU per 1M images) buys nothing and is skipped (``reorder.differ_early``). Ids do not depend on it."""
    cols = ["id", "path", "media_id", "tags", "edited", "src"]
    # Ids from file and row (unique, and no row_number(): it would serialise the insert).
    # Indexed by file: a file with no staged rows (a header alone) still has its place.
    last = dict(con.execute(f"SELECT _file, max(_row) FROM {STAGE} GROUP BY _file").fetchall())
    sizes = [last.get(f) or 0 for f in range(max(last) + 1 if last else 0)]
    offsets = [sum(sizes[:f]) for f in range(len(sizes))]
    exprs = ["$base + _row + $offsets[_file + 1]", "_path", "uuid()", "[]::VARCHAR[]", "false", "$sid"]
    for k, f in keys:
        cols += [quote(f.column), quote(f.source_column)]
        exprs += [k.typed_col, f"CASE WHEN {k.typed_col} IS NOT NULL THEN $sid END"]
    # The sort carries only what varies per row and cannot be derived after it (the typed values,
    # the path, the row's place): the sources, the media_id and the constants are computed on the
    # sorted rows (at 1M: -0.3 s CPU of the +1.5 s the sort costs with every column as payload).
    sorted_ = ", ".join(["_file", "_row", "_path"] + [k.typed_col for k, _ in keys])
    # New: valid rows of paths the catalog lacks — the rows _changes did not take (none when the
    # catalog has none of the paths), not a join with ``images``, which grows run by run.
    new = (f" AND NOT EXISTS (SELECT 1 FROM {INCOMING} x WHERE x._file = t._file AND x._row = t._row)"
           if existing else "")
    base = last_image_id(con)
    order = " ORDER BY t._path" if differ_early(con, STAGE, "_path") else ""
    for run in _runs(sizes, offsets, SORTED_RUN_ROWS):
        w.images_added += con.execute(
            f"INSERT INTO images ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM (SELECT {sorted_} FROM {TYPED} t "
            f"WHERE {valid}{new}{run}{order})",
            {"base": base, "sid": source_id, "offsets": offsets or [0]}).fetchone()[0]
    w.rows_written += w.images_added
    return w
