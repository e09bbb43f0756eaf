"""Warm reads (``store/warm.py``): a reading process keeps the catalog attached between
reads — DuckDB's cached column data survives — yet a writer in another process still gets the
lock: it signals that it waits and idle readers let go at once.

Real processes on a real catalog file: a ``metastore search -i`` in a pseudo-terminal and a
long-lived Python API reader, both told to linger for ten minutes (``METASTORE_READ_LINGER``),
so only the writer's signal can let the writer in. No timing asserts.
"""

from __future__ import annotations

import csv
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import procs
from metastore import Catalog
from metastore.store import warm

LONG = {"METASTORE_READ_LINGER": "600"}


def _catalog(tmp_path: Path, n: int = 30) -> Path:
    src = tmp_path / "meta.csv"
    with open(src, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "score"])
        w.writerows([f"a/{i:03d}.jpg", i] for i in range(n))
    db = tmp_path / "c.duckdb"
    assert Catalog(db).import_files([src]).exit_code == 0
    return db


def _raw_write_fails(db: Path) -> str:
    """A plain DuckDB writer in another process (no signal): its error text, or '' if it got in."""
    code = ("import duckdb,sys\ntry:\n duckdb.connect(sys.argv[1]).close()\nexcept Exception as e:\n print(e)")
    return subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True).stdout


def _warm() -> set:
    return {k for k, e in warm._ENGINE._attached.items() if not e[1]}


class _Pty:
    """A process on a pseudo-terminal; answers prompt_toolkit's cursor-position queries."""

    def __init__(self, argv: list[str], env: dict) -> None:
        self.fd, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.seen = b""

    def expect(self, text: bytes, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while text not in self.seen:
            if time.monotonic() > end or self.proc.poll() is not None:
                raise AssertionError(f"never saw {text!r}; got {self.seen[-2000:]!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    continue
                self.seen += data
                if b"\x1b[6n" in data:
                    os.write(self.fd, b"\x1b[1;1R")

    def send(self, text: bytes) -> None:
        self.seen = b""
        os.write(self.fd, text)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        os.close(self.fd)


def test_a_writer_gets_the_lock_while_search_i_is_open(tmp_path):
    pytest.importorskip("prompt_toolkit")
    db = _catalog(tmp_path)
    env = {**procs.env(), **LONG, "TERM": "xterm", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    bar = _Pty([sys.executable, "-c", procs.CLI, "--db", str(db), "search", "-i"], env)
    try:
        bar.expect(b"30 images match")
        bar.send(b"score<3\r")
        bar.expect(b"3 images\r\n")
        assert "lock" in _raw_write_fails(db)  # the catalog really is kept attached (warm)
        r = procs.run(db, "--wait", "30", "set", "a/001.jpg", "score=100")
        assert r.returncode == 0 and procs.clean_stderr(r.stderr), r.stderr
        bar.send(b"score<3\r")
        bar.expect(b"2 images\r\n")  # reads the catalog as written
        assert "a/001.jpg" not in bar.seen.decode()
    finally:
        bar.close()
    assert not Path(str(db) + ".write-wanted").exists()


READER = """
import sys
from metastore import Catalog
cat = Catalog(sys.argv[1])
for line in sys.stdin:
    print(cat.count(line.strip()), flush=True)
"""


def test_a_writer_gets_the_lock_from_a_long_lived_python_reader(tmp_path):
    db = _catalog(tmp_path)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**procs.env(), **LONG})
    try:
        reader.stdin.write("score<3\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "3"
        assert "lock" in _raw_write_fails(db)  # held between reads
        for i in range(3):  # each write lets the reader re-attach and keep it warm again
            r = procs.run(db, "--wait", "30", "set", f"a/00{i}.jpg", "score=100")
            assert r.returncode == 0 and procs.clean_stderr(r.stderr), r.stderr
            reader.stdin.write("score<3\n")
            reader.stdin.flush()
            assert reader.stdout.readline().strip() == str(2 - i)
    finally:
        reader.stdin.close()
        reader.wait()


def test_a_changed_file_is_attached_anew(tmp_path):
    """The warm attach is reused only while the file's stamp holds: a file changed by anything
    (here its mtime) is attached again rather than read through stale cached pages."""
    db = _catalog(tmp_path)
    cat = Catalog(db)
    assert cat.count("score<3") == 3 and os.path.realpath(db) in _warm()
    alias = warm._ENGINE._attached[os.path.realpath(db)][0]
    assert cat.count("score<4") == 4
    assert warm._ENGINE._attached[os.path.realpath(db)][0] == alias  # reused while unchanged
    os.utime(db, (1e9, 1e9))
    assert cat.count("score<3") == 3
    assert warm._ENGINE._attached[os.path.realpath(db)][0] != alias  # attached anew


def test_closing_the_catalog_lets_a_raw_duckdb_connection_in(tmp_path):
    db = _catalog(tmp_path)
    with Catalog(db) as cat:
        assert cat.count("") == 30
        with pytest.raises(duckdb.Error, match="already attached"):  # DuckDB refuses a second handle
            duckdb.connect(str(db))
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM images").fetchone()[0] == 30


def test_this_process_writes_past_its_own_warm_catalog(tmp_path):
    db = _catalog(tmp_path)
    cat = Catalog(db, wait=0)
    assert cat.count("score<3") == 3 and _warm()
    cat.set("a/000.jpg", {"score": "50"})  # no conflict with an idle reader of this process
    assert cat.count("score<3") == 2


def test_an_idle_catalog_is_released_after_the_linger(tmp_path, monkeypatch):
    db = _catalog(tmp_path)
    monkeypatch.setattr(warm, "LINGER_SECONDS", 0.05)
    assert Catalog(db).count("") == 30 and _warm()
    end = time.monotonic() + 30
    while _warm() and time.monotonic() < end:
        time.sleep(0.02)
    assert not _warm()
    assert _raw_write_fails(db) == ""  # a plain writer gets in
