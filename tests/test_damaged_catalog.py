"""Damaged and foreign catalog files (issue 14, defects 15 and 16): a truncated file, a file with
damaged blocks — also met by `metastore check` itself — a DuckDB file with an unrelated `meta`
table, or a non-numeric schema version: one clear message, never a traceback."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from helpers import write
from metastore import Catalog

pytestmark = pytest.mark.slow  # the fast run (-m 'not slow') leaves it out; CI runs it

COMMANDS = [("count", "age>3"), ("check",), ("search", "name:name1*", "--limit", "2")]


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("big")
    rows = "".join(f"img/{i}.jpg,{i % 97},name{i * 7919 % 100000}\n" for i in range(60000))
    cat = Catalog(tmp / "big.duckdb")
    cat.import_files([write(tmp / "big.csv", "path,age,name\n" + rows)])
    return cat.path


def _plain(r) -> None:
    assert "Traceback" not in r.stderr and "_duckdb" not in r.stderr, r.stderr
    assert r.returncode == 0 or r.stderr.startswith("error: "), r.stderr


@pytest.mark.parametrize("where", [0.1, 0.23, 0.34, 0.46, 0.6, 0.8])
def test_damaged_blocks_give_one_message(big, tmp_path, where, run_cli):
    db = tmp_path / "d.duckdb"
    shutil.copy(big, db)
    size = db.stat().st_size
    with open(db, "r+b") as fh:
        fh.seek(int(size * where) // 4096 * 4096 + 1000)
        fh.write(b"\x13" * 4096)
    damaged = 0
    for cmd in COMMANDS:
        r = run_cli(*cmd, db=db)
        _plain(r)
        damaged += "damaged" in r.stderr
    if where in (0.23, 0.34):  # blocks that `check` reads (seen with this data)
        assert damaged, "expected the damage to be met"


def test_truncated_file(big, tmp_path, run_cli):
    db = tmp_path / "t.duckdb"
    write(db, big.read_bytes()[:20000])
    for cmd in COMMANDS:
        r = run_cli(*cmd, db=db)
        assert r.returncode == 4, r.stderr
        _plain(r)


def test_unrelated_meta_table_and_bad_schema_version(tmp_path, run_cli):
    con = duckdb.connect(str(tmp_path / "meta.duckdb"))
    con.execute("CREATE TABLE meta (a INTEGER, b INTEGER)")
    con.close()
    con = duckdb.connect(str(tmp_path / "ver.duckdb"))
    con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema_version', 'abc')")
    con.close()
    for name, words in (("meta", "not a metastore catalog"), ("ver", "not a number")):
        for cmd in [*COMMANDS, ("set", "a.jpg", "k=1")]:
            r = run_cli(*cmd, db=tmp_path / f"{name}.duckdb")
            assert r.returncode == 4 and words in r.stderr, r.stderr
            _plain(r)
