"""Manifests written by DuckDB (issue 16): csv, jsonl, parquet and paths go through
``COPY (SELECT <lines>) TO`` with splits and samples computed in SQL. Each is held against the
pure-Python writer it replaced (``export._manifest_text`` over the search's rows, Python's csv
and json modules) and the pure-Python split and sample rules (``assign_split``, ``sample_key``),
on awkward values of every type; and a pre-issue-16 (BLAKE2b) export still rebuilds exactly."""

from __future__ import annotations

import csv
import json
import random

import duckdb
import pytest

from metastore import Catalog
from metastore import export as E
from metastore.schema import SQL_TYPES
from metastore.store import export_sql as X
from metastore.store.export_rows import search_rows, write_parquet
from metastore.store.search import run_search
from metastore.types import TYPES, json_value, text

HEAD = ["path", "n", "s", "b", "t", "e", "m", "u", "g"]
ROWS = [
    ["img/b.jpg", "1.5", "Dock A", "true", "2024-01-02T03:04:05Z", "rain", "x, y", "https://a.b/1", "k1"],
    ["img/a.jpg", "-2", "", "false", "2024-01-02", "sun", "x", "", "k2"],
    ["img/c.jpg", "", "with, comma", "", "2023-12-31T23:59:59.123456Z", "", "", "https://a.b/2", "k1"],
    ["img/é.jpg", "1e21", "Ünïcode", "true", "", "rain", "y", "", ""],
    ["img/q.jpg", "0.1", 'say "hi"', "false", "1999-02-03T04:05:06.5Z", "sun", "y, x", "", "k3"],
    ["img/n.jpg", "123456789012345", "line\nbreak", "true", "", "", "", "https://a.b/3?x=1&y=2", "k2"],
    ['img/w,eird "name".jpg', "1e-7", "back\\slash\ttab", "", "", "", "", "", "k1"],
    ["img/z.jpg", "999999999999999.5", '{"json": [1]}', "", "", "", "", "", ""],
    ["img/big.jpg", "1000000000000000", "\u2028sep\x7f", "", "", "", "", "", "k4"],
]
COLUMNS = ["n", "s", "b", "t", "e", "m", "u"]
TYPES_OF = {"e": "enum", "m": "multi-enum", "u": "link"}


@pytest.fixture
def cat(tmp_path):
    src = tmp_path / "m.csv"
    extra = [[f"img/r{i:03d}.jpg", str(i * 0.37 - 20), f"v{i % 7}", "true" if i % 3 else "false",
              f"2024-03-{1 + i % 28:02d}", ["rain", "sun"][i % 2], ["x", "y", "x, y"][i % 3], "", f"k{i % 9}"]
             for i in range(300)]
    with open(src, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEAD] + ROWS + extra)
    c = Catalog(tmp_path / "c.duckdb")
    assert c.import_files([src], types=TYPES_OF).rows_failed == 0
    return c


def _reference(cat, query, fmt, columns, split=None, seed=0, group_by=None, sample=None, limit=None, sort=None):
    """What the Python writer makes of the same export, from the pure-Python rules."""
    fetch = columns + ([group_by] if group_by and group_by not in columns else [])
    result = run_search(cat, query, columns=fetch, sort=sort)
    rows = search_rows(result)
    if sample is not None:
        keep = {r[0] for r in sorted(rows, key=lambda r: E.sample_key(seed, r[0]))[:sample]}
        rows = [r for r in rows if r[0] in keep]
    if limit is not None:
        rows = rows[:limit]
    width = 2 + len(columns)
    names = ["path", "media_id"] + columns
    out = [list(r[:width]) for r in rows]
    if split:
        ratios = E.parse_split(split)
        names.append("split")
        gi = 2 + fetch.index(group_by) if group_by else None
        gtype = result.columns[fetch.index(group_by)].type if group_by else None
        for r, m in zip(rows, out):
            g = E.group_text(r[gi], gtype) if gi is not None else None
            m.append(E.assign_split(ratios, seed, "g\x1f" + g if g is not None else "p\x1f" + r[0]))
    return names, out, result


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "paths"])
@pytest.mark.parametrize("opts", [
    {},
    {"split": "train=0.6,val=0.3,test=0.1", "seed": 3},
    {"split": "a=0.5,b=0.5", "group_by": "g", "seed": 11, "sample": 120, "limit": 90, "sort": "n:desc"},
    {"split": "a=0.7,b=0.3", "group_by": "m", "columns": ["s"]},
    {"columns": ["s"], "sort": "t:desc", "limit": 200},  # the sort key is not a manifest column
])
@pytest.mark.parametrize("before_sort", [False, True], ids=["line-after-sort", "line-before-sort"])
def test_sql_manifest_is_byte_identical_to_the_python_writer(cat, tmp_path, fmt, opts, before_sort, monkeypatch):
    # both ways of building csv/jsonl lines (after the search's sort, or in its SELECT before
    # it: chosen by how many images match), forced here whatever the estimate says
    monkeypatch.setattr(X, "_line_before_sort", lambda result, con: before_sort)
    opts = dict(opts)
    columns = opts.pop("columns", COLUMNS)
    for query in ("", "-n>0", "s:*a*"):
        out = tmp_path / f"{fmt}-{len(query)}"
        rep = cat.export(query, out, format=fmt, columns=columns, **opts)
        names, rows, _ = _reference(cat, query, fmt, columns, **opts)
        assert (out / f"manifest.{fmt}").read_text(encoding="utf-8") == E._manifest_text(fmt, names, rows), query
        assert rep.rows == len(rows)
        if opts.get("split"):
            want = {}
            for r in rows:
                want[r[-1]] = want.get(r[-1], 0) + 1
            assert {s.name: s.count for s in rep.splits if s.count} == want
            if fmt == "paths":
                for name, _ in E.parse_split(opts["split"]):
                    assert (out / f"manifest.{name}.paths").read_text() == "".join(
                        r[0] + "\n" for r in rows if r[-1] == name)


