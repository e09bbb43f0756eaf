"""Checked tree → SQL text + bound parameters. The ONLY place search SQL is written. Pure.

* Values are always bound parameters (``$1``, ``$2``, … numbered by one counter).
* Identifiers come only from the catalog's fields (``Field.column``) and the fixed columns of
  the ``images`` table, always through :func:`quote`.
* Operators are a table (``OPERATORS``): name → SQL template → English phrase, so every query
  can be echoed back in words (:func:`explain`).

Three-valued logic: a leaf's SQL may be NULL where the key is absent. Outside a NOT that acts as
false (AND/OR are monotone), so leaves stay simple and vectorizable (``"v3" > $1``); a NOT wraps
its operand in ``coalesce(…, false)`` so the complement includes images lacking the key.
Case-insensitive comparisons use ``lower()`` on both sides (Unicode lowercase approximates
casefold).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Sequence, Union

from ..schema import DATETIME, ENUM, LINK, MULTI_ENUM, NUMBER, STRING, Field
from .checker import CAnd, Checked, CNot, COr, Pred

TABLE = "images"

DUCKDB = "duckdb"
SPARK = "spark"
DIALECTS = (DUCKDB, SPARK)

#: operator → ({dialect: SQL template over column {c} and placeholders {0}, {1}}, English phrase).
#: One column per engine: a dialect is written here, never by rewriting another dialect's SQL.
OPERATORS: dict[str, tuple[dict[str, str], str]] = {
    "present": ({DUCKDB: "{c} IS NOT NULL", SPARK: "{c} IS NOT NULL"}, "has {k}"),
    "absent": ({DUCKDB: "{c} IS NULL", SPARK: "{c} IS NULL"}, "has no {k}"),
    "nonempty": ({DUCKDB: "len({c}) > 0", SPARK: "size({c}) > 0"}, "has any {k}"),
    "eq": ({DUCKDB: "{c} = {0}", SPARK: "{c} = {0}"}, "{k} = {0}"),
    "eq_ci": ({DUCKDB: "lower({c}) = {0}", SPARK: "lower({c}) = {0}"}, "{k} equals {0} ignoring case"),
    # Spark's LIKE escapes with a backslash by default (the pattern is bound, so no literal quoting)
    "glob": ({DUCKDB: "{c} LIKE {0} ESCAPE '\\'", SPARK: "{c} LIKE {0}"}, "{k} matches LIKE pattern {0}"),
    "glob_ci": ({DUCKDB: "lower({c}) LIKE {0} ESCAPE '\\'", SPARK: "lower({c}) LIKE {0}"},
                "{k} matches LIKE pattern {0} ignoring case"),
    "prefix": ({DUCKDB: "starts_with({c}, {0})", SPARK: "startswith({c}, {0})"}, "{k} starts with {0}"),
    "prefix_ci": ({DUCKDB: "starts_with(lower({c}), {0})", SPARK: "startswith(lower({c}), {0})"},
                  "{k} starts with {0} ignoring case"),
    "suffix": ({DUCKDB: "ends_with({c}, {0})", SPARK: "endswith({c}, {0})"}, "{k} ends with {0}"),
    "suffix_ci": ({DUCKDB: "ends_with(lower({c}), {0})", SPARK: "endswith(lower({c}), {0})"},
                  "{k} ends with {0} ignoring case"),
    "contains": ({DUCKDB: "contains({c}, {0})", SPARK: "contains({c}, {0})"}, "{k} contains {0}"),
    # no %, _ or \ in the text of these patterns (glob_op), so Spark's default escape never acts
    "like": ({DUCKDB: "{c} LIKE {0}", SPARK: "{c} LIKE {0}"}, "{k} matches LIKE pattern {0}"),
    "like_ci": ({DUCKDB: "lower({c}) LIKE {0}", SPARK: "lower({c}) LIKE {0}"},
                "{k} matches LIKE pattern {0} ignoring case"),
    "regex": ({DUCKDB: "regexp_matches({c}, {0})", SPARK: "{c} RLIKE {0}"}, "{k} matches regex {0}"),
    "contains_ci": ({DUCKDB: "contains(lower({c}), {0})", SPARK: "contains(lower({c}), {0})"},
                    "{k} contains {0} ignoring case"),
    "gt": ({DUCKDB: "{c} > {0}", SPARK: "{c} > {0}"}, "{k} > {0}"),
    "ge": ({DUCKDB: "{c} >= {0}", SPARK: "{c} >= {0}"}, "{k} >= {0}"),
    "lt": ({DUCKDB: "{c} < {0}", SPARK: "{c} < {0}"}, "{k} < {0}"),
    "le": ({DUCKDB: "{c} <= {0}", SPARK: "{c} <= {0}"}, "{k} <= {0}"),
    "between": ({DUCKDB: "{c} BETWEEN {0} AND {1}", SPARK: "{c} BETWEEN {0} AND {1}"}, "{0} <= {k} <= {1}"),
    "between_dt": ({DUCKDB: "({c} >= {0} AND {c} < {1})", SPARK: "({c} >= {0} AND {c} < {1})"},
                   "{0} <= {k} < {1}"),
    "in": ({DUCKDB: "list_contains({0}, {c})", SPARK: "array_contains({0}, {c})"}, "{k} is one of {0}"),
    "has_item": ({DUCKDB: "list_contains({c}, {0})", SPARK: "array_contains({c}, {0})"}, "{k} contains {0}"),
    "has_any": ({DUCKDB: "list_has_any({c}, {0})", SPARK: "arrays_overlap({c}, {0})"}, "{k} contains any of {0}"),
    "set_eq": ({DUCKDB: "list_sort(list_distinct({c})) = {0}", SPARK: "array_sort(array_distinct({c})) = {0}"},
               "the set {k} equals {0}"),
}


@dataclass(frozen=True)
class Dialect:
    """The pieces of an engine's SQL around the operators: how identifiers are quoted, how a
    bound value is marked, how a condition applies to any item of a list column (over ``x``),
    how a number is tested finite (NaN and infinities are not), the text type, and how a
    datetime value is bound (``{p}``: its placeholder; the value is passed as ``datetime_value``
    makes it)."""

    name: str
    quote_char: str
    placeholder: str  # format with n = 1, 2, …
    each: str  # format with c (the list column) and inner (the condition over x)
    finite: str
    text_type: str
    datetime: str


DIALECT_FORMS: dict[str, Dialect] = {
    DUCKDB: Dialect(DUCKDB, '"', "${n}", "len(list_filter({c}, lambda x: {inner})) > 0", "isfinite({c})",
                    "VARCHAR", "{p}"),
    # Spark: named parameter markers; a datetime is bound as microseconds since the epoch, so
    # neither the session time zone nor the Python or JVM zone can shift it
    SPARK: Dialect(SPARK, "`", ":p{n}", "exists({c}, x -> {inner})",
                   "(NOT isnan({c}) AND abs({c}) < double('Infinity'))", "STRING", "timestamp_micros({p})"),
}


def get_dialect(name: str) -> Dialect:
    try:
        return DIALECT_FORMS[name]
    except KeyError:
        from ..errors import UsageError

        raise UsageError(f"unknown SQL dialect '{name}'", help=f"use one of: {', '.join(DIALECTS)}") from None


def template(op: str, name: str = DUCKDB) -> str:
    """The operator's SQL template in a dialect; a clear error when a dialect lacks it."""
    try:
        return OPERATORS[op][0][name]
    except KeyError:
        from ..errors import UsageError

        raise UsageError(f"the {name} dialect has no template for the operator '{op}'",
                         help="run this query on the catalog, or add the template to OPERATORS") from None


