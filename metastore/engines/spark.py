"""The search language on Spark, over a published catalog or any DataFrame of that shape.

    from metastore.engines import spark as engine
    df = engine.read(session, "DIR")                  # DIR from: metastore publish --out DIR
    hits = engine.search(df, "temperature>70 location:warehouse-3")
    sql, params = engine.compile("temperature>70", df.schema)   # spark.sql(sql, args=params)

Types come from ``DIR/metastore.json`` (``schema="DIR"``, enum options included) or from the
DataFrame's schema (:func:`schema_from_spark`). The SQL is the compiler's spark dialect: named
parameter markers ``:p1``…, datetimes bound as microseconds since the epoch
(``timestamp_micros``), so the session time zone never shifts a comparison.

pyspark is the optional extra ``metastore[spark]``; this is the only module importing it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..errors import UsageError
from ..schema import Field, Schema
from ..types import TYPES
from . import TABLE, check_query, compile_table

FIXED = ("path", "media_id", "tags")
_NUMERIC = {"double", "float", "int", "integer", "bigint", "long", "smallint", "short", "tinyint", "byte"}
_HELP = {
    "date": "cast it to a timestamp (UTC), e.g. df.withColumn(name, F.col(name).cast('timestamp'))",
    "timestamp_ntz": "cast it to a timestamp with the UTC instant it means (metastore compares instants)",
}


def _pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UsageError("the Spark engine needs pyspark", help="pip install 'metastore[spark]'") from None


def spark_type_name(dtype) -> str:
    return dtype.simpleString()


#: The DuckDB storage type (``types.TYPES[…].sql``) of each Spark type that has a metastore type.
_SPARK_SQL = {"string": "VARCHAR", "boolean": "BOOLEAN", "timestamp": "TIMESTAMP", "array<string>": "VARCHAR[]"}
#: The metastore type a Spark column of each storage type reads as: the first row of the type
#: table stored that way (string, number, boolean, datetime, multi-enum).
_TYPE_OF_SQL: dict[str, str] = {}
for _name, _t in TYPES.items():
    _TYPE_OF_SQL.setdefault(_t.sql, _name)


def _spark_sql(name: str) -> str | None:
    if name.startswith(("varchar", "char")):
        return "VARCHAR"
    if name in _NUMERIC or name.startswith("decimal"):
        return "DOUBLE"
    return _SPARK_SQL.get(name)


def map_type(dtype) -> str | None:
    """The metastore type of a Spark column type, or None when there is none."""
    return _TYPE_OF_SQL.get(_spark_sql(dtype.simpleString()))


def schema_from_spark(struct, *, keys=None) -> Schema:
    """A metastore Schema for a Spark StructType (or DataFrame): one key per column besides
    ``path``, ``media_id`` and ``tags``, typed by :func:`map_type`. Columns without a metastore
    type are refused, each named with its Spark type; ``keys`` (a published Schema, e.g. from
    ``metastore.json``) supplies types and enum options for the columns it names."""
    struct = getattr(struct, "schema", struct)
    by_name = {f.name: f for f in struct.fields}
    problems = []
    for name, want in (("path", "string"), ("tags", "array<string>")):
        got = by_name.get(name)
        if got is None:
            problems.append(f"no '{name}' column ({want})")
        elif got.dataType.simpleString() != want:
            problems.append(f"column '{name}' is {got.dataType.simpleString()}, not {want}")
    known = {f.name: f for f in keys.fields} if keys is not None else {}
    fields, unmapped = [], []
    for i, col in enumerate(struct.fields, start=1):
        if col.name in FIXED:
            continue
        type_ = map_type(col.dataType)
        if type_ is None:
            unmapped.append(col)
            continue
        k = known.get(col.name)
        if k is not None:
            if not _compatible(k.type, type_):
                problems.append(f"column '{col.name}' is {col.dataType.simpleString()} but metastore.json says {k.type}")
                continue
            fields.append(Field(col.name, k.type, i, k.declared, k.locked, k.options, k.count, stored=col.name))
        else:
            fields.append(Field(col.name, type_, i, stored=col.name))
    if unmapped:
        shown = ", ".join(f"'{c.name}' ({c.dataType.simpleString()})" for c in unmapped)
        kinds = {c.dataType.simpleString() for c in unmapped}
        helps = [_HELP[k] for k in ("date", "timestamp_ntz") if k in kinds]
        problems.append(f"no metastore type for column{'s' if len(unmapped) > 1 else ''} {shown}")
        help = "; ".join(helps) or ("metastore keys are string, number (numeric), boolean, datetime (timestamp) or "
                                    "multi-enum (array<string>): cast or drop the column(s), e.g. df.drop(…)")
    else:
        help = "publish the catalog with: metastore publish --out DIR, and read DIR/images"
    if problems:
        raise UsageError("cannot search this DataFrame: " + "; ".join(problems), help=help)
    return Schema(tuple(fields))


def _compatible(declared: str, mapped: str) -> bool:
    """A key published as ``declared`` reads back from a column of ``mapped``'s storage type."""
    return TYPES[declared].sql == TYPES[mapped].sql


