"""The Catalog: the library's front door, above the store (``metastore/store/``) and export
(``metastore/export.py``). It opens the catalog per operation (read-only for reads, so any
number of searches can run at once; see ``store/warm.py``) and delegates to the module that
does the work; it writes no SQL itself."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from . import schema as S
from .errors import CatalogError, ImportFailed, NotFoundError, UsageError
from .store import reads
from .store.connection import forget_new_catalog, open_db, scratch
from .store.warm import Handle, release_idle
from .store.fields import load_schema
from .store.reads import ImageInfo, KeyInfo, StoredValue, ValueCounts

if TYPE_CHECKING:
    from .store.importer import ImportReport
    from .store.search import SearchResult


def _still_blank(con) -> bool:
    try:
        return reads.is_blank(con)
    except Exception:  # a broken connection: keep the file (check can tell what it holds)
        return False


def default_db() -> str:
    return os.environ.get("METASTORE_DB") or "metastore.duckdb"


class Catalog:
    """A metastore catalog file. ``Catalog("metastore.duckdb").search("temperature>70")``."""

    def __init__(self, path: str | os.PathLike | None = None, *, wait: float = 10.0,
                 on_wait: Callable[[str], None] | None = None, tz: str = "UTC",
                 clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path if path is not None else default_db())
        if not (isinstance(wait, (int, float)) and wait >= 0 and wait == wait and wait != float("inf")):
            raise UsageError(f"wait must be a number of seconds, 0 or more, got {wait!r}", help="e.g. wait=30")
        self.wait = wait
        self.on_wait = on_wait
        self.tz = tz  # the zone of datetime literals without an offset
        self._clock = clock

    def now(self) -> datetime:
        """The query clock (``now``, ``today``); injectable for tests and reproducible exports."""
        if self._clock is not None:
            return self._clock()
        fixed = os.environ.get("METASTORE_NOW")
        if fixed:
            value = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
            return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return datetime.now(timezone.utc)

    # -- search ------------------------------------------------------------------------------
    def search(self, query: str = "", *, columns: Sequence[str] = (), sort: str | None = None,
               limit: int | None = None, offset: int | None = None, after: str | None = None) -> "SearchResult":
        """The images matching ``query``: ``.paths()``, ``.count()``, ``.rows()``, ``.to_arrow()``.
        ``offset`` skips that many results of the ordered list (a page: ``limit=100, offset=200``).
        ``after``: only the images after the image at this path in the order (any ``sort``;
        sorted by keys, after that image's values of them, ties by path) — the next page from
        the last path of this one, as fast on page 5,000 as on page 2 (a large ``offset`` makes
        DuckDB sort every match). Sorted by a key, the image must be in the catalog."""
        from .store.search import run_search

        return run_search(self, query, columns=columns, sort=sort, limit=limit, offset=offset, after=after)

    def count(self, query: str = "") -> int:
        return self.search(query).count()

    # -- export and facets -------------------------------------------------------------------
    def export(self, query: str, out: str | os.PathLike, **options):
        """Write a training subset to the folder ``out`` (see :func:`metastore.export.export` for
        the options: format, columns, media, media_root, split, group_by, sample, seed, limit,
        sort, force, skip_missing). Returns an ``ExportReport``."""
        from .export import export

        return export(self, query, out, **options)

    def export_from(self, record: str | os.PathLike, out: str | os.PathLike, *, force: bool = False):
        """Rebuild the export an ``export.json`` describes into ``out``; ``report.warnings`` says
        when the catalog changed since."""
        from .export_record import export_from

        return export_from(self, record, out, force=force)

    def publish(self, out: str | os.PathLike, query: str = "", *, partition_by: str | None = None,
                force: bool = False):
        """Write the current values (of the images matching ``query``) as a Parquet dataset:
        ``out/images/`` and ``out/metastore.json`` (see ``docs/scale-out.md``)."""
        from .store.publish import publish

        return publish(self, out, query, partition_by=partition_by, force=force)

    def facets(self, keys: Sequence[str], query: str = "", *, bins: int = 20, top: int = 10) -> list:
        """Value counts (or histograms) of ``keys`` among the images matching ``query``."""
        from .store.facets import run_facets

        return run_facets(self, keys, query, bins=bins, top=top)

    # -- connections -------------------------------------------------------------------------
    def close(self) -> None:
        """Let go of the catalog file now. Reads keep it attached between calls (warm: DuckDB's
        cached data survives) until a writer waits or it has been idle for a few seconds; close
        it before opening the same file with a plain ``duckdb.connect()`` in this process."""
        release_idle(self.path)

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open_reader(self) -> Handle:
        """A read-only connection the caller must close (``reading()`` closes it for you)."""
        return open_db(self.path, read_only=True, wait=self.wait, on_wait=self.on_wait)

    @contextmanager
    def reading(self) -> Iterator[Handle]:
        con = self.open_reader()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def writing(self, *, create: bool = True) -> Iterator[Handle]:
        if not create and not self.path.exists():
            raise NotFoundError(f"no catalog at {self.path}",
                                help="import something first (metastore import FILE) or pass --db")
        con = open_db(self.path, read_only=False, wait=self.wait, on_wait=self.on_wait)
        try:
            yield con
        finally:
            con.close()

    def exists(self) -> bool:
        return self.path.exists()

    def schema(self) -> S.Schema:
        with self.reading() as con:
            return load_schema(con)

    def check(self):
        """Integrity check (read-only): a ``CheckReport`` whose ``problems`` is empty when consistent."""
        from .store.check import check_catalog

        with self.reading() as con:
            return check_catalog(con)

    # -- import ------------------------------------------------------------------------------
    def import_files(self, paths: Sequence[str | os.PathLike], *, types: dict[str, str] | None = None,
                     id_column: str | None = None, strategy: str = "merge", strict: bool = False,
                     dry_run: bool = False, tags: Sequence[str] = (), normalize_keys: bool = False,
                     format: str | None = None, field: str | None = None,
                     path_template: str | None = None, path_prefix: str = "", exif: bool = False,
                     datetime_formats: dict[str, str] | None = None,
                     progress: Callable[[str], None] | None = None) -> ImportReport:
        """Import CSV/TSV/JSON/JSONL/COCO files, sidecar folders and YOLO datasets (``format="yolo"``)
        in one transaction.

        ``field``: the files are Visual Layer upload files (``[{"media_id", "value"}]``) for that key.
        ``path_template``: build paths from columns (``"images/{image_id}.jpg"``); ``path_prefix``:
        prepend to every path; ``exif``: folders also read each image's header (Pillow);
        ``datetime_formats``: key → strftime form of its datetimes (``{"seen": "%m/%d/%Y"}``).
        See ``ImportReport.exit_code`` for the outcome."""
        from .store.importer import ImportOptions, run_import  # not loaded by searches (CLI start-up)

        opts = ImportOptions(dict(types or {}), id_column, strategy, strict, dry_run, list(tags),
                             normalize_keys, format, field, path_template, path_prefix or "", exif,
                             dict(datetime_formats or {}))
        files = [Path(p) for p in paths]
        for f in files:
            if not f.exists():
                raise ImportFailed(f"no such file or folder: {f}")
        if dry_run and not self.path.exists():
            with scratch() as con:
                return run_import(con, files, opts, load_schema(con, with_tags=False), progress=progress)
        created, blank = not self.path.exists(), False
        try:
            with self.writing() as con:
                try:
                    report = run_import(con, files, opts, load_schema(con, with_tags=False), progress=progress)
                finally:  # decided while this process still holds the catalog
                    blank = created and _still_blank(con)
        finally:
            if blank:  # a first import that wrote nothing leaves no catalog file
                forget_new_catalog(self.path)
        return report

    # -- reading -----------------------------------------------------------------------------
    def show(self, path: str) -> ImageInfo:
        with self.reading() as con:
            return reads.show(con, path)

    def known_paths(self, paths: Sequence[str]) -> set[str]:
        """Which of ``paths`` are images of the catalog (one query for the lot)."""
        if not paths:
            return set()
        with self.reading() as con:
            return reads.known_paths(con, paths)

    def keys(self) -> list[KeyInfo]:
        with self.reading() as con:
            return reads.keys(con)

    def values(self, key: str, *, prefix: str | None = None, limit: int | None = 50,
               query: str = "") -> list[tuple[object, int]]:
        """Distinct values of ``key`` with counts, most common first (among images matching ``query``)."""
        return self.value_counts(key, prefix=prefix, limit=limit, query=query).rows

    def value_counts(self, key: str, *, prefix: str | None = None, limit: int | None = 50,
                     query: str = "") -> ValueCounts:
        """Like :meth:`values`, with the key's type and ``missing``: matching images without the key."""
        where = ("TRUE", [])
        if query:
            from .query import compile_where

            where = compile_where(self.search(query).checked)
        with self.reading() as con:
            return reads.value_counts(con, key, prefix=prefix, limit=limit, where=where)

    def imports(self) -> list[dict]:
        with self.reading() as con:
            return reads.imports(con)

    def import_record(self, import_id: int) -> tuple[dict, list[tuple]]:
        with self.reading() as con:
            return reads.import_record(con, import_id)

    # -- manual edits, history, undo ---------------------------------------------------------
    def set(self, path: str, assignments: dict[str, str] | Sequence[tuple[str, str]], *,
            types: dict[str, str] | None = None) -> int:
        """Set values by hand (auto-typed like a CSV cell unless the key exists or ``types`` says)."""
        from .store import edits

        items = list(assignments.items()) if isinstance(assignments, dict) else list(assignments)
        with self.writing(create=False) as con:
            return edits.set_values(con, path, items, dict(types or {}))

    def unset(self, path: str, keys: Sequence[str]) -> int:
        from .store import edits

        with self.writing(create=False) as con:
            return edits.unset_values(con, path, list(keys))

    def tag(self, paths: Sequence[str] | None = None, *, query: str | None = None,
            add: Sequence[str] = (), remove: Sequence[str] = ()) -> int:
        """Add/remove tags on the given paths, or on every image ``query`` matches."""
        from .store import edits

        where = None
        if query is not None:
            from .query import compile_where

            where = compile_where(self.search(query).checked)
        with self.writing(create=False) as con:
            return edits.tag(con, list(paths) if paths is not None else None, where, list(add), list(remove))

    def history(self, path: str, key: str | None = None):
        from .store import edits

        with self.reading() as con:
            return edits.history(con, path, key)

    def undo(self, import_id: int):
        """Revert an import, or a retype (``metastore fields retype`` prints its id)."""
        from .store import edits

        with self.writing(create=False) as con:
            if reads.source_kind(con, import_id) == "retype":
                from .store.retype import undo as undo_retype

                return undo_retype(con, import_id)
            return edits.undo(con, import_id)

    def optimize(self):
        """Store the images in path order, which makes pages of results (``ORDER BY path``) fast;
        imports keep that order, catalogs made before them may not. Nothing visible changes (ids,
        values, history, undo). Returns a ``ReorderReport`` (``rewritten`` False: already in order)."""
        from .store.reorder import reorder

        with self.writing(create=False) as con:
            return reorder(con)

    def worth_optimizing(self) -> bool:
        """Whether ``optimize`` would make pages clearly faster (a large catalog stored mostly out
        of path order, or in many small runs); reads the paths once (~0.4 s per million images)."""
        from .store.reorder import worth_optimizing

        with self.reading() as con:
            return worth_optimizing(con)

    # -- fields ------------------------------------------------------------------------------
    def declare_field(self, name: str, type_: str, *, options: Sequence[str] = (), locked: bool = False) -> S.Field:
        from .store.field_edits import declare_field

        with self.writing() as con:
            return declare_field(con, name, type_, options=options, locked=locked)

    def retype_field(self, name: str, type_: str):
        """Change a key's type to any type: every current and historical value is checked first and
        nothing changes if one does not fit (``RetypeRefused`` lists them). Recorded as a change of
        its own (``result.source_id``) that ``undo`` reverts. Returns a ``RetypeResult``."""
        from .store.retype import retype

        with self.writing(create=False) as con:
            return retype(con, name, type_)


__all__ = ["Catalog", "ImageInfo", "KeyInfo", "StoredValue", "ValueCounts", "CatalogError", "default_db"]
