"""The same search on other engines, over a published catalog (``metastore publish``).

* :mod:`metastore.engines.duckdb` — ``search(folder, query)`` over a published folder.
* :mod:`metastore.engines.spark` — ``search(df, query)`` / ``compile(query, schema)`` on Spark
  (pyspark is the optional extra ``metastore[spark]``, imported only there).

This module is pure: it turns a query and a published table's schema into SQL of one dialect
(the compiler's operator table has a template per dialect) and its parameters.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from ..schema import Field, Schema

TABLE = "images"


def published_schema(schema: Schema) -> Schema:
    """The schema of the table ``metastore publish`` writes from a catalog: columns named by key."""
    fields = tuple(Field(f.name, f.type, f.id, f.declared, f.locked, f.options, f.count, stored=f.name)
                   for f in schema.fields)
    return Schema(fields, schema.tags, schema.image_count)


def check_query(query: str, schema: Schema, *, now: datetime | None = None, tz="UTC", examples=None,
                regex_problem=None):
    """Parse and check ``query`` against ``schema`` (errors exactly as on the catalog: pass the
    engine's ``examples(field)`` — a key's most common values, or its smallest and largest — for
    the help lines, and its ``regex_problem``)."""
    from ..errors import QueryError
    from ..query import check, parse

    try:
        return check(parse(query), schema, now=now or datetime.now(timezone.utc), tz=tz, text=query,
                     examples=examples, regex_problem=regex_problem)
    except QueryError as exc:
        exc.query = exc.query or query
        raise


def compile_table(query: str, schema: Schema, *, dialect: str = "duckdb", table: str = TABLE,
                  columns: Iterable[str] | None = None, now: datetime | None = None, tz="UTC",
                  source: str | None = None, examples=None, regex_problem=None) -> tuple[str, list]:
    """``SELECT * FROM table WHERE … ORDER BY path`` over a published table, and its parameters
    (a list; Spark's named markers ``:p1``, ``:p2``… take them in order, see ``query.named``).
    ``source`` replaces the table by a FROM item the calling code wrote (e.g. ``read_parquet(…)``)."""
    from ..query import compile_where, quote

    checked = check_query(query, schema, now=now, tz=tz, examples=examples, regex_problem=regex_problem)
    where, params = compile_where(checked, dialect=dialect)
    if dialect == "duckdb":  # published datetimes are UTC instants (TIMESTAMPTZ): bind instants
        params = [p.replace(tzinfo=timezone.utc) if isinstance(p, datetime) and p.tzinfo is None else p
                  for p in params]
    cols = "*" if columns is None else ", ".join(quote(c, dialect) for c in columns)
    return (f"SELECT {cols} FROM {source or table_name(table, dialect)} WHERE {where} ORDER BY {quote('path', dialect)}",
            params)


def table_name(table: str, dialect: str = "duckdb") -> str:
    """A table name as given by the user, each dotted part quoted (``main.images``,
    ``catalog.schema.images`` on Databricks)."""
    from ..errors import UsageError
    from ..query import quote

    parts = table.split(".")
    if not table or any(not p.strip() for p in parts):
        raise UsageError(f"--table '{table}' is not a table name", help="e.g. --table images or --table lake.images")
    return ".".join(quote(p, dialect) for p in parts)


__all__ = ["TABLE", "published_schema", "check_query", "compile_table", "table_name"]
