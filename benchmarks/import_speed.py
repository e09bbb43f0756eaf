"""Import speed: ``metastore import`` of a generated CSV vs DuckDB's own ``read_csv``.

    python -m benchmarks.import_speed [--rows 1000000] [--repeat 3]

Each measurement runs in a fresh subprocess (so peak memory is that run's own) into a fresh
catalog file. The baseline is what a user would do by hand: ``CREATE TABLE t AS SELECT * FROM
read_csv('file.csv')`` into a new DuckDB *file* (DuckDB's sniffed types; no validation, no
provenance). The in-memory variant of the baseline is printed too, for reference.
Prints one JSON line per measurement and a summary line with the median ratio.
Targets (issue 2): ratio ≤ 3 against the file baseline, peak RSS ≤ 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .generate import DECLARED_TYPES, write_csv

_METASTORE = """
import sys, time
from metastore import Catalog
t = time.perf_counter()
r = Catalog(sys.argv[1]).import_files([sys.argv[2]], types={types!r})
assert r.rows_failed == 0 and r.rows_written == r.rows_read, r.to_dict()
print(time.perf_counter() - t)
"""
_BASELINE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
t = time.perf_counter()
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [sys.argv[2]])
con.close()
print(time.perf_counter() - t)
"""


def _run(code: str, db: str, csv: str) -> float:
    """The seconds the child process measured around the work itself."""
    out = subprocess.run([sys.executable, "-c", code, db, csv], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--csv", type=Path, default=None)
    args = ap.parse_args(argv)
    csv = args.csv or Path(f"benchmarks/data/images_{args.rows}.csv")
    if not csv.exists():
        write_csv(csv, args.rows)
    results = {"metastore": [], "duckdb_file": [], "duckdb_memory": []}
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for name, code, target in (
                ("duckdb_file", _BASELINE, f"{tmp}/base{i}.duckdb"),
                ("duckdb_memory", _BASELINE, ":memory:"),
                ("metastore", _METASTORE.format(types=DECLARED_TYPES), f"{tmp}/cat{i}.duckdb"),
            ):
                secs = _run(code, target, str(csv))
                results[name].append(secs)
                print(json.dumps({"benchmark": "import_speed", "run": i, "what": name, "seconds": round(secs, 3)}))
        # Peak memory of one metastore import, alone in a process we wait for with wait4.
        for name, code in (("metastore", _METASTORE.format(types=DECLARED_TYPES)), ("duckdb_file", _BASELINE)):
            proc = subprocess.Popen([sys.executable, "-c", code, f"{tmp}/peak_{name}.duckdb", str(csv)],
                                    stdout=subprocess.DEVNULL)
            _, _, usage = os.wait4(proc.pid, 0)
            peaks[name] = usage.ru_maxrss / 1024
    med = {k: statistics.median(v) for k, v in results.items()}
    summary = {
        "benchmark": "import_speed", "rows": args.rows, "repeat": args.repeat,
        "median_seconds": {k: round(v, 3) for k, v in med.items()},
        "ratio_vs_duckdb_file": round(med["metastore"] / med["duckdb_file"], 2),
        "ratio_vs_duckdb_memory": round(med["metastore"] / med["duckdb_memory"], 2),
        "peak_rss_mb": {k: round(v) for k, v in peaks.items()},
        "targets": {"ratio_vs_duckdb_file": 3, "peak_rss_mb": 2048},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
