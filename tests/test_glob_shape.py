"""Globs compiled by shape (prefix / suffix / contains / LIKE) give exactly LIKE's results.

The reference is the LIKE … ESCAPE pattern every glob compiled to before (``like_pattern``), run
by DuckDB on the same values; the text under test is what the compiler writes for the glob's
shape. Values and glob parts are drawn from an alphabet of LIKE's and the query language's
specials (``%``, ``_``, ``\\``, ``?``), case pairs and a non-ASCII letter.
"""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metastore.query.checker import glob_op, like_pattern
from metastore.query.compiler import OPERATORS, compile_where

ALPHABET = "aAbB%_\\?/-éÉ"
TEXT = st.text(alphabet=ALPHABET, max_size=6)
PARTS = st.lists(st.text(alphabet=ALPHABET, max_size=3), min_size=2, max_size=4)


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    yield c
    c.close()


def _matches(con, values, sql, params):
    con.execute("CREATE OR REPLACE TEMP TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    rows = con.execute(f'SELECT i FROM t AS images("i", "v1") WHERE {sql} ORDER BY i', params).fetchall()
    return [r[0] for r in rows]


def _shape_sql(parts, ci, substring):
    op, args = glob_op(parts, ci=ci, substring=substring)
    template = OPERATORS[op].sql("duckdb")
    return template.format(*(f"${i + 1}" for i in range(len(args))), c='"v1"'), list(args), op


def _like_sql(parts, ci, substring):
    pat = like_pattern(parts, lower=ci, substring=substring)
    col = 'lower("v1")' if ci else '"v1"'
    return f"{col} LIKE $1 ESCAPE '\\'", [pat]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=PARTS, values=st.lists(TEXT, min_size=1, max_size=12), ci=st.booleans(),
       substring=st.booleans())
def test_glob_by_shape_equals_like(con, parts, values, ci, substring):
    # a value built from the parts themselves, so matches are common, not only misses
    values = values + ["".join(parts), "x".join(parts).upper(), None]
    sql, params, op = _shape_sql(parts, ci, substring)
    ref_sql, ref_params = _like_sql(parts, ci, substring)
    assert _matches(con, values, sql, params) == _matches(con, values, ref_sql, ref_params), (op, sql, params)


@pytest.mark.parametrize("parts, ci, substring, op", [
    (["ab", ""], True, False, "prefix_ci"),
    (["", "ab"], False, False, "suffix"),
    (["", "a%b", ""], True, False, "contains_ci"),
    (["a_b"], True, True, "contains_ci"),
    (["a", "", ""], False, False, "prefix"),
    (["a", "b"], False, False, "like"),
    (["", "a", "b", ""], True, False, "like_ci"),
    (["a_", "b"], False, False, "glob"),
    (["a\\", "b"], True, False, "glob_ci"),
    (["a", "b"], True, True, "like_ci"),
])
def test_glob_shape_is_chosen(parts, ci, substring, op):
    assert glob_op(parts, ci=ci, substring=substring)[0] == op


def test_query_uses_starts_with_not_like():
    from oracle import SCHEMA, NOW
    from metastore.query import check_text

    sql, params = compile_where(check_text("location:Dock-*", SCHEMA, now=NOW))
    assert "starts_with(lower(" in sql and "LIKE" not in sql and params == ["dock-"]


WIDE = "aAbBkK%_\\?/-éÉİıßẞKΣσς \u0130\u212a"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.text(alphabet=WIDE, max_size=6), min_size=1, max_size=8),
       needle=st.text(alphabet=WIDE, max_size=3))
def test_ilike_contains_is_contains_of_lower(con, values, needle):
    """``ilike_contains`` (chosen for ASCII needles without % or _) matches exactly what
    ``contains_ci`` (``contains(lower(c), needle)``) matches, non-ASCII text included."""
    from metastore.query.checker import contains_ci_op

    needle = needle.lower()
    op = contains_ci_op(needle)
    fast = OPERATORS[op].sql("duckdb").format("$2", c="v")
    ref = OPERATORS["contains_ci"].sql("duckdb").format("$2", c="v")
    rows = con.execute(f"SELECT v, {fast}, {ref} FROM unnest($1::VARCHAR[]) AS t(v)", [values, needle]).fetchall()
    assert all(a == b for _, a, b in rows), rows
    assert op == ("ilike_contains" if needle.isascii() and not set(needle) & {"%", "_"} else "contains_ci")
