"""Facets equal a plain-Python oracle over generated rows, whatever the strategy.

Every example imports its rows into a real catalog file, then asks ``Catalog.facets`` for every
key under each strategy of ``metastore.store.facets`` (defaults; the filter materialized once;
very few fine bins, so numbers and datetimes need the second-round queries). Each answer must
satisfy the oracle's properties (totals, (missing), top values and (other), histogram bins that
are contiguous, round, and hold exactly the values in ``[lower, upper)``), and the answers of
all strategies must be identical.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import tempfile
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metastore import Catalog
from metastore.store import facets as F

pytestmark = pytest.mark.slow  # the fast run (-m 'not slow') leaves it out; CI runs it

KEYS = ["loc", "score", "taken", "weather", "ok", "defects"]
TYPES = {"loc": "string", "score": "number", "taken": "datetime", "weather": "enum", "ok": "boolean",
         "defects": "multi-enum"}
STRINGS = ["dock-a", "dock-b", "yard", "Yard", "gate 2", "café"]
WEATHER = ["rain", "sun", "fog", "snow"]
DEFECTS = ["rust", "dent", "crack", "scratch"]

#: name -> module globals of metastore.store.facets
STRATEGIES = {
    "default": {},
    "materialized": {"SAMPLE_FROM": 0, "MATERIALIZE_AT": 2.0, "SAMPLE_MIN_SEEN": 0},
    "fine": {"FINE_BINS": 3},
    "fine+materialized": {"FINE_BINS": 3, "SAMPLE_FROM": 0, "MATERIALIZE_AT": 2.0, "SAMPLE_MIN_SEEN": 0},
}
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


# -- generated rows ----------------------------------------------------------------------------

def _maybe(value, p_missing=0.2):
    return st.one_of(st.none(), value) if p_missing else value


@st.composite
def number_texts(draw) -> st.SearchStrategy:
    """A strategy for one example's numbers, as written in the CSV: ``offset + k × unit``."""
    unit = draw(st.sampled_from(["1", "1", "0.5", "0.25", "0.1", "0.01", "0.001", "7", "1000", "1000000"]))
    offset = draw(st.sampled_from(["0", "0", "-50", "3.5", "1000000", "-1000000", "0.001"]))
    reach = draw(st.sampled_from([3, 20, 200, 5000]))
    unit_d, offset_d = Decimal(unit), Decimal(offset)

    def text(k: int) -> str:
        v = offset_d + k * unit_d
        return "0" if v == 0 else str(v)

    return st.integers(-reach, reach).map(text)


@st.composite
def datetime_texts(draw) -> st.SearchStrategy:
    """A strategy for one example's datetimes: ``base + k × step`` (minutes … years apart)."""
    base = draw(st.sampled_from([datetime(2024, 1, 5, 10, 0), datetime(2023, 12, 31, 23, 59, 30),
                                 datetime(2024, 2, 28, 12, 0), datetime(1999, 6, 15, 0, 0)]))
    step = draw(st.sampled_from([timedelta(seconds=37), timedelta(minutes=1), timedelta(minutes=7),
                                 timedelta(hours=1), timedelta(hours=5), timedelta(days=1), timedelta(days=13),
                                 timedelta(days=90), timedelta(days=400)]))
    reach = draw(st.sampled_from([2, 10, 60]))
    return st.integers(0, reach).map(lambda k: (base + k * step).strftime("%Y-%m-%dT%H:%M:%SZ"))


@st.composite
def rows(draw, max_rows: int = 30) -> list[dict]:
    numbers = draw(number_texts())
    times = draw(datetime_texts())
    row = st.fixed_dictionaries({
        "loc": _maybe(st.sampled_from(STRINGS)),
        "score": _maybe(numbers),
        "taken": _maybe(times),
        "weather": _maybe(st.sampled_from(WEATHER)),
        "ok": _maybe(st.booleans()),
        # [] is stored as no value
        "defects": _maybe(st.lists(st.sampled_from(DEFECTS), max_size=4, unique=True)),
    })
    out = draw(st.lists(row, min_size=1, max_size=max_rows))
    for key, value in (("loc", "yard"), ("score", "0"), ("taken", "2024-01-05T10:00:00Z"), ("weather", "rain"),
                       ("ok", True), ("defects", ["rust"])):
        if all(r[key] in (None, []) for r in out):  # every key has a value somewhere
            out[draw(st.integers(0, len(out) - 1))][key] = value
    return out


