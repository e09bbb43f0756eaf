"""The table of field types: one row per type, every fact about it in one place. Pure; no I/O.

A row (:class:`FieldType`) holds a type's storage type in DuckDB, the query operators it takes
(in the order completion offers them), how queries read its values, whether free text and ranges
apply to it, how facets count it, how it is named in messages, its DuckDB SQL, and its reader
:meth:`FieldType.parse` — the ONE reader of text
shared by import (``--type k=number`` cells, via the row's SQL, built from the
constants below), ``metastore set``, JSON scalars and the query checker. The reverse direction is
:func:`text` (a value as text that reads back to it: CSV cells, tables), :func:`json_value` (JSON
output) and :func:`query_text` (a value as a query literal, for ``--explain``).

Adding a type is one row in ``TYPES``: the row also holds the type's DuckDB SQL (its bulk cast,
auto-typing check, JSON and text forms) and the flags other modules ask (``Field.kind``), so no
module outside this one decides by a type's name (``tests/test_one_place.py``).

The auto-typing rules (a column whose every value fits becomes that type) are built from the
same constants (``AUTO_NUMBER_RE``, ``DATETIME_RE``, ``LINK_RE``, ``AUTO_TRUE``/``AUTO_FALSE``),
in Python and in the rows' SQL here (``store/codec.py`` applies it); ``tests/cases/autotype.json`` checks both.
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


def _pattern_reader(regex: str) -> Callable[[str], str | None]:
    compiled = re.compile(regex + r"\Z")

    def read(text: str) -> str | None:
        t = text.strip()
        return t if compiled.match(t) else None

    return read


read_link = _pattern_reader(LINK_RE)


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


# ---------------------------------------------------------------- the same readers in DuckDB SQL
# Built from the constants above, so bulk (SQL) and single-value (Python) typing agree; every
# expression is made of constants and a catalog-chosen column, never of user text.


def lit(text: str) -> str:
    """A SQL string literal for one of our own constants (patterns, never user data)."""
    return "'" + text.replace("'", "''") + "'"


def _words(words) -> str:
    return ", ".join(lit(w) for w in words)


def _boolean_arms(true_words, false_words) -> str:
    """``WHEN 'true' THEN true … WHEN 'false' THEN false`` for ``CASE lower(t) … END``."""
    return " ".join([f"WHEN {lit(w)} THEN true" for w in true_words]
                    + [f"WHEN {lit(w)} THEN false" for w in false_words])


def iso_datetime_sql(t: str) -> str:
    """The SQL of ``DATETIME_REWRITES`` over text ``t`` (EXIF colons, `` UTC``, `` -07:00``)."""
    for pattern, repl in DATETIME_REWRITES:
        t = f"regexp_replace({t}, {lit(pattern)}, {lit(repl)})"
    return t


#: Texts in a form TIMESTAMP's own parser does not read as is: one of ``DATETIME_REWRITES``
#: applies (EXIF colons, a UTC/GMT zone, a space before an offset) or an offset follows the time.
#: One test first: plain ISO texts (the common case) go straight to one TRY_CAST.
_DATETIME_SLOW = lit("|".join(f"(?:{p})" for p, _ in DATETIME_REWRITES) + f"|(?:{OFFSET_RE})")


def _datetime_sql(t: str) -> str:
    # TIMESTAMPTZ parsing honours offsets; plain TIMESTAMP parsing is faster but would drop them.
    # A rewrite leaves a text it does not apply to unchanged, so rewriting every text of the slow
    # branch equals rewriting only those the rewrites apply to. Each branch names its text once
    # per use: the common branch evaluates one regex and one cast per cell.
    n = iso_datetime_sql(t)
    slow = (f"CASE WHEN regexp_matches({n}, {lit(OFFSET_RE)}) THEN TRY_CAST({n} AS TIMESTAMPTZ)::TIMESTAMP "
            f"ELSE TRY_CAST({n} AS TIMESTAMP) END")
    return f"CASE WHEN regexp_matches({t}, {_DATETIME_SLOW}) THEN {slow} ELSE TRY_CAST({t} AS TIMESTAMP) END"


def _items_sql(t: str) -> str:
    json_list = f"TRY_CAST({t} AS JSON)"
    items = (
        f"CASE WHEN starts_with({t}, '[') THEN "
        f"CASE WHEN json_type({json_list}) = 'ARRAY' AND "
        f"coalesce(list_bool_and(list_transform(json_extract({json_list}, '$[*]'), "
        f"lambda x: json_type(x) = 'VARCHAR')), true) "
        f"THEN json_extract_string({json_list}, '$[*]') END "
        f"ELSE regexp_split_to_array({t}, {lit(ITEM_SEPARATOR_RE)}) END"
    )
    return (f"list_sort(list_distinct(list_filter(list_transform({items}, lambda x: nfc_normalize(trim(x))), "
            f"lambda x: x <> '')))")


def _pattern_sql(regex: str) -> dict:
    """The SQL of a text type whose values match ``regex``: the trimmed cell where it matches."""
    def cast(c: str) -> str:  # also the auto-typed value: NULL where the text does not match
        return f"CASE WHEN regexp_full_match(trim({c}), {lit(regex)}) THEN trim({c}) END"

    return {"cast": cast, "fast": lambda c: f"trim({c})",
            "auto": lambda c: f"regexp_full_match(trim({c}), {lit(regex)})", "auto_cast": cast}


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class FieldType:
    """One field type: everything the rest of the code asks about it (``Field.kind`` is a key's
    row). ``problem`` completes "'<text>' …" when a value does not fit."""

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
    query: str = "text"          # how a query reads a value: text | options | number | boolean | datetime
    options: bool = False        # values are among the key's declared options (Visual Layer's limits)
    exact: bool = False          # ':' compares case-sensitively (as '=' does)
    text_ranges: bool = False    # k:[a TO b] in code point order
    finite: bool = False         # NaN and infinities may be stored: ranges, minima and bins skip them
    fits_any: bool = False       # every text is a value: the type a key falls back to
    json_kind: str = "str"       # the JSON scalar kind its values arrive as: str | num | bool | list
    suggest_values: bool = True  # completion offers its most common values (else only its range)
    published: str | None = None  # its Parquet type in published tables, when not ``sql``
    # ``to_text``: SQL of a stored value (column ``c``) as the text :func:`text` writes (NULL
    # stays NULL); retype reads it back, export writes it (``tests/test_export_sql.py`` compares)
    to_text: Callable[[str], str] = lambda c: c
    # DuckDB SQL, each a function of a column of text ``c``. ``cast``: the value, or NULL where
    # the text does not fit (``parse`` in bulk; blank cells are the caller's); ``fast``: the same
    # for text that passed ``auto``, the auto-typing predicate (None: never auto-typed);
    # ``from_json``: JSON text (history) → value.
    cast: Callable[[str], str] = lambda c: f"nfc_normalize(trim({c}))"
    fast: Callable[[str], str] | None = None
    auto: Callable[[str], str] | None = None
    # ``auto_cast``: the value of a text that passes ``auto`` and NULL for one that does not, each
    # part evaluated once per cell (the import writes a key typed from its first rows with it and
    # checks each cell as it goes); ``auto_ok``: over that value ``v``, true where the text
    # passed ``auto`` (a non-empty cell whose ``auto_ok`` is not true does not fit).
    auto_cast: Callable[[str], str] | None = None
    auto_ok: Callable[[str], str] = lambda v: f"{v} IS NOT NULL"
    #: ``auto`` in Python: a text → its value when auto-typing gives it this type, else None
    auto_read: Callable[[str], object] | None = None
    from_json: Callable[[str], str] = lambda j: f"json_extract_string({j}, '$')"

    @property
    def a(self) -> str:
        """The type with its article, as messages write it ("an enum")."""
        return f"{self.article} {self.name}"

    def each(self, c: str) -> str:
        """SQL: the single values of column ``c`` (a list's items, one row each)."""
        return f"unnest({c})" if self.listed else c


_TEXT_OPS = (":", "=", "!=", "~")
_ORDERED_OPS = (":", ">", ">=", "<", "<=", "=", "!=")
_EQUALITY_OPS = (":", "=", "!=")

# Each type's SQL, as functions of a column ``c`` of text (see FieldType.cast).


def _number_cast(c: str) -> str:
    t = f"trim({c})"
    return f"CASE WHEN regexp_full_match({t}, {lit(NUMBER_RE)}) AND isfinite(TRY_CAST({t} AS DOUBLE)) " \
           f"THEN TRY_CAST({t} AS DOUBLE) END"


def _number_auto(c: str) -> str:
    t = f"trim({c})"
    return f"CASE WHEN regexp_full_match({t}, {lit(AUTO_NUMBER_RE)}) THEN isfinite(TRY_CAST({t} AS DOUBLE)) ELSE false END"


def _datetime_cast(c: str) -> str:
    t = f"trim({c})"
    return f"CASE WHEN regexp_full_match({t}, {lit(DATETIME_RE)}) THEN {_datetime_sql(t)} END"


#: What SQL's ``trim`` removes from either end: the Unicode space separators (category Zs).
_TRIMMED = r"\p{Zs}*"


def _number_auto_cast(c: str) -> str:
    # = CASE WHEN regexp_full_match(trim(c), AUTO_NUMBER_RE) THEN TRY_CAST(trim(c) AS DOUBLE) END,
    # without trimming every cell (the pattern cannot begin or end with a space, so spaces around it
    # are what trim takes away; the cast reads ASCII spaces itself, trim is only for the others).
    # A text that passes can still overflow to an infinity ('1e999'): ``auto_ok`` is isfinite.
    return (f"CASE WHEN regexp_full_match({c}, {lit(_TRIMMED + '(?:' + AUTO_NUMBER_RE + ')' + _TRIMMED)}) "
            f"THEN coalesce(TRY_CAST({c} AS DOUBLE), TRY_CAST(trim({c}) AS DOUBLE)) END")


def _boolean_auto_cast(c: str) -> str:
    # = CASE lower(trim(c)) …: the cell as it is first, trimmed only when that reads as no word
    arms = _boolean_arms(AUTO_TRUE, AUTO_FALSE)
    return f"CASE lower({c}) {arms} ELSE CASE lower(trim({c})) {arms} END END"


def _datetime_auto(c: str) -> str:
    t = f"trim({c})"
    return f"CASE WHEN regexp_full_match({t}, {lit(DATETIME_RE)}) THEN {_datetime_sql(t)} IS NOT NULL ELSE false END"


def _json_as(sql_type: str) -> Callable[[str], str]:
    return lambda j: f"CAST(json_extract({j}, '$') AS {sql_type})"


_NOT_URL = " is not an http:// or https:// URL"
_NOT_DATETIME = " is not an ISO 8601 date or datetime (e.g. 2024-01-15T10:30:00Z)"
_NOT_BOOLEAN = " is not a boolean (use true or false)"

TYPES: dict[str, FieldType] = {t.name: t for t in (
    FieldType(STRING, "VARCHAR", _TEXT_OPS, "top", " does not fit", nfc, text_like=True, text_ranges=True,
              fits_any=True, cast=lambda c: f"nfc_normalize({c})"),
    FieldType(NUMBER, "DOUBLE", _ORDERED_OPS, "histogram", " is not a number",
              _checked(read_number, " is not a number"), ordered=True, query="number", finite=True,
              json_kind="num", cast=_number_cast, fast=lambda c: f"TRY_CAST(trim({c}) AS DOUBLE)",
              auto=_number_auto, auto_cast=_number_auto_cast, auto_ok=lambda v: f"isfinite({v})",
              auto_read=lambda t: read_number(t, auto=True), from_json=_json_as("DOUBLE"),
              to_text=lambda c: (f"CASE WHEN isfinite({c}) AND {c} = trunc({c}) AND abs({c}) < {INTEGER_TEXT_BELOW!r} "
                                 f"THEN CAST(CAST({c} AS BIGINT) AS VARCHAR) ELSE CAST({c} AS VARCHAR) END")),
    FieldType(BOOLEAN, "BOOLEAN", _EQUALITY_OPS, "boolean", _NOT_BOOLEAN, _checked(read_boolean, _NOT_BOOLEAN),
              query="boolean", json_kind="bool",
              cast=lambda c: f"CASE lower(trim({c})) {_boolean_arms(TRUE_WORDS, FALSE_WORDS)} END",
              fast=lambda c: f"CASE lower(trim({c})) {_boolean_arms(AUTO_TRUE, AUTO_FALSE)} END",
              auto=lambda c: f"lower(trim({c})) IN ({_words(AUTO_TRUE + AUTO_FALSE)})",
              auto_cast=_boolean_auto_cast,
              auto_read=lambda t: read_boolean(t, auto=True),
              from_json=_json_as("BOOLEAN"),
              to_text=lambda c: f"CASE WHEN {c} THEN {lit(TRUE_WORDS[0])} WHEN NOT {c} THEN {lit(FALSE_WORDS[0])} END"),
    FieldType(DATETIME, "TIMESTAMP", _ORDERED_OPS, "timeline", _NOT_DATETIME, _checked(read_datetime, _NOT_DATETIME),
              ordered=True, query="datetime", suggest_values=False, published="TIMESTAMPTZ", cast=_datetime_cast, fast=lambda c: _datetime_sql(f"trim({c})"),
              auto=_datetime_auto, auto_cast=_datetime_cast, auto_read=read_datetime, from_json=lambda j: f"CAST(json_extract_string({j}, '$') AS TIMESTAMP)",
              # one strftime (each costs ~0.1 s per million values); '.000000Z' can only be the end
              to_text=lambda c: f"replace(strftime({c}, '%Y-%m-%dT%H:%M:%S.%fZ'), '.000000Z', 'Z')"),
    FieldType(ENUM, "VARCHAR", _EQUALITY_OPS, "options", " does not fit", _parse_option, text_like=True,
              article="an", query="options", options=True,
              # an empty text is not an option (EMPTY_OPTION_PROBLEM)
              cast=lambda c: f"CASE WHEN trim({c}) <> '' THEN nfc_normalize(trim({c})) END"),
    FieldType(MULTI_ENUM, "VARCHAR[]", _EQUALITY_OPS, "items",
              " is not a list of options (use a, b, c or a JSON array of strings)", _parse_items,
              text_like=True, listed=True, query="options", options=True, json_kind="list",
              cast=lambda c: _items_sql(f"trim({c})"), from_json=lambda j: f"json_extract_string({j}, '$[*]')",
              to_text=lambda c: f"array_to_string({c}, ', ')"),
    FieldType(LINK, "VARCHAR", (":", "~", "=", "!="), "top", _NOT_URL, _checked(read_link, _NOT_URL),
              text_like=True, exact=True, auto_read=read_link, **_pattern_sql(LINK_RE)),
)}

#: Auto-typing tries these in order; a value fitting none is a string. No text fits two of them
#: (the bulk inference relies on it to test each cell once; ``tests/test_infer.py`` checks it).
AUTO_ORDER = (BOOLEAN, NUMBER, DATETIME, LINK)
#: Each auto-typed kind's Python reader (the rows' ``auto_read``; tests/test_infer.py reads it).
_AUTO_READ = {name: TYPES[name].auto_read for name in AUTO_ORDER}



def get(type_: str) -> FieldType:
    return TYPES[type_]


def parse(type_: str, text: str) -> object:
    """Read ``text`` as a value of ``type_``; raise ValueProblem with the reason when it does not fit."""
    return TYPES[type_].parse(text)


def auto_type(text: str) -> str:
    """The type auto-typing gives one text value (a CSV cell, ``set k=v``)."""
    for name in AUTO_ORDER:
        if TYPES[name].auto_read(text) is not None:
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
