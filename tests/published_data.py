"""A real catalog of generated records (the query oracle's schema and value pools) and its
published copy, shared by the publish and Spark tests (importable: tests/ is on sys.path)."""

from __future__ import annotations

import csv
import io
import json
import math
import random
from datetime import datetime
from pathlib import Path

import oracle
from helpers import write
from metastore import Catalog

NUMBERS = [x for x in oracle.NUMBERS if math.isfinite(x)]  # the catalog refuses nan and inf
STRINGS = [s for s in oracle.STRINGS if s]  # an empty cell is "no value"
URLS = [u for u in oracle.URLS if u.startswith("http")]


def records(seed: int, n: int) -> list[dict]:
    rng = random.Random(seed)

    def maybe(pick, p=0.3):
        return None if rng.random() < p else pick()

    out = []
    for i in range(n):
        defects = rng.sample(["rust", "dent", "scratch"], rng.randint(0, 3))
        out.append({
            "path": f"{rng.choice(oracle.PATHS)}#{i}",
            "tags": rng.sample(oracle.TAGS, rng.randint(0, 2)),
            "temperature": maybe(lambda: rng.choice(NUMBERS)),
            "location": maybe(lambda: rng.choice(STRINGS)),
            "reviewed": maybe(lambda: rng.choice([True, False])),
            "captured_at": maybe(lambda: rng.choice(oracle.TIMES)),
            "weather": maybe(lambda: rng.choice(oracle.SCHEMA.get("weather").options)),
            "defects": defects or None,
            "source_url": maybe(lambda: rng.choice(URLS)),
            "quality_score": maybe(lambda: rng.choice(NUMBERS), 0.5),
            "annotator": maybe(lambda: rng.choice(STRINGS), 0.5),
            "or": maybe(lambda: rng.choice(STRINGS), 0.5),
            "has": maybe(lambda: rng.choice(NUMBERS), 0.5),
        })
    return out


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, list):
        return json.dumps(value)
    return value


def build(tmp: Path, recs: list[dict]) -> Catalog:
    """A catalog file holding ``recs`` (keys declared with the oracle's types and options)."""
    cat = Catalog(tmp / "c.duckdb", clock=lambda: oracle.NOW)
    for f in oracle.FIELDS:
        cat.declare_field(f.name, f.type, options=f.options)
    names = [f.name for f in oracle.FIELDS]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["path", *names])
    for r in recs:
        w.writerow([r["path"], *(_cell(r[n]) for n in names)])
    report = cat.import_files([write(tmp / "data.csv", buf.getvalue())])
    assert report.rows_failed == 0 and report.rows_read == len(recs), report.to_dict()
    for k, tag in enumerate(oracle.TAGS):
        rows = [r["path"] for r in recs if tag in r["tags"]]
        if rows:
            text = "path\n" + "".join(f'"{p}"\n' for p in rows)
            assert cat.import_files([write(tmp / f"tag_{k}.csv", text)], tags=[tag]).rows_failed == 0
    return cat


def queries(n: int, seed: int = 17) -> list[str]:
    """The oracle's generated queries, every golden SQL case's query and the spec examples."""
    from test_query_oracle import make_query

    rng = random.Random(seed)
    cases = json.loads((Path(__file__).parent / "cases" / "query_sql.json").read_text(encoding="utf-8"))
    out = [c["query"] for c in cases] + [make_query(rng) for _ in range(n)]
    return list(dict.fromkeys(out))