def test_sql_parquet_equals_the_python_writer_with_a_split(cat, tmp_path):
    cat.export("", tmp_path / "o", format="parquet", columns=COLUMNS, split="x=0.25,y=0.75", seed=5, group_by="g")
    names, rows, result = _reference(cat, "", "parquet", COLUMNS, split="x=0.25,y=0.75", seed=5, group_by="g")
    types = ["string", "string"] + [f.type for f in result.columns[:len(COLUMNS)]] + ["string"]
    write_parquet(tmp_path / "ref.parquet", names, types, [list(c) for c in zip(*rows)])
    con = duckdb.connect()
    try:
        got, want = (con.execute(f"SELECT * FROM read_parquet('{p}')").fetchall()
                     for p in (tmp_path / "o" / "manifest.parquet", tmp_path / "ref.parquet"))
        assert got == want and len(got) == 309
        d1, d2 = (con.execute(f"DESCRIBE SELECT * FROM read_parquet('{p}')").fetchall()
                  for p in (tmp_path / "o" / "manifest.parquet", tmp_path / "ref.parquet"))
        assert d1 == d2
    finally:
        con.close()


def test_split_counts_are_the_exports_counts(cat, tmp_path):
    for opts in ({"seed": 1}, {"seed": 2, "group_by": "g", "sample": 100}, {"limit": 50, "sort": "n"}):
        rep = cat.export("n>-10", tmp_path / str(len(opts)) / str(opts.get("seed")), split="a=0.2,b=0.3,c=0.5",
                         **opts)
        counts = E.split_counts(cat, "n>-10", "a=0.2,b=0.3,c=0.5", **opts)
        assert [(s.name, s.ratio, s.count) for s in counts] == [(s.name, s.ratio, s.count) for s in rep.splits]
        assert sum(s.count for s in counts) == rep.rows > 0


def test_sample_in_sql_is_the_python_rule(cat, tmp_path):
    rep = cat.export("", tmp_path / "o", format="paths", sample=37, seed=4, limit=30, sort="path:desc")
    _, rows, _ = _reference(cat, "", "paths", [], sample=37, seed=4, limit=30, sort="path:desc")
    assert (tmp_path / "o" / "manifest.paths").read_text() == "".join(r[0] + "\n" for r in rows)
    assert rep.matched == 309 and rep.rows == 30


def test_record_says_the_hash_and_a_blake2b_export_still_rebuilds(cat, tmp_path):
    opts = dict(format="csv", columns=["n", "g"], split="train=0.8,val=0.2", group_by="g", sample=100, seed=7)
    cat.export("", tmp_path / "new", **opts)
    assert json.loads((tmp_path / "new" / "export.json").read_text())["hash"] == "md5"
    # an export made before issue 16: BLAKE2b in Python, and no "hash" in its record
    old = cat.export("", tmp_path / "old", hash="blake2b", **opts)
    record = json.loads((tmp_path / "old" / "export.json").read_text())
    del record["hash"]
    (tmp_path / "old" / "export.json").write_text(json.dumps(record))
    again = cat.export_from(tmp_path / "old", tmp_path / "again")
    assert again.warnings == []
    assert (tmp_path / "again" / "manifest.csv").read_bytes() == (tmp_path / "old" / "manifest.csv").read_bytes()
    assert [s.count for s in again.splits] == [s.count for s in old.splits]
    # ... and it is a different split than md5 draws (the record is what tells them apart)
    assert (tmp_path / "new" / "manifest.csv").read_bytes() != (tmp_path / "old" / "manifest.csv").read_bytes()
    record["hash"] = "sha1"
    (tmp_path / "old" / "export.json").write_text(json.dumps(record))
    with pytest.raises(E.ExportError, match="'hash' is \"sha1\""):
        cat.export_from(tmp_path / "old", tmp_path / "bad")


