"""Everything formatted for humans: tables, caret-underlined query errors, results, facets, export
reports (import reports and progress: ``render_imports.py``). With render_imports, the only
modules that know about rich (imported lazily: completion stays fast)."""

from __future__ import annotations

import json
import sys

from . import types as T
from .types import json_value as value_json, text as value_text


#: The width of tables written to a pipe or file: wide enough never to cut a row (a script reads
#: them whole); on a terminal, its own width.
PIPE_WIDTH = 100_000


def _console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if _isatty(stream) else PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str, indent=1))


def fmt_value(value, type_: str | None = None) -> str:
    """One stored value as text a user can paste back into a query."""
    return value_text(value)


json_value = value_json


# -- errors ------------------------------------------------------------------------------------
def error(message: str, help: str | None = None) -> None:
    con = _console(stderr=True)
    con.print(f"[bold red]error:[/] {_esc(message)}")
    if help:
        con.print(f"  [cyan]help:[/] {_esc(help)}")


def query_error(err, query: str, *, as_json: bool = False) -> None:
    """Each issue of a QueryError: message, the query with the span underlined, the help line."""
    if as_json:
        print(json.dumps(err.to_dict(), ensure_ascii=False), file=sys.stderr)
        return
    con = _console(stderr=True)
    for issue in err.issues:
        con.print(f"[bold red]error:[/] {_esc(issue.message)}")
        for line in caret_lines(query, issue.start, issue.end):
            con.print("  " + _esc(line), style="bold" if "^" not in line else "red")
        if issue.help:
            con.print(f"  [cyan]help:[/] {_esc(issue.help)}")


def caret_lines(query: str, start: int, end: int) -> list[str]:
    """The query (one line; control characters shown as spaces) and a caret line under the span."""
    shown = "".join(" " if (ord(ch) < 32 or ch in "\u00a0\u2028\u2029") else ch for ch in query)
    start = max(0, min(start, len(shown)))
    end = max(start + 1, min(end, len(shown) + 1))
    return [shown, " " * start + "^" * (end - start)]


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))


# -- search ------------------------------------------------------------------------------------
def results(result, fmt: str) -> int:
    """Matches on stdout in the chosen format; nothing else goes to stdout. Returns how many."""
    rows = result.rows() if fmt != "paths" else None
    keys = [f.name for f in result.columns]
    types = {f.name: f.type for f in result.columns}
    if fmt == "paths":
        out = sys.stdout
        paths = result.paths()
        for p in paths:
            out.write(p + "\n")
        return len(paths)
    if fmt == "csv":
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["path", "media_id"] + keys)
        for r in rows:
            w.writerow([r["path"], r["media_id"]] + [fmt_value(r[k], types[k]) for k in keys])
        return len(rows)
    if fmt in ("jsonl", "json"):
        items = [{k: json_value(v) for k, v in r.items()} for r in rows]
        if fmt == "json":
            print(json.dumps(items, ensure_ascii=False, indent=1))
        else:
            for item in items:
                print(json.dumps(item, ensure_ascii=False))
        return len(rows)
    from rich.table import Table

    t = Table(header_style="bold", box=None, pad_edge=False)
    t.add_column("path", overflow="fold")
    for k in keys:
        t.add_column(k)
    for r in rows:
        t.add_row(_esc(r["path"]), *(_esc(fmt_value(r[k], types[k])) for k in keys))
    _console().print(t)
    total = result.count() if result.limit is not None else len(rows)
    shown = f"{len(rows):,} of {total:,}" if total != len(rows) else f"{total:,}"
    _console(stderr=True).print(f"{shown} image{'s' if total != 1 else ''}")
    return len(rows)


def explain(ex) -> None:
    """``--explain``: the interpretation, time zone, SQL, parameters and per-clause counts (stderr)."""
    err = _console(stderr=True)
    err.print(f"[bold]query:[/] {_esc(ex.interpretation)}")
    err.print(f"[bold]time zone:[/] {ex.timezone} (datetimes without an offset)")
    err.print(f"[bold]sql:[/] {_esc(ex.sql)}")
    if getattr(ex, "columns", None):  # the SQL names key columns by number: say which key each is
        err.print("[bold]columns:[/] " + _esc(", ".join(f"{col} = {key} ({type_})" for col, key, type_ in ex.columns)))
    err.print("[bold]params:[/] " + _esc(", ".join(f"${i} = {v!r}" for i, v in enumerate(ex.params, 1))))
    for text, n in ex.clauses:
        err.print(f"  {n:>10,}  {_esc(text)}")
    err.print(f"  {ex.total:>10,}  all clauses")


