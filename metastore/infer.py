"""Auto-typing of single values, in pure Python. No I/O.

Bulk imports type whole columns inside DuckDB (``store/codec.py``); this module is the reference
for one value at a time (``metastore set k=v``, JSON scalars) and the table the tests check the
SQL inference against. The regular expressions are shared with the SQL side so both agree.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from datetime import date, datetime, timezone

from . import schema as S

#: A decimal number as auto-typing accepts it: no leading zeros (``007`` stays a string).
AUTO_NUMBER_RE = r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"
#: A number for a key already known to be numeric (``007`` is 7 there).
NUMBER_RE = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
#: ISO 8601 date or datetime, optional seconds, fraction and offset.
DATETIME_RE = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"
)
LINK_RE = r"(?i)https?://[^\s]+"
BOOLEAN_WORDS = {"true": True, "false": False}
#: Words a boolean key accepts when its type is known (import into a boolean key, queries).
BOOLEAN_INPUT = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}

_AUTO_NUMBER = re.compile(AUTO_NUMBER_RE + r"\Z")
_NUMBER = re.compile(NUMBER_RE + r"\Z")
_DATETIME = re.compile(DATETIME_RE + r"\Z")
_LINK = re.compile(LINK_RE + r"\Z")


class ValueProblem(ValueError):
    """A value that does not fit a type; the message is the reason in user terms."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def parse_number(text: str, *, auto: bool = False) -> float | None:
    t = text.strip()
    if not (_AUTO_NUMBER if auto else _NUMBER).match(t):
        return None
    value = float(t)
    return value if math.isfinite(value) else None


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 → naive UTC datetime (a value without offset is UTC), or None."""
    t = text.strip()
    if not _DATETIME.match(t):
        return None
    iso = t.replace(" ", "T", 1)
    if iso.endswith("Z"):
        iso = iso[:-1] + "+00:00"
    m = re.search(r"([+-])([0-9]{2})([0-9]{2})\Z", iso)
    if m and "T" in iso:
        iso = iso[: m.start()] + f"{m.group(1)}{m.group(2)}:{m.group(3)}"
    elif re.search(r"T[0-9:.]+[+-][0-9]{2}\Z", iso):
        iso += ":00"
    try:
        value = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def is_link(text: str) -> bool:
    return bool(_LINK.match(text.strip()))


def infer_type(text: str) -> str:
    """The type auto-typing gives one text value (a CSV cell, ``set k=v``)."""
    t = text.strip()
    if t.lower() in BOOLEAN_WORDS:
        return S.BOOLEAN
    if parse_number(t, auto=True) is not None:
        return S.NUMBER
    if parse_datetime(t) is not None:
        return S.DATETIME
    if is_link(t):
        return S.LINK
    return S.STRING


def split_multi(text: str) -> list[str]:
    """A multi-enum cell: ``a, b, c`` or a JSON array of strings → sorted distinct options."""
    t = text.strip()
    if t.startswith("["):
        try:
            items = json.loads(t)
        except json.JSONDecodeError as exc:
            raise ValueProblem(f"{text!r} is not a JSON array of strings ({exc.msg})") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueProblem(f"{text!r} is not a JSON array of strings")
    else:
        items = t.split(",")
    return sorted({nfc(i.strip()) for i in items if i.strip()})


def coerce(text: str, type_: str) -> object:
    """Read text as a value of ``type_``; raise ValueProblem with the reason when it does not fit."""
    t = text.strip()
    if type_ == S.NUMBER:
        value = parse_number(t)
        if value is None:
            raise ValueProblem(f"{text!r} is not a number")
        return value
    if type_ == S.BOOLEAN:
        if t.lower() not in BOOLEAN_INPUT:
            raise ValueProblem(f"{text!r} is not a boolean (use true or false)")
        return BOOLEAN_INPUT[t.lower()]
    if type_ == S.DATETIME:
        value = parse_datetime(t)
        if value is None:
            raise ValueProblem(f"{text!r} is not an ISO 8601 date or datetime (e.g. 2024-01-15T10:30:00Z)")
        return value
    if type_ == S.LINK:
        if not is_link(t):
            raise ValueProblem(f"{text!r} is not an http:// or https:// URL")
        return t
    if type_ == S.MULTI_ENUM:
        items = split_multi(text)
        if not items:
            raise ValueProblem(f"{text!r} holds no option (to remove the key, unset it)")
        return items
    if type_ == S.ENUM:
        if len(t) > S.MAX_OPTION_LENGTH:
            raise ValueProblem(
                f"{text!r} is longer than {S.MAX_OPTION_LENGTH} characters, the limit for an enum option"
            )
        return nfc(t)
    return nfc(text)


def value_text(value) -> str:
    """A stored value as the text that reads back to it (CSV cells, tables, ``set k=v``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
        return text + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value)
    return str(value)


def value_json(value):
    """A stored value as JSON-ready data: datetimes as ISO text with Z, NaN/inf as null."""
    if isinstance(value, (datetime, date)):
        return value_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [value_json(v) for v in value]
    return value


def infer_and_coerce(text: str) -> tuple[str, object]:
    type_ = infer_type(text)
    return type_, coerce(text, type_)


__all__ = [
    "AUTO_NUMBER_RE", "NUMBER_RE", "DATETIME_RE", "LINK_RE", "ValueProblem",
    "infer_type", "coerce", "infer_and_coerce", "parse_number", "parse_datetime",
    "split_multi", "is_link", "nfc", "value_text", "value_json",
]
