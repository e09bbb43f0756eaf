"""Concurrent use with real processes on a real catalog file: readers share it, a writer has it
alone, a command that finds it locked waits (saying so on stderr) and then runs, or exits 4 after
``--wait``. Never a traceback or a raw DuckDB lock error, never a damaged catalog.

To hold "an import in progress" deterministically, an import is stopped (SIGSTOP) once it has
reached a phase, and continued (SIGCONT) when the test is ready: no sleeps, no timing asserts.
"""

from __future__ import annotations

import csv
import shutil
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest

import procs
from metastore import Catalog

pytestmark = pytest.mark.slow  # the fast run (-m 'not slow') leaves it out; CI runs it


def _csv(path: Path, start: int, n: int, extra: str = "") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "score", "camera", *( [extra] if extra else [])])
        for i in range(start, start + n):
            w.writerow([f"img/{i:06d}.jpg", i % 100, f"c{i % 7}", *([i] if extra else [])])
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("conc")
    db = tmp / "base.duckdb"
    Catalog(db).import_files([_csv(tmp / "base.csv", 0, 2_000)])
    return db


@pytest.fixture
def db(base, tmp_path) -> Path:
    return Path(shutil.copyfile(base, tmp_path / "c.duckdb"))


def _state(db: Path) -> list:
    with duckdb.connect(str(db), read_only=True) as con:
        return [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ("images", "fields", "sources", "history")]


def _finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate()
    return proc.returncode, out, err


def test_parallel_searches_all_succeed(db):
    expected = Catalog(db).search("score<50 camera:c3").paths()
    assert len(expected) > 50
    with duckdb.connect(str(db), read_only=True):  # another reader holding the file meanwhile
        procs_ = [procs.start(db, "search", "score<50 camera:c3", "--format", "paths") for _ in range(6)]
        procs_ += [procs.start(db, "count", "score>=50") for _ in range(2)]
        results = [_finish(p) for p in procs_]
    for rc, out, err in results[:6]:
        assert rc == 0 and out.splitlines() == expected and procs.clean_stderr(err), err
    for rc, out, err in results[6:]:
        assert rc == 0 and out.strip() == "1000" and err == ""


def test_search_during_an_import_waits_then_succeeds_or_exits_4(db, tmp_path):
    new = _csv(tmp_path / "new.csv", 2_000, 3_000)
    imp = procs.start(db, "--quiet", "import", new, driver=True)
    procs.wait_for_line(imp, "phase writing")
    imp.send_signal(signal.SIGSTOP)  # holding the write lock, mid-transaction
    try:
        r = procs.run(db, "--wait", "0.3", "count", "")
        assert r.returncode == 4 and r.stdout == ""
        assert "is in use by another process; waiting up to 0.3s" in r.stderr
        assert "locked by another process" in r.stderr and procs.clean_stderr(r.stderr), r.stderr
        waiting = procs.start(db, "--wait", "300", "search", "score<1", "--format", "paths")
        procs.wait_for_line(waiting, "in use by another process")
    finally:
        imp.send_signal(signal.SIGCONT)
    rc, _, err = _finish(imp)
    assert rc == 0 and procs.clean_stderr(err), err
    rc, out, err = _finish(waiting)
    assert rc == 0 and procs.clean_stderr(err), err
    assert len(out.splitlines()) == 50  # it ran after the import: 5,000 images, 1 in 100 has score 0
    assert Catalog(db).check().ok


def test_an_import_waits_for_readers_and_never_writes_while_they_read(db, tmp_path):
    new = _csv(tmp_path / "new.csv", 2_000, 500)
    before = _state(db)
    with duckdb.connect(str(db), read_only=True):
        r = procs.run(db, "--wait", "0.3", "import", new)
        assert r.returncode == 4 and "locked" in r.stderr and procs.clean_stderr(r.stderr), r.stderr
        assert procs.run(db, "count", "").stdout.strip() == "2000"  # readers still share it
        waiting = procs.start(db, "--wait", "300", "import", new)
        procs.wait_for_line(waiting, "in use by another process")
    rc, _, err = _finish(waiting)
    assert rc == 0 and procs.clean_stderr(err), err
    assert _state(db) != before and Catalog(db).count("") == 2_500 and Catalog(db).check().ok


def test_two_imports_at_once_never_corrupt(db, tmp_path):
    a = _csv(tmp_path / "a.csv", 1_000, 3_000, extra="from_a")
    b = _csv(tmp_path / "b.csv", 1_500, 3_000, extra="from_b")
    first = procs.start(db, "--quiet", "import", a, driver=True)
    procs.wait_for_line(first, "phase writing")
    first.send_signal(signal.SIGSTOP)
    try:
        r = procs.run(db, "--wait", "0.3", "import", b)
        assert r.returncode == 4 and r.stdout == "" and procs.clean_stderr(r.stderr), r.stderr
        second = procs.start(db, "--wait", "300", "import", b)
        procs.wait_for_line(second, "in use by another process")
    finally:
        first.send_signal(signal.SIGCONT)
    for p in (first, second):
        rc, _, err = _finish(p)
        assert rc == 0 and procs.clean_stderr(err), err
    cat = Catalog(db)
    assert cat.check().ok, cat.check().problems
    assert [r["rows_read"] for r in cat.imports()] == [2_000, 3_000, 3_000]
    assert cat.count("") == 4_500 and cat.count("has:from_a") == 3_000 and cat.count("has:from_b") == 3_000


def test_everything_at_once(db, tmp_path):
    """Imports, searches, an edit and a check started together: each waits its turn."""
    files = [_csv(tmp_path / f"f{i}.csv", 2_000 + 700 * i, 1_000, extra=f"k{i}") for i in range(3)]
    started = [procs.start(db, "--wait", "300", "import", f) for f in files]
    started += [procs.start(db, "--wait", "300", "count", "score<10") for _ in range(4)]
    started += [procs.start(db, "--wait", "300", "set", "img/000001.jpg", "reviewed=true"),
                procs.start(db, "--wait", "300", "check")]
    results = [_finish(p) for p in started]
    for rc, out, err in results:
        assert rc == 0 and procs.clean_stderr(err), err
    cat = Catalog(db)
    assert cat.check().ok and cat.count("") == 2_000 + 2_400 and cat.count("reviewed:true") == 1
    assert [cat.count(f"has:k{i}") for i in range(3)] == [1_000] * 3
