"""Ending a write transaction: COMMIT failures (disk full, a read-only folder, the WAL file not
writable) become one :class:`CatalogError` saying what could not be written and that nothing was
changed, and a ROLLBACK that fails after such an error never hides it.

``with atomic(con): …`` is BEGIN … COMMIT with both rules, and every write of the catalog runs in
one (set, unset, tag, undo, fields declare/retype, schema creation and migration, imports): this
module is the one place that decides what a user sees when a transaction cannot finish.
:func:`commit` and :func:`rollback` are the same rules for code that ends a transaction by hand.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import duckdb

from ..errors import CatalogError

_WRITE = re.compile(r'(?:Could not|Cannot) (?:write|open|create|truncate|sync|fsync)[^"]*"([^"]+)"[^:]*:\s*(.+)', re.S)


def write_failure(exc: Exception) -> CatalogError | None:
    """The user-facing error for a DuckDB failure to write the catalog (None: not one)."""
    text = str(exc)
    if not isinstance(exc, (duckdb.IOException, duckdb.TransactionException, duckdb.FatalException,
                            duckdb.OutOfMemoryException)):
        return None
    if isinstance(exc, duckdb.OutOfMemoryException):
        return CatalogError(f"DuckDB ran out of memory: {text.splitlines()[0][:300]}; nothing was changed",
                            help="an import uses at most METASTORE_IMPORT_MEMORY (default 1GB) and spills the "
                                 "rest next to the catalog; give it more, e.g. METASTORE_IMPORT_MEMORY=4GB, "
                                 "or import the files in parts")
    m = _WRITE.search(text)
    if m:
        what = f"cannot write {m.group(1)}: {m.group(2).strip().splitlines()[0]}"
    elif "No space left" in text:
        what = "cannot write the catalog: no space left on the device"
    elif isinstance(exc, duckdb.TransactionException) and "Failed to commit" in text:
        what = "cannot commit to the catalog: " + text.split("Failed to commit:", 1)[1].strip().splitlines()[0]
    elif isinstance(exc, (duckdb.IOException, duckdb.FatalException)):
        what = "cannot write the catalog: " + text.splitlines()[0]
    else:
        return None
    return CatalogError(f"{what}; nothing was changed",
                        help="free some space, or make the catalog's folder writable, and run it again")


_DAMAGE = ("Corrupt database file", "Could not read enough bytes", "checksum", "not a valid DuckDB database file",
           "Serialization Error", "INTERNAL Error")


def storage_failure(exc: Exception) -> CatalogError | None:
    """A DuckDB error met while reading or writing the catalog file, as one message (None: not one)."""
    if not isinstance(exc, duckdb.Error):
        return None
    text = str(exc)
    if any(d in text for d in _DAMAGE):
        return CatalogError(f"the catalog file is damaged: {text.splitlines()[0][:300]}",
                            help="restore it from a backup; exports (export.json) and the import files can "
                                 "rebuild it")
    return write_failure(exc)


def _commit(con) -> None:
    commit(con)  # looked up when called: ``atomic`` ends through the module's ``commit``


def commit(con) -> None:
    """COMMIT with the rules of :func:`atomic` (which ends through it); prefer ``with atomic(con):``."""
    try:
        con.execute("COMMIT")
    except duckdb.Error as exc:
        _roll_back_and_raise(con, exc)


def _roll_back_and_raise(con, exc: duckdb.Error) -> None:
    """Called while ``exc`` is being handled: roll back, then raise it as a write failure (or as is)."""
    rollback(con)
    err = write_failure(exc)
    if err is None:
        raise exc
    raise err from None


def rollback(con) -> None:
    """ROLLBACK if a transaction is open; a failure here must never hide the error being handled."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


@contextmanager
def atomic(con, *, commit: bool = True) -> Iterator[None]:
    """BEGIN … COMMIT; ROLLBACK on any error (never hiding it); write failures as CatalogError.
    ``commit=False`` rolls back at the end even on success (a dry run: everything is computed and
    checked, nothing stays)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except duckdb.Error as exc:
        _roll_back_and_raise(con, exc)
    except BaseException:
        rollback(con)
        raise
    if commit:
        _commit(con)
    else:
        rollback(con)


__all__ = ["atomic", "commit", "rollback", "storage_failure", "write_failure"]
