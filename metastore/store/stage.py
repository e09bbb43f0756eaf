"""Reading import sources into one staging view of text cells, inside DuckDB.

``stage`` is a TEMP view with ``_file`` (index into the import's files), ``_row`` (1-based data
row or record number), ``_path`` and one VARCHAR column ``k<i>`` per incoming key. CSV/TSV is
read by DuckDB's reader as text (never its type sniffing: it samples, and silently coerces past
the sample); JSON records are read in Python and handed over as text with their JSON kinds.
"""

from __future__ import annotations

import csv
import re
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .. import schema as S
from ..errors import ImportFailed
from ..readers import records as R
from .codec import lit
from .handoff import STAGE, raw_table, stage_column



@dataclass
class Issue:
    """One import problem: a rejected row (``row_error``) or a rejected column / file."""

    file: str
    row: int | None
    key: str | None
    value: str | None
    reason: str
    row_error: bool = False
    at: tuple[int, int] | None = None  # (file index, row) in the stage, for row errors

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.key is not None:
            where += f", key '{self.key}'"
        text = f"{where}: {self.reason}"  # one line: a value (or file name) holding line breaks shows them escaped
        return text.replace("\r", "\\r").replace("\n", "\\n")


@dataclass
class StageColumn:
    key: str
    col: str  # k<i>: a stage identifier we chose
    kinds: set | None = None  # JSON kinds seen; None for text sources (CSV)
    where: str = ""


@dataclass
class Stage:
    files: list[str]
    columns: list[StageColumn] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)  # column-level and reader row-level
    rows: int = 0
    skipped: int = 0  # records rejected while reading (not in the stage view)
    renamed: dict = field(default_factory=dict)  # --normalize-keys: name in the file → key
    unread: set = field(default_factory=set)  # (file index, row) holding a rejected key: not "seen"
    notes: list = field(default_factory=list)  # file-level notes (e.g. COCO annotations not counted)

    def column_for(self, key: str, where: str, kinds: set | None) -> StageColumn:
        for c in self.columns:
            if c.key == key:
                if kinds is not None:
                    c.kinds = (c.kinds or set()) | kinds
                return c
        c = StageColumn(key, stage_column(len(self.columns)), None if kinds is None else set(kinds), where)
        self.columns.append(c)
        return c


def _key_for(name: str, normalize: bool) -> tuple[str | None, str | None]:
    """(key, problem) for a column or JSON key name."""
    if normalize:
        key = S.normalize_key(name)
        problem = S.key_problem(key)
        return (None, problem) if problem else (key, None)
    problem = S.key_problem(name)
    if problem:
        return None, problem + " (rename it, or pass --normalize-keys)"
    return name, None


#: Keys one import may bring. Planning is one SQL statement over all keys, which DuckDB plans in
#: super-linear time (300 keys: ~15 s) and refuses past 1,000 expressions: refuse up front.
MAX_IMPORT_KEYS = 500


def refuse_too_many_keys(files, keys: int) -> None:
    if keys > MAX_IMPORT_KEYS:
        raise ImportFailed(f"{', '.join(map(str, files))}: {keys:,} keys in one import; the limit is "
                           f"{MAX_IMPORT_KEYS}", help="split the columns over several files (each with the id "
                           "column) and import them one after another")


