"""Spark speed: a query compiled by metastore vs the same query written by hand in Spark SQL.

    python -m benchmarks.spark_speed [--rows 1000000] [--repeat 5] [--published DIR]

A catalog is built from the generated CSV and published (``metastore publish``), unless
``--published`` names a folder published before. A local Spark session starts (``local[2]``;
its start is not measured) and reads ``DIR/images``. For each query of ``QUERIES`` it first
checks that both give the same number of images, then times, taking turns (compiled, hand,
compiled, …):

* ``compiled``: ``metastore.engines.spark.search(df, query, schema=DIR).count()`` — including
  parsing and checking the query against ``metastore.json`` and compiling it (spark dialect:
  bound parameters, ``timestamp_micros`` datetimes);
* ``hand``: ``spark.sql("SELECT * FROM {df} WHERE <the predicate written by hand>", df=df).count()``.

Each figure is a median; the summary ratio is the sum of the compiled medians over the sum of the
hand medians. Target (issue 17): ratio ≤ 1.2. Needs pyspark (``pip install '.[spark]'``) and Java.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

from .baseline import interleaved_medians
from .generate import DECLARED_TYPES, ensure_csv

TARGET_RATIO = 1.2
_TEXT = ["path", "location", "annotator", "camera_id", "lens", "notes", "weather", "shift",
         "array_join(defects, ' ')", "source_url"]
#: metastore query -> the same predicate written by hand in Spark SQL over the published columns
QUERIES: dict[str, str] = {
    "temperature>20 location:warehouse-3 reviewed:true":
        "temperature > 20 AND lower(location) = 'warehouse-3' AND reviewed = true",
    "temperature:-5..5": "temperature BETWEEN -5 AND 5",
    "location:dock-*": "lower(location) LIKE 'dock-%'",
    "-location:warehouse-3": "location IS NULL OR lower(location) <> 'warehouse-3'",
    "no:annotator": "annotator IS NULL",
    "camera_id:0042": "lower(camera_id) = '0042'",
    "defects:rust defects:dent": "array_contains(defects, 'rust') AND array_contains(defects, 'dent')",
    "captured_at:2024-01":
        "captured_at >= TIMESTAMP '2024-01-01 00:00:00Z' AND captured_at < TIMESTAMP '2024-02-01 00:00:00Z'",
    "(weather:rain OR weather:fog) NOT reviewed:true quality_score>=90":
        "weather IN ('rain', 'fog') AND (reviewed IS NULL OR NOT reviewed) AND quality_score >= 90",
    "capture.gps.lat>51.6": "`capture.gps.lat` > 51.6",
    "source_url~cdn.example.com/dock-a": "lower(source_url) LIKE '%cdn.example.com/dock-a%'",
    "forklift": " OR ".join(f"lower({c}) LIKE '%forklift%'" for c in _TEXT),
}


def _publish(rows: int, csv: Path | None, out: Path) -> int:
    from metastore import Catalog
    from metastore.store.publish import publish

    csv_path = ensure_csv(csv, rows)
    cat = Catalog(out.parent / "catalog.duckdb")
    report = cat.import_files([csv_path], types=DECLARED_TYPES)
    if report.exit_code != 0:
        print(f"import failed: exit {report.exit_code}", file=sys.stderr)
        sys.exit(1)
    return publish(cat, out).images


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.spark_speed", description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--csv", type=Path, default=None, help="default: benchmarks/data/images_<rows>.csv")
    ap.add_argument("--published", type=Path, default=None, help="a folder metastore publish wrote (skips the build)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    from metastore.engines import spark as engine

    with tempfile.TemporaryDirectory() as tmp:
        out = args.published
        if out is None:
            out = Path(tmp) / "published"
            _publish(args.rows, args.csv, out)
        spark = (SparkSession.builder.master("local[2]").appName("metastore-spark-speed")
                 .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                 .config("spark.driver.memory", "2g").config("spark.sql.session.timeZone", "UTC")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        df = spark.read.parquet(str(out / "images"))
        images = df.count()
        sums = {"compiled": 0.0, "hand": 0.0}
        for query, where in QUERIES.items():
            def compiled(q=query):
                return engine.search(df, q, schema=out).count()

            def hand(w=where):
                return spark.sql("SELECT * FROM {df} WHERE " + w, df=df).count()

            a, b = compiled(), hand()
            if a != b:
                print(f"MISMATCH {query!r}: compiled {a}, hand {b}", file=sys.stderr)
                print(json.dumps({"benchmark": "spark_speed", "query": query, "match": False}))
                return 1
            got = interleaved_medians({"compiled": compiled, "hand": hand}, repeat=args.repeat)
            for k in sums:
                sums[k] += got[k]
            print(json.dumps({"benchmark": "spark_speed", "query": query, "matches": a, "match": True,
                              "compiled_seconds": round(got["compiled"], 4), "hand_seconds": round(got["hand"], 4),
                              "ratio": round(got["compiled"] / got["hand"], 3), "repeat": args.repeat}), flush=True)
        ratio = sums["compiled"] / sums["hand"]
        print(json.dumps({"benchmark": "spark_speed", "summary": True, "images": images, "queries": len(QUERIES),
                          "compiled_seconds": round(sums["compiled"], 3), "hand_seconds": round(sums["hand"], 3),
                          "ratio": round(ratio, 3), "target": TARGET_RATIO, "met": ratio <= TARGET_RATIO,
                          "spark": spark.version,
                          "machine": f"{platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"}),
              flush=True)
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
