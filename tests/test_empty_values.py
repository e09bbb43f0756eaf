"""Empty strings: a JSON "" is a value (absent is not empty); an empty CSV cell is no value."""

from __future__ import annotations

import json

from helpers import write


def vals(cat, path):
    return {v.key: v.value for v in cat.show(path).values}


def test_json_empty_string_is_a_value_and_a_missing_key_is_not(cat, tmp_path):
    f = write(tmp_path / "m.json", json.dumps([{"path": "a.jpg", "note": "", "k": "x"},
                                               {"path": "b.jpg", "k": "y", "note": None},
                                               {"path": "c.jpg", "note": "hi, \"quoted\"\nline", "k": ""}]))
    report = cat.import_files([f])
    assert report.exit_code == 0 and {k.key: k.values for k in report.keys} == {"note": 2, "k": 3}
    assert vals(cat, "a.jpg") == {"note": "", "k": "x"} and vals(cat, "b.jpg") == {"k": "y"}
    assert vals(cat, "c.jpg") == {"note": 'hi, "quoted"\nline', "k": ""}
    assert cat.search('note:""').paths() == ["a.jpg"]
    assert cat.search("no:note").paths() == ["b.jpg"]
    assert cat.search("has:note").paths() == ["a.jpg", "c.jpg"]


def test_csv_empty_cells_are_no_value(cat, tmp_path):
    f = write(tmp_path / "m.csv", 'path,a\nx.jpg,""\ny.jpg,\nz.jpg,v\n')
    cat.import_files([f])
    assert cat.search("no:a").paths() == ["x.jpg", "y.jpg"] and vals(cat, "z.jpg") == {"a": "v"}


def test_json_empty_string_for_a_number_key_is_a_cell_error(cat, tmp_path):
    f = write(tmp_path / "m.jsonl", '{"path": "a.jpg", "score": "", "ok": true}\n{"path": "b.jpg", "score": 3}\n')
    report = cat.import_files([f], types={"score": "number"})
    assert report.exit_code == 3 and report.cells_failed == 1
    assert [str(i) for i in report.row_issues] == [f"{f}, row 1, key 'score': '' is not a number"]
    assert vals(cat, "a.jpg") == {"ok": True}


def test_sidecar_empty_string_is_a_value(cat, tmp_path, monkeypatch):
    write(tmp_path / "d" / "a.jpg", b"x")
    write(tmp_path / "d" / "a.json", json.dumps({"caption": ""}))
    write(tmp_path / "d" / "b.jpg", b"x")
    monkeypatch.chdir(tmp_path)
    cat.import_files(["d"])
    assert vals(cat, "d/a.jpg") == {"caption": ""} and vals(cat, "d/b.jpg") == {}