def _cell(key: str, v) -> str:
    if v is None:
        return ""
    if key == "ok":
        return "true" if v else "false"
    if key == "defects":
        return json.dumps(v)
    return v


@contextlib.contextmanager
def catalog_of(records: list[dict]):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["path", *KEYS])
            for i, r in enumerate(records):
                w.writerow([f"img{i}.jpg", *(_cell(k, r[k]) for k in KEYS)])
        cat = Catalog(Path(tmp) / "c.duckdb")
        report = cat.import_files([path], types=TYPES)
        assert report.exit_code == 0
        yield cat


# -- the oracle --------------------------------------------------------------------------------

def value_of(key: str, r: dict):
    """The Python value of ``r[key]`` as stored (None when missing)."""
    v = r[key]
    if v is None or v == []:
        return None
    if key == "score":
        return float(v)
    if key == "taken":
        return datetime.fromisoformat(v.replace("Z", ""))
    return v


@st.composite
def queries(draw, records: list[dict]) -> tuple[str, object]:
    """A query and the Python predicate of the rows it matches."""
    kinds = ["", "ok", "not-weather", "weather", "score"]
    kind = draw(st.sampled_from(kinds))
    if kind == "":
        return "", lambda r: True
    if kind == "ok":
        return "ok:true", lambda r: r["ok"] is True
    present = sorted({r["weather"] for r in records if r["weather"]})
    if kind in ("weather", "not-weather") and present:
        opt = draw(st.sampled_from(present))
        if kind == "weather":
            return f"weather:{opt}", lambda r: r["weather"] == opt
        return f"-weather:{opt}", lambda r: r["weather"] != opt
    scores = sorted({value_of("score", r) for r in records if r["score"] is not None})
    if scores:
        i = draw(st.integers(0, len(scores) - 1))
        x = next(r["score"] for r in records if r["score"] is not None and float(r["score"]) == scores[i])
        return f"score>{x}", lambda r: r["score"] is not None and float(r["score"]) > float(x)
    return "", lambda r: True


def expected_values(facet, values: list, top: int, boolean: bool = False, items: bool = False) -> list:
    """``(kind, count, value)`` of a value facet: top values by (-count, value), (other), (missing)."""
    present = [v for v in values if v is not None]
    missing = len(values) - len(present)
    if items:  # multi-enum: images per option
        counts = Counter(o for v in present for o in v)
    else:
        counts = Counter(present)
    if boolean:
        out = [("value", counts[True], True), ("value", counts[False], False)]
    else:
        shown = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        out = [("value", n, v) for v, n in shown]
        other = sum(counts.values()) - sum(n for _, n in shown)
        if other:
            out.append(("other", other, None))
    if missing:
        out.append(("missing", missing, None))
    return out


