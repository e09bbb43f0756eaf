"""The operator table is the one place operator facts live: every row has a template in every
dialect, its English phrase takes the same arguments as its SQL, and the compiler writes no
operator SQL of its own."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

import pytest

from metastore.query import operators as O

COMPILER = Path(O.__file__).with_name("compiler.py")


def _fields(template: str) -> set:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}


def test_every_row_has_a_template_in_every_dialect():
    assert O.missing_templates() == []


def test_a_row_without_a_dialect_is_caught():
    @dataclass(frozen=True)
    class Half:  # a row written before a dialect was added
        english: str
        duckdb: str

    saved = O.DIALECTS
    try:
        O.DIALECTS = ("duckdb", "spark")
        O.OPERATORS["_probe"] = Half("probe {k}", "{c} IS NULL")
        assert "_probe: spark" in O.missing_templates()
    finally:
        O.DIALECTS = saved
        del O.OPERATORS["_probe"]


@pytest.mark.parametrize("name", sorted(O.OPERATORS))
def test_english_and_sql_take_the_same_arguments(name):
    op = O.OPERATORS[name]
    for dialect in O.DIALECTS:
        sql = _fields(op.sql(dialect))
        assert "c" in sql, name
        assert sql - {"c"} == _fields(op.english) - {"k"}, (name, dialect)


def test_syntax_rows_map_to_checked_operators():
    for symbol, row in O.SYNTAX.items():
        assert row.number in O.OPERATORS, symbol
        if row.datetime is not None:
            assert row.datetime[0] in O.OPERATORS and row.datetime[1] in ("start", "end"), symbol


def test_the_compiler_writes_no_operator_sql():
    code = re.sub(r'"""(.|\n)*?"""', "", COMPILER.read_text())  # docstrings and comments may name them
    code = re.sub(r"#[^\n]*", "", code)
    for word in ("LIKE", "regexp_", "list_contains", "list_has_any", "isfinite", "lambda", "coalesce",
                 "IS NOT NULL", "lower(", "contains("):
        assert word not in code, word


# -- the grammar's operator tokens and the SYNTAX table are one list ------------------------------
def _grammar_regex(name: str) -> re.Pattern:
    from metastore.query.parser import grammar_text

    m = re.search(rf"^{re.escape(name)}(?:\.\d+)?:\s*/(.*)/\s*$", grammar_text(), re.M)
    assert m, f"no terminal {name} in grammar/query.lark"
    return re.compile(m.group(1).replace("\\\\", "\\"))


def _operator_shaped(chars=":=<>!~", longest=3):
    out = [""]
    for _ in range(longest):
        out = out + [s + c for s in out for c in chars]
    return sorted({s for s in out if s})


def test_the_grammar_lexes_exactly_the_operators_of_the_syntax_table():
    """grammar/query.lark spells the operators in OP (and the lookahead of KEY); the checker,
    completion and --explain read operators.SYNTAX. An operator added to one and not the other
    would lex as something else (the toy `!~` of docs/architecture.md read as `:`) — so the two
    lists are compared here over every string of up to three operator characters."""
    op, key = _grammar_regex("OP"), _grammar_regex("KEY")
    lexed = {s for s in _operator_shaped() if op.fullmatch(s)}
    github = {":" + s for s in O.SYNTAX if s[0] in "<>"}  # GitHub style :> :>= :< :<=
    assert lexed == set(O.SYNTAX) | github
    for s in O.SYNTAX:  # a key is a key only when one of the table's operators follows it
        assert key.match(f"k{s}v") and key.match(f"k{s}v").group(0) == "k", s
    assert not key.match("k!v") and not key.match("k@v")
