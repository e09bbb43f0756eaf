"""`metastore fields retype KEY TYPE` to any type: checks every value (and the key's history) first,
changes nothing if one fails (listing them), is a change of its own in history, and undo reverts it
with the exact old texts."""

from __future__ import annotations

from datetime import datetime

import pytest

from helpers import write
from metastore.store.retype import RetypeRefused
from realdata import realdata


def vals(cat, path):
    return {v.key: v.value for v in cat.show(path).values}


def snapshot(cat):
    with cat.reading() as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ("images", "fields", "history", "sources")}


def test_string_to_enum_number_datetime_boolean(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,dx,n,when,ok\na.jpg,mel,5.0,x2024-01-02,yes\nb.jpg,nv,007,x2024-02-03,no\n")
    cat.import_files([f], types={"dx": "string", "n": "string", "when": "string", "ok": "string"})
    cat.set("a.jpg", [("when", "2024-01-02 10:00 UTC")])
    cat.set("b.jpg", [("when", "2024-02-03")])
    assert cat.retype_field("dx", "enum").field.options == ("mel", "nv")
    assert cat.retype_field("n", "number").values == 2
    assert cat.retype_field("ok", "boolean").field.type == "boolean"
    # history holds 'x2024-01-02' (the imported values): not datetimes, so nothing changes
    with pytest.raises(RetypeRefused) as exc:
        cat.retype_field("when", "datetime")
    assert "2 values in its history" in exc.value.message and "x2024-01-02" in exc.value.help
    v = vals(cat, "a.jpg")
    assert v["dx"] == "mel" and v["n"] == 5 and v["ok"] is True and v["when"] == "2024-01-02 10:00 UTC"
    assert cat.search("dx:mel n>4 ok:true").paths() == ["a.jpg"]
    assert vals(cat, "b.jpg")["n"] == 7


def test_a_value_that_does_not_fit_changes_nothing_and_is_listed(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,age\na.jpg,80\nb.jpg,unknown\nc.jpg,45\n")
    cat.import_files([f])
    before = snapshot(cat)
    with pytest.raises(RetypeRefused) as exc:
        cat.retype_field("age", "number")
    assert exc.value.message == ("cannot retype 'age' to number: 1 of 3 values is not readable as number "
                                 "(each is not a number); nothing changed")
    assert "b.jpg: 'unknown'" in exc.value.help
    assert snapshot(cat) == before


def test_ham10000_dx_string_to_enum_and_back(cat):
    src = realdata("HAM10000_metadata.csv")
    cat.import_files([src], path_template="{image_id}.jpg")
    r = cat.retype_field("dx", "enum")
    assert r.field.type == "enum" and set(r.field.options) == {"akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"}
    assert cat.count("dx:mel") == sum(1 for line in src.read_text().splitlines()[1:] if line.split(",")[2] == "mel")
    # the import error for --type dx=enum on an existing string key points to retype
    cat.retype_field("dx", "string")
    report = cat.import_files([src], path_template="{image_id}.jpg", types={"dx": "enum"})
    assert any("metastore fields retype dx enum" in str(i) for i in report.column_issues)


def test_retype_is_recorded_and_undo_gives_back_the_exact_text(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,n\na.jpg,5.0\nb.jpg,007\nc.jpg,12\n")
    cat.import_files([f], types={"n": "string"})
    before = {p: vals(cat, p)["n"] for p in ("a.jpg", "b.jpg", "c.jpg")}
    r = cat.retype_field("n", "number")
    assert vals(cat, "a.jpg")["n"] == 5 and vals(cat, "b.jpg")["n"] == 7
    rec = [s for s in snapshot(cat)["sources"] if s[1] == "retype"]
    assert rec and rec[0][0] == r.source_id and rec[0][3] == "n: string → number"
    cat.set("c.jpg", [("n", "13")])  # changed after the retype: stays
    u = cat.undo(r.source_id)
    assert u.type == "string" and u.respelled == 2
    assert {p: vals(cat, p)["n"] for p in ("a.jpg", "b.jpg")} == {"a.jpg": "5.0", "b.jpg": "007"}
    assert vals(cat, "c.jpg")["n"] == "13" and cat.schema().get("n").type == "string"
    with pytest.raises(Exception, match="already undone"):
        cat.undo(r.source_id)
    assert cat.check().problems == []


def test_history_is_converted_and_undo_of_an_import_still_works_after_a_retype(cat, tmp_path):
    a = cat.import_files([write(tmp_path / "a.csv", "path,n\nx.jpg,1\n")], types={"n": "string"})
    b = cat.import_files([write(tmp_path / "b.csv", "path,n\nx.jpg,2\n")])
    cat.retype_field("n", "number")
    cat.undo(b.import_id)
    assert vals(cat, "x.jpg")["n"] == 1
    assert cat.check().problems == []
    assert a.import_id == 1


def test_cli_retype_lists_misfits_and_exits_1(run_cli, tmp_path):
    write(tmp_path / "m.csv", "path,when\na.jpg,2024-01-02\nb.jpg,soon\n")
    assert run_cli("import", "m.csv", "--type", "when=string").returncode == 0
    r = run_cli("fields", "retype", "when", "datetime")
    assert r.returncode == 1 and "b.jpg: 'soon'" in r.stderr and "Traceback" not in r.stderr
    run_cli("set", "b.jpg", "when=2024-03-04")
    r = run_cli("fields", "retype", "when", "datetime")
    assert r.returncode == 1 and "history" in r.stderr  # 'soon' is still in its history
    r = run_cli("fields", "retype", "when", "enum")
    assert r.returncode == 0 and "metastore undo" in r.stderr, r.stderr
    undo_id = r.stderr.split("metastore undo ")[1].split(")")[0]
    r = run_cli("undo", undo_id)
    assert r.returncode == 0 and "is a string again" in r.stdout


def test_undo_of_a_retype_gives_history_back_its_exact_text(cat, tmp_path):
    # History holds the key's values in its current type: the retype converts them ('5.0' -> 5),
    # and its undo must give them back exactly, as it does for current values.
    a = cat.import_files([write(tmp_path / "a.csv", "path,n\nx.jpg,5.0\ny.jpg,1e3\n")], types={"n": "string"})
    b = cat.import_files([write(tmp_path / "b.csv", "path,n\nx.jpg,007\ny.jpg,+2\n")])
    before = snapshot(cat)["history"]
    assert len(before) == 2
    r = cat.retype_field("n", "number")
    assert snapshot(cat)["history"] != before  # converted: 5, 7, 1000, 2
    u = cat.undo(r.source_id)
    assert u.type == "string"
    assert snapshot(cat)["history"] == before
    cat.undo(b.import_id)  # walking history back now gives the first import's very text
    assert vals(cat, "x.jpg")["n"] == "5.0" and vals(cat, "y.jpg")["n"] == "1e3"
    assert cat.check().problems == []
    assert a.import_id == 1
