"""The import's hand-offs, named in one place: the DuckDB TEMP tables one stage writes and the
next reads, and the names of their columns.

====================  ===========================  ==============================================
table                 written by                   columns
====================  ===========================  ==============================================
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
"""

from __future__ import annotations

STAGE = "stage"
ERRS = "errs"
TYPED = "typed"
INCOMING = "inc"


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


__all__ = ["STAGE", "ERRS", "TYPED", "INCOMING", "stage_column", "typed_column", "map_table"]
