"""Images are stored in path order (issue 15: a page's ``ORDER BY path LIMIT n`` skips row groups),
and ``metastore optimize`` puts a catalog made before that in order without changing anything a
user can see: the same rows, ids, values, sources, history, search results and undo."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import replace

import duckdb
import pytest
from helpers import write

from metastore import Catalog
from metastore.store.reorder import out_of_order


def _csv(path, paths, seed):
    rnd = random.Random(seed)
    lines = ["path,temperature,location,note"]
    for p in paths:
        lines.append(f"{p},{rnd.randint(-20, 40)},{rnd.choice(['dock-a', 'dock-b', 'yard'])},n{rnd.randint(0, 9)}")
    return write(path, "\n".join(lines) + "\n")


def _paths(rnd, n, prefix):
    out = [f"{prefix}/{rnd.choice('abcdefgh')}/{rnd.randint(0, 10**6):07d}.jpg" for _ in range(n)]
    out = list(dict.fromkeys(out))
    rnd.shuffle(out)  # files list images in any order: a folder walk, a labelling tool's export
    return out


def _stored(db):
    """(import id, path) of every image, in the order the table stores them (rowid)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT src, path FROM images ORDER BY rowid").fetchall()
    finally:
        con.close()


def test_each_import_stores_its_new_images_in_path_order(tmp_path):
    rnd = random.Random(7)
    first = _paths(rnd, 400, "img")
    # the second import overlaps the first one's paths (updates) and adds new ones between them
    second = rnd.sample(first, 50) + _paths(rnd, 300, "img")
    rnd.shuffle(second)
    third = _paths(rnd, 200, "img")
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([_csv(tmp_path / "a.csv", first, 1)])
    cat.import_files([_csv(tmp_path / "b.csv", second, 2)])
    write(tmp_path / "c.jsonl", "".join(json.dumps({"path": p, "temperature": 1}) + "\n" for p in third))
    cat.import_files([tmp_path / "c.jsonl"])
    cat.close()

    stored = _stored(tmp_path / "c.duckdb")
    runs = [[p for s, p in stored if s == sid] for sid in (1, 2, 3)]
    assert [len(r) for r in runs] == [len(first), len(set(second) - set(first)), len(third)]
    # one sorted run per import, appended in import order
    assert [s for s, _ in stored] == sorted(s for s, _ in stored)
    for run in runs:
        assert run == sorted(run)
    # the import order of the files is not what is stored
    assert runs[0] != first


def test_an_import_whose_paths_share_their_first_8_bytes_is_not_sorted(tmp_path):
    """DuckDB keeps 8 bytes of a string in a row group's statistics: when every path starts with
    the same 8 bytes the order prunes nothing, so the import skips the sort (its rows stay in the
    file's order) — and still sorts when the paths differ within those bytes."""
    rnd = random.Random(11)
    shared = _paths(rnd, 300, "datasets/coco")
    differ = _paths(rnd, 300, "img")
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([_csv(tmp_path / "a.csv", shared, 1)])
    cat.import_files([_csv(tmp_path / "b.csv", differ, 2)])
    cat.close()
    stored = _stored(tmp_path / "c.duckdb")
    assert [p for s, p in stored if s == 1] == shared  # file order
    assert [p for s, p in stored if s == 2] == sorted(differ)


def _scramble(db, seed=3):
    """Store the images in a random order, as a catalog made before imports sorted them."""
    con = duckdb.connect(str(db))
    try:
        con.execute(f"CREATE TABLE shuffled AS SELECT * FROM images ORDER BY hash(path || '{seed}')")
        con.execute("DROP TABLE images")
        con.execute("ALTER TABLE shuffled RENAME TO images")
    finally:
        con.close()


