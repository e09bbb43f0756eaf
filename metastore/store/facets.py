"""Facets: what a result contains, key by key, as plain data (rendering lives in ``render.py``).

* string, enum, link: the ``top`` most common values, ``(other)`` for the rest, ``(missing)``.
* multi-enum: images per option (an image counts once per option it holds), ``(other)`` for
  the options beyond ``top`` (summed per option), ``(missing)`` for no options.
* boolean: true, false, ``(missing)``.
* number: a histogram of about ``bins`` bins of a round width (1, 2, 2.5 or 5 × 10^k; at least 1
  when every value is a whole number), each ``[lower, upper)``; NaN and ±inf count as ``(other)``.
* datetime: bins of a whole calendar unit (minute … year), the finest that gives at most
  ``bins`` bins for the result's range.

How it runs, on one read-only connection (the WHERE clause comes from the query compiler):

1. One query for the whole catalog's range of each number and datetime key (no WHERE: cheap).
   It picks each key's *fine bins*: a power of ten, or a calendar unit, giving at most
   ``FINE_BINS`` bins over the catalog.
2. One statement, one ``UNION ALL`` branch per key: a ``GROUP BY`` that keeps the NULL group,
   so each key's presence and the result's size come with its counts. Numbers and datetimes
   are grouped by fine bin; the result's round bins are unions of fine bins, added up here.
   When the query filters and a 1% sample of the catalog says it keeps at most
   ``MATERIALIZE_AT`` of the rows, the matching rows' columns are materialized once (a CTE)
   and every branch reads them: the filter runs once instead of once per key.
3. The round step or calendar unit comes from the result's true range, never from the fine
   bins: when the fine bins leave it open (a result much narrower than the catalog, or a range
   near a boundary), one more query measures the range, and a result too narrow for its fine
   bins counts finer ones; fractional number bins ask once more whether all values are whole.
   ``tests/test_facets_oracle.py`` checks every strategy against a plain-Python oracle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Sequence

from .. import schema as S
from .. import types as T
from ..errors import NotFoundError, UsageError
from .connection import quote

#: Datetime bin units, finest first, with their approximate length in seconds.
UNITS = (("minute", 60), ("hour", 3600), ("day", 86400), ("week", 7 * 86400), ("month", 2629746),
         ("quarter", 7889238), ("year", 31556952))
_ORDER = {u: i for i, (u, _) in enumerate(UNITS)}
#: Fine datetime units: each nests in every coarser unit of UNITS (weeks do not nest in months).
_FINE_UNITS = ("minute", "hour", "day", "month", "year")
#: The longest a fine unit lasts, in seconds.
_LONGEST = {"minute": 60, "hour": 3600, "day": 86400, "month": 31 * 86400, "year": 366 * 86400}

#: Number and datetime keys are first grouped into at most about this many fine bins.
FINE_BINS = 2000
#: A filtered result is materialized once for all keys when a 1% sample of a catalog of at
#: least ``SAMPLE_FROM`` images says the filter keeps at most this share of them.
MATERIALIZE_AT = 0.25
SAMPLE_FROM = 100_000
#: ... and the sample holds at least this many rows.
SAMPLE_MIN_SEEN = 2048
_EXACT = 2 ** 50  # fine bin indices stay whole numbers a double holds exactly

#: ``facets tags`` counts the images' tags (images per tag, like a multi-enum key).
TAGS_KEY = "tags"
TAGS = S.Field(TAGS_KEY, "tags", 0)


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
    from .fields import read_schema
    from .search import key_examples, re2_problem

    if not keys:
        raise UsageError("facets needs at least one key", help="e.g. metastore facets location weather")
    if bins < 1 or top < 1:
        raise UsageError("--bins and --top must be at least 1")
    with catalog.reading() as con:
        schema = read_schema(con, catalog.path)
        fields = []
        for k in keys:
            f = schema.get(k)
            if f is None and k == TAGS_KEY:  # the images' tags, unless a key is named so
                f = TAGS
            if f is None:
                near = schema.suggest(k)
                raise NotFoundError(f"unknown key '{k}'", help=f"did you mean '{near[0].name}'?" if near
                                    else "list keys with: metastore keys")
            fields.append(f)
        try:
            checked = check_text(query, schema, now=now or catalog.now(), tz=catalog.tz,
                                 regex_problem=re2_problem(con), examples=key_examples(con))
        except QueryError as exc:
            exc.query = exc.query or query
            raise
        where, params = compile_where(checked)
        run = _Run(con, where, params, filtered=checked.root is not None, bins=bins, top=top)
        real = [f for f in fields if f is not TAGS]
        out = run.facets(real, schema.image_count) if real else []
        if len(real) < len(fields):
            out.insert(fields.index(TAGS), _tags(con, where, params, top))
        return out


@dataclass
class _Key:
    """One key being faceted: its branch's rows, then its facet."""

    field: S.Field
    facet: Facet
    rows: list = field(default_factory=list)
    present: int = 0  # images of the result with a value
    exp: int = 0  # number: fine bins are 10^exp wide
    unit: str = "year"  # datetime: fine bins are one unit long