# -- catalog views -----------------------------------------------------------------------------
def image(info, *, as_json: bool = False) -> None:
    if as_json:
        _print_json({"path": info.path, "media_id": info.media_id, "tags": info.tags, "values": [
            {"key": v.key, "type": v.type, "value": json_value(v.value), "source_id": v.source_id,
             "source": v.source_kind, "source_detail": v.source_detail,
             "at": v.at.isoformat() if v.at else None} for v in info.values]})
        return
    from rich.table import Table

    out = _console()
    out.print(f"[bold]{_esc(info.path)}[/]  media_id {info.media_id}")
    out.print("tags: " + (_esc(", ".join(info.tags)) if info.tags else "(none)"))
    t = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("key", "type", "value", "source", "when"):
        t.add_column(col)
    for v in info.values:
        src = f"import {v.source_id}" if v.source_kind == "import" else (v.source_kind or "?")
        if v.source_kind == "import" and v.source_detail:
            src += f" ({v.source_detail})"
        when = v.at.strftime("%Y-%m-%d %H:%M:%S") if v.at else ""
        t.add_row(_esc(v.key), v.type, _esc(fmt_value(v.value, v.type)), _esc(src), when)
    out.print(t)


def keys(infos, *, as_json: bool = False) -> None:
    if as_json:
        _print_json([{"key": k.name, "type": k.type, "declared": k.declared, "locked": k.locked,
                      "images": k.count, "distinct": k.distinct, "examples": [json_value(e) for e in k.examples],
                      "options": list(k.options)} for k in infos])
        return
    from rich.table import Table

    out = _console()
    if not infos:
        _console(stderr=True).print("no keys yet: import metadata with metastore import FILE")
        return
    t = Table(header_style="bold")
    for col, just in (("key", "left"), ("type", "left"), ("images", "right"), ("distinct", "right"),
                      ("examples", "left")):
        t.add_column(col, justify=just)
    for k in infos:
        kind = k.type + (" (declared)" if k.declared else "") + (" 🔒" if k.locked else "")
        ex = "; ".join(fmt_value(e, k.type) for e in k.examples)
        t.add_row(_esc(k.name), kind, f"{k.count:,}", f"{k.distinct:,}", _esc(ex))
    out.print(t)


def value_counts(counts, *, as_json: bool = False) -> None:
    """A key's distinct values with counts, then ``(missing)``: images without the key."""
    if as_json:
        _print_json({"key": counts.key, "type": counts.type, "missing": counts.missing,
                     "values": [{"value": json_value(v), "count": n} for v, n in counts.rows]})
        return
    out = _console()
    labels = [fmt_value(v, counts.type) for v, _ in counts.rows]
    if counts.missing:
        labels.append("(missing)")
    width = max((len(x) for x in labels), default=0)
    for label, (_, n) in zip(labels, counts.rows):
        out.print(f"{_esc(label).ljust(width)}  {n:,}")
    if counts.missing:
        out.print(f"{'(missing)'.ljust(width)}  {counts.missing:,}", style="dim")


def field_line(f) -> None:
    extra = f" options: {', '.join(f.options)}" if f.options else ""
    _console().print(f"{_esc(f.name)}: {f.type}{' (locked)' if f.locked else ''}{_esc(extra)}")


def history(entries, *, as_json: bool = False) -> None:
    if as_json:
        _print_json([{"at": e.ts.isoformat() if e.ts else None, "key": e.key, "old": json_value(e.old),
                      "new": json_value(e.new), "source_id": e.source_id, "source": e.source} for e in entries])
        return
    from rich.table import Table

    if not entries:
        _console(stderr=True).print("no values and no changes recorded for this image")
        return
    t = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("when", "key", "old", "new", "source"):
        t.add_column(col)
    for e in entries:
        when = e.ts.strftime("%Y-%m-%d %H:%M:%S") if e.ts else ""
        old = "(none)" if e.old is None else fmt_value(e.old)
        new = "(removed)" if e.new is None else fmt_value(e.new)
        t.add_row(when, _esc(e.key), _esc(old), _esc(new), _esc(e.source))
    _console().print(t)


