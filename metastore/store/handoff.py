"""The DuckDB TEMP tables the store passes between steps, named in one place: the import's
hand-offs (one stage writes, the next reads), the names of their columns, and undo's work tables.
SQL elsewhere uses these names, never the literal text (``tests/test_layers.py`` checks it).

====================  ===========================  ==============================================
table                 written by                   columns
====================  ===========================  ==============================================
:func:`raw_table`     ``stage.stage_csv`` /        one file as read: ``column0…`` (CSV) or
                      ``stage.stage_records``      ``_row, _src, _path`` + stage columns (records)
``STAGE``             ``stage.build_stage``        ``_file, _row, _src, _path`` + one VARCHAR
                                                   column per key, :func:`stage_column` (``k3``)
``ERRS``              ``plan.plan_import``         ``_file, _row, _src, key, value, reason,
                                                   col, cell`` (a rejected cell, or a whole row)
``TYPED`` (a view)    ``plan.plan_import``         ``_file, _row, _src, _path`` + each key's value
                                                   in its type, :func:`typed_column` (``t3``)
option maps           ``plan.plan_import``         ``raw, val`` per enum key: :func:`map_table`
``INCOMING``          ``apply.apply_import``       ``TYPED`` rows of images already in the
                                                   catalog, with ``_id`` and ``_bad``
====================  ===========================  ==============================================

``importer.prepare`` runs the first three (reading, typing, validating: nothing is written to the
catalog); ``importer.write`` the last, inside one transaction.

``edits.undo`` works in ``UNDONE`` (ids of the undone sources) and ``REVERT`` (``id, old_value,
old_src``: the value to put back per image, walked back past undone sources).
"""

from __future__ import annotations

STAGE = "stage"
ERRS = "errs"
TYPED = "typed"
INCOMING = "inc"
UNDONE = "undone"
REVERT = "rv"

#: Every fixed name above (the tests look for them as literal text in SQL elsewhere).
TABLES = (STAGE, ERRS, TYPED, INCOMING, UNDONE, REVERT)


def raw_table(index: int) -> str:
    """The TEMP table holding the ``index``-th file of an import as read, before staging."""
    return f"raw{index}"


def stage_column(n: int) -> str:
    """The staged (text) column of the import's ``n``-th key."""
    return f"k{n}"


def _number(stage_col: str) -> str:
    if not (stage_col[:1] == "k" and stage_col[1:].isdigit()):
        raise ValueError(f"not a stage column: {stage_col!r}")
    return stage_col[1:]


def typed_column(stage_col: str) -> str:
    """The typed column (in ``TYPED``) of the key staged as ``stage_col``."""
    return "t" + _number(stage_col)


def map_table(stage_col: str) -> str:
    """The option map (raw text → option) of the enum key staged as ``stage_col``."""
    return "m" + _number(stage_col)


__all__ = ["STAGE", "ERRS", "TYPED", "INCOMING", "UNDONE", "REVERT", "TABLES", "raw_table", "stage_column",
           "typed_column", "map_table"]
