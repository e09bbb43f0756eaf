"""Training subsets: a query's images as a manifest, optionally split, sampled and with media.

    export(catalog, "weather:rain", "data/rain", split="train=0.8,val=0.2", group_by="camera_id",
           media="symlink", media_root="raw/", seed=7)

writes ``data/rain/manifest.csv``, ``data/rain/media/<path>`` and ``data/rain/export.json``, the
record that :func:`export_from` rebuilds the same subset from. No rich, no typer, no SQL: rows
come from the store (``metastore.store.export_rows``); everything else here is plain Python.

Decisions (documented in docs/export.md):

* Splits and samples hash ``(seed, purpose, path)`` — or ``(seed, purpose, group value)`` with
  ``group_by`` — with MD5 (in SQL: ``store/export_sql.py``; :func:`assign_split` is the same in
  Python), never the row order, so an image keeps its split when the catalog grows and the
  result does not depend on DuckDB's version. Images lacking the group key are each their own
  group. Exports made before issue 16 used BLAKE2b in Python (their ``export.json`` has no
  ``"hash"``); ``export_from`` rebuilds them with it (``hash="blake2b"``).
* Order of operations: query → sample (the N images with the smallest sample hash) → sort
  (default path) → limit → split. A split depends only on the image (or its group), so limit and
  sample never move an image from one split to another.
* Media go to ``OUT/media/<path>`` (``export_media.py``). Every source is checked before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from . import export_files, export_media
from .errors import ExportError, UsageError
from .export_files import RECORD, Writes, check_out
from .export_media import MEDIA_DIR, relative_media_path
from .types import TYPES as TYPE_TABLE, json_value as value_json, text as value_text

FORMATS = ("csv", "jsonl", "json", "parquet", "paths")
MEDIA_MODES = ("copy", "symlink", "hardlink")
RECORD_VERSION = 1
_SPLIT_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")
_SHOW = 5  # how many offending paths an error lists


@dataclass
class SplitCount:
    name: str
    ratio: float
    count: int


@dataclass
class ExportReport:
    """What an export wrote. ``warnings`` are for stderr (e.g. the catalog changed since)."""

    out: Path
    manifest: Path
    record: Path
    format: str
    matched: int  # images the query matched
    rows: int  # images in the manifest
    splits: list[SplitCount] = field(default_factory=list)
    media: str | None = None
    placed: int = 0
    missing: list[str] = field(default_factory=list)  # skipped with skip_missing
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"out": str(self.out), "manifest": str(self.manifest), "record": str(self.record),
                "format": self.format, "matched": self.matched, "rows": self.rows,
                "splits": [{"name": s.name, "ratio": s.ratio, "count": s.count} for s in self.splits],
                "media": self.media, "placed": self.placed, "missing": self.missing,
                "warnings": self.warnings}


# -- hashing, splits, samples ------------------------------------------------------------------
#: How new exports draw splits and samples (recorded as ``"hash"`` in export.json).
HASH = "md5"
#: What exports made before issue 16 used (their records have no ``"hash"``).
LEGACY_HASH = "blake2b"
HASHES = (HASH, LEGACY_HASH)


def hash64(seed: int, purpose: str, text: str) -> int:
    """The first 64 bits of ``md5(f"{seed}\x1f{purpose}\x1f{text}")`` (UTF-8): what the SQL of
    ``store/export_sql.py`` computes as ``left(md5(…), 16)``."""
    return int(hashlib.md5(f"{seed}\x1f{purpose}\x1f{text}".encode("utf-8")).hexdigest()[:16], 16)


def split_bounds(ratios: Sequence[tuple[str, float]]) -> list[int]:
    """Each split's exclusive upper bound on :func:`hash64` (cumulative ratios × 2**64)."""
    out, acc = [], 0.0
    for _, ratio in ratios:
        acc += ratio
        out.append(min(int(acc * 2.0 ** 64), 2 ** 64 - 1))
    return out


