"""A deterministic, realistic image-metadata workload for the benchmarks.

    python -m benchmarks.generate --rows 1000000 --out benchmarks/data/images_1m.csv [--seed 0]

writes one wide CSV row per image (``path`` plus the 20 keys of ``KEY_TYPES``) with 5-30%
missing cells per key (``MISSING``). Import it with ``DECLARED_TYPES`` as ``--type`` options.

Every pseudo-random choice is ``hash(row XOR salt(seed, column))`` evaluated inside DuckDB, so
a million rows take seconds and the same ``(rows, seed)`` always gives a byte-identical file (with the same
DuckDB version: ``hash()`` is not guaranteed stable across releases). Benchmarks may import
duckdb directly; the library's rule that only the store does so is about ``metastore/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Iterator

import duckdb

__all__ = ["KEY_TYPES", "DECLARED_TYPES", "MISSING", "COLUMNS", "generate_rows", "write_csv", "ensure_csv",
           "generation_sql"]

KEY_TYPES = {
    "temperature": "number",          # float, -25..45, one decimal, negatives included
    "quality_score": "number",        # int 0..100
    "capture.exposure_ms": "number",  # float 0.1..250, two decimals
    "width": "number",                # int, one of 640/1280/1920/3840
    "height": "number",               # int, one of 480/720/1080/2160
    "iso": "number",                  # int, one of 100..3200
    "location": "string",             # ~50 values: warehouse-N, dock-X, yard-*
    "annotator": "string",            # 20 names
    "camera_id": "string",            # '0042': always 4 digits with leading zeros
    "lens": "string",                 # wide / standard / tele / fisheye
    "notes": "string",                # free-text-ish, some with commas
    "reviewed": "boolean",
    "is_blurry": "boolean",
    "captured_at": "datetime",        # 2023-2025, ISO with Z; ~10% date-only '2024-01-15'
    "weather": "enum",                # 5 options
    "shift": "enum",                  # 3 options
    "defects": "multi-enum",          # 1-3 of 6 options, 'rust, dent'
    "source_url": "link",             # https://
    "capture.gps.lat": "number",
    "capture.gps.lon": "number",
}
DECLARED_TYPES = {"weather": "enum", "shift": "enum", "defects": "multi-enum"}
MISSING = {  # share of rows with an empty cell, per key
    "temperature": 0.10, "quality_score": 0.05, "capture.exposure_ms": 0.20, "width": 0.05,
    "height": 0.05, "iso": 0.15, "location": 0.08, "annotator": 0.30, "camera_id": 0.05,
    "lens": 0.12, "notes": 0.30, "reviewed": 0.10, "is_blurry": 0.15, "captured_at": 0.05,
    "weather": 0.10, "shift": 0.10, "defects": 0.25, "source_url": 0.10,
    "capture.gps.lat": 0.20, "capture.gps.lon": 0.20,
}
COLUMNS = ["path", *KEY_TYPES]

_LOCATIONS = ([f"warehouse-{k}" for k in range(1, 31)] + [f"dock-{c}" for c in "abcdefghijklmn"]
              + ["yard-north", "yard-south", "yard-east", "yard-west", "gate-1", "gate-2"])
_ANNOTATORS = ["ana", "bo", "chen", "dara", "eli", "farid", "greta", "hiro", "ines", "jon",
               "kemal", "lea", "mateo", "nia", "omar", "priya", "quinn", "rosa", "sven", "tomas"]
_NOTES = ["forklift in frame", "pallet stacked, partially occluded", "glare from skylight",
          "lens smudged", "person near loading bay", "truck reversing", "empty aisle",
          "label unreadable", "spill on floor, cones placed", "door open"]
_DEFECTS = ["rust", "dent", "scratch", "crack", "leak", "missing-label"]


def _list(values: list) -> str:
    return "[" + ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values) + "]"


def _salt(seed: int, salt: str) -> int:
    """A 62-bit constant per (seed, column): ``hash(i XOR salt)`` gives independent streams.

    (DuckDB's multi-argument ``hash(i, seed, salt)`` combines weakly: its streams correlate.)
    """
    digest = hashlib.blake2b(f"{seed}:{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 2


def generation_sql(rows: int, seed: int = 0) -> str:
    """The SELECT that produces the workload (all columns VARCHAR, NULL = missing cell)."""
    rows, seed = int(rows), int(seed)
    def u(salt: str) -> str:  # a uniform double in [0, 1), one independent stream per salt
        return f"((hash(xor(i, {_salt(seed, salt)})) >> 11)::DOUBLE / 9007199254740992.0)"

    def pick(values: list, salt: str) -> str:
        return f"{_list(values)}[1 + floor({u(salt)} * {len(values)})::BIGINT]"

    def miss(key: str, expr: str) -> str:
        # lon shares lat's stream: a GPS fix has both coordinates or neither
        stream = "capture.gps.lat" if key == "capture.gps.lon" else key
        return f"CASE WHEN {u('m:' + stream)} < {MISSING[key]} THEN NULL ELSE {expr} END"

    ts = f"TIMESTAMP '2023-01-01' + to_seconds(floor({u('ts')} * 94608000)::BIGINT)"
    # a random order of the options (one uniform each), then its first 1-3, sorted by name
    shuffled = "list_sort([" + ", ".join(f"{{'h': {u('d:' + d)}, 'd': '{d}'}}" for d in _DEFECTS) + "])"
    defects = (f"array_to_string(list_sort(list_transform({shuffled}[1:(1 + floor({u('nd')} * 3)::BIGINT)], "
               "lambda x: x.d)), ', ')")
    size = f"1 + floor({u('size')} * 4)::BIGINT"
    return f"""
WITH base AS (
  SELECT i,
         {pick(_LOCATIONS, 'loc')} AS loc,
         printf('%04d', 1 + floor({u('cam')} * 400)::BIGINT) AS cam,
         {ts} AS ts
  FROM range({rows}) t(i)
)
SELECT
  printf('images/%s/cam%s/%07d.jpg', loc, cam, i) AS "path",
  {miss('temperature', f"(-25 + {u('temp')} * 70)::DECIMAL(5,1)::VARCHAR")} AS "temperature",
  {miss('quality_score', f"floor({u('q')} * 101)::BIGINT::VARCHAR")} AS "quality_score",
  {miss('capture.exposure_ms', f"(0.1 + {u('exp')} * 249.9)::DECIMAL(6,2)::VARCHAR")} AS "capture.exposure_ms",
  {miss('width', f"[640, 1280, 1920, 3840][{size}]::VARCHAR")} AS "width",
  {miss('height', f"[480, 720, 1080, 2160][{size}]::VARCHAR")} AS "height",
  {miss('iso', pick([100, 200, 400, 800, 1600, 3200], 'iso') + '::VARCHAR')} AS "iso",
  {miss('location', 'loc')} AS "location",
  {miss('annotator', pick(_ANNOTATORS, 'ann'))} AS "annotator",
  {miss('camera_id', 'cam')} AS "camera_id",
  {miss('lens', pick(['wide', 'standard', 'tele', 'fisheye'], 'lens'))} AS "lens",
  {miss('notes', pick(_NOTES, 'notes'))} AS "notes",
  {miss('reviewed', f"CASE WHEN {u('rev')} < 0.6 THEN 'true' ELSE 'false' END")} AS "reviewed",
  {miss('is_blurry', f"CASE WHEN {u('blur')} < 0.1 THEN 'true' ELSE 'false' END")} AS "is_blurry",
  {miss('captured_at', f"CASE WHEN {u('dateonly')} < 0.1 THEN strftime(ts, '%Y-%m-%d') "
                       "ELSE strftime(ts, '%Y-%m-%dT%H:%M:%SZ') END")} AS "captured_at",
  {miss('weather', pick(['cloudy', 'fog', 'rain', 'snow', 'sunny'], 'wx'))} AS "weather",
  {miss('shift', pick(['morning', 'afternoon', 'night'], 'shift'))} AS "shift",
  {miss('defects', defects)} AS "defects",
  {miss('source_url', "printf('https://cdn.example.com/%s/cam%s/%07d.jpg', loc, cam, i)")} AS "source_url",
  {miss('capture.gps.lat', f"(51.40 + {u('lat')} * 0.25)::DECIMAL(9,6)::VARCHAR")} AS "capture.gps.lat",
  {miss('capture.gps.lon', f"(-0.30 + {u('lon')} * 0.40)::DECIMAL(9,6)::VARCHAR")} AS "capture.gps.lon"
FROM base
ORDER BY i
"""


def generate_rows(n: int, seed: int = 0) -> Iterator[dict]:
    """Yield the rows of ``write_csv`` as dicts of cell text; a missing cell is ``None``."""
    con = duckdb.connect()
    try:
        cur = con.execute(generation_sql(n, seed))
        while batch := cur.fetchmany(10_000):
            for row in batch:
                yield dict(zip(COLUMNS, row))
    finally:
        con.close()


def write_csv(path: str | Path, n: int, seed: int = 0) -> Path:
    """Write ``n`` rows to ``path`` (parents created). Same ``(n, seed)`` → identical bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        escaped = str(path).replace("'", "''")
        con.execute(f"COPY ({generation_sql(n, seed)}) TO '{escaped}' "
                    "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', NULLSTR '')")
    finally:
        con.close()
    return path


def ensure_csv(path: str | Path | None, rows: int) -> Path:
    """``path`` (default ``benchmarks/data/images_<rows>.csv``), generated with seed 0 when missing."""
    path = Path(path) if path else Path(__file__).parent / "data" / f"images_{rows}.csv"
    if not path.is_file():
        print(f"generating {path}", file=sys.stderr)
        write_csv(path, rows, 0)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=None,
                    help="default: benchmarks/data/images_<rows>.csv")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.rows < 0:
        ap.error("--rows must be >= 0")
    out = args.out or Path(__file__).parent / "data" / f"images_{args.rows}.csv"
    t0 = time.perf_counter()
    write_csv(out, args.rows, args.seed)
    secs = time.perf_counter() - t0
    print(json.dumps({"benchmark": "generate", "rows": args.rows, "seed": args.seed, "out": str(out),
                      "bytes": out.stat().st_size, "seconds": round(secs, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
