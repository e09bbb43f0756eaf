"""Import speed: ``metastore import`` of a generated CSV vs DuckDB's own ``read_csv``.

    python -m benchmarks.import_speed [--rows 1000000] [--repeat 3]
    python -m benchmarks.import_speed --wide [--rows 100000] [--keys 80] [--repeat 3]

Each measurement runs in a fresh subprocess (so peak memory is that run's own) into a fresh
catalog file. The baseline is what a user would do by hand: ``CREATE TABLE t AS SELECT * FROM
read_csv('file.csv')`` into a new DuckDB *file* (DuckDB's sniffed types; no validation, no
provenance). The in-memory variant of the baseline is printed too, for reference.
Prints one JSON line per measurement and a summary line with the median ratio.
Targets (issue 2): ratio ≤ 3 against the file baseline, peak RSS ≤ 2 GB.

``--wide``: a generated file of ``--rows`` rows × ``--keys`` keys (numbers, words, booleans,
datetimes in turn, ~10% of cells empty; ``benchmarks/data/wide_<rows>x<keys>.csv``), imported
with auto-typing. Targets: issue 12 (100k × 80 keys) and issue 16 (200 keys) ≤ 3× ``read_csv``.
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
t, c = time.perf_counter(), time.process_time()
r = Catalog(sys.argv[1]).import_files([sys.argv[2]], types={types!r})
assert r.rows_failed == 0 and r.rows_written == r.rows_read, r.to_dict()
print("cpu", time.process_time() - c)
print(time.perf_counter() - t)
"""
_BASELINE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
t, c = time.perf_counter(), time.process_time()
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [sys.argv[2]])
con.close()
print("cpu", time.process_time() - c)
print(time.perf_counter() - t)
"""


def write_wide(path: Path, rows: int, keys: int, seed: int = 0) -> Path:
    """``path`` + ``keys`` columns k000… cycling number, word, boolean, datetime; ~10% empty."""
    import csv as _csv
    import random

    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "dock-a", "yard-3", "north", "rain"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = _csv.writer(fh)
        w.writerow(["path"] + [f"k{i:03d}" for i in range(keys)])
        for r in range(rows):
            row = [f"img/{r:08d}.jpg"]
            for i in range(keys):
                if rng.random() < 0.1:
                    row.append("")
                    continue
                kind = i % 4
                if kind == 0:
                    row.append(str(rng.randint(-500, 5000)) if i % 8 == 0 else f"{rng.uniform(-50, 50):.3f}")
                elif kind == 1:
                    row.append(rng.choice(words) + ("" if i % 3 else f"-{rng.randint(0, 99)}"))
                elif kind == 2:
                    row.append(rng.choice(("true", "false")))
                else:
                    row.append(f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z")
            w.writerow(row)
    return path


def _run(code: str, db: str, csv: str) -> tuple[float, float]:
    """(wall, CPU) seconds the child process measured around the work itself. CPU time (all of
    the child's threads) is the steadier measure on a loaded machine; wall time is the target's."""
    lines = subprocess.run([sys.executable, "-c", code, db, csv], check=True, capture_output=True,
                           text=True).stdout.strip().splitlines()
    return float(lines[-1]), float(lines[-2].split()[1])


def metastore_code(types: dict[str, str]) -> str:
    """The child program of the metastore side: ``python -c CODE CATALOG CSV`` prints its seconds."""
    return _METASTORE.format(types=types)


BASELINE_CODE = _BASELINE  # the child program of the baseline side: ``python -c CODE DB CSV``


def peak_run(code: str, db: str, csv: str, *, keep_output: bool = False) -> tuple[float | None, float]:
    """Run ``code`` alone in a fresh process we wait for with ``wait4``: (the seconds it printed,
    or None unless ``keep_output``; its peak RSS in MB)."""
    proc = subprocess.Popen([sys.executable, "-c", code, db, csv],
                            stdout=subprocess.PIPE if keep_output else subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if keep_output else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args)
    secs = float(out.strip().splitlines()[-1]) if keep_output else None
    return secs, usage.ru_maxrss / 1024


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--csv", type=Path, default=None)
    ap.add_argument("--wide", action="store_true", help="a wide file of --rows x --keys (auto-typed)")
    ap.add_argument("--keys", type=int, default=80)
    args = ap.parse_args(argv)
    types = DECLARED_TYPES
    if args.wide:
        types = {}
        if "--rows" not in (argv if argv is not None else sys.argv):
            args.rows = 100_000
        csv = args.csv or Path(f"benchmarks/data/wide_{args.rows}x{args.keys}.csv")
        if not csv.exists():
            write_wide(csv, args.rows, args.keys)
    else:
        csv = args.csv or Path(f"benchmarks/data/images_{args.rows}.csv")
    if not csv.exists():
        write_csv(csv, args.rows)
    results = {"metastore": [], "duckdb_file": [], "duckdb_memory": []}
    cpu = {"metastore": [], "duckdb_file": [], "duckdb_memory": []}
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for name, code, target in (
                ("duckdb_file", _BASELINE, f"{tmp}/base{i}.duckdb"),
                ("duckdb_memory", _BASELINE, ":memory:"),
                ("metastore", _METASTORE.format(types=types), f"{tmp}/cat{i}.duckdb"),
            ):
                secs, cpu_secs = _run(code, target, str(csv))
                results[name].append(secs)
                cpu[name].append(cpu_secs)
                print(json.dumps({"benchmark": "import_speed", "run": i, "what": name, "seconds": round(secs, 3),
                                  "cpu_seconds": round(cpu_secs, 3)}))
        # Peak memory of one metastore import, alone in a process we wait for with wait4.
        for name, code in (("metastore", _METASTORE.format(types=types)), ("duckdb_file", _BASELINE)):
            peaks[name] = peak_run(code, f"{tmp}/peak_{name}.duckdb", str(csv))[1]
    med = {k: statistics.median(v) for k, v in results.items()}
    summary = {
        "benchmark": "import_speed", "csv": str(csv), "rows": args.rows, "repeat": args.repeat,
        "load": os.getloadavg()[0],
        "median_seconds": {k: round(v, 3) for k, v in med.items()},
        "ratio_vs_duckdb_file": round(med["metastore"] / med["duckdb_file"], 2),
        "ratio_vs_duckdb_memory": round(med["metastore"] / med["duckdb_memory"], 2),
        "median_cpu_seconds": {k: round(statistics.median(v), 3) for k, v in cpu.items()},
        "cpu_ratio_vs_duckdb_file": round(statistics.median(cpu["metastore"]) / statistics.median(cpu["duckdb_file"]), 2),
        "peak_rss_mb": {k: round(v) for k, v in peaks.items()},
        "targets": {"ratio_vs_duckdb_file": 3, "peak_rss_mb": 2048},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
