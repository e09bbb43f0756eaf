"""Search speed: ``Catalog.search(q).paths()`` vs hand-written DuckDB SQL over a wide typed table.

    python -m benchmarks.search_speed [--rows 1000000] [--repeat 5] [--cli-repeat 5]

One catalog is built from the generated CSV (``Catalog.import_files`` with ``DECLARED_TYPES``)
and, in the same run, the baseline: ``benchmarks.baseline.load_baseline`` (one wide table loaded
straight from the same CSV by DuckDB's ``read_csv``). For every named query of ``QUERIES``:

1. **check**: metastore and the hand-written predicate must return the same paths; any
   mismatch is reported loudly (stderr and ``"match": false``) and the run exits 1;
2. ``search``: ``Catalog(db).search(q).paths()`` — what a long-lived user (the Python API,
   ``search -i``, ``serve``) gets: the catalog kept attached between calls (warm reads), parse,
   check, compile, run, fetch paths;
3. ``sql``: only the SQL ``.paths()`` runs (``result.paths_sql``) on an already-open read-only
   connection (the cost of the catalog's layout and of the compiled SQL, no per-call overhead);
4. ``baseline``: ``SELECT path FROM images WHERE <hand-written> ORDER BY path`` on the wide
   table, (a) ``baseline_cold``: opening the file read-only per call, as a script would, and
   (b) ``baseline``: on an already-open connection.

Ratios (medians of ``--repeat`` runs after a warm-up, the sides run alternately):
``ratio_search_vs_warm = search / baseline`` (issue 16 target ≤ 1.2; measured in turns with
``search``), ``ratio_search = search / baseline_cold``, and ``ratio_sql = sql / baseline`` (both
on open connections). Then the CLI wall time of ``metastore --db DB count '…'`` for a few queries (a fresh
process each run). Prints one JSON line per measurement and a summary line.
Targets (issue 3): every ratio_search and ratio_sql ≤ 1.5; CLI count median ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from .baseline import QUERIES as _BASE_QUERIES
from .baseline import load_baseline
from .generate import DECLARED_TYPES, write_csv

# name -> (metastore query, equivalent hand-written predicate over the wide table)
_NAMES = {
    "temperature>20 location:warehouse-3 reviewed:true": "and_compare_string_bool",
    "temperature:-5..5": "number_range",
    "location:dock-*": "string_glob_prefix",
    "-location:warehouse-3": "negation_string",
    "no:annotator": "absent",
    "camera_id:0042": "string_leading_zeros",
    "defects:rust defects:dent": "multi_enum_all",
    "captured_at:2024-01": "datetime_month",
    "(weather:rain OR weather:fog) NOT reviewed:true quality_score>=90": "or_not_enum_bool_number",
    "capture.gps.lat>51.6": "dotted_key_compare",
    "source_url~cdn.example.com/dock-a": "link_contains",
    "forklift": "free_text",
}
QUERIES: dict[str, tuple[str, str]] = {_NAMES.get(q, q): (q, w) for q, w in _BASE_QUERIES.items()}
QUERIES.update({
    "string_list": ("location:[dock-a, dock-b, yard-north]",
                    "lower(location) IN ('dock-a', 'dock-b', 'yard-north')"),
    "enum_list": ("weather:[rain, snow]", "weather IN ('rain', 'snow')"),
    "string_glob_infix": ("notes:*occluded*", "lower(notes) LIKE '%occluded%'"),
    "negation_multi_enum": ("-defects:rust", "defects IS NULL OR NOT list_contains(defects, 'rust')"),
    "not_equal_number": ("iso!=400", "iso <> 400"),
    "datetime_after": ("captured_at>=2025-06-15T12:00", "captured_at >= TIMESTAMP '2025-06-15 12:00:00'"),
    "datetime_range": ("captured_at:2023-03..2023-05",
                       "captured_at >= TIMESTAMP '2023-03-01' AND captured_at < TIMESTAMP '2023-06-01'"),
    "path_glob": ("path:images/yard-*/cam00*", "path LIKE 'images/yard-%/cam00%'"),
})
#: queries for the CLI wall-time measurement (a fresh process per run)
CLI_QUERIES = ["and_compare_string_bool", "negation_string", "free_text", "multi_enum_all"]
TARGET_RATIO = 1.5
TARGET_WARM = 1.2  # issue 16: search (warm reads) vs the hand-written SQL on an open connection
TARGET_CLI_SECONDS = 0.5


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{ram}, duckdb {duckdb.__version__}"


def _baseline_paths(con, where: str) -> list[str]:
    return [r[0] for r in con.execute(f"SELECT path FROM images WHERE {where} ORDER BY path").fetchall()]


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def _cold_baseline(path: Path, where: str) -> list[str]:
    """What a hand-written script does per query: open the file read-only, query, close."""
    con = _open(path)
    try:
        return _baseline_paths(con, where)
    finally:
        con.close()


def paired(fns, repeat: int, warmup: int = 1) -> list[float]:
    """Median seconds of each function, run alternately (A B A B …) so that both sides see the
    same machine load; ``warmup`` unmeasured rounds first."""
    times: list[list[float]] = [[] for _ in fns]
    for i in range(warmup + repeat):
        for fn, bucket in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            if i >= warmup:
                bucket.append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def time_search(catalog, base, query: str, where: str, repeat: int, *, base_db: Path | None = None,
                warmup: int = 1) -> dict[str, float]:
    """Medians of ``catalog.search(query).paths()`` (``search``) and the hand-written SQL on the
    open connection ``base`` (``baseline_turns``), taking turns; with ``base_db`` also the
    hand-written SQL opening that file per call (``baseline_cold``), in the same turns."""
    fns = [lambda: catalog.search(query).paths()]
    if base_db is not None:
        fns.append(lambda: _cold_baseline(base_db, where))
    fns.append(lambda: _baseline_paths(base, where))
    got = paired(fns, repeat, warmup)
    out = {"search": got[0], "baseline_turns": got[-1]}
    if base_db is not None:
        out["baseline_cold"] = got[1]
    return out


def _check(catalog, base, names) -> list[str]:
    """Both sides return the same paths (same order); every mismatch is printed loudly."""
    bad = []
    for name in names:
        query, where = QUERIES[name]
        got = catalog.search(query).paths()
        want = _baseline_paths(base, where)
        ok = got == want
        _emit({"benchmark": "search_speed.check", "name": name, "query": query, "matches": len(got),
               "baseline_matches": len(want), "match": ok})
        if not ok:
            bad.append(name)
            only_ms, only_base = sorted(set(got) - set(want)), sorted(set(want) - set(got))
            print(f"!!! MISMATCH {name}: {query!r} -> metastore {len(got):,} vs hand-written {len(want):,}; "
                  f"only metastore e.g. {only_ms[:3]}, only baseline e.g. {only_base[:3]}"
                  + ("; same set, different order" if not only_ms and not only_base else ""),
                  file=sys.stderr, flush=True)
    return bad


def _cli_seconds(exe: list[str], db: Path, query: str, repeat: int) -> tuple[float, str]:
    cmd = [*exe, "--db", str(db), "count", "--", query]
    times, out = [], ""
    for i in range(repeat + 1):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        secs = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
        out = done.stdout.strip()
        if i:  # the first run warms the OS page cache
            times.append(secs)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.search_speed", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--csv", type=Path, default=None, help="default: benchmarks/data/images_<rows>.csv")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (after 1 warm-up)")
    ap.add_argument("--cli-repeat", type=int, default=5)
    ap.add_argument("--only", nargs="*", default=None, metavar="NAME", help="run only these named queries")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.cli_repeat < 1:
        ap.error("--repeat and --cli-repeat must be >= 1")
    names = args.only or list(QUERIES)
    unknown = [n for n in names if n not in QUERIES]
    if unknown:
        ap.error(f"unknown query names {unknown}; known: {', '.join(QUERIES)}")
    csv = args.csv or Path(__file__).parent / "data" / f"images_{args.rows}.csv"
    if not csv.exists():
        write_csv(csv, args.rows)

    from metastore import Catalog

    exe = [shutil.which("metastore") or str(Path(sys.executable).parent / "metastore")]
    if not Path(exe[0]).exists():
        exe = [sys.executable, "-m", "metastore.cli"]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db, base_db = Path(tmp) / "catalog.duckdb", Path(tmp) / "baseline.duckdb"
        t0 = time.perf_counter()
        report = Catalog(db).import_files([csv], types=DECLARED_TYPES)
        if report.rows_failed or report.rows_written != report.rows_read:
            raise SystemExit(f"import failed: {report.to_dict()}")
        t1 = time.perf_counter()
        load_baseline(csv, base_db).close()
        t2 = time.perf_counter()
        _emit({"benchmark": "search_speed.setup", "csv": str(csv), "rows": report.rows_read,
               "import_seconds": round(t1 - t0, 2), "baseline_load_seconds": round(t2 - t1, 2)})
        base = _open(base_db)
        catalog = Catalog(db)
        mismatched = _check(catalog, base, names)
        base.close()

        # (2) vs (4a) vs (4b), taking turns: search as a long-lived process sees it (the engine
        # keeps the catalog attached between calls: warm reads), the hand-written SQL opening its
        # file per call, and the hand-written SQL on an open connection.
        base = _open(base_db)
        for name in names:
            query, where = QUERIES[name]
            results[name] = {"query": query,
                             **time_search(catalog, base, query, where, args.repeat, base_db=base_db)}
        base.close()
        catalog.close()  # let go of the warm catalog: DuckDB allows one handle per file in a process
        # (3) vs (4b): the compiled SQL and the hand-written SQL on open, warm connections.
        con, base = _open(db), _open(base_db)
        for name in names:
            query, where = QUERIES[name]
            r = catalog.search(query)
            catalog.close()
            sql, params = getattr(r, "paths_sql", r.sql), getattr(r, "paths_params", r.params)
            s, b = paired([lambda: con.execute(sql, params).fetchall(),
                           lambda w=where: _baseline_paths(base, w)], args.repeat)
            results[name].update(sql=s, baseline=b)
        con.close()
        base.close()
        for name in names:
            m = results[name]
            m["ratio_search"] = m["search"] / m["baseline_cold"]
            m["ratio_search_vs_warm"] = m["search"] / m["baseline_turns"]
            m["ratio_sql"] = m["sql"] / m["baseline"]
            _emit({"benchmark": "search_speed.search", "name": name, "query": m["query"],
                   "search_s": round(m["search"], 4), "baseline_cold_s": round(m["baseline_cold"], 4),
                   "baseline_warm_s": round(m["baseline_turns"], 4),
                   "sql_s": round(m["sql"], 4), "baseline_s": round(m["baseline"], 4),
                   "ratio_search": round(m["ratio_search"], 2),
                   "ratio_search_vs_warm": round(m["ratio_search_vs_warm"], 2),
                   "ratio_sql": round(m["ratio_sql"], 2), "repeat": args.repeat})

        cli = {}
        for name in [n for n in CLI_QUERIES if n in names]:
            secs, out = _cli_seconds(exe, db, QUERIES[name][0], args.cli_repeat)
            cli[name] = secs
            _emit({"benchmark": "search_speed.cli_count", "name": name, "query": QUERIES[name][0],
                   "count": int(out), "median_s": round(secs, 3), "repeat": args.cli_repeat})

    worst = max(results, key=lambda n: results[n]["ratio_search"])
    summary = {
        "benchmark": "search_speed", "rows": report.rows_read, "queries": len(names), "repeat": args.repeat,
        "commit": _commit(), "machine": _machine(),
        "ratio_search": {n: round(m["ratio_search"], 2) for n, m in results.items()},
        "ratio_search_vs_warm": {n: round(m["ratio_search_vs_warm"], 2) for n, m in results.items()},
        "ratio_sql": {n: round(m["ratio_sql"], 2) for n, m in results.items()},
        "over_target_sql": sorted(n for n, m in results.items() if m["ratio_sql"] > TARGET_RATIO),
        "median_ratio_search": round(statistics.median(m["ratio_search"] for m in results.values()), 2),
        "over_target_vs_warm": sorted(n for n, m in results.items() if m["ratio_search_vs_warm"] > TARGET_WARM),
        "worst": {"name": worst, "ratio_search": round(results[worst]["ratio_search"], 2)},
        "over_target": sorted(n for n, m in results.items() if m["ratio_search"] > TARGET_RATIO),
        "cli_count_median_s": {n: round(s, 3) for n, s in cli.items()},
        "cli_over_target": sorted(n for n, s in cli.items() if s > TARGET_CLI_SECONDS),
        "mismatches": mismatched,
        "targets": {"ratio_search": TARGET_RATIO, "cli_count_seconds": TARGET_CLI_SECONDS},
    }
    _emit(summary)
    if mismatched:
        print(f"!!! {len(mismatched)} queries returned different results than the hand-written SQL: "
              f"{', '.join(mismatched)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
