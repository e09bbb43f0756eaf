"""Publish speed: ``metastore publish`` vs DuckDB's own ``COPY … TO parquet`` of the same data.

    python -m benchmarks.publish_speed [--rows 1000000] [--repeat 5]

One catalog is built from the generated CSV (``Catalog.import_files`` with ``DECLARED_TYPES``).
Then, taking turns (publish, copy_table, copy_same_output, publish, …) so a change in the
machine's speed reaches all alike, medians of:

* ``publish``: ``metastore.store.publish.publish(catalog, out, force=True)`` — opening the
  catalog, reading its schema, ``COPY (SELECT … ORDER BY path) TO …/images/part-00000.parquet``
  with every key column renamed to its key and typed (datetimes as UTC instants), writing
  ``metastore.json`` and swapping the folder into place (the old one removed);
* ``copy_table``: DuckDB's own ``COPY images TO 'out.parquet' (FORMAT parquet)`` of the
  catalog's table as it is (internal column names, source columns, storage order) — the
  issue's target (ratio ≤ 1.5);
* ``copy_same_output``: the same file as publish, written by hand: ``COPY (SELECT path,
  media_id, tags, "v1" AS "temperature", … ORDER BY path) TO …`` — what publish adds on top of
  the SQL it runs.

Both baselines run on the catalog's own read connection (opened per call, like publish). First
checks that publish's file holds the catalog's rows (path, and every value of three keys of three
types, against the wide table loaded straight from the CSV) in path order. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import duckdb

from .baseline import interleaved_medians, load_baseline
from .generate import DECLARED_TYPES, ensure_csv

TARGET_RATIO = 1.5
CHECK_KEYS = ["temperature", "captured_at", "defects"]


def _check(published: Path, baseline: Path) -> list[str]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cols = ", ".join(f'"{k}"' for k in CHECK_KEYS)
    a = f"SELECT path, {cols} FROM read_parquet('{published}/images/*.parquet')"
    b = (f"SELECT path, temperature, captured_at::TIMESTAMPTZ AS captured_at, defects "
         f"FROM read_parquet('{baseline}')")
    problems = []
    for left, right, what in ((a, b, "only in publish"), (b, a, "only in baseline")):
        n = con.execute(f"SELECT count(*) FROM ({left} EXCEPT ALL {right})").fetchone()[0]
        if n:
            problems.append(f"{n} rows {what}")
    order = con.execute(f"SELECT count(*) FROM (SELECT path, lag(path) OVER () AS prev FROM ({a})) "
                        "WHERE prev > path").fetchone()[0]
    if order:
        problems.append(f"{order} rows out of path order")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.publish_speed", description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--csv", type=Path, default=None, help="default: benchmarks/data/images_<rows>.csv")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    from metastore import Catalog
    from metastore.store.fields import read_schema
    from metastore.store.publish import _select, publish

    csv_path = ensure_csv(args.csv, args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        report = Catalog(tmp / "catalog.duckdb").import_files([csv_path], types=DECLARED_TYPES)
        if report.exit_code != 0:
            print(f"import failed: exit {report.exit_code}", file=sys.stderr)
            return 1
        cat = Catalog(tmp / "catalog.duckdb")
        base = load_baseline(csv_path, tmp / "baseline.duckdb")
        base_file = tmp / "baseline.parquet"
        base.execute(f"COPY images TO '{base_file}' (FORMAT parquet)")
        base.close()
        out, table_file, same_file = tmp / "published", tmp / "table.parquet", tmp / "same.parquet"
        with cat.reading() as con:
            fields = sorted(read_schema(con, cat.path).fields, key=lambda f: f.name)
        same_sql = _select(fields, "TRUE")

        def run_publish():
            return publish(cat, out, force=True)

        def copy_table():
            with cat.reading() as con:
                con.execute(f"COPY images TO '{table_file}' (FORMAT parquet)")

        def copy_same_output():
            with cat.reading() as con:
                con.execute(f"COPY ({same_sql}) TO '{same_file}' (FORMAT parquet)")

        run_publish()
        problems = _check(out, base_file)
        if problems:
            print("MISMATCH: " + "; ".join(problems), file=sys.stderr)
            print(json.dumps({"benchmark": "publish_speed", "match": False}))
            return 1
        got = interleaved_medians({"publish": run_publish, "copy_table": copy_table,
                                   "copy_same_output": copy_same_output}, repeat=args.repeat)
        size = sum(p.stat().st_size for p in (out / "images").rglob("*.parquet"))
        ratio = got["publish"] / got["copy_table"]
        print(json.dumps({
            "benchmark": "publish_speed", "rows": report.rows_read, "match": True,
            "publish_seconds": round(got["publish"], 4), "copy_table_seconds": round(got["copy_table"], 4),
            "copy_same_output_seconds": round(got["copy_same_output"], 4),
            "ratio": round(ratio, 3), "target": TARGET_RATIO, "met": ratio <= TARGET_RATIO,
            "ratio_vs_same_output": round(got["publish"] / got["copy_same_output"], 3),
            "publish_bytes": size, "copy_table_bytes": table_file.stat().st_size, "repeat": args.repeat,
            "machine": f"{platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
