"""Search results equal a pure-Python oracle of the spec, over generated records and queries.

Also: ``A OR B`` is the union of A and B, ``-A`` is the complement (including images that lack
the key). Records and queries come from a seeded generator; the whole module runs in seconds.
"""

from __future__ import annotations

import random

import duckdb
import pytest

from metastore.query import check_text, compile_select, compile_where, parse
from oracle import FIELDS, LEAVES, NOW, NUMBERS, PATHS, RANGE_PAIRS, SCHEMA, STRINGS, TAGS, TIMES, URLS, VALUES, evaluate

SEED = 20240601
N_RECORDS = 300
N_QUERIES = 400



def _maybe(rng, pick, p_none=0.25):
    return None if rng.random() < p_none else pick()


def make_records(rng: random.Random) -> list[dict]:
    out = []
    for i in range(N_RECORDS):
        rec = {
            "path": f"{rng.choice(PATHS)}#{i}",
            "tags": rng.sample(TAGS, rng.randint(0, 2)),
            "temperature": _maybe(rng, lambda: rng.choice(NUMBERS)),
            "location": _maybe(rng, lambda: rng.choice(STRINGS)),
            "reviewed": _maybe(rng, lambda: rng.choice([True, False])),
            "captured_at": _maybe(rng, lambda: rng.choice(TIMES)),
            "weather": _maybe(rng, lambda: rng.choice(SCHEMA.get("weather").options)),
            "defects": _maybe(rng, lambda: rng.sample(["rust", "dent", "scratch"], rng.randint(0, 3))),
            "source_url": _maybe(rng, lambda: rng.choice(URLS)),
            "quality_score": _maybe(rng, lambda: rng.choice(NUMBERS), 0.5),
            "annotator": _maybe(rng, lambda: rng.choice(STRINGS), 0.5),
            "or": _maybe(rng, lambda: rng.choice(STRINGS), 0.5),
            "has": _maybe(rng, lambda: rng.choice(NUMBERS), 0.5),
        }
        out.append(rec)
    return out




def _leaf(rng: random.Random) -> str:
    leaf = rng.choice(LEAVES)
    fills = {k: rng.choice(v) for k, v in VALUES.items()}
    lo, hi = sorted([rng.choice(VALUES["n"]), rng.choice(VALUES["n"])], key=float)
    t2 = rng.choice(["2024-01-15", "2024-02", "2024"])
    pairs = {}
    for name, choices in RANGE_PAIRS.items():
        pairs[name + "lo"], pairs[name + "hi"] = rng.choice(choices)
    return leaf.format(lo=lo, hi=hi, t2=t2, n2=rng.choice(VALUES["n"]), s2=rng.choice(VALUES["s"]), **pairs, **fills)


def make_query(rng: random.Random, depth: int = 0) -> str:
    if depth >= 2 or rng.random() < 0.45:
        q = _leaf(rng)
    else:
        parts = [make_query(rng, depth + 1) for _ in range(rng.randint(2, 3))]
        q = "(" + rng.choice([" ", " AND ", " OR ", " or "]).join(parts) + ")"
    if rng.random() < 0.2:
        q = rng.choice(["-", "!", "NOT "]) + q
    return q


@pytest.fixture(scope="module")
def db():
    rng = random.Random(SEED)
    records = make_records(rng)
    con = duckdb.connect()
    cols = ", ".join(f'"{f.column}" {f.sql_type}' for f in FIELDS)
    con.execute(f'CREATE TABLE images (id BIGINT, path VARCHAR, media_id VARCHAR, tags VARCHAR[], {cols})')
    holders = ", ".join(f"${i}" for i in range(1, len(FIELDS) + 5))
    con.executemany(f"INSERT INTO images VALUES ({holders})", [
        [i, r["path"], f"m{i}", r["tags"], *[r[f.name] for f in FIELDS]] for i, r in enumerate(records)
    ])
    return con, records


