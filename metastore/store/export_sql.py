"""Manifests written by DuckDB (issue 16): a search's rows turned into manifest cells, split
names and whole lines in SQL, then ``COPY … TO`` a file — no row passes through Python.

Every expression here reproduces, byte for byte, what the Python writer of
:mod:`metastore.export` prints for the same value (``types.text`` for CSV cells, ``json.dumps``
of ``types.json_value`` for JSON, Python's ``csv`` quoting); ``tests/test_export_sql.py`` holds
the two side by side for every type, awkward characters and random values.

Splits: an image's split is ``md5(prefix || 'p' || US || path)`` — or ``… 'g' || US || group
text`` with a group key — read as a 64-bit number (its first 16 hex digits) against the
cumulative bounds of the ratios (``export.split_bounds``, pure). md5 because DuckDB has it (no
BLAKE2b) and every language can recompute it (``export.assign_split``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import duckdb

from .. import schema as S
from .. import types as T
from ..types import lit as _lit  # our own constants as SQL literals (never user data)
from .connection import quote


@dataclass(frozen=True)
class SplitSql:
    """What the split column needs: ``prefix`` = ``f"{seed}\\x1fsplit\\x1f"``, ``bounds`` = (name,
    16-hex-digit upper bound) for every split but the last, ``last`` its name, ``group`` the
    group key's field (a column of the search) or None."""

    prefix: str
    bounds: tuple[tuple[str, str], ...]
    last: str
    group: S.Field | None = None


class _Params:
    """Placeholders after the search's own ``$1…$k``."""

    def __init__(self, start: int) -> None:
        self.start, self.values = start, []

    def add(self, value) -> str:
        self.values.append(value)
        return f"${self.start + len(self.values)}"


# -- text of a value (types.text) ----------------------------------------------------------------
#: type → SQL of ``types.text(value)`` (NULL stays NULL): the ``to_text`` of each type's row.
TEXT_SQL = {name: t.to_text for name, t in T.TYPES.items()}


def text_sql(c: str, type_: str) -> str:
    return TEXT_SQL[type_](c)


# -- JSON of a value (json.dumps(types.json_value(v), ensure_ascii=False)) -----------------------
_JSON_SHORT = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}


def json_string_sql(c: str) -> str:
    """A JSON string as Python's ``json.dumps(ensure_ascii=False)`` writes it: only ``"``, ``\\``
    and control characters escaped (``\\n`` … or ``\\u00xx`` in lowercase)."""
    # DuckDB's to_json escapes the same characters the same way, except that it writes \u001F
    # where Python writes \u001f: its text is kept unless it holds a \u (4x faster than a regex
    # test), else those escapes are lowercased -- with every escaped backslash first set aside
    # as chr(1) (to_json never leaves a control character raw), so a \u that is text stays.
    fast = f"CAST(to_json({c}) AS VARCHAR)"
    slow = f"replace({fast}, {_lit(chr(92) * 2)}, chr(1))"
    for code in _UPPER_HEX:
        upper, lower = _lit(chr(92) + "u%04X" % code), _lit(chr(92) + "u%04x" % code)
        slow = f"replace({slow}, {upper}, {lower})"
    slow = f"replace({slow}, chr(1), {_lit(chr(92) * 2)})"
    return f"CASE WHEN {c} IS NULL THEN 'null' WHEN contains({fast}, {_lit(chr(92) + 'u')}) THEN {slow} ELSE {fast} END"


#: Control characters Python escapes as \u00xx with a hex letter (the others are digits only, or
#: \b \t \n \f \r): where DuckDB's uppercase differs.
_UPPER_HEX = tuple(code for code in range(32) if code not in _JSON_SHORT and "%04x" % code != "%04X" % code)


def _json_number(c: str) -> str:
    return f"CASE WHEN {c} IS NULL OR NOT isfinite({c}) THEN 'null' ELSE CAST({c} AS VARCHAR) END"