def round_step(span: float, n_bins: int) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k giving at most ``n_bins`` bins over ``span`` (1 for 0)."""
    if span == 0:
        return 1.0
    k = math.floor(math.log10(span / n_bins)) - 1
    while True:
        for m in (1, 2, 2.5, 5):
            if m * 10.0 ** k * n_bins >= span * (1 - 1e-12):
                return m * 10.0 ** k
        k += 1


def _in_bins(bins: list, v) -> int:
    hits = [i for i, b in enumerate(bins) if b.lower <= v < b.upper]
    assert len(hits) == 1, f"{v!r} is in bins {hits} of {[(b.lower, b.upper) for b in bins]}"
    return hits[0]


def check_number(facet, values: list, n_bins: int) -> None:
    present = [v for v in values if v is not None]
    assert facet.histogram
    bins = [b for b in facet.buckets if b.kind == "bin"]
    assert [b.kind for b in facet.buckets] == ["bin"] * len(bins) + ["missing"] * (len(present) < len(values))
    if not present:
        assert bins == []
        return
    step = facet.step
    mantissa = step / 10.0 ** math.floor(math.log10(step) + 1e-9)
    assert any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 2.5, 5)), step
    want_step = round_step(max(present) - min(present), n_bins)
    if all(v == int(v) for v in present):
        assert step >= 1, "whole numbers get bins at least 1 wide"
        want_step = max(want_step, 1.0)
    assert math.isclose(step, want_step, rel_tol=1e-9), f"step {step} for {min(present)}..{max(present)}"
    assert len(bins) <= n_bins + 1, f"{len(bins)} bins of {step} for {min(present)}..{max(present)}"
    for a, b in zip(bins, bins[1:]):
        assert a.upper == b.lower
    for b in bins:
        assert b.lower < b.upper
        assert math.isclose(b.upper - b.lower, step, rel_tol=1e-6), (b, step)
        assert math.isclose(b.lower / step, round(b.lower / step), abs_tol=1e-6), (b, step)
    want = [0] * len(bins)
    for v in present:
        want[_in_bins(bins, v)] += 1
    assert [b.count for b in bins] == want
    assert want[0] and want[-1], "the histogram spans the values"


def _trunc(d: datetime, unit: str) -> datetime:
    d = d.replace(second=0, microsecond=0)
    if unit in ("hour", "day", "week", "month", "quarter", "year"):
        d = d.replace(minute=0)
    if unit in ("day", "week", "month", "quarter", "year"):
        d = d.replace(hour=0)
    if unit == "week":
        d -= timedelta(days=d.weekday())
    if unit in ("month", "quarter", "year"):
        d = d.replace(day=1, month={"month": d.month, "quarter": (d.month - 1) // 3 * 3 + 1, "year": 1}[unit])
    return d


def _next(d: datetime, unit: str) -> datetime:
    if unit in ("minute", "hour", "day", "week"):
        return d + timedelta(**{unit + "s": 1})
    months = d.year * 12 + d.month - 1 + {"month": 1, "quarter": 3, "year": 12}[unit]
    return d.replace(year=months // 12, month=months % 12 + 1)


def check_datetime(facet, values: list, n_bins: int) -> None:
    present = [v for v in values if v is not None]
    assert facet.histogram
    bins = [b for b in facet.buckets if b.kind == "bin"]
    assert [b.kind for b in facet.buckets] == ["bin"] * len(bins) + ["missing"] * (len(present) < len(values))
    if not present:
        assert bins == []
        return
    unit = facet.unit
    span = (max(present) - min(present)).total_seconds()
    assert unit == next((u for u, secs in F.UNITS if span / secs + 1 <= n_bins), "year"), \
        f"{unit} for {min(present)}..{max(present)}"
    for b in bins:
        assert _trunc(b.lower, unit) == b.lower and b.upper == _next(b.lower, unit), (b, unit)
    for a, b in zip(bins, bins[1:]):
        assert a.upper == b.lower
    if unit != "year":
        assert len(bins) <= n_bins + 1, f"{len(bins)} bins of a {unit} for {min(present)}..{max(present)}"
    want = [0] * len(bins)
    for v in present:
        want[_in_bins(bins, v)] += 1
    assert [b.count for b in bins] == want
    assert want[0] and want[-1], "the histogram spans the values"


def check_against_oracle(got: list, records: list[dict], match, n_bins: int, top: int) -> None:
    result = [r for r in records if match(r)]
    assert [f.key for f in got] == KEYS
    for facet in got:
        key = facet.key
        values = [value_of(key, r) for r in result]
        missing = sum(v is None for v in values)
        assert facet.type == TYPES[key]
        assert facet.total == len(result), key
        assert facet.missing == missing, key
        if key != "defects":
            assert sum(b.count for b in facet.buckets) == len(result), key
        if key == "score":
            check_number(facet, values, n_bins)
        elif key == "taken":
            check_datetime(facet, values, n_bins)
        else:
            assert not facet.histogram
            got_buckets = [(b.kind, b.count, b.value) for b in facet.buckets]
            assert got_buckets == expected_values(facet, values, top, boolean=key == "ok",
                                                  items=key == "defects"), key


@contextlib.contextmanager
def strategy(name: str):
    with pytest.MonkeyPatch.context() as mp:
        for attr, value in STRATEGIES[name].items():
            assert hasattr(F, attr), attr
            mp.setattr(F, attr, value)
        yield


def facets_every_way(cat: Catalog, query: str, n_bins: int, top: int, keys=KEYS) -> dict:
    out = {}
    for name in STRATEGIES:
        with strategy(name):
            out[name] = cat.facets(keys, query, bins=n_bins, top=top)
    return out


def check_all(records, query, match, n_bins, top) -> None:
    with catalog_of(records) as cat:
        got = facets_every_way(cat, query, n_bins, top)
    for name, facets in got.items():
        try:
            check_against_oracle(facets, records, match, n_bins, top)
        except AssertionError as exc:
            raise AssertionError(f"strategy {name!r}, query {query!r}, bins={n_bins}, top={top}: {exc}") from exc
    for name, facets in got.items():
        assert facets == got["default"], f"strategy {name!r} differs from the default, query {query!r}"


# -- the properties ----------------------------------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_facets_match_oracle(data):
    """Every key, a random query, bins and top: the oracle's properties, the same under every strategy."""
    records = data.draw(rows())
    query, match = data.draw(queries(records))
    n_bins = data.draw(st.sampled_from([1, 2, 3, 5, 20]))
    top = data.draw(st.sampled_from([1, 2, 3, 10]))
    check_all(records, query, match, n_bins, top)


