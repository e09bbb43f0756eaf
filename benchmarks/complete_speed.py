"""Completion speed: one `metastore complete 'location:wa'` process (what a keypress costs) on a
1M-image catalog, against `python -c 'import duckdb'` measured in the same run.

    python -m benchmarks.complete_speed [--db PATH] [--csv PATH] [--repeat 15] [--query 'location:wa']

Builds the catalog from ``benchmarks/data/images_1000000.csv`` when ``--db`` does not exist yet
(default ``benchmarks/data/complete_1m.duckdb``; generated if the CSV is missing). Uses a private
``XDG_CACHE_HOME``, so the first run is a cold cache miss (reported as ``cold_seconds``: it scans
the catalog) and the measured runs are what every later keypress costs until the next write.
Also reported, for reference: the Typer path (`python -m metastore.cli complete …`, what runs
when the fast path does not apply) and bash's Tab (`_METASTORE_COMPLETE=complete_bash`).
Target (issue 6): metastore median ≤ 0.25 s; the ratio is the number to compare across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _wall(cmd: list, env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, out


def _median(cmd: list, env: dict, repeat: int) -> float:
    return statistics.median(_wall(cmd, env)[0] for _ in range(repeat))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=Path("benchmarks/data/complete_1m.duckdb"))
    ap.add_argument("--csv", type=Path, default=Path("benchmarks/data/images_1000000.csv"))
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--query", default="location:wa")
    args = ap.parse_args(argv)

    if not args.db.exists():
        from .generate import DECLARED_TYPES, write_csv
        from metastore import Catalog

        if not args.csv.exists():
            write_csv(args.csv, 1_000_000)
        report = Catalog(args.db).import_files([args.csv], types=DECLARED_TYPES)
        assert report.rows_failed == 0, report.to_dict()
    from metastore.store.stats import RACY_SECONDS

    age = time.time() - args.db.stat().st_mtime
    if age < RACY_SECONDS:  # a catalog written this instant is not cached yet (see store/stats.py)
        time.sleep(RACY_SECONDS - age + 0.1)

    bindir = Path(sys.executable).parent
    metastore = str(bindir / "metastore")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        env.pop("METASTORE_DB", None)
        cmd = [metastore, "--db", str(args.db), "complete", args.query]
        cold, out = _wall(cmd, env)
        lines = out.splitlines()
        assert lines and all(line.startswith(args.query) for line in lines), out
        _wall(cmd, env)  # warm-up
        results = {
            "metastore": _median(cmd, env, args.repeat),
            "import_duckdb": _median([sys.executable, "-c", "import duckdb"], env, args.repeat),
            "python_startup": _median([sys.executable, "-c", "pass"], env, args.repeat),
            "typer_path": _median([sys.executable, "-m", "metastore.cli", "--db", str(args.db), "complete",
                                   args.query], env, max(3, args.repeat // 3)),
            "shell_tab_bash": _median([metastore], {**env, "_METASTORE_COMPLETE": "complete_bash",
                                                    "COMP_WORDS": f"metastore --db {args.db} search '{args.query}",
                                                    "COMP_CWORD": "4"}, max(3, args.repeat // 3)),
        }
        for what, secs in results.items():
            print(json.dumps({"benchmark": "complete_speed", "what": what, "median_seconds": round(secs, 4)}))
        print(json.dumps({
            "benchmark": "complete_speed", "query": args.query, "candidates": len(lines), "repeat": args.repeat,
            "cold_seconds": round(cold, 3), "metastore_median": round(results["metastore"], 4),
            "baseline_median": round(results["import_duckdb"], 4),
            "ratio": round(results["metastore"] / results["import_duckdb"], 2), "target_seconds": 0.25,
        }))


if __name__ == "__main__":
    main()
