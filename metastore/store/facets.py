"""Facets: what a result contains, key by key, as plain data (rendering lives in ``render.py``).

The WHERE clause comes from the query compiler; this module only wraps it in aggregates: one
scan for the totals and ranges of every key, then one ``GROUP BY`` per key inside DuckDB.

* string, enum, link: the ``top`` most common values, ``(other)`` for the rest, ``(missing)``.
* multi-enum: images per option (an image counts once per option it holds), ``(other)`` for
  the options beyond ``top`` (summed per option), ``(missing)`` for no options.
* boolean: true, false, ``(missing)``.
* number: a histogram of about ``bins`` bins of a round width (1, 2 or 5 × 10^k; at least 1 when
  every value is a whole number), each ``[lower, upper)``; NaN and ±inf count as ``(other)``.
* datetime: bins of a whole calendar unit (minute … year), the finest that gives at most
  ``bins`` bins for the result's range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Sequence

from .. import schema as S
from ..errors import NotFoundError, UsageError
from .connection import quote

#: Datetime bin units, finest first, with their approximate length in seconds.
UNITS = (("minute", 60), ("hour", 3600), ("day", 86400), ("week", 7 * 86400), ("month", 2629746),
         ("quarter", 7889238), ("year", 31556952))


@dataclass
class Bucket:
    """One bar. ``kind`` is ``value`` (``value`` holds it), ``bin`` (``[lower, upper)``),
    ``missing`` or ``other``."""

    kind: str
    count: int
    value: object = None
    lower: object = None
    upper: object = None


@dataclass
class Facet:
    key: str
    type: str
    total: int  # images in the result
    buckets: list[Bucket] = field(default_factory=list)
    histogram: bool = False
    step: float | None = None  # number bin width
    unit: str | None = None  # datetime bin unit

    @property
    def missing(self) -> int:
        return sum(b.count for b in self.buckets if b.kind == "missing")


def nice_step(span: float, bins: int, integers: bool = False) -> float:
    """A round bin width (1, 2, 2.5 or 5 × 10^k) giving at most about ``bins`` bins over ``span``."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(bins, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-12))
    if integers:
        step = max(1.0, math.ceil(step))
    return step


