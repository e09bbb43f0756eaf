"""Rebuilding an export from its record (``export.json``): read and check the record — a damaged
one is refused with what is wrong, never guessed — then run the same export (same query with the
same clock, options, seed and hash) and warn when the catalog or the manifest changed since.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from .errors import ExportError
from .export import HASHES, LEGACY_HASH, RECORD_VERSION, ExportReport, export
from .export_files import RECORD, sha256


def read_record(record_path) -> dict:
    path = Path(record_path)
    if path.is_dir():
        path = path / RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"no export record at {path}", help="pass the export.json an earlier export wrote") from None
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read export record {path}: {exc}") from None
    if not isinstance(record, dict) or record.get("metastore_export") != RECORD_VERSION:
        raise ExportError(f"{path} is not a metastore export record (version {RECORD_VERSION})")
    problem = _record_problem(record)
    if problem:
        raise ExportError(f"export record {path} is damaged: {problem}",
                          help="restore it from the export it came with, or export again with the query and options")
    return record


#: Fields of an export record and what each option may hold (a damaged record is refused, not guessed).
_OPTION_TYPES = {"format": (str,), "columns": (list,), "media": (str, type(None)), "media_root": (str, type(None)),
                 "split": (str, type(None)), "group_by": (str, type(None)), "sample": (int, type(None)),
                 "limit": (int, type(None)), "sort": (str, type(None)), "skip_missing": (bool,),
                 "split_column": (str,)}


def _record_problem(record: dict) -> str | None:
    if not isinstance(record.get("query", ""), str):
        return "'query' is not text"
    if not isinstance(record.get("seed", 0), int) or isinstance(record.get("seed", 0), bool):
        return "'seed' is not a whole number"
    if not isinstance(record.get("timezone") or "UTC", str):
        return "'timezone' is not text"
    if record.get("hash", LEGACY_HASH) not in HASHES:
        return f"'hash' is {json.dumps(record.get('hash'))}, not one of {', '.join(HASHES)}"
    try:
        datetime.fromisoformat(str(record["now"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return "'now' is missing or not an ISO 8601 datetime"
    opts = record.get("options")
    if not isinstance(opts, dict):
        return "'options' is missing or not an object"
    for key, value in opts.items():
        types = _OPTION_TYPES.get(key)
        if types and (not isinstance(value, types) or isinstance(value, bool) and bool not in types):
            return f"option '{key}' holds {json.dumps(value)}"
    if not all(isinstance(c, str) for c in opts.get("columns") or []):
        return "option 'columns' holds a value that is not a key name"
    for name in ("catalog", "counts", "manifest"):
        if not isinstance(record.get(name, {}), dict):
            return f"'{name}' is not an object"
    return None


def export_from(catalog, record_path, out, force: bool = False) -> ExportReport:
    """Rebuild the export described by an ``export.json`` into ``out``: same query (with the same
    clock, so relative dates resolve alike), options and seed. Warns (``report.warnings``) when the
    catalog changed since or the rebuilt manifest differs from the recorded one."""
    record = read_record(record_path)
    known = ("format", "columns", "media", "media_root", "split", "group_by", "sample", "limit", "sort",
             "skip_missing", "split_column")
    opts = {k: v for k, v in record["options"].items() if k in known}
    now = datetime.fromisoformat(str(record["now"]).replace("Z", "+00:00"))
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    old_tz = catalog.tz
    catalog.tz = record.get("timezone") or old_tz
    try:
        report = export(catalog, record.get("query", ""), out, force=force, seed=int(record.get("seed", 0)),
                        now=now, hash=record.get("hash", LEGACY_HASH), **opts)
    finally:
        catalog.tz = old_tz
    from .store.export_rows import catalog_state

    then = {k: v for k, v in (record.get("catalog") or {}).items() if k != "path"}
    current = catalog_state(catalog)
    if then != current:
        changed = [k for k in current if then.get(k) != current[k]]
        report.warnings.append(
            f"the catalog changed since this export was made ({', '.join(changed)}: images "
            f"{then.get('images')} → {current['images']}, last import/edit {then.get('last_source_id')} → "
            f"{current['last_source_id']})")
    if sha256(report.manifest) != (record.get("manifest") or {}).get("sha256"):
        report.warnings.append(f"the rebuilt {report.manifest.name} differs from the recorded one "
                               f"({(record.get('counts') or {}).get('rows', '?')} rows then, {report.rows:,} now)")
    return report


__all__ = ["export_from", "read_record"]