#: How a key is counted: its type's ``facet`` (``types.TYPES``). TOP: the most common values (any
#: number of them); OPTIONS: every option; ITEMS: every option of a list, per image; TRUTH:
#: true and false; HISTOGRAM: numeric bins; TIMELINE: calendar bins.
TOP, OPTIONS, ITEMS, TRUTH, HISTOGRAM, TIMELINE = "top", "options", "items", "boolean", "histogram", "timeline"


def _kind(f: S.Field) -> str:
    return T.TYPES[f.type].facet


class _Run:
    def __init__(self, con, where: str, params: list, *, filtered: bool, bins: int, top: int) -> None:
        self.con, self.where, self.params = con, where, params
        self.filtered, self.bins, self.top = filtered, bins, top

    def facets(self, fields: Sequence[S.Field], images: int) -> list[Facet]:
        keys = [_Key(f, Facet(f.name, f.type, 0)) for f in fields]
        # branches: one per key, and one more per multi-enum key when filtered
        n = len(keys) + (sum(_kind(k.field) == ITEMS for k in keys) if self.filtered else 0)
        materialize = self._prelude(keys, sample=self.filtered and n >= 2 and images >= SAMPLE_FROM)
        extra: list = []
        branches = [b for i, key in enumerate(keys) for b in self._branches(i, key, extra)]
        if self.filtered and all(_kind(k.field) == ITEMS for k in keys):
            branches.append(_select(-1, "count(*)", "{src}"))  # nothing else gives the result's size
        src, cte = f"images WHERE {self.where}", ""
        if materialize:
            cols = ", ".join(dict.fromkeys(quote(k.field.column) for k in keys))
            src, cte = "sel", f"WITH sel AS MATERIALIZED (SELECT {cols} FROM images WHERE {self.where}) "
        sql = cte + " UNION ALL ".join(f"SELECT * FROM ({b.format(src=src)})" for b in branches)
        total = None if self.filtered else images
        for row in self.con.execute(sql, self.params + extra).fetchall():
            if row[0] < 0:
                total = row[5]
            else:
                keys[row[0]].rows.append(row)
        for key in keys:
            got = self._finish(key)
            if total is None and got is not None:
                total = got
        total = total or 0
        for key in keys:
            key.facet.total = total
            if total - key.present:
                key.facet.buckets.append(Bucket("missing", total - key.present))
        return [k.facet for k in keys]

    # -- planning ----------------------------------------------------------------------------
    def _prelude(self, keys: list[_Key], sample: bool) -> bool:
        """One query: fine bins of every number and datetime key from the whole catalog's
        range, and (when ``sample``) whether a 1% sample says the filter keeps at most
        ``MATERIALIZE_AT`` of the rows. Returns that answer."""
        ranged = [k for k in keys if _kind(k.field) in (HISTOGRAM, TIMELINE)]
        cols = [quote(k.field.column) for k in ranged]
        aggs = [f"min({c}), max({c})" for c in cols]
        if sample:
            aggs.append(f"(SELECT [count(*) FILTER (WHERE {self.where}), count(*)] FROM images "
                        f"TABLESAMPLE 1% (system))")
        if not aggs:
            return False
        # FROM only for the ranges: the sample alone is a scalar subquery (one row, not one per image)
        got = self.con.execute("SELECT " + ", ".join(aggs) + (" FROM images" if ranged else ""),
                               self.params if sample else []).fetchone()
        for j, key in enumerate(ranged):
            lo, hi = got[2 * j], got[2 * j + 1]
            if lo is None:
                continue
            if _kind(key.field) == TIMELINE:
                span = (hi - lo).total_seconds()
                key.unit = next((u for u in _FINE_UNITS if span / dict(UNITS)[u] + 1 <= FINE_BINS), "year")
                continue
            if not (math.isfinite(lo) and math.isfinite(hi)):
                lo, hi = self.con.execute(f"SELECT min({cols[j]}), max({cols[j]}) FROM images "
                                          f"WHERE isfinite({cols[j]})").fetchone()
                if lo is None:
                    continue
            key.exp = _fine_exponent((hi - lo) / FINE_BINS, max(abs(lo), abs(hi)))
        if not sample:
            return False
        hit, seen = got[-1]
        return seen >= SAMPLE_MIN_SEEN and hit <= MATERIALIZE_AT * seen

    def _branches(self, i: int, key: _Key, extra: list) -> list[str]:
        """SQL of the key's branches (``{src}`` is the rows to read); columns are
        ``k, s (text), x (number), t (datetime), b (boolean), n, tot, pres``."""
        c, kind = quote(key.field.column), _kind(key.field)
        if kind == TOP:
            # any number of distinct values: cut to the top in SQL; the window sums run over
            # every group (NULL included) before the cut
            return [f"SELECT {i} AS k, v AS s, NULL::DOUBLE AS x, NULL::TIMESTAMP AS t, NULL::BOOLEAN AS b, n, "
                    f"sum(n) OVER () AS tot, sum(n) FILTER (WHERE v IS NOT NULL) OVER () AS pres "
                    f"FROM (SELECT {c} AS v, count(*) AS n FROM {{src}} GROUP BY v) "
                    f"ORDER BY v IS NULL DESC, n DESC, v LIMIT {int(self.top) + 1}"]
        if kind == OPTIONS:  # at most MAX_OPTIONS values: count them all
            return [_select(i, "count(*)", "{src}", s=c, group=2)]
        if kind == TRUTH:
            return [_select(i, "count(*)", "{src}", b=c, group=5)]
        if kind == ITEMS:
            # Stored lists hold distinct items and are never empty (an empty one is NULL), so
            # unnest counts images per option; the second branch counts images with a value.
            out = [_select(i, "count(*)", "{src}", s=f"unnest({c})", group=2)]
            if self.filtered:  # else fields.count says it (a checked invariant)
                out.append(_select(i, f"count({c})", "{src}"))
            return out
        if kind == HISTOGRAM:
            extra.append(10.0 ** abs(key.exp))
            return [_select(i, "count(*)", "{src}", x=_fine_sql(c, key.exp, len(self.params) + len(extra)),
                            group=3)]
        return [_select(i, "count(*)", "{src}", t=f"date_trunc('{key.unit}', {c})", group=4)]

    # -- finishing ---------------------------------------------------------------------------
    def _finish(self, key: _Key) -> int | None:
        """Fill ``key.facet`` from its rows; the result's size when the rows tell it."""
        f, facet, rows, kind = key.field, key.facet, key.rows, _kind(key.field)
        if kind == TOP:
            key.present = int(rows[0][7] or 0) if rows else 0
            _top(facet, [(r[1], r[5]) for r in rows if r[1] is not None], self.top, key.present)
            return int(rows[0][6]) if rows else 0
        if kind == ITEMS:
            options = [(r[1], r[5]) for r in rows if r[1] is not None]
            counted = [r[5] for r in rows if r[1] is None]
            key.present = counted[0] if counted else f.count
            _top(facet, options, self.top, sum(n for _, n in options))
            return None
        total = sum(r[5] for r in rows)
        if kind in (OPTIONS, TRUTH):
            col = 1 if kind == OPTIONS else 4
            values = [(r[col], r[5]) for r in rows if r[col] is not None]
            key.present = sum(n for _, n in values)
            if kind == TRUTH:
                got = dict(values)
                facet.buckets = [Bucket("value", got.get(True, 0), True), Bucket("value", got.get(False, 0), False)]
            else:
                _top(facet, values, self.top, key.present)
        elif kind == HISTOGRAM:
            key.present = self._number(key, {r[2]: r[5] for r in rows})
        else:
            key.present = self._datetime(key, {r[3]: r[5] for r in rows})
        return total

    def _grouped(self, select: str, extra: Sequence = ()) -> list[tuple]:
        """A second-round ``SELECT {select} … GROUP BY 1`` over the result for one key."""
        return self.con.execute(f"SELECT {select} FROM images WHERE {self.where} GROUP BY 1",
                                self.params + list(extra)).fetchall()

    def _number(self, key: _Key, groups: dict) -> int:
        """Round bins as unions of fine bins; a result too narrow for them asks again finer."""
        facet, c, exp = key.facet, quote(key.field.column), key.exp
        facet.histogram = True
        present = sum(n for b, n in groups.items() if b is not None)
        step = None
        while True:
            finite = {int(b): n for b, n in groups.items() if b is not None and math.isfinite(b)}
            if not finite:
                break
            b_lo, b_hi = min(finite), max(finite)
            if step is None:
                # the result's range is within a fine bin of d fine bins: measure it when that
                # leaves the step open (the step must not depend on the fine bins)
                d, w = b_hi - b_lo, 10.0 ** exp
                step = nice_step(d * w, self.bins)
                if d < 2 or nice_step((d - 1) * w, self.bins) != nice_step((d + 1) * w, self.bins):
                    lo, hi = self.con.execute(f"SELECT min({c}), max({c}) FROM images "
                                              f"WHERE {self.where} AND isfinite({c})", self.params).fetchone()
                    step = nice_step(hi - lo, self.bins)
                if step < 1 and self.con.execute(
                        f"SELECT coalesce(bool_and({c} = trunc({c})), true) FROM images "
                        f"WHERE {self.where} AND isfinite({c})", self.params).fetchone()[0]:
                    step = 1.0  # whole numbers never get fractional bins
            step_exp = math.floor(math.log10(step) + 1e-9)
            need = step_exp - (0 if round(step / 10.0 ** step_exp, 6) in (1, 2, 5) else 1)
            if need < exp:  # the fine bins are coarser than this result's bins: ask again
                # finer, but never more than about max(FINE_BINS, 10 × bins) bins over the
                # result's range (less than b_hi - b_lo + 1 fine bins); a later round may refine
                width = (b_hi - b_lo + 1) * 10.0 ** exp / max(FINE_BINS, 10 * self.bins)
                magnitude = max(abs(_edge(b_lo, exp)), abs(_edge(b_hi + 1, exp)))
                finer = max(_fine_exponent(0, magnitude, want=need),
                            min(_fine_exponent(width, magnitude), exp - 1))  # at least 10 × finer
                if finer < exp:
                    exp = finer
                    groups = dict(self._grouped(f"{_fine_sql(c, exp, len(self.params) + 1)}, count(*)",
                                                [10.0 ** abs(exp)]))
                    continue
                step = 10.0 ** exp  # values too large for finer bins: bins one fine bin wide
            r = max(1, round(step / 10.0 ** exp))
            first, last = b_lo // r, b_hi // r
            counts = [0] * (last - first + 1)
            for b, n in finite.items():
                counts[b // r - first] += n
            facet.step = r * 10.0 ** exp
            facet.buckets = [Bucket("bin", n, lower=_round(_edge((first + i) * r, exp), facet.step),
                                    upper=_round(_edge((first + i + 1) * r, exp), facet.step))
                             for i, n in enumerate(counts)]
            break
        finite_n = sum(n for b, n in groups.items() if b is not None and math.isfinite(b))
        if present - finite_n:
            facet.buckets.append(Bucket("other", present - finite_n))
        return present

    def _datetime(self, key: _Key, groups: dict) -> int:
        """Bins of the finest calendar unit giving at most ``bins`` bins over the result's
        range, as unions of fine bins (the range is measured when the fine bins leave the unit open)."""
        facet = key.facet
        facet.histogram = True
        groups = {b: n for b, n in groups.items() if b is not None}
        present = sum(groups.values())
        if not groups:
            return present
        lo, hi = min(groups), max(groups)
        span, fine = (hi - lo).total_seconds(), _LONGEST[key.unit]
        unit = _unit(span, self.bins)
        if _ORDER[unit] < _ORDER[key.unit] or unit != _unit(span + fine, self.bins) \
                or unit != _unit(max(span - fine, 0), self.bins):
            # the fine bins tell the result's range within a fine bin: measure it when that
            # leaves the unit open (the unit must not depend on the fine bins), then group
            c = quote(key.field.column)
            lo, hi = self.con.execute(f"SELECT min({c}), max({c}) FROM images WHERE {self.where}",
                                      self.params).fetchone()
            unit = _unit((hi - lo).total_seconds(), self.bins)
            if _ORDER[unit] < _ORDER[key.unit]:
                groups = dict(self._grouped(f"date_trunc('{unit}', {c}), count(*)"))
                groups.pop(None, None)
        counts: dict[datetime, int] = {}
        for b, n in groups.items():
            start = _trunc(b, unit)
            counts[start] = counts.get(start, 0) + n
        facet.unit = unit
        b, last = min(counts), max(counts)
        while b <= last:
            nxt = _add(b, unit)
            facet.buckets.append(Bucket("bin", counts.get(b, 0), lower=b, upper=nxt))
            b = nxt
        return present


def _unit(span: float, bins: int) -> str:
    """The finest calendar unit giving at most ``bins`` bins over ``span`` seconds."""
    return next((u for u, secs in UNITS if span / secs + 1 <= bins), "year")


def _select(k: int, n: str, src: str, *, s: str = "NULL::VARCHAR", x: str = "NULL::DOUBLE",
            t: str = "NULL::TIMESTAMP", b: str = "NULL::BOOLEAN", group: int | None = None) -> str:
    """One branch row shape: ``k, s, x, t, b, n, tot, pres`` grouped by column ``group``."""
    sql = (f"SELECT {k} AS k, {s} AS s, {x} AS x, {t} AS t, {b} AS b, {n} AS n, "
           f"NULL::BIGINT AS tot, NULL::BIGINT AS pres FROM {src}")
    return sql + (f" GROUP BY {group}" if group else "")


def _top(facet: Facet, rows: list[tuple], top: int, present: int) -> None:
    """The ``top`` most common values (ties by value) and ``(other)`` for the rest of ``present``."""
    rows = sorted(rows, key=lambda r: (-r[1], r[0]))[:top]
    facet.buckets = [Bucket("value", n, v) for v, n in rows]
    rest = present - sum(n for _, n in rows)
    if rest:
        facet.buckets.append(Bucket("other", rest))


def _fine_exponent(width: float, magnitude: float, want: int | None = None) -> int:
    """``e`` for fine bins ``10^e`` wide: at least ``width`` (or exactly ``10^want``), but coarse
    enough that ``magnitude / 10^e`` stays an exact whole number in a double."""
    exp = want if want is not None else (math.ceil(math.log10(width)) if width > 0 else 0)
    while magnitude / 10.0 ** exp > _EXACT:
        exp += 1
    return exp


def _fine_sql(c: str, exp: int, param: int) -> str:
    """The fine bin index of column ``c`` (``$param`` is ``10^|exp|``): bin ``b`` holds
    ``b × 10^e <= v < (b + 1) × 10^e``, NULL stays NULL, NaN and ±inf stay non-finite.

    A decimal such as 0.29 is stored as the nearest double, and 0.29 × 100 is 28.999…: a value
    within a billionth of a fine bin below an edge counts as on it, so 0.29 lands in
    ``[0.29, 0.30)`` as written."""
    return f"floor({c} {'*' if exp < 0 else '/'} ${param} + 1e-9)"


def _edge(b: int, exp: int) -> float:
    """The lower edge of fine bin ``b``: the double nearest to ``b × 10^exp``."""
    return b / 10.0 ** -exp if exp < 0 else b * 10.0 ** exp


def _trunc(d: datetime, unit: str) -> datetime:
    """``date_trunc(unit, d)`` as DuckDB computes it (weeks start on Monday)."""
    d = d.replace(second=0, microsecond=0)
    if unit == "minute":
        return d
    d = d.replace(minute=0)
    if unit == "hour":
        return d
    d = d.replace(hour=0)
    if unit == "day":
        return d
    if unit == "week":
        return d - timedelta(days=d.weekday())
    month = {"month": d.month, "quarter": (d.month - 1) // 3 * 3 + 1, "year": 1}[unit]
    return d.replace(month=month, day=1)


def _round(x: float, step: float) -> float:
    digits = max(0, -math.floor(math.log10(step)) + 2) if step > 0 else 6
    return round(x, digits) + 0.0


__all__ = ["Bucket", "Facet", "UNITS", "nice_step", "run_facets"]


def _tags(con, where: str, params: list, top: int) -> Facet:
    """Images per tag among the result (an image counts once per tag it holds), ``(other)``
    for the tags beyond ``top`` (summed per tag), ``(missing)`` for images without tags."""
    rows = con.execute(f"SELECT t, count(*) FROM (SELECT unnest(tags) AS t FROM images WHERE {where}) "
                       f"GROUP BY t", params).fetchall()
    total, tagged = con.execute(f"SELECT count(*), count(*) FILTER (WHERE len(tags) > 0) FROM images "
                                f"WHERE {where}", params).fetchone()
    facet = Facet(TAGS_KEY, "tags", total)
    _top(facet, rows, top, sum(n for _, n in rows))
    if total - tagged:
        facet.buckets.append(Bucket("missing", total - tagged))
    return facet
