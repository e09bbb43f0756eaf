"""`metastore publish` and the DuckDB engine over a published folder (no Spark needed)."""

from __future__ import annotations

import json
import math
import os

import duckdb
import pyarrow.parquet as pq
import pytest

import oracle
from metastore.engines import duckdb as engine
from metastore.errors import ExportError, QuerySemanticError, UsageError
from published_data import build, queries, records

N = 300


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pub")
    recs = records(1700, N)
    cat = build(tmp, recs)
    report = cat.publish(tmp / "out")
    return cat, recs, tmp / "out", report


def test_layout_types_and_order(published):
    cat, recs, out, report = published
    assert sorted(os.listdir(out)) == ["images", "metastore.json"]  # the JSON beside, not inside
    assert [p.name for p in (out / "images").iterdir()] == ["part-00000.parquet"]
    table = pq.read_table(out / "images")
    schema = {f.name: str(f.type) for f in table.schema}
    assert schema == {
        "path": "string", "media_id": "string", "tags": "list<element: string>",
        "annotator": "string", "captured_at": "timestamp[us, tz=UTC]", "defects": "list<element: string>",
        "has": "double", "location": "string", "or": "string", "quality_score": "double", "reviewed": "bool",
        "source_url": "string", "temperature": "double", "weather": "string",
    }
    paths = table.column("path").to_pylist()
    assert paths == sorted(r["path"] for r in recs) and report.images == N
    rows = {r["path"]: r for r in table.to_pylist()}
    for rec in recs:
        got = rows[rec["path"]]
        assert sorted(got["tags"]) == sorted(rec["tags"])
        for f in oracle.FIELDS:
            want, have = rec[f.name], got[f.name]
            if isinstance(want, float) and math.isnan(want):
                assert math.isnan(have)
            elif isinstance(want, datetime_type()):
                assert have.utcoffset().total_seconds() == 0 and have.replace(tzinfo=None) == want
            elif isinstance(want, list):
                assert sorted(have) == sorted(want)
            else:
                assert have == want, (rec["path"], f.name)
    for row in cat.search("").rows():
        assert rows[row["path"]]["media_id"] == row["media_id"]


def datetime_type():
    from datetime import datetime

    return datetime


def test_metastore_json(published):
    cat, _, out, _ = published
    meta = json.loads((out / "metastore.json").read_text())
    assert meta["images"] == N and meta["query"] == "" and meta["table"] == "images"
    keys = {k["name"]: k for k in meta["keys"]}
    assert keys["weather"]["type"] == "enum" and keys["weather"]["options"] == list(oracle.BY_NAME["weather"].options)
    assert keys["defects"]["type"] == "multi-enum" and keys["captured_at"]["type"] == "datetime"
    assert meta["catalog"]["images"] == N and meta["catalog"]["last_source_id"] is not None


def test_duckdb_engine_matches_catalog(published):
    """Every generated and golden query: the published folder gives the catalog's paths, in order."""
    cat, _, out, _ = published
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/Los_Angeles'")  # the session zone must not matter
    bad = []
    for q in queries(300):
        want = cat.search(q).paths()
        got = [r[0] for r in engine.search(out, q, now=oracle.NOW, con=con).fetchall()]
        if got != want:
            bad.append((q, sorted(set(want) - set(got))[:3], sorted(set(got) - set(want))[:3]))
    assert not bad, bad[:5]


def test_query_subset_and_partitions(published, tmp_path):
    cat, recs, _, _ = published
    from metastore.store.publish import publish

    r = publish(cat, tmp_path / "rain", "weather:rain")
    assert r.images == len(cat.search("weather:rain").paths()) > 0
    r = publish(cat, tmp_path / "parts", partition_by="weather")
    folders = sorted(p.name for p in (tmp_path / "parts" / "images").iterdir())
    assert "weather=rain" in folders and "weather=__HIVE_DEFAULT_PARTITION__" in folders
    for q in ("weather:rain", "weather:[fog, snow] temperature>0", "no:weather", "-weather:rain"):
        got = [row[0] for row in engine.search(tmp_path / "parts", q, now=oracle.NOW).fetchall()]
        assert got == cat.search(q).paths(), q
    with pytest.raises(UsageError, match="only enum, string, link or boolean"):
        publish(cat, tmp_path / "p2", partition_by="temperature")


