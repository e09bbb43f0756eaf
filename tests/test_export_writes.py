"""How export writes its files (issue 14, defects 1, 7, 8 and 13): never through a symlink, under
temporary names renamed at the end with ``export.json`` last (so an interrupted export is
recognisable and a re-run says so), a catalog key named like the split column refused with a fix,
and a folder that cannot be created or written reported as one message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import write
from metastore import Catalog, ExportError, UsageError

FORMATS = ["csv", "jsonl", "json", "parquet", "paths"]


@pytest.fixture
def cat(tmp_path):
    c = Catalog(tmp_path / "c.duckdb")
    rows = "\n".join(f"img/{i:03d}.jpg,{i},{'ab'[i % 2]}" for i in range(20))
    c.import_files([write(tmp_path / "m.csv", f"path,score,split\n{rows}\n")])
    return c


@pytest.mark.parametrize("fmt", FORMATS)
def test_force_never_writes_through_a_symlink(cat, tmp_path, fmt):
    """Defect 1: out/manifest.* and out/export.json linked to the catalog (and to another file):
    --force replaces the links themselves; the files they point at are untouched."""
    out = tmp_path / "out"
    cat.export("", out, format=fmt, split="train=0.5,val=0.5")
    victim = tmp_path / "victim.txt"
    write(victim, "keep me")
    before = cat.path.read_bytes()
    targets = {f"manifest.{fmt}": cat.path, "export.json": victim}
    if fmt == "paths":
        targets["manifest.train.paths"] = victim
    for name, target in targets.items():
        (out / name).unlink()
        os.symlink(target, out / name)
    rep = cat.export("", out, format=fmt, split="train=0.5,val=0.5", force=True)
    assert cat.path.read_bytes() == before
    assert victim.read_text() == "keep me"
    for name in targets:
        assert not (out / name).is_symlink()
    assert rep.rows == 20 and json.loads((out / "export.json").read_text())["counts"]["rows"] == 20
    assert cat.count("") == 20  # the catalog still opens


def test_no_temporary_files_are_left(cat, tmp_path):
    out = tmp_path / "out"
    cat.export("", out, format="paths", split="train=0.5,val=0.5")
    assert sorted(p.name for p in out.iterdir()) == ["export.json", "manifest.paths", "manifest.train.paths",
                                                    "manifest.val.paths"]


_INTERRUPT = r"""
import os, sys
from metastore import Catalog
import metastore.export_files as ef
real = ef.publish
def boom(*a, **k):
    os._exit(9)  # killed between writing the files and publishing them
