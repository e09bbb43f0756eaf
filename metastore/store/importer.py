"""One import, end to end: stage → plan (types, validation) → apply → import record.

The whole import runs in one transaction on the catalog connection: a failure or a kill at any
point leaves the catalog as it was. ``dry_run`` runs everything and rolls back.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from .. import schema as S
from ..errors import UsageError
from . import folders, txn
from .connection import bounded_memory
from ..readers import records as R
from .fields import load_fields
from .apply import STRATEGIES, apply_import, ensure_fields
from .writes import insert_history, next_id, record_import, refresh_field_stats
from .plan import KeyPlan, confirm_assumed, is_unverified, plan_import
from .stage import Issue, build_stage
from .handoff import ERRS, TYPED

#: How many row errors an import record keeps in full (the counts are always exact).
MAX_STORED_ERRORS = 100_000


@dataclass
class ImportOptions:
    types: dict[str, str] = field(default_factory=dict)
    id_column: str | None = None
    strategy: str = "merge"
    strict: bool = False
    dry_run: bool = False
    tags: list[str] = field(default_factory=list)
    normalize_keys: bool = False
    format: str | None = None
    field: str | None = None  # Visual Layer upload files: the one field their values are for
    path_template: str | None = None  # e.g. "images/{image_id}.jpg": the path from columns
    path_prefix: str = ""  # prepended to every path (e.g. "val2017/")
    exif: bool = False  # folders: also read each image's header and EXIF (Pillow)
    datetime_formats: dict[str, str] = dataclasses.field(default_factory=dict)  # KEY -> strftime form


@dataclass
class ImportReport:
    import_id: int | None
    sources: list[str]
    strategy: str
    dry_run: bool
    rows_read: int = 0
    rows_written: int = 0
    rows_unchanged: int = 0
    rows_failed: int = 0
    cells_failed: int = 0  # values rejected in rows whose other values were written
    images_added: int = 0
    values_changed: int = 0
    keys: list[KeyPlan] = field(default_factory=list)
    column_issues: list[Issue] = field(default_factory=list)
    row_issues: list[Issue] = field(default_factory=list)  # the first ones, for display
    row_issue_count: int = 0
    committed: bool = False
    unchanged_files: int = 0  # folder images skipped because neither they nor their sidecar changed
    orphan_sidecars: list[str] = field(default_factory=list)  # .json files with no image beside them
    warnings: list[str] = field(default_factory=list)  # e.g. a --type for a key the input lacks

    @property
    def notes(self) -> list[str]:
        return [k.note for k in self.keys if k.note] + self.warnings

    @property
    def exit_code(self) -> int:
        """0 all good; 3 some rows written and some rejected; 1 nothing written due to errors."""
        failed = self.rows_failed or self.column_issues or self.cells_failed
        if not failed:
            return 0
        if self.committed and (self.rows_read - self.rows_failed) > 0:
            return 3
        return 1

    def to_dict(self) -> dict:
        return {
            "import_id": self.import_id, "sources": self.sources, "strategy": self.strategy,
            "dry_run": self.dry_run, "rows_read": self.rows_read, "rows_written": self.rows_written,
            "rows_unchanged": self.rows_unchanged, "rows_failed": self.rows_failed, "cells_failed": self.cells_failed,
            "images_added": self.images_added, "values_changed": self.values_changed,
            "keys": [{"key": k.key, "type": k.type, "status": k.status, "values": k.values, "note": k.note}
                     for k in self.keys],
            "errors": [str(i) for i in self.column_issues + self.row_issues],
            "error_count": len(self.column_issues) + self.row_issue_count,
        }


def check_options(opts: ImportOptions) -> None:
    if opts.strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy '{opts.strategy}'", help=f"use one of: {', '.join(STRATEGIES)}")
    for key, type_ in opts.types.items():
        if type_ not in S.TYPES:
            raise UsageError(f"unknown type '{type_}' for key '{key}'", help=f"types are: {', '.join(S.TYPES)}")


@dataclass
class Prepared:
    """What :func:`prepare` hands to :func:`write`: the report so far, the stage and the plan
    (their rows are in the TEMP tables of ``handoff.py``), and whether there is anything to write."""

    report: ImportReport
    stage: object = None
    plan: object = None
    batches: dict = field(default_factory=dict)
    failed: bool = False  # some value, row or key was rejected
    writable: bool = False


def run_import(con, files: list[Path], opts: ImportOptions, schema: S.Schema, *,
               detail: str | None = None, progress: Callable[[str], None] | None = None) -> ImportReport:
    """Prepare (read, type, validate: no catalog writes), then write in one transaction."""
    say = progress or (lambda _msg: None)
    with bounded_memory(con):
        prep = prepare(con, files, opts, schema, say)
        if not prep.writable:
            return prep.report
        try:
            return write(con, prep, opts, detail, say)
        except duckdb.Error as exc:
            if not is_unverified(exc):
                raise
        # A value past the first rows does not fit the type they gave its key (the write was
        # rolled back): type those keys from all their values, then write again.
        confirm_assumed(con, prep.plan)
        return write(con, prep, opts, detail, say)


def prepare(con, files: list[Path], opts: ImportOptions, schema: S.Schema,
            say: Callable[[str], None]) -> Prepared:
    """Read, stage, type and validate the files: fills the report and the TEMP tables of
    ``handoff.py``; writes nothing to the catalog."""
    check_options(opts)
    report = ImportReport(None, [str(f) for f in files], opts.strategy, opts.dry_run)
    say("scanning")
    yolo = (opts.format or "").lower() == "yolo"
    if yolo and not all(f.is_dir() for f in files):
        raise UsageError("--format yolo reads dataset folders (data.yaml, images/, labels/)",
                         help="import files and YOLO folders in separate imports")
    record_sets: dict[int, list] = {}
    yolo_notes: list[str] = []
    if yolo:
        from ..readers import yolo as Y

        for i, f in enumerate(files):
            record_sets[i], notes = Y.read_yolo(f, str(f))
            yolo_notes += notes
    batches = {} if yolo else {i: folders.prepare(con, f, str(f), exif=opts.exif)
                                for i, f in enumerate(files) if f.is_dir()}
    if opts.exif and not batches:
        raise UsageError("--exif reads the images of a folder", help="e.g. metastore import photos/ --exif")
    report.unchanged_files = sum(b.unchanged for b in batches.values())
    report.orphan_sidecars = [str(p) for b in batches.values() for p in b.orphans]
    report.warnings += [w for b in batches.values() for w in b.skipped]
    if batches and not any(b.records for b in batches.values()) and len(batches) == len(files):
        return Prepared(report)  # a folder re-run where nothing changed: nothing to read, nothing to write
    record_sets.update({i: b.records for i, b in batches.items()})
    report.warnings += yolo_notes
    if opts.field is not None:
        problem = S.key_problem(opts.field)
        if problem:
            raise UsageError(f"--field '{opts.field}': {problem}")
        for i, f in enumerate(files):
            if i not in record_sets:
                record_sets[i] = R.read_field_values(f, opts.field, lambda ids: _paths_for(con, ids))
    # Staging and planning only create TEMP tables (never the catalog file), outside the write
    # transaction so that their rowids are the file order.
    try:
        say("reading")
        from ..readers.records import parse_template
        from .stage import PathRule

        rule = PathRule(parse_template(opts.path_template) if opts.path_template else None, opts.path_prefix or "")
        stage = build_stage(con, files, fmt=None if yolo else opts.format, id_column=opts.id_column,
                            normalize=opts.normalize_keys, record_sets=record_sets, paths=rule)
        report.warnings += [f"key '{old}' imported as '{new}' (--normalize-keys)"
                            for old, new in stage.renamed.items()]
        say("typing and validating")
        plan = plan_import(con, stage, schema, opts.types, opts.datetime_formats)
        report.rows_read = stage.rows + stage.skipped
        report.keys = plan.keys
        staged = {c.key for c in stage.columns}
        report.warnings += [f"--type {k}={t}: no file of this import has a key '{k}' (check the spelling)"
                            for k, t in opts.types.items() if k not in staged]
        report.warnings += [f"--datetime-format {k}=…: no file of this import has a key '{k}' (check the spelling)"
                            for k in opts.datetime_formats if k not in staged]
        report.column_issues = plan.issues
        report.rows_failed = plan.failed_rows
        report.row_issue_count = plan.row_errors
        rows = con.execute(
            f"SELECT _file, _row, _src, key, value, reason FROM {ERRS} ORDER BY _file, _row LIMIT 1000").fetchall()
        report.row_issues = [Issue(src or stage.files[f], None if src else r, k, v, why, row_error=True)
                             for f, r, src, k, v, why in rows]
        report.cells_failed = plan.failed_cells
        failed = bool(plan.issues or plan.failed_rows or plan.failed_cells)
        stop = (failed and opts.strict) or (report.rows_read - plan.failed_rows == 0 and report.rows_read > 0 and failed)
        return Prepared(report, stage, plan, batches, failed, writable=not stop)
    except Exception as exc:  # e.g. a full TMPDIR while staging: one message (no transaction is open)
        raise txn.write_failure(exc) or exc from None


def write(con, prep: Prepared, opts: ImportOptions, detail: str | None, say: Callable[[str], None]) -> ImportReport:
    """Write a prepared import into the catalog in one transaction (rolled back for a dry run)."""
    report, stage, plan, batches, failed = prep.report, prep.stage, prep.plan, prep.batches, prep.failed
    say("writing")
    with txn.atomic(con, commit=not opts.dry_run):
        source_id = next_id(con, "sources")
        fields = ensure_fields(con, plan)
        all_fields = load_fields(con)
        written = apply_import(con, plan, fields, all_fields, source_id, opts.strategy)
        if opts.tags:
            _tag_imported(con, opts.tags, source_id)
        for i, batch in batches.items():
            folders.remember(con, batch, i, source_id, {r for f, r in stage.unread if f == i})
        report.rows_written = written.rows_written
        report.rows_unchanged = written.rows_unchanged
        report.images_added = written.images_added
        report.values_changed = written.values_changed
        report.import_id = source_id
        status = "partial" if failed else "ok"
        record_import(con, source_id, detail=detail or " ".join(report.sources), strategy=opts.strategy,
                      status=status, rows_read=report.rows_read, rows_written=report.rows_written,
                      rows_failed=report.rows_failed, rows_unchanged=report.rows_unchanged,
                      images_added=report.images_added, keys=[k.key for k in plan.keys],
                      options=json.dumps(_options_record(opts)))
        for issue in plan.issues:
            con.execute("INSERT INTO import_errors VALUES (?, ?, NULL, ?, NULL, ?)",
                        [source_id, issue.file, issue.key, issue.reason])
        files_list = stage.files
        con.execute(
            "INSERT INTO import_errors SELECT $sid, coalesce(_src, $files[_file + 1]), "
            f"CASE WHEN _src IS NULL THEN _row END, key, value, reason FROM {ERRS} "
            "ORDER BY _file, _row LIMIT $lim", {"sid": source_id, "files": files_list, "lim": MAX_STORED_ERRORS})
        refresh_field_stats(con, [f for f in all_fields if f.id in {x.id for x in fields.values()}]
                            if opts.strategy != "overwrite" else all_fields)
        if not opts.dry_run:
            say("committing")
    if opts.dry_run:
        report.import_id = None
        return report
    report.committed = True
    return report


def _paths_for(con, media_ids: list[str]) -> dict[str, str]:
    rows = con.execute("SELECT media_id::VARCHAR, path FROM images WHERE media_id::VARCHAR IN (SELECT unnest($ids::VARCHAR[]))",
                       {"ids": media_ids}).fetchall()
    return dict(rows)


def _tag_imported(con, tags: list[str], source_id: int) -> None:
    """``--tag T``: add tags to every image this import touched or registered — in history like
    any other change, so that undoing the import takes them away again."""
    from .ddl import TAGS_FIELD_ID
    from .edits import TAGS_SRC

    new = "list_sort(list_distinct(list_concat(images.tags, $tags)))"
    where = (f"path IN (SELECT t._path FROM {TYPED} t WHERE NOT EXISTS "
             f"(SELECT 1 FROM {ERRS} e WHERE e._file = t._file AND e._row = t._row AND NOT e.cell)) AND tags IS DISTINCT FROM {new}")
    insert_history(con, source="$sid", image="id", field=str(TAGS_FIELD_ID), old="tags", old_src="c.src", new=new,
                   new_src="$sid", rest=f"FROM images LEFT JOIN {TAGS_SRC} c USING (id) WHERE {where}",
                   params={"tags": tags, "sid": source_id})
    con.execute(f"UPDATE images SET tags = {new} WHERE {where}", {"tags": tags})


def _options_record(opts: ImportOptions) -> dict:
    return {"types": opts.types, "id_column": opts.id_column, "strict": opts.strict, "tags": opts.tags,
            "normalize_keys": opts.normalize_keys, "format": opts.format, "field": opts.field,
            "path_template": opts.path_template, "path_prefix": opts.path_prefix, "exif": opts.exif,
            "datetime_formats": opts.datetime_formats}
