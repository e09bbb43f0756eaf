"""SQL expressions that read text as typed values, column at a time, inside DuckDB.

Each type's SQL is a column of its row in the type table (``metastore.types``: ``cast``,
``fast``, ``auto``, ``from_json``), built from the same constants as its Python reader, so that
bulk (SQL) and single-value (Python) typing agree; ``tests/test_infer.py`` checks the two against
the same table of cases (``tests/cases/autotype.json``). This module only applies them. Every
expression is built from constants and catalog-chosen identifiers only, never from user text.
"""

from __future__ import annotations

from .. import types as T
from ..types import lit  # noqa: F401  (stage and plan quote their own constants with it)


def auto_checks(c: str) -> dict[str, str]:
    """For a text column ``c``: the SQL predicate that each auto-typed kind fits the cell."""
    # CASE evaluates its THEN only where WHEN holds: the costly casts run on plausible cells only.
    return {name: T.TYPES[name].auto(c) for name in T.AUTO_ORDER}


def auto_kind(c: str, kinds) -> str:
    """For a text column ``c``: the position in ``kinds`` of the auto-typed kind a cell fits, or
    NULL when it fits none. The kinds are exclusive (no text fits two: ``types.AUTO_ORDER``), so
    one CASE tests each cell once, stopping at the first kind that fits."""
    checks = auto_checks(c)
    return "CASE " + " ".join(f"WHEN {checks[t]} THEN {i}" for i, t in enumerate(kinds)) + " END"


def fast_cast_expr(c: str, type_: str) -> str:
    """Like :func:`cast_expr`, for a column whose every value already passed :func:`auto_checks`."""
    t = T.TYPES[type_]
    return (t.fast or t.cast)(c)


def auto_cast_expr(c: str, type_: str) -> str:
    """Text column ``c`` read as the auto-typed kind ``type_``: the value where the cell passes
    :func:`auto_checks`' test, else NULL (:func:`auto_ok_expr` tells the two apart)."""
    return T.TYPES[type_].auto_cast(c)


def auto_ok_expr(v: str, type_: str) -> str:
    """Over ``v`` = :func:`auto_cast_expr` of a non-empty cell: true where the cell fits."""
    return T.TYPES[type_].auto_ok(v)


def cast_expr(c: str, type_: str) -> str:
    """Text column ``c`` read as ``type_``: the typed value, or NULL where the cell does not fit.

    Empty and whitespace-only cells must be filtered out by the caller (they are "no value").
    """
    return T.TYPES[type_].cast(c)


def reason_expr(c: str, type_: str) -> str:
    """The user-facing reason a cell of ``c`` does not fit ``type_`` (SQL string expression)."""
    quoted = f"'''' || {c} || ''''"
    return f"{quoted} || {lit(T.TYPES[type_].problem)}"


def to_json_expr(c: str) -> str:
    """A typed value → JSON text (history keeps old and new values this way)."""
    return f"CAST(to_json({c}) AS VARCHAR)"


def from_json_expr(j: str, type_: str) -> str:
    """JSON text written by :func:`to_json_expr` → a value of ``type_``."""
    return T.TYPES[type_].from_json(j)
