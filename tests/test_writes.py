"""One transaction helper and one home per catalog write, on real DuckDB connections."""

from __future__ import annotations

import duckdb
import pytest

from metastore.store.txn import atomic


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("CREATE TABLE t (x INTEGER)")
    yield c
    c.close()


def _rows(con):
    return [r[0] for r in con.execute("SELECT x FROM t ORDER BY x").fetchall()]


def test_atomic_commits(con):
    with atomic(con):
        con.execute("INSERT INTO t VALUES (1), (2)")
    assert _rows(con) == [1, 2]


def test_an_error_rolls_everything_back_and_propagates_unchanged(con):
    with pytest.raises(KeyError, match="boom"):
        with atomic(con):
            con.execute("INSERT INTO t VALUES (1)")
            raise KeyError("boom")
    assert _rows(con) == []


def test_a_failing_rollback_never_hides_the_cause(con):
    with pytest.raises(ValueError, match="the real error"):
        with atomic(con):
            con.execute("INSERT INTO t VALUES (1)")
            con.execute("ROLLBACK")  # the transaction is gone: atomic's own ROLLBACK will fail
            raise ValueError("the real error")
    assert _rows(con) == []


def test_commit_false_is_a_dry_run(con):
    with atomic(con, commit=False):
        con.execute("INSERT INTO t VALUES (1)")
        assert _rows(con) == [1]
    assert _rows(con) == []


def test_a_failing_commit_raises_its_own_error_and_leaves_no_transaction(con):
    with pytest.raises(duckdb.Error):
        with atomic(con):
            con.execute("INSERT INTO t VALUES (1)")
            con.execute("COMMIT")  # ends the transaction: atomic's COMMIT has none to commit
    con.execute("BEGIN TRANSACTION")  # no transaction left open behind the failure
    con.execute("ROLLBACK")


def test_no_writer_outside_writes_py_spells_out_history_fields_or_sources_inserts():
    from pathlib import Path

    store = Path(__file__).resolve().parents[1] / "metastore" / "store"
    for path in store.glob("*.py"):
        if path.name in ("writes.py", "ddl.py"):
            continue
        text = path.read_text()
        for stmt in ("INSERT INTO history", "INSERT INTO fields", "coalesce(max(id), 0) + 1"):
            assert stmt not in text, f"{path.name}: {stmt}"
