"""Why path order helps a page only when paths differ early, and what would help everywhere.

    python -m benchmarks.order_key_probe --db benchmarks/data/cli_1000000.duckdb [--repeat 5]

A page of results is ``… WHERE q ORDER BY path LIMIT 101``. DuckDB's Top-N pushes "``path`` below
the current 101st" into the scan, where row groups are skipped by their min/max statistics — but
DuckDB keeps only the first 8 bytes of a string there, so when every path starts with the same 8
bytes (``datasets/coco/train2017/…``, ``images/ISIC_…``) nothing is skipped, sorted or not.

This probe copies the catalog's ``images`` table (read-only use of ``--db``) into memory with the
paths rewritten to one shared prefix (``datasets/coco/train2017/<id:012>.jpg``), once shuffled
and once in path order, and times the page of three queries (the hand-written free text of
``benchmarks.baseline``, a broad negation, a link contains) four ways, taking turns:

* ``shuffled/path``: rows in any order, ``ORDER BY path`` (a catalog made before path order);
* ``sorted/path``: rows in path order, ``ORDER BY path`` (what the catalog does now);
* ``sorted/pos``: rows in path order, ``ORDER BY pos`` where ``pos`` is an integer that follows
  the path order (DuckDB keeps an integer's min/max exactly): the same page, if the catalog kept
  such a column (checked: same paths).

Prints one JSON line per query with the medians (ms) and the ratio ``sorted/pos`` ÷ ``sorted/path``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import duckdb

#: the page's predicates, by hand, over the benchmark catalog's columns (see benchmarks.generate)
_TEXT = ["path", "v7", "v8", "v9", "v10", "v11", "v15", "v16", "array_to_string(v17, ' ')", "v18"]
QUERIES = {
    "forklift": " OR ".join(f"contains(lower({c}), 'forklift')" for c in _TEXT),
    "-location:warehouse-3": "v7 IS NULL OR lower(v7) <> 'warehouse-3'",
    "source_url~cdn.example.com/dock-a": "contains(lower(v18), 'cdn.example.com/dock-a')",
}
WAYS = {"shuffled/path": ("shuffled", "path"), "sorted/path": ("sorted", "path"), "sorted/pos": ("sorted", "pos")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a catalog of benchmarks.generate rows (DECLARED_TYPES)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    con = duckdb.connect()
    con.execute(f"ATTACH '{args.db}' AS src (READ_ONLY)")
    con.execute("CREATE TABLE sorted AS SELECT * REPLACE ('datasets/coco/train2017/' || lpad(CAST(id AS VARCHAR), 12, "
                "'0') || '.jpg' AS path), id AS pos FROM src.images ORDER BY id")
    con.execute("CREATE TABLE shuffled AS SELECT * FROM sorted ORDER BY hash(id)")
    con.execute("DETACH src")
    for name, where in QUERIES.items():
        sql = {way: f"SELECT * FROM {t} WHERE {where} ORDER BY {o} LIMIT 101" for way, (t, o) in WAYS.items()}
        pages = {way: [r[1] for r in con.execute(s).fetchall()] for way, s in sql.items()}
        assert len({tuple(p) for p in pages.values()}) == 1, f"{name}: the ways disagree"
        times = {way: [] for way in sql}
        for _ in range(args.repeat):
            for way, s in sql.items():
                t0 = time.perf_counter()
                con.execute(s).fetchall()
                times[way].append(time.perf_counter() - t0)
        ms = {way: round(statistics.median(v) * 1000, 1) for way, v in times.items()}
        print(json.dumps({"benchmark": "order_key_probe", "query": name, "rows": len(pages["sorted/pos"]),
                          **{f"{w}_ms": v for w, v in ms.items()},
                          "ratio_pos_vs_path": round(ms["sorted/pos"] / ms["sorted/path"], 2),
                          "loadavg": round(os.getloadavg()[0], 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
