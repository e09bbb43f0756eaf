"""Typing and validating a staged import, column at a time inside DuckDB.

Input: the ``stage`` view (text cells). Output: the TEMP table ``typed`` (one typed column
``t<i>`` per accepted key, NULL for "no value") and the TEMP table ``errs`` holding every row
error (file, row, key, value, reason). Types are inferred from ALL values of the import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import re

from .. import schema as S
from .. import types as T

import duckdb

from ..errors import UsageError
from .codec import (auto_cast_expr, auto_checks, auto_kind, auto_ok_expr, cast_expr, fast_cast_expr,
                    lit as codec_lit, reason_expr)
from .stage import Issue, Stage, StageColumn, refuse_too_many_keys
from .handoff import ERRS, STAGE, TYPED, map_table, typed_column

#: Auto-typing candidates, in the order of preference when several fit every value.
_TEXT_CANDIDATES = T.AUTO_ORDER
#: The type a key whose values fit no other is (every text fits it).
_FALLBACK = next(t.name for t in T.TYPES.values() if t.fits_any)
#: The type ``--datetime-format KEY=FORM`` makes a key (its values read with strptime).
FORMAT_TYPE = S.DATETIME


@dataclass
class KeyPlan:
    key: str
    col: str  # stage column (k<i>); the typed column is t<i>
    type: str
    status: str  # "new", "declared", "existing"
    values: int = 0  # non-empty cells
    note: str | None = None  # why the type is what it is, when that is not obvious
    field: S.Field | None = None
    verified: bool = False  # every value already passed the auto-typing check for ``type``
    # ``type`` is the one auto-typed kind every value of the first rows fits (:data:`SAMPLE_ROWS`);
    # the rest are checked as the typed rows are written: a value that does not fit stops the
    # write with :data:`UNVERIFIED`, and :func:`confirm_assumed` types the key from all values
    assumed: bool = False
    fmt: str | None = None  # --datetime-format: the strftime form of this datetime key's values

    @property
    def typed_col(self) -> str:
        return typed_column(self.col)


@dataclass
class Plan:
    stage: Stage
    keys: list[KeyPlan] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # column-level issues (row None)
    failed_rows: int = 0  # rows rejected as a whole
    row_errors: int = 0  # every error (rows and cells)
    failed_cells: int = 0  # values rejected in rows that were otherwise written


def _nonempty(c: str) -> str:
    """A cell that holds a value. Blank CSV cells are staged as NULL (no value); a JSON "" is
    staged as '' and is a value (absent is not empty)."""
    return f"({c} IS NOT NULL)"


def _candidates(col: StageColumn) -> tuple[tuple[str, ...], str | None]:
    """(types to try, type forced by the JSON kinds) for an undeclared new key."""
    if col.kinds is None:
        return _TEXT_CANDIDATES, None
    kinds = col.kinds
    if len(kinds) == 1:
        (kind,) = kinds
        if kind == "str":  # JSON strings: the auto-typed kinds whose values arrive as strings
            return tuple(t for t in _TEXT_CANDIDATES if T.TYPES[t].json_kind == "str"), None
        forced = _JSON_TYPE.get(kind)
        if forced:
            return (), forced
    if kinds <= {"str", "num", "bool"}:
        # Mixed JSON kinds (5 here, "5" or "n/a" there): typed from the text of every value like a
        # CSV column, so that a key that ends up a string says why (issue 12 item 11).
        return _TEXT_CANDIDATES, None
    return (), _FALLBACK


#: The type of a key whose JSON values are all of one (non-string) kind: numbers, booleans, lists.
_JSON_TYPE = {t.json_kind: t.name for t in T.TYPES.values() if t.json_kind != "str"}


#: Characters a --datetime-format may hold (it becomes a SQL literal: validated, never escaped ad hoc).
_FORMAT_RE = re.compile(r"[%A-Za-z0-9 :/.,_+\-]+\Z")


def check_datetime_formats(con, formats: dict[str, str]) -> None:
    """Refuse a --datetime-format that is not a strftime form DuckDB reads."""
    for key, fmt in formats.items():
        if not _FORMAT_RE.match(fmt) or "%" not in fmt:
            raise UsageError(f"--datetime-format {key}={fmt}: not a strftime form",
                             help="e.g. --datetime-format observed=%m/%d/%Y %H:%M (letters, digits, %, spaces "
                                  "and : / . , _ + -)")
        try:
            con.execute(f"SELECT try_strptime('2020', {codec_lit(fmt)})").fetchone()
        except duckdb.Error as exc:
            raise UsageError(f"--datetime-format {key}={fmt}: {str(exc).splitlines()[0][:160]}",
                             help="strftime codes: %Y %m %d %H %M %S %I %p %b %z …") from None


def plan_import(con, stage: Stage, schema: S.Schema, declared: dict[str, str],
                formats: dict[str, str] | None = None) -> Plan:
    plan = Plan(stage)
    formats = formats or {}
    if formats:
        check_datetime_formats(con, formats)
        bad = [k for k, t in declared.items() if k in formats and t != FORMAT_TYPE]
        if bad:
            raise UsageError(f"--datetime-format {bad[0]}=… makes '{bad[0]}' a datetime, but --type says "
                             f"{declared[bad[0]]}", help="give one of the two")
        declared = {**declared, **{k: FORMAT_TYPE for k in formats}}
    files = stage.files
    refuse_too_many_keys(files, len(stage.columns))
    infer_cols: list[tuple[StageColumn, tuple[str, ...]]] = []
    for col in stage.columns:
        existing = schema.exact(col.key)
        want = declared.get(col.key)
        if existing is not None:
            if existing.locked:
                plan.issues.append(Issue(col.where, None, col.key, None,
                                         f"key '{col.key}' is locked; its values are not changed by imports"))
                continue
            if want and want != existing.type:
                plan.issues.append(Issue(
                    col.where, None, col.key, None,
                    f"key '{col.key}' is already {existing.kind.a}, not {want} "
                    f"(to change it, checking every stored value first: metastore fields retype {col.key} {want})"))
                continue
            plan.keys.append(KeyPlan(col.key, col.col, existing.type, "existing", field=existing,
                                     fmt=formats.get(col.key)))
        elif want:
            plan.keys.append(KeyPlan(col.key, col.col, want, "declared", fmt=formats.get(col.key)))
        else:
            cands, forced = _candidates(col)
            if forced:
                plan.keys.append(KeyPlan(col.key, col.col, forced, "new"))
            else:
                infer_cols.append((col, cands))
                plan.keys.append(KeyPlan(col.key, col.col, _FALLBACK, "new"))
    by_col = {k.col: k for k in plan.keys}

    _infer(con, plan, by_col, infer_cols)
    _date_like_notes(con, plan, [by_col[c.col] for c, _ in infer_cols])
    for k in list(plan.keys):
        if k.values == 0 and k.status == "new":
            plan.keys.remove(k)  # a column with no values says nothing about its type: not created
    _check_enums(con, plan)
    _build_typed(con, plan)
    _collect_errors(con, plan)
    if _rejected_misfits(con, plan):
        confirm_assumed(con, plan)
    return plan


#: Rows a first, cheap pass looks at to rule candidate types out. A type that fails on any of
#: them cannot fit every value; a type that survives is then confirmed on ALL rows — while the
#: rows are written (``KeyPlan.assumed``), not in a pass of its own.
_SAMPLE_ROWS = 2_048

#: The text of the DuckDB error a write stops with when a cell does not fit the type its key was
#: given from its first rows (``KeyPlan.assumed``); ``importer`` then calls :func:`confirm_assumed`
#: and writes again. A constant of ours: no user text is in it.
UNVERIFIED = "metastore: a value does not fit the type assumed from the first rows"


def is_unverified(exc: Exception) -> bool:
    """Whether ``exc`` is a write stopped by a cell that does not fit an assumed type."""
    return isinstance(exc, duckdb.InvalidInputException) and UNVERIFIED in str(exc)


#: Aggregates per statement. DuckDB plans one SELECT of many aggregates in super-linear time
#: (issue 16: 200 keys × their candidate types took 23 s to plan); statements of at most this
#: many each read only their own columns, so the total stays linear in the number of keys.
_AGGS_PER_STATEMENT = 32


def _aggregate(con, aggs: list[str], where: str = "") -> list:
    """The values of ``aggs`` over the stage (``where`` filtering rows), a few per statement."""
    out: list = []
    for i in range(0, len(aggs), _AGGS_PER_STATEMENT):
        chunk = aggs[i:i + _AGGS_PER_STATEMENT]
        out += con.execute(f"SELECT {', '.join(chunk)} FROM {STAGE}{where}").fetchone()
    return out


def _kind_counts(con, specs: list[tuple[str, tuple[str, ...]]], where: str = "") -> list[list[int]]:
    """For each (stage column, auto kinds): [non-empty cells, cells of each kind] over the stage.

    Each cell is tested once (:func:`codec.auto_kind`, computed in an inner SELECT), not once
    per kind; a few columns per statement, as in :func:`_aggregate`."""
    out: list[list[int]] = []
    group: list = []
    size = 0

    def flush():
        if not group:
            return
        inner = ", ".join([c for c, _ in group] + [f"{auto_kind(c, kinds)} AS _q{i}"
                                                    for i, (c, kinds) in enumerate(group) if kinds])
        aggs = []
        for i, (c, kinds) in enumerate(group):
            aggs.append(f"count({c})")
            aggs += [f"count(*) FILTER (WHERE _q{i} = {j})" for j in range(len(kinds))]
        row = con.execute(f"SELECT {', '.join(aggs)} FROM (SELECT {inner} FROM {STAGE}{where})").fetchone()
        pos = 0
        for c, kinds in group:
            out.append(list(row[pos:pos + 1 + len(kinds)]))
            pos += 1 + len(kinds)
        group.clear()

    for spec in specs:
        if size + 1 + len(spec[1]) > _AGGS_PER_STATEMENT:
            flush()
            size = 0
        group.append(spec)
        size += 1 + len(spec[1])
    flush()
    return out


def _infer(con, plan: Plan, by_col: dict, infer_cols: list) -> None:
    """Infer each new key's type from all of its values (a sample only ever rules types out)."""
    alive: dict[str, list[str]] = {col.col: list(cands) for col, cands in infer_cols}
    sample_fits: dict[tuple[str, str], int] = {}
    sample_seen: dict[str, int] = {}
    if infer_cols:
        counts = _kind_counts(con, [(col.col, cands) for col, cands in infer_cols], f" WHERE _row <= {_SAMPLE_ROWS}")
        for (col, cands), (seen, *fits) in zip(infer_cols, counts):
            sample_seen[col.col] = seen
            for t, n in zip(cands, fits):
                if n < seen:
                    alive[col.col].remove(t)
                sample_fits[(col.col, t)] = n
    # Full pass: value counts for every key, fit counts for surviving candidates, and for keys
    # with none left the closest candidate (to explain why the key became a string).
    todo: dict[str, tuple[str, ...]] = {}
    for col, cands in infer_cols:
        left = alive[col.col]
        if sample_seen.get(col.col) and len(left) == 1:
            # every value of the first rows is of one kind (the kinds are exclusive: at most one
            # survives values): assume it, and check the other cells while writing them
            k = by_col[col.col]
            k.type, k.assumed = left[0], True
            continue
        if not left:
            best = max(cands, key=lambda t: sample_fits.get((col.col, t), 0), default=None)
            left = [best] if best and sample_fits.get((col.col, best), 0) > 0 else []
        todo[col.col] = tuple(left)
    counts = _kind_counts(con, [(k.col, todo.get(k.col, ())) for k in plan.keys])
    fits: dict[str, dict[str, int]] = {}
    for k, (values, *found) in zip(plan.keys, counts):
        k.values = values
        if found:
            fits[k.col] = dict(zip(todo[k.col], found))
    for col, cands in infer_cols:
        k = by_col[col.col]
        found = fits.get(col.col, {})
        if k.values == 0 or k.assumed:
            continue
        full = [t for t in cands if found.get(t) == k.values]
        if full:
            k.type = full[0]
            k.verified = True
        elif found:
            best = max(found, key=lambda t: found[t])
            if found[best] > 0:
                k.note = _mixed_note(con, k, best, found[best], plan.stage.files)