@SETTINGS
@given(data=st.data())
def test_histograms_of_narrow_results_match_oracle(data):
    """``score>X`` keeps a narrow tail of a wide catalog: the fine bins are too coarse for it."""
    records = data.draw(rows(max_rows=40))
    scores = sorted({value_of("score", r) for r in records if r["score"] is not None})
    x = scores[-min(len(scores), data.draw(st.integers(2, 4)))]
    text = next(r["score"] for r in records if r["score"] is not None and float(r["score"]) == x)
    query = f"score>={text}"
    n_bins = data.draw(st.sampled_from([2, 5, 20]))
    check_all(records, query, lambda r: r["score"] is not None and float(r["score"]) >= x, n_bins, 10)


@SETTINGS
@given(data=st.data())
def test_value_facets_match_oracle(data):
    """Strings, enums, booleans and multi-enums with a small ``top``: ties, (other), (missing)."""
    records = data.draw(rows(max_rows=40))
    query, match = data.draw(queries(records))
    top = data.draw(st.integers(1, 4))
    check_all(records, query, match, 20, top)


@SETTINGS
@given(data=st.data())
def test_whole_numbers_over_a_short_range_match_oracle(data):
    """Few whole numbers and many bins: the bins are 1 wide, not a fraction."""
    records = data.draw(rows(max_rows=12))
    for r in records:
        r["score"] = data.draw(st.one_of(st.none(), st.integers(-3, 3).map(str)))
    if all(r["score"] is None for r in records):
        records[0]["score"] = "1"
    query, match = data.draw(queries(records))
    check_all(records, query, match, data.draw(st.sampled_from([2, 5, 20])), 10)


def test_strategies_are_exercised(monkeypatch):
    """The strategies really materialize and ask second rounds (else the properties prove little)."""
    records = [{"loc": "yard", "score": s, "taken": t, "weather": w, "ok": True, "defects": None}
               for s, t, w in [("0", "2020-01-01T00:00:00Z", "rain"), ("1000", "2024-01-01T00:00:00Z", "sun"),
                               ("1.5", "2024-01-01T00:05:00Z", "fog"), ("2.25", "2024-01-01T00:09:00Z", "fog")]]
    calls = {"materialized": [], "grouped": 0}
    prelude, grouped = F._Run._prelude, F._Run._grouped

    def spy_prelude(self, keys, sample):
        calls["materialized"].append(prelude(self, keys, sample))
        return calls["materialized"][-1]

    def spy_grouped(self, select, extra=()):
        calls["grouped"] += 1
        return grouped(self, select, extra)

    monkeypatch.setattr(F._Run, "_prelude", spy_prelude)
    monkeypatch.setattr(F._Run, "_grouped", spy_grouped)
    with catalog_of(records) as cat:
        with strategy("materialized"):
            cat.facets(KEYS, "weather:fog")
        assert calls["materialized"] == [True]
        with strategy("fine"):
            score, taken = cat.facets(["score", "taken"], "weather:fog")
        assert calls["grouped"] >= 2
    fog = [r for r in records if r["weather"] == "fog"]
    check_number(score, [value_of("score", r) for r in fog], 20)
    check_datetime(taken, [value_of("taken", r) for r in fog], 20)
