"""Export speed: ``Catalog.export(q, out, format=F, columns=…)`` against DuckDB's
``COPY (SELECT … FROM images WHERE <hand-written> ORDER BY path) TO 'file' (FORMAT F)`` on the
wide baseline table of the same CSV, in turns.

    python -m benchmarks.export_speed [--rows 1000000] [--db PATH] [--baseline-db PATH] [--repeat 5]
                                      [--formats parquet csv jsonl]

The catalog and the wide table are built from the generated CSV when missing (defaults
``benchmarks/data/cli_<rows>.duckdb`` and ``…_wide.duckdb``, shared with ``cli_speed``). Before
timing, the exported manifest and the baseline file must hold the same paths in the same order.
Prints one JSON line per (format, query) with both medians and the ratio, then a summary.
Target (issue 16): ratio ≤ 1.5 for parquet, csv and jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from .baseline import ensure_catalogs
from .search_speed import QUERIES, _commit, _machine

COLUMNS = ["location", "temperature", "captured_at", "defects", "reviewed", "camera_id"]
EXPORT_QUERIES = ["and_compare_string_bool", "number_range", "negation_string"]
TARGET = 1.5
_COPY_FORMAT = {"parquet": "(FORMAT parquet)", "csv": "(FORMAT csv, HEADER)", "jsonl": "(FORMAT json)"}


def _paths(fmt: str, path: Path) -> list[str]:
    con = duckdb.connect()
    try:
        reader = {"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json"}[fmt]
        opts = ", all_varchar = true" if fmt == "csv" else ""
        return [r[0] for r in con.execute(f"SELECT path FROM {reader}(?{opts})", [str(path)]).fetchall()]
    finally:
        con.close()


def time_export(catalog, base, tmp: Path, name: str, fmt: str, repeat: int) -> tuple[float, float]:
    """Medians of ``catalog.export`` of the named query (``COLUMNS``, format ``fmt``) and of the
    hand-written ``COPY`` on the open wide-table connection ``base``, taking turns after one
    unmeasured round; both write under ``tmp``. Exits when their paths differ."""
    query, where = QUERIES[name]
    cols = ", ".join(["path"] + [f'"{c}"' for c in COLUMNS])

    def ours() -> Path:
        out = tmp / "ours"
        shutil.rmtree(out, ignore_errors=True)
        catalog.export(query, out, format=fmt, columns=COLUMNS)
        return out / f"manifest.{fmt}"

    def copy() -> Path:
        out = tmp / f"base.{fmt}"
        out.unlink(missing_ok=True)
        base.execute(f"COPY (SELECT {cols} FROM images WHERE {where} ORDER BY path) TO '{out}' "
                     f"{_COPY_FORMAT[fmt]}")
        return out

    if _paths(fmt, ours()) != _paths(fmt, copy()):
        raise SystemExit(f"!!! {fmt} {name}: the manifest's paths differ from the baseline's")
    times: dict[str, list[float]] = {"metastore": [], "copy": []}
    for i in range(repeat + 1):
        for side, fn in (("metastore", ours), ("copy", copy)):
            t0 = time.perf_counter()
            fn()
            if i:
                times[side].append(time.perf_counter() - t0)
    return statistics.median(times["metastore"]), statistics.median(times["copy"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.export_speed", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--baseline-db", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--formats", nargs="*", default=["parquet", "csv", "jsonl"])
    ap.add_argument("--only", nargs="*", default=None, metavar="NAME")
    args = ap.parse_args(argv)
    from metastore import Catalog

    db, base_db = ensure_catalogs(args.rows, args.csv, args.db, args.baseline_db)

    catalog = Catalog(db)
    base = duckdb.connect(str(base_db), read_only=True)
    base.execute("SET TimeZone = 'UTC'")
    results = {}
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent / "data") as tmp:
        tmp = Path(tmp)
        for fmt in args.formats:
            for name in args.only or EXPORT_QUERIES:
                query = QUERIES[name][0]
                ms, cp = time_export(catalog, base, tmp, name, fmt, args.repeat)
                results[f"{fmt}.{name}"] = ms / cp
                print(json.dumps({"benchmark": "export_speed", "format": fmt, "name": name, "query": query,
                                  "metastore_s": round(ms, 3), "copy_s": round(cp, 3), "ratio": round(ms / cp, 2),
                                  "repeat": args.repeat}), flush=True)
    base.close()
    print(json.dumps({"benchmark": "export_speed.summary", "rows": args.rows, "commit": _commit(),
                      "machine": _machine(), "load": os.getloadavg()[0],
                      "ratios": {k: round(v, 2) for k, v in results.items()},
                      "over_target": sorted(k for k, v in results.items() if v > TARGET), "target": TARGET}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
