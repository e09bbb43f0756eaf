"""CLI start-up: one fresh ``metastore count`` (and ``search --format paths``) process against a
bare Python process that imports duckdb, opens the same data read-only and counts, in turns.

    python -m benchmarks.cli_speed [--rows 1000000] [--db PATH] [--baseline-db PATH] [--repeat 15]

The catalog (``--db``, default ``benchmarks/data/cli_<rows>.duckdb``) is imported from the
generated CSV with ``DECLARED_TYPES`` when missing; the baseline (``--baseline-db``, default
``benchmarks/data/cli_<rows>_wide.duckdb``) is ``benchmarks.baseline.load_baseline``'s wide
table of the same CSV. For each query the two commands take turns (A B A B …, one unmeasured
round first) and both answers are checked to be equal before timing:

* ``metastore --db DB count -- 'QUERY'`` (the console script of this venv),
* ``python -c "import duckdb; con = duckdb.connect(BASE, read_only=True); print(con.execute(
  'SELECT count(*) FROM images WHERE <hand-written>').fetchone()[0])"``,

and for one query the same with ``search --format paths`` vs the baseline printing the paths.
Prints one JSON line per measurement (medians, ratio) and a summary. Target (issue 16): ratio ≤ 1.3.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .baseline import ensure_catalogs
from .search_speed import QUERIES, _commit, _machine

CLI_QUERIES = ["and_compare_string_bool", "negation_string", "free_text", "multi_enum_all", "string_glob_prefix"]
SEARCH_QUERY = "and_compare_string_bool"
TARGET = 1.3

BARE = """import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")  # past 2 s DuckDB draws one on stdout (metastore does not)
if sys.argv[3] == "count":
    print(con.execute("SELECT count(*) FROM images WHERE " + sys.argv[2]).fetchone()[0])
else:
    sys.stdout.write("".join(r[0] + "\\n" for r in con.execute(
        "SELECT path FROM images WHERE " + sys.argv[2] + " ORDER BY path").fetchall()))
"""


def _run(cmd: list[str], env: dict) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    secs = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    return secs, done.stdout


def _turns(cmds: list[list[str]], env: dict, repeat: int) -> tuple[list[float], list[str]]:
    times: list[list[float]] = [[] for _ in cmds]
    outs = [""] * len(cmds)
    for i in range(repeat + 1):
        for k, cmd in enumerate(cmds):
            secs, outs[k] = _run(cmd, env)
            if i:
                times[k].append(secs)
    return [statistics.median(t) for t in times], outs


def metastore_exe() -> str:
    """The ``metastore`` console script of this venv."""
    return str(Path(sys.executable).parent / "metastore")


def count_turns(exe: str, db: Path, base: Path, name: str, env: dict, repeat: int) -> tuple[float, float, int]:
    """Medians of a fresh ``metastore --db DB count -- Q`` and of the bare duckdb process counting
    the hand-written predicate of the named query, taking turns; exits when the counts differ.
    Returns (metastore seconds, bare seconds, count)."""
    query, where = QUERIES[name]
    cmds = [[exe, "--db", str(db), "count", "--", query],
            [sys.executable, "-c", BARE, str(base), where, "count"]]
    (ms, bare), (out_ms, out_bare) = _turns(cmds, env, repeat)
    if out_ms.strip() != out_bare.strip():
        raise SystemExit(f"!!! {name}: metastore counted {out_ms.strip()}, the baseline {out_bare.strip()}")
    return ms, bare, int(out_ms)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cli_speed", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--csv", type=Path, default=None, help="default: benchmarks/data/images_<rows>.csv")
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--baseline-db", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--only", nargs="*", default=None, metavar="NAME")
    args = ap.parse_args(argv)
    db, base = ensure_catalogs(args.rows, args.csv, args.db, args.baseline_db)

    exe = metastore_exe()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    results = {}
    for name in args.only or CLI_QUERIES:
        query = QUERIES[name][0]
        ms, bare, count = count_turns(exe, db, base, name, env, args.repeat)
        results[f"count.{name}"] = ms / bare
        print(json.dumps({"benchmark": "cli_speed.count", "name": name, "query": query, "count": count,
                          "metastore_s": round(ms, 3), "bare_s": round(bare, 3), "ratio": round(ms / bare, 2),
                          "repeat": args.repeat}), flush=True)
    query, where = QUERIES[SEARCH_QUERY]
    cmds = [[exe, "--db", str(db), "search", "--format", "paths", "--", query],
            [sys.executable, "-c", BARE, str(base), where, "paths"]]
    (ms, bare), (out_ms, out_bare) = _turns(cmds, env, args.repeat)
    if out_ms != out_bare:
        raise SystemExit(f"!!! search {SEARCH_QUERY}: the paths differ from the baseline's")
    results[f"search.{SEARCH_QUERY}"] = ms / bare
    print(json.dumps({"benchmark": "cli_speed.search_paths", "name": SEARCH_QUERY, "query": query,
                      "matches": out_ms.count("\n"), "metastore_s": round(ms, 3), "bare_s": round(bare, 3),
                      "ratio": round(ms / bare, 2), "repeat": args.repeat}), flush=True)
    help_s, _ = _turns([[exe, "--help"]], env, max(3, args.repeat // 3))
    print(json.dumps({
        "benchmark": "cli_speed", "rows": args.rows, "commit": _commit(), "machine": _machine(),
        "load": os.getloadavg()[0], "ratios": {k: round(v, 2) for k, v in results.items()},
        "worst": round(max(results.values()), 2), "over_target": sorted(k for k, v in results.items() if v > TARGET),
        "help_s": round(help_s[0], 3), "target": TARGET}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
