"""Changing the catalog's keys by hand: ``metastore fields declare`` and ``fields retype``.
Each is one transaction."""

from __future__ import annotations

from typing import Sequence

from .. import schema as S
from .. import types as T
from ..errors import UsageError
from .codec import from_json_expr, to_json_expr
from .connection import quote
from .fields import load_fields
from .reads import field
from .tx import atomic
from .writes import create_field, new_source


def declare_field(con, name: str, type_: str, *, options: Sequence[str] = (), locked: bool = False) -> S.Field:
    if type_ not in S.TYPES:
        raise UsageError(f"unknown type '{type_}'", help=f"types are: {', '.join(S.TYPES)}")
    problem = S.key_problem(name)
    if problem:
        raise UsageError(f"invalid key '{name}': {problem}")
    if options and type_ not in (S.ENUM, S.MULTI_ENUM):
        raise UsageError("--options only applies to enum and multi-enum fields")
    bad = [o for o in options if len(o) > S.MAX_OPTION_LENGTH]
    if bad:
        raise UsageError(f"option '{bad[0]}' is longer than {S.MAX_OPTION_LENGTH} characters")
    with atomic(con):
        existing = {f.name: f for f in load_fields(con)}
        if name in existing:
            f = existing[name]
            if f.type != type_:
                raise UsageError(
                    f"key '{name}' is already a {f.type}",
                    help=f"to widen it: metastore fields retype {name} string" if type_ == S.STRING else None)
            con.execute(
                "UPDATE fields SET declared = true, locked = ?, "
                "options = list_sort(list_distinct(list_concat(options, ?))) WHERE id = ?",
                [locked or f.locked, list(options), f.id])
        else:
            create_field(con, name, type_, declared=True, locked=locked, options=options)
    return next(x for x in load_fields(con) if x.name == name)


def retype_field(con, name: str, type_: str) -> S.Field:
    """Widen a key to string, losslessly (the only retype allowed)."""
    if type_ != S.STRING:
        raise UsageError(f"cannot retype to {type_}: only widening to string is lossless",
                         help=f"metastore fields retype {name} string")
    f = field(con, name)
    if f.type == S.STRING:
        return f
    c = quote(f.column)

    def as_text(c: str) -> str:
        """The text types.text() gives each value (the same integer cut-off, words and datetime form)."""
        return {
            S.NUMBER: f"CASE WHEN {c} = trunc({c}) AND abs({c}) < {int(T.INTEGER_TEXT_BELOW)} "
                      f"THEN CAST(CAST({c} AS BIGINT) AS VARCHAR) ELSE CAST({c} AS VARCHAR) END",
            S.BOOLEAN: f"CASE WHEN {c} THEN '{T.TRUE_WORDS[0]}' ELSE '{T.FALSE_WORDS[0]}' END",
            S.DATETIME: f"strftime({c}, '%Y-%m-%dT%H:%M:%S') || CASE WHEN microsecond({c}) % 1000000 <> 0 "
                        f"THEN '.' || lpad(CAST(microsecond({c}) % 1000000 AS VARCHAR), 6, '0') ELSE '' END || 'Z'",
            S.MULTI_ENUM: f"array_to_string({c}, ', ')",
        }.get(f.type, c)

    with atomic(con):
        new_source(con, "retype", f"{name}: {f.type} → string", status=None)
        con.execute(f"ALTER TABLE images ALTER COLUMN {c} SET DATA TYPE VARCHAR USING {as_text(c)}")
        # History keeps the key's values in its current type, spelled as the retype spells them,
        # so that an undo puts back '10' (not '10.0') and `score:10` still matches.
        for side in ("old_value", "new_value"):
            con.execute(f"UPDATE history SET {side} = {to_json_expr(as_text(from_json_expr(side, f.type)))} "
                        f"WHERE field_id = ? AND {side} IS NOT NULL", [f.id])
        con.execute("UPDATE fields SET type = 'string', options = [] WHERE id = ?", [f.id])
    return next(x for x in load_fields(con) if x.name == name)


__all__ = ["declare_field", "retype_field"]