def confirm_assumed(con, plan: Plan) -> None:
    """Type the keys typed from their first rows (``KeyPlan.assumed``) from ALL their values, as
    :func:`_infer` does for the others — called when a later value did not fit (a rejected row's,
    before writing; any other, when the write stopped with :data:`UNVERIFIED`)."""
    keys = [k for k in plan.keys if k.assumed]
    if not keys:
        return
    counts = _kind_counts(con, [(k.col, (k.type,)) for k in keys])
    for k, (values, fitting) in zip(keys, counts):
        k.assumed = False
        if fitting == values:
            k.verified = True
            continue
        best, k.type = k.type, _FALLBACK
        if fitting > 0:
            k.note = _mixed_note(con, k, best, fitting, plan.stage.files)
    _date_like_notes(con, plan, keys)
    _build_typed(con, plan)


def _rejected_misfits(con, plan: Plan) -> bool:
    """Whether a row rejected whole holds a value that does not fit its key's assumed type (the
    write checks the cells of the rows it writes; these it does not write)."""
    keys = [k for k in plan.keys if k.assumed]
    if not keys or not plan.failed_rows:
        return False
    aggs = [f"count(*) FILTER (WHERE {_nonempty(k.col)} AND NOT coalesce("
            f"{auto_ok_expr(auto_cast_expr(k.col, k.type), k.type)}, false))" for k in keys]
    row = _aggregate(con, aggs, f" WHERE (_file, _row) IN (SELECT _file, _row FROM {ERRS} WHERE NOT cell)")
    return any(row)


