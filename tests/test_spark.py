"""The same queries on a real Spark (pyspark, local[1]) give the catalog's answers.

A catalog of generated records (the query oracle's schema) is published with `metastore publish`;
every golden SQL case's query and the oracle's generated queries then run on the catalog (DuckDB)
and on Spark over the published Parquet, with Spark's session time zone UTC and a zone far from
it (the JVM's own zone is not UTC either, see the ``spark`` fixture): the path sets must be equal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time

import pytest

import oracle
from metastore.errors import MetastoreError, QuerySemanticError, UsageError
from published_data import build, queries, records

pytestmark = [pytest.mark.spark, pytest.mark.slow]

N_IMAGES = 500
N_QUERIES = 400
BATCH = 40


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from metastore.store.publish import publish

    tmp = tmp_path_factory.mktemp("spark")
    cat = build(tmp, records(1717, N_IMAGES))
    publish(cat, tmp / "out")
    return cat, tmp / "out"


@pytest.fixture(scope="module")
def df(spark, published):
    from metastore.engines import spark as engine

    frame = engine.read(spark, published[1]).cache()
    frame.count()
    return frame


def _operators(checked) -> set[str]:
    from metastore.query import CAnd, CNot, COr

    out, stack = set(), [checked.root]
    while stack:
        node = stack.pop()
        if isinstance(node, (CAnd, COr)):
            stack.extend(node.items)
        elif isinstance(node, CNot):
            stack.append(node.item)
        elif node is not None:
            out.add(node.op)
    return out


def _spark_paths(spark, df, qs: list[str], schema) -> dict[str, set[str]]:
    """Each query's matching paths, many queries per Spark job: one boolean column per query,
    each the compiled WHERE condition (NULL counts as no match, as in WHERE)."""
    from metastore.engines import check_query
    from metastore.query import compile_where, named

    out = {}
    for start in range(0, len(qs), BATCH):
        chunk = qs[start:start + BATCH]
        cols, args = [], {}
        for j, q in enumerate(chunk):
            checked = check_query(q, schema, now=oracle.NOW)
            try:
                cond, params = compile_where(checked, dialect="spark", first_param=len(args) + 1)
            except MetastoreError as exc:
                pytest.fail(f"{q!r} (operators {sorted(_operators(checked))}): {exc}")
            args.update(named(params, first_param=len(args) + 1))
            cols.append(f"coalesce({cond}, false) AS q{j}")
        rows = spark.sql("SELECT path, " + ", ".join(cols) + " FROM {df}", args=args, df=df).collect()
        for j, q in enumerate(chunk):
            out[q] = {r["path"] for r in rows if r[f"q{j}"]}
    return out


@contextlib.contextmanager
def _python_zone(zone: str | None):
    """The Python process's local zone (pyspark turns naive datetimes into instants with it)."""
    if zone is None:
        yield
        return
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.parametrize("zone,python_zone", [("UTC", None), ("America/Los_Angeles", "Australia/Adelaide")])
def test_spark_matches_catalog(spark, df, published, zone, python_zone):
    from metastore.engines import spark as engine

    cat, out = published
    schema = engine._schema(df, out)
    qs = queries(N_QUERIES)
    spark.conf.set("spark.sql.session.timeZone", zone)
    try:
        with _python_zone(python_zone):
            got = _spark_paths(spark, df, qs, schema)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    bad = []
    for q in qs:
        want = set(cat.search(q).paths())
        if got[q] != want:
            ops = sorted(_operators(cat.search(q).checked))
            bad.append(f"{q!r} (operators {ops}): only Spark {sorted(got[q] - want)[:3]}, "
                       f"only catalog {sorted(want - got[q])[:3]}")
    assert not bad, f"{len(bad)} of {len(qs)} queries differ:\n" + "\n".join(bad[:10])
    sizes = [len(v) for v in got.values()]
    assert sum(0 < s < N_IMAGES for s in sizes) > len(qs) // 3  # not vacuous


@pytest.mark.parametrize("query", ["temperature>70 location:warehouse-3", "captured_at:2024-01 -weather:rain",
                                   "defects=[dent, rust] OR tag:needs-*", "fork* OR path:/\\.png/", ""])
def test_search_returns_the_filtered_dataframe(spark, published, query):
    from metastore.engines import spark as engine

    cat, out = published
    spark.conf.set("spark.sql.session.timeZone", "Asia/Tokyo")
    try:
        plain = spark.read.parquet(str(out / "images"))  # read as it is, types from metastore.json
        hits = engine.search(plain, query, schema=out, now=oracle.NOW)
        assert sorted(r["path"] for r in hits.collect()) == cat.search(query).paths()
        assert hits.columns == plain.columns
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_types_from_the_dataframe(spark, published):
    """Without metastore.json the Spark schema gives the types (enums and links read as strings:
    docs/scale-out.md says what that changes)."""
    from metastore.engines import spark as engine

    cat, out = published
    plain = spark.read.parquet(str(out / "images"))
    schema = engine.schema_from_spark(plain)
    assert {f.name: f.type for f in schema.fields} == {
        f.name: ("string" if f.type in ("enum", "link") else f.type) for f in oracle.FIELDS}
    for q in ("temperature>70 reviewed:true", "captured_at>2024-01-15", "weather:rain defects:rust"):
        assert sorted(r["path"] for r in engine.search(plain, q, now=oracle.NOW).collect()) == cat.search(q).paths()
    sql, args = engine.compile("temperature>70", plain.schema, table="images")
    assert sql == ("SELECT * FROM `images` WHERE (`temperature` > :p1 AND `temperature` < :p2) ORDER BY `path`")
    assert args == {"p1": 70.0, "p2": float("inf")}
    plain.createOrReplaceTempView("images")
    assert [r["path"] for r in spark.sql(sql, args=args).collect()] == cat.search("temperature>70").paths()


def test_errors_same_as_catalog(spark, df, published):
    from metastore.engines import spark as engine

    cat, out = published
    for q in ("temprature>70", "weather:hail", "reviewed>1", "location>3"):
        with pytest.raises(QuerySemanticError) as local:
            cat.search(q)
        with pytest.raises(QuerySemanticError) as remote:
            engine.search(df, q, schema=out, now=oracle.NOW)
        assert [(i.message, i.start, i.end, i.help) for i in remote.value.issues] == \
            [(i.message, i.start, i.end, i.help) for i in local.value.issues], q


def test_unmappable_columns_are_named_with_their_spark_type(spark, df):
    from pyspark.sql import functions as F

    from metastore.engines import spark as engine

    odd = (df.withColumn("shot_on", F.lit(dt.date(2024, 1, 1)))
             .withColumn("boxes", F.create_map(F.lit("a"), F.lit(1))))
    with pytest.raises(UsageError) as info:
        engine.search(odd, "temperature>1")
    msg = info.value.message
    assert "'shot_on' (date)" in msg and "'boxes' (map<string,int>)" in msg, msg
    with pytest.raises(UsageError, match="no 'path' column"):
        engine.search(df.drop("path"), "x")


def test_partitioned_folder(spark, published, tmp_path):
    from metastore.engines import spark as engine
    from metastore.store.publish import publish

    cat, _ = published
    publish(cat, tmp_path / "parts", partition_by="weather")
    parts = engine.read(spark, tmp_path / "parts")
    for q in ("weather:rain", "no:weather", "-weather:[rain, fog] temperature<80"):
        got = sorted(r["path"] for r in engine.search(parts, q, schema=tmp_path / "parts", now=oracle.NOW).collect())
        assert got == cat.search(q).paths(), q