def sample_key(seed: int, path: str) -> tuple[str, str]:
    """The order of ``--sample`` (the N smallest are kept): md5 hex of ``(seed, "sample", path)``, then the path."""
    return hashlib.md5(f"{seed}\x1fsample\x1f{path}".encode("utf-8")).hexdigest(), path


def hash01(seed: int, purpose: str, text: str) -> float:
    """The BLAKE2b hash of exports made before issue 16: a uniform number in [0, 1) from
    ``(seed, purpose, text)`` (``hash="blake2b"``)."""
    digest = hashlib.blake2b(f"{seed}\x1f{purpose}\x1f{text}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0 ** 64


def parse_split(spec: str | None) -> list[tuple[str, float]]:
    """``"train=0.8,val=0.1,test=0.1"`` → ``[("train", 0.8), …]``; ratios must sum to 1."""
    if not spec:
        return []
    out: list[tuple[str, float]] = []
    for part in spec.split(","):
        name, sep, ratio = part.strip().partition("=")
        name = name.strip()
        if not sep or not _SPLIT_NAME.match(name):
            raise UsageError(f"--split expects NAME=RATIO,…, got '{part.strip()}'",
                             help="e.g. --split train=0.8,val=0.1,test=0.1")
        try:
            value = float(ratio)
        except ValueError:
            raise UsageError(f"--split {name}: '{ratio.strip()}' is not a number",
                             help="e.g. --split train=0.8,val=0.2") from None
        if not (math.isfinite(value) and 0 < value <= 1):
            raise UsageError(f"--split {name}: ratio {ratio.strip()} must be above 0 and at most 1")
        if name in (n for n, _ in out):
            raise UsageError(f"--split names split '{name}' twice")
        out.append((name, value))
    total = sum(v for _, v in out)
    if abs(total - 1.0) > 1e-6:
        raise UsageError(f"--split ratios add up to {total:g}, not 1", help="e.g. --split train=0.8,val=0.1,test=0.1")
    return out


def group_text(value, type_: str) -> str | None:
    """A group value as canonical text (None when the image lacks the key)."""
    if value is None:
        return None
    if TYPE_TABLE[type_].listed:
        return ",".join(sorted(value)) if value else None
    return cell(value)


def assign_split(ratios: Sequence[tuple[str, float]], seed: int, key: str, hash: str = HASH) -> str:
    """The split of one image (``key`` = ``"p\x1f" + path``) or group (``"g\x1f" + group text``):
    the first whose cumulative bound exceeds its hash — exactly what export writes."""
    if hash == HASH:
        h = hash64(seed, "split", key)
        for (name, _), bound in zip(ratios[:-1], split_bounds(ratios)):
            if h < bound:
                return name
        return ratios[-1][0]
    u = hash01(seed, "split", key)
    acc = 0.0
    for name, ratio in ratios:
        acc += ratio
        if u < acc:
            return name
    return ratios[-1][0]


# -- cells -------------------------------------------------------------------------------------
def cell(value) -> str:
    """A value as manifest text (CSV cells, paths): the text ``metastore search --format csv`` prints."""
    return value_text(value)


json_cell = value_json


# -- paths and the output folder ---------------------------------------------------------------
# -- manifests ---------------------------------------------------------------------------------
def _manifest_text(fmt: str, names: list[str], rows: list[list]) -> str:
    if fmt == "paths":
        text = "".join(r[0] + "\n" for r in rows)
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(names)
        for r in rows:
            w.writerow([cell(v) for v in r])
        text = buf.getvalue()
    else:
        items = [dict(zip(names, (json_cell(v) for v in r))) for r in rows]
        if fmt == "json":
            text = json.dumps(items, ensure_ascii=False, indent=1) + "\n"
        else:
            text = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)
    return text


# -- export ------------------------------------------------------------------------------------
def _split_sql(ratios, seed: int, group_field):
    from .store.export_sql import SplitSql

    if not ratios:
        return None
    bounds = split_bounds(ratios)
    return SplitSql(f"{seed}\x1fsplit\x1f", tuple((n, f"{b:016x}") for (n, _), b in zip(ratios[:-1], bounds)),
                    ratios[-1][0], group_field)


