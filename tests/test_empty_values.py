"""Empty strings: a JSON "" is a value (absent is not empty); an empty CSV cell is no value."""

from __future__ import annotations

import json

import pytest

from metastore.errors import MetastoreError

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


def test_json_empty_string_for_an_enum_key_is_a_cell_error_naming_the_fix(cat, tmp_path):
    # An enum option is a name to pick; "" is a value (not absent) but no name: the cell is an
    # error, the row's other values are written, and the message says how to keep or drop it.
    f = write(tmp_path / "m.jsonl", '{"path": "a.jpg", "dx": "", "ok": true}\n{"path": "b.jpg", "dx": "mel"}\n'
                                    '{"path": "c.jpg", "dx": "  "}\n')
    report = cat.import_files([f], types={"dx": "enum"})
    assert report.exit_code == 3 and report.cells_failed == 2
    why = ("is empty: an enum option needs a name (leave the key out for no value, or declare the key as "
           "string to keep empty texts)")
    assert [str(i) for i in report.row_issues] == [f"{f}, row 1, key 'dx': '' {why}",
                                                   f"{f}, row 3, key 'dx': '  ' {why}"]
    assert vals(cat, "a.jpg") == {"ok": True} and vals(cat, "b.jpg") == {"dx": "mel"}
    assert cat.schema().get("dx").options == ("mel",)
    # the same key, now existing, and `set`: the same rule
    again = cat.import_files([write(tmp_path / "n.json", '[{"path": "b.jpg", "dx": ""}]')])
    assert again.cells_failed == 1 and vals(cat, "b.jpg") == {"dx": "mel"}
    with pytest.raises(MetastoreError, match="is empty: an enum option needs a name"):
        cat.set("b.jpg", [("dx", "")])
    # as a string the empty text is kept
    cat.import_files([write(tmp_path / "s.json", '[{"path": "a.jpg", "note": ""}]')], types={"note": "string"})
    assert vals(cat, "a.jpg")["note"] == ""


def test_json_empty_string_for_a_multi_enum_key_is_no_value(cat, tmp_path):
    # A multi-enum cell is a list of options; "" lists none, like "," or [] (documented: no value).
    f = write(tmp_path / "m.jsonl", '{"path": "a.jpg", "tags2": ""}\n{"path": "b.jpg", "tags2": "x, y"}\n')
    report = cat.import_files([f], types={"tags2": "multi-enum"})
    assert report.exit_code == 0
    assert vals(cat, "a.jpg") == {} and vals(cat, "b.jpg") == {"tags2": ["x", "y"]}
