"""The one transaction helper: ``with atomic(con):`` — every write of the catalog runs in one.

    with atomic(con):
        ...   # statements; any exception rolls all of them back and propagates unchanged

``commit=False`` rolls back at the end even on success (a dry run: everything is computed and
checked, nothing stays). A failing ROLLBACK never hides the error that caused it, and a failing
COMMIT (disk full, a read-only folder) is raised as itself after the rollback: this is the one
place that decides what the user sees when a transaction cannot finish.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import duckdb


def _rollback(con) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # the transaction is already gone (e.g. aborted by the failure): the cause matters


@contextmanager
def atomic(con, *, commit: bool = True) -> Iterator[None]:
    """Run the block as one transaction on ``con`` (commit at the end, or roll back)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        _rollback(con)
        raise
    if not commit:
        _rollback(con)
        return
    try:
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise


__all__ = ["atomic"]
