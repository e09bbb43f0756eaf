"""The operator tables: every fact about an operator in one row. Pure; no I/O.

Two tables, one per level of the language:

* ``SYNTAX`` — the operators a user writes after a key (``:`` ``=`` ``!=`` ``~`` ``>`` …): the
  phrase completion shows beside them, and which checked operator a number or datetime
  comparison becomes. Which types take which of them is the ``operators`` column of the type table
  (:data:`metastore.types.TYPES`); the checker and completion both read it from there.
* ``OPERATORS`` — the operators of the checked tree (``eq``, ``glob_ci``, ``between_dt`` …) that
  the checker emits and the compiler turns into SQL: the English phrase ``--explain`` prints and
  one SQL template per dialect.

SQL templates are written over the column ``{c}`` and the placeholders ``{0}``, ``{1}`` of the
operator's arguments (always bound parameters, never values). ``FORMS`` holds the few templates
the compiler wraps leaves in (any item of a list, the finite test, NOT, the placeholder and the
identifier quote), with the same one-column-per-dialect layout.

The dialects are ``duckdb`` (the catalog) and ``spark`` (a published catalog on Spark,
``metastore.engines.spark``; ``tests/test_spark.py`` runs every golden and generated query on a
real Spark against the catalog). **Adding a dialect** is one more field on :class:`Op` and
:class:`Form`, one more entry in ``DIALECTS``, and a template in every row —
``tests/test_operators.py`` fails until every row has one, and compiling a query whose operator
lacks one fails naming the operator. **Adding an operator** is one row in ``OPERATORS`` with a
template for each dialect (and, when users write it, one in ``SYNTAX`` and in the
``operators`` of the types that take it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ..types import DATETIME, LINK, MULTI_ENUM

#: The SQL dialects the compiler writes; each is a field of Op and Form.
DIALECTS = ("duckdb", "spark")


class MissingTemplate(LookupError):
    """A row has no template for a dialect (the compiler turns it into a UsageError naming it)."""


def _sql(row, dialect: str) -> str:
    text = getattr(row, dialect, "")
    if not text:
        raise MissingTemplate(dialect)
    return text


@dataclass(frozen=True)
class Op:
    """One checked-tree operator: its ``--explain`` phrase (over ``{k}``, ``{0}``, ``{1}``) and
    its SQL template in each dialect (over ``{c}``, ``{0}``, ``{1}``). A dialect's template may
    be missing (a row added before the dialect): ``missing_templates()`` lists it, a test keeps
    that empty, and compiling such a query in that dialect fails naming the operator."""

    english: str
    duckdb: str
    spark: str = ""

    def sql(self, dialect: str = "duckdb") -> str:
        return _sql(self, dialect)


@dataclass(frozen=True)
class Form:
    """A template the compiler wraps around leaves, in each dialect."""

    duckdb: str
    spark: str = ""

    def sql(self, dialect: str = "duckdb") -> str:
        return _sql(self, dialect)


#: operator → Op(English phrase, SQL template per dialect)
OPERATORS: dict[str, Op] = {
    "present": Op("has {k}", "{c} IS NOT NULL", "{c} IS NOT NULL"),
    "absent": Op("has no {k}", "{c} IS NULL", "{c} IS NULL"),
    "nonempty": Op("has any {k}", "len({c}) > 0", "size({c}) > 0"),
    "eq": Op("{k} = {0}", "{c} = {0}", "{c} = {0}"),
    "eq_ci": Op("{k} equals {0} ignoring case", "lower({c}) = {0}", "lower({c}) = {0}"),
    # Spark's LIKE escapes with a backslash by default; the pattern is bound (no literal to quote)
    "glob": Op("{k} matches LIKE pattern {0}", "{c} LIKE {0} ESCAPE '\\'", "{c} LIKE {0}"),
    "glob_ci": Op("{k} matches LIKE pattern {0} ignoring case", "lower({c}) LIKE {0} ESCAPE '\\'",
                  "lower({c}) LIKE {0}"),
    "prefix": Op("{k} starts with {0}", "starts_with({c}, {0})", "startswith({c}, {0})"),
    "prefix_ci": Op("{k} starts with {0} ignoring case", "starts_with(lower({c}), {0})",
                    "startswith(lower({c}), {0})"),
    "suffix": Op("{k} ends with {0}", "ends_with({c}, {0})", "endswith({c}, {0})"),
    "suffix_ci": Op("{k} ends with {0} ignoring case", "ends_with(lower({c}), {0})",
                    "endswith(lower({c}), {0})"),
    "contains": Op("{k} contains {0}", "contains({c}, {0})", "contains({c}, {0})"),
    # like/like_ci patterns hold no %, _ or \\ of their own (glob_op): Spark's default escape never acts
    "like": Op("{k} matches LIKE pattern {0}", "{c} LIKE {0}", "{c} LIKE {0}"),
    "like_ci": Op("{k} matches LIKE pattern {0} ignoring case", "lower({c}) LIKE {0}", "lower({c}) LIKE {0}"),
    # RE2 on DuckDB, java.util.regex on Spark: the same on the syntax the catalog accepts (docs/scale-out.md)
    "regex": Op("{k} matches regex {0}", "regexp_matches({c}, {0})", "{c} RLIKE {0}"),
    "contains_ci": Op("{k} contains {0} ignoring case", "contains(lower({c}), {0})", "contains(lower({c}), {0})"),
    # the same test for an ASCII needle without % or _: DuckDB's ILIKE lowercases the text as
    # lower() does and matches ASCII patterns without building the lowered copy (~20% faster)
    "ilike_contains": Op("{k} contains {0} ignoring case", "{c} ILIKE ('%' || {0} || '%')",
                         "contains(lower({c}), {0})"),
    "gt": Op("{k} > {0}", "{c} > {0}", "{c} > {0}"),
    "ge": Op("{k} >= {0}", "{c} >= {0}", "{c} >= {0}"),
    "lt": Op("{k} < {0}", "{c} < {0}", "{c} < {0}"),
    "le": Op("{k} <= {0}", "{c} <= {0}", "{c} <= {0}"),
    "between": Op("{0} <= {k} <= {1}", "{c} BETWEEN {0} AND {1}", "{c} BETWEEN {0} AND {1}"),
    "between_dt": Op("{0} <= {k} < {1}", "({c} >= {0} AND {c} < {1})", "({c} >= {0} AND {c} < {1})"),
    "in": Op("{k} is one of {0}", "list_contains({0}, {c})", "array_contains({0}, {c})"),
    "has_item": Op("{k} contains {0}", "list_contains({c}, {0})", "array_contains({c}, {0})"),
    "has_any": Op("{k} contains any of {0}", "list_has_any({c}, {0})", "arrays_overlap({c}, {0})"),
    "set_eq": Op("the set {k} equals {0}", "list_sort(list_distinct({c})) = {0}",
                 "array_sort(array_distinct({c})) = {0}"),
}

#: Templates around leaves. ``any_item``: some item ``x`` of list ``{c}`` satisfies ``{inner}``
#: (written over ``x``); ``finite``: a number column holds a finite value; ``not``: the
#: complement, where an absent key (NULL) counts as not matching; ``param``: placeholder ``n``
#: (1-based); ``quote``: the identifier quote character (doubled inside a name); ``datetime``:
#: how a bound datetime ``{p}`` is written — DuckDB binds the datetime itself (naive UTC, like
#: the catalog's TIMESTAMP columns); Spark binds microseconds since 1970 (an instant: neither the
#: session's, the JVM's nor Python's time zone can shift it; see ``DATETIME_AS_MICROS``);
#: ``text``: the text type of a cast.
FORMS: dict[str, Form] = {
    "any_item": Form("len(list_filter({c}, lambda x: {inner})) > 0", "exists({c}, x -> {inner})"),
    # Spark orders NaN above +inf like DuckDB, but has no isfinite()
    "finite": Form("isfinite({c})", "(NOT isnan({c}) AND abs({c}) < double('Infinity'))"),
    "not": Form("(NOT coalesce({inner}, false))", "(NOT coalesce({inner}, false))"),
    "param": Form("${n}", ":p{n}"),
    "quote": Form('"', "`"),
    "datetime": Form("{p}", "timestamp_micros({p})"),
    "text": Form("VARCHAR", "STRING"),
    "md5": Form("md5({c})", "md5({c})"),  # lowercase hex of the UTF-8 bytes (export samples and splits)
    "in": Form("{left} IN ({holders})", "{left} IN ({holders})"),
    # the same list on a key with options (an enum): DuckDB makes a plain ``k IN (…)`` an optional
    # scan filter (row-group pruning) and tests it again in a Filter above the scan, which costs
    # ~25 % on a selective query; ``IS TRUE`` (NULL → false, as WHERE reads it) keeps the test
    # inside the scan. An enum's few values give pruning little to skip.
    "in_options": Form("({left} IN ({holders})) IS TRUE", "{left} IN ({holders})"),
    # keyset paging (``after``): sorted by a key, missing values last in either direction
    "same": Form("{c} IS NOT DISTINCT FROM {v}", "{c} <=> {v}"),  # equal, or both missing
    "beyond": Form("({c} {op} {v} OR ({c} IS NULL AND {v} IS NOT NULL))",
                   "({c} {op} {v} OR ({c} IS NULL AND {v} IS NOT NULL))"),  # later in the order
}

#: Equality operators whose OR over one key compiles to one list, ``<left> IN (…)`` (DuckDB pushes
#: an IN into the scan; an OR of equalities is filtered again above it): the left side per dialect.
IN_LEFT: dict[str, Form] = {
    "eq": Form("{c}", "{c}"),
    "eq_ci": Form("lower({c})", "lower({c})"),
}

#: Dialects whose datetime parameters are bound as microseconds since 1970 (UTC).
DATETIME_AS_MICROS = frozenset({"spark"})

#: The name a list item is bound to inside ``any_item`` (leaves inside it are written over it).
ITEM = "x"


@dataclass(frozen=True)
class Syntax:
    """One operator as users write it. ``phrase`` is what completion shows beside it;
    ``by_type`` overrides it for a type. ``number`` is the checked operator a number comparison
    becomes; ``datetime`` the operator and the end of the literal's interval it compares with.
    The flags say what it means to the checker: ``negated``, the key is present and the
    comparison is false (``k!=v``); ``exact``, text compares case-sensitively (``k=v``);
    ``contains``, the plain text occurs anywhere in the value (``k~v``); ``text``, it applies to
    text (text keys, ``tag``, ``path``)."""

    phrase: str
    by_type: dict = field(default_factory=dict)
    number: str = "eq"
    datetime: tuple[str, str] | None = None  # (operator, "start" | "end"); None: the interval itself
    negated: bool = False
    exact: bool = False
    contains: bool = False
    text: bool = False

    def phrase_for(self, type_: str) -> str:
        return self.by_type.get(type_, self.phrase)


SYNTAX: dict[str, Syntax] = {
    ":": Syntax("equals (any case)", {MULTI_ENUM: "contains the option", LINK: "equals",
                                      DATETIME: "within (year, month, day…)"}, text=True),
    "=": Syntax("equals exactly", exact=True, text=True),
    "!=": Syntax("has it, and differs", negated=True, text=True),
    "~": Syntax("contains", contains=True, text=True),
    ">": Syntax("greater than", {DATETIME: "after"}, "gt", ("ge", "end")),
    ">=": Syntax("at least", {DATETIME: "from"}, "ge", ("ge", "start")),
    "<": Syntax("less than", {DATETIME: "before"}, "lt", ("lt", "start")),
    "<=": Syntax("at most", {DATETIME: "up to"}, "le", ("lt", "end")),
}


def template(op: str, dialect: str = "duckdb") -> str:
    """The SQL template of checked operator ``op`` in ``dialect``."""
    return OPERATORS[op].sql(dialect)


def english(op: str) -> str:
    return OPERATORS[op].english


def missing_templates() -> list[str]:
    """Rows lacking a template for a dialect of ``DIALECTS`` (a test keeps this empty)."""
    out = []
    for table in (OPERATORS, FORMS, IN_LEFT):
        for name, row in table.items():
            have = {f.name for f in fields(row)}
            out += [f"{name}: {d}" for d in DIALECTS if d not in have or not getattr(row, d)]
    return out


__all__ = ["DIALECTS", "DATETIME_AS_MICROS", "MissingTemplate", "Op", "Form", "Syntax", "OPERATORS", "FORMS", "SYNTAX", "IN_LEFT", "ITEM", "template", "english",
           "missing_templates"]
