"""Sidecar folders: scan, skip what has not changed since the catalog last read it, and
remember what was read (inside the import's transaction)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..readers import sidecar as SC
from .handoff import ERRS


@dataclass
class FolderBatch:
    """What one folder contributes to an import."""

    folder: Path
    records: list = field(default_factory=list)
    found: list = field(default_factory=list)  # SC.Found per record (same order, row = index + 1)
    unchanged: int = 0
    orphans: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # "path: why" for entries that are not regular files


def prepare(con, folder: Path, root_arg: str, *, exif: bool = False) -> FolderBatch:
    # `files` rows exist only for images an import registered (undo deletes its rows), so a
    # file whose size and mtime match its row was read, and registered, as it is now.
    # With --exif, a file read by an import without it was not read for its header: read it again.
    rows = con.execute("SELECT f.path, f.size, f.mtime_ns FROM files f LEFT JOIN sources s ON s.id = f.source_id "
                       "WHERE starts_with(f.path, ?) AND (NOT ? OR coalesce(TRY_CAST(json_extract(s.options, "
                       "'$.exif') AS BOOLEAN), false))",
                       [os.path.realpath(folder) + os.sep, exif]).fetchall()
    seen = {p: (size, mtime) for p, size, mtime in rows}
    skipped: list[str] = []
    images, orphans, unchanged = SC.scan(folder, root_arg, seen, skipped)
    batch = FolderBatch(folder, orphans=orphans, unchanged=unchanged, found=images, skipped=skipped)
    batch.records = [SC.read_sidecar(f, row) for row, f in enumerate(images, 1)]
    if exif:
        from ..readers.exif import add_header_values

        for f, rec in zip(images, batch.records):
            add_header_values(rec, f.image, f.image_stat[0], f.path)
    return batch


def remember(con, batch: FolderBatch, file_index: int, source_id: int, unread: set = frozenset()) -> None:
    """Record the sizes and mtimes of every image and sidecar this import read successfully
    (``unread``: rows whose sidecar held a rejected key, read again by the next run)."""
    failed = {r[0] for r in con.execute(f"SELECT _row FROM {ERRS} WHERE _file = ?", [file_index]).fetchall()}
    failed |= set(unread)
    paths, sizes, mtimes = [], [], []
    for row, f in enumerate(batch.found, 1):
        if row in failed:
            continue
        for p, st in ((f.image, f.image_stat), (f.sidecar, f.sidecar_stat)):
            if p is not None:
                paths.append(p)
                sizes.append(st[0])
                mtimes.append(st[1])
    if not paths:
        return
    con.execute("DELETE FROM files WHERE path IN (SELECT unnest($p::VARCHAR[]))", {"p": paths})
    con.execute("INSERT INTO files SELECT unnest($p), unnest($s), unnest($m), $sid",
                {"p": paths, "s": sizes, "m": mtimes, "sid": source_id})
