"""Listings scripts can read: `keys`, `values`, `show`, `imports`, `imports show`, `history` take
--json; piped output is never cut to a terminal width; `values` takes --query and shows (missing)."""

from __future__ import annotations

import json

import pytest

from helpers import write

LONG = "a-very-long-annotator-note-" + "x" * 150


@pytest.fixture
def catalog(run_cli, tmp_path):
    write(tmp_path / "m.csv", f"path,site,score,note\nimg/a.jpg,dock-a,5,{LONG}\nimg/b.jpg,dock-b,7,short\n"
                              f"img/c.jpg,dock-a,,\nimg/d.jpg,,9,\n")
    r = run_cli("import", "m.csv")
    assert r.returncode == 0, r.stderr
    run_cli("set", "img/a.jpg", "score=6")
    return run_cli


def test_piped_tables_are_never_cut(catalog):
    for args in (("show", "img/a.jpg"), ("keys",), ("values", "note"), ("history", "img/a.jpg"), ("imports",)):
        r = catalog(*args)
        assert r.returncode == 0, r.stderr
        if args[0] in ("show", "keys", "values", "history"):
            assert LONG in r.stdout, args  # whole, on one line
        assert all(len(line) < 100_000 for line in r.stdout.splitlines())
    assert any(line.rstrip().endswith("m.csv") or "m.csv" in line for line in catalog("imports").stdout.splitlines())


def test_json_listings(catalog):
    keys = json.loads(catalog("keys", "--json").stdout)
    assert {k["key"]: (k["type"], k["images"]) for k in keys} == {
        "site": ("string", 3), "score": ("number", 3), "note": ("string", 2)}
    show = json.loads(catalog("show", "img/a.jpg", "--json").stdout)
    assert show["path"] == "img/a.jpg" and {v["key"]: v["value"] for v in show["values"]} == {
        "site": "dock-a", "score": 6, "note": LONG}
    assert {v["key"]: v["source"] for v in show["values"]}["score"] == "edit"
    values = json.loads(catalog("values", "site", "--json").stdout)
    assert values == {"key": "site", "type": "string", "missing": 1,
                      "values": [{"value": "dock-a", "count": 2}, {"value": "dock-b", "count": 1}]}
    imports = json.loads(catalog("imports", "--json").stdout)
    assert [(i["id"], i["rows_read"], i["status"]) for i in imports] == [(1, 4, "ok")]
    record = json.loads(catalog("imports", "show", "1", "--json").stdout)
    assert record["id"] == 1 and record["errors"] == [] and record["options"]["strict"] is False
    history = json.loads(catalog("history", "img/a.jpg", "score", "--json").stdout)
    assert [(h["old"], h["new"]) for h in history][-1] == (5, 6)


def test_values_query_and_missing_row(catalog):
    r = catalog("values", "site", "--query", "score>=6")
    lines = [line.split() for line in r.stdout.splitlines()]
    assert lines == [["dock-a", "1"], ["dock-b", "1"], ["(missing)", "1"]]
    data = json.loads(catalog("values", "score", "-q", "site:dock-a", "--json").stdout)
    assert data["values"] == [{"value": 6, "count": 1}] and data["missing"] == 1
    r = catalog("values", "site", "--query", "score>>1")
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_import_errors_listed_in_json(run_cli, tmp_path):
    write(tmp_path / "m.csv", "path,score\na.jpg,1\nb.jpg,zz\n")
    assert run_cli("import", "m.csv", "--type", "score=number").returncode == 3
    record = json.loads(run_cli("imports", "show", "1", "--json").stdout)
    assert record["errors"] == [{"file": "m.csv", "row": 2, "key": "score", "value": "zz",
                                 "reason": "'zz' is not a number"}]
