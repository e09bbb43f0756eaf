"""The ``metastore`` command: parse options → call the library → render. One error boundary
(:func:`main`) turns every MetastoreError into one message on stderr and its exit code.

Keep module-level imports light: shell completion starts this program on every keypress.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(
    name="metastore",
    help="A local catalog of image metadata with a search language.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
fields_app = typer.Typer(help="Declare, retype and list keys (the catalog's fields) and their types.", no_args_is_help=True)
app.add_typer(fields_app, name="fields")


class State:
    db: Optional[str] = None
    quiet: bool = False
    wait: float = 10.0
    json_errors: bool = False  # query errors as {message, start, end, help} (--format json)


state = State()


def _complete_query(ctx: typer.Context, incomplete: str):
    from .completion import shell_query

    return shell_query(ctx, incomplete)


def _complete_key(ctx: typer.Context, incomplete: str):
    from .completion import shell_keys

    return shell_keys(ctx, incomplete)


def catalog():
    from .render import message
    from .catalog import Catalog

    return Catalog(state.db, wait=state.wait, on_wait=None if state.quiet else message)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"metastore {version('metastore')}")
        raise typer.Exit()


@app.callback()
def _main(
    db: Optional[str] = typer.Option(None, "--db", envvar="METASTORE_DB",
                                     help="Catalog file (default: ./metastore.duckdb)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress output."),
    wait: float = typer.Option(10.0, "--wait", min=0, help="Seconds to wait for a locked catalog."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    import math

    if not math.isfinite(wait):  # nan passes min=0 and would wait forever
        from .errors import UsageError

        raise UsageError(f"--wait must be a number of seconds, 0 or more, got {wait}", help="e.g. --wait 30")
    state.db, state.quiet, state.wait = db, quiet, wait


def _parse_types(items: List[str]) -> dict:
    from .errors import UsageError

    out = {}
    for item in items or []:
        key, sep, type_ = item.partition("=")
        if not sep or not key or not type_:
            raise UsageError(f"--type expects KEY=TYPE, got '{item}'", help="e.g. --type weather=enum")
        out[key.strip()] = type_.strip()
    return out


def _parse_pairs(items: List[str], option: str, example: str) -> dict:
    from .errors import UsageError

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value:
            raise UsageError(f"{option} expects KEY=VALUE, got '{item}'", help=f"e.g. {option} '{example}'")
        out[key.strip()] = value
    return out


@app.command("import")
def import_(
    sources: List[Path] = typer.Argument(..., help="CSV/TSV/JSON/JSONL files or sidecar folders."),
    type_: List[str] = typer.Option([], "--type", help="Declare a key's type: KEY=TYPE (repeatable)."),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="Column holding image paths."),
    strategy: str = typer.Option("merge", "--strategy",
                                 help="merge | merge-keep-user | overwrite | until-first-change | append"),
    strict: bool = typer.Option(False, "--strict", help="Write nothing if any row fails."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; write nothing."),
    tag: List[str] = typer.Option([], "--tag", help="Tag every imported image (repeatable)."),
    normalize_keys: bool = typer.Option(False, "--normalize-keys",
                                        help="Repair invalid keys, keeping case: 'Patient ID' → Patient_ID."),
    format_: Optional[str] = typer.Option(None, "--format",
                                          help="csv | tsv | json | jsonl | coco (default: by extension; a COCO "
                                               "file is recognised) | yolo (a dataset folder)."),
    path_template: Optional[str] = typer.Option(None, "--path-template",
                                                help="Build each path from columns: 'images/{image_id}.jpg'."),
    path_prefix: str = typer.Option("", "--path-prefix", help="Prepend to every path (e.g. val2017/)."),
    exif: bool = typer.Option(False, "--exif", help="Folders: also read each image's header and EXIF (Pillow)."),
    datetime_format: List[str] = typer.Option([], "--datetime-format",
                                              help="KEY=FORMAT: read KEY's datetimes in this strftime form, "
                                                   "e.g. 'seen=%m/%d/%Y %H:%M' (repeatable)."),
    field: Optional[str] = typer.Option(None, "--field",
                                        help="The files are Visual Layer upload files of {media_id, value} for this key."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import metadata into the catalog (one transaction; bad rows are reported, good rows kept)."""
    from . import render_imports

    progress = render_imports.Progress(quiet=state.quiet or as_json)
    try:
        report = catalog().import_files(
            sources, types=_parse_types(type_), id_column=id_column, strategy=strategy, strict=strict,
            dry_run=dry_run, tags=tag, normalize_keys=normalize_keys, format=format_, field=field,
            path_template=path_template, path_prefix=path_prefix, exif=exif,
            datetime_formats=_parse_pairs(datetime_format, "--datetime-format", "seen=%m/%d/%Y %H:%M"),
            progress=progress)
    finally:
        progress.close()
    render_imports.import_report(report, as_json=as_json)
    raise typer.Exit(report.exit_code)


