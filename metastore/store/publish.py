"""``metastore publish``: the current values as a Parquet dataset other engines read as it is.

Layout of ``DIR``::

    DIR/images/part-00000.parquet    one row per image, in path order (or hive folders KEY=VALUE/)
    DIR/metastore.json               keys, types, enum options, catalog stamp, query

Columns: ``path``, ``media_id`` (text: Spark cannot read Parquet's UUID), ``tags`` (list of
strings), then one column per key **named by the key**, in the key's native type: string,
double, boolean, timestamp with time zone (UTC instants), list of strings for multi-enum.
``metastore.json`` sits beside the Parquet folder, not in it (a JSON file inside breaks Spark's
reader).

Writing is atomic per folder: the new ``images/`` is written to a hidden folder inside ``DIR``
and renamed into place; the old one (``--force``) is removed only after. Nothing is written
through a symlink or outside ``DIR``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path

from .. import schema as S
from .. import types as T
from ..errors import ExportError, QueryError, UsageError
from .connection import quote
from .export_rows import _sql_text
from .fields import read_schema

IMAGES_DIR = "images"
META_FILE = "metastore.json"
FIXED_COLUMNS = ("path", "media_id", "tags")
#: the Parquet type of each key type (as DuckDB writes it) — the published table's contract
PARQUET_TYPES = {name: t.published or t.sql for name, t in T.TYPES.items()}
#: keys a folder can be named after (one folder per value): one value, and not a measure
PARTITION_TYPES = tuple(name for name, t in T.TYPES.items() if not t.listed and not t.ordered)
#: "enum, string, link or boolean": options first, as the help suggests (an enum has few values)
_PARTITION_NAMES = (lambda names: ", ".join(names[:-1]) + " or " + names[-1])(
    sorted(PARTITION_TYPES, key=lambda n: (not T.TYPES[n].options, T.TYPES[n].sql != "VARCHAR")))
FORMAT_VERSION = 1


@dataclass
class PublishReport:
    out: str
    images: int
    keys: int
    files: int
    bytes: int
    seconds: float
    partition_by: str | None = None
    query: str = ""
    replaced: bool = False
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"out": self.out, "images": self.images, "keys": self.keys, "files": self.files, "bytes": self.bytes,
                "seconds": round(self.seconds, 3), "partition_by": self.partition_by, "query": self.query,
                "replaced": self.replaced}


def _check_names(fields: list[S.Field]) -> None:
    """Every published column name must be distinct ignoring case (Spark and DuckDB fold case)."""
    seen: dict[str, str] = {c: c for c in FIXED_COLUMNS}
    clashes = []
    for f in fields:
        other = seen.get(f.name.casefold())
        if other is not None:
            clashes.append((f.name, other))
        else:
            seen[f.name.casefold()] = f.name
    if clashes:
        shown = "; ".join(f"key '{a}' and {'column' if b in FIXED_COLUMNS else 'key'} '{b}'" for a, b in clashes)
        raise UsageError(f"cannot publish: column names would clash ignoring case ({shown})",
                         help="engines such as Spark and DuckDB match column names ignoring case; rename one "
                              "of the keys (import it under another name), or publish a query without it")


def _check_out(out: Path, force: bool) -> tuple[Path, Path]:
    """The two paths publish writes, after refusing symlinks and unexpected content."""
    if out.is_symlink():
        raise ExportError(f"{out} is a symlink", help="give the real folder as --out (publish never writes through a symlink)")
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a folder", help="choose a new folder for --out")
    images, meta = out / IMAGES_DIR, out / META_FILE
    for p in (images, meta):
        if p.is_symlink():
            raise ExportError(f"{p} is a symlink", help="remove it; publish never writes through a symlink")
    if images.exists() and not images.is_dir():
        raise ExportError(f"{images} exists and is not a folder", help="remove it, or choose a new folder for --out")
    if out.is_dir() and any(out.iterdir()) and not force:
        what = "a published catalog" if meta.exists() or images.exists() else "other files"
        raise ExportError(f"{out} is not empty (it holds {what})",
                          help="choose a new folder, or pass --force to replace images/ and metastore.json there")
    return images, meta


def _select(fields: list[S.Field], where: str) -> str:
    cols = [quote("path"), f"CAST({quote('media_id')} AS VARCHAR) AS {quote('media_id')}",
            f"coalesce({quote('tags')}, []::VARCHAR[]) AS {quote('tags')}"]
    for f in fields:
        cast = PARQUET_TYPES[f.type]
        cols.append(f"CAST({quote(f.column)} AS {cast}) AS {quote(f.name)}")
    return f"SELECT {', '.join(cols)} FROM images WHERE {where} ORDER BY {quote('path')}"


def publish(catalog, out, query: str = "", *, partition_by: str | None = None, force: bool = False) -> PublishReport:
    """Write the catalog's current values (of the images matching ``query``) to ``out``."""
    from ..query import check, compile_where, parse

    started = time.perf_counter()
    out = Path(out)
    images, meta_path = _check_out(out, force)
    try:
        with catalog.reading() as con:
            schema = read_schema(con, catalog.path)
            checked = check(parse(query), schema, now=catalog.now(), tz=catalog.tz, text=query)
            fields = sorted(schema.fields, key=lambda f: f.name)
            _check_names(fields)
            part = None
            if partition_by:
                part = schema.require(partition_by, "--partition-by")
                if part.type not in PARTITION_TYPES:
                    raise UsageError(f"--partition-by {part.name}: '{part.name}' is {part.kind.a}; only "
                                     f"{_PARTITION_NAMES} keys name folders",
                                     help="partition by a key with few distinct values, e.g. an enum")
            where, params = compile_where(checked)
            out.mkdir(parents=True, exist_ok=True)
            tmp = out / f".publish-{uuid.uuid4().hex[:12]}"
            tmp.mkdir()
            try:
                sql = _select(fields, where)
                if part is None:
                    target = tmp / "part-00000.parquet"
                    options = "FORMAT parquet"
                else:
                    target = tmp
                    options = (f"FORMAT parquet, PARTITION_BY ({quote(part.name)}), "
                               "FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE")
                # COPY returns the number of rows it wrote
                count = con.execute(f"COPY ({sql}) TO '{_sql_text(str(target))}' ({options})", params).fetchone()[0]
                state = _state(con)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    except QueryError as exc:
        exc.query = exc.query or query
        raise
    meta = {
        "format": "metastore-published",
        "version": FORMAT_VERSION,
        "table": IMAGES_DIR,
        "query": query,
        "partition_by": part.name if part else None,
        "images": int(count),
        "catalog": {"path": str(catalog.path), **state},
        "published_at": _utc_now(catalog),
        "columns": [{"name": "path", "type": "string"}, {"name": "media_id", "type": "string"},
                    {"name": "tags", "type": "tags"}],
        "keys": [{"name": f.name, "type": f.type, "options": list(f.options), "count": f.count,
                  "declared": f.declared} for f in fields],
    }
    replaced = images.exists() or meta_path.exists()
    _swap(tmp, images, meta_path, meta)
    files = list(images.rglob("*.parquet"))
    return PublishReport(str(out), int(count), len(fields), len(files), sum(p.stat().st_size for p in files),
                         time.perf_counter() - started, part.name if part else None, query, replaced, meta)