def _first_record(path: Path, delim: str) -> list[str]:
    """The file's first CSV record, read by Python's csv module (the header as the file has it)."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        return next(csv.reader(fh, delimiter=delim), [])


#: The CSV reader's buffer (bytes). DuckDB's default (a few MB) makes many small batches that the
#: order-keeping CREATE TABLE then merges: 32 MB read the 1M-row benchmark file with a third less
#: CPU (2.3 -> 1.55 s; the 80-key and 100k-row files the same either way).
CSV_BUFFER_BYTES = 32 << 20


def _read_csv_raw(con, path: Path, table: str, delim: str) -> None:
    opts = (
        f"header = false, all_varchar = true, delim = {lit(delim)}, quote = '\"', escape = '\"', "
        f"null_padding = true, encoding = 'utf-8', buffer_size = {CSV_BUFFER_BYTES}"
    )
    sql = f"CREATE TEMP TABLE {table} AS SELECT * FROM read_csv(?, {opts}{{extra}})"
    # a file far wider than one import may be is refused before DuckDB reads it (10,000 text
    # columns do not fit the import's memory cap); the id column is not a key
    refuse_too_many_keys([path], len(_first_record(path, delim)) - 1)
    try:
        con.execute(sql.format(extra=""), [str(path)])
    except duckdb.OutOfMemoryException:
        raise  # not the file's fault: the import's memory cap (txn.write_failure says how to raise it)
    except duckdb.Error as exc:
        if "Expected Number of Columns" in str(exc):
            # DuckDB sniffs the width from the first 2,048 rows: give it the widest row's, so a row
            # with an extra field further down is that row's error, as for the first rows.
            n = _widest_row(path, delim)
            cols = ", ".join(f"'column{i:0{len(str(n - 1))}d}': 'VARCHAR'" for i in range(n))
            try:
                con.execute(sql.format(extra=f", columns = {{{cols}}}, auto_detect = false"), [str(path)])
                return
            except duckdb.Error as exc2:
                exc = exc2
        if "parallel" in str(exc).lower():
            try:
                con.execute(sql.format(extra=", parallel = false"), [str(path)])
                return
            except duckdb.Error as exc2:
                exc = exc2
        raise _csv_failure(path, exc) from None


def _widest_row(path: Path, delim: str) -> int:
    csv.field_size_limit(1 << 30)
    widest = 1
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        for row in csv.reader(fh, delimiter=delim):
            widest = max(widest, len(row))
    return widest


def _is_utf8(path: Path) -> bool:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    except OSError:
        return True
    return True


def _csv_failure(path: Path, exc: Exception) -> ImportFailed:
    text = str(exc)
    line = ""
    for part in text.splitlines():
        if "Line:" in part:
            line = " at line " + part.split("Line:")[1].strip()
            break
    if ("unicode" in text.lower() or "utf-8" in text.lower()) and not _is_utf8(path):
        return ImportFailed(
            f"{path} is not UTF-8{line}",
            help=f"convert it first, e.g. iconv -f latin1 -t utf-8 {path} > fixed.csv",
        )
    # DuckDB's text: "<Kind> Error: CSV Error on Line: N", "Original Line: …", then the reason.
    lines = [x.strip() for x in text.strip().splitlines()]
    reasons = [x for x in lines[1:lines.index("") if "" in lines else None]
               if x and not x.startswith("Original Line:")]
    first = reasons[0] if reasons else (lines[0] if lines else type(exc).__name__)
    first = re.sub(r"^[A-Za-z ]*Error: ", "", first)
    return ImportFailed(f"{path}: cannot read as CSV{line}: {first[:200]}", help="check quoting and the delimiter")


def _check_header(path: Path, header: list, delim: str) -> None:
    """DuckDB's dialect sniffer may skip leading rows; make sure row 0 is the file's first record."""
    first = _first_record(path, delim)
    while first and first[-1] == "":
        first.pop()
    if [h or "" for h in header] != first:
        raise ImportFailed(
            f"{path}: could not read the header row reliably (the first line has "
            f"{len(first)} fields, but the rows below it have a different shape)",
            help="make the header name every column, and quote fields that hold the delimiter",
        )


@dataclass(frozen=True)
class PathRule:
    """How a record's image path is built: ``--path-template`` parts and ``--path-prefix``."""

    template: list | None = None
    prefix: str = ""


def _template_sql(parts: list, column) -> str:
    """The SQL of a path template over CSV columns: NULL when a column it names is empty."""
    pieces, conds = [], []
    for kind, text in parts:
        if kind == "text":
            pieces.append(lit(text))
        else:
            c = column(text)
            pieces.append(f"trim({c})")
            conds.append(f"ltrim({c}) <> ''")  # = trim(c) <> '' (same spaces), without building the trimmed text
    return f"CASE WHEN {' AND '.join(conds)} THEN {' || '.join(pieces)} END"


