"""Hand-written DuckDB baselines for the benchmarks, measured in the same run as metastore.

The baseline is what a user would write without metastore: one wide DuckDB table loaded straight
from the generated CSV, and one hand-written WHERE clause per query. Each benchmark reports
``metastore_seconds / baseline_seconds`` (medians), so the ratio is comparable across machines.

    python -m benchmarks.baseline --csv benchmarks/data/images_1m.csv [--repeat 5]

prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import duckdb

__all__ = ["QUERIES", "median_seconds", "interleaved_medians", "load_baseline", "baseline_search", "main"]

# metastore query (spec §6 language) -> equivalent hand-written predicate over the wide table
# produced by ``load_baseline`` from ``benchmarks.generate`` data.
_TEXT = ["path", "location", "annotator", "camera_id", "lens", "notes", "weather", "shift",
         "array_to_string(defects, ' ')", "source_url"]
QUERIES: dict[str, str] = {
    "temperature>20 location:warehouse-3 reviewed:true":
        "temperature > 20 AND lower(location) = 'warehouse-3' AND reviewed = true",
    "temperature:-5..5": "temperature BETWEEN -5 AND 5",
    "location:dock-*": "lower(location) LIKE 'dock-%'",
    "-location:warehouse-3": "location IS NULL OR lower(location) <> 'warehouse-3'",
    "no:annotator": "annotator IS NULL",
    "camera_id:0042": "lower(camera_id) = '0042'",
    "defects:rust defects:dent": "list_contains(defects, 'rust') AND list_contains(defects, 'dent')",
    "captured_at:2024-01":
        "captured_at >= TIMESTAMPTZ '2024-01-01 00:00:00+00' "
        "AND captured_at < TIMESTAMPTZ '2024-02-01 00:00:00+00'",
    "(weather:rain OR weather:fog) NOT reviewed:true quality_score>=90":
        "(lower(weather) IN ('rain', 'fog')) AND (reviewed IS NULL OR NOT reviewed) "
        "AND quality_score >= 90",
    "capture.gps.lat>51.6": '"capture.gps.lat" > 51.6',
    "source_url~cdn.example.com/dock-a": "source_url ILIKE '%cdn.example.com/dock-a%'",
    "forklift": " OR ".join(f"{c} ILIKE '%forklift%'" for c in _TEXT),
}


def median_seconds(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` unmeasured runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved_medians(fns: dict[str, Callable[[], object]], repeat: int = 5, warmup: int = 1) -> dict[str, float]:
    """Median wall time of each function, run in turn (a, b, a, b, …) so that a change in the
    machine's speed during the run (other processes, CPU clock) reaches both sides alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def load_baseline(csv_path: str | Path, db_path: str | Path = ":memory:") -> duckdb.DuckDBPyConnection:
    """Load the generated CSV into one wide table ``images`` (the 'import' baseline)."""
    con = duckdb.connect(str(db_path))
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE OR REPLACE TABLE images AS SELECT * REPLACE (string_split(defects, ', ') AS defects) "
        "FROM read_csv(?, header = true, types = {'camera_id': 'VARCHAR'})", [str(csv_path)])
    return con


def ensure_catalogs(rows: int, csv: Path | None, db: Path | None, base: Path | None) -> tuple[Path, Path]:
    """The generated CSV's metastore catalog and hand-written wide table (``benchmarks/data/cli_<rows>*``
    unless given), built once and reused by the benchmarks that share them (cli_speed, export_speed)."""
    data = Path(__file__).parent / "data"
    csv = csv or data / f"images_{rows}.csv"
    db = db or data / f"cli_{rows}.duckdb"
    base = base or data / f"cli_{rows}_wide.duckdb"
    if not db.exists() or not base.exists():
        from metastore import Catalog

        from .generate import DECLARED_TYPES, write_csv

        if not csv.exists():
            write_csv(csv, rows)
        if not db.exists():
            report = Catalog(db).import_files([csv], types=DECLARED_TYPES)
            if report.rows_failed:
                raise SystemExit(f"import failed: {report.to_dict()}")
        if not base.exists():
            load_baseline(csv, base).close()
    return db, base


def baseline_search(con: duckdb.DuckDBPyConnection, where: str) -> list[str]:
    """Matching paths, ordered by path (as ``metastore search --format paths`` prints them)."""
    return [r[0] for r in con.execute(f"SELECT path FROM images WHERE {where} ORDER BY path").fetchall()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.baseline", description=__doc__.split("\n")[0])
    ap.add_argument("--csv", type=Path, default=Path(__file__).parent / "data" / "images_1m.csv")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    if not args.csv.is_file():
        ap.error(f"{args.csv} not found; run python -m benchmarks.generate first")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "baseline.duckdb"

        def load() -> None:
            db.unlink(missing_ok=True)
            load_baseline(args.csv, db).close()

        secs = median_seconds(load, repeat=args.repeat, warmup=0)
        print(json.dumps({"benchmark": "baseline.import", "csv": str(args.csv),
                          "median_seconds": round(secs, 4), "repeat": args.repeat}))
        con = duckdb.connect(str(db), read_only=True)
        for query, where in QUERIES.items():
            matches = len(baseline_search(con, where))
            secs = median_seconds(lambda w=where: baseline_search(con, w), repeat=args.repeat)
            print(json.dumps({"benchmark": "baseline.search", "query": query, "matches": matches,
                              "median_seconds": round(secs, 4), "repeat": args.repeat}))
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