def _state(con) -> dict:
    images = con.execute("SELECT count(*) FROM images").fetchone()[0]
    last = con.execute("SELECT id, ts FROM sources ORDER BY id DESC LIMIT 1").fetchone()
    return {"images": int(images), "last_source_id": int(last[0]) if last else None,
            "last_source_at": (last[1].isoformat() + "Z") if last and last[1] is not None else None}


def _utc_now(catalog) -> str:
    return catalog.now().astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _swap(tmp: Path, images: Path, meta_path: Path, meta: dict) -> None:
    """Move the new images/ and metastore.json into place; the old ones go only after."""
    out = tmp.parent
    old = out / f".publish-old-{uuid.uuid4().hex[:12]}"
    meta_tmp = out / f".{META_FILE}.{uuid.uuid4().hex[:12]}"
    with open(meta_tmp, "x", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    try:
        if images.exists():
            if images.is_symlink():  # checked before; re-checked right before the rename
                raise ExportError(f"{images} is a symlink", help="remove it; publish never writes through a symlink")
            os.rename(images, old)
        os.rename(tmp, images)
        if meta_path.is_symlink():
            raise ExportError(f"{meta_path} is a symlink", help="remove it; publish never writes through a symlink")
        os.replace(meta_tmp, meta_path)  # replaces a file or creates it; a symlink would be replaced, not followed
    finally:
        if meta_tmp.exists():
            meta_tmp.unlink()
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if old.exists():
            shutil.rmtree(old)


def published_root(folder) -> Path:
    """The published folder, given it, its ``images/`` folder or its ``metastore.json``."""
    p = Path(folder)
    if p.name == META_FILE:
        return p.parent
    if p.name == IMAGES_DIR and not (p / META_FILE).exists():
        return p.parent
    return p


def read_meta(folder) -> dict:
    """``metastore.json`` of a published folder (also given the ``images/`` folder or the file)."""
    p = published_root(folder)
    path = p / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"no {META_FILE} in {p}", help="publish a catalog there with: metastore publish --out DIR") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", help="publish again with --force") from None
    if meta.get("format") != "metastore-published":
        raise UsageError(f"{path} is not a metastore publish record", help="publish with: metastore publish --out DIR")
    return meta


