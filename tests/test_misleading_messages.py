"""Misleading outcomes (issue 14, defects 19-21): an SQLite file as --db, a UTF-8 CSV DuckDB cannot
parse reported as 'not UTF-8', a row with an extra field after DuckDB's 2,048-row sample refusing
the whole file, and a --db path with a backslash opening another file."""

from __future__ import annotations

import sqlite3

import pytest

from helpers import write
from metastore import Catalog


@pytest.mark.slow
def test_sqlite_file_as_db(tmp_path, run_cli):
    con = sqlite3.connect(tmp_path / "s.db")
    con.execute("CREATE TABLE t (a)")
    con.commit()
    con.close()
    for cmd in (("count", ""), ("import", write(tmp_path / "m.csv", "path,k\na.jpg,1\n"))):
        r = run_cli(*cmd, db=tmp_path / "s.db")
        assert r.returncode == 4 and "is an SQLite database" in r.stderr and "download" not in r.stderr, r.stderr


def test_not_a_duckdb_file(tmp_path, run_cli):
    write(tmp_path / "x.duckdb", "just some text, long enough\n")
    r = run_cli("count", "", db=tmp_path / "x.duckdb")
    assert r.returncode == 4 and "not a DuckDB file" in r.stderr, r.stderr


@pytest.mark.parametrize("text", ['path,k\r\na.jpg,1\nb.jpg,"2\n', 'path,k\na.jpg,"1\nb.jpg,2\n'],
                         ids=["mixed-line-endings", "unterminated-quote"])
def test_ascii_csv_duckdb_cannot_parse_is_not_called_non_utf8(tmp_path, text, run_cli):
    r = run_cli("import", write(tmp_path / "y.csv", text))
    assert r.returncode == 1 and "not UTF-8" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_extra_field_after_row_2047_is_a_row_error(tmp_path):
    rows = "".join(f"img/{i}.jpg,{i}" + (",extra" if i == 3000 else "") + "\n" for i in range(5000))
    cat = Catalog(tmp_path / "c.duckdb")
    rep = cat.import_files([write(tmp_path / "x.csv", "path,k\n" + rows)])
    assert rep.exit_code == 3 and rep.rows_failed == 1, rep.to_dict()
    assert "row 3001" in rep.to_dict()["errors"][0] and "more fields" in rep.to_dict()["errors"][0]
    assert cat.count("") == 4999


def test_backslash_in_db_path_is_refused(tmp_path, run_cli):
    (tmp_path / "a").mkdir()
    r = run_cli("import", write(tmp_path / "m.csv", "path,k\na.jpg,1\n"), db=tmp_path / "a\\b.duckdb")
    assert r.returncode == 4 and "backslash" in r.stderr, r.stderr
    assert not (tmp_path / "a" / "b.duckdb").exists() and not (tmp_path / "a\\b.duckdb").exists()


def test_a_usage_error_on_a_pipe_is_plain_lines(run_cli):
    """Piped stderr has no terminal width: Typer's rich box came out 80 columns wide whatever the
    user's terminal was (issue 14). On a pipe it is plain lines, each as long as its text."""
    r = run_cli("search", "--bogus", env={"COLUMNS": "40"})
    assert r.returncode == 2
    assert "No such option: --bogus" in r.stderr and "╭" not in r.stderr and "│" not in r.stderr
    assert r.stderr.splitlines()[0].startswith("Usage: metastore search")