def _sql_paths(con, query: str) -> set[str]:
    checked = check_text(query, SCHEMA, now=NOW)
    sql, params = compile_select(checked, SCHEMA)
    return {row[0] for row in con.execute(sql, params).fetchall()}


def _oracle_paths(records, query: str) -> set[str]:
    node = parse(query)
    return {r["path"] for r in records if evaluate(node, r)}


def test_generated_queries_match_oracle(db):
    con, records = db
    rng = random.Random(SEED + 1)
    mismatches = []
    for _ in range(N_QUERIES):
        q = make_query(rng)
        got, want = _sql_paths(con, q), _oracle_paths(records, q)
        if got != want:
            mismatches.append((q, sorted(got - want)[:3], sorted(want - got)[:3]))
    assert not mismatches, mismatches[:5]


@pytest.mark.parametrize("query", [
    "temperature>70 location:warehouse-3 reviewed:true", "temperature:70..80", "temperature>-5",
    "location:warehouse-3", "location:warehouse-*", "location~house", "-location:warehouse-3",
    "location!=warehouse-3", "location:[dock-a, dock-b]", "no:annotator", "-reviewed:true",
    "defects:rust defects:dent", "captured_at:2024-01", "captured_at>2024-01-15", "source_url~example.com",
    "(weather:rain OR weather:fog) NOT reviewed:true quality_score>=90", "forklift", "",
    "location:(dock-a OR warehouse-3)", "temperature:(>=0 AND <80)", "temperature:[0 TO 80}", "temperature:{0 TO *]",
    "captured_at:[2024-01 TO 2024-02]", "captured_at:{2024-01-15 TO *]", "location:[Dock-A TO dock-a]",
    "has:tag", "no:tag", "_exists_:annotator", "+location:dock-a +tag:v2",
])
def test_spec_examples_match_oracle(db, query):
    con, records = db
    assert _sql_paths(con, query) == _oracle_paths(records, query)


@pytest.mark.parametrize("query", [
    "ain", "RAIN", "us", "S", "nt", "e", "zzz", "r*n", "*st", "s*y", "-ain", "ain OR dock", "\"ain\"",
    "-(s*)", "ain -nt", "NOT us",
])
def test_free_text_over_keys_with_options_matches_oracle(db, query):
    """Free text on an enum / multi-enum is resolved to the options holding the text (issue 16):
    words inside options (``ain`` → rain, ``nt`` → dent), across case, globs, none, negated."""
    con, records = db
    got = _sql_paths(con, query)
    assert got == _oracle_paths(records, query)
    if query in ("ain", "nt"):
        assert got, query  # the case is not vacuous


def test_or_is_union_and_not_is_complement(db):
    con, records = db
    everything = {r["path"] for r in records}
    rng = random.Random(SEED + 2)
    for _ in range(60):
        a, b = make_query(rng), make_query(rng)
        A, B = _sql_paths(con, a), _sql_paths(con, b)
        assert _sql_paths(con, f"({a}) OR ({b})") == A | B
        assert _sql_paths(con, f"({a}) ({b})") == A & B
        assert _sql_paths(con, f"-({a})") == everything - A


def test_negation_includes_missing_keys(db):
    con, records = db
    missing = {r["path"] for r in records if r["location"] is None}
    assert missing and missing <= _sql_paths(con, "-location:warehouse-3")
    assert not missing & _sql_paths(con, "location!=warehouse-3")


def test_count_matches_select(db):
    con, _ = db
    from metastore.query import compile_count

    checked = check_text("temperature>0 OR tag:v2", SCHEMA, now=NOW)
    sql, params = compile_count(checked)
    assert con.execute(sql, params).fetchone()[0] == len(_sql_paths(con, "temperature>0 OR tag:v2"))
    where, params = compile_where(checked)
    assert con.execute(f"SELECT count(*) FROM images WHERE {where}", params).fetchone()[0] > 0