# -- each type's SQL text against the Python it reproduces ------------------------------------------
def _values(type_: str, rng: random.Random) -> list:
    chars = [chr(i) for i in range(1, 0x80)] + ["é", "\u2028", "€", "𝄞", "\x85", "\ufeff"]

    def word():
        return "".join(rng.choice(chars) for _ in range(rng.randint(0, 6)))

    if type_ == "number":
        fixed = [0.0, -0.0, 1e15, 1e15 - 1, -1e15 + 1, 999999999999999.5, 1e16, 1e-5, 1e-4, 0.1, 2.5, 1e300,
                 float("nan"), float("inf"), float("-inf")]
        return fixed + [rng.uniform(-1e6, 1e6) for _ in range(300)] + [
            rng.choice([1, -1]) * 10 ** rng.uniform(-30, 30) for _ in range(300)] + [float(rng.randint(-10**9, 10**9))
                                                                                     for _ in range(100)]
    if type_ == "boolean":
        return [True, False]
    if type_ == "datetime":
        from datetime import datetime, timedelta

        base = datetime(1970, 1, 1)
        return [base + timedelta(microseconds=rng.randint(-10**16, 10**16)) for _ in range(300)] + [
            datetime(999, 1, 2, 3, 4, 5), datetime(2024, 1, 2), datetime(2024, 1, 2, 0, 0, 0, 1)]
    if type_ == "multi-enum":
        # an item that is the text ',' itself: its JSON "," looks like the separator between items
        return [[word() for _ in range(rng.randint(0, 3))] for _ in range(300)] + [[","], [",", "x"], ["a,", "b"]]
    # a \u that is text next to real escapes: to_json writes \\u001F and \u001F (Python \u001f)
    return [word() for _ in range(500)] + ["", '"', "\\", "\\u000A", "a,b", "\r", "\n", "\\u001F", "\\\x1f",
                                           "\x1f\\u000B\x0b", "\\\\u001F\x1e", "\x0e\x0f\x1a\x1b\x1c\x1d"]


@pytest.mark.parametrize("type_", sorted(TYPES))
def test_every_types_sql_text_and_json_equal_python(type_):
    rng = random.Random(16)
    values = [v for v in _values(type_, rng)]
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE TABLE v (i INTEGER, x {SQL_TYPES[type_]})")
        con.executemany("INSERT INTO v VALUES (?, ?)", [[i, x] for i, x in enumerate(values)] + [[-1, None]])
        got = con.execute(f"SELECT i, x, {X.text_sql('x', type_)}, {X.JSON_SQL[type_]('x')}, "
                          f"{X.csv_cell_sql(X.text_sql('x', type_))} FROM v ORDER BY i").fetchall()
    finally:
        con.close()
    for i, x, t, j, c in got:
        assert t == (None if x is None else text(x)), (x, t)
        assert j == json.dumps(json_value(x), ensure_ascii=False), (x, j)
        assert c + ",z" == X.csv_line(["" if x is None else text(x), "z"]), (x, c)


@pytest.mark.parametrize("type_", sorted(TYPES) + ["uuid"])
def test_each_types_json_line_parts_equal_python(type_):
    """The pieces a jsonl line's one concat(…) is built of (key, value, NULL as null) give
    Python's json.dumps of the same value, for every type and the media id's UUID text."""
    import uuid

    rng = random.Random(17)
    values = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(50)] if type_ == "uuid" else _values(type_, rng)
    params = X._Params(0)
    key = ', "k\u00e9\"": '
    parts = X.json_parts(None if type_ == "uuid" else TYPES[type_], "x", key, params)
    sql_type = "VARCHAR" if type_ == "uuid" else SQL_TYPES[type_]
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE TABLE v (i INTEGER, x {sql_type})")
        con.executemany("INSERT INTO v VALUES (?, ?)", [[i, x] for i, x in enumerate(values)] + [[-1, None]])
        got = con.execute(f"SELECT x, concat({', '.join(parts)}, '}}') FROM v ORDER BY i", params.values).fetchall()
    finally:
        con.close()
    assert len(got) == len(values) + 1
    for x, line in got:
        assert line == key + json.dumps(json_value(x), ensure_ascii=False) + "}", (x, line)


def test_dry_run_reports_the_export_and_writes_nothing(cat, tmp_path):
    root = tmp_path / "src"
    for i in range(0, 300, 2):  # every other generated image exists
        f = root / f"img/r{i:03d}.jpg"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"x")
    opts = dict(split="a=0.5,b=0.5", seed=3, media="copy", media_root=root, skip_missing=True, sample=200)
    dry = cat.export("path:img/r*", tmp_path / "never", dry_run=True, **opts)
    assert not (tmp_path / "never").exists()
    real = cat.export("path:img/r*", tmp_path / "real", **opts)
    assert (dry.rows, dry.matched, dry.missing, dry.placed) == (real.rows, real.matched, real.missing, 0)
    assert [(s.name, s.count) for s in dry.splits] == [(s.name, s.count) for s in real.splits]
    assert sum(s.count for s in dry.splits) == real.rows == real.placed < 200 and dry.missing
    assert E.split_counts(cat, "path:img/r*", **opts) == dry.splits
    plain = cat.export("n>0", None, dry_run=True, limit=7)
    assert (plain.rows, plain.matched, plain.splits) == (7, cat.count("n>0"), [])