def _mixed_note(con, k: KeyPlan, best: str, fitting: int, files: list[str]) -> str:
    check = auto_checks(k.col)[best]
    ex = con.execute(
        f"SELECT {k.col}, _file, _row, _src FROM {STAGE} WHERE {_nonempty(k.col)} AND NOT {check} "
        f"ORDER BY _file, _row LIMIT 1").fetchone()
    misfits = k.values - fitting
    where = ex[3] if ex[3] else f"row {ex[2]}" + (f" of {files[ex[1]]}" if len(files) > 1 else "")
    verb = "is" if misfits == 1 else "are"
    noun = best + "s" if misfits != 1 else best
    article = "" if misfits != 1 else ("an " if noun[0] in "aeiou" else "a ")
    note = (f"{k.key}: string, because {misfits:,} of {k.values:,} values {verb} not {article}{noun}, "
            f"e.g. {ex[0]!r} at {where}; use --type {k.key}={best} to import as {best} (those values are "
            f"then listed as errors and left out)")
    if best == FORMAT_TYPE:
        note += f", or give their form with --datetime-format {k.key}=FORMAT (e.g. '%m/%d/%Y %H:%M')"
    return note


#: Texts that look like a date in some form (``7/16/2016``, ``16.07.2016 8:14``, ``2016/07/16``):
#: a key of such values that auto-typing could not read gets a note naming --datetime-format.
LOOSE_DATE_RE = (r"[0-9]{1,4}[/.-][0-9]{1,2}[/.-][0-9]{1,4}([ T,]+[0-9]{1,2}[:.][0-9]{2}.*)?"
                 r"|[0-9]{1,2} [A-Za-z]{3,9},? [0-9]{4}.*|[A-Za-z]{3,9} [0-9]{1,2},? [0-9]{4}.*")


