"""Completion engine: a table of (partial query, cursor) → candidates, from tests/cases/complete.json.

The golden file holds a small catalog's CompletionStats and, per case, the context the grammar
reports, where the fragment starts, the hint, and the candidates as (text, description) pairs.
Regenerate after a deliberate change with ``UPDATE_GOLDEN=1 pytest tests/test_complete.py`` and
review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from metastore.query import parse
from metastore.query.complete import CompletionStats, complete, key_text, value_text

GOLDEN = Path(__file__).parent / "cases" / "complete.json"
DATA = json.loads(GOLDEN.read_text(encoding="utf-8"))
STATS = CompletionStats.from_dict(DATA["stats"])
CASES = DATA["cases"]


def _run(case: dict) -> dict:
    r = complete(case["query"], case.get("cursor"), STATS)
    return {"context": r.context, "start": r.start, "hint": r.hint,
            "candidates": [[c.text, c.meta] for c in r.candidates]}


def _id(case: dict) -> str:
    return (case["query"] or "<empty>") + ("" if case.get("cursor") is None else f"@{case['cursor']}")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_golden(case):
    got = _run(case)
    if os.environ.get("UPDATE_GOLDEN"):
        case.update(got)
        GOLDEN.write_text(json.dumps(DATA, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == {k: case[k] for k in got}, case.get("why")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_candidates_parse_and_keep_the_rest(case):
    """Every candidate, applied, leaves a query whose text before the fragment is untouched and
    that parses — or is an unfinished term (a key and operator waiting for a value)."""
    text, cursor = case["query"], case.get("cursor")
    r = complete(text, cursor, STATS)
    for c in r.candidates:
        new = text[:r.start] + c.text
        assert new.startswith(text[:r.start])
        if c.kind in ("value", "tag", "key") and not new.rstrip().endswith((":", "=", "~", ">", "<", "[", ",")):
            closed = new + ("]" if new.count("[") > new.count("]") else "") + ")" * (new.count("(") - new.count(")"))
            parse(closed)


def test_values_round_trip_through_the_parser():
    for value in ["dock a", "a)b", 'say "hi"', "x*y", "1..2", "/root", "", "back\\slash", "a,b", "[x]"]:
        node = parse("location:" + value_text(value))
        assert node.value.text == value, value
        item = parse(f"location:[{value_text(value, item=True)}]").value.items[0]
        assert item.text == value, value


def test_key_text():
    assert key_text("location") == "location"
    assert key_text("capture.gps.lat") == "capture.gps.lat"
    assert key_text("has") == "@has"
    assert key_text("Tag") == "@Tag"
    assert key_text("any key") == '@"any key"'
    assert key_text('a"b') == '@"a\\"b"'
    assert parse(key_text('a"b') + ":x").key.name == 'a"b'


def test_cursor_inside_the_query_uses_only_the_text_before_it():
    r = complete("location:warehouse-3 weather:rain", 11, STATS)
    assert r.context == "value" and r.fragment == "wa"


def test_query_package_does_no_io():
    import inspect

    import metastore.query.complete as m

    src = inspect.getsource(m)
    for banned in ("open(", "duckdb", "os.environ", "Path(", "subprocess"):
        assert banned not in src, banned