def retype_result(r) -> None:
    field_line(r.field)
    if r.source_id is not None:
        hist = f" and {r.history_values:,} in its history" if r.history_values else ""
        _console(stderr=True).print(f"{r.values:,} values converted{hist} (change {r.source_id}; "
                                    f"revert it with: metastore undo {r.source_id})")


def undo_report(r) -> None:
    if hasattr(r, "retype_id"):
        extra = f", {r.respelled:,} given back their exact old text" if r.respelled else ""
        _console().print(f"undid retype {r.retype_id} (as change {r.undo_id}): '{_esc(r.key)}' is {T.TYPES[r.type].a} "
                         f"again, {r.values:,} values converted{extra}")
        return
    _console().print(
        f"undid import {r.import_id} (as change {r.undo_id}): {r.values_reverted:,} values restored, "
        f"{r.images_removed:,} images it added removed")
    if r.values_kept:
        _console(stderr=True).print(
            f"note: {r.values_kept:,} values it set were changed again later; those later changes were kept "
            f"(see metastore history PATH)")


def message(text: str) -> None:
    """A non-data message (stderr)."""
    _console(stderr=True).print(_esc(text))


def hint(text: str) -> None:
    """A zero-result hint (stderr; stdout and the exit code stay as they are)."""
    _console(stderr=True).print(f"[cyan]hint:[/] {_esc(text)}")


def warning(text: str) -> None:
    """A warning (stderr)."""
    _console(stderr=True).print(f"[yellow]warning:[/] {_esc(text)}")


def check_report(r) -> None:
    """``metastore check``: ``OK …`` or one problem per line (stdout: it is the command's data)."""
    if r.ok:
        print(f"OK: {r.rules:,} rules, {r.images:,} images, {r.keys:,} keys, {r.sources:,} sources, "
              f"{r.history:,} history rows")
        return
    for p in r.problems:
        print(f"problem: {p}")


def optimize_report(r) -> None:
    """``metastore optimize``: what it rewrote (stdout)."""
    if r.shared_prefix is not None:
        print(f"every path starts with {r.shared_prefix!r}, and DuckDB's row-group statistics keep only a "
              f"path's first bytes (that many): storing the {r.images:,} images in path order would not make "
              f"pages faster; nothing was changed (docs/serve.md)")
        return
    if not r.rewritten:
        print(f"already in path order: {r.images:,} images; nothing to do")
        return
    print(f"stored {r.images:,} images in path order ({r.out_of_order:,} were out of order); "
          f"ids, values, history and undo are unchanged")