def _date_like_notes(con, plan: Plan, keys: list[KeyPlan]) -> None:
    """Keys left as strings whose values mostly look like dates in a form not understood."""
    keys = [k for k in keys if T.TYPES[k.type].fits_any and k.values and (k.note is None or "datetimes" not in k.note)]
    if not keys:
        return
    pat = "'" + LOOSE_DATE_RE.replace("'", "''") + "'"
    # An advice only: the first rows are enough (a full scan of every string column would cost
    # wide imports a regex per cell).
    aggs = [x for k in keys for x in (f"count({k.col})",
                                       f"count(*) FILTER (WHERE regexp_full_match(trim({k.col}), {pat}))",
                                       f"min({k.col}) FILTER (WHERE regexp_full_match(trim({k.col}), {pat}))")]
    row = _aggregate(con, aggs, f" WHERE _row <= {_SAMPLE_ROWS}")
    for i, k in enumerate(keys):
        seen, n, example = row[3 * i], row[3 * i + 1], row[3 * i + 2]
        if n and n * 2 >= seen:
            k.note = (f"{k.key}: string; {n:,} of {seen:,} values{' read' if seen < k.values else ''} look like "
                      f"dates in a form auto-typing does not read, e.g. {example!r}; give their form with "
                      f"--datetime-format {k.key}=FORMAT (strftime, e.g. '%m/%d/%Y %H:%M')")


