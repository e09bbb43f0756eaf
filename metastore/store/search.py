"""Running searches: text → checked tree → SQL (from the query compiler) → rows.

Opens the catalog read-only, so any number of searches run side by side. Reading the schema
and each of the result's queries open the catalog for just that step (attaching it to the
process's engine takes ~1 ms, see ``warm.py``), so a result kept around never holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

import duckdb

from .. import schema as S
from ..errors import QueryError, UsageError
from .fields import kept_schema, read_schema


@dataclass
class Explained:
    interpretation: str
    timezone: str
    sql: str
    params: list
    clauses: list[tuple[str, int]]  # (clause text, images matching it alone)
    total: int
    keys: list[tuple[str, str]] = field(default_factory=list)  # (key, type) the query uses
    columns: list[tuple[str, str, str]] = field(default_factory=list)  # (column as in the SQL, key, type)


class SearchResult:
    """The images a query matches. Nothing runs until you ask for rows, paths or a count."""

    def __init__(self, catalog, text: str, checked, schema: S.Schema, columns: list[S.Field],
                 sort, limit: int | None, offset: int | None = None,
                 sample: tuple[str, int] | None = None, after: str | None = None) -> None:
        from ..query import compile_count, compile_select

        self.catalog = catalog
        self.query = text
        self.checked = checked
        self.schema = schema
        self.columns = columns
        self.sql, self.params = compile_select(checked, schema, columns=columns, sort=sort, limit=limit,
                                               offset=offset, sample=sample, after=after)
        self.paths_sql, self.paths_params = compile_select(checked, schema, sort=sort, limit=limit, offset=offset,
                                                           paths_only=True, sample=sample, after=after)
        self.count_sql, self.count_params = compile_count(checked)
        self.limit = limit
        self.offset = offset
        self._select_args = dict(columns=columns, sort=sort, limit=limit, offset=offset, sample=sample, after=after)

    def sql_selecting(self, select: str) -> str:
        """This search's SQL (same WHERE, order, limit and parameters) with ``select`` as its
        select list, written over the ``images`` table's columns; placeholders of ``select``
        follow :attr:`params`."""
        from ..query import compile_select

        sql, params = compile_select(self.checked, self.schema, select=select, **self._select_args)
        assert len(params) == len(self.params)
        return sql

    def _connection(self):
        return self.catalog.reading()

    def _run(self, sql: str, params: list):
        with self._connection() as con:
            return con.execute(sql, params).fetchall()

    def paths(self) -> list[str]:
        return [r[0] for r in self._run(self.paths_sql, self.paths_params)]

    def rows(self) -> list[dict]:
        """Each match as ``{"path", "media_id", <column key>: value…}``."""
        names = ["path", "media_id"] + [f.name for f in self.columns]
        return [dict(zip(names, r)) for r in self._run(self.sql, self.params)]

    def count(self) -> int:
        """All matches (``limit``, ``offset`` and ``sample`` do not apply)."""
        return self._run(self.count_sql, self.count_params)[0][0]

    def to_arrow(self):
        names = ["path", "media_id"] + [f.name for f in self.columns]
        with self._connection() as con:
            rel = con.sql(self.sql, params=self.params)
            # duckdb 2.0 renamed arrow() to to_arrow_table(); a relation's arrow output is not
            # copied again (a DB-API cursor's is, with a warning)
            table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
        return table.rename_columns(names)

    def to_pandas(self):
        try:
            import pandas  # noqa: F401
        except ImportError:
            raise UsageError("to_pandas() needs pandas", help="pip install pandas, or use to_arrow()") from None
        return self.to_arrow().to_pandas()

    def explain(self) -> Explained:
        from ..query import clauses, explain, quote

        with self._connection() as con:
            per_clause = [(text, con.execute(f"SELECT count(*) FROM images WHERE {where}", params).fetchone()[0])
                          for text, where, params in clauses(self.checked)]
            total = con.execute(self.count_sql, self.count_params).fetchone()[0]
        used = _fields_used(self.checked)
        return Explained(explain(self.checked), self.catalog.tz, self.sql, self.params, per_clause, total,
                         keys=[(f.name, f.type) for f in used],
                         columns=[(quote(f.column), f.name, f.type) for f in used])


def _fields_used(checked) -> list[S.Field]:
    """The catalog fields the checked query reads, in query order (free text: every text key)."""
    from ..query import Pred
    from ..query.ast import find_all

    seen: dict[str, S.Field] = {}
    for p in find_all(checked.root, Pred):
        for f in (p.target, *p.over):
            if isinstance(f, S.Field):
                seen.setdefault(f.name, f)
    return list(seen.values())


def key_examples(con, source: str = "images", convert=None):
    """The query checker's ``examples``: a key's two most common values (numbers and datetimes:
    its smallest and largest), read from ``source`` (the catalog's images, or a published table's
    ``read_parquet(…)``) when a help line needs them; ``convert`` maps each value read."""
    from .connection import quote

    def examples(f) -> list:
        c = quote(f.column)
        try:
            if f.kind.ordered:
                got = list(con.execute(f"SELECT min({c}), max({c}) FROM {source}").fetchone())
            else:
                got = [r[0] for r in con.execute(
                    f"SELECT v FROM (SELECT {f.kind.each(c)} AS v FROM {source} WHERE {c} IS NOT NULL) GROUP BY v "
                    f"ORDER BY count(*) DESC, v LIMIT 2").fetchall()]
        except duckdb.Error:
            return []
        return [convert(v) for v in got] if convert else got

    return examples


def re2_problem(con):
    """The query checker's ``regex_problem`` for DuckDB: why RE2 rejects a pattern, or None.

    The pure checker only approximates RE2 with Python's ``re``, which accepts lookarounds and
    backreferences; without this, ``path:/(?=a)/`` reached the user as a raw DuckDB error."""

    def problem(pattern: str) -> str | None:
        try:
            con.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as exc:
            return str(exc).split("Error: ", 1)[-1].strip().splitlines()[0]
        return None

    return problem


def run_search(catalog, text: str, *, columns: Sequence[str] = (), sort: str | None = None,
               limit: int | None = None, offset: int | None = None, now: datetime | None = None,
               sample: tuple[str, int] | None = None, after: str | None = None) -> SearchResult:
    """``sample=(prefix, n)``: only the ``n`` matches with the smallest ``md5(prefix || path)``
    (export's ``--sample``; see ``query.compile_select``)."""
    from ..query import check, parse

    reader = _Reader(catalog)
    try:
        schema = kept_schema(catalog.path) if catalog.path.exists() else None
        if schema is None:
            schema = read_schema(reader.get(), catalog.path)
        # the connection is opened only if the checker asks (a regex to judge, examples for a
        # help line): a warm search attaches the catalog once, to run its SQL
        checked = check(parse(text), schema, now=now or catalog.now(), tz=catalog.tz, text=text,
                        regex_problem=lambda pattern: re2_problem(reader.get())(pattern),
                        examples=lambda f: key_examples(reader.get())(f))
    except QueryError as exc:
        exc.query = exc.query or text
        raise
    finally:
        reader.close()
    if offset is not None and offset < 0:
        raise UsageError(f"offset must be 0 or more, got {offset}")
    order = _sort(schema, sort)
    if after is not None and any(target != "path" for target, _ in order or ()):
        _cursor_exists(catalog, after)
    return SearchResult(catalog, text, checked, schema, _columns(schema, columns), order, limit,
                        offset, sample, after)


def _cursor_exists(catalog, path: str) -> None:
    """Sorted by a key, the next page starts after the values of the image at ``after``: it must
    still be in the catalog (in the path order any path will do)."""
    with catalog.reading() as con:
        found = con.execute("SELECT 1 FROM images WHERE path = $1 LIMIT 1", [path]).fetchone()
    if found is None:
        raise UsageError(f"'after' names {path!r}, which is not in the catalog (removed since the page was shown?)",
                         help="start again from the first page, or page with offset")


class _Reader:
    """One read-only connection to the catalog, opened on first use."""

    def __init__(self, catalog) -> None:
        self.catalog, self.con = catalog, None

    def get(self):
        if self.con is None:
            self.con = self.catalog.open_reader()
        return self.con

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def _columns(schema: S.Schema, names: Sequence[str]) -> list[S.Field]:
    out = []
    for name in names:
        if name in ("path", "media_id"):
            continue
        out.append(schema.require(name, "--columns"))
    return out


def _sort(schema: S.Schema, spec: str | None):
    if not spec:
        return None
    out = []
    for part in spec.split(","):
        name, _, direction = part.strip().partition(":")
        if direction not in ("", "asc", "desc"):
            raise UsageError(f"--sort {part!r}: direction must be asc or desc", help="e.g. --sort quality_score:desc")
        out.append(("path" if name == "path" else schema.require(name, "--sort"), direction == "desc"))
    return out