# -- facets and export -------------------------------------------------------------------------
_BAR_WIDTH = 32
_BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(count: int, most: int, width: int = _BAR_WIDTH) -> str:
    """A horizontal bar of ``count / most`` of ``width`` cells, in eighths."""
    if most <= 0 or count <= 0:
        return ""
    eighths = max(1, round(count / most * width * 8))
    return "█" * (eighths // 8) + (_BLOCKS[eighths % 8] if eighths % 8 else "")


def _num(x: float) -> str:
    return fmt_value(float(x))


_UNIT_FORMATS = {"minute": "%Y-%m-%d %H:%M", "hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d",
                 "week": "week of %Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def bucket_label(facet, b) -> str:
    """A facet bucket as text: the value, ``lower – upper`` for a bin, ``(missing)``, ``(other)``."""
    if b.kind in ("missing", "other"):
        return f"({b.kind})"
    if b.kind == "value":
        return fmt_value(b.value, facet.type)
    if facet.unit == "quarter":
        return f"{b.lower.year}-Q{(b.lower.month - 1) // 3 + 1}"
    if facet.unit:
        return b.lower.strftime(_UNIT_FORMATS[facet.unit])
    return f"{_num(b.lower)} – {_num(b.upper)}"


def facets(items, *, as_json: bool = False) -> None:
    """Each facet as a bar chart (stdout): label, count, bar, share of the result's images."""
    if as_json:
        data = [{"key": f.key, "type": f.type, "images": f.total, "histogram": f.histogram,
                 "step": f.step, "unit": f.unit,
                 "buckets": [{"label": bucket_label(f, b), "kind": b.kind, "count": b.count,
                              "value": json_value(b.value), "lower": json_value(b.lower),
                              "upper": json_value(b.upper)} for b in f.buckets]} for f in items]
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return
    from rich.table import Table

    out = _console()
    for i, f in enumerate(items):
        if i:
            out.print()
        how = f" (bins of {_num(f.step)}, [lower, upper))" if f.step else (f" (by {f.unit})" if f.unit else "")
        per = " — images per option" if T.TYPES[f.type].listed else ""
        out.print(f"[bold]{_esc(f.key)}[/] {f.type}{how}{per}, {f.total:,} image{'s' if f.total != 1 else ''}")
        most = max((b.count for b in f.buckets), default=0)
        t = Table(box=None, show_header=False, pad_edge=False)
        t.add_column("label", overflow="fold")
        t.add_column("count", justify="right")
        t.add_column("bar", style="cyan", no_wrap=True)
        t.add_column("share", justify="right", style="dim")
        for b in f.buckets:
            share = f"{b.count / f.total:.1%}" if f.total else ""
            label = _esc(bucket_label(f, b))
            t.add_row(f"[dim]{label}[/]" if b.kind in ("missing", "other") else label, f"{b.count:,}",
                      bar(b.count, most), share)
        out.print(t)


def export_report(report, *, as_json: bool = False) -> None:
    """What an export wrote (stderr; ``--json`` prints the report on stdout), and its warnings."""
    err = _console(stderr=True)
    for w in report.warnings:
        err.print(f"[yellow]warning:[/] {_esc(w)}")
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
        return
    shown = f"{report.rows:,}" + (f" of {report.matched:,} matching" if report.rows != report.matched else "")
    err.print(f"exported {shown} image{'s' if report.rows != 1 else ''} to {_esc(report.out)}: "
              f"{report.manifest.name}, {report.record.name}")
    if report.media:
        err.print(f"media: {report.placed:,} file{'s' if report.placed != 1 else ''} "
                  f"{ {'copy': 'copied', 'symlink': 'symlinked', 'hardlink': 'hard-linked'}[report.media]} "
                  f"under {_esc(report.out / 'media')}")
    if report.missing:
        err.print(f"[yellow]skipped {len(report.missing):,} image(s) whose file is missing[/] "
                  f"(listed in {report.record.name}): " + _esc(", ".join(report.missing[:5]))
                  + (" …" if len(report.missing) > 5 else ""))
    if report.splits:
        from rich.table import Table

        t = Table(box=None, header_style="bold", pad_edge=False)
        for col, just in (("split", "left"), ("ratio", "right"), ("images", "right"), ("achieved", "right")):
            t.add_column(col, justify=just)
        for s in report.splits:
            achieved = f"{s.count / report.rows:.3f}" if report.rows else "-"
            t.add_row(_esc(s.name), f"{s.ratio:.3f}", f"{s.count:,}", achieved)
        err.print(t)


def sql_text(dialect: str, sql: str, params: list, *, as_json: bool = False) -> None:
    """``metastore sql``: the SQL on stdout, then one ``-- name = value`` line per parameter (Spark
    binds datetimes as microseconds since the epoch: shown with the instant they mean)."""
    import math
    from datetime import datetime, timedelta, timezone

    names = [f"p{i}" for i in range(1, len(params) + 1)] if dialect == "spark" else \
        [f"${i}" for i in range(1, len(params) + 1)]

    def plain_value(v):
        if isinstance(v, float) and math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        if isinstance(v, datetime):
            return v.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if v.tzinfo else v.isoformat() + "Z"
        return v

    if as_json:
        shown = {n: plain_value(v) for n, v in zip(names, params)} if dialect == "spark" else \
            [plain_value(v) for v in params]
        print(json.dumps({"dialect": dialect, "sql": sql, "params": shown}, ensure_ascii=False))
        return
    print(sql)
    for n, v in zip(names, params):
        note = ""
        if dialect == "spark" and "timestamp_micros(:" + n + ")" in sql:
            when = datetime(1970, 1, 1) + timedelta(microseconds=v)
            note = f"  (microseconds since 1970: {when.isoformat()}Z)"
        shown = v.isoformat() + "Z" if isinstance(v, datetime) and v.tzinfo is None else \
            v.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if isinstance(v, datetime) else \
            json.dumps(v, ensure_ascii=False)  # Infinity stays a number
        print(f"-- {n} = {shown}{note}")
