"""Typing and validating a staged import, column at a time inside DuckDB.

Input: the ``stage`` view (text cells). Output: the TEMP table ``typed`` (one typed column
``t<i>`` per accepted key, NULL for "no value") and the TEMP table ``errs`` holding every row
error (file, row, key, value, reason). Types are inferred from ALL values of the import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import schema as S
from .codec import auto_checks, cast_expr, reason_expr
from .stage import Issue, Stage, StageColumn

#: Auto-typing candidates, in the order of preference when several fit every value.
_TEXT_CANDIDATES = (S.BOOLEAN, S.NUMBER, S.DATETIME, S.LINK)
_KIND_NOUN = {S.BOOLEAN: "booleans", S.NUMBER: "numbers", S.DATETIME: "datetimes", S.LINK: "links"}


@dataclass
class KeyPlan:
    key: str
    col: str  # stage column (k<i>); the typed column is t<i>
    type: str
    status: str  # "new", "declared", "existing"
    values: int = 0  # non-empty cells
    note: str | None = None  # why the type is what it is, when that is not obvious
    field: S.Field | None = None

    @property
    def typed_col(self) -> str:
        return "t" + self.col[1:]


@dataclass
class Plan:
    stage: Stage
    keys: list[KeyPlan] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # column-level issues (row None)
    failed_rows: int = 0
    row_errors: int = 0


def _nonempty(c: str) -> str:
    return f"({c} IS NOT NULL AND trim({c}) <> '')"


def _candidates(col: StageColumn) -> tuple[tuple[str, ...], str | None]:
    """(types to try, type forced by the JSON kinds) for an undeclared new key."""
    if col.kinds is None:
        return _TEXT_CANDIDATES, None
    kinds = col.kinds
    if kinds == {"num"}:
        return (), S.NUMBER
    if kinds == {"bool"}:
        return (), S.BOOLEAN
    if kinds == {"list"}:
        return (), S.MULTI_ENUM
    if kinds == {"str"}:
        return (S.DATETIME, S.LINK), None
    return (), S.STRING


def plan_import(con, stage: Stage, schema: S.Schema, declared: dict[str, str]) -> Plan:
    plan = Plan(stage)
    files = stage.files
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
                    f"key '{col.key}' is already a {existing.type}, not {want} "
                    f"(to widen it: metastore fields retype {col.key} string)"))
                continue
            plan.keys.append(KeyPlan(col.key, col.col, existing.type, "existing", field=existing))
        elif want:
            plan.keys.append(KeyPlan(col.key, col.col, want, "declared"))
        else:
            cands, forced = _candidates(col)
            if forced:
                plan.keys.append(KeyPlan(col.key, col.col, forced, "new"))
            else:
                infer_cols.append((col, cands))
                plan.keys.append(KeyPlan(col.key, col.col, S.STRING, "new"))
    by_col = {k.col: k for k in plan.keys}

    # One pass over the stage counts, for every column, its values and how many fit each type.
    aggs = []
    for k in plan.keys:
        aggs.append(f"count(*) FILTER (WHERE {_nonempty(k.col)})")
    for col, cands in infer_cols:
        checks = auto_checks(col.col)
        for t in cands:
            aggs.append(f"count(*) FILTER (WHERE {_nonempty(col.col)} AND {checks[t]})")
    row = con.execute(f"SELECT {', '.join(aggs) or '0'} FROM stage").fetchone() if aggs else ()
    for i, k in enumerate(plan.keys):
        k.values = row[i]
    pos = len(plan.keys)
    for col, cands in infer_cols:
        k = by_col[col.col]
        fits = dict(zip(cands, row[pos:pos + len(cands)]))
        pos += len(cands)
        if k.values == 0:
            continue
        full = [t for t in cands if fits[t] == k.values]
        if full:
            k.type = full[0]
            continue
        best = max(cands, key=lambda t: fits[t]) if cands else None
        if best and fits[best] > 0:
            k.note = _mixed_note(con, k, best, fits[best], files)
    for k in list(plan.keys):
        if k.values == 0 and k.status == "new":
            plan.keys.remove(k)  # a column with no values says nothing about its type: not created
    _check_enums(con, plan)
    _build_typed(con, plan)
    _collect_errors(con, plan)
    return plan


def _mixed_note(con, k: KeyPlan, best: str, fitting: int, files: list[str]) -> str:
    check = auto_checks(k.col)[best]
    ex = con.execute(
        f"SELECT {k.col}, _file, _row FROM stage WHERE {_nonempty(k.col)} AND NOT {check} "
        f"ORDER BY _file, _row LIMIT 1").fetchone()
    misfits = k.values - fitting
    where = f"row {ex[2]}" + (f" of {files[ex[1]]}" if len(files) > 1 else "")
    return (
        f"{k.key}: string, because {misfits:,} of {k.values:,} values are not {_KIND_NOUN[best]}, "
        f"e.g. {ex[0]!r} at {where}; use --type {k.key}={best} to import as {best} and reject those rows"
    )


def _check_enums(con, plan: Plan) -> None:
    """Visual Layer's limits: at most 600 options, each at most 20 characters."""
    for k in list(plan.keys):
        if k.type not in (S.ENUM, S.MULTI_ENUM) or k.values == 0:
            continue
        expr = cast_expr(k.col, k.type)
        items = f"unnest({expr})" if k.type == S.MULTI_ENUM else expr
        (distinct,) = con.execute(
            f"SELECT count(DISTINCT x) FROM (SELECT {items} AS x FROM stage WHERE {_nonempty(k.col)})").fetchone()
        known = set(k.field.options) if k.field else set()
        if distinct + len(known) > S.MAX_OPTIONS:
            total = con.execute(
                f"SELECT count(DISTINCT x) FROM (SELECT {items} AS x FROM stage WHERE {_nonempty(k.col)} "
                f"UNION ALL SELECT unnest(?::VARCHAR[]))", [sorted(known)]).fetchone()[0]
            if total > S.MAX_OPTIONS:
                plan.issues.append(Issue(
                    plan.stage.files[0], None, k.key, None,
                    f"key '{k.key}' would have {total:,} options; an {k.type} allows at most {S.MAX_OPTIONS} "
                    f"(declare it as string: --type {k.key}=string)"))
                plan.keys.remove(k)


