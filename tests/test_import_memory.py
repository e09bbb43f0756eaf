"""An import caps DuckDB's memory (``connection.bounded_memory``): past the cap its tables spill
to ``CATALOG.tmp`` next to the catalog, and the result is the same as without the cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.generate import DECLARED_TYPES, write_csv
from metastore import Catalog
from metastore.store import connection


@pytest.fixture(scope="module")
def csv(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("data") / "images.csv", 60_000)


def snapshot(cat: Catalog) -> dict:
    with cat.reading() as con:
        cols = [d[0] for d in con.execute("SELECT * FROM images LIMIT 0").description if d[0] not in ("id", "media_id")]
        return {"rows": con.execute(f"SELECT {', '.join(map(repr, cols)).replace(chr(39), chr(34))} FROM images "
                                    f"ORDER BY path").fetchall(),
                "fields": con.execute("SELECT name, type, options, count FROM fields ORDER BY name").fetchall()}


def test_an_import_past_its_memory_cap_spills_next_to_the_catalog_and_gives_the_same_catalog(
        csv, tmp_path, monkeypatch):
    free = Catalog(tmp_path / "free.duckdb")
    assert free.import_files([csv], types=DECLARED_TYPES).exit_code == 0
    monkeypatch.setattr(connection, "IMPORT_MEMORY_LIMIT", "64MB")
    capped = Catalog(tmp_path / "capped.duckdb")
    spilled, limits = [], []

    def progress(step):
        spill = tmp_path / "capped.duckdb.tmp"
        spilled.append(spill.is_dir() and any(spill.iterdir()))

    report = capped.import_files([csv], types=DECLARED_TYPES, progress=progress)
    assert report.exit_code == 0 and report.rows_written == 60_000
    assert any(spilled)  # it did spill, into the catalog's own folder
    assert not (tmp_path / "capped.duckdb.tmp").exists()  # and cleaned up
    assert snapshot(capped) == snapshot(free)


def test_the_cap_is_set_for_the_import_only_and_never_on_a_scratch_catalog(tmp_path):
    import duckdb

    con = duckdb.connect(":memory:", config={"temp_directory": str(tmp_path / "c.duckdb.tmp")})
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    with connection.bounded_memory(con, "100MB"):
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] in ("95.3 MiB", "100.0 MB")
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == before
    scratch = duckdb.connect(":memory:")  # spills to ./.tmp: never capped
    with connection.bounded_memory(scratch, "100MB"):
        assert scratch.execute("SELECT current_setting('memory_limit')").fetchone()[0] == before


def test_the_cap_is_the_users_to_raise_and_running_out_says_how(csv, tmp_path, run_cli):
    """Past what spilling can save (a cap far too small), the import fails as a whole with a
    message naming METASTORE_IMPORT_MEMORY — not a 'cannot write the catalog' about disk space —
    and a bad amount is a usage error before anything is read."""
    db = tmp_path / "c.duckdb"
    out = run_cli("import", csv, db=db, env={"METASTORE_IMPORT_MEMORY": "4MB"})
    assert out.returncode != 0, out.stdout
    assert "ran out of memory" in out.stderr and "METASTORE_IMPORT_MEMORY=4GB" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and "free some space" not in out.stderr
    assert not db.exists() and not Path(f"{db}.wal").exists()  # a failed first import leaves no catalog
    bad = run_cli("import", csv, db=db, env={"METASTORE_IMPORT_MEMORY": "lots"})
    assert bad.returncode == 2 and "METASTORE_IMPORT_MEMORY='lots' is not an amount of memory" in bad.stderr, bad.stderr
    ok = run_cli("import", csv, db=db, env={"METASTORE_IMPORT_MEMORY": "2GB"})
    assert ok.returncode == 0, ok.stderr
    assert Catalog(db).count("") == 60_000


def test_a_file_wider_than_one_import_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """10,000 text columns do not fit the cap; the key limit is told first (it was an out-of-memory
    error once the cap came in, and before that a misleading 'cannot read as CSV')."""
    from metastore import ImportFailed

    monkeypatch.setattr(connection, "IMPORT_MEMORY_LIMIT", "64MB")
    wide = tmp_path / "w.csv"
    wide.write_text(",".join(["path"] + [f"c{i}" for i in range(10_000)]) + "\n"
                    + ",".join(["a.jpg"] + [str(i) for i in range(10_000)]) + "\n")
    cat = Catalog(tmp_path / "c.duckdb")
    with pytest.raises(ImportFailed, match="10,000 keys in one import; the limit is 500"):
        cat.import_files([wide])
    assert not cat.exists()