def _json_list(c: str) -> str:
    # DuckDB's to_json writes ["a","b"]; Python ["a", "b"]. Without any backslash (no escape)
    # every '","' is between items -- unless an item is the text ',' itself (its JSON is ",")
    # -- so one replace gives Python's text; else item by item.
    # (multi-enum items are never NULL: the type reads a cell into a list of texts)
    fast = f"CAST(to_json({c}) AS VARCHAR)"
    slow = f"'[' || array_to_string(list_transform({c}, lambda x: {json_string_sql('x')}), ', ') || ']'"
    return (f"CASE WHEN {c} IS NULL THEN 'null' WHEN contains({fast}, chr(92)) OR list_contains({c}, ',') "
            f"THEN {slow} ELSE replace({fast}, '\",\"', '\", \"') END")


def _json_sql(t: T.FieldType):
    """A value of row ``t`` as JSON, by what its values are (a list, a number, a boolean, a datetime
    as ISO text, or text)."""
    if t.listed:
        return _json_list
    if t.query == "number":
        return _json_number
    if t.query == "boolean":
        return lambda c: f"CASE WHEN {c} IS NULL THEN 'null' WHEN {c} THEN 'true' ELSE 'false' END"
    if t.query == "datetime":
        return lambda c: f"CASE WHEN {c} IS NULL THEN 'null' ELSE '\"' || {t.to_text(c)} || '\"' END"
    return json_string_sql


JSON_SQL = {name: _json_sql(t) for name, t in T.TYPES.items()}


def json_parts(t: T.FieldType | None, c: str, key: str, params: "_Params") -> list[str]:
    """Arguments of the line's one ``concat(…)`` that write ``key`` (the text before the value:
    ``{"name": `` or ``, "name": ``) and then the JSON of column ``c`` of type row ``t`` (None:
    a text that never needs escaping, the media id's UUID text). Numbers, booleans, datetimes
    and the media id are written piece by piece into that concat (NULL pieces are skipped), not
    as a JSON text per value joined later: one string per line instead of three or four per
    value (~8 % of the COPY of a 130k-row jsonl export, issue 16). Texts and lists keep
    :data:`JSON_SQL`'s escaping."""
    quoted = None
    if t is None:
        quoted = c
    elif t.listed or t.query not in ("number", "boolean", "datetime"):
        return [params.add(key), JSON_SQL[t.name](c)]
    elif t.query == "number":
        return [params.add(key), f"CASE WHEN isfinite({c}) THEN CAST({c} AS VARCHAR) ELSE 'null' END"]
    elif t.query == "boolean":
        return [params.add(key), f"CASE WHEN {c} THEN 'true' WHEN NOT {c} THEN 'false' ELSE 'null' END"]
    else:
        quoted = t.to_text(c)
    return [f"CASE WHEN {c} IS NULL THEN {params.add(key + 'null')} ELSE {params.add(key + chr(34))} END",
            quoted, f"CASE WHEN {c} IS NULL THEN '' ELSE '\"' END"]


# -- CSV cells (Python's csv.writer, QUOTE_MINIMAL, lineterminator "\n") -------------------------
def _csv_quotes(ch: str) -> bool:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([f"a{ch}b", "x"])
    return buf.getvalue().startswith('"')


#: The characters that make Python's csv module quote a cell (asked of the running Python:
#: 3.11 does not quote a lone "\r", later versions may).
CSV_QUOTED = tuple(ch for ch in (",", '"', "\n", "\r") if _csv_quotes(ch))


#: Types whose text never holds a character CSV quotes (numbers, booleans, datetimes).
_PLAIN_CSV = (S.NUMBER, S.BOOLEAN, S.DATETIME)


def csv_cell_sql(t: str) -> str:
    """A text (or NULL: an empty cell) as one CSV cell."""
    test = " OR ".join(f"contains({t}, chr({ord(ch)}))" for ch in CSV_QUOTED)
    return (f"CASE WHEN {t} IS NULL THEN '' WHEN {test} THEN '\"' || replace({t}, '\"', '\"\"') || '\"' "
            f"ELSE {t} END")


