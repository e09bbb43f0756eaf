"""Auto-typing of single values, in pure Python. No I/O.

A thin user of the type table (:mod:`metastore.types`), which holds the readers, the patterns
and the writers. Bulk imports type whole columns inside DuckDB (the rows' SQL, built from
the same constants, applied by ``store/codec.py``); this module is the one-value-at-a-time side (``metastore set k=v``, JSON
scalars) that ``tests/test_infer.py`` checks the SQL inference against.
"""

from __future__ import annotations

from . import types as T
from .types import (  # noqa: F401  (re-exported: the names callers use)
    AUTO_NUMBER_RE, DATETIME_RE, LINK_RE, NUMBER_RE, ValueProblem, nfc, split_items as split_multi)

parse_number = T.read_number
parse_datetime = T.read_datetime
infer_type = T.auto_type
value_text = T.text
value_json = T.json_value


def is_link(text: str) -> bool:
    return T.read_link(text) is not None


def coerce(text: str, type_: str) -> object:
    """Read text as a value of ``type_``; raise ValueProblem with the reason when it does not fit."""
    return T.parse(type_, text)


def infer_and_coerce(text: str) -> tuple[str, object]:
    type_ = T.auto_type(text)
    return type_, T.parse(type_, text)


__all__ = [
    "AUTO_NUMBER_RE", "NUMBER_RE", "DATETIME_RE", "LINK_RE", "ValueProblem",
    "infer_type", "coerce", "infer_and_coerce", "parse_number", "parse_datetime",
    "split_multi", "is_link", "nfc", "value_text", "value_json",
]