def stage_csv(con, stage: Stage, index: int, path: Path, delim: str, id_column, normalize: bool,
              paths: PathRule = PathRule()) -> list[str]:
    """Read one CSV/TSV into ``raw<index>``; return the SELECT list mapping it into the stage."""
    raw = raw_table(index)
    _read_csv_raw(con, path, raw, delim)
    ncols = len(con.execute(f"SELECT * FROM {raw} LIMIT 0").description)
    head = con.execute(f"SELECT * FROM {raw} WHERE rowid = 0").fetchone()
    if head is None:
        raise ImportFailed(f"{path} is empty", help="a CSV needs a header row naming the columns, e.g. path,score")
    header = list(head)
    while header and header[-1] is None:
        header.pop()
    _check_header(path, header, delim)
    names = [(h or "").strip() for h in header]
    width = len(str(ncols - 1))

    def column(name: str) -> str:
        return f"column{names.index(name):0{width}d}"

    if paths.template is not None:
        R.check_template(paths.template, names, str(path))
        id_key = None
        path_expr = _template_sql(paths.template, column)
    else:
        samples = {}
        if id_column is None and not any(n in names for n in R.ID_COLUMNS):
            rows = con.execute(f"SELECT * FROM {raw} WHERE rowid BETWEEN 1 AND 50").fetchall()
            samples = {n: [r[i] for r in rows] for i, n in enumerate(names) if n}
        id_key = R.pick_id_key(names, id_column, str(path), samples)
        c = column(id_key)
        path_expr = f"CASE WHEN ltrim({c}) <> '' THEN {c} END"  # blank: no path (ltrim: as trim, 5x cheaper)
    if paths.prefix:
        path_expr = f"{lit(paths.prefix)} || ({path_expr})"
    select = [f"{index} AS _file", "rowid AS _row", "NULL::VARCHAR AS _src", f"{path_expr} AS _path"]
    seen: dict[str, int] = {}
    for pos, name in enumerate(names):
        if id_key is not None and pos == names.index(id_key) and name == id_key:
            continue
        where = f"column {pos + 1} '{name}'"
        if name == "":
            stage.issues.append(Issue(str(path), None, None, None, f"column {pos + 1} has no name; its values are skipped"))
            continue
        key, problem = _key_for(name, normalize)
        if problem:
            stage.issues.append(Issue(str(path), None, name, None, f"{where}: {problem}"))
            continue
        if key != name:
            stage.renamed.setdefault(name, key)
        if key in seen:
            stage.issues.append(Issue(
                str(path), None, key, None,
                f"{where} repeats column {seen[key] + 1}; rename one of them (this column is skipped)"))
            continue
        seen[key] = pos
        col = stage.column_for(key, f"{path} {where}", None)
        select.append(f"column{pos:0{width}d} AS {col.col}")
    extras = [f"column{p:0{width}d}" for p in range(len(header), ncols)]
    if extras:
        cond = " OR ".join(f"{e} IS NOT NULL" for e in extras)
        for (row,) in con.execute(f"SELECT rowid FROM {raw} WHERE rowid > 0 AND ({cond}) ORDER BY rowid").fetchall():
            stage.issues.append(Issue(
                str(path), row, None, None,
                f"row has more fields than the header's {len(header)}; quote fields that contain '{delim}'",
                row_error=True, at=(index, row)))
    return [f"SELECT {', '.join(select)} FROM {raw} WHERE rowid > 0"]


_KINDS = {str: "str", int: "num", float: "num", bool: "bool"}


def _json_kind(value) -> str | None:
    kind = _KINDS.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, list) and all(type(v) is str for v in value):
        return "list"
    return None


def _json_text(value) -> str:
    t = type(value)
    if t is str:
        return value
    if t is bool:
        return "true" if value else "false"
    if t is float:
        return repr(value)
    if t is list:
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def temp_failure(tmpdir: str, exc: OSError) -> ImportFailed:
    return ImportFailed(f"cannot write the import's temporary file in {os.path.dirname(tmpdir)}: "
                        f"{exc.strerror or exc}; nothing was imported",
                        help="free some space there, or point TMPDIR at a folder with room")


