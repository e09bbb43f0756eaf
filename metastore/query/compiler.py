"""Checked tree → SQL text + bound parameters. The ONLY place search SQL is written. Pure.

* Values are always bound parameters (``$1``, ``$2``, … numbered by one counter).
* Identifiers come only from the catalog's fields (``Field.column``) and the fixed columns of
  the ``images`` table, always through :func:`quote`.
* Operators are a table (``operators.OPERATORS``): name → SQL template per dialect → English
  phrase, so every query can be echoed back in words (:func:`explain`). This module holds no
  operator's SQL: only how leaves are combined (AND/OR, the templates of ``operators.FORMS``).

Three-valued logic: a leaf's SQL may be NULL where the key is absent. Outside a NOT that acts as
false (AND/OR are monotone), so leaves stay simple and vectorizable (``"v3" > $1``); a NOT wraps
its operand in ``coalesce(…, false)`` so the complement includes images lacking the key.
Case-insensitive comparisons use ``lower()`` on both sides (Unicode lowercase approximates
casefold).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Iterable, Sequence, Union

from ..schema import Field
from ..types import query_text
from .ast import And, Not, Or, Visitor
from .checker import Checked, Pred
from .operators import DATETIME_AS_MICROS, DIALECTS, FORMS, IN_LEFT, ITEM, OPERATORS, MissingTemplate

TABLE = "images"

#: Number comparisons never match NaN or infinities: DuckDB orders NaN above +inf, so
#: ``x > $1 AND x < +inf`` and ``x < $1 AND x > -inf`` exclude both (cheaper than isfinite()).
_FINITE_GUARD = {"gt", "ge", "lt", "le"}
#: Fixed columns of the images table (identifiers from the schema, not from users).
_BUILTIN_COLUMNS = {"path": "path", "tags": "tags"}


def quote(identifier: str, dialect: str = "duckdb") -> str:
    """Quote an SQL identifier (the quoting helper of search SQL; ``store/ddl.py`` has the
    store's own, for the same DuckDB rule)."""
    q = FORMS["quote"].sql(dialect)
    return q + identifier.replace(q, q + q) + q


_EPOCH = datetime(1970, 1, 1)


def _utc_micros(value: datetime) -> int:
    """Microseconds since 1970 of a naive-UTC (or aware) datetime, exactly (no float)."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    delta = value - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        from ..errors import UsageError

        raise UsageError(f"unknown SQL dialect '{dialect}'", help=f"use one of: {', '.join(DIALECTS)}")
    return dialect


def _template(op: str, dialect: str) -> str:
    try:
        return OPERATORS[op].sql(dialect)
    except MissingTemplate:
        from ..errors import UsageError

        raise UsageError(f"the {dialect} dialect has no template for the operator '{op}'",
                         help="run this query on the catalog, or add the template to query/operators.py") from None


class _Params:
    """One counter for placeholders."""

    def __init__(self, start: int = 0, dialect: str = "duckdb") -> None:
        self.values: list = []
        self.start = start
        self.dialect = dialect
        self.form = FORMS["param"].sql(dialect)

    def add(self, value) -> str:
        holder = self.form.format(n=self.start + len(self.values) + 1)
        if isinstance(value, datetime):
            if self.dialect in DATETIME_AS_MICROS:
                value = _utc_micros(value)
            holder = FORMS["datetime"].sql(self.dialect).format(p=holder)
        self.values.append(value)
        return holder


def named(params: list, first_param: int = 1) -> dict:
    """Spark's ``args`` for ``spark.sql(sql, args=…)``: ``{"p1": value, …}`` for the list a
    compile in the spark dialect returns (its markers are ``:p1``, ``:p2``, …)."""
    return {f"p{i}": v for i, v in enumerate(params, start=first_param)}


def _column(target: Union[Field, str], dialect: str) -> str:
    if isinstance(target, Field):
        return quote(target.column, dialect)
    return quote(_BUILTIN_COLUMNS[target], dialect)


def _leaf_sql(template: str, col: str, holders: Sequence[str], each: bool, dialect: str) -> str:
    if each:
        inner = template.format(*holders, c=ITEM)
        return FORMS["any_item"].sql(dialect).format(c=col, inner=inner)
    return template.format(*holders, c=col)


def _pred_sql(p: Pred, params: _Params, dialect: str) -> str:
    template = _template(p.op, dialect)
    holders = [params.add(a) for a in p.args]
    if p.target == "text":  # free text: path, every string-like value, every tag
        parts = [_leaf_sql(template, quote("path", dialect), holders, False, dialect)]
        hits = p.hits or (None,) * len(p.over)
        for f, found in zip(p.over, hits):
            if found is None:
                parts.append(_leaf_sql(template, quote(f.column, dialect), holders, f.kind.listed, dialect))
            elif found:  # a key with options: the options holding the text, resolved by the checker
                op = "has_any" if f.kind.listed else "in"
                parts.append(_template(op, dialect).format(params.add(list(found)), c=quote(f.column, dialect)))
            # no option holds the text: no value of the key can
        parts.append(_leaf_sql(template, quote("tags", dialect), holders, True, dialect))
        return "(" + " OR ".join(parts) + ")"
    col = _column(p.target, dialect)
    numeric = isinstance(p.target, Field) and p.target.kind.finite  # NaN and infinities: never in a range
    sql = _leaf_sql(template, col, holders, p.each, dialect)
    if numeric and p.op in _FINITE_GUARD:  # plain comparisons stay pushable into the scan
        upper = p.op in ("gt", "ge")
        bound = params.add(math.inf if upper else -math.inf)
        guard = OPERATORS["lt" if upper else "gt"].sql(dialect).format(bound, c=col)
        sql = f"({sql} AND {guard})"
    if p.negated:
        if numeric:
            presence = FORMS["finite"].sql(dialect).format(c=col)
        elif isinstance(p.target, Field):
            presence = OPERATORS["present"].sql(dialect).format(c=col)
        else:
            presence = "TRUE"
        sql = f"({presence} AND NOT ({sql}))"
    return sql


class _Sql(Visitor):
    """A checked tree → WHERE SQL, numbering its placeholders with ``params``."""

    def __init__(self, params: _Params, dialect: str) -> None:
        self.params, self.dialect = params, dialect

    def visit_pred(self, p: Pred) -> str:
        return _pred_sql(p, self.params, self.dialect)

    def visit_not(self, n: Not) -> str:
        return FORMS["not"].sql(self.dialect).format(inner=self.visit(n.item))

    def visit_and(self, n: And) -> str:
        return "(" + " AND ".join(self.visit(x) for x in n.items) + ")"

    def visit_or(self, n: Or) -> str:
        # k:a OR k:b on one key → one IN list: DuckDB pushes an IN into the scan, whereas an OR
        # of equalities is checked again in a filter above it (same rows, NULL alike)
        groups: dict[tuple, list[Pred]] = {}
        order: list = []
        for x in n.items:
            key = _in_key(x)
            if key is None:
                order.append(x)
            else:
                if key not in groups:
                    groups[key] = []
                    order.append(key)
                groups[key].append(x)
        parts = []
        for item in order:
            preds = groups.get(item) if isinstance(item, tuple) else None
            if preds is None or len(preds) == 1:
                parts.append(self.visit(preds[0] if preds else item))
                continue
            left = IN_LEFT[preds[0].op].sql(self.dialect).format(c=_column(preds[0].target, self.dialect))
            holders = ", ".join(self.params.add(p.args[0]) for p in preds)
            form = "in_options" if preds[0].target.kind.options else "in"
            parts.append(FORMS[form].sql(self.dialect).format(left=left, holders=holders))
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _in_key(x) -> tuple | None:
    if (isinstance(x, Pred) and x.op in IN_LEFT and not x.negated and not x.each and len(x.args) == 1
            and isinstance(x.target, Field)):
        return (x.op, x.target.column)
    return None


def _node_sql(node, params: _Params, dialect: str = "duckdb") -> str:
    return _Sql(params, dialect).visit(node)


def compile_where(checked: Checked, *, first_param: int = 1, dialect: str = "duckdb") -> tuple[str, list]:
    """``(where_sql, params)``; ``TRUE`` when the query is blank. In the spark dialect the
    markers are named ``:p1``, ``:p2``… (pass ``named(params)`` as ``args``)."""
    _dialect(dialect)
    if checked.root is None:
        return "TRUE", []
    params = _Params(first_param - 1, dialect)
    return _node_sql(checked.root, params, dialect), params.values


def compile_count(checked: Checked, *, dialect: str = "duckdb", table: str = TABLE) -> tuple[str, list]:
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
    dialect: str = "duckdb",
    table: str = TABLE,
    sample: tuple[str, int] | None = None,
    after: str | None = None,
    select: str | None = None,
) -> tuple[str, list]:
    """``SELECT path, media_id, <value columns> FROM images WHERE … ORDER BY … LIMIT …``.

    ``sort`` items are ``(Field | "path", descending)``; missing values sort last; ``path`` is
    always the final tie-breaker (the default order). ``paths_only`` selects just ``path``
    (``media_id`` as text costs as much as the filter itself on large results).
    ``sample=(prefix, n)`` keeps only the ``n`` matches with the smallest ``md5(prefix || path)``
    (ties by path) — export's ``--sample``, applied before ``sort`` and ``limit``.
    ``after``: only the matches after the image at this path in the order (keyset paging): the
    next page without ``OFFSET`` (an offset past a few thousand rows makes DuckDB sort every match
    instead of keeping the top ones). In the path order that is ``path > after``; sorted by keys,
    the image's own values of those keys are read by a subquery, so the path must be in the
    catalog (``store.search`` checks).
    ``select``: the caller's select list instead (export's manifest line, written over the
    table's columns; its placeholders follow the ones this returns): DuckDB computes it before
    the sort, which then carries one text per row instead of every column."""
    where, params = compile_where(checked, dialect=dialect)
    counter = _Params(len(params), dialect)

    def q(identifier: str) -> str:
        return quote(identifier, dialect)

    if sample is not None:
        prefix, n = sample
        hashed = FORMS["md5"].sql(dialect).format(c=f"{counter.add(prefix)} || {q('path')}")
        where = (f"({where}) AND {q('path')} IN (SELECT {q('path')} FROM {q(table)} WHERE {where} "
                 f"ORDER BY {hashed}, {q('path')} LIMIT {counter.add(int(n))})")

    if after is not None:
        where = f"({where}) AND {_after(list(sort or ()), counter.add(str(after)), q, q(table), dialect)}"

    cols = [q("path")]
    if not paths_only:
        cols.append(f"CAST({q('media_id')} AS {FORMS['text'].sql(dialect)}) AS {q('media_id')}")
        cols += [q(f.column) for f in columns]
    if select is not None:
        cols = [select]
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


def _after(keys: list[SortKey], path: str, q, table: str, dialect: str) -> str:
    """The images after the one at ``path`` in the order ``keys`` (then path ascending, the
    tie-breaker): lexicographic over the keys, a missing value last in either direction, as
    ``ORDER BY … NULLS LAST`` sorts them."""
    if not any(target == "path" for target, _ in keys):
        keys = keys + [("path", False)]
    after = ""
    for target, desc in reversed(keys):
        if target == "path":
            beyond, same = f"{q('path')} {'<' if desc else '>'} {path}", f"{q('path')} = {path}"
        else:
            c, v = q(target.column), f"(SELECT {q(target.column)} FROM {table} WHERE {q('path')} = {path})"
            beyond = FORMS["beyond"].sql(dialect).format(c=c, v=v, op="<" if desc else ">")
            same = FORMS["same"].sql(dialect).format(c=c, v=v)
        after = beyond if not after else f"({beyond} OR ({same} AND {after}))"
    return after


def clauses(checked: Checked) -> list[tuple[str, str, list]]:
    """Per top-level clause ``(text, where_sql, params)`` — for per-clause match counts."""
    root = checked.root
    if root is None:
        return []
    items = root.items if isinstance(root, And) else (root,)
    out = []
    for item in items:
        text = checked.text[item.span[0]:item.span[1]] if checked.text else explain(Checked(item))
        params = _Params()
        out.append((text, _node_sql(item, params), params.values))
    return out


# ---------------------------------------------------------------- explain


def _label(target) -> str:
    if isinstance(target, Field):
        return f"{target.name} ({target.type})"
    return {"path": "path", "tags": "tag", "text": "free text"}[target]


def _explain_pred(p: Pred) -> str:
    phrase = OPERATORS[p.op].english
    label = _label(p.target)
    if p.target == "text":
        label = "path, a text value or a tag"
    elif p.each:
        label = "an item of " + label if p.target != "tags" else "a tag"
    text = phrase.format(*(query_text(a) for a in p.args), k=label)
    if p.negated:
        return f"{_label(p.target)} is present and NOT ({text})"
    return text


class _Explain(Visitor):
    def visit_pred(self, p: Pred) -> str:
        return _explain_pred(p)

    def visit_not(self, n: Not) -> str:
        return f"NOT ({self.visit(n.item)})"

    def visit_and(self, n: And) -> str:
        return "(" + " AND ".join(self.visit(x) for x in n.items) + ")"

    def visit_or(self, n: Or) -> str:
        return "(" + " OR ".join(self.visit(x) for x in n.items) + ")"


def explain(checked: Checked | object) -> str:
    """The fully parenthesised interpretation, each value with its key's resolved type."""
    node = checked.root if isinstance(checked, Checked) else checked
    return "every image" if node is None else _Explain().visit(node)


__all__ = [
    "OPERATORS", "DIALECTS", "TABLE", "quote", "named", "compile_where", "compile_count", "compile_select", "clauses",
    "explain",
]