def meta_schema(meta: dict) -> S.Schema:
    """The published table's schema: its columns are named by key."""
    fields = []
    for i, k in enumerate(meta.get("keys", []), start=1):
        if k.get("type") not in S.TYPES:
            raise UsageError(f"{META_FILE}: key '{k.get('name')}' has an unknown type '{k.get('type')}'")
        fields.append(S.Field(k["name"], k["type"], i, bool(k.get("declared")), False, tuple(k.get("options") or ()),
                              int(k.get("count") or 0), stored=k["name"]))
    return S.Schema(tuple(fields), image_count=int(meta.get("images") or 0))


def search_folder(folder, query: str = "", *, now=None, tz="UTC", con=None):
    """The images of a published folder matching ``query``: a DuckDB relation over its Parquet
    files (every column, in path order). The schema comes from its ``metastore.json``."""
    import duckdb

    from ..engines import compile_table

    meta = read_meta(folder)
    root = published_root(folder)
    schema = meta_schema(meta)
    pattern = _sql_text(str(root / IMAGES_DIR / "**" / "*.parquet"))
    part = meta.get("partition_by")
    hive = ""
    if part:
        f = schema.exact(part)
        kind = f.sql_type if f is not None else "VARCHAR"  # a partition type: VARCHAR or BOOLEAN
        hive = f", hive_partitioning = true, hive_types = {{'{_sql_text(part)}': {kind}}}"
    source = f"read_parquet('{pattern}'{hive})"
    from .search import key_examples, re2_problem

    con = con or duckdb.connect(":memory:")
    sql, params = compile_table(query, schema, dialect="duckdb", source=source, now=now, tz=tz,
                                examples=key_examples(con, source, _naive_utc), regex_problem=re2_problem(con))
    return con.sql(sql, params=params)


def _naive_utc(value):
    """A published table's datetimes are instants (TIMESTAMPTZ): as naive UTC, like the catalog's."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


__all__ = ["publish", "search_folder", "PublishReport", "read_meta", "published_root", "meta_schema", "IMAGES_DIR", "META_FILE", "PARQUET_TYPES"]