def split_counts(catalog, query: str, split: str, **options) -> list[SplitCount]:
    """How many images ``export(catalog, query, out, split=split, **options)`` would put into
    each split, writing nothing (``export(…, dry_run=True).splits``): the same selection (query →
    sample → sort → limit → missing files with ``skip_missing``) and the same SQL split."""
    if not parse_split(split):
        raise UsageError("a split is needed, e.g. train=0.8,val=0.2")
    return export(catalog, query, None, split=split, dry_run=True, **options).splits


def export(catalog, query: str, out, *, format: str = "csv", columns: Sequence[str] = (),
           media: str | None = None, media_root=None, split: str | None = None,
           group_by: str | None = None, sample: int | None = None, seed: int = 0,
           limit: int | None = None, sort: str | None = None, force: bool = False,
           skip_missing: bool = False, split_column: str = "split",
           now: datetime | None = None, hash: str = HASH, dry_run: bool = False) -> ExportReport:
    """Write a query's images to the folder ``out``: ``manifest.<format>``, ``export.json`` and,
    with ``media``, the files under ``out/media/<path>``. See the module docstring.
    ``dry_run``: write nothing (``out`` may be None) and return the report the export would give
    (rows, matched, split counts, missing media with ``skip_missing``; ``placed`` 0). ``hash``:
    how splits and samples are drawn — ``"md5"`` (the default, in SQL), or ``"blake2b"`` to
    rebuild an export made before issue 16 (its record has no ``"hash"``)."""
    from .store.export_rows import search_rows, write_parquet
    from .store.export_sql import copy_manifest, count_rows, split_rows
    from .store.search import run_search

    if format not in FORMATS:
        raise UsageError(f"unknown format '{format}'", help=f"use one of: {', '.join(FORMATS)}")
    if media is not None and media not in MEDIA_MODES:
        raise UsageError(f"unknown --media '{media}'", help=f"use one of: {', '.join(MEDIA_MODES)}")
    if media is None and media_root is not None:
        raise UsageError("--media-root needs --media copy|symlink|hardlink")
    if hash not in HASHES:
        raise UsageError(f"unknown split hash '{hash}'", help=f"use one of: {', '.join(HASHES)}")
    for name, value in (("--sample", sample), ("--limit", limit)):
        if value is not None and value < 0:
            raise UsageError(f"{name} must be 0 or more, got {value}")
    ratios = parse_split(split)
    if group_by and not ratios:
        raise UsageError("--group-by needs --split", help="e.g. --split train=0.8,val=0.2 --group-by camera_id")
    if ratios:
        _check_split_column(split_column, columns)
    out = Path(out) if out is not None else None
    if out is None and not dry_run:
        raise UsageError("export needs an output folder")
    if not dry_run:
        check_out(out, force)
    root = Path(media_root) if media_root is not None else Path(".")
    if media and not root.is_dir():
        raise ExportError(f"--media-root {root} is not a folder")

    now = now or catalog.now()
    cols = [c for c in dict.fromkeys(columns) if c not in ("path", "media_id")]
    fetch = cols + ([group_by] if group_by and group_by not in cols else [])
    legacy = hash == LEGACY_HASH and (ratios or sample is not None)
    # md5: the sample is part of the search (query → sample → sort → limit, all in SQL)
    sql_limit = limit if sample is None or not legacy else None
    sql_sample = (f"{seed}\x1fsample\x1f", sample) if sample is not None and not legacy else None
    result = run_search(catalog, query, columns=fetch, sort=sort, limit=sql_limit, now=now, sample=sql_sample)
    col_fields = result.columns[:len(cols)]
    group_field = result.columns[fetch.index(group_by)] if group_by else None
    names = ["path", "media_id"] + [f.name for f in col_fields] + ([split_column] if ratios else [])
    width = 2 + len(cols)
    split_sql = None if legacy else _split_sql(ratios, seed, group_field)
    options = {"format": format, "columns": cols, "media": media, "split": split, "group_by": group_by,
               "sample": sample, "limit": limit, "sort": sort, "skip_missing": skip_missing,
               "split_column": split_column, "hash": hash}

    manifest = (out or Path(".")) / f"manifest.{format}"
    if dry_run and not media and not legacy:
        from .store.export_sql import count_rows

        counts = count_rows(result, split_sql)
        rows = sum(counts.values())
        matched = result.count() if sql_limit is not None or sql_sample is not None else rows
        return ExportReport(out, manifest, (out or Path(".")) / RECORD, format, matched, rows,
                            [SplitCount(n, r, counts.get(n, 0)) for n, r in ratios], None, 0, [])
    writes = Writes(out)
    if not media and not legacy and format in ("csv", "jsonl", "parquet", "paths"):
        # nothing to decide per row in Python: DuckDB writes the files (issue 16: every row
        # through Python made an export 3-4x a COPY of the same selection)
        writes.begin()
        try:
            tmp = writes.temp(manifest.name)
            rows = copy_manifest(result, tmp, format, width, names, split_sql)
            if format == "paths" and ratios:
                for name, _ in ratios:
                    copy_manifest(result, writes.temp(f"manifest.{name}.paths"), "paths", width, names, split_sql,
                                  only_split=name)
        except OSError as exc:
            raise writes.failed(manifest.name, exc) from None
        matched = result.count() if sql_limit is not None or sql_sample is not None else rows
        counts = count_rows(result, split_sql) if ratios else {}
        report = ExportReport(out, manifest, out / RECORD, format, matched, rows,
                              [SplitCount(n, r, counts.get(n, 0)) for n, r in ratios], None, 0, [])
        _finish(catalog, report, writes, query, now, seed, export_files.sha256(tmp), root, options)
        return report

    if legacy:
        rows = search_rows(result)
        matched = result.count() if sql_limit is not None else len(rows)
        if sample is not None and sample < len(rows):
            keep = set(sorted(range(len(rows)),
                              key=lambda i: (hash01(seed, "sample", rows[i][0]), rows[i][0]))[:sample])
            rows = [r for i, r in enumerate(rows) if i in keep]
        if limit is not None and sample is not None:
            rows = rows[:limit]
    else:
        rows = split_rows(result, width, split_sql)
        matched = result.count() if sql_limit is not None or sql_sample is not None else len(rows)

    plan: list[tuple[Path, Path]] = []
    missing: list[str] = []
    if media:
        plan = export_media.plan(rows, out or Path("."), root)
        absent = [i for i, (src, _) in enumerate(plan) if not src.is_file()]
        if absent and not skip_missing:
            shown = ", ".join(str(plan[i][0]) for i in absent[:_SHOW]) + (" …" if len(absent) > _SHOW else "")
            raise ExportError(f"{len(absent):,} of {len(plan):,} source files are missing: {shown}",
                              help="check --media-root, or pass --skip-missing to export the others")
        if absent:
            gone = set(absent)
            missing = [rows[i][0] for i in absent]
            rows = [r for i, r in enumerate(rows) if i not in gone]
            plan = [p for i, p in enumerate(plan) if i not in gone]
        if not dry_run:
            export_media.check_tree(plan, out, root)

    manifest_rows = [list(r[:width]) for r in rows]
    counts: dict[str, int] = {}
    if ratios:
        gi = 2 + fetch.index(group_by) if group_by else None
        gtype = group_field.type if group_field else None
        for r, m in zip(rows, manifest_rows):
            if legacy:
                g = group_text(r[gi], gtype) if gi is not None else None
                name = assign_split(ratios, seed, "g\x1f" + g if g is not None else "p\x1f" + r[0], hash=LEGACY_HASH)
            else:
                name = r[-1]
            m.append(name)
            counts[name] = counts.get(name, 0) + 1

    if dry_run:
        return ExportReport(out, manifest, (out or Path(".")) / RECORD, format, matched, len(manifest_rows),
                            [SplitCount(n, r, counts.get(n, 0)) for n, r in ratios], media, 0, missing)
    # Every file under a temporary name first, renamed at the end with export.json last (export_files).
    writes.begin()
    if format == "parquet":
        types = ["string", "string"] + [f.type for f in col_fields] + (
            ["string"] if ratios else [])
        tmp = writes.temp(manifest.name)
        try:
            write_parquet(tmp, names, types, [list(c) for c in zip(*manifest_rows)] if manifest_rows
                          else [[] for _ in names])
        except OSError as exc:
            raise writes.failed(manifest.name, exc) from None
    else:
        tmp = writes.write_text(manifest.name, _manifest_text(format, names, manifest_rows))
    manifest_sha = export_files.sha256(tmp)
    if format == "paths" and ratios:
        for name, _ in ratios:
            writes.write_text(f"manifest.{name}.paths",
                              _manifest_text("paths", names, [m for m in manifest_rows if m[-1] == name]))
    try:
        placed = export_media.place(plan, media, force) if media else 0
    except ExportError:
        writes.abort()
        raise

    report = ExportReport(out, manifest, out / RECORD, format, matched, len(manifest_rows),
                          [SplitCount(n, r, counts.get(n, 0)) for n, r in ratios], media, placed, missing)
    _finish(catalog, report, writes, query, now, seed, manifest_sha, root, options)
    return report


