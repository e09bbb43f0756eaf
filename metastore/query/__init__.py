"""The metastore search language: text → AST → checked tree → (SQL, params).

Pure: no duckdb, no rich, no typer; the only I/O is reading the grammar file once.

    >>> node = parse("temperature>70 -weather:rain")
    >>> checked = check(node, schema, now=datetime.now(timezone.utc), text=...)
    >>> sql, params = compile_select(checked, schema, columns=[...])
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from .ast import Node, Visitor, find_all, to_data, walk
from .checker import CAnd, Checked, CNot, COr, Pred, check
from .compiler import (DIALECTS, OPERATORS, clauses, compile_count, compile_select, compile_where, explain, named,
                       quote)
from .parser import MAX_DEPTH, MAX_QUERY_BYTES, MAX_TERMS, grammar_text, make_lark, parse


def compile_query(text: str, schema, *, now: datetime, tz: str | tzinfo = "UTC") -> tuple[str, list]:
    """Parse, check and compile a query to ``(where_sql, params)`` in one step."""
    return compile_where(check(parse(text), schema, now=now, tz=tz, text=text))


def check_text(text: str, schema, *, now: datetime, tz: str | tzinfo = "UTC", regex_problem=None,
               examples=None) -> Checked:
    """Parse and check a query (the checked tree keeps the text for per-clause echoes)."""
    return check(parse(text), schema, now=now, tz=tz, text=text, regex_problem=regex_problem, examples=examples)


__all__ = [
    "parse", "check", "check_text", "compile_where", "compile_select", "compile_count",
    "compile_query", "clauses", "explain", "quote", "named", "OPERATORS", "DIALECTS", "Checked", "Pred", "CAnd",
    "COr", "CNot", "Node", "to_data", "walk", "find_all", "Visitor", "grammar_text", "make_lark", "MAX_DEPTH",
    "MAX_QUERY_BYTES", "MAX_TERMS",
]
