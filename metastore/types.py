"""The table of field types: one row per type, every fact about it in one place. Pure; no I/O.

A row (:class:`FieldType`) holds a type's storage type in DuckDB, the query operators it takes
(in the order completion offers them), whether free text and ranges apply to it, how facets count
it, how it is named in messages, and its reader :meth:`FieldType.parse` — the ONE reader of text
shared by import (``--type k=number`` cells, via the SQL built by ``store/codec.py`` from the
constants below), ``metastore set``, JSON scalars and the query checker. The reverse direction is
:func:`text` (a value as text that reads back to it: CSV cells, tables), :func:`json_value` (JSON
output) and :func:`query_text` (a value as a query literal, for ``--explain``).

Adding a type is one row in ``TYPES`` (plus its cast in ``store/codec.py`` when it is not text).

The auto-typing rules (a column whose every value fits becomes that type) are built from the
same constants (``AUTO_NUMBER_RE``, ``DATETIME_RE``, ``LINK_RE``, ``AUTO_TRUE``/``AUTO_FALSE``),
in Python here and in SQL by ``store/codec.py``; ``tests/cases/autotype.json`` checks both.
"""

from __future__ import annotations

import json as _json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable

STRING = "string"
NUMBER = "number"
BOOLEAN = "boolean"
DATETIME = "datetime"
ENUM = "enum"
MULTI_ENUM = "multi-enum"
LINK = "link"

#: Visual Layer's limits for enum / multi-enum options.
MAX_OPTIONS = 600
MAX_OPTION_LENGTH = 20

# ---------------------------------------------------------------- the constants both sides use

#: A decimal number as auto-typing accepts it: no leading zeros (``007`` stays a string).
AUTO_NUMBER_RE = r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"
#: A number for a key already known to be numeric (``007`` is 7 there). ASCII digits only:
#: ``٧٠`` is not a number anywhere (import, ``set``, queries).
NUMBER_RE = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_TIME_RE = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
#: Datetimes as real data writes them: ISO 8601 (``T`` or a space), optional seconds and fraction,
#: EXIF's ``2008:10:22 16:28:39``, and a zone: ``Z``, ``UTC``/``GMT`` or an offset, with or
#: without a space before it (``2016-04-26 22:28:01 UTC``, ``… -07:00``). No zone means UTC.
DATETIME_RE = (
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}([T ]" + _TIME_RE + r")?"
    r"|[0-9]{4}:[0-9]{2}:[0-9]{2}[T ]" + _TIME_RE + r")"
    r"(Z| ?(UTC|GMT|[+-][0-9]{2}(:?[0-9]{2})?))?"
)
#: How a datetime text is put into ISO form before it is read (Python and SQL apply the same
#: three rewrites, in order): EXIF's date colons → dashes; a UTC/GMT zone → ``Z``; the space
#: before an offset dropped.
DATETIME_REWRITES = (
    (r"^([0-9]{4}):([0-9]{2}):([0-9]{2})", r"\1-\2-\3"),
    (r" ?(UTC|GMT)$", "Z"),
    (r" ([+-][0-9]{2}(:?[0-9]{2})?)$", r"\1"),
)
#: A datetime text with an explicit UTC offset after its time (``…10:30+02:00``).
OFFSET_RE = r":[0-9]{2}(\.[0-9]*)?[+-][0-9]"
LINK_RE = r"(?i)https?://[^\s]+"
#: Words auto-typing reads as booleans (any case).
AUTO_TRUE = ("true", "yes")
AUTO_FALSE = ("false", "no")
#: Words a key known to be boolean accepts (import into a boolean key, ``set``, queries).
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")
#: Multi-enum items in a cell: ``a, b, c`` (or a JSON array of strings).
ITEM_SEPARATOR_RE = r"\s*,\s*"
#: Integral numbers below this print without a decimal point (``70``, not ``70.0``).
INTEGER_TEXT_BELOW = 1e15

_AUTO_NUMBER = re.compile(AUTO_NUMBER_RE + r"\Z")
_NUMBER = re.compile(NUMBER_RE + r"\Z")
_DATETIME = re.compile(DATETIME_RE + r"\Z")
_DATETIME_REWRITES = tuple((re.compile(p), r) for p, r in DATETIME_REWRITES)
_LINK = re.compile(LINK_RE + r"\Z")
_BOOLEAN = {**{w: True for w in TRUE_WORDS}, **{w: False for w in FALSE_WORDS}}
_AUTO_BOOLEAN = {**{w: True for w in AUTO_TRUE}, **{w: False for w in AUTO_FALSE}}