#: Types whose cells repeat (options): each distinct cell is typed once, in a map table.
_MAPPED = tuple(t.name for t in T.TYPES.values() if t.options)


def _map_table(k: KeyPlan) -> str:
    return map_table(k.col)


def _check_enums(con, plan: Plan) -> None:
    """Enum cells repeat: type each distinct cell once into a map table ``m<i>`` (raw → value),
    and check Visual Layer's limits there: at most 600 options, each at most 20 characters."""
    for k in list(plan.keys):
        if k.type not in _MAPPED:
            continue
        m = _map_table(k)
        con.execute(f"CREATE TEMP TABLE {m} AS SELECT raw, {cast_expr('raw', k.type)} AS val "
                    f"FROM (SELECT DISTINCT {k.col} AS raw FROM {STAGE} WHERE {_nonempty(k.col)})")
        listed = T.TYPES[k.type].listed
        items = "unnest(val)" if listed else "val"
        known = sorted(k.field.options) if k.field else []
        total, longest = con.execute(
            f"SELECT count(DISTINCT x), max(length(x)) FROM (SELECT {items} AS x FROM {m} "
            f"UNION ALL SELECT unnest($known::VARCHAR[]))", {"known": known}).fetchone()
        if total > S.MAX_OPTIONS:
            plan.issues.append(Issue(
                plan.stage.files[0], None, k.key, None,
                f"key '{k.key}' would have {total:,} options; {T.TYPES[k.type].a} allows at most {S.MAX_OPTIONS} "
                f"(declare it as string: --type {k.key}=string)"))
            plan.keys.remove(k)
            continue
        if longest and longest > S.MAX_OPTION_LENGTH:
            long_ = (f"list_bool_or(list_transform(val, lambda x: length(x) > {S.MAX_OPTION_LENGTH}))" if listed
                     else f"length(val) > {S.MAX_OPTION_LENGTH}")
            con.execute(f"UPDATE {m} SET val = NULL WHERE {long_}")


def _typed_expr(k: KeyPlan) -> str:
    if k.type in _MAPPED and T.TYPES[k.type].listed:
        # An empty list is no value, like an empty cell: stored lists always hold an option.
        return f"nullif({_map_table(k)}.val, [])"
    if k.type in _MAPPED:
        return f"{_map_table(k)}.val"
    if k.assumed:
        # the value (computed once, below) — or, for a cell that does not fit, stop the write
        v = k.typed_col
        return (f"CASE WHEN {_nonempty(k.col)} AND NOT coalesce({auto_ok_expr(v, k.type)}, false) "
                f"THEN error({codec_lit(UNVERIFIED)}) ELSE {v} END")
    expr = fast_cast_expr(k.col, k.type) if k.verified else _cast(k)
    return f"CASE WHEN {_nonempty(k.col)} THEN {expr} END"


def _build_typed(con, plan: Plan) -> None:
    cols = ["_file", "_row", "_src", "_path"] + [f"{_typed_expr(k)} AS {k.typed_col}" for k in plan.keys]
    joins = "".join(f" LEFT JOIN {_map_table(k)} ON {_map_table(k)}.raw = {STAGE}.{k.col}"
                    for k in plan.keys if k.type in _MAPPED)
    assumed = [f"{auto_cast_expr(k.col, k.type)} AS {k.typed_col}" for k in plan.keys if k.assumed]
    source = f"(SELECT *, {', '.join(assumed)} FROM {STAGE}) AS {STAGE}" if assumed else STAGE
    # A view, not a table: each use computes only the casts it needs, and the one big use (the
    # insert of new images) streams from the stage to the catalog without another copy.
    con.execute(f"CREATE OR REPLACE TEMP VIEW {TYPED} AS SELECT {', '.join(cols)} FROM {source}{joins}")


def _misfit(k: KeyPlan) -> str:
    """Cells of ``k`` that hold a value its type cannot read (a row error each)."""
    if k.type in _MAPPED:
        return f"({k.col} IN (SELECT raw FROM {_map_table(k)} WHERE val IS NULL))"
    return f"({_nonempty(k.col)} AND ({_cast(k)}) IS NULL)"


def _cast(k: KeyPlan) -> str:
    """A cell of ``k`` read as its type (with its --datetime-format when it has one)."""
    if k.fmt is not None:
        return f"try_strptime(trim({k.col}), {codec_lit(k.fmt)})::TIMESTAMP"
    return cast_expr(k.col, k.type)