def _schema(target, schema) -> Schema:
    """The Schema for compiling: ``schema`` may be a Schema, a published folder (its
    metastore.json), a Spark StructType or DataFrame, or None (the DataFrame ``target``'s)."""
    from ..store.publish import meta_schema, read_meta

    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, (str, Path, dict)):  # a published folder, or its metastore.json parsed
        keys = meta_schema(schema if isinstance(schema, dict) else read_meta(schema))
        return schema_from_spark(target, keys=keys) if target is not None else keys
    return schema_from_spark(schema if schema is not None else target)


def compile(query: str, schema, *, table: str = TABLE, now: datetime | None = None, tz: str = "UTC") -> tuple[str, dict]:
    """``(sql, args)`` for ``spark.sql(sql, args=args)``: ``SELECT * FROM table WHERE … ORDER BY path``.
    ``schema``: a Spark StructType or DataFrame, a published folder (its metastore.json) or a
    metastore Schema whose fields name their columns (``Field.stored``)."""
    from ..query import named

    sql, params = compile_table(query, _schema(None, schema), dialect="spark", table=table, now=now, tz=tz)
    return sql, named(params)


def where(query: str, schema, *, now: datetime | None = None, tz: str = "UTC") -> tuple[str, dict]:
    """Only the condition: ``(where_sql, args)``."""
    from ..query import compile_where, named

    checked = check_query(query, _schema(None, schema), now=now, tz=tz)
    sql, params = compile_where(checked, dialect="spark")
    return sql, named(params)


def search(df, query: str = "", *, schema=None, now: datetime | None = None, tz: str = "UTC"):
    """The rows of ``df`` matching ``query``: a (lazy) Spark DataFrame. Types from ``schema``
    (a published folder, its ``metastore.json`` parsed into a dict, or a metastore Schema) or
    else from ``df.schema``."""
    from ..query import compile_where, named

    _pyspark()
    checked = check_query(query, _schema(df, schema), now=now, tz=tz, examples=_examples(df))
    condition, params = compile_where(checked, dialect="spark")
    sql = "SELECT * FROM {df} WHERE " + condition
    if sql.count("{") != 1 or sql.count("}") != 1:  # spark.sql formats {df}: no other braces may appear
        raise UsageError("cannot run this query on Spark: its SQL holds braces")
    return df.sparkSession.sql(sql, args=named(params), df=df)


def _examples(df):
    """The checker's ``examples`` from the DataFrame (run only when an error's help needs them):
    a key's two most common values, or its smallest and largest — as the catalog gives them."""
    from pyspark.sql import functions as F

    def examples(f) -> list:
        col = F.col(f"`{f.column}`")
        if f.kind.ordered:
            row = df.agg(F.min(col), F.max(col)).collect()[0]
            return [_naive_utc(v) for v in row]
        item = F.explode(col) if f.kind.listed else col
        rows = (df.select(item.alias("v")).where(F.col("v").isNotNull()).groupBy("v").count()
                .orderBy(F.desc("count"), F.asc("v")).limit(2).collect())
        return [r["v"] for r in rows]

    return examples


def _naive_utc(value):
    """Spark returns timestamps in the Python process's local zone, naive: back to naive UTC."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        aware = value.astimezone() if value.tzinfo is None else value
        return aware.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def read(session, folder):
    """The published images of ``folder`` as a DataFrame, read with the schema ``metastore.json``
    records (partition folders keep their key's type)."""
    _pyspark()
    from pyspark.sql import types as T

    from ..store.publish import IMAGES_DIR, published_root, read_meta

    meta = read_meta(folder)
    root = published_root(folder)
    by_sql = {"VARCHAR": T.StringType(), "DOUBLE": T.DoubleType(), "BOOLEAN": T.BooleanType(),
              "TIMESTAMP": T.TimestampType(), "VARCHAR[]": T.ArrayType(T.StringType())}
    spark_types = {name: by_sql[t.sql] for name, t in TYPES.items()}
    fields = [T.StructField("path", T.StringType()), T.StructField("media_id", T.StringType()),
              T.StructField("tags", T.ArrayType(T.StringType()))]
    fields += [T.StructField(k["name"], spark_types[k["type"]]) for k in meta["keys"]]
    return session.read.schema(T.StructType(fields)).parquet(str(root / IMAGES_DIR))


__all__ = ["search", "compile", "where", "read", "schema_from_spark", "map_type"]
