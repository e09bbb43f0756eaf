"""SQL expressions that read text as typed values, column at a time, inside DuckDB.

The patterns, boolean words and messages come from the type table (``metastore.types``) so that
bulk (SQL) and single-value (Python) typing agree; ``tests/test_infer.py`` checks the two against
the same table of cases (``tests/cases/autotype.json``). Every expression
here is built from constants and catalog-chosen identifiers only, never from user text.
"""

from __future__ import annotations

from .. import schema as S
from .. import types as T


def lit(text: str) -> str:
    """A SQL string literal for one of our own constants (patterns, never user data)."""
    return "'" + text.replace("'", "''") + "'"


_AUTO_NUMBER = lit(T.AUTO_NUMBER_RE)
_NUMBER = lit(T.NUMBER_RE)
_DATETIME = lit(T.DATETIME_RE)
_LINK = lit(T.LINK_RE)


def _words(words) -> str:
    return ", ".join(lit(w) for w in words)


def _boolean_arms(true_words, false_words) -> str:
    """``WHEN 'true' THEN true … WHEN 'false' THEN false`` for ``CASE lower(t) … END``."""
    return " ".join([f"WHEN {lit(w)} THEN true" for w in true_words]
                    + [f"WHEN {lit(w)} THEN false" for w in false_words])


_BOOLEAN_ARMS = _boolean_arms(T.TRUE_WORDS, T.FALSE_WORDS)  # a key known to be boolean
_AUTO_BOOLEAN_ARMS = _boolean_arms(T.AUTO_TRUE, T.AUTO_FALSE)  # auto-typing


def auto_checks(c: str) -> dict[str, str]:
    """For a text column ``c``: the SQL predicate that each auto-typed kind fits the cell."""
    t = f"trim({c})"
    # CASE evaluates its THEN only where WHEN holds: the costly casts run on plausible cells only.
    return {
        S.BOOLEAN: f"lower({t}) IN ({_words(T.AUTO_TRUE + T.AUTO_FALSE)})",
        S.NUMBER: f"CASE WHEN regexp_full_match({t}, {_AUTO_NUMBER}) THEN isfinite(TRY_CAST({t} AS DOUBLE)) "
                  f"ELSE false END",
        S.DATETIME: f"CASE WHEN regexp_full_match({t}, {_DATETIME}) THEN {_datetime_cast(t)} IS NOT NULL "
                    f"ELSE false END",
        S.LINK: f"regexp_full_match({t}, {_LINK})",
    }


#: A datetime text with an explicit UTC offset after its time (``…10:30+02:00``).
_HAS_OFFSET = lit(T.OFFSET_RE)


def fast_cast_expr(c: str, type_: str) -> str:
    """Like :func:`cast_expr`, for a column whose every value already passed :func:`auto_checks`."""
    if type_ == S.NUMBER:
        return f"TRY_CAST(trim({c}) AS DOUBLE)"
    if type_ == S.BOOLEAN:
        return f"CASE lower(trim({c})) {_AUTO_BOOLEAN_ARMS} END"
    if type_ == S.DATETIME:
        return _datetime_cast(f"trim({c})")
    if type_ == S.LINK:
        return f"trim({c})"
    return cast_expr(c, type_)


def iso_datetime_text(t: str) -> str:
    """The SQL of ``types.DATETIME_REWRITES`` over text ``t`` (EXIF colons, `` UTC``, `` -07:00``)."""
    for pattern, repl in T.DATETIME_REWRITES:
        t = f"regexp_replace({t}, {lit(pattern)}, {lit(repl)})"
    return t


#: Texts in a form TIMESTAMP's own parser does not read as is: one of ``types.DATETIME_REWRITES``
#: applies (EXIF colons, a UTC/GMT zone, a space before an offset) or an offset follows the time.
#: One test first: plain ISO texts (the common case) go straight to one TRY_CAST.
_DATETIME_SLOW = lit("|".join(f"(?:{p})" for p, _ in T.DATETIME_REWRITES) + f"|(?:{T.OFFSET_RE})")