def _add(d: datetime, unit: str) -> datetime:
    if unit in ("minute", "hour", "day", "week"):
        return d + timedelta(**{unit + "s": 1})
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    m = d.month - 1 + months
    return d.replace(year=d.year + m // 12, month=m % 12 + 1)


def run_facets(catalog, keys: Sequence[str], query: str = "", *, bins: int = 20, top: int = 10,
               now: datetime | None = None) -> list[Facet]:
    """Facets of ``keys`` among the images matching ``query`` (one read-only connection)."""
    from ..errors import QueryError
    from ..query import check_text, compile_where
    from .fields import load_schema
    from .search import check_regexes

    if not keys:
        raise UsageError("facets needs at least one key", help="e.g. metastore facets location weather")
    if bins < 1 or top < 1:
        raise UsageError("--bins and --top must be at least 1")
    with catalog.reading() as con:
        schema = load_schema(con, with_tags=False)
        fields = []
        for k in keys:
            f = schema.get(k)
            if f is None:
                near = schema.suggest(k)
                raise NotFoundError(f"unknown key '{k}'", help=f"did you mean '{near[0].name}'?" if near
                                    else "list keys with: metastore keys")
            fields.append(f)
        try:
            checked = check_text(query, schema, now=now or catalog.now(), tz=catalog.tz)
            check_regexes(con, checked)
        except QueryError as exc:
            exc.query = exc.query or query
            raise
        where, params = compile_where(checked)
        # One scan for the result's size and each key's presence and range. Plain min/max are
        # finite unless the key holds NaN or ±inf (DuckDB orders NaN above +inf); then _facet
        # asks again for the finite range.
        aggs = ["count(*)"]
        for f in fields:
            c = quote(f.column)
            if f.type == S.MULTI_ENUM:
                aggs.append(f"count({c})")  # stored lists are never empty (an empty one is NULL)
            elif f.type in (S.NUMBER, S.DATETIME):
                aggs += [f"count({c})", f"min({c})", f"max({c})"]
            else:
                aggs.append(f"count({c})")
        stats = list(con.execute(f"SELECT {', '.join(aggs)} FROM images WHERE {where}", params).fetchone())
        total = stats.pop(0)
        out = []
        for f in fields:
            n = 3 if f.type in (S.NUMBER, S.DATETIME) else 1
            st, stats = stats[:n], stats[n:]
            out.append(_facet(con, f, st, total, where, params, bins, top))
    return out


def _facet(con, f: S.Field, st: list, total: int, where: str, params: list, bins: int, top: int) -> Facet:
    c = quote(f.column)
    p = len(params)
    facet = Facet(f.name, f.type, total)
    present = st[0]
    if f.type == S.BOOLEAN:
        got = dict(con.execute(f"SELECT {c}, count(*) FROM images WHERE {where} AND {c} IS NOT NULL GROUP BY 1",
                               params).fetchall())
        facet.buckets = [Bucket("value", got.get(True, 0), True), Bucket("value", got.get(False, 0), False)]
    elif f.type == S.NUMBER:
        _, lo, hi = st
        facet.histogram = True
        finite = present
        if present and not (math.isfinite(lo) and math.isfinite(hi)):
            lo, hi, finite = con.execute(
                f"SELECT min({c}), max({c}), count(*) FROM images WHERE {where} AND isfinite({c})", params).fetchone()
        if finite:
            step = nice_step(hi - lo, bins)
            if step < 1 and con.execute(f"SELECT coalesce(bool_and({c} = trunc({c})), true) FROM images "
                                        f"WHERE {where} AND isfinite({c})", params).fetchone()[0]:
                step = 1.0  # whole numbers never get fractional bins
            start = math.floor(lo / step) * step
            nbins = max(1, int(math.floor((hi - start) / step)) + 1)
            rows = con.execute(
                f"SELECT floor(({c} - ${p + 1}) / ${p + 2})::BIGINT AS b, count(*) FROM images "
                f"WHERE {where} AND isfinite({c}) GROUP BY b", params + [start, step]).fetchall()
            counts = [0] * nbins
            for b, k in rows:
                counts[min(max(int(b), 0), nbins - 1)] += k
            facet.step = step
            facet.buckets = [Bucket("bin", k, lower=_round(start + i * step, step),
                                    upper=_round(start + (i + 1) * step, step)) for i, k in enumerate(counts)]
        if present - finite:
            facet.buckets.append(Bucket("other", present - finite))
    elif f.type == S.DATETIME:
        _, lo, hi = st
        facet.histogram = True
        if lo is not None:
            span = (hi - lo).total_seconds()
            unit = next((u for u, secs in UNITS if span / secs + 1 <= bins), "year")
            rows = dict(con.execute(f"SELECT date_trunc('{unit}', {c}) AS b, count(*) FROM images "
                                    f"WHERE {where} AND {c} IS NOT NULL GROUP BY b", params).fetchall())
            facet.unit = unit
            b = min(rows)
            while b <= hi:
                nxt = _add(b, unit)
                facet.buckets.append(Bucket("bin", rows.get(b, 0), lower=b, upper=nxt))
                b = nxt
    elif f.type in (S.ENUM, S.MULTI_ENUM):
        # at most MAX_OPTIONS options: count them all, cut to the top here. Stored multi-enum
        # lists hold distinct items (the import and edits normalise them), so unnest counts images.
        item = f"unnest({c})" if f.type == S.MULTI_ENUM else c
        rows = con.execute(f"SELECT {item} AS v, count(*) AS n FROM images WHERE {where} GROUP BY v",
                           params).fetchall()
        rows = sorted((r for r in rows if r[0] is not None), key=lambda r: (-r[1], r[0]))
        facet.buckets = [Bucket("value", n, v) for v, n in rows[:top]]
        rest = sum(n for _, n in rows[top:])
        if rest:
            facet.buckets.append(Bucket("other", rest))
    else:
        rows = con.execute(
            f"SELECT {c} AS v, count(*) AS n FROM images WHERE {where} AND {c} IS NOT NULL "
            f"GROUP BY v ORDER BY n DESC, v LIMIT ${p + 1}", params + [top]).fetchall()
        facet.buckets = [Bucket("value", n, v) for v, n in rows]
        rest = present - sum(n for _, n in rows)
        if rest:
            facet.buckets.append(Bucket("other", rest))
    if total - present:
        facet.buckets.append(Bucket("missing", total - present))
    return facet


def _round(x: float, step: float) -> float:
    digits = max(0, -math.floor(math.log10(step)) + 2) if step > 0 else 6
    return round(x, digits) + 0.0


__all__ = ["Bucket", "Facet", "UNITS", "nice_step", "run_facets"]