#: Number comparisons never match NaN or infinities: DuckDB (and Spark) order NaN above +inf, so
#: ``x > $1 AND x < +inf`` and ``x < $1 AND x > -inf`` exclude both (cheaper than isfinite()).
_FINITE_GUARD = {"gt", "ge", "lt", "le"}
#: Fixed columns of the images table (identifiers from the schema, not from users).
_BUILTIN_COLUMNS = {"path": "path", "tags": "tags"}
_EPOCH = datetime(1970, 1, 1)


def quote(identifier: str, name: str = DUCKDB) -> str:
    """Quote an SQL identifier (the one quoting helper)."""
    q = DIALECT_FORMS[name].quote_char
    return q + identifier.replace(q, q + q) + q


def _utc_micros(value: datetime) -> int:
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


class _Params:
    """One counter for placeholders."""

    def __init__(self, start: int = 0, form: Dialect = DIALECT_FORMS[DUCKDB]) -> None:
        self.values: list = []
        self.start = start
        self.form = form

    def add(self, value) -> str:
        holder = self.form.placeholder.format(n=self.start + len(self.values) + 1)
        if isinstance(value, datetime):
            if self.form.name == SPARK:
                value = _utc_micros(value)
            holder = self.form.datetime.format(p=holder)
        self.values.append(value)
        return holder


