"""A plain parquet export is written by DuckDB's COPY from the search SQL (no row through
Python); it holds exactly what the per-row writer (still used with --split/--sample) writes:
the same columns, names, types, values and order, for every field type and missing values."""

from __future__ import annotations

import duckdb

from metastore import Catalog
from metastore.store.export_rows import search_rows, write_parquet
from metastore.store.search import run_search

HEAD = "path,n,s,b,t,e,m,u\n"
ROWS = [
    "img/b.jpg,1.5,Dock A,true,2024-01-02T03:04:05Z,rain,\"x, y\",https://a.b/1",
    "img/a.jpg,-2,,false,2024-01-02,sun,x,",
    "img/c.jpg,,\"with, comma\",,2023-12-31T23:59:59.123456Z,,,https://a.b/2",
    "img/é.jpg,1e21,Ünïcode,true,,rain,y,",
]
COLUMNS = ["n", "s", "b", "t", "e", "m", "u"]


def _read(path):
    con = duckdb.connect()
    try:
        rows = con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()
        schema = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
        return schema, rows
    finally:
        con.close()


def test_copy_export_equals_the_row_writer(tmp_path):
    src = tmp_path / "m.csv"
    src.write_text(HEAD + "\n".join(ROWS) + "\n", encoding="utf-8")
    cat = Catalog(tmp_path / "c.duckdb")
    assert cat.import_files([src], types={"e": "enum", "m": "multi-enum", "u": "link"}).rows_failed == 0
    for query in ("", "-n>0", "s:*a*"):
        rep = cat.export(query, tmp_path / "out", format="parquet", columns=COLUMNS, force=True)
        result = run_search(cat, query, columns=COLUMNS)
        rows = search_rows(result)
        names = ["path", "media_id"] + [f.name for f in result.columns]
        types = ["string", "string"] + [f.type for f in result.columns]
        ref = tmp_path / "ref.parquet"
        write_parquet(ref, names, types, [list(c) for c in zip(*rows)] if rows else [[] for _ in names])
        assert _read(tmp_path / "out" / "manifest.parquet") == _read(ref), query
        assert rep.rows == len(rows) and rep.matched == cat.count(query)
