"""Parser: golden ASTs, syntax errors with spans, limits, and 'only QueryError' on any text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metastore.errors import QueryError, QuerySyntaxError
from metastore.query import ast, grammar_text, parse, to_data
from metastore.query.parser import MAX_DEPTH, MAX_QUERY_BYTES, MAX_TERMS

CASES = Path(__file__).parent / "cases"
AST_CASES = json.loads((CASES / "query_ast.json").read_text(encoding="utf-8"))
ERROR_CASES = json.loads((CASES / "query_errors.json").read_text(encoding="utf-8"))
SYNTAX_CASES = [c for c in ERROR_CASES if c["kind"] == "syntax"]
EXAMPLES = [line.split("example:", 1)[1].strip() for line in grammar_text().splitlines()
            if line.startswith("// example:")]


def test_grammar_lists_examples():
    assert len(EXAMPLES) >= 18


@pytest.mark.parametrize("query", EXAMPLES)
def test_grammar_examples_parse(query):
    assert parse(query) is not None


@pytest.mark.parametrize("case", AST_CASES, ids=[c["query"] or "<empty>" for c in AST_CASES])
def test_ast_golden(case):
    node = parse(case["query"])
    assert to_data(node) == case["ast"]
    assert (list(node.span) if node else None) == case["span"]


@pytest.mark.parametrize("case", SYNTAX_CASES, ids=[c["query"] for c in SYNTAX_CASES])
def test_syntax_error_golden(case):
    with pytest.raises(QuerySyntaxError) as info:
        parse(case["query"])
    err = info.value
    [want] = case["issues"]
    assert [err.start, err.end] == want["span"]
    assert want["message"] in err.message
    assert (want["help"] or "") in (err.help or "")
    assert "\x1b" not in str(err) and "\n" not in str(err)
    for word in ("_WS", "VALUE", "KEYREF", "$END", "Token(", "Expected"):
        assert word not in err.message and word not in (err.help or "")


def test_spans_point_into_the_text():
    q = 'temperature > -5 (location:"dock a" OR -tag:v2)'
    node = parse(q)
    temp, group = node.items
    assert q[slice(*temp.span)] == "temperature > -5"
    assert q[slice(*temp.value.span)] == "-5"
    assert q[slice(*group.span)] == '(location:"dock a" OR -tag:v2)'
    assert q[slice(*group.items[0].value.span)] == '"dock a"'
    assert q[slice(*group.items[1].span)] == "-tag:v2"


def test_spans_are_not_part_of_equality():
    assert parse("a:1") == parse("  a:1")


def test_keywords_only_standalone():
    assert parse("or:1") == ast.Filter(ast.Key("or"), ":", ast.Word("1"))
    assert parse("x:or") == ast.Filter(ast.Key("x"), ":", ast.Word("or"))
    assert isinstance(parse("a or b"), ast.Or)
    assert isinstance(parse("orange"), ast.FreeText)


def test_precedence_not_and_or():
    node = parse("a OR NOT b c")
    assert isinstance(node, ast.Or)
    right = node.items[1]
    assert isinstance(right, ast.And) and isinstance(right.items[0], ast.Not)


def test_nfc_normalised_values():
    decomposed = "location:cafe\u0301"
    assert parse(decomposed).value.text == "caf\u00e9"
    assert parse(decomposed).value.span == (9, 14)  # spans index the text as given


def test_blank_queries():
    for q in ("", "   ", "\u00a0\t\n"):
        assert parse(q) is None


def test_limit_query_size():
    with pytest.raises(QuerySyntaxError, match="too long"):
        parse("a" * (MAX_QUERY_BYTES + 1))


def test_limit_depth():
    ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse(ok) is not None
    with pytest.raises(QuerySyntaxError, match="nests too deeply"):
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(QuerySyntaxError, match="nests too deeply"):
        parse("NOT " * (MAX_DEPTH + 1) + "a")


def test_limit_terms():
    assert parse("a " * MAX_TERMS) is not None
    with pytest.raises(QuerySyntaxError, match="too many terms"):
        parse("a " * (MAX_TERMS + 1))


_PIECES = list(':()"\'[]/\\-!=<>~*@.,_ aOoRrNnDdTt15\u00a0\t#?é') + ["OR ", "AND ", "NOT ", "has:", "tag:", "..", "k:", '@"']
_SPECIAL = st.lists(st.sampled_from(_PIECES), max_size=25).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), _SPECIAL))
def test_parser_raises_only_query_errors(text):
    try:
        node = parse(text)
    except QueryError as e:
        assert 0 <= e.start <= e.end <= max(len(text), 0) + 1
        assert "\n" not in e.message
        return
    if node is not None:
        assert 0 <= node.span[0] <= node.span[1] <= len(text)


def test_query_package_is_pure():
    code = (
        "import sys; import metastore.query as q; "
        "q.parse('a:1'); "
        "bad = [m for m in ('duckdb', 'rich', 'typer', 'click') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == ""


def test_field_group_values_count_as_terms():
    """k:(a b c …) becomes one filter per value: the 10,000-term limit counts them."""
    assert parse("location:(" + "a " * (MAX_TERMS - 1) + ")") is not None
    with pytest.raises(QuerySyntaxError, match="too many terms"):
        parse("location:(" + "a " * (MAX_TERMS + 1) + ")")


def test_field_group_spans_point_at_what_was_written():
    q = "temperature:(>=10 AND <20) tag:(v2 OR -x)"
    rng, tags = parse(q).items
    assert q[slice(*rng.span)] == "temperature:(>=10 AND <20)"
    assert [q[slice(*f.span)] for f in rng.items] == [">=10", "<20"]
    assert q[slice(*tags.items[1].span)] == "-x"


def test_lucene_range_is_a_range_with_its_ends():
    node = parse("temperature:{1 TO *]")
    assert node.value == ast.LuceneRange(ast.Word("1"), None, lo_incl=False, hi_incl=True)
    assert node.value != ast.Range(ast.Word("1"), None)  # not the same as 1..*