def _datetime_cast(t: str) -> str:
    # TIMESTAMPTZ parsing honours offsets; plain TIMESTAMP parsing is faster but would drop them.
    # A rewrite leaves a text it does not apply to unchanged, so rewriting every text of the slow
    # branch equals rewriting only those the rewrites apply to. Each branch names its text once
    # per use: the common branch evaluates one regex and one cast per cell.
    n = iso_datetime_text(t)
    slow = (f"CASE WHEN regexp_matches({n}, {_HAS_OFFSET}) THEN TRY_CAST({n} AS TIMESTAMPTZ)::TIMESTAMP "
            f"ELSE TRY_CAST({n} AS TIMESTAMP) END")
    return f"CASE WHEN regexp_matches({t}, {_DATETIME_SLOW}) THEN {slow} ELSE TRY_CAST({t} AS TIMESTAMP) END"


def auto_kind(c: str, kinds) -> str:
    """For a text column ``c``: the position in ``kinds`` of the auto-typed kind a cell fits, or
    NULL when it fits none. The kinds are exclusive (no text fits two: ``types.AUTO_ORDER``), so
    one CASE tests each cell once, stopping at the first kind that fits."""
    checks = auto_checks(c)
    return "CASE " + " ".join(f"WHEN {checks[t]} THEN {i}" for i, t in enumerate(kinds)) + " END"


def cast_expr(c: str, type_: str) -> str:
    """Text column ``c`` read as ``type_``: the typed value, or NULL where the cell does not fit.

    Empty and whitespace-only cells must be filtered out by the caller (they are "no value").
    """
    t = f"trim({c})"
    if type_ == S.NUMBER:
        return (
            f"CASE WHEN regexp_full_match({t}, {_NUMBER}) AND isfinite(TRY_CAST({t} AS DOUBLE)) "
            f"THEN TRY_CAST({t} AS DOUBLE) END"
        )
    if type_ == S.BOOLEAN:
        return f"CASE lower({t}) {_BOOLEAN_ARMS} END"
    if type_ == S.DATETIME:
        return f"CASE WHEN regexp_full_match({t}, {_DATETIME}) THEN {_datetime_cast(t)} END"
    if type_ == S.LINK:
        return f"CASE WHEN regexp_full_match({t}, {_LINK}) THEN {t} END"
    if type_ == S.MULTI_ENUM:
        json_list = f"TRY_CAST({t} AS JSON)"
        items = (
            f"CASE WHEN starts_with({t}, '[') THEN "
            f"CASE WHEN json_type({json_list}) = 'ARRAY' AND "
            f"coalesce(list_bool_and(list_transform(json_extract({json_list}, '$[*]'), "
            f"lambda x: json_type(x) = 'VARCHAR')), true) "
            f"THEN json_extract_string({json_list}, '$[*]') END "
            f"ELSE regexp_split_to_array({t}, {lit(T.ITEM_SEPARATOR_RE)}) END"
        )
        return (f"list_sort(list_distinct(list_filter(list_transform({items}, lambda x: nfc_normalize(trim(x))), "
                f"lambda x: x <> '')))")
    if type_ == S.ENUM:  # an empty text is not an option (types.EMPTY_OPTION_PROBLEM)
        return f"CASE WHEN {t} <> '' THEN nfc_normalize({t}) END"
    return f"nfc_normalize({c})"


def reason_expr(c: str, type_: str) -> str:
    """The user-facing reason a cell of ``c`` does not fit ``type_`` (SQL string expression)."""
    quoted = f"'''' || {c} || ''''"
    return f"{quoted} || {lit(T.TYPES[type_].problem)}"


def to_json_expr(c: str) -> str:
    """A typed value → JSON text (history keeps old and new values this way)."""
    return f"CAST(to_json({c}) AS VARCHAR)"


def from_json_expr(j: str, type_: str) -> str:
    """JSON text written by :func:`to_json_expr` → a value of ``type_``."""
    if type_ == S.NUMBER:
        return f"CAST(json_extract({j}, '$') AS DOUBLE)"
    if type_ == S.BOOLEAN:
        return f"CAST(json_extract({j}, '$') AS BOOLEAN)"
    if type_ == S.DATETIME:
        return f"CAST(json_extract_string({j}, '$') AS TIMESTAMP)"
    if type_ == S.MULTI_ENUM:
        return f"json_extract_string({j}, '$[*]')"
    return f"json_extract_string({j}, '$')"
