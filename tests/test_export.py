"""Export: manifests, splits, samples, media placement, safety and reproducible records."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from metastore import Catalog, ExportError, UsageError
from metastore.export import assign_split, parse_split

CAMERAS = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]


def _write_csv(path: Path, rows: list[dict]) -> Path:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, keys)
        w.writeheader()
        w.writerows(rows)
    return path


def _rows(start: int, n: int) -> list[dict]:
    return [{"path": f"img/{CAMERAS[i % 8]}/{i:04d}.jpg", "camera_id": CAMERAS[i % 8] if i % 10 else "",
             "score": str(i % 100), "weather": ["rain", "sun", "fog"][i % 3]} for i in range(start, start + n)]


@pytest.fixture
def cat(tmp_path) -> Catalog:
    c = Catalog(tmp_path / "c.duckdb")
    c.import_files([_write_csv(tmp_path / "m.csv", _rows(0, 200))], types={"weather": "enum"})
    return c


@pytest.fixture
def media(tmp_path) -> Path:
    root = tmp_path / "src"
    for r in _rows(0, 200):
        f = root / r["path"]
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(r["path"].encode())
    return root


def _manifest(out: Path) -> list[dict]:
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _splits(out: Path) -> dict[str, str]:
    return {r["path"]: r["split"] for r in _manifest(out)}


# -- manifests ---------------------------------------------------------------------------------
def test_manifest_columns_and_formats(cat, tmp_path):
    rep = cat.export("weather:rain", tmp_path / "o", columns=["score", "weather"], split="train=0.8,val=0.2")
    rows = _manifest(tmp_path / "o")
    assert list(rows[0]) == ["path", "media_id", "score", "weather", "split"]
    assert rep.rows == len(rows) == cat.count("weather:rain")
    assert [r["path"] for r in rows] == sorted(r["path"] for r in rows)
    assert sum(s.count for s in rep.splits) == rep.rows
    for fmt in ("jsonl", "json", "parquet", "paths"):
        out = tmp_path / fmt
        cat.export("weather:rain", out, format=fmt, columns=["score"])
        assert (out / f"manifest.{fmt}").is_file() and (out / "export.json").is_file()
    lines = (tmp_path / "jsonl" / "manifest.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["score"] == int(rows[0]["score"])
    assert json.loads((tmp_path / "json" / "manifest.json").read_text())[0]["path"] == rows[0]["path"]
    assert (tmp_path / "paths" / "manifest.paths").read_text().splitlines() == [r["path"] for r in rows]


def test_parquet_types(cat, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    cat.export("", tmp_path / "o", format="parquet", columns=["score", "weather"], split="a=0.5,b=0.5")
    table = pq.read_table(tmp_path / "o" / "manifest.parquet")
    assert table.column_names == ["path", "media_id", "score", "weather", "split"]
    assert str(table.schema.field("score").type) == "double" and table.num_rows == 200


# -- splits and samples ------------------------------------------------------------------------
def test_split_is_deterministic_and_stable_when_the_catalog_grows(cat, tmp_path):
    cat.export("", tmp_path / "a", split="train=0.7,val=0.2,test=0.1", seed=5)
    cat.export("", tmp_path / "b", split="train=0.7,val=0.2,test=0.1", seed=5)
    first = _splits(tmp_path / "a")
    assert first == _splits(tmp_path / "b")
    assert set(first.values()) == {"train", "val", "test"}
    cat.import_files([_write_csv(tmp_path / "more.csv", _rows(200, 300))], types={"weather": "enum"})
    grown = cat.export("", tmp_path / "c", split="train=0.7,val=0.2,test=0.1", seed=5)
    after = _splits(tmp_path / "c")
    assert grown.rows == 500 and {p: after[p] for p in first} == first
    cat.export("", tmp_path / "d", split="train=0.7,val=0.2,test=0.1", seed=6)
    assert {p: s for p, s in _splits(tmp_path / "d").items() if p in first} != first


def test_split_ignores_limit_sort_and_query(cat, tmp_path):
    cat.export("", tmp_path / "all", split="train=0.5,val=0.5", seed=1)
    cat.export("weather:rain", tmp_path / "some", split="train=0.5,val=0.5", seed=1, sort="score:desc", limit=20)
    full, part = _splits(tmp_path / "all"), _splits(tmp_path / "some")
    assert len(part) == 20 and all(full[p] == s for p, s in part.items())


def test_group_by_never_splits_a_group(cat, tmp_path):
    rep = cat.export("", tmp_path / "o", columns=["camera_id"], split="train=0.5,val=0.3,test=0.2",
                     group_by="camera_id", seed=3)
    by_group: dict[str, set] = {}
    for r in _manifest(tmp_path / "o"):
        if r["camera_id"]:
            by_group.setdefault(r["camera_id"], set()).add(r["split"])
    assert len(by_group) == 8 and all(len(s) == 1 for s in by_group.values())
    assert len({next(iter(s)) for s in by_group.values()}) > 1
    assert sum(s.count for s in rep.splits) == 200
    # images without the key are each their own group, hashed by path
    missing = [r for r in _manifest(tmp_path / "o") if not r["camera_id"]]
    assert all(r["split"] == assign_split(parse_split("train=0.5,val=0.3,test=0.2"), 3, "p\x1f" + r["path"])
               for r in missing)


def test_sample_is_reproducible_and_seeded(cat, tmp_path):
    a = cat.export("", tmp_path / "a", sample=25, seed=9)
    cat.export("", tmp_path / "b", sample=25, seed=9)
    cat.export("", tmp_path / "c", sample=25, seed=10)
    pa, pb, pc = ([r["path"] for r in _manifest(tmp_path / x)] for x in "abc")
    assert a.rows == 25 and a.matched == 200 and pa == pb and pa != pc and pa == sorted(pa)
    sub = cat.export("weather:sun", tmp_path / "d", sample=1000, seed=9)
    assert sub.rows == cat.count("weather:sun")


@pytest.mark.parametrize("spec", ["train=0.8,val=0.1", "train", "train=x,val=1", "a=0.5,a=0.5", "a=0,b=1", "a b=1"])
def test_bad_split_is_a_usage_error(cat, tmp_path, spec):
    with pytest.raises(UsageError):
        cat.export("", tmp_path / "o", split=spec)
    assert not (tmp_path / "o").exists()


# -- media ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["copy", "symlink", "hardlink"])
def test_media_modes_make_the_right_file_type(cat, media, tmp_path, mode):
    rep = cat.export("score<5", tmp_path / "o", media=mode, media_root=media)
    assert rep.placed == rep.rows == 10
    for r in _manifest(tmp_path / "o"):
        dest, src = tmp_path / "o" / "media" / r["path"], media / r["path"]
        assert dest.read_bytes() == src.read_bytes()
        assert dest.is_symlink() == (mode == "symlink")
        if mode == "symlink":
            assert os.path.samefile(os.readlink(dest), src)
        same_inode = os.stat(dest).st_ino == os.stat(src).st_ino
        assert same_inode == (mode in ("symlink", "hardlink"))
        if mode == "copy":
            assert os.stat(dest).st_nlink == 1


def test_missing_sources_fail_before_writing(cat, media, tmp_path):
    (media / "img/c2/0001.jpg").unlink()
    (media / "img/c3/0002.jpg").unlink()
    with pytest.raises(ExportError, match="2 of 10 source files are missing") as exc:
        cat.export("score<5", tmp_path / "o", media="copy", media_root=media)
    assert "0001.jpg" in str(exc.value)
    assert not (tmp_path / "o").exists()
    rep = cat.export("score<5", tmp_path / "o", media="copy", media_root=media, skip_missing=True)
    assert rep.rows == rep.placed == 8 and sorted(rep.missing) == ["img/c2/0001.jpg", "img/c3/0002.jpg"]
    assert json.loads((tmp_path / "o" / "export.json").read_text())["counts"]["missing"] == 2


@pytest.mark.parametrize("bad", ["../evil.jpg", "img/../../evil.jpg", "/etc/evil.jpg"])
def test_paths_escaping_out_are_refused(tmp_path, bad):
    c = Catalog(tmp_path / "c.duckdb")
    c.import_files([_write_csv(tmp_path / "m.csv", [{"path": "ok.jpg", "k": "1"}, {"path": bad, "k": "2"}])])
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "ok.jpg").write_bytes(b"x")
    with pytest.raises(ExportError, match="escape"):
        c.export("", tmp_path / "o", media="copy", media_root=tmp_path / "src")
    assert not (tmp_path / "o").exists() and not (tmp_path / "evil.jpg").exists()
    c.export("", tmp_path / "o", format="paths")  # without media, any path is fine in a manifest
    assert bad in (tmp_path / "o" / "manifest.paths").read_text()


def test_symlinked_folder_leading_out_is_refused(cat, media, tmp_path):
    out, elsewhere = tmp_path / "o", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "media" / "img").mkdir(parents=True)
    os.symlink(elsewhere, out / "media" / "img" / "c1")
    with pytest.raises(ExportError, match="symlink leading out"):
        cat.export("score<5", out, media="copy", media_root=media, force=True)
    assert list(elsewhere.iterdir()) == []
    os.unlink(out / "media" / "img" / "c1")
    os.rmdir(out / "media" / "img")
    os.symlink(elsewhere, out / "media" / "img")
    with pytest.raises(ExportError, match="symlink leading out"):
        cat.export("score<5", out, media="copy", media_root=media, force=True)
    assert list(elsewhere.iterdir()) == []


def test_never_writes_into_the_source_tree(cat, media):
    with pytest.raises(ExportError, match="overlap"):
        cat.export("score<5", media / "export", media="copy", media_root=media)
    assert not (media / "export").exists()


def test_no_overwrite_without_force(cat, media, tmp_path):
    out = tmp_path / "o"
    cat.export("score<5", out, media="hardlink", media_root=media)
    with pytest.raises(ExportError, match="not empty"):
        cat.export("score<5", out, media="copy", media_root=media)
    # --force replaces the links with copies without writing through them into the sources
    before = {p: p.read_bytes() for p in media.rglob("*.jpg")}
    cat.export("score<5", out, media="copy", media_root=media, force=True)
    assert {p: p.read_bytes() for p in media.rglob("*.jpg")} == before
    dest = out / "media" / "img" / "c1" / "0000.jpg"
    assert os.stat(dest).st_nlink == 1
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is a file"):
        cat.export("", tmp_path / "file")


# -- records ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_from_reproduces_byte_identical_manifests(cat, media, tmp_path, fmt):
    cat.export("weather:rain OR weather:fog", tmp_path / "a", format=fmt, columns=["score", "camera_id"],
               split="train=0.8,val=0.2", group_by="camera_id", sample=50, seed=7, media="symlink",
               media_root=media)
    rep = cat.export_from(tmp_path / "a" / "export.json", tmp_path / "b")
    name = f"manifest.{fmt}"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert rep.warnings == [] and rep.placed == 50
    rec = json.loads((tmp_path / "a" / "export.json").read_text())
    assert rec["query"] == "weather:rain OR weather:fog" and rec["seed"] == 7
    assert rec["counts"]["rows"] == 50 and sum(s["count"] for s in rec["counts"]["splits"].values()) == 50
    assert rec["catalog"]["images"] == 200 and ["score", "number"] in rec["catalog"]["fields"]


def test_from_warns_when_the_catalog_changed(cat, tmp_path):
    cat.export("score<50", tmp_path / "a", split="train=0.5,val=0.5")
    cat.import_files([_write_csv(tmp_path / "more.csv", _rows(200, 50))], types={"weather": "enum"})
    rep = cat.export_from(tmp_path / "a", tmp_path / "b")
    assert any("catalog changed" in w for w in rep.warnings)
    assert any("differs" in w for w in rep.warnings)
    with pytest.raises(ExportError, match="no export record"):
        cat.export_from(tmp_path / "nowhere.json", tmp_path / "c")


# -- CLI ---------------------------------------------------------------------------------------------
def _cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("metastore")
    return subprocess.run([str(exe), "--db", "c.duckdb", *args], cwd=cwd, capture_output=True, text=True)


def test_cli_export_end_to_end(cat, media, tmp_path):
    r = _cli("export", "score<5", "--out", "o", "--media", "symlink", "--media-root", "src",
             "--split", "train=0.8,val=0.2", "--seed", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and "exported 10 images" in r.stderr and "train" in r.stderr
    assert (tmp_path / "o" / "media" / "img" / "c1" / "0000.jpg").is_symlink()
    r = _cli("export", "score<5", "--out", "o", cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == "" and "not empty" in r.stderr and "Traceback" not in r.stderr
    r = _cli("export", "--out", "p", "--from", "o/export.json", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "" and "warning" not in r.stderr
    assert (tmp_path / "o/manifest.csv").read_bytes() == (tmp_path / "p/manifest.csv").read_bytes()
    r = _cli("export", "", "--out", "q", "--split", "train=0.9", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "" and "add up to 0.9" in r.stderr
    assert not (tmp_path / "q").exists()
    r = _cli("export", "", "--out", "j", "--json", "--sample", "3", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["rows"] == 3
