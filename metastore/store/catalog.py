"""The Catalog: the library's front door. Opens the DuckDB file per operation (read-only for
reads, so any number of searches can run at once; see ``connection.py``) and calls the stage
that does the work."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import duckdb

from .. import schema as S
from ..errors import CatalogError, ImportFailed, NotFoundError, UsageError
from . import ddl, txn
from .codec import from_json_expr, to_json_expr
from .connection import Handle, open_db, quote, release_idle
from .fields import load_fields, load_schema

if TYPE_CHECKING:
    from .importer import ImportReport
    from .search import SearchResult


def default_db() -> str:
    return os.environ.get("METASTORE_DB") or "metastore.duckdb"


@dataclass
class StoredValue:
    key: str
    type: str
    value: object
    source_id: int | None
    source_kind: str | None
    source_detail: str | None
    at: object


@dataclass
class ImageInfo:
    path: str
    media_id: str
    tags: list[str]
    values: list[StoredValue]


@dataclass
class KeyInfo:
    name: str
    type: str
    declared: bool
    locked: bool
    count: int
    distinct: int
    examples: list[object]
    options: tuple[str, ...]


@dataclass
class ValueCounts:
    key: str
    type: str
    rows: list  # (value, count), most common first
    missing: int  # images (matching the query) without the key


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
               limit: int | None = None, offset: int | None = None) -> "SearchResult":
        """The images matching ``query``: ``.paths()``, ``.count()``, ``.rows()``, ``.to_arrow()``.
        ``offset`` skips that many results of the ordered list (a page: ``limit=100, offset=200``)."""
        from .search import run_search

        return run_search(self, query, columns=columns, sort=sort, limit=limit, offset=offset)

    def count(self, query: str = "") -> int:
        return self.search(query).count()

    # -- export and facets -------------------------------------------------------------------
    def export(self, query: str, out: str | os.PathLike, **options):
        """Write a training subset to the folder ``out`` (see :func:`metastore.export.export` for
        the options: format, columns, media, media_root, split, group_by, sample, seed, limit,
        sort, force, skip_missing). Returns an ``ExportReport``."""
        from ..export import export

        return export(self, query, out, **options)

    def export_from(self, record: str | os.PathLike, out: str | os.PathLike, *, force: bool = False):
        """Rebuild the export an ``export.json`` describes into ``out``; ``report.warnings`` says
        when the catalog changed since."""
        from ..export import export_from

        return export_from(self, record, out, force=force)

    def publish(self, out: str | os.PathLike, query: str = "", *, partition_by: str | None = None,
                force: bool = False):
        """Write the current values (of the images matching ``query``) as a Parquet dataset:
        ``out/images/`` and ``out/metastore.json`` (see ``docs/scale-out.md``)."""
        from .publish import publish

        return publish(self, out, query, partition_by=partition_by, force=force)

    def facets(self, keys: Sequence[str], query: str = "", *, bins: int = 20, top: int = 10) -> list:
        """Value counts (or histograms) of ``keys`` among the images matching ``query``."""
        from .facets import run_facets

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

    @contextmanager
    def _scratch(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory catalog, for a dry run against a catalog that does not exist yet."""
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        for stmt in ddl.CREATE:
            con.execute(stmt)
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
        from .check import check_catalog

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
        from .importer import ImportOptions, run_import  # not loaded by searches (CLI start-up)

        opts = ImportOptions(dict(types or {}), id_column, strategy, strict, dry_run, list(tags),
                             normalize_keys, format, field, path_template, path_prefix or "", exif,
                             dict(datetime_formats or {}))
        files = [Path(p) for p in paths]
        for f in files:
            if not f.exists():
                raise ImportFailed(f"no such file or folder: {f}")
        ctx = self._scratch() if dry_run and not self.path.exists() else self.writing()
        with ctx as con:
            return run_import(con, files, opts, load_schema(con, with_tags=False), progress=progress)

    # -- reading -----------------------------------------------------------------------------
    def show(self, path: str) -> ImageInfo:
        with self.reading() as con:
            fields = load_fields(con)
            cols = ", ".join(f"{quote(f.column)}, {quote(f.source_column)}" for f in fields)
            row = con.execute(
                f"SELECT path, media_id::VARCHAR, tags{', ' + cols if cols else ''} FROM images WHERE path = ?",
                [path]).fetchone()
            if row is None:
                raise NotFoundError(f"no image '{path}' in the catalog", help=_similar_paths(con, path))
            sources = {r[0]: r[1:] for r in con.execute("SELECT id, kind, detail, ts FROM sources").fetchall()}
            values = []
            for i, f in enumerate(fields):
                value, src = row[3 + 2 * i], row[4 + 2 * i]
                if value is None:
                    continue
                kind, detail, at = sources.get(src, (None, None, None))
                values.append(StoredValue(f.name, f.type, value, src, kind, detail, at))
            return ImageInfo(row[0], row[1], list(row[2] or []), values)

    def known_paths(self, paths: Sequence[str]) -> set[str]:
        """Which of ``paths`` are images of the catalog (one query for the lot)."""
        paths = list(dict.fromkeys(paths))
        if not paths:
            return set()
        with self.reading() as con:
            return {r[0] for r in con.execute("SELECT path FROM images WHERE list_contains(?, path)",
                                              [paths]).fetchall()}

    def keys(self) -> list[KeyInfo]:
        with self.reading() as con:
            fields = load_fields(con)
            if not fields:
                return []
            aggs = []
            for f in fields:
                c = quote(f.column)
                aggs.append(f"count(DISTINCT {c})")
                aggs.append(f"list(DISTINCT {c}) FILTER (WHERE {c} IS NOT NULL)[1:3]")
            row = con.execute(f"SELECT {', '.join(aggs)} FROM images").fetchone()
            return [KeyInfo(f.name, f.type, f.declared, f.locked, f.count, row[2 * i], list(row[2 * i + 1] or []),
                            f.options) for i, f in enumerate(fields)]

    def values(self, key: str, *, prefix: str | None = None, limit: int | None = 50,
               query: str = "") -> list[tuple[object, int]]:
        """Distinct values of ``key`` with counts, most common first (among images matching ``query``)."""
        return self.value_counts(key, prefix=prefix, limit=limit, query=query).rows

    def value_counts(self, key: str, *, prefix: str | None = None, limit: int | None = 50,
                     query: str = "") -> "ValueCounts":
        """Like :meth:`values`, with the key's type and ``missing``: matching images without the key."""
        where, qparams = "TRUE", []
        if query:
            from ..query import compile_where

            where, qparams = compile_where(self.search(query).checked)
        with self.reading() as con:
            f = _field(con, key)
            c = quote(f.column)
            item = f"unnest({c})" if f.type == S.MULTI_ENUM else c
            params = list(qparams)
            cond = ""
            if prefix:
                params.append(prefix)
                cond = f"WHERE starts_with(lower(CAST(v AS VARCHAR)), lower(${len(params)}))"
            lim = "" if limit is None else f"LIMIT {int(limit)}"
            rows = con.execute(
                f"SELECT v, count(*) AS n FROM (SELECT {item} AS v FROM images WHERE {c} IS NOT NULL AND ({where})) "
                f"{cond} GROUP BY v ORDER BY n DESC, v {lim}", params).fetchall()
            missing = con.execute(f"SELECT count(*) FROM images WHERE {c} IS NULL AND ({where})",
                                  list(qparams)).fetchone()[0]
            return ValueCounts(f.name, f.type, rows, missing)

    def imports(self) -> list[dict]:
        with self.reading() as con:
            cur = con.execute(
                "SELECT id, ts, detail, strategy, status, rows_read, rows_written, rows_failed, rows_unchanged, "
                "images_added, keys, undone_by FROM sources WHERE kind = 'import' ORDER BY id")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

    def import_record(self, import_id: int) -> tuple[dict, list[tuple]]:
        with self.reading() as con:
            cur = con.execute("SELECT * FROM sources WHERE id = ? AND kind = 'import'", [import_id])
            row = cur.fetchone()
            if row is None:
                raise NotFoundError(f"no import with id {import_id}", help="list them with: metastore imports")
            rec = dict(zip([d[0] for d in cur.description], row))
            errors = con.execute(
                "SELECT file, row, key, value, reason FROM import_errors WHERE source_id = ? "
                "ORDER BY row NULLS FIRST, file", [import_id]).fetchall()
            return rec, errors

    # -- manual edits, history, undo ---------------------------------------------------------
    def set(self, path: str, assignments: dict[str, str] | Sequence[tuple[str, str]], *,
            types: dict[str, str] | None = None) -> int:
        """Set values by hand (auto-typed like a CSV cell unless the key exists or ``types`` says)."""
        from . import edits

        items = list(assignments.items()) if isinstance(assignments, dict) else list(assignments)
        with self.writing(create=False) as con:
            return edits.set_values(con, path, items, dict(types or {}))

    def unset(self, path: str, keys: Sequence[str]) -> int:
        from . import edits

        with self.writing(create=False) as con:
            return edits.unset_values(con, path, list(keys))

    def tag(self, paths: Sequence[str] | None = None, *, query: str | None = None,
            add: Sequence[str] = (), remove: Sequence[str] = ()) -> int:
        """Add/remove tags on the given paths, or on every image ``query`` matches."""
        from . import edits

        where = None
        if query is not None:
            from ..query import compile_where

            where = compile_where(self.search(query).checked)
        with self.writing(create=False) as con:
            return edits.tag(con, list(paths) if paths is not None else None, where, list(add), list(remove))

    def history(self, path: str, key: str | None = None):
        from . import edits

        with self.reading() as con:
            return edits.history(con, path, key)

    def undo(self, import_id: int):
        """Revert an import, or a retype (``metastore fields retype`` prints its id)."""
        from . import edits

        with self.writing(create=False) as con:
            kind = con.execute("SELECT kind FROM sources WHERE id = ?", [import_id]).fetchone()
            if kind is not None and kind[0] == "retype":
                from .retype import undo as undo_retype

                return undo_retype(con, import_id)
            return edits.undo(con, import_id)

    # -- fields ------------------------------------------------------------------------------
    def declare_field(self, name: str, type_: str, *, options: Sequence[str] = (), locked: bool = False) -> S.Field:
        if type_ not in S.TYPES:
            raise UsageError(f"unknown type '{type_}'", help=f"types are: {', '.join(S.TYPES)}")
        problem = S.key_problem(name)
        if problem:
            raise UsageError(f"invalid key '{name}': {problem}")
        if options and type_ not in (S.ENUM, S.MULTI_ENUM):
            raise UsageError("--options only applies to enum and multi-enum fields")
        bad = [o for o in options if len(o) > S.MAX_OPTION_LENGTH]
        if bad:
            raise UsageError(f"option '{bad[0]}' is longer than {S.MAX_OPTION_LENGTH} characters")
        with self.writing() as con:
            con.execute("BEGIN")
            existing = {f.name: f for f in load_fields(con)}
            if name in existing:
                f = existing[name]
                if f.type != type_:
                    con.execute("ROLLBACK")
                    raise UsageError(
                        f"key '{name}' is already a {f.type}",
                        help=f"to widen it: metastore fields retype {name} string" if type_ == S.STRING else None)
                con.execute(
                    "UPDATE fields SET declared = true, locked = ?, "
                    "options = list_sort(list_distinct(list_concat(options, ?))) WHERE id = ?",
                    [locked or f.locked, list(options), f.id])
            else:
                fid = con.execute("SELECT coalesce(max(id), 0) + 1 FROM fields").fetchone()[0]
                f = S.Field(name, type_, fid)
                con.execute("INSERT INTO fields VALUES (?, ?, ?, true, ?, ?, 0, now()::TIMESTAMP)",
                            [fid, name, type_, locked, sorted(set(options))])
                con.execute(f"ALTER TABLE images ADD COLUMN {quote(f.column)} {f.sql_type}")
                con.execute(f"ALTER TABLE images ADD COLUMN {quote(f.source_column)} INTEGER")
            txn.commit(con)
            return next(x for x in load_fields(con) if x.name == name)

    def retype_field(self, name: str, type_: str):
        """Change a key's type to any type: every current and historical value is checked first and
        nothing changes if one does not fit (``RetypeRefused`` lists them). Recorded as a change of
        its own (``result.source_id``) that ``undo`` reverts. Returns a ``RetypeResult``."""
        from .retype import retype

        with self.writing(create=False) as con:
            return retype(con, name, type_)


def _field(con, key: str) -> S.Field:
    return S.Schema(tuple(load_fields(con))).require(key)


def _similar_paths(con, path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    rows = con.execute("SELECT path FROM images WHERE path LIKE '%' || ? ORDER BY path LIMIT 3",
                       [name]).fetchall()
    if rows:
        return "did you mean " + ", ".join(repr(r[0]) for r in rows) + "?"
    return "paths are stored as given at import; list some with: metastore search '' --limit 5"


__all__ = ["Catalog", "ImageInfo", "KeyInfo", "StoredValue", "ImportReport", "CatalogError", "default_db"]