def _typed_expr(k: KeyPlan) -> str:
    expr = cast_expr(k.col, k.type)
    if k.type == S.ENUM:
        expr = f"CASE WHEN length({expr}) <= {S.MAX_OPTION_LENGTH} THEN {expr} END"
    elif k.type == S.MULTI_ENUM:
        expr = (f"CASE WHEN list_bool_and(list_transform({expr}, lambda x: length(x) <= {S.MAX_OPTION_LENGTH})) "
                f"IS NOT FALSE THEN {expr} END")
    return f"CASE WHEN {_nonempty(k.col)} THEN {expr} END"


def _build_typed(con, plan: Plan) -> None:
    cols = ["_file", "_row", "_path"] + [f"{_typed_expr(k)} AS {k.typed_col}" for k in plan.keys]
    con.execute(f"CREATE TEMP TABLE typed AS SELECT {', '.join(cols)} FROM stage")


def _reason(k: KeyPlan, c: str) -> str:
    q = "'" * 4
    if k.type == S.ENUM:
        return (f"{q} || {c} || {q[:3]} is longer than {S.MAX_OPTION_LENGTH} characters, the limit for an "
                f"enum option (declare the key as string)'")
    if k.type == S.MULTI_ENUM:
        return (f"{q} || {c} || {q[:3]} is not a list of options of at most {S.MAX_OPTION_LENGTH} characters "
                f"(use a, b, c or a JSON array of strings)'")
    return reason_expr(c, k.type)


def _collect_errors(con, plan: Plan) -> None:
    con.execute("CREATE TEMP TABLE errs (_file INTEGER, _row BIGINT, key VARCHAR, value VARCHAR, reason VARCHAR)")
    for issue in plan.stage.issues:
        if issue.row is None:
            plan.issues.append(issue)
        else:
            con.execute("INSERT INTO errs VALUES (?, ?, ?, ?, ?)",
                        [plan.stage.files.index(issue.file), issue.row, issue.key, issue.value, issue.reason])
    checked = [k for k in plan.keys if not (k.status == "new" and k.type in (S.STRING, S.LINK, S.DATETIME,
                                                                              S.NUMBER, S.BOOLEAN))]
    if checked:
        flags = ", ".join(f"count(*) FILTER (WHERE t.{k.typed_col} IS NULL AND {_nonempty('s.' + k.col)})"
                          for k in checked)
        counts = con.execute(
            f"SELECT {flags} FROM stage s JOIN typed t USING (_file, _row)").fetchone()
        for k, n in zip(checked, counts):
            if n:
                con.execute(
                    f"INSERT INTO errs SELECT s._file, s._row, ?, left(s.{k.col}, 200), {_reason(k, 's.' + k.col)} "
                    f"FROM stage s JOIN typed t USING (_file, _row) "
                    f"WHERE t.{k.typed_col} IS NULL AND {_nonempty('s.' + k.col)}", [k.key])
    con.execute(
        "INSERT INTO errs SELECT _file, _row, NULL, NULL, 'row has no image path' "
        "FROM typed WHERE _path IS NULL OR trim(_path) = ''")
    con.execute(
        "INSERT INTO errs SELECT _file, _row, NULL, _path, 'duplicate path; first at row ' || first_row "
        "FROM (SELECT _file, _row, _path, first_value(_row) OVER w AS first_row, "
        "row_number() OVER w AS n FROM typed WHERE trim(_path) <> '' "
        "WINDOW w AS (PARTITION BY _path ORDER BY _file, _row)) WHERE n > 1")
    plan.row_errors, plan.failed_rows = con.execute(
        "SELECT count(*), count(DISTINCT (_file, _row)) FROM errs").fetchone()
