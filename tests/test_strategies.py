"""The five update strategies as a table of cases, each on a real catalog file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import write
from metastore import Catalog

CASES = json.loads((Path(__file__).parent / "cases" / "strategies.json").read_text())["cases"]


def _id(c):
    return f"{c['strategy']}-{c['source']}-{c['incoming'] or 'empty'}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_strategy(case, tmp_path):
    cat = Catalog(tmp_path / "c.duckdb")
    if case["source"] == "none":
        cat.import_files([write(tmp_path / "0.csv", "path,other\na.jpg,x\n")])
    else:
        cat.import_files([write(tmp_path / "0.csv", "path,k,other\na.jpg,1,x\n")])
    if case["source"] == "edit":
        cat.import_files([write(tmp_path / "1.csv", "path,k\na.jpg,0\n")])  # k from an import first…
        cat.set("a.jpg", {"k": "1"})  # …then by hand
    if case["source"] == "edit-other":
        cat.set("a.jpg", {"other": "y"})
    report = cat.import_files([write(tmp_path / "in.csv", f"path,k\na.jpg,{case['incoming']}\n")],
                              strategy=case["strategy"])
    got = {v.key: v.value for v in cat.show("a.jpg").values}
    assert got.get("k") == case["k"]
    assert got.get("other") == case["other"]
    with cat.reading() as con:
        rows = con.execute(
            "SELECT f.name, h.old_value, h.new_value FROM history h JOIN fields f ON f.id = h.field_id "
            "WHERE h.source_id = ? ORDER BY f.name", [report.import_id]).fetchall()
    assert [[k, json.loads(o), None if n is None else json.loads(n)] for k, o, n in rows] == case["history"]


def test_merge_keep_user_never_overwrites_a_hand_edit_even_after_more_imports(tmp_path):
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([write(tmp_path / "0.csv", "path,k\na.jpg,1\n")])
    cat.set("a.jpg", {"k": "5"})
    for i in range(3):
        cat.import_files([write(tmp_path / f"{i}.csv", f"path,k\na.jpg,{10 + i}\n")], strategy="merge-keep-user")
    assert cat.show("a.jpg").values[0].value == 5.0


def test_no_strategy_destroys_history(tmp_path):
    """Whatever sequence of strategies runs, every value ever stored can be found in history."""
    cat = Catalog(tmp_path / "c.duckdb")
    seen = set()
    for i, strategy in enumerate(["merge", "overwrite", "merge-keep-user", "until-first-change", "append",
                                  "overwrite", "merge"]):
        cat.import_files([write(tmp_path / f"{i}.csv", f"path,k,o{i % 2}\na.jpg,{i},v{i}\n")], strategy=strategy)
        seen |= {(v.key, v.value) for v in cat.show("a.jpg").values}
    recorded = {(e.key, e.new) for e in cat.history("a.jpg")} | {(e.key, e.old) for e in cat.history("a.jpg")}
    assert seen <= recorded