class ValueProblem(ValueError):
    """A value that does not fit a type; the message is the reason in user terms."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ---------------------------------------------------------------- readers (text → value or None)


def read_number(text: str, *, auto: bool = False) -> float | None:
    """A finite number, or None. ``auto``: the stricter auto-typing form (no ``007``, ``+5``)."""
    t = text.strip()
    if not (_AUTO_NUMBER if auto else _NUMBER).match(t):
        return None
    value = float(t)
    return value if math.isfinite(value) else None


def read_boolean(text: str, *, auto: bool = False) -> bool | None:
    return (_AUTO_BOOLEAN if auto else _BOOLEAN).get(text.strip().lower())


def read_datetime(text: str) -> datetime | None:
    """ISO 8601 → naive UTC datetime (a value without offset is UTC), or None."""
    t = text.strip()
    if not _DATETIME.match(t):
        return None
    for pattern, repl in _DATETIME_REWRITES:
        t = pattern.sub(repl, t)
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


def read_link(text: str) -> str | None:
    t = text.strip()
    return t if _LINK.match(t) else None


def split_items(text: str) -> list[str]:
    """A multi-enum cell: ``a, b, c`` or a JSON array of strings → sorted distinct options."""
    t = text.strip()
    if t.startswith("["):
        try:
            items = _json.loads(t)
        except _json.JSONDecodeError as exc:
            raise ValueProblem(f"{text!r} is not a JSON array of strings ({exc.msg})") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueProblem(f"{text!r} is not a JSON array of strings")
    else:
        items = re.split(ITEM_SEPARATOR_RE, t)
    return sorted({nfc(i.strip()) for i in items if i.strip()})


def _checked(read: Callable[[str], object], problem: str) -> Callable[[str], object]:
    def parse(text: str):
        value = read(text)
        if value is None:
            raise ValueProblem(f"{text!r}{problem}")
        return value

    return parse


def _parse_items(text: str) -> list[str]:
    items = split_items(text)
    if not items:
        raise ValueProblem(f"{text!r} holds no option (to remove the key, unset it)")
    return items


#: Why an empty text (a JSON ``""``) is not an enum option: an option is a name to pick (facets,
#: completion, Visual Layer); "no value" is the key left out. Import (a cell error) and ``set`` say it.
EMPTY_OPTION_PROBLEM = (" is empty: an enum option needs a name (leave the key out for no value, "
                        "or declare the key as string to keep empty texts)")


def _parse_option(text: str) -> str:
    t = text.strip()
    if not t:
        raise ValueProblem(f"{text!r}{EMPTY_OPTION_PROBLEM}")
    if len(t) > MAX_OPTION_LENGTH:
        raise ValueProblem(f"{text!r} is longer than {MAX_OPTION_LENGTH} characters, the limit for an enum option")
    return nfc(t)


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class FieldType:
    """One field type. ``problem`` completes "'<text>' …" when a value does not fit."""

    name: str
    sql: str                     # DuckDB column type (datetimes are naive UTC TIMESTAMPs)
    operators: tuple[str, ...]   # query operators it takes, in the order completion offers them
    facet: str                   # how facets count it: top | options | items | boolean | histogram | timeline
    problem: str                 # " is not a number": the reason a value does not fit
    parse: Callable[[str], object]  # text → value; raises ValueProblem(problem)
    text_like: bool = False      # free text searches it; compared as text (case rules, globs, ~)
    ordered: bool = False        # ranges and < <= > >= apply
    listed: bool = False         # the value is a list of options
    article: str = "a"           # "a number", "an enum"

    @property
    def a(self) -> str:
        """The type with its article, as messages write it ("an enum")."""
        return f"{self.article} {self.name}"


_TEXT_OPS = (":", "=", "!=", "~")
_ORDERED_OPS = (":", ">", ">=", "<", "<=", "=", "!=")
_EQUALITY_OPS = (":", "=", "!=")

TYPES: dict[str, FieldType] = {t.name: t for t in (
    FieldType(STRING, "VARCHAR", _TEXT_OPS, "top", " does not fit", nfc, text_like=True),
    FieldType(NUMBER, "DOUBLE", _ORDERED_OPS, "histogram", " is not a number",
              _checked(read_number, " is not a number"), ordered=True),
    FieldType(BOOLEAN, "BOOLEAN", _EQUALITY_OPS, "boolean", " is not a boolean (use true or false)",
              _checked(read_boolean, " is not a boolean (use true or false)")),
    FieldType(DATETIME, "TIMESTAMP", _ORDERED_OPS, "timeline",
              " is not an ISO 8601 date or datetime (e.g. 2024-01-15T10:30:00Z)",
              _checked(read_datetime, " is not an ISO 8601 date or datetime (e.g. 2024-01-15T10:30:00Z)"),
              ordered=True),
    FieldType(ENUM, "VARCHAR", _EQUALITY_OPS, "options", " does not fit", _parse_option, text_like=True,
              article="an"),
    FieldType(MULTI_ENUM, "VARCHAR[]", _EQUALITY_OPS, "items",
              " is not a list of options (use a, b, c or a JSON array of strings)", _parse_items,
              text_like=True, listed=True),
    FieldType(LINK, "VARCHAR", (":", "~", "=", "!="), "top", " is not an http:// or https:// URL",
              _checked(read_link, " is not an http:// or https:// URL"), text_like=True),
)}

#: Auto-typing tries these in order; a value fitting none is a string. No text fits two of them
#: (the bulk inference relies on it to test each cell once; ``tests/test_infer.py`` checks it).
AUTO_ORDER = (BOOLEAN, NUMBER, DATETIME, LINK)

_AUTO_READ = {
    BOOLEAN: lambda t: read_boolean(t, auto=True),
    NUMBER: lambda t: read_number(t, auto=True),
    DATETIME: read_datetime,
    LINK: read_link,
}


def get(type_: str) -> FieldType:
    return TYPES[type_]


def parse(type_: str, text: str) -> object:
    """Read ``text`` as a value of ``type_``; raise ValueProblem with the reason when it does not fit."""
    return TYPES[type_].parse(text)


def auto_type(text: str) -> str:
    """The type auto-typing gives one text value (a CSV cell, ``set k=v``)."""
    for name in AUTO_ORDER:
        if _AUTO_READ[name](text) is not None:
            return name
    return STRING


# ---------------------------------------------------------------- writers (value → text)


def text(value) -> str:
    """A stored value as the text that reads back to it (CSV cells, tables, ``set k=v``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return TRUE_WORDS[0] if value else FALSE_WORDS[0]
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < INTEGER_TEXT_BELOW:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        out = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
        return out + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(text(v) for v in value)
    return str(value)


def json_value(value):
    """A stored value as JSON-ready data: datetimes as ISO text with Z, NaN/inf as null."""
    if isinstance(value, (datetime, date)):
        return text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value


def query_text(value) -> str:
    """A value as a query would write it (``--explain``): strings quoted, lists in brackets."""
    if isinstance(value, list):
        return "[" + ", ".join(query_text(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text(value)


def date_text(value) -> str:
    """Like :func:`text`, but a midnight datetime as its date (what a user types in a query)."""
    if isinstance(value, datetime) and value.hour == value.minute == value.second == value.microsecond == 0:
        return value.date().isoformat()
    return text(value)


__all__ = [
    "STRING", "NUMBER", "BOOLEAN", "DATETIME", "ENUM", "MULTI_ENUM", "LINK", "TYPES", "FieldType",
    "MAX_OPTIONS", "MAX_OPTION_LENGTH", "EMPTY_OPTION_PROBLEM", "AUTO_NUMBER_RE", "NUMBER_RE", "DATETIME_RE", "DATETIME_REWRITES",
    "OFFSET_RE", "LINK_RE",
    "AUTO_TRUE", "AUTO_FALSE", "TRUE_WORDS", "FALSE_WORDS", "ITEM_SEPARATOR_RE", "AUTO_ORDER", "ValueProblem",
    "get", "parse", "auto_type", "read_number", "read_boolean", "read_datetime", "read_link", "split_items",
    "nfc", "text", "json_value", "query_text", "date_text",
]
