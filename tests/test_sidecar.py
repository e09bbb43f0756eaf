"""Sidecar folders on real files: nesting, nulls, limits, broken sidecars, unicode names,
unchanged and changed re-runs."""

from __future__ import annotations

import json
import os

from helpers import write
from metastore import Catalog
from metastore.readers.sidecar import MAX_SIDECAR_BYTES

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16  # content does not matter to the catalog


def folder(tmp_path):
    root = tmp_path / "data"
    write(root / "a" / "one.jpg", PNG)
    write(root / "a" / "one.json", json.dumps({"capture": {"gps": {"lat": 51.5, "lon": None}}, "lens": "wide"}))
    write(root / "a" / "b" / "two.png", PNG)
    write(root / "a" / "b" / "two.json", json.dumps({"lens": "tele", "score": 3}))
    write(root / "three.webp", PNG)  # no sidecar
    write(root / "café ☕.jpg", PNG)
    write(root / "café ☕.json", json.dumps({"lens": "macro"}))
    write(root / "notes.txt", "ignored")
    return root


def vals(cat, path):
    return {v.key: v.value for v in cat.show(path).values}


def test_folder_import_registers_images_and_flattens_sidecars(tmp_path, monkeypatch):
    root = folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    cat = Catalog(tmp_path / "c.duckdb")
    report = cat.import_files(["data"])
    assert report.exit_code == 0 and report.images_added == 4
    assert cat.search("").paths() == ["data/a/b/two.png", "data/a/one.jpg", "data/café ☕.jpg", "data/three.webp"]
    assert vals(cat, "data/a/one.jpg") == {"capture.gps.lat": 51.5, "lens": "wide"}  # null dropped
    assert vals(cat, "data/three.webp") == {}
    assert vals(cat, "data/café ☕.jpg") == {"lens": "macro"}
    assert root.exists()


def test_trailing_slash_and_dot_paths(tmp_path, monkeypatch):
    folder(tmp_path)
    monkeypatch.chdir(tmp_path / "data")
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files(["./"])
    assert "a/one.jpg" in cat.search("").paths()


def test_broken_sidecars_fail_only_their_image(tmp_path, monkeypatch):
    root = folder(tmp_path)
    write(root / "bad.jpg", PNG)
    write(root / "bad.json", "{not json")
    write(root / "list.jpg", PNG)
    write(root / "list.json", "[1, 2]")
    write(root / "big.jpg", PNG)
    write(root / "big.json", json.dumps({"x": "y" * MAX_SIDECAR_BYTES}))
    write(root / "orphan.json", "{}")
    monkeypatch.chdir(tmp_path)
    cat = Catalog(tmp_path / "c.duckdb")
    report = cat.import_files(["data"])
    problems = sorted(str(i) for i in report.row_issues)
    assert problems == [
        "data/bad.json: invalid JSON at line 1, column 2: Expecting property name enclosed in double quotes",
        f"data/big.json: sidecar is {os.path.getsize(root / 'big.json'):,} bytes; the limit is 262,144",
        "data/list.json: sidecar holds a JSON list, not an object",
    ]
    assert report.exit_code == 3 and report.images_added == 4
    assert report.orphan_sidecars == ["data/orphan.json"]
    assert "data/bad.jpg" not in cat.search("").paths()
    # Fix one sidecar: the next run reads only it, and registers it.
    write(root / "bad.json", '{"lens": "fixed"}')
    again = cat.import_files(["data"])
    assert again.rows_read == 3  # bad (fixed) + the two still broken; the others are unchanged
    assert vals(cat, "data/bad.jpg") == {"lens": "fixed"}


def test_unchanged_rerun_writes_nothing(tmp_path, monkeypatch):
    folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files(["data"])
    before = os.path.getmtime(tmp_path / "c.duckdb"), cat.imports()
    report = cat.import_files(["data"])
    assert report.rows_read == 0 and report.unchanged_files == 4 and report.import_id is None
    assert cat.imports() == before[1]


def test_changed_sidecar_updates_only_that_image(tmp_path, monkeypatch):
    root = folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files(["data"])
    write(root / "a" / "b" / "two.json", json.dumps({"lens": "zoom", "score": 3}))
    os.utime(root / "a" / "b" / "two.json", ns=(1, 2_000_000_000_000_000_000))
    report = cat.import_files(["data"])
    assert (report.rows_read, report.rows_written, report.values_changed) == (1, 1, 1)
    assert vals(cat, "data/a/b/two.png") == {"lens": "zoom", "score": 3.0}
    history = [(e.key, e.old, e.new) for e in cat.history("data/a/b/two.png") if e.old is not None]
    assert history == [("lens", "tele", "zoom")]


def test_new_sidecar_for_an_image_without_one(tmp_path, monkeypatch):
    root = folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files(["data"])
    write(root / "three.json", json.dumps({"lens": "new"}))
    assert cat.import_files(["data"]).rows_read == 1
    assert vals(cat, "data/three.webp") == {"lens": "new"}


def test_undo_of_a_folder_import_lets_the_next_run_read_again(tmp_path, monkeypatch):
    folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    cat = Catalog(tmp_path / "c.duckdb")
    first = cat.import_files(["data"])
    cat.undo(first.import_id)
    assert cat.search("").paths() == []
    assert cat.import_files(["data"]).images_added == 4
