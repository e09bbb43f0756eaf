"""Facet speed: ``Catalog.facets(keys, query)`` vs hand-written GROUP BY SQL over a wide typed table.

    python -m benchmarks.facet_speed [--rows 1000000] [--repeat 15]

One catalog is built from the generated CSV (``Catalog.import_files`` with ``DECLARED_TYPES``)
and, in the same run, the baseline table (``benchmarks.baseline.load_baseline``). Three keys
of three kinds are faceted: ``location`` (string: top values, other, missing), ``temperature``
(number: histogram with a round bin width found from the result's range) and ``defects``
(multi-enum: images per option). The baseline is what a user would type by hand on an open
connection: one ``GROUP BY`` per key with a bin width they already know (no range query). A
second, "cold" baseline does the same as a script would: open the file read-only, find the
number range, then the GROUP BYs — the work ``facets`` itself does per call. Both ratios print.

For each query (``""`` = every image, a selective filter, and one keeping more than half the
images) it first checks that metastore's counts equal the baseline's, then times both:
``facets`` (in-process, including opening the catalog read-only and parsing the query) and
``baseline``, taking turns (facets, baseline, facets, …) so that the machine's changing speed
reaches both alike; each figure is a median. Prints one JSON line per measurement and a
summary. Target (issue 4): ratio ≤ 1.5 for the three keys together.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import duckdb

from .baseline import interleaved_medians, load_baseline
from .generate import DECLARED_TYPES, ensure_csv

KEYS = ["location", "temperature", "defects"]
#: metastore query -> the same filter written by hand for the wide table
QUERIES = {
    "": "TRUE",
    "weather:rain quality_score>=50": "weather = 'rain' AND quality_score >= 50",  # ~9% of images
    "temperature>0": "temperature > 0",  # ~58%
}
TARGET_RATIO = 1.5


def _baseline_sql(where: str) -> list[str]:
    return [
        f"SELECT location, count(*) FROM images WHERE {where} GROUP BY location",
        f"SELECT floor(temperature / 5) AS b, count(*) FROM images WHERE {where} GROUP BY b",
        f"SELECT d, count(*) FROM (SELECT unnest(defects) AS d FROM images WHERE {where}) GROUP BY d",
    ]


def facets_call(cat, query: str):
    """The metastore side: ``cat.facets(KEYS, query)`` as the benchmark times it."""
    return lambda: cat.facets(KEYS, query, top=10, bins=20)


def baseline_call(con, where: str):
    """The hand-written side on the open connection ``con``: one GROUP BY per key."""
    sqls = _baseline_sql(where)
    return lambda: [con.execute(s).fetchall() for s in sqls]


def _check(facets, base: list[list[tuple]]) -> list[str]:
    """Where metastore's counts disagree with the hand-written GROUP BYs (empty when they agree)."""
    problems = []
    loc, temp, defects = facets
    by_value = {v: n for v, n in base[0]}
    for b in loc.buckets:
        if b.kind == "value" and by_value.get(b.value) != b.count:
            problems.append(f"location {b.value}: {b.count} vs {by_value.get(b.value)}")
        if b.kind == "missing" and by_value.get(None, 0) != b.count:
            problems.append(f"location (missing): {b.count} vs {by_value.get(None, 0)}")
    present = sum(n for v, n in base[1] if v is not None)
    if sum(b.count for b in temp.buckets if b.kind == "bin") != present:
        problems.append("temperature: histogram total differs")
    opts = {v: n for v, n in base[2]}
    for b in defects.buckets:
        if b.kind == "value" and opts.get(b.value) != b.count:
            problems.append(f"defects {b.value}: {b.count} vs {opts.get(b.value)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.facet_speed", description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--csv", type=Path, default=None, help="default: benchmarks/data/images_<rows>.csv")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--warm-only", action="store_true", help="skip the baseline that opens its file per call")
    args = ap.parse_args(argv)
    from metastore import Catalog

    csv_path = ensure_csv(args.csv, args.rows)
    ratios, cold_ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "catalog.duckdb"
        report = Catalog(db).import_files([csv_path], types=DECLARED_TYPES)
        if report.exit_code != 0:
            print(f"import failed: exit {report.exit_code}", file=sys.stderr)
            return 1
        base_con = load_baseline(csv_path, Path(tmp) / "baseline.duckdb")
        cat = Catalog(db)
        for query, where in QUERIES.items():
            sqls = _baseline_sql(where)
            baseline, facets = baseline_call(base_con, where), facets_call(cat, query)
            base_path = str(Path(tmp) / "baseline.duckdb")

            def baseline_cold() -> list[list[tuple]]:
                # The same by hand as a script would run it: open the file, find the number
                # range for the histogram's bins, then the GROUP BYs.
                con = duckdb.connect(base_path, read_only=True)
                try:
                    con.execute(f"SELECT min(temperature), max(temperature) FROM images WHERE {where}").fetchall()
                    return [con.execute(s).fetchall() for s in sqls]
                finally:
                    con.close()

            problems = _check(facets(), baseline())
            if problems:
                print("MISMATCH: " + "; ".join(problems), file=sys.stderr)
                print(json.dumps({"benchmark": "facet_speed", "query": query, "match": False}))
                return 1
            got = interleaved_medians({"facets": facets, "baseline": baseline}, repeat=args.repeat)
            t_m, t_b = got["facets"], got["baseline"]
            ratios.append(t_m / t_b)
            cold = None
            if not args.warm_only:
                base_con.close()  # no other connection to the file in this process: a real open
                got = interleaved_medians({"facets": facets, "cold": baseline_cold}, repeat=args.repeat)
                base_con = duckdb.connect(base_path, read_only=True)
                cold = got["facets"] / got["cold"]
                cold_ratios.append(cold)
            print(json.dumps({"benchmark": "facet_speed", "query": query, "keys": KEYS, "rows": report.rows_read,
                              "match": True, "facets_seconds": round(t_m, 4), "baseline_seconds": round(t_b, 4),
                              "ratio": round(t_m / t_b, 3),
                              "ratio_vs_cold_baseline": None if cold is None else round(cold, 3),
                              "repeat": args.repeat}), flush=True)
        base_con.close()
    print(json.dumps({"benchmark": "facet_speed.summary", "median_ratio": round(statistics.median(ratios), 3),
                      "max_ratio": round(max(ratios), 3), "target": TARGET_RATIO,
                      "max_ratio_vs_cold_baseline": round(max(cold_ratios), 3) if cold_ratios else None,
                      "ok": max(ratios) <= TARGET_RATIO, "python": platform.python_version(),
                      "cpus": os.cpu_count(), "machine": platform.machine()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
