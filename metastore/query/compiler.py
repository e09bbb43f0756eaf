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
from datetime import datetime
from typing import Iterable, Sequence, Union

from ..schema import DATETIME, ENUM, LINK, MULTI_ENUM, NUMBER, STRING, Field
from .checker import CAnd, Checked, CNot, COr, Pred

TABLE = "images"

#: operator → (SQL template over column {c} and placeholders {0}, {1}; English phrase)
OPERATORS: dict[str, tuple[str, str]] = {
    "present": ("{c} IS NOT NULL", "has {k}"),
    "absent": ("{c} IS NULL", "has no {k}"),
    "nonempty": ("len({c}) > 0", "has any {k}"),
    "eq": ("{c} = {0}", "{k} = {0}"),
    "eq_ci": ("lower({c}) = {0}", "{k} equals {0} ignoring case"),
    "glob": ("{c} LIKE {0} ESCAPE '\\'", "{k} matches LIKE pattern {0}"),
    "glob_ci": ("lower({c}) LIKE {0} ESCAPE '\\'", "{k} matches LIKE pattern {0} ignoring case"),
    "prefix": ("starts_with({c}, {0})", "{k} starts with {0}"),
    "prefix_ci": ("starts_with(lower({c}), {0})", "{k} starts with {0} ignoring case"),
    "suffix": ("ends_with({c}, {0})", "{k} ends with {0}"),
    "suffix_ci": ("ends_with(lower({c}), {0})", "{k} ends with {0} ignoring case"),
    "contains": ("contains({c}, {0})", "{k} contains {0}"),
    "like": ("{c} LIKE {0}", "{k} matches LIKE pattern {0}"),
    "like_ci": ("lower({c}) LIKE {0}", "{k} matches LIKE pattern {0} ignoring case"),
    "regex": ("regexp_matches({c}, {0})", "{k} matches regex {0}"),
    "contains_ci": ("contains(lower({c}), {0})", "{k} contains {0} ignoring case"),
    "gt": ("{c} > {0}", "{k} > {0}"),
    "ge": ("{c} >= {0}", "{k} >= {0}"),
    "lt": ("{c} < {0}", "{k} < {0}"),
    "le": ("{c} <= {0}", "{k} <= {0}"),
    "between": ("{c} BETWEEN {0} AND {1}", "{0} <= {k} <= {1}"),
    "between_dt": ("({c} >= {0} AND {c} < {1})", "{0} <= {k} < {1}"),
    "in": ("list_contains({0}, {c})", "{k} is one of {0}"),
    "has_item": ("list_contains({c}, {0})", "{k} contains {0}"),
    "has_any": ("list_has_any({c}, {0})", "{k} contains any of {0}"),
    "set_eq": ("list_sort(list_distinct({c})) = {0}", "the set {k} equals {0}"),
}

#: Number comparisons never match NaN or infinities: DuckDB orders NaN above +inf, so
#: ``x > $1 AND x < +inf`` and ``x < $1 AND x > -inf`` exclude both (cheaper than isfinite()).
_FINITE_GUARD = {"gt", "ge", "lt", "le"}
#: Fixed columns of the images table (identifiers from the schema, not from users).
_BUILTIN_COLUMNS = {"path": "path", "tags": "tags"}


def quote(identifier: str) -> str:
    """Quote an SQL identifier (the one quoting helper)."""
    return '"' + identifier.replace('"', '""') + '"'


class _Params:
    """One counter for placeholders."""

    def __init__(self, start: int = 0) -> None:
        self.values: list = []
        self.start = start

    def add(self, value) -> str:
        self.values.append(value)
        return f"${self.start + len(self.values)}"


def _column(target: Union[Field, str]) -> str:
    if isinstance(target, Field):
        return quote(target.column)
    return quote(_BUILTIN_COLUMNS[target])


def _leaf_sql(template: str, col: str, holders: Sequence[str], each: bool) -> str:
    if each:
        inner = template.format(*holders, c="x")
        return f"len(list_filter({col}, lambda x: {inner})) > 0"
    return template.format(*holders, c=col)


def _pred_sql(p: Pred, params: _Params) -> str:
    template = OPERATORS[p.op][0]
    holders = [params.add(a) for a in p.args]
    if p.target == "text":  # free text: path, every string-like value, every tag
        parts = [_leaf_sql(template, quote("path"), holders, False)]
        for f in p.over:
            parts.append(_leaf_sql(template, quote(f.column), holders, f.type == MULTI_ENUM))
        parts.append(_leaf_sql(template, quote("tags"), holders, True))
        return "(" + " OR ".join(parts) + ")"
    col = _column(p.target)
    numeric = isinstance(p.target, Field) and p.target.type == NUMBER
    sql = _leaf_sql(template, col, holders, p.each)
    if numeric and p.op in _FINITE_GUARD:  # plain comparisons stay pushable into the scan
        bound = params.add(math.inf if p.op in ("gt", "ge") else -math.inf)
        sql = f"({sql} AND {col} {'<' if p.op in ('gt', 'ge') else '>'} {bound})"
    if p.negated:
        if numeric:
            presence = f"isfinite({col})"
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


def compile_where(checked: Checked, *, first_param: int = 1) -> tuple[str, list]:
    """``(where_sql, params)``; ``TRUE`` when the query is blank."""
    if checked.root is None:
        return "TRUE", []
    params = _Params(first_param - 1)
    return _node_sql(checked.root, params), params.values


def compile_count(checked: Checked) -> tuple[str, list]:
    """``SELECT count(*)`` of the matching images."""
    where, params = compile_where(checked)
    return f"SELECT count(*) FROM {quote(TABLE)} WHERE {where}", params


SortKey = tuple[Union[Field, str], bool]  # (Field or "path", descending)


def compile_select(
    checked: Checked,
    schema=None,
    columns: Iterable[Field] = (),
    sort: Iterable[SortKey] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    paths_only: bool = False,
) -> tuple[str, list]:
    """``SELECT path, media_id, <value columns> FROM images WHERE … ORDER BY … LIMIT …``.

    ``sort`` items are ``(Field | "path", descending)``; missing values sort last; ``path`` is
    always the final tie-breaker (the default order). ``paths_only`` selects just ``path``
    (``media_id`` as text costs as much as the filter itself on large results)."""
    where, params = compile_where(checked)
    counter = _Params(len(params))
    cols = [quote("path")]
    if not paths_only:
        cols.append(f"CAST({quote('media_id')} AS VARCHAR) AS {quote('media_id')}")
        cols += [quote(f.column) for f in columns]
    order = []
    for target, desc in sort or ():
        if isinstance(target, Field):
            order.append(f"{quote(target.column)} {'DESC' if desc else 'ASC'} NULLS LAST")
        elif target == "path":
            order.append(f"{quote('path')} {'DESC' if desc else 'ASC'}")
        else:
            raise ValueError(f"cannot sort by {target!r}")
    if not any(o.startswith(quote("path") + " ") for o in order):
        order.append(f"{quote('path')} ASC")
    sql = f"SELECT {', '.join(cols)} FROM {quote(TABLE)} WHERE {where} ORDER BY {', '.join(order)}"
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
    "OPERATORS", "TABLE", "quote", "compile_where", "compile_count", "compile_select", "clauses",
    "explain",
]
