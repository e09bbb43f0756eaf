"""The compiler's dialects: every operator has a template per engine; Spark's SQL binds every
value (named markers), quotes identifiers with backticks, and binds datetimes as instants."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metastore.errors import UsageError
from metastore.query import DIALECTS, OPERATORS, check_text, compile_where, named
from metastore.query.operators import Op
from oracle import NOW, SCHEMA

CASES = json.loads((Path(__file__).parent / "cases" / "query_sql.json").read_text(encoding="utf-8"))


def test_spark_is_a_dialect():
    assert DIALECTS == ("duckdb", "spark")


def test_a_missing_template_names_the_operator(monkeypatch):
    monkeypatch.setitem(OPERATORS, "eq", Op("{k} = {0}", "{c} = {0}"))  # a row written before spark
    with pytest.raises(UsageError, match="the spark dialect has no template for the operator 'eq'"):
        compile_where(check_text("location=x", SCHEMA, now=NOW), dialect="spark")
    assert compile_where(check_text("location=x", SCHEMA, now=NOW))[0] == '"v2" = $1'
    with pytest.raises(UsageError, match="unknown SQL dialect 'oracle'"):
        compile_where(check_text("location=x", SCHEMA, now=NOW), dialect="oracle")


@pytest.mark.parametrize("case", CASES, ids=[c["query"] for c in CASES])
def test_spark_placeholders_match_params(case):
    sql, params = compile_where(check_text(case["query"], SCHEMA, now=NOW), dialect="spark")
    assert "$" not in sql and '"v' not in sql
    holders = {int(n) for n in re.findall(r":p(\d+)\b", sql)}
    assert holders == set(range(1, len(params) + 1))
    assert list(named(params)) == [f"p{i}" for i in range(1, len(params) + 1)]


def test_spark_datetimes_are_bound_as_utc_micros():
    sql, params = compile_where(check_text("captured_at:2024-01-15T10:30:00+02:00", SCHEMA, now=NOW),
                                dialect="spark")
    assert sql == "(`v4` >= timestamp_micros(:p1) AND `v4` < timestamp_micros(:p2))"
    start = datetime(2024, 1, 15, 8, 30, tzinfo=timezone.utc)
    assert params == [int(start.timestamp() * 1_000_000), int(start.timestamp() * 1_000_000) + 1_000_000]


MARK = "Zq9"
_value = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12).map(lambda s: MARK + s + MARK)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["location:{v}", "location={v}", "location~{v}", "tag:{v}", "path:{v}", "{v}",
                        "-location:{v} OR tag={v}", "@or:{v}", "tag:[{v}, x*]"]), _value)
def test_user_values_never_reach_spark_sql(template_, value):
    sql, params = compile_where(check_text(template_.format(v=_q(value)), SCHEMA, now=NOW), dialect="spark")
    assert MARK.lower() not in sql.lower()
    assert {int(n) for n in re.findall(r":p(\d+)\b", sql)} == set(range(1, len(params) + 1))
