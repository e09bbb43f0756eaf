"""Checker + compiler: golden semantic errors and SQL, explain, safety properties."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metastore.errors import QueryError, QuerySemanticError
from metastore.query import (
    check, check_text, clauses, compile_count, compile_select, compile_where, explain, parse,
)
from oracle import BY_NAME, NOW, SCHEMA

CASES = Path(__file__).parent / "cases"
ERROR_CASES = [c for c in json.loads((CASES / "query_errors.json").read_text(encoding="utf-8"))
               if c["kind"] == "semantic"]
SQL_CASES = json.loads((CASES / "query_sql.json").read_text(encoding="utf-8"))


def _params(params):
    return [{"datetime": p.isoformat()} if isinstance(p, datetime) else p for p in params]


@pytest.mark.parametrize("case", SQL_CASES, ids=[c["query"] for c in SQL_CASES])
def test_sql_golden(case):
    sql, params = compile_where(check_text(case["query"], SCHEMA, now=NOW))
    assert sql == case["sql"]
    assert _params(params) == case["params"]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["query"] for c in ERROR_CASES])
def test_semantic_error_golden(case):
    with pytest.raises(QuerySemanticError) as info:
        check_text(case["query"], SCHEMA, now=NOW)
    got = info.value.issues
    assert len(got) == len(case["issues"])
    for issue, want in zip(got, case["issues"]):
        assert [issue.start, issue.end] == want["span"]
        assert want["message"] in issue.message
        assert (want["help"] or "") in (issue.help or "")


def test_spec_error_messages():
    def first(q):
        with pytest.raises(QueryError) as info:
            check_text(q, SCHEMA, now=NOW)
        return info.value

    e = first("temprature>70 location:warehouse-3")
    assert (e.message, e.start, e.end) == ("unknown key 'temprature'", 0, 10)
    assert e.help == "did you mean 'temperature'? (number, 12,408 images)"
    assert first("reviewed>1").message == \
        "'reviewed' is a boolean; '>' is not allowed (use reviewed:true or reviewed:false)"
    assert first("weather:hail").message == \
        "'weather' has no option 'hail'; options are cloudy, fog, rain, snow, sunny"
    assert "captured_at>now-24h" in first("captured_at:-24h").help


def test_all_semantic_errors_are_collected():
    with pytest.raises(QuerySemanticError) as info:
        check_text("temprature>70 weather:hail (reviewed>1 OR has:nope)", SCHEMA, now=NOW)
    assert len(info.value.issues) == 4
    assert info.value.to_dict()["errors"][3]["start"] == 46


def test_enum_options_resolve_to_canonical_spelling():
    sql, params = compile_where(check_text("weather:RAIN defects:Rust", SCHEMA, now=NOW))
    assert params == ["rain", "rust"]


def test_lux_quoted_number():
    from metastore.schema import Field, Schema

    schema = Schema((Field("lux", "number", 1),))
    assert compile_where(check_text('lux:"007"', schema, now=NOW))[1] == [7.0]


def test_timezone_default_and_offsets():
    c = check_text("captured_at:2024-01-15", SCHEMA, now=NOW, tz="Europe/Berlin")
    assert compile_where(c)[1] == [datetime(2024, 1, 14, 23), datetime(2024, 1, 15, 23)]
    c = check_text("captured_at:2024-01-15T10:30:00+02:00", SCHEMA, now=NOW, tz="Europe/Berlin")
    assert compile_where(c)[1] == [datetime(2024, 1, 15, 8, 30), datetime(2024, 1, 15, 8, 30, 1)]


EXPLAINED = {
    "(weather:rain OR weather:fog) NOT reviewed:true quality_score>=90":
        '((weather (enum) = "rain" OR weather (enum) = "fog") AND NOT (reviewed (boolean) = true)'
        " AND quality_score (number) >= 90)",
    "temperature:70..80": "70 <= temperature (number) <= 80",
    "captured_at>2024-01-15": "captured_at (datetime) >= 2024-01-16T00:00:00Z",
    "": "every image",
    # issue 13: grouped and ranged forms are shown expanded
    "location:(dock-a OR NOT dock-b)": '(location (string) equals "dock-a" ignoring case OR NOT (location (string)'
                                       ' equals "dock-b" ignoring case))',
    "temperature:(>=10 AND <20)": "(temperature (number) >= 10 AND temperature (number) < 20)",
    "temperature:{10 TO 20]": "(temperature (number) > 10 AND temperature (number) <= 20)",
    "temperature:[10 TO 20]": "10 <= temperature (number) <= 20",
    "captured_at:{2024-01 TO *]": "captured_at (datetime) >= 2024-02-01T00:00:00Z",
    "location:[a TO m}": '(location (string) >= "a" AND location (string) < "m")',
    "no:tag": "NOT (has any tag)",
    "a OR b c": '(path, a text value or a tag contains "a" ignoring case OR (path, a text value or a tag'
                ' contains "b" ignoring case AND path, a text value or a tag contains "c" ignoring case))',
}


@pytest.mark.parametrize("query", list(EXPLAINED))
def test_explain(query):
    assert explain(check_text(query, SCHEMA, now=NOW)) == EXPLAINED[query]


def test_clauses_echo_text_and_sql():
    got = clauses(check_text("temperature>70 (weather:rain OR tag:v2) -reviewed:true", SCHEMA, now=NOW))
    assert [t for t, _, _ in got] == ["temperature>70", "(weather:rain OR tag:v2)", "-reviewed:true"]
    assert got[1][2] == ["rain", "v2"] and "$1" in got[1][1] and "$3" not in got[1][1]


def test_select_and_count():
    c = check_text("temperature>70", SCHEMA, now=NOW)
    sql, params = compile_select(c, SCHEMA, columns=[BY_NAME["location"]],
                                 sort=[(BY_NAME["temperature"], True)], limit=10)
    assert sql == ('SELECT "path", CAST("media_id" AS VARCHAR) AS "media_id", "v2" FROM "images" '
                   'WHERE ("v1" > $1 AND "v1" < $2)'
                   ' ORDER BY "v1" DESC NULLS LAST, "path" ASC LIMIT $3')
    assert params == [70.0, float("inf"), 10]
    assert compile_count(check_text("", SCHEMA, now=NOW)) == ('SELECT count(*) FROM "images" WHERE TRUE', [])


# ---------------------------------------------------------------- safety properties

MARK = "Zq9"
_value = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12).map(lambda s: MARK + s + MARK)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


TEMPLATES = [
    "location:{v}", "location={v}", "location~{v}", "location!={v}", "annotator:[{v}, {v}]",
    "source_url:{v}", "source_url~{v}", "tag:{v}", "tag~{v}", "path:{v}", "path~{v}", "{v}",
    "-location:{v} OR tag={v}", "@or:{v}",
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(TEMPLATES), _value)
def test_user_values_never_reach_sql_text(template, value):
    checked = check_text(template.format(v=_q(value)), SCHEMA, now=NOW)
    sql, params = compile_select(checked, SCHEMA, columns=list(SCHEMA.fields), limit=5)
    assert MARK.lower() not in sql.lower()
    holders = {int(n) for n in re.findall(r"\$(\d+)", sql)}
    assert holders == set(range(1, len(params) + 1))


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="abcXYZ_.", min_size=1, max_size=8))
def test_unknown_keys_never_reach_sql(name):
    if SCHEMA.get(name) is not None:
        return
    with pytest.raises(QuerySemanticError):
        check(parse(f"@{_q(name)}:1"), SCHEMA, now=NOW)