def _column(target: Union[Field, str], form: Dialect) -> str:
    if isinstance(target, Field):
        return quote(target.column, form.name)
    return quote(_BUILTIN_COLUMNS[target], form.name)


def _leaf_sql(template_: str, col: str, holders: Sequence[str], each: bool, form: Dialect) -> str:
    if each:
        inner = template_.format(*holders, c="x")
        return form.each.format(c=col, inner=inner)
    return template_.format(*holders, c=col)


def _pred_sql(p: Pred, params: _Params) -> str:
    form = params.form
    tpl = template(p.op, form.name)
    holders = [params.add(a) for a in p.args]
    if p.target == "text":  # free text: path, every string-like value, every tag
        parts = [_leaf_sql(tpl, quote("path", form.name), holders, False, form)]
        for f in p.over:
            parts.append(_leaf_sql(tpl, quote(f.column, form.name), holders, f.type == MULTI_ENUM, form))
        parts.append(_leaf_sql(tpl, quote("tags", form.name), holders, True, form))
        return "(" + " OR ".join(parts) + ")"
    col = _column(p.target, form)
    numeric = isinstance(p.target, Field) and p.target.type == NUMBER
    sql = _leaf_sql(tpl, col, holders, p.each, form)
    if numeric and p.op in _FINITE_GUARD:  # plain comparisons stay pushable into the scan
        bound = params.add(math.inf if p.op in ("gt", "ge") else -math.inf)
        sql = f"({sql} AND {col} {'<' if p.op in ('gt', 'ge') else '>'} {bound})"
    if p.negated:
        if numeric:
            presence = form.finite.format(c=col)
        elif isinstance(p.target, Field):
            presence = f"{col} IS NOT NULL"
        else:
            presence = "TRUE"
        sql = f"({presence} AND NOT ({sql}))"
    return sql


def _node_sql(node, params: _Params) -> str:
    if isinstance(node, Pred):
        return _pred_sql(node, params)
    if isinstance(node, CNot):
        return f"(NOT coalesce({_node_sql(node.item, params)}, false))"
    joiner = " AND " if isinstance(node, CAnd) else " OR "
    return "(" + joiner.join(_node_sql(x, params) for x in node.items) + ")"


def compile_where(checked: Checked, *, first_param: int = 1, dialect: str = DUCKDB) -> tuple[str, list]:
    """``(where_sql, params)``; ``TRUE`` when the query is blank. Spark's parameters are named
    ``p1``, ``p2``, … (``spark.sql(sql, args={"p1": …})``): see :func:`named`."""
    if checked.root is None:
        return "TRUE", []
    params = _Params(first_param - 1, get_dialect(dialect))
    return _node_sql(checked.root, params), params.values


def named(params: list, first_param: int = 1) -> dict:
    """Spark's ``args``: ``{"p1": value, …}`` for the positional list a compile returns."""
    return {f"p{i}": v for i, v in enumerate(params, start=first_param)}


