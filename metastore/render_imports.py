"""Imports formatted for humans: the report of an import, its progress bar on stderr, the list of
imports and one import's record with its errors (``metastore import``, ``metastore imports``).
Shares render.py's console and escaping; rich is imported lazily."""

from __future__ import annotations

import json
import threading

from .render import _console, _esc, _print_json


def import_report(report, *, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
        return
    out = _console()
    err = _console(stderr=True)
    if report.unchanged_files and not report.rows_read:
        out.print(f"nothing changed: {report.unchanged_files:,} images and their sidecars are as the catalog "
                  f"last read them")
    for orphan in report.orphan_sidecars[:20]:
        err.print(f"[yellow]note:[/] {_esc(orphan)} has no image beside it; skipped")
    if not report.rows_read:
        return
    head = "dry run — nothing written" if report.dry_run else (
        f"import {report.import_id}" if report.import_id else "nothing written")
    if report.committed or report.dry_run:
        out.print(f"[bold]{head}[/]: {report.rows_read:,} rows read, {report.rows_written:,} written "
                  f"({report.images_added:,} new images), {report.rows_unchanged:,} unchanged, "
                  f"{report.rows_failed:,} failed"
                  + (f", {report.cells_failed:,} value{'s' if report.cells_failed != 1 else ''} rejected"
                     if report.cells_failed else ""))
        from rich.table import Table

        if report.keys:
            t = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
            for col in ("key", "type", "", "values"):
                t.add_column(col)
            for k in report.keys:
                t.add_row(_esc(k.key), k.type, k.status, f"{k.values:,}")
            out.print(t)
        for note in report.notes:
            out.print(f"[yellow]note:[/] {_esc(note)}")
    issues = report.column_issues + report.row_issues
    if issues:
        for issue in issues[:50]:
            err.print(f"[red]error:[/] {_esc(str(issue))}")
        total = len(report.column_issues) + report.row_issue_count
        if total > 50:
            more = f"… and {total - 50:,} more"
            if report.import_id:
                more += f" (all of them: metastore imports show {report.import_id})"
            err.print(more)
        if not report.committed and not report.dry_run:
            why = "--strict: nothing written" if report.rows_read - report.rows_failed > 0 else \
                "every row was rejected: nothing written"
            err.print(f"[bold red]error:[/] {why} ({report.rows_failed:,} of {report.rows_read:,} rows failed)")


class Progress:
    """A progress bar on stderr (stage name, bar, elapsed time), shown only when an operation
    lasts over a second. Imports run in a few set-wise steps, so the bar advances per stage."""

    STAGES = ("scanning", "reading", "typing and validating", "writing", "committing")

    def __init__(self, quiet: bool = False, delay: float = 1.0) -> None:
        self.quiet = quiet
        self.stage = "working"
        self._bar = None
        self._task = None
        self._lock = threading.Lock()
        self._timer = None if quiet else threading.Timer(delay, self._start)
        if self._timer:
            self._timer.daemon = True
            self._timer.start()

    def _done(self) -> int:
        return self.STAGES.index(self.stage) if self.stage in self.STAGES else 0

    def _start(self) -> None:
        from rich.progress import BarColumn, Progress as Bar, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._timer is None:
                return
            self._bar = Bar(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                            console=_console(stderr=True), transient=True)
            self._task = self._bar.add_task(self.stage + "…", total=len(self.STAGES), completed=self._done())
            self._bar.start()

    def __call__(self, stage: str) -> None:
        with self._lock:
            self.stage = stage
            if self._bar is not None:
                self._bar.update(self._task, description=stage + "…", completed=self._done())

    def close(self) -> None:
        with self._lock:
            if self._timer:
                self._timer.cancel()
                self._timer = None
            if self._bar is not None:
                self._bar.stop()
                self._bar = None


def imports(rows, *, as_json: bool = False) -> None:
    if as_json:
        _print_json([{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows])
        return
    from rich.table import Table

    if not rows:
        _console(stderr=True).print("no imports yet")
        return
    t = Table(header_style="bold")
    for col in ("id", "when", "source", "strategy", "status", "read", "written", "failed", "new images"):
        t.add_column(col)
    for r in rows:
        status = r["status"] + (f" (undone by {r['undone_by']})" if r.get("undone_by") else "")
        t.add_row(str(r["id"]), r["ts"].strftime("%Y-%m-%d %H:%M:%S"), _esc(r["detail"] or ""), r["strategy"] or "",
                  status, f"{r['rows_read']:,}", f"{r['rows_written']:,}", f"{r['rows_failed']:,}",
                  f"{r['images_added']:,}")
    _console().print(t)


def import_record(rec: dict, errors: list, *, as_json: bool = False) -> None:
    if as_json:
        out = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in rec.items()}
        if isinstance(out.get("options"), str):
            try:
                out["options"] = json.loads(out["options"])
            except ValueError:
                pass
        out["errors"] = [{"file": f, "row": r, "key": k, "value": v, "reason": why} for f, r, k, v, why in errors]
        _print_json(out)
        return
    out = _console()
    out.print(f"[bold]import {rec['id']}[/] at {rec['ts']:%Y-%m-%d %H:%M:%S} from {_esc(rec['detail'] or '')}")
    out.print(f"strategy {rec['strategy']}, status {rec['status']}: {rec['rows_read']:,} read, "
              f"{rec['rows_written']:,} written, {rec['rows_unchanged']:,} unchanged, {rec['rows_failed']:,} failed, "
              f"{rec['images_added']:,} new images")
    out.print("keys: " + _esc(", ".join(rec["keys"] or [])))
    if rec.get("options"):
        out.print("options: " + _esc(rec["options"]))
    if not errors:
        out.print("no errors")
    for file, row, key, value, reason in errors:
        where = file or ""
        if row is not None:
            where += f", row {row}"
        if key:
            where += f", key '{key}'"
        out.print(f"[red]error:[/] {_esc(where)}: {_esc(reason)}")