ef.publish = boom
Catalog(sys.argv[1]).export("", sys.argv[2], format=sys.argv[3], force=True)
"""


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_interrupted_export_is_recognisable_and_rerun_says_so(cat, tmp_path, fmt, run_cli):
    """Defect 8: a kill before the end leaves no complete-looking manifest and no export.json;
    re-running without --force names the interrupted export; with --force it completes."""
    out = tmp_path / "out"
    cat.export("score<5", out, format=fmt)  # an earlier, complete export in the same folder
    r = subprocess.run([sys.executable, "-c", _INTERRUPT, str(cat.path), str(out), fmt], capture_output=True, text=True)
    assert r.returncode == 9, r.stderr
    assert not (out / "export.json").exists()  # the old record went first: nothing claims to be complete
    r = run_cli("export", "", "--out", out, "--format", fmt, db=cat.path)
    assert r.returncode == 1 and "interrupted export" in r.stderr and "--force" in r.stderr, r.stderr
    rep = cat.export("", out, format=fmt, force=True)
    assert rep.rows == 20 and (out / "export.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_split_key_collision_is_refused_with_the_fix(cat, tmp_path):
    """Defect 7: a catalog key named 'split' exported with --split."""
    for fmt in FORMATS:
        with pytest.raises(UsageError, match="--split-column") as e:
            cat.export("", tmp_path / f"o-{fmt}", format=fmt, columns=["split"], split="train=0.5,val=0.5")
        assert "'split'" in str(e.value)
        assert not (tmp_path / f"o-{fmt}").exists()
    rep = cat.export("", tmp_path / "o", format="jsonl", columns=["split"], split="train=0.5,val=0.5",
                     split_column="subset")
    rows = [json.loads(line) for line in (tmp_path / "o" / "manifest.jsonl").read_text().splitlines()]
    assert rep.rows == 20 and {r["split"] for r in rows} == {"a", "b"} and {r["subset"] for r in rows} == {"train", "val"}
    again = cat.export_from(tmp_path / "o", tmp_path / "o2")
    assert (tmp_path / "o2" / "manifest.jsonl").read_text() == (tmp_path / "o" / "manifest.jsonl").read_text()
    assert not again.warnings
    with pytest.raises(UsageError, match="--split-column"):
        cat.export("", tmp_path / "o3", split="train=0.5,val=0.5", split_column="path")


def test_split_column_on_the_cli(cat, tmp_path, run_cli):
    r = run_cli("export", "", "--out", tmp_path / "o", "-c", "split", "--split", "a=0.5,b=0.5", db=cat.path)
    assert r.returncode == 2 and "--split-column" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = run_cli("export", "", "--out", tmp_path / "o", "-c", "split", "--split", "a=0.5,b=0.5",
                "--split-column", "subset", db=cat.path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "manifest.csv").read_text().splitlines()[0] == "path,media_id,split,subset"


def test_out_that_cannot_be_created_is_one_message(cat, tmp_path, run_cli):
    """Defect 13: --out under a file, and --out in a read-only folder."""
    write(tmp_path / "afile", "x")
    r = run_cli("export", "", "--out", tmp_path / "afile" / "sub", db=cat.path)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "cannot create --out" in r.stderr, r.stderr
    with pytest.raises(ExportError, match="cannot create --out"):
        cat.export("", tmp_path / "afile" / "sub")


def test_out_that_cannot_be_written_is_one_message(cat, tmp_path, readonly_dir):
    """Defect 13: a read-only --out (a read-only bind mount: root ignores permission bits)."""
    out = tmp_path / "ro"
    out.mkdir()
    with readonly_dir(out):
        with pytest.raises(ExportError, match="cannot write"):
            cat.export("", out, force=True)
    assert list(out.iterdir()) == []


def test_disk_full_during_export_leaves_no_manifest(cat, tmp_path, small_fs):
    """Defect 13: disk full while writing: one message, no truncated manifest, no export.json."""
    big = Catalog(tmp_path / "big.duckdb")
    rows = "\n".join(f"img/{'x' * 200}/{i:06d}.jpg,{i}" for i in range(3000))
    big.import_files([write(tmp_path / "big.csv", f"path,score\n{rows}\n")])
    out = small_fs(256 * 1024) / "out"
    with pytest.raises(ExportError, match="No space left|cannot write"):
        big.export("", out, format="csv")
    assert not (out / "manifest.csv").exists() and not (out / "export.json").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("damage", [
    lambda r: r.pop("now"), lambda r: r.update(now="yesterday"), lambda r: r.update(now=5),
    lambda r: r.update(options=None), lambda r: r.update(options=[1]), lambda r: r["options"].update(columns="a,b"),
    lambda r: r["options"].update(columns=[1]), lambda r: r["options"].update(sample="ten"),
    lambda r: r["options"].update(limit=True), lambda r: r.update(seed="7"), lambda r: r.update(query=["x"]),
    lambda r: r.update(counts=[]), lambda r: r.update(timezone=3),
], ids=["no-now", "bad-now", "number-now", "null-options", "list-options", "columns-text", "columns-numbers",
        "sample-text", "limit-bool", "seed-text", "query-list", "counts-list", "timezone-number"])
def test_export_from_a_damaged_record_is_one_message(cat, tmp_path, damage, run_cli):
    """Defect 17 (second half): `export --from` with a damaged export.json."""
    cat.export("", tmp_path / "o")
    record = json.loads((tmp_path / "o" / "export.json").read_text())
    damage(record)
    write(tmp_path / "o" / "export.json", json.dumps(record))
    r = run_cli("export", "--from", tmp_path / "o", "--out", tmp_path / "o2", db=cat.path)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "damaged" in r.stderr, r.stderr
    assert not (tmp_path / "o2").exists()