def _tables(db, *, times=True) -> dict:
    """Everything the catalog holds, in a canonical order (images by id; history per change and
    image as written: one change writes its rows in the order it scans images); without the
    times of changes when ``times`` is false."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {"columns": con.execute(
            "SELECT table_name, column_name, data_type, ordinal_position FROM information_schema.columns "
            "WHERE table_catalog = current_database() ORDER BY table_name, ordinal_position").fetchall()}
        for table, order in [("images", "id"), ("history", "source_id, image_id, field_id, rowid"), ("sources", "id"), ("fields", "id"),
                             ("meta", "key"), ("import_errors", "rowid"), ("files", "rowid")]:
            cols = "* EXCLUDE (ts)" if not times and table in ("history", "sources") else "*"
            out[table] = con.execute(f"SELECT {cols} FROM {table} ORDER BY {order}").fetchall()
        return out
    finally:
        con.close()


QUERIES = ["", "temperature>10", "location:dock-*", "-location:yard", "n3", "no:note"]
SORTS = [None, "path:desc", "temperature", "location,temperature:desc"]


def _visible(cat: Catalog, *, times=True) -> dict:
    out = {}
    for q in QUERIES:
        out[q, "count"] = cat.count(q)
        for sort in SORTS:
            for offset in (0, 7, 100):
                out[q, sort, offset] = cat.search(q, sort=sort, limit=11, offset=offset,
                                                  columns=["temperature", "location"]).rows()
        first = cat.search(q, limit=5).paths()
        if first:
            out[q, "after"] = cat.search(q, limit=9, after=first[-1]).paths()
    out["imports"] = [{k: v for k, v in r.items() if k != "ts"} for r in cat.imports()]
    some = cat.search("", limit=20).paths()
    out["history"] = [[e if times else replace(e, ts=None) for e in cat.history(p)] for p in some]
    return out


@pytest.fixture
def old_catalog(tmp_path):
    """A catalog with two imports, hand edits and tags, stored out of path order."""
    rnd = random.Random(11)
    first, second = _paths(rnd, 300, "img"), _paths(rnd, 200, "img")
    db = tmp_path / "old.duckdb"
    cat = Catalog(db)
    cat.import_files([_csv(tmp_path / "a.csv", first, 1)])
    cat.set(first[0], {"location": "bench"})
    cat.tag(first[:30], add=["keep"])
    cat.import_files([_csv(tmp_path / "b.csv", first[:40] + second, 2)])
    cat.close()
    _scramble(db)
    assert out_of_order(duckdb.connect(str(db), read_only=True))[1] > 100
    return db


def test_optimize_stores_path_order_and_changes_nothing_visible(old_catalog, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(old_catalog, copy)
    before_tables, before = _tables(old_catalog), _visible(Catalog(copy))
    Catalog(copy).close()

    cat = Catalog(old_catalog)
    report = cat.optimize()
    assert report.rewritten and report.images == len(_stored(copy))
    assert report.out_of_order > 100
    cat.close()
    stored = [p for _, p in _stored(old_catalog)]
    assert stored == sorted(stored)
    assert _tables(old_catalog) == before_tables
    assert _visible(cat) == before
    assert cat.check().ok

    # undo works the same on the optimized catalog as on the untouched copy
    for c in (cat, Catalog(copy)):
        c.undo(4)
        c.close()
    assert _tables(old_catalog, times=False) == _tables(copy, times=False)
    assert _visible(cat, times=False) == _visible(Catalog(copy), times=False)

    again = cat.optimize()
    assert not again.rewritten and again.out_of_order == 0


def test_optimize_command(old_catalog, run_cli):
    r = run_cli("optimize", db=old_catalog)
    assert r.returncode == 0, r.stderr
    assert "images in path order" in r.stdout and "were out of order" in r.stdout
    r = run_cli("optimize", db=old_catalog)
    assert r.returncode == 0 and "already in path order: " in r.stdout
    r = run_cli("optimize", db=old_catalog.parent / "missing.duckdb")
    assert r.returncode != 0 and "no catalog at" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow  # mounts a tmpfs, like the other I/O-fault tests (tests/test_io_faults.py)
def test_optimize_on_a_full_disk_changes_nothing(old_catalog, tmp_path, small_fs):
    """The rewrite needs room for a second copy of the table; without it, one clear message and
    the catalog exactly as before (one transaction)."""
    from metastore import MetastoreError

    fs = small_fs(16 * 1024 * 1024)
    db = fs / "c.duckdb"
    shutil.copy(old_catalog, db)
    before = _tables(db)
    with open(fs / "filler", "wb") as fh:  # leave less room than the table takes
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError:
            pass
    with pytest.raises(MetastoreError) as e:
        Catalog(db).optimize()
    assert "No space left on device" in str(e.value) and "nothing was changed" in str(e.value), str(e.value)
    (fs / "filler").unlink()
    Catalog(db).close()
    assert _tables(db) == before
    assert out_of_order(duckdb.connect(str(db), read_only=True))[1] > 100  # still as it was
    assert Catalog(db).check().ok


def test_optimize_does_nothing_when_every_path_starts_with_the_same_8_bytes(tmp_path, run_cli):
    """DuckDB keeps 8 bytes of a string in its row-group statistics: with a longer common prefix
    the order cannot prune anything, so the rewrite (and the file growth) is not done."""
    rnd = random.Random(5)
    db = tmp_path / "c.duckdb"
    cat = Catalog(db)
    cat.import_files([_csv(tmp_path / "a.csv", _paths(rnd, 300, "datasets/coco"), 1)])
    cat.close()
    _scramble(db)
    before = _tables(db)
    report = Catalog(db).optimize()
    assert not report.rewritten and report.shared_prefix == "datasets" and report.out_of_order > 100
    Catalog(db).close()
    assert _tables(db) == before
    r = run_cli("optimize", db=db)
    assert r.returncode == 0 and "every path starts with 'datasets'" in r.stdout and "nothing was changed" in r.stdout


def _serve_notes(db) -> list[str]:
    """What ``metastore serve``'s background warm-up (after the first page) tells its user."""
    from metastore.web.api import Api

    notes: list[str] = []
    api = Api(Catalog(db), note=notes.append)
    api.warm()
    api._warm_thread.join(120)
    Catalog(db).close()
    return notes


def test_serve_suggests_optimize_when_it_would_help(old_catalog, tmp_path, monkeypatch):
    from metastore.store import reorder

    assert _serve_notes(old_catalog) == []  # 500 images: pages are fast in any order
    monkeypatch.setattr(reorder, "ADVISE_FROM", 100)  # as if the catalog were large
    notes = _serve_notes(old_catalog)
    assert len(notes) == 1 and "run 'metastore optimize'" in notes[0], notes
    Catalog(old_catalog).optimize()
    assert _serve_notes(old_catalog) == []

    # many small imports interleaving their sorted runs: suggested too, unless the runs are long
    rnd = random.Random(9)
    db = tmp_path / "runs.duckdb"
    cat = Catalog(db)
    for i in range(3):
        cat.import_files([_csv(tmp_path / f"r{i}.csv", _paths(rnd, 120, "img"), i)])
    cat.close()
    assert _serve_notes(db) and len(_stored(db)) >= 300
    monkeypatch.setattr(reorder, "SHORT_RUN", 50)
    assert _serve_notes(db) == []
