"""Keeping the ``images`` table stored in path order (``metastore optimize``).

A page of results is ``… WHERE <query> ORDER BY path LIMIT n``. DuckDB answers it with a Top-N
that pushes "``path`` below the current n-th" into the scan, so when the rows are stored in path
order it skips whole row groups by their ``path`` range, and the query's predicates run on few
rows (1.4–2.9× faster pages on 1M images: benchmarks/README.md, serve_speed). Imports therefore
insert new images ``ORDER BY path`` (``apply.py``): every import appends sorted runs (one per
``apply.SORTED_RUN_ROWS`` new images, so that each sort stays within the import's memory cap).

Catalogs made before that store images in the order the import read them. :func:`reorder`
rewrites the table in path order, in one transaction: the same rows, ids, values and sources
(history and undo name images by id, never by their place in the table), so nothing a user can
see changes but the speed. Runs of later imports may overlap again; they stay sorted each.

DuckDB's row-group statistics keep only the first :data:`PREFIX_BYTES` bytes of a string, so
the order prunes nothing when every path starts with the same 8 bytes (``datasets/coco/…``):
:func:`reorder` then changes nothing and says why (measured: benchmarks/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .connection import bounded_memory
from .txn import atomic

_TMP = "images_in_path_order"
#: Leading bytes of a string that DuckDB keeps in a row group's min/max statistics.
PREFIX_BYTES = 8


@dataclass(frozen=True)
class ReorderReport:
    images: int
    out_of_order: int  # rows stored after a row with a greater path, before the rewrite
    rewritten: bool
    shared_prefix: str | None = None  # set when every path starts with these PREFIX_BYTES bytes


def out_of_order(con) -> tuple[int, int]:
    """(images, how many are stored right after an image with a greater path)."""
    n, bad = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE path < before) FROM "
        "(SELECT path, lag(path) OVER (ORDER BY rowid) AS before FROM images)").fetchone()
    return int(n), int(bad)


#: ``metastore serve`` suggests ``metastore optimize`` for a catalog of at least this many
#: images (two row groups; smaller ones page fast in any order) whose runs of images in path
#: order average fewer than SHORT_RUN rows (runs shorter than ~1.5 row groups prune little:
#: benchmarks/README.md, serve_speed third round) — and whose paths differ in their first bytes.
ADVISE_FROM = 2 * 122_880
SHORT_RUN = 184_320


def differ_early(con, table: str = "images", column: str = "path") -> bool:
    """Whether the paths in ``table.column`` differ within their first :data:`PREFIX_BYTES` bytes:
    else every row group's statistics hold the same path range and their order prunes nothing."""
    return con.execute(f"SELECT count(DISTINCT encode({column})[1:{PREFIX_BYTES}]) >= 2 FROM {table}").fetchone()[0]


def worth_optimizing(con) -> bool:
    """Whether :func:`reorder` would make pages clearly faster (one scan of the paths)."""
    n, bad = out_of_order(con)
    if n < ADVISE_FROM or not bad or n / (bad + 1) >= SHORT_RUN:
        return False
    return differ_early(con)


def reorder(con) -> ReorderReport:
    """Store ``images`` in path order (nothing else changes); a no-op when it already is."""
    with bounded_memory(con), atomic(con):
        n, bad = out_of_order(con)
        if not bad:
            return ReorderReport(n, 0, False)
        if not differ_early(con):  # the row groups' path ranges would all be the same: nothing to gain
            first = con.execute(f"SELECT min(encode(path)[1:{PREFIX_BYTES}]) FROM images").fetchone()[0]
            return ReorderReport(n, bad, False, bytes(first).decode("utf-8", "replace"))
        con.execute(f"CREATE TABLE {_TMP} AS SELECT * FROM images ORDER BY path")
        con.execute("DROP TABLE images")
        con.execute(f"ALTER TABLE {_TMP} RENAME TO images")
    return ReorderReport(n, bad, True)


__all__ = ["ReorderReport", "out_of_order", "reorder", "worth_optimizing", "differ_early", "PREFIX_BYTES"]
