"""Reading through the process's one DuckDB engine (``store/warm.py``): a catalog is
attached read-only and kept attached (warm) between operations until a writer waits, so

* a reader holds the file's shared lock while it reads (another process cannot write); an idle
  warm catalog is let go as soon as a writer in another process signals that it waits — a
  search result kept around, or a long-lived reading process, never holds the catalog;
* in one process the same file is never held for reading and writing at once (POSIX locks are
  per process: closing one handle would drop the other's lock) — the second opener waits, then
  gets a clear error;
* threads read one or several catalogs at once and leave nothing attached.

Real files and real processes; no timing asserts.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import procs
from metastore import Catalog
from metastore.errors import CatalogLockedError
from metastore.store import warm


def _catalog(tmp_path: Path, name: str, n: int, camera: str = "c") -> Path:
    src = tmp_path / f"{name}.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "score", "camera"])
        for i in range(n):
            w.writerow([f"{name}/{i:05d}.jpg", i % 100, f"{camera}{i % 3}"])
    db = tmp_path / f"{name}.duckdb"
    assert Catalog(db).import_files([src]).exit_code == 0
    return db


def _attached() -> dict:
    """The catalogs being read now (warm idle ones aside)."""
    return {k: e for k, e in warm._ENGINE._attached.items() if e[1]}


def _warm() -> set:
    return {k for k, e in warm._ENGINE._attached.items() if not e[1]}


def test_a_kept_search_result_does_not_hold_the_catalog(tmp_path):
    db = _catalog(tmp_path, "a", 300)
    result = Catalog(db).search("score<10")
    assert result.paths() and _attached() == {}
    assert _warm() == {os.path.realpath(db)}  # kept attached for the next read
    r = procs.run(db, "--wait", "0", "set", "a/00001.jpg", "score=5")  # another process writes now
    assert r.returncode == 0, r.stderr
    assert "a/00001.jpg" in result.paths()  # the result reads the catalog as it is when asked
    assert _attached() == {}


def test_an_open_reader_holds_the_shared_lock_until_closed(tmp_path):
    db = _catalog(tmp_path, "a", 50)
    reader = Catalog(db).open_reader()
    try:
        assert reader.execute("SELECT count(*) FROM images").fetchone()[0] == 50
        r = procs.run(db, "--wait", "0.2", "set", "a/00001.jpg", "score=5")
        assert r.returncode == 4 and "locked by another process" in r.stderr and procs.clean_stderr(r.stderr)
        assert procs.run(db, "count", "").stdout.strip() == "50"  # readers still share it
    finally:
        reader.close()
    assert _attached() == {}
    assert procs.run(db, "--wait", "0", "set", "a/00001.jpg", "score=5").returncode == 0


def test_one_process_never_reads_and_writes_the_same_file_at_once(tmp_path):
    db = _catalog(tmp_path, "a", 50)
    cat = Catalog(db, wait=0.1)
    with cat.reading():
        with pytest.raises(CatalogLockedError, match="open for reading elsewhere in this process"):
            cat.set("a/00001.jpg", {"score": "5"})
    with cat.writing():
        with pytest.raises(CatalogLockedError, match="open for writing elsewhere in this process"):
            cat.count("")
    cat.set("a/00001.jpg", {"score": "5"})
    assert cat.count("score:5") == 2
    assert _attached() == {} and warm._ENGINE._writing == {}


def test_a_reader_in_another_thread_is_waited_for(tmp_path):
    db = _catalog(tmp_path, "a", 50)
    cat = Catalog(db, wait=30)
    reader = cat.open_reader()
    waits: list[str] = []
    cat.on_wait = waits.append
    closer = threading.Timer(0.3, reader.close)
    closer.start()
    cat.set("a/00002.jpg", {"score": "7"})  # waits for the reader, then writes
    closer.join()
    assert waits and "another thread" in waits[0]
    assert cat.count("score:7") == 2


def test_threads_read_several_catalogs_at_once(tmp_path):
    dbs = [_catalog(tmp_path, name, 400 + 100 * k, camera=name) for k, name in enumerate("abc")]
    expected = {db: Catalog(db).search("score<20 camera:*1").paths() for db in dbs}
    assert all(expected.values())
    errors: list[BaseException] = []

    def work(db: Path) -> None:
        try:
            for _ in range(15):
                assert Catalog(db).search("score<20 camera:*1").paths() == expected[db]
                assert Catalog(db).facets(["camera"])[0].total == Catalog(db).count("")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(dbs[i % 3],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert _attached() == {}


def test_the_schema_kept_in_memory_follows_writes_from_other_processes(tmp_path):
    """Searches in one process reuse the catalog's schema while its file stamp holds; a write
    by another process changes the stamp, so the next search sees the new key."""
    import os
    import time

    from metastore.store import fields

    db = _catalog(tmp_path, "a", 40)
    old = time.time() - 60  # a settled file: its schema may be kept (see store/stamp.py)
    os.utime(db, (old, old))
    cat = Catalog(db)
    assert cat.count("score<5") == 5
    assert os.path.realpath(db) in fields._KEPT  # kept, so the next search reads no field table
    src = tmp_path / "more.csv"
    src.write_text("path,weather\na/00001.jpg,rain\n", encoding="utf-8")
    r = procs.run(db, "import", src)
    assert r.returncode == 0, r.stderr
    assert cat.count("weather:rain") == 1  # a stale schema would say: unknown key 'weather'


def test_a_catalog_path_with_quotes(tmp_path):
    """The path reaches ATTACH as a string literal: quotes in it neither break nor inject."""
    folder = tmp_path / "it's here"
    folder.mkdir()
    db = _catalog(folder, "x'); DETACH memory; --", 20)
    assert Catalog(db).count("score<5") == 5 and Catalog(db).check().ok
    assert _attached() == {}