@app.command()
def show(path: str = typer.Argument(..., help="The image path as stored."),
         as_json: bool = typer.Option(False, "--json", help="Print as JSON (for scripts).")) -> None:
    """One image: every key with type, value and provenance; its tags."""
    from . import render

    render.image(catalog().show(path), as_json=as_json)


@app.command()
def keys(as_json: bool = typer.Option(False, "--json", help="Print as JSON (for scripts).")) -> None:
    """Every key: type, images having it, distinct values, examples."""
    from . import render

    render.keys(catalog().keys(), as_json=as_json)


@app.command()
def values(
    key: str = typer.Argument(..., help="The key.", autocompletion=_complete_key),
    prefix: Optional[str] = typer.Option(None, "--prefix", help="Only values starting with this."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many values."),
    q: Optional[str] = typer.Option(None, "-q", "--query", help="Only images matching this query."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON (for scripts)."),
) -> None:
    """Distinct values of a key with counts, most common first, then (missing): images without it."""
    from . import render

    render.value_counts(catalog().value_counts(key, prefix=prefix, limit=limit, query=q or ""), as_json=as_json)


@fields_app.command("declare")
def fields_declare(
    name: str = typer.Argument(..., help="The key."),
    type_: str = typer.Argument(..., metavar="TYPE",
                                help="string | number | boolean | datetime | enum | multi-enum | link"),
    options: Optional[str] = typer.Option(None, "--options", help="Enum options, comma-separated."),
    locked: bool = typer.Option(False, "--locked", help="Imports never change this key's values."),
) -> None:
    """Declare a key's type before importing (enum options are also discovered from data)."""
    from . import render

    opts = [o.strip() for o in options.split(",") if o.strip()] if options else []
    render.field_line(catalog().declare_field(name, type_, options=opts, locked=locked))


@fields_app.command("retype")
def fields_retype(
    name: str = typer.Argument(..., help="The key.", autocompletion=_complete_key),
    type_: str = typer.Argument(..., metavar="TYPE",
                                help="string | number | boolean | datetime | enum | multi-enum | link"),
) -> None:
    """Change a key's type. Every value (and every value in its history) is checked first; if one
    does not fit, nothing changes and they are listed. Undo with: metastore undo ID."""
    from . import render

    render.retype_result(catalog().retype_field(name, type_))


@fields_app.command("list")
def fields_list() -> None:
    """Every key with its type (`metastore keys` adds counts and examples)."""
    from . import render

    for f in catalog().schema().fields:
        render.field_line(f)


FORMATS = ("table", "paths", "csv", "jsonl", "json")


def _query_arg(query: Optional[str], q: Optional[str]) -> str:
    from .errors import UsageError

    if query is not None and q is not None:
        raise UsageError("give the query once: as an argument or with -q, not both")
    return q if q is not None else (query or "")


def _columns(spec: Optional[str]) -> list:
    return [c.strip() for c in spec.split(",") if c.strip()] if spec else []


@app.command()
def search(
    query: Optional[str] = typer.Argument(None, help="The query (one starting with '-', like '-weather:rain', works too).",
                                         autocompletion=_complete_query),
    q: Optional[str] = typer.Option(None, "-q", "--query", help="The query, as an option."),
    format_: Optional[str] = typer.Option(None, "--format", "-f",
                                          help="table | paths | csv | jsonl | json (default: table on a "
                                               "terminal, paths when piped)"),
    columns: Optional[str] = typer.Option(None, "--columns", "-c", help="Keys to show, comma-separated."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=0, help="At most N images."),
    sort: Optional[str] = typer.Option(None, "--sort", help="KEY[:desc], comma-separated; default: path."),
    explain: bool = typer.Option(False, "--explain", help="Show the interpretation, SQL and per-clause counts."),
    interactive: bool = typer.Option(False, "-i", "--interactive",
                                     help="A search bar: completion as you type, live count, history."),
) -> None:
    """Print the images matching a query (ordered by path unless --sort)."""
    from . import render
    from .errors import UsageError

    if interactive:
        from .interactive import run

        run(catalog(), _query_arg(query, q), columns=_columns(columns), sort=sort, limit=limit, db=state.db)
        return
    fmt = format_ or ("table" if sys.stdout.isatty() else "paths")
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'", help=f"use one of: {', '.join(FORMATS)}")
    state.json_errors = fmt == "json"
    text = _query_arg(query, q)
    cols = _columns(columns)
    cat = catalog()
    result = cat.search(text, columns=cols, sort=sort, limit=limit)
    if explain:
        render.explain(result.explain())
    if render.results(result, fmt) == 0 and limit != 0:
        _zero_result_hint(cat, text)


@app.command()
def count(
    query: Optional[str] = typer.Argument(None, help="The query.", autocompletion=_complete_query),
    q: Optional[str] = typer.Option(None, "-q", "--query", help="The query, as an option."),
) -> None:
    """Print only the number of images matching a query."""
    cat, text = catalog(), _query_arg(query, q)
    n = cat.search(text).count()
    typer.echo(n)
    if n == 0:
        _zero_result_hint(cat, text)


def _zero_result_hint(cat, text: str) -> None:
    """After a search or count that found nothing: one likely intended reading, on stderr."""
    from . import render
    from .hints import zero_result_hint

    found = zero_result_hint(cat, text)
    if found:
        render.hint(found)


@app.command("export")
def export_(
    query: Optional[str] = typer.Argument(None, help="The query (one starting with '-', like '-weather:rain', works too).",
                                         autocompletion=_complete_query),
    q: Optional[str] = typer.Option(None, "-q", "--query", help="The query, as an option."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write (created; must be empty unless --force)."),
    from_: Optional[Path] = typer.Option(None, "--from", help="Rebuild the export an export.json describes."),
    format_: str = typer.Option("csv", "--format", "-f", help="Manifest: csv | jsonl | json | parquet | paths."),
    columns: Optional[str] = typer.Option(None, "--columns", "-c", help="Keys in the manifest, comma-separated."),
    media: Optional[str] = typer.Option(None, "--media", help="Also place files: copy | symlink | hardlink."),
    media_root: Optional[Path] = typer.Option(None, "--media-root",
                                              help="Folder the image paths are relative to (default: .)."),
    split: Optional[str] = typer.Option(None, "--split", help="e.g. train=0.8,val=0.1,test=0.1"),
    group_by: Optional[str] = typer.Option(None, "--group-by", help="Keep every image of a key's value in one split."),
    sample: Optional[int] = typer.Option(None, "--sample", min=0, help="A reproducible random sample of N images."),
    seed: int = typer.Option(0, "--seed", help="Seed of --split and --sample."),
    limit: Optional[int] = typer.Option(None, "--limit", "-n", min=0, help="At most N images."),
    sort: Optional[str] = typer.Option(None, "--sort", help="Manifest order: KEY[:desc], comma-separated."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty --out, replacing files."),
    skip_missing: bool = typer.Option(False, "--skip-missing", help="Leave out images whose file is missing."),
    split_column: str = typer.Option("split", "--split-column",
                                     help="Name of the manifest column --split adds (default: split)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Write a training subset: manifest, export.json and optionally the media, split and sampled."""
    from . import render
    from .errors import UsageError

    if from_ is not None:
        given = [name for name, value in (("QUERY", query if query is not None else q), ("--columns", columns),
                                          ("--media", media), ("--media-root", media_root), ("--split", split),
                                          ("--group-by", group_by), ("--sample", sample), ("--limit", limit),
                                          ("--sort", sort)) if value is not None]
        if given or format_ != "csv" or seed != 0 or skip_missing or split_column != "split":
            raise UsageError(f"--from rebuilds an export with its recorded options; do not also give "
                             f"{', '.join(given) or 'other options'}", help="only --out and --force go with --from")
        report = catalog().export_from(from_, out, force=force)
    else:
        report = catalog().export(
            _query_arg(query, q), out, format=format_, columns=_columns(columns), media=media,
            media_root=media_root, split=split, group_by=group_by, sample=sample, seed=seed, limit=limit,
            sort=sort, force=force, skip_missing=skip_missing, split_column=split_column)
    render.export_report(report, as_json=as_json)


@app.command()
def publish(
    query: Optional[str] = typer.Argument(None, help="Only the images matching this query (default: all).",
                                         autocompletion=_complete_query),
    q: Optional[str] = typer.Option(None, "-q", "--query", help="The query, as an option."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write: DIR/images/ (Parquet) and DIR/metastore.json."),
    partition_by: Optional[str] = typer.Option(None, "--partition-by",
                                               help="One folder per value of this key (enum, string, link, boolean)."),
    force: bool = typer.Option(False, "--force", help="Replace images/ and metastore.json in a non-empty --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Write the current values as a Parquet dataset other engines (Spark, DuckDB) read as it is."""
    from . import render
    from .store.publish import publish as run

    report = run(catalog(), out, _query_arg(query, q), partition_by=partition_by, force=force)
    if as_json:
        import json

        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        render.message(f"published {report.images:,} image{'s' if report.images != 1 else ''} and {report.keys} "
                       f"key{'s' if report.keys != 1 else ''} to {report.out}: {report.files} Parquet "
                       f"file{'s' if report.files != 1 else ''} ({report.bytes:,} bytes) in images/, metastore.json")


@app.command("sql")
def sql_(
    query: Optional[str] = typer.Argument(None, help="The query.", autocompletion=_complete_query),
    q: Optional[str] = typer.Option(None, "-q", "--query", help="The query, as an option."),
    dialect: str = typer.Option("duckdb", "--dialect", help="duckdb | spark"),
    table: str = typer.Option("images", "--table", help="The published table's name (dotted parts allowed)."),
    as_json: bool = typer.Option(False, "--json", help="Print {dialect, sql, params} as JSON."),
) -> None:
    """Print the SQL of a query over the published table (columns named by key) and its parameters."""
    from . import render
    from .engines import compile_table, published_schema
    from .query import DIALECTS

    if dialect not in DIALECTS:
        from .errors import UsageError

        raise UsageError(f"unknown --dialect '{dialect}'", help=f"use one of: {', '.join(DIALECTS)}")
    cat = catalog()
    text = _query_arg(query, q)
    sql, params = compile_table(text, published_schema(cat.schema()), dialect=dialect, table=table,
                                now=cat.now(), tz=cat.tz)
    render.sql_text(dialect, sql, params, as_json=as_json)


@app.command()
def facets(
    keys: List[str] = typer.Argument(..., help="Keys to count.", autocompletion=_complete_key),
    q: Optional[str] = typer.Option(None, "-q", "--query", help="Only images matching this query."),
    bins: int = typer.Option(20, "--bins", min=1, help="At most about N bins for numbers and datetimes."),
    top: int = typer.Option(10, "--top", min=1, help="The N most common values; the rest is (other)."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Value counts within a result, with (missing) and (other); histograms for numbers and datetimes."""
    from . import render

    render.facets(catalog().facets(keys, q or "", bins=bins, top=top), as_json=as_json)


@app.command()
def complete(
    partial: str = typer.Argument("", metavar="PARTIAL", help="The query typed so far."),
    cursor: Optional[int] = typer.Option(None, "--cursor", min=0, help="Cursor offset in PARTIAL (default: the end)."),
    plain: bool = typer.Option(False, "--plain", help="Only the completed texts, without descriptions."),
    limit: int = typer.Option(100, "--limit", min=1, help="At most N candidates."),
) -> None:
    """Completion candidates, one per line: the query with the candidate applied, TAB, a description."""
    from .completion import print_candidates

    print_candidates(partial, db=state.db, cursor=cursor, plain=plain, limit=limit)


@app.command()
def serve(
    media_root: Path = typer.Option(Path("."), "--media-root",
                                    help="Folder the image paths are relative to; only files under it are served."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (others than 127.0.0.1 are warned)."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port (0: a free one)."),
    open_: bool = typer.Option(False, "--open", help="Open the page in the web browser."),
    allow_edits: bool = typer.Option(False, "--allow-edits", help="Allow set/unset/tag from the page (hand edits)."),
) -> None:
    """A local web app: search bar with completion, thumbnails, facets, detail, export (Ctrl-C stops)."""
    from .errors import NotFoundError

    cat = catalog()
    if not cat.exists():
        raise NotFoundError(f"no catalog at {cat.path}",
                            help="import something first (metastore import FILE), pass --db, or try metastore quickstart")
    if host not in ("127.0.0.1", "localhost", "::1"):
        from . import render  # rich: only for the warning (start-up time counts, docs/serve.md)

        render.warning(f"serving on {host}: other machines on the network can read the catalog and its images")
    from .web.app import serve as run_server

    run_server(cat, host=host, port=port, media_root=media_root, allow_edits=allow_edits, open_browser=open_,
               echo=lambda line: print(line, flush=True),
               note=lambda line: print(line, file=sys.stderr, flush=True))


imports_app = typer.Typer(help="Import records: what each import read, wrote and rejected.",
                          invoke_without_command=True)
app.add_typer(imports_app, name="imports")


@imports_app.callback()
def imports_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print as JSON (for scripts).")) -> None:
    """List import records (`metastore imports show ID` for one with its errors)."""
    if ctx.invoked_subcommand is None:
        from . import render_imports

        render_imports.imports(catalog().imports(), as_json=as_json)


@imports_app.command("show")
def imports_show(import_id: int = typer.Argument(..., metavar="ID"), as_json: bool = typer.Option(False, "--json", help="Print as JSON (for scripts).")) -> None:
    """One import: counts, options and every error it recorded."""
    from . import render_imports

    render_imports.import_record(*catalog().import_record(import_id), as_json=as_json)


def _assignments(items: List[str]) -> list:
    from .errors import UsageError

    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"expected KEY=VALUE, got '{item}'", help="e.g. metastore set img.jpg reviewed=true")
        out.append((key.strip(), value))
    return out


@app.command("set")
def set_(
    path: str = typer.Argument(..., help="The image path as stored."),
    assignments: List[str] = typer.Argument(..., metavar="KEY=VALUE…", help="Values to set (auto-typed)."),
    type_: List[str] = typer.Option([], "--type", help="Force a new key's type: KEY=TYPE."),
) -> None:
    """Set values by hand; they are marked as edits (merge-keep-user keeps them)."""
    from . import render

    n = catalog().set(path, _assignments(assignments), types=_parse_types(type_))
    render.message(f"{n} value{'s' if n != 1 else ''} changed")


@app.command()
def unset(
    path: str = typer.Argument(..., help="The image path as stored."),
    keys: List[str] = typer.Argument(..., metavar="KEY…", help="Keys to remove.", autocompletion=_complete_key),
) -> None:
    """Remove values by hand (history keeps them)."""
    from . import render

    n = catalog().unset(path, keys)
    render.message(f"{n} value{'s' if n != 1 else ''} removed")


@app.command()
def tag(
    paths: Optional[List[str]] = typer.Argument(None, metavar="PATH…", help="Images to tag."),
    add: List[str] = typer.Option([], "--add", help="Tag to add (repeatable)."),
    remove: List[str] = typer.Option([], "--remove", help="Tag to remove (repeatable)."),
    query: Optional[str] = typer.Option(None, "--query", "-q", help="Tag every image this query matches."),
) -> None:
    """Add or remove tags on images, or on every image a query matches."""
    from . import render
    from .errors import UsageError

    if not add and not remove:
        raise UsageError("nothing to do", help="pass --add TAG and/or --remove TAG")
    if bool(paths) == (query is not None):
        raise UsageError("give image paths or --query, not both (and not neither)")
    n = catalog().tag(paths or None, query=query, add=add, remove=remove)
    render.message(f"{n} image{'s' if n != 1 else ''} changed")


@app.command()
def history(
    path: str = typer.Argument(..., help="The image path as stored."),
    key: Optional[str] = typer.Argument(None, help="Only this key ('tags' for tags)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON (for scripts)."),
) -> None:
    """Every change of an image's values and tags: old → new, source, time."""
    from . import render

    render.history(catalog().history(path, key), as_json=as_json)


@app.command()
def undo(import_id: int = typer.Argument(..., metavar="IMPORT_ID")) -> None:
    """Revert one import: restore what it overwrote, remove what it added (history keeps all)."""
    from . import render

    render.undo_report(catalog().undo(import_id))


@app.command()
def check() -> None:
    """Integrity check: schema, key columns and types, counts, provenance, history (exit 1 on problems)."""
    from . import render
    from .errors import MetastoreError

    report = catalog().check()
    render.check_report(report)
    if not report.ok:
        n = len(report.problems)
        raise MetastoreError(f"the catalog has {n} problem{'s' if n != 1 else ''}",
                             help="please report it with the output above; restore from a backup if you have one")


@app.command()
def optimize() -> None:
    """Store the images in path order: fast pages of results for a catalog made before imports kept that order."""
    from . import render

    render.optimize_report(catalog().optimize())


@app.command()
def quickstart(
    dest: Path = typer.Argument(Path("metastore-sample"), help="Folder for the sample project."),
) -> None:
    """Write the bundled sample (48 images, a CSV, sidecars), catalog it and run example searches."""
    from . import render, render_imports
    from .sample import SAMPLE_QUERIES, SAMPLE_TYPES, write_sample
    from .catalog import Catalog

    if not (dest / "metadata.csv").exists():
        write_sample(dest)
    os.chdir(dest)  # the sample's paths are relative to its folder, as a user's would be
    cat = Catalog("metastore.duckdb", wait=state.wait)
    render.message(f"sample project in {dest}/ — catalog {dest}/metastore.duckdb")
    types = " ".join(f"--type {k}={v}" for k, v in SAMPLE_TYPES.items())
    for label, args, kwargs in (("metadata.csv " + types, ["metadata.csv"], {"types": SAMPLE_TYPES}),
                                ("images/", ["images"], {})):
        render.message(f"$ metastore import {label}")
        render_imports.import_report(cat.import_files(args, **kwargs))
    for query in SAMPLE_QUERIES[:3]:
        render.message(f"$ metastore search '{query}' --columns location,temperature,reviewed")
        render.results(cat.search(query, columns=["location", "temperature", "reviewed"]), "table")
    render.message(f"next: cd {dest} && metastore keys && metastore search 'forklift'")


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def main() -> None:
    """Console entry point: the one error boundary."""
    from .errors import MetastoreError

    from .argv import protect_query

    if not _is_terminal(sys.stderr):
        # Piped or captured stderr: Typer's usage errors come as plain lines, not a rich box drawn
        # 80 columns wide for a terminal that is not there (it was wider than the user's terminal).
        import typer.core

        typer.core.HAS_RICH = False
    try:
        app(args=protect_query(sys.argv[1:]), prog_name="metastore")
    except MetastoreError as exc:
        from . import render

        query = getattr(exc, "query", None)
        if getattr(exc, "issues", None) is not None and query is not None:
            render.query_error(exc, query, as_json=state.json_errors)
        else:
            render.error(exc.message, exc.help)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # DuckDB failing under us: a damaged file, a disk that fails
        if "duckdb" not in sys.modules:
            raise
        from . import render
        from .store.txn import storage_failure

        err = storage_failure(exc)
        if err is None:
            raise
        render.error(err.message, err.help)
        sys.exit(err.exit_code)


if __name__ == "__main__":
    main()