def test_refuses_non_empty_and_symlinks(published, tmp_path):
    cat, _, _, _ = published
    from metastore.store.publish import publish

    out = tmp_path / "o"
    publish(cat, out, "weather:rain")
    with pytest.raises(ExportError, match="not empty"):
        publish(cat, out)
    publish(cat, out, force=True)
    assert json.loads((out / "metastore.json").read_text())["images"] == N
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary folders left

    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(victim)
    with pytest.raises(ExportError, match="symlink"):
        publish(cat, link, force=True)
    out2 = tmp_path / "o2"
    out2.mkdir()
    (out2 / "images").symlink_to(victim)
    with pytest.raises(ExportError, match="symlink"):
        publish(cat, out2, force=True)
    (out2 / "images").unlink()
    (out2 / "metastore.json").symlink_to(victim / "keep.txt")
    with pytest.raises(ExportError, match="symlink"):
        publish(cat, out2, force=True)
    assert sorted(os.listdir(victim)) == ["keep.txt"] and (victim / "keep.txt").read_text() == "keep"


def test_errors_same_as_catalog(published):
    cat, _, out, _ = published
    for q in ("temprature>70", "weather:hail", "reviewed>1", "location>3"):
        with pytest.raises(QuerySemanticError) as local:
            cat.search(q)
        with pytest.raises(QuerySemanticError) as remote:
            engine.search(out, q, now=oracle.NOW)
        assert [(i.message, i.start, i.end, i.help) for i in remote.value.issues] == \
            [(i.message, i.start, i.end, i.help) for i in local.value.issues], q


def test_key_names_clashing_ignoring_case(tmp_path):
    from helpers import write
    from metastore import Catalog
    from metastore.store.publish import publish

    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([write(tmp_path / "a.csv", "path,Loc,loc,Tags\na.jpg,x,y,z\n")])
    with pytest.raises(UsageError) as info:
        publish(cat, tmp_path / "out")
    assert "'loc'" in info.value.message and "'Loc'" in info.value.message and "'Tags'" in info.value.message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_cli_publish_and_sql(published, run_cli, tmp_path):
    cat, _, _, _ = published
    r = run_cli("publish", "--out", tmp_path / "cli", "--json", "temperature>70", db=cat.path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["images"] == len(cat.search("temperature>70").paths())
    r = run_cli("publish", "--out", tmp_path / "cli", db=cat.path)
    assert r.returncode == 1 and "not empty" in r.stderr and "Traceback" not in r.stderr

    r = run_cli("sql", "temperature>70 weather:rain captured_at:2024-01", "--dialect", "spark", "--table",
                "lake.images", db=cat.path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == ("SELECT * FROM `lake`.`images` WHERE ((`temperature` > :p1 AND `temperature` < :p2) "
                        "AND `weather` = :p3 AND (`captured_at` >= timestamp_micros(:p4) AND "
                        "`captured_at` < timestamp_micros(:p5))) ORDER BY `path`")
    assert lines[1:] == ["-- p1 = 70.0", "-- p2 = Infinity", '-- p3 = "rain"',
                         "-- p4 = 1704067200000000  (microseconds since 1970: 2024-01-01T00:00:00Z)",
                         "-- p5 = 1706745600000000  (microseconds since 1970: 2024-02-01T00:00:00Z)"]
    r = run_cli("sql", "weather:rain", "--json", db=cat.path)
    assert json.loads(r.stdout) == {"dialect": "duckdb", "sql": 'SELECT * FROM "images" WHERE "weather" = $1 '
                                    'ORDER BY "path"', "params": ["rain"]}
    r = run_cli("sql", "temprature>1", "--dialect", "spark", db=cat.path)
    assert r.returncode == 1 and "unknown key 'temprature'" in r.stderr
    r = run_cli("sql", "x", "--dialect", "oracle", db=cat.path)
    assert r.returncode == 2 and "duckdb, spark" in r.stderr


def test_pyspark_is_imported_only_by_the_spark_engine():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "metastore"
    users = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                   if re.search(r"^\s*(from|import)\s+pyspark", p.read_text(encoding="utf-8"), re.M))
    assert users == ["engines/spark.py"]
    engines = root / "engines"
    assert not [p for p in engines.rglob("*.py") if re.search(r"^\s*import duckdb", p.read_text(), re.M)]


def test_partition_values_never_leave_the_folder(tmp_path):
    from helpers import write
    from metastore import Catalog

    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([write(tmp_path / "a.csv", "path,location\na.jpg,../../evil\nb.jpg,a/b\nc.jpg,..\n")])
    out = tmp_path / "deep" / "out"
    cat.publish(out, partition_by="location")
    made = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".parquet")
    assert all(m.startswith("deep/out/images/location=") for m in made), made
    assert {p.name for p in (out / "images").iterdir()} == {"location=..%2F..%2Fevil", "location=a%2Fb", "location=.."}
    got = [r[0] for r in engine.search(out, 'location:"a/b" OR location:"../../evil"').fetchall()]
    assert got == ["a.jpg", "b.jpg"]