def stage_records(con, stage: Stage, index: int, where: str, records: list[R.Record], id_column,
                  normalize: bool, tmpdir: str, paths: PathRule = PathRule()) -> list[str]:
    """Hand JSON records to DuckDB as text (through a temporary CSV) with their JSON kinds."""
    kinds_by_key: dict[str, set] = {}  # insertion-ordered: keys in order of first appearance
    for rec in records:
        for k, v in rec.values.items():
            kinds = kinds_by_key.get(k)
            if kinds is None:
                kinds = kinds_by_key[k] = set()
            kinds.add(_json_kind(v))
    keys = list(kinds_by_key)
    if paths.template is not None:
        if records:
            R.check_template(paths.template, keys, where)
        id_key = None
    else:
        id_key = R.pick_id_key(keys, id_column, where, _record_samples(records, keys)) if records else (
            id_column or "path")
    mapping: dict[str, StageColumn] = {}
    rejected: set[str] = set()
    by_key: dict[str, list[str]] = {}
    for name in keys:
        if name == id_key:
            continue
        key, problem = _key_for(name, normalize)
        if problem:
            stage.issues.append(Issue(where, None, name, None, f"JSON key '{name}': {problem}"))
            rejected.add(name)
            continue
        if key != name:
            stage.renamed.setdefault(name, key)
        mapping[name] = stage.column_for(key, f"{where} JSON key '{name}'", kinds_by_key[name] - {None})
        by_key.setdefault(mapping[name].col, []).append(name)
    cols = list({c.col: c for c in mapping.values()}.values())
    sources = [by_key[c.col] for c in cols]  # the JSON names feeding each column (several under --normalize-keys)
    tmp = os.path.join(tmpdir, f"records{index}.csv")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            # Strings quoted, missing values (None) not: read back with allow_quoted_nulls = false,
            # a JSON "" stays an empty string (a value) and a missing key is NULL (no value).
            # (csv.QUOTE_NONNUMERIC would quote None too; QUOTE_NOTNULL is Python 3.12+.)
            write = fh.write
            for rec in records:
                at = rec.source or where
                if rejected and not rejected.isdisjoint(rec.values):
                    stage.unread.add((index, rec.row))  # re-read next time (e.g. with --normalize-keys)
                for key, value, reason in rec.problems:
                    stage.issues.append(Issue(at, None if rec.source else rec.row, key,
                                              None if value is None else str(value)[:200], reason, row_error=True,
                                              at=(index, rec.row)))
                if rec.problems:
                    stage.skipped += 1
                    continue
                values = rec.values
                path = (R.template_path(paths.template, values) if paths.template is not None else values.get(id_key))
                if path is not None and not (isinstance(path, str) and not path.strip()):
                    path = paths.prefix + (path if isinstance(path, str) else _json_text(path))
                row = [rec.row, rec.source, path]
                for col, names in zip(cols, sources):
                    present = [n for n in names if n in values]
                    if len(present) > 1:
                        stage.skipped += 1
                        stage.issues.append(Issue(
                            at, None if rec.source else rec.row, col.key, None,
                            "keys " + " and ".join(repr(n) for n in present) + f" both become '{col.key}' under "
                            f"--normalize-keys; rename one of them in the file", row_error=True, at=(index, rec.row)))
                        row = None
                        break
                    value = values.get(present[0]) if present else None
                    if value is None:
                        row.append(None)
                    elif type(value) not in _KINDS and _json_kind(value) is None:
                        stage.skipped += 1
                        stage.issues.append(Issue(
                            at, None if rec.source else rec.row, col.key, json.dumps(value)[:200],
                            "only strings, numbers, booleans and lists of strings can be stored", row_error=True,
                            at=(index, rec.row)))
                        row = None
                        break
                    else:
                        row.append(_json_text(value))
                if row is not None:
                    write(",".join([_csv_field(v) for v in row]) + "\n")
    except OSError as exc:  # e.g. a full or read-only TMPDIR
        raise temp_failure(tmpdir, exc) from None
    raw = raw_table(index)
    spec = "{'_row': 'BIGINT', '_src': 'VARCHAR', '_path': 'VARCHAR'" + "".join(f", '{c.col}': 'VARCHAR'" for c in cols) + "}"
    con.execute(
        f"CREATE TEMP TABLE {raw} AS SELECT * FROM read_csv(?, header = false, auto_detect = false, "
        f"columns = {spec}, quote = '\"', escape = '\"', delim = ',', max_line_size = 1073741824, "
        f"allow_quoted_nulls = false)",
        [tmp],
    )
    select = [f"{index} AS _file", "_row", "nullif(_src, '') AS _src", "_path"] + [c.col for c in cols]
    return [f"SELECT {', '.join(select)} FROM {raw}"]


