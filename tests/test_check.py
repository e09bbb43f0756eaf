"""``metastore check``: passes on catalogs built by every kind of change, and catches each kind
of damage (made here by hand with raw SQL on a real catalog file)."""

from __future__ import annotations

import duckdb
import pytest

from helpers import write
from metastore import Catalog
from metastore.store.check import check_catalog


@pytest.fixture
def busy(tmp_path) -> Catalog:
    """A catalog that has seen imports, edits, tags, an undo, a retype and a declared enum."""
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([write(tmp_path / "a.csv", "path,score,weather,labels,when\n"
                                                "a.jpg,1,rain,\"x, y\",2024-01-01\n"
                                                "b.jpg,2,sun,x,2024-01-02\nc.jpg,3,rain,,\n")],
                     types={"weather": "enum", "labels": "multi-enum"})
    cat.import_files([write(tmp_path / "b.csv", "path,score,note\na.jpg,10,hi\nd.jpg,4,new\n")])
    cat.set("b.jpg", {"score": "20", "extra": "true"})
    cat.unset("c.jpg", ["weather"])
    cat.tag(["a.jpg", "b.jpg"], add=["keep"])
    cat.undo(2)
    cat.retype_field("score", "string")
    cat.declare_field("status", "enum", options=["open", "done"])
    return cat


def test_a_busy_catalog_passes(busy):
    rep = busy.check()
    assert rep.ok, rep.problems
    assert rep.images == 3 and rep.history > 0 and rep.rules > 40


def test_cli_ok_and_exit_codes(busy, run_cli, tmp_path):
    r = run_cli("check", db=busy.path)
    assert r.returncode == 0 and r.stdout.startswith("OK: ") and r.stderr == ""
    r = run_cli("check", db=tmp_path / "none.duckdb")
    assert r.returncode == 1 and "no catalog" in r.stderr and r.stdout == ""
    with duckdb.connect(str(busy.path)) as con:
        con.execute("UPDATE fields SET count = count + 1 WHERE name = 'note'")
    r = run_cli("check", db=busy.path)
    assert r.returncode == 1
    assert "problem: key 'note': fields.count" in r.stdout
    assert "1 problem" in r.stderr and "Traceback" not in r.stderr


def test_image_ids_are_never_reused_after_undo(tmp_path):
    """Regression: an undo removed the newest image; the next import gave its id to a new image,
    whose history then showed the removed image's values."""
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([write(tmp_path / "a.csv", "path,k\na.jpg,1\nb.jpg,2\n")])
    cat.import_files([write(tmp_path / "b.csv", "path,k\nd.jpg,5\n")])
    cat.undo(2)
    cat.import_files([write(tmp_path / "c.csv", "path,k\ne.jpg,7\n")])
    assert [(e.old, e.new) for e in cat.history("e.jpg")] == [(None, 7)]
    assert cat.check().ok, cat.check().problems


DAMAGE = [
    ("INSERT INTO meta VALUES ('schema_version', '1')", "schema_version is"),
    ("ALTER TABLE images DROP COLUMN s{score}", "has no column images.s{score}"),
    ("UPDATE fields SET type = 'number' WHERE name = 'note'", "expected DOUBLE"),
    ("ALTER TABLE images ADD COLUMN v99 VARCHAR", "columns of no field: v99"),
    ("UPDATE fields SET count = 0 WHERE name = 'weather'", "key 'weather': fields.count"),
    ("UPDATE images SET s{weather} = NULL WHERE path = 'a.jpg'", "values without a source"),
    ("UPDATE images SET s{weather} = 999 WHERE path = 'a.jpg'", "source does not exist"),
    ("UPDATE images SET path = 'a.jpg' WHERE path = 'b.jpg'", "duplicate image paths"),
    ("UPDATE images SET media_id = (SELECT media_id FROM images WHERE path = 'a.jpg') WHERE path = 'b.jpg'",
     "duplicate image media_ids"),
    ("UPDATE images SET id = 1", "duplicate image ids"),
    ("UPDATE images SET tags = NULL WHERE path = 'a.jpg'", "images with a NULL"),
    ("UPDATE images SET v{weather} = 'hail' WHERE path = 'a.jpg'", "key 'weather': values not among its options"),
    ("UPDATE images SET v{labels} = ['x', 'zzz'] WHERE path = 'a.jpg'", "key 'labels': values not among"),
    ("INSERT INTO history VALUES (777, now()::TIMESTAMP, 1, {score}, NULL, NULL, '1', 777)", "source_id does not exist"),
    ("INSERT INTO history VALUES (1, now()::TIMESTAMP, 1, 4242, NULL, NULL, '1', 1)", "field that does not exist"),
    ("INSERT INTO history VALUES (1, now()::TIMESTAMP, 31337, {score}, NULL, NULL, '1', 1)",
     "image that does not exist"),
    ("UPDATE sources SET rows_written = rows_read + 1 WHERE kind = 'import'", "impossible counts"),
    ("UPDATE sources SET kind = 'magic' WHERE id = 2", "unknown kind"),
    ("INSERT INTO import_errors VALUES (555, 'f', 1, 'k', 'v', 'r')", "import errors of no import"),
    ("INSERT INTO fields VALUES (50, 'bad key', 'string', false, false, [], 0, now()::TIMESTAMP)",
     "breaks the key rules"),
    ("DROP TABLE files", "table 'files' is missing"),
]


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """One real catalog; each case damages it inside a transaction that is rolled back after."""
    tmp = tmp_path_factory.mktemp("check")
    cat = Catalog(tmp / "c.duckdb")
    cat.import_files([write(tmp / "a.csv", "path,score,weather,labels,note\n"
                                           "a.jpg,1,rain,\"x, y\",n\nb.jpg,2,sun,x,m\n")],
                     types={"weather": "enum", "labels": "multi-enum"})
    cat.import_files([write(tmp / "b.csv", "path,score\na.jpg,5\n")])
    assert cat.check().ok
    ids = {f.name: f.id for f in cat.schema().fields}
    cat.close()  # reads keep the file attached; DuckDB allows one handle per file in a process
    con = duckdb.connect(str(cat.path))
    yield con, ids
    con.close()


@pytest.mark.parametrize("sql,expected", DAMAGE, ids=[d[1] for d in DAMAGE])
def test_damage_is_found(damaged, sql, expected):
    con, ids = damaged
    con.execute("BEGIN")
    try:
        assert check_catalog(con).ok
        con.execute(sql.format(**ids))
        problems = check_catalog(con).problems
    finally:
        con.execute("ROLLBACK")
    assert any(expected.format(**ids) in p for p in problems), problems