def _finish(catalog, report: ExportReport, writes: Writes, query: str, now: datetime, seed: int,
            manifest_sha: str, root: Path, opts: dict) -> None:
    """Write ``export.json`` (the last file published) and publish every file of the export."""
    from .store.export_rows import catalog_state

    split_column = opts["split_column"]
    record = {
        "metastore_export": RECORD_VERSION,
        "query": query,
        "now": now.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "timezone": catalog.tz,
        "seed": seed,
        "options": {"format": opts["format"], "columns": opts["columns"], "media": opts["media"],
                    "media_root": os.path.abspath(root) if opts["media"] else None, "split": opts["split"],
                    "group_by": opts["group_by"], "sample": opts["sample"], "limit": opts["limit"],
                    "sort": opts["sort"], "skip_missing": opts["skip_missing"],
                    **({"split_column": split_column} if split_column != "split" else {})},
        "hash": opts["hash"],
        "counts": {"matched": report.matched, "rows": report.rows, "placed": report.placed,
                   "missing": len(report.missing),
                   "splits": {s.name: {"ratio": s.ratio, "count": s.count} for s in report.splits}},
        "missing": report.missing,
        "manifest": {"file": report.manifest.name, "sha256": manifest_sha},
        "catalog": {"path": os.path.abspath(catalog.path), **catalog_state(catalog)},
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    writes.write_text(RECORD, json.dumps(record, ensure_ascii=False, indent=2) + "\n")  # the last one published
    export_files.publish(writes)


def _check_split_column(name: str, columns: Sequence[str]) -> None:
    """The column --split adds must not collide with path, media_id or a requested catalog key."""
    if not name or name in ("path", "media_id"):
        raise UsageError(f"--split-column cannot be '{name}' (a column every manifest has)",
                         help="e.g. --split-column subset")
    if name in columns:
        raise UsageError(f"the catalog key '{name}' is in the manifest, and --split would add a column of that "
                         f"name: give the split column another name with --split-column NAME",
                         help=f"e.g. --split-column {name}_set (or leave '{name}' out of --columns)")


__all__ = ["FORMATS", "MEDIA_MODES", "MEDIA_DIR", "RECORD", "HASH", "LEGACY_HASH", "ExportReport", "SplitCount",
           "export", "split_counts", "parse_split", "assign_split", "split_bounds",
           "hash64", "sample_key", "hash01", "relative_media_path"]
