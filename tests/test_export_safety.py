"""Export safety beyond tests/test_export.py (which covers '..', absolute paths, symlinked folders
inside --out and the source tree): media files that are symlinks leading out of --media-root, and
names that collide on case-insensitive file systems. Both are refused before anything is written."""

from __future__ import annotations

import os

import pytest

from helpers import write
from metastore import Catalog, ExportError


@pytest.fixture
def setup(tmp_path):
    src = tmp_path / "src"
    write(tmp_path / "secret" / "key.txt", "secret")
    write(src / "img" / "a.jpg", "a")
    write(src / "inner.jpg", "inner")
    os.symlink(tmp_path / "secret" / "key.txt", src / "img" / "leak.jpg")
    os.symlink(tmp_path / "secret", src / "linkdir")
    os.symlink(src / "inner.jpg", src / "img" / "ok-link.jpg")  # a link that stays inside: fine
    cat = Catalog(tmp_path / "c.duckdb")
    rows = ["img/a.jpg,1", "img/leak.jpg,2", "linkdir/key.txt,3", "img/ok-link.jpg,4", "img/A.jpg,5",
            "img/caf\u00e9.jpg,6", "img/cafe\u0301.jpg,7"]
    cat.import_files([write(tmp_path / "m.csv", "path,k\n" + "\n".join(rows) + "\n")])
    return cat, src, tmp_path


@pytest.mark.parametrize("query", ["k:2", "k:3"], ids=["symlinked-file", "symlinked-folder"])
@pytest.mark.parametrize("mode", ["copy", "symlink", "hardlink"])
def test_symlinks_leading_out_of_the_media_root_are_refused(setup, query, mode):
    cat, src, tmp = setup
    with pytest.raises(ExportError, match="symlink leading out of --media-root"):
        cat.export(query, tmp / "out", media=mode, media_root=src)
    assert not (tmp / "out").exists()
    assert "secret" not in "".join(p.read_text() for p in tmp.rglob("*") if p.is_file() and "out" in p.parts)


def test_symlinks_inside_the_media_root_are_fine(setup):
    cat, src, tmp = setup
    rep = cat.export("k:1 OR k:4", tmp / "out", media="copy", media_root=src)
    assert rep.placed == 2 and (tmp / "out" / "media" / "img" / "ok-link.jpg").read_text() == "inner"


@pytest.mark.parametrize("query", ["k:1 OR k:5", "k:6 OR k:7"], ids=["case", "unicode-form"])
def test_names_colliding_on_case_insensitive_file_systems_are_refused(setup, query):
    cat, src, tmp = setup
    write(src / "img" / "A.jpg", "A")
    write(src / "img" / "caf\u00e9.jpg", "nfc")
    write(src / "img" / "cafe\u0301.jpg", "nfd")
    with pytest.raises(ExportError, match="differ only in case or Unicode form"):
        cat.export(query, tmp / "out", media="copy", media_root=src)
    assert not (tmp / "out").exists()
    cat.export(query, tmp / "manifest-only", format="paths")  # without media, no files collide
    assert len((tmp / "manifest-only" / "manifest.paths").read_text().splitlines()) == 2


def test_cli_refusal_is_one_message(setup, run_cli):
    cat, src, tmp = setup
    r = run_cli("export", "k:2", "--out", tmp / "o", "--media", "copy", "--media-root", src, db=cat.path)
    assert r.returncode == 1 and r.stdout == "" and "symlink leading out" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp / "o").exists()