def _reason(k: KeyPlan, c: str) -> str:
    q = "'" * 4
    if k.fmt is not None:
        return f"{q} || {c} || {q} || {codec_lit(' does not match --datetime-format ' + repr(k.fmt))}"
    if k.type in _MAPPED and not T.TYPES[k.type].listed:
        return (f"{q} || {c} || {q} || CASE WHEN trim({c}) = '' THEN {codec_lit(T.EMPTY_OPTION_PROBLEM)} "
                f"ELSE ' is longer than {S.MAX_OPTION_LENGTH} characters, the limit for an "
                f"enum option (declare the key as string)' END")
    if k.type in _MAPPED:
        return (f"{q} || {c} || {q} || CASE WHEN starts_with(trim({c}), '[') "
                f"THEN ' is not a JSON array of strings (e.g. [\"rust\", \"dent\"] or rust, dent)' "
                f"ELSE ' has an option longer than {S.MAX_OPTION_LENGTH} characters (declare the key as string)' END")
    return reason_expr(c, k.type)


def _collect_errors(con, plan: Plan) -> None:
    # ``cell``: the error costs that one value (a value its key's type cannot read); the row's other
    # values are written. Otherwise the whole row is rejected (no path, duplicate, unreadable record).
    con.execute(f"CREATE TEMP TABLE {ERRS} (_file INTEGER, _row BIGINT, _src VARCHAR, key VARCHAR, value VARCHAR, "
                "reason VARCHAR, cell BOOLEAN DEFAULT false, col VARCHAR)")
    for issue in plan.stage.issues:
        if not issue.row_error:
            plan.issues.append(issue)
        else:
            src = issue.file if issue.row is None else None
            con.execute(f"INSERT INTO {ERRS} VALUES (?, ?, ?, ?, ?, ?, false, NULL)",
                        [issue.at[0], issue.at[1], src, issue.key, issue.value, issue.reason])
    checked = [k for k in plan.keys if not k.verified and not k.assumed and not T.TYPES[k.type].fits_any]
    if checked:
        counts = _aggregate(con, [f"count(*) FILTER (WHERE {_misfit(k)})" for k in checked])
        for k, n in zip(checked, counts):
            if n:
                con.execute(f"INSERT INTO {ERRS} SELECT _file, _row, _src, ?, left({k.col}, 200), {_reason(k, k.col)}, "
                            f"true, '{k.col}' FROM {STAGE} WHERE {_misfit(k)}", [k.key])
    # Blank paths: ``ltrim(p) = ''`` is ``trim(p) = ''`` (the same spaces) without building the
    # trimmed text. (Counting distinct ``hash(_path)`` instead of paths was tried: DuckDB's string
    # hash collides on near-identical paths — 2 pairs among the benchmark's 1M — which then runs
    # the costly exact query below for nothing.)
    no_path, dups = con.execute(
        "SELECT count(*) FILTER (WHERE _path IS NULL OR ltrim(_path) = ''), count(_path) - count(DISTINCT _path) "
        f"FROM {STAGE}").fetchone()
    if no_path:
        con.execute(
            f"INSERT INTO {ERRS} SELECT _file, _row, _src, NULL, NULL, 'row has no image path', false, NULL "
            f"FROM {STAGE} WHERE _path IS NULL OR ltrim(_path) = ''")
    if dups:
        con.execute(
            f"INSERT INTO {ERRS} SELECT _file, _row, _src, NULL, _path, 'duplicate path; first at row ' || first_row, false, NULL "
            "FROM (SELECT _file, _row, _src, _path, first_value(_row) OVER w AS first_row, "
            f"row_number() OVER w AS n FROM {STAGE} WHERE ltrim(_path) <> '' "
            "WINDOW w AS (PARTITION BY _path ORDER BY _file, _row)) WHERE n > 1")
    plan.row_errors, plan.failed_rows, plan.failed_cells = con.execute(
        "SELECT count(*), count(DISTINCT (_file, _row)) FILTER (WHERE NOT cell), "
        f"count(*) FILTER (WHERE cell AND NOT EXISTS (SELECT 1 FROM {ERRS} r WHERE r._file = {ERRS}._file "
        f"AND r._row = {ERRS}._row AND NOT r.cell)) FROM {ERRS}").fetchone()
