"""Scale curve (issue 16 item 6): import, 5 searches, facets, export and CLI count at several
sizes, each against its hand-written baseline in the same run, and how each side grows.

    python -m benchmarks.scale_curve --rows 100000,1000000,10000000 [--repeat 5] [--import-repeat 1]
        [--parts import,search,facets,export,cli] [--formats parquet,csv,jsonl] [--search-warmup 1]
        [--export-queries and_compare_string_bool,number_range,negation_string]
    python -m benchmarks.scale_curve --table RUN.jsonl [RUN2.jsonl …]   # the table of saved runs

For each size, smallest first, on the generated CSV (``benchmarks.generate.ensure_csv``, seed 0),
every part reuses its benchmark module's own measurement, so the numbers mean the same as there:

* ``import``: ``import_speed``'s child programs, metastore import (``DECLARED_TYPES``) and
  ``read_csv`` into a new DuckDB file, each in a fresh process (baseline first, then metastore,
  ``--import-repeat`` rounds); seconds measured inside the child around the work, peak RSS of
  that same child by ``wait4``. The last metastore catalog is kept as
  ``benchmarks/data/scale_<rows>.duckdb`` and the later parts read it (so they measure the
  catalog this commit writes); without ``import`` an existing file is reused (or built).
* ``search``: ``search_speed.time_search`` for 5 queries from selective to broad
  (``SEARCHES``): ``Catalog.search(q).paths()`` (warm reads) vs the hand-written SQL on an open
  connection, taking turns, after ``search_speed._check`` found the same paths on both sides.
* ``facets``: ``facet_speed``'s three keys and three queries vs one hand ``GROUP BY`` per key.
* ``export``: ``export_speed.time_export`` (6 columns; 3 queries) vs DuckDB ``COPY``, per format.
* ``cli``: ``cli_speed.count_turns``: fresh ``metastore count`` processes vs a bare duckdb process.

The wide baseline table is ``baseline.ensure_catalogs``'s ``benchmarks/data/cli_<rows>_wide.duckdb``
(shared with cli_speed and export_speed). Prints one JSON line per measurement on stdout
(``ratio`` = metastore median / baseline median), then a summary line with the ratios per size and
the growth of each side between consecutive sizes (×10 rows → ×T seconds), and the same as a
Markdown table on stderr. ``--table`` prints that table (stdout) from saved outputs instead, e.g.
of one run per size (a later line for the same size and measurement replaces an earlier one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from . import cli_speed, export_speed, facet_speed, import_speed, search_speed
from .baseline import ensure_catalogs, interleaved_medians
from .generate import DECLARED_TYPES, ensure_csv

PARTS = ["import", "search", "facets", "export", "cli"]
#: from selective to broad (share of 1M images): 0.3%, 13%, 26%, 98%, free text over 10 columns 7%
SEARCHES = ["and_compare_string_bool", "number_range", "string_glob_prefix", "negation_string", "free_text"]
DATA = Path(__file__).parent / "data"


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _record(results: list[dict], rows: int, part: str, name: str, ours: float, base: float, **extra) -> None:
    rec = {"benchmark": "scale_curve", "rows": rows, "part": part, "name": name,
           "metastore_s": round(ours, 4), "baseline_s": round(base, 4), "ratio": round(ours / base, 3),
           **extra, "load": _load()}
    results.append(rec)
    _emit(rec)


def run_import(rows: int, csv: Path, db: Path, repeat: int, results: list[dict]) -> None:
    code = import_speed.metastore_code(DECLARED_TYPES)
    times = {"metastore": [], "baseline": []}
    peaks = {"metastore": 0.0, "baseline": 0.0}
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        for i in range(repeat):
            target = Path(tmp) / f"base{i}.duckdb"
            secs, peak = import_speed.peak_run(import_speed.BASELINE_CODE, str(target), str(csv), keep_output=True)
            target.unlink()
            times["baseline"].append(secs)
            peaks["baseline"] = max(peaks["baseline"], peak)
            target = Path(tmp) / f"catalog{i}.duckdb"
            secs, peak = import_speed.peak_run(code, str(target), str(csv), keep_output=True)
            times["metastore"].append(secs)
            peaks["metastore"] = max(peaks["metastore"], peak)
            for old in Path(tmp).glob(f"catalog{i - 1}.duckdb*"):
                old.unlink()
            _emit({"benchmark": "scale_curve.import_run", "rows": rows, "run": i,
                   "metastore_s": round(times["metastore"][-1], 3), "baseline_s": round(times["baseline"][-1], 3),
                   "peak_rss_mb": {"metastore": round(peak), "baseline": round(peaks["baseline"])},
                   "load": _load()})
        for old in db.parent.glob(db.name + "*"):  # the catalog and any .wal of an earlier run
            old.unlink()
        os.replace(target, db)
    med = {k: statistics.median(v) for k, v in times.items()}
    _record(results, rows, "import", "import", med["metastore"], med["baseline"], repeat=repeat,
            peak_rss_mb_metastore=round(peaks["metastore"]), peak_rss_mb_baseline=round(peaks["baseline"]))


def run_search(rows: int, db: Path, base_db: Path, repeat: int, warmup: int, results: list[dict]) -> list[str]:
    from metastore import Catalog

    catalog, base = Catalog(db), search_speed._open(base_db)
    try:
        bad = search_speed._check(catalog, base, SEARCHES)
        for name in SEARCHES:
            if name in bad:
                continue
            query, where = search_speed.QUERIES[name]
            got = search_speed.time_search(catalog, base, query, where, repeat, warmup=warmup)
            _record(results, rows, "search", name, got["search"], got["baseline_turns"], query=query,
                    repeat=repeat, warmup=warmup)
    finally:
        base.close()
        catalog.close()
    return bad


def run_facets(rows: int, db: Path, base_db: Path, repeat: int, results: list[dict]) -> list[str]:
    from metastore import Catalog

    catalog, base = Catalog(db), search_speed._open(base_db)
    bad = []
    try:
        for query, where in facet_speed.QUERIES.items():
            ours, theirs = facet_speed.facets_call(catalog, query), facet_speed.baseline_call(base, where)
            problems = facet_speed._check(ours(), theirs())
            if problems:
                print(f"!!! facets {query!r}: " + "; ".join(problems), file=sys.stderr)
                bad.append(f"facets {query!r}")
                continue
            got = interleaved_medians({"facets": ours, "baseline": theirs}, repeat=repeat)
            _record(results, rows, "facets", query or '""', got["facets"], got["baseline"],
                    keys=facet_speed.KEYS, repeat=repeat)
    finally:
        base.close()
        catalog.close()
    return bad


def run_export(rows: int, db: Path, base_db: Path, repeat: int, formats: list[str], names: list[str],
               results: list[dict]) -> None:
    from metastore import Catalog

    catalog, base = Catalog(db), search_speed._open(base_db)
    try:
        with tempfile.TemporaryDirectory(dir=DATA) as tmp:
            for fmt in formats:
                for name in names:
                    ours, theirs = export_speed.time_export(catalog, base, Path(tmp), name, fmt, repeat)
                    _record(results, rows, "export", f"{fmt} {name}", ours, theirs,
                            query=search_speed.QUERIES[name][0], repeat=repeat)
    finally:
        base.close()
        catalog.close()


def run_cli(rows: int, db: Path, base_db: Path, repeat: int, results: list[dict]) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    for name in cli_speed.CLI_QUERIES:
        ours, bare, count = cli_speed.count_turns(cli_speed.metastore_exe(), db, base_db, name, env, repeat)
        _record(results, rows, "cli", f"count {name}", ours, bare, count=count, repeat=repeat)


def _part(label: str, run, *args) -> list[str]:
    """Run one part; a mismatch it exits on (the modules' checks raise SystemExit) is reported and
    the run goes on with the next part, so one failure does not lose the rest of a long run."""
    try:
        return run(*args) or []
    except SystemExit as exc:
        print(f"!!! {label}: {exc}", file=sys.stderr, flush=True)
        _emit({"benchmark": "scale_curve.failed", "part": label, "error": str(exc)})
        return [label]


def growth(results: list[dict]) -> list[dict]:
    """Per measurement: the ratio at each size and, between consecutive sizes, how much each
    side's time grew (``rows_x`` more rows → ``metastore_x`` / ``baseline_x`` more seconds)."""
    out: dict[tuple[str, str], dict] = {}
    for r in results:
        row = out.setdefault((r["part"], r["name"]), {"part": r["part"], "name": r["name"], "sizes": {}})
        row["sizes"][r["rows"]] = r
    table = []
    for row in out.values():
        sizes = sorted(row["sizes"])
        entry = {"part": row["part"], "name": row["name"],
                 "ratio": {str(n): row["sizes"][n]["ratio"] for n in sizes}, "growth": []}
        for a, b in zip(sizes, sizes[1:]):
            ra, rb = row["sizes"][a], row["sizes"][b]
            entry["growth"].append({"from": a, "to": b, "rows_x": round(b / a, 2),
                                    "metastore_x": round(rb["metastore_s"] / ra["metastore_s"], 2),
                                    "baseline_x": round(rb["baseline_s"] / ra["baseline_s"], 2)})
        if row["part"] == "import":
            entry["peak_rss_mb"] = {str(n): row["sizes"][n]["peak_rss_mb_metastore"] for n in sizes}
            entry["baseline_peak_rss_mb"] = {str(n): row["sizes"][n]["peak_rss_mb_baseline"] for n in sizes}
        table.append(entry)
    return table


def markdown(table: list[dict], sizes: list[int]) -> str:
    head = ["measurement"] + [f"{n:,} ratio" for n in sizes] + [
        f"{a:,} → {b:,}: time ×, metastore / baseline" for a, b in zip(sizes, sizes[1:])]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in table:
        cells = [f"{e['part']} {e['name']}" if e["part"] != e["name"] else e["part"]]
        rss = e.get("peak_rss_mb", {})
        cells += [(f"{e['ratio'][str(n)]:.2f}" + (f" (peak RSS {rss[str(n)]:,} MB vs {e['baseline_peak_rss_mb'][str(n)]:,})"
                                                   if str(n) in rss else "")) if str(n) in e["ratio"] else "—"
                  for n in sizes]
        grown = {(g["from"], g["to"]): g for g in e["growth"]}
        cells += [f"×{grown[(a, b)]['metastore_x']:.1f} / ×{grown[(a, b)]['baseline_x']:.1f}"
                  if (a, b) in grown else "—" for a, b in zip(sizes, sizes[1:])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scale_curve", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="100000,1000000,10000000", help="comma-separated sizes")
    ap.add_argument("--repeat", type=int, default=5, help="timed turns per search/facets/export/cli measurement")
    ap.add_argument("--import-repeat", type=int, default=1, help="import rounds (each a fresh process per side)")
    ap.add_argument("--search-warmup", type=int, default=1,
                    help="unmeasured turns before timing a search (the path check already ran each side once)")
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--formats", default="parquet,csv,jsonl", help="export formats")
    ap.add_argument("--export-queries", default=",".join(export_speed.EXPORT_QUERIES),
                    help="named queries to export (of search_speed.QUERIES)")
    ap.add_argument("--table", nargs="+", type=Path, metavar="RUN.jsonl",
                    help="print the table of these saved outputs and exit (measures nothing)")
    args = ap.parse_args(argv)
    if args.table:
        saved: dict[tuple, dict] = {}
        for path in args.table:
            for line in path.read_text(encoding="utf-8").splitlines():
                rec = json.loads(line) if line.startswith("{") else {}
                if rec.get("benchmark") == "scale_curve":
                    saved[(rec["rows"], rec["part"], rec["name"])] = rec
        print(markdown(growth(list(saved.values())), sorted({k[0] for k in saved})))
        return 0
    try:
        sizes = sorted(int(n.replace("_", "")) for n in args.rows.split(","))
    except ValueError:
        ap.error(f"--rows wants comma-separated whole numbers, got {args.rows!r}")
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if unknown := [p for p in parts if p not in PARTS]:
        ap.error(f"unknown parts {unknown}; known: {','.join(PARTS)}")
    exports = [n.strip() for n in args.export_queries.split(",") if n.strip()]
    if unknown := [n for n in exports if n not in search_speed.QUERIES]:
        ap.error(f"unknown export queries {unknown}; known: {','.join(search_speed.QUERIES)}")
    if unknown := [f for f in formats if f not in export_speed._COPY_FORMAT]:
        ap.error(f"unknown formats {unknown}; known: {','.join(export_speed._COPY_FORMAT)}")
    if min(sizes) < 1 or args.repeat < 1 or args.import_repeat < 1 or args.search_warmup < 0:
        ap.error("--rows, --repeat and --import-repeat must be >= 1, --search-warmup >= 0")

    DATA.mkdir(exist_ok=True)
    results: list[dict] = []
    bad: list[str] = []
    _emit({"benchmark": "scale_curve.start", "sizes": sizes, "parts": parts, "commit": search_speed._commit(),
           "machine": search_speed._machine(), "load": _load()})
    for rows in sizes:
        t0 = time.perf_counter()
        csv = ensure_csv(None, rows)
        db = DATA / f"scale_{rows}.duckdb"
        if "import" in parts:
            run_import(rows, csv, db, args.import_repeat, results)
        built = not db.exists()
        db, base_db = ensure_catalogs(rows, csv, db, None)
        _emit({"benchmark": "scale_curve.setup", "rows": rows, "csv": str(csv), "catalog": str(db),
               "catalog_built_by": "import part" if "import" in parts else ("this run" if built else "an earlier run"),
               "baseline_db": str(base_db), "load": _load()})
        if "search" in parts:
            bad += _part(f"search {rows}", run_search, rows, db, base_db, args.repeat, args.search_warmup, results)
        if "facets" in parts:
            bad += _part(f"facets {rows}", run_facets, rows, db, base_db, args.repeat, results)
        if "export" in parts:
            bad += _part(f"export {rows}", run_export, rows, db, base_db, args.repeat, formats, exports, results)
        if "cli" in parts:
            bad += _part(f"cli {rows}", run_cli, rows, db, base_db, args.repeat, results)
        _emit({"benchmark": "scale_curve.size_done", "rows": rows, "seconds": round(time.perf_counter() - t0, 1),
               "load": _load()})
    table = growth(results)
    _emit({"benchmark": "scale_curve.summary", "sizes": sizes, "commit": search_speed._commit(),
           "load": _load(), "table": table, "mismatches": bad})
    print(markdown(table, sizes), file=sys.stderr)
    if bad:
        print(f"!!! results differ from the hand-written baseline: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