def compile_count(checked: Checked, *, dialect: str = DUCKDB, table: str = TABLE) -> tuple[str, list]:
    """``SELECT count(*)`` of the matching images."""
    where, params = compile_where(checked, dialect=dialect)
    return f"SELECT count(*) FROM {quote(table, dialect)} WHERE {where}", params


SortKey = tuple[Union[Field, str], bool]  # (Field or "path", descending)


def compile_select(
    checked: Checked,
    schema=None,
    columns: Iterable[Field] = (),
    sort: Iterable[SortKey] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    paths_only: bool = False,
    *,
    dialect: str = DUCKDB,
    table: str = TABLE,
) -> tuple[str, list]:
    """``SELECT path, media_id, <value columns> FROM images WHERE … ORDER BY … LIMIT …``.

    ``sort`` items are ``(Field | "path", descending)``; missing values sort last; ``path`` is
    always the final tie-breaker (the default order). ``paths_only`` selects just ``path``
    (``media_id`` as text costs as much as the filter itself on large results)."""
    form = get_dialect(dialect)
    where, params = compile_where(checked, dialect=dialect)
    counter = _Params(len(params), form)

    def q(identifier: str) -> str:
        return quote(identifier, dialect)

    cols = [q("path")]
    if not paths_only:
        cols.append(f"CAST({q('media_id')} AS {form.text_type}) AS {q('media_id')}")
        cols += [q(f.column) for f in columns]
    order = []
    for target, desc in sort or ():
        if isinstance(target, Field):
            order.append(f"{q(target.column)} {'DESC' if desc else 'ASC'} NULLS LAST")
        elif target == "path":
            order.append(f"{q('path')} {'DESC' if desc else 'ASC'}")
        else:
            raise ValueError(f"cannot sort by {target!r}")
    if not any(o.startswith(q("path") + " ") for o in order):
        order.append(f"{q('path')} ASC")
    sql = f"SELECT {', '.join(cols)} FROM {q(table)} WHERE {where} ORDER BY {', '.join(order)}"
    if limit is not None:
        sql += f" LIMIT {counter.add(int(limit))}"
    if offset:
        sql += f" OFFSET {counter.add(int(offset))}"
    return sql, params + counter.values


def clauses(checked: Checked) -> list[tuple[str, str, list]]:
    """Per top-level clause ``(text, where_sql, params)`` — for per-clause match counts."""
    root = checked.root
    if root is None:
        return []
    items = root.items if isinstance(root, CAnd) else (root,)
    out = []
    for item in items:
        text = checked.text[item.span[0]:item.span[1]] if checked.text else explain(Checked(item))
        params = _Params()
        out.append((text, _node_sql(item, params), params.values))
    return out


# ---------------------------------------------------------------- explain


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(target) -> str:
    if isinstance(target, Field):
        return f"{target.name} ({target.type})"
    return {"path": "path", "tags": "tag", "text": "free text"}[target]


def _explain_pred(p: Pred) -> str:
    phrase = OPERATORS[p.op][1]
    label = _label(p.target)
    if p.target == "text":
        label = "path, a text value or a tag"
    elif p.each:
        label = "an item of " + label if p.target != "tags" else "a tag"
    text = phrase.format(*(_show(a) for a in p.args), k=label)
    if p.negated:
        return f"{_label(p.target)} is present and NOT ({text})"
    return text


def explain(checked: Checked | object) -> str:
    """The fully parenthesised interpretation, each value with its key's resolved type."""
    node = checked.root if isinstance(checked, Checked) else checked
    if node is None:
        return "every image"
    if isinstance(node, Pred):
        return _explain_pred(node)
    if isinstance(node, CNot):
        return f"NOT ({explain(node.item)})"
    joiner = " AND " if isinstance(node, CAnd) else " OR "
    return "(" + joiner.join(explain(x) for x in node.items) + ")"


__all__ = [
    "OPERATORS", "TABLE", "DUCKDB", "SPARK", "DIALECTS", "DIALECT_FORMS", "Dialect", "get_dialect", "template",
    "named", "quote", "compile_where", "compile_count", "compile_select", "clauses",
    "explain",
]