def csv_line(cells: Sequence[str]) -> str:
    """Python's CSV line of ``cells`` (the header), without the line end."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()[:-1]


# -- splits --------------------------------------------------------------------------------------
def split_sql(split: SplitSql, params: _Params, of: str = "r.") -> str:
    """The split name of each row of ``r`` (the search's rows; ``of=""``: of the images table)."""
    path = of + quote("path")
    key = f"'p' || chr(31) || {path}"
    if split.group is not None:
        g = of + quote(split.group.column)
        if split.group.kind.listed:
            text = f"CASE WHEN len({g}) > 0 THEN array_to_string(list_sort({g}), ',') END"
        else:
            text = text_sql(g, split.group.type)
        key = f"CASE WHEN {g} IS NULL OR ({text}) IS NULL THEN {key} ELSE 'g' || chr(31) || ({text}) END"
    h = f"left(md5({params.add(split.prefix)} || {key}), 16)"
    whens = " ".join(f"WHEN {h} < {params.add(bound)} THEN {params.add(name)}" for name, bound in split.bounds)
    last = params.add(split.last)
    return f"CASE {whens} ELSE {last} END" if whens else last


def _columns(result, of: str = "r.") -> list[tuple[str, str]]:
    """(expression over ``r``, metastore type) of the search's columns: path, media_id, keys;
    ``of=""``: the same over the images table's columns."""
    media_id = "r." + quote("media_id") if of else f"CAST({quote('media_id')} AS VARCHAR)"
    return ([(of + quote("path"), S.STRING), (media_id, S.STRING)]
            + [(of + quote(f.column), f.type) for f in result.columns])


def manifest_select(result, fmt: str, width: int, names: Sequence[str], split: SplitSql | None,
                    only_split: str | None = None, before_sort: bool = False) -> tuple[str, list]:
    """``SELECT`` of the manifest over the search ``result``: one text column holding each line
    for ``csv``/``jsonl``/``paths`` (named by the CSV header), typed columns for ``parquet``, and
    for ``rows`` the search's columns plus the split (for the writer in Python). ``width``: how
    many of the search's columns go into the manifest (a group key fetched only for the split
    is left out); ``names``: the manifest's column names (with the split column last);
    ``only_split`` (``paths``): only the lines of that split (``manifest.<split>.paths``).
    ``before_sort`` (csv, jsonl): build each line in the search's own SELECT, before its sort
    (see :func:`_line_before_sort`)."""
    params = _Params(len(result.params))
    direct = before_sort and fmt in ("csv", "jsonl")
    of = "" if direct else "r."
    cols = _columns(result, of)[:width] if fmt != "rows" else _columns(result)
    used = split is not None and (fmt != "paths" or only_split is not None)
    split_expr = split_sql(split, params, of) if used else None
    if fmt == "paths" and only_split is not None:
        sql = f"SELECT {cols[0][0]} AS line, {split_expr} AS s FROM ({result.sql}) AS r"
        return f"SELECT line FROM ({sql}) WHERE s = {params.add(only_split)}", list(result.params) + params.values
    if fmt == "paths":
        select = f"{cols[0][0]} AS line"
    elif fmt == "csv":
        cells = [f"coalesce({text_sql(c, t)}, '')" if t in _PLAIN_CSV else csv_cell_sql(text_sql(c, t))
                 for c, t in cols]
        if split_expr:
            cells.append(csv_cell_sql(split_expr))
        select = "concat(" + ", ',', ".join(cells) + f") AS {quote(csv_line(names))}"
    elif fmt == "jsonl":
        import json

        parts = []
        for i, (c, t) in enumerate(cols):
            key = ("{" if i == 0 else ", ") + json.dumps(names[i], ensure_ascii=False) + ": "
            parts += json_parts(None if i == 1 else T.TYPES[t], c, key, params)  # [1]: media_id
        if split_expr:
            parts += [params.add(", " + json.dumps(names[-1], ensure_ascii=False) + ": "),
                      json_string_sql(f"({split_expr})")]
        select = "concat(" + ", ".join(parts) + ", '}') AS line"
    elif fmt == "parquet":
        typed = [f"CAST({c} AS {S.SQL_TYPES[t]}) AS {quote(n)}" for (c, t), n in zip(cols, names)]
        if split_expr:
            typed.append(f"{split_expr} AS {quote(names[-1])}")
        select = ", ".join(typed)
    elif fmt == "rows":
        select = ", ".join(c for c, _ in cols) + (f", {split_expr}" if split_expr else "")
    else:
        raise ValueError(f"no SQL manifest for format {fmt!r}")
    if direct:
        return result.sql_selecting(select), list(result.params) + params.values
    return f"SELECT {select} FROM ({result.sql}) AS r", list(result.params) + params.values


#: The share of images a search must match (estimated on ~2 % of the table) for its csv/jsonl
#: lines to be built before the sort rather than after it.
DENSE = 0.1


def _line_before_sort(result, con) -> bool:
    """Whether to build the manifest lines before the search's sort: then the sort carries one
    text per row instead of every column (a jsonl COPY of 981,764 of 1M images: 2.44 -> 2.06 s
    CPU, DuckDB's own COPY of the selection 1.87 s); but a selective scan hands the line's many
    expressions near-empty vectors, each paying their fixed cost (3,169 of 1M: 0.044 -> 0.076 s
    CPU), so only when at least ``DENSE`` of the images match, estimated on a seeded ~2 % sample
    of the table's vectors (< 1 ms on 1M images). Never with a limit, offset or sample (a top-N
    would build every match's line). Either way the bytes are the same."""
    from ..query import compile_where

    args = result._select_args
    if args["limit"] is not None or args["offset"] or args["sample"] is not None or args["after"] is not None:
        return False
    where, params = compile_where(result.checked)
    hit, seen = con.execute(f"SELECT count(*) FILTER (WHERE {where}), count(*) FROM images "
                            f"USING SAMPLE 2 PERCENT (system, 16)", params).fetchone()
    return seen > 0 and hit >= DENSE * seen


def copy_manifest(result, path: Path, fmt: str, width: int, names: Sequence[str], split: SplitSql | None,
                  only_split: str | None = None) -> int:
    """Write the manifest of ``result`` to ``path`` with DuckDB's ``COPY``; returns its rows."""
    target = _sql_text(str(path))
    options = "FORMAT parquet" if fmt == "parquet" else (
        f"FORMAT csv, HEADER {'true' if fmt == 'csv' else 'false'}, QUOTE '', ESCAPE ''")
    try:
        with result.catalog.reading() as con:
            before = fmt in ("csv", "jsonl") and _line_before_sort(result, con)
            sql, params = manifest_select(result, fmt, width, names, split, only_split, before_sort=before)
            return int(con.execute(f"COPY ({sql}) TO '{target}' ({options})", params).fetchone()[0])
    except duckdb.IOException as exc:  # disk full, read-only folder: the caller reports it as a file error
        raise OSError(str(exc).split("\n")[0]) from None


def split_rows(result, width: int, split: SplitSql | None) -> list[tuple]:
    """The search's rows, each with its split name last when ``split`` is given."""
    sql, params = manifest_select(result, "rows", width, [], split)
    with result.catalog.reading() as con:
        return con.execute(sql, params).fetchall()


def count_rows(result, split: SplitSql | None) -> dict[str | None, int]:
    """How many of the search's rows fall into each split (splits without rows are absent);
    without a split ``{None: rows}``."""
    params = _Params(len(result.params))
    expr = split_sql(split, params) if split is not None else "NULL"
    sql = f"SELECT s, count(*) FROM (SELECT {expr} AS s FROM ({result.sql}) AS r) GROUP BY s"
    with result.catalog.reading() as con:
        counts = {name: int(n) for name, n in con.execute(sql, list(result.params) + params.values).fetchall()}
    return counts if split is not None or counts else {None: 0}


def _sql_text(text: str) -> str:
    """A file name as an SQL string literal body (COPY … TO does not take parameters)."""
    return text.replace("'", "''")