def _csv_field(value) -> str:
    if value is None:
        return ""
    if type(value) is int:
        return str(value)
    return '"' + value.replace('"', '""') + '"'


def _record_samples(records: list, keys: list) -> dict:
    """A few values per key, for suggesting the likeliest id key."""
    out: dict[str, list] = {k: [] for k in keys}
    for rec in records[:50]:
        for k, v in rec.values.items():
            out[k].append(v if isinstance(v, str) else None)
    return out


def build_stage(con, files: list[Path], *, fmt: str | None, id_column: str | None,
                normalize: bool, record_sets: dict[int, list] | None = None,
                paths: PathRule = PathRule()) -> Stage:
    """Stage every file of one import into the TEMP view ``stage``.

    ``record_sets`` supplies already-read records for some file indexes (sidecar folders, YOLO
    datasets); their paths come from the folder (``--path-prefix`` applies, a template does not).
    """
    stage = Stage([str(f) for f in files])
    selects: list[str] = []
    folder_paths = PathRule(None, paths.prefix)
    try:
        tmp_holder = tempfile.TemporaryDirectory(prefix="metastore-")
    except OSError as exc:
        raise temp_failure(os.path.join(tempfile.gettempdir(), "x"), exc) from None
    with tmp_holder as tmpdir:
        for i, path in enumerate(files):
            if record_sets and i in record_sets:
                selects += stage_records(con, stage, i, str(path), record_sets[i], "path", normalize, tmpdir,
                                         folder_paths)
                continue
            kind = (fmt or path.suffix.lower().lstrip(".")).lower()
            if not path.exists():
                raise ImportFailed(f"no such file: {path}")
            if path.is_dir():
                raise ImportFailed(f"{path} is a folder", help="folders are imported as sidecar folders")
            if kind in ("csv", "tsv", "tab"):
                selects += stage_csv(con, stage, i, path, "\t" if kind in ("tsv", "tab") else ",",
                                     id_column, normalize, paths)
            elif kind in ("jsonl", "ndjson") or (kind == "json" and path.suffix.lower() in (".jsonl", ".ndjson")):
                recs = R.read_json_records(path, jsonl=True)
                selects += stage_records(con, stage, i, str(path), recs, id_column, normalize, tmpdir, paths)
            elif kind in ("json", "coco"):
                data, check = R.load_json_document(path)
                from ..readers import coco

                if coco.is_coco(data):
                    recs, problems = coco.read_coco(data)
                    del data
                    stage.issues += [Issue(str(path), None, None, None, p) for p in problems]
                    selects += stage_records(con, stage, i, str(path), recs, "file_name", normalize, tmpdir,
                                             paths if paths.template is not None else folder_paths)
                    continue
                if kind == "coco":
                    raise ImportFailed(f"{path} is not a COCO file (it needs images, annotations and "
                                       f"categories lists)", help="import it as JSON records: --format json")
                recs = R.records_from_data(path, data, check)
                selects += stage_records(con, stage, i, str(path), recs, id_column, normalize, tmpdir, paths)
            else:
                raise ImportFailed(
                    f"{path}: unknown format '{path.suffix}'",
                    help="use .csv, .tsv, .json or .jsonl, or pass --format csv|tsv|json|jsonl|coco "
                         "(a folder: --format yolo)",
                )
    all_cols = [c.col for c in stage.columns]
    parts = []
    for sel in selects:
        parts.append(sel)
    if not parts:
        raise ImportFailed("nothing to import")
    union = " UNION ALL BY NAME ".join(f"({p})" for p in parts)
    # Columns a file lacks come out NULL; fix the column order for the rest of the pipeline.
    cols = ", ".join(["_file", "_row", "_src", "_path"] + all_cols)
    con.execute(f"CREATE TEMP VIEW {STAGE} AS SELECT {cols} FROM ({union})")
    stage.rows = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]
    return stage
