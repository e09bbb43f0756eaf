"""Undo of an import, history of an image, and manual edits — on real catalog files."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import write
from metastore import Catalog, MetastoreError, NotFoundError


def state(cat):
    return {p: {v.key: v.value for v in cat.show(p).values} for p in cat.search("").paths()}


def csv(rows: dict[str, dict[str, str]], keys: list[str]) -> str:
    lines = ["path," + ",".join(keys)]
    for path, vals in rows.items():
        lines.append(path + "," + ",".join(vals.get(k, "") for k in keys))
    return "\n".join(lines) + "\n"


KEYS = ["k0", "k1", "k2"]
cell = st.one_of(st.just(""), st.integers(-5, 5).map(str))
rows = st.dictionaries(st.sampled_from(["a.jpg", "b.jpg", "c.jpg", "d.jpg"]),
                       st.fixed_dictionaries({k: cell for k in KEYS}), min_size=1, max_size=4)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=rows, second=rows, strategy=st.sampled_from(["overwrite", "merge", "append", "merge-keep-user"]))
def test_undo_restores_every_value_exactly(tmp_path_factory, first, second, strategy):
    tmp = tmp_path_factory.mktemp("undo")
    cat = Catalog(tmp / "c.duckdb")
    cat.import_files([write(tmp / "1.csv", csv(first, KEYS))], types={k: "number" for k in KEYS})
    before = state(cat)
    report = cat.import_files([write(tmp / "2.csv", csv(second, KEYS))], strategy=strategy)
    if report.import_id is not None:
        cat.undo(report.import_id)
    assert state(cat) == before


def test_undo_keeps_later_changes_to_other_keys_and_values(cat, tmp_path):
    a = cat.import_files([write(tmp_path / "a.csv", "path,k\nx.jpg,1\n")])
    b = cat.import_files([write(tmp_path / "b.csv", "path,k,j\nx.jpg,2,5\ny.jpg,3,\n")], strategy="overwrite")
    cat.import_files([write(tmp_path / "c.csv", "path,m\nx.jpg,7\n")])
    cat.set("y.jpg", {"k": "9"})
    r = cat.undo(b.import_id)
    assert (r.values_reverted, r.values_kept, r.images_removed) == (2, 1, 0)
    assert state(cat) == {"x.jpg": {"k": 1.0, "m": 7.0}, "y.jpg": {"k": 9.0}}
    assert [(e.key, e.old, e.new) for e in cat.history("x.jpg", "k")] == [("k", None, 1.0), ("k", 1.0, 2.0),
                                                                         ("k", 2.0, 1.0)]
    assert a.import_id == 1
    with pytest.raises(MetastoreError, match="already undone"):
        cat.undo(b.import_id)
    with pytest.raises(NotFoundError):
        cat.undo(99)


def test_undo_removes_images_the_import_added_that_hold_nothing_else(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,k\nx.jpg,1\n")])
    b = cat.import_files([write(tmp_path / "b.csv", "path,k\ny.jpg,2\nz.jpg,3\n")])
    cat.tag(["z.jpg"], add=["keep"])
    r = cat.undo(b.import_id)
    assert r.images_removed == 1 and cat.search("").paths() == ["x.jpg", "z.jpg"]


def test_set_auto_types_and_enforces_existing_types(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,score\nx.jpg,1\n")])
    assert cat.set("x.jpg", {"score": "2", "zip": "0042", "ok": "TRUE", "when": "2024-01-15"}) == 4
    vals = {v.key: (v.type, v.value, v.source_kind) for v in cat.show("x.jpg").values}
    assert vals["zip"] == ("string", "0042", "edit") and vals["ok"][:2] == ("boolean", True)
    assert vals["score"] == ("number", 2.0, "edit") and vals["when"][0] == "datetime"
    with pytest.raises(MetastoreError, match="key 'score': 'high' is not a number"):
        cat.set("x.jpg", {"score": "high"})
    with pytest.raises(NotFoundError, match="no image 'nope.jpg'"):
        cat.set("nope.jpg", {"score": "1"})
    assert cat.set("x.jpg", {"score": "2"}) == 0  # same value: no change, no history


def test_tags_by_path_and_by_query_with_history(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,score\nx.jpg,1\ny.jpg,5\n")])
    assert cat.tag(["x.jpg", "y.jpg"], add=["v2"]) == 2
    assert cat.tag(query="score>2", add=["high"], remove=["v2"]) == 1
    assert cat.search("tag:v2").paths() == ["x.jpg"] and cat.search("tag:high").paths() == ["y.jpg"]
    assert [(e.key, e.old, e.new) for e in cat.history("y.jpg", "tags")] == [
        ("tags", [], ["v2"]), ("tags", ["v2"], ["high"])]


def test_locked_fields_are_left_alone_by_imports_and_edits(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,status\nx.jpg,ok\n")], types={"status": "enum"})
    cat.declare_field("status", "enum", locked=True)
    report = cat.import_files([write(tmp_path / "b.csv", "path,status,n\nx.jpg,bad,1\n")])
    assert "key 'status' is locked" in str(report.column_issues[0])
    assert {v.key: v.value for v in cat.show("x.jpg").values} == {"status": "ok", "n": 1.0}
    with pytest.raises(MetastoreError, match="locked"):
        cat.set("x.jpg", {"status": "bad"})


def test_retype_to_string_is_lossless(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,n,when\nx.jpg,95,2024-01-15T10:30:00Z\ny.jpg,2.5,\n")])
    cat.retype_field("n", "string")
    cat.retype_field("when", "string")
    assert state(cat) == {"x.jpg": {"n": "95", "when": "2024-01-15T10:30:00Z"}, "y.jpg": {"n": "2.5"}}
    assert cat.search("n:95").paths() == ["x.jpg"]
