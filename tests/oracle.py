"""Test helpers for the query language: the fixed test Schema and a pure-Python oracle.

The oracle evaluates the spec's semantics directly on the AST over plain dict records; it does
not share code with the checker or compiler (only the datetime literal rules, from datetimes.py).
"""

from __future__ import annotations

import fnmatch
import math
import re
from datetime import datetime, timezone

from metastore.query import ast
from metastore.query.datetimes import UTC, interval
from metastore.schema import Field, Schema

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)

FIELDS = [
    Field("temperature", "number", 1, count=12408),
    Field("location", "string", 2, count=900),
    Field("reviewed", "boolean", 3, count=500),
    Field("captured_at", "datetime", 4, count=700),
    Field("weather", "enum", 5, options=("cloudy", "fog", "rain", "snow", "sunny"), count=300),
    Field("defects", "multi-enum", 6, options=("rust", "dent", "scratch"), count=200),
    Field("source_url", "link", 7, count=100),
    Field("quality_score", "number", 8, count=50),
    Field("annotator", "string", 9, count=40),
    Field("or", "string", 10, count=3),
    Field("has", "number", 11, count=2),
]
SCHEMA = Schema(tuple(FIELDS), tags=("reviewed", "v2", "needs-fix"), image_count=1000)
BY_NAME = {f.name: f for f in FIELDS}


def _glob_match(parts, value: str, ci: bool) -> bool:
    rx = ".*".join(re.escape(p) for p in parts)
    return re.fullmatch(rx, value, re.S | (re.I if ci else 0)) is not None


def _eq_text(v, value: str, ci: bool) -> bool:
    if isinstance(v, ast.Glob):
        return _glob_match(v.parts, value, ci)
    if isinstance(v, ast.Regex):
        return re.search(v.pattern, value) is not None
    return value.lower() == v.text.lower() if ci else value == v.text


def _items(v):
    return v.items if isinstance(v, ast.List) else (v,)


def _num(text):
    return float(text)


def _bool(text):
    return text.lower() in ("true", "yes", "1")


def _finite(x):
    return x is not None and not math.isnan(x) and not math.isinf(x)


def _in_range(v, x, lo, hi) -> bool:
    """x within a range whose ends are already values (None = open); Lucene ends may exclude."""
    lo_ok = lo is None or (lo <= x if getattr(v, "lo_incl", True) else lo < x)
    hi_ok = hi is None or (x <= hi if getattr(v, "hi_incl", True) else x < hi)
    return lo_ok and hi_ok


def _cmp_number(op, v, x):
    if x is None:
        return False
    if isinstance(v, ast.Range):
        if v.lo is None and v.hi is None:  # k:[* TO *] (and k:*..*) means has:k
            return True
        if not _finite(x):
            return False
        return _in_range(v, x, None if v.lo is None else _num(v.lo.text), None if v.hi is None else _num(v.hi.text))
    y = _num(v.text)
    if op in (":", "=", "!="):
        return x == y
    if not _finite(x):
        return False
    return {">": x > y, ">=": x >= y, "<": x < y, "<=": x <= y}[op]


def _cmp_datetime(op, v, x):
    if x is None:
        return False
    if isinstance(v, ast.Range):
        # A literal is an interval: an inclusive end takes all of it, an exclusive end none of it.
        ok = True
        if v.lo is not None:
            s, e = interval(v.lo.text, now=NOW, tz=UTC)
            ok = ok and (x >= s if getattr(v, "lo_incl", True) else x >= e)
        if v.hi is not None:
            s, e = interval(v.hi.text, now=NOW, tz=UTC)
            ok = ok and (x < e if getattr(v, "hi_incl", True) else x < s)
        return ok
    s, e = interval(v.text, now=NOW, tz=UTC)
    return {":": s <= x < e, "=": s <= x < e, "!=": s <= x < e, ">": x >= e, ">=": x >= s,
            "<": x < s, "<=": x < e}[op]


def _positive(f: Field, op: str, v, x) -> bool:
    """k:v (for != the caller negates and requires presence)."""
    if x is None:
        return False
    t = f.type
    if t == "number":
        return any(_cmp_number(op, i, x) for i in _items(v))
    if t == "datetime":
        return any(_cmp_datetime(op, i, x) for i in _items(v))
    if t == "boolean":
        return any(x == _bool(i.text) for i in _items(v))
    if t == "multi-enum":
        if op == "=":
            want = {i.text for i in _items(v)}
            return set(x) == want
        return any(_eq_text(i, item, ci=True) for i in _items(v) for item in x)
    if isinstance(v, ast.LuceneRange):  # strings: code point order, as stored
        return _in_range(v, x, None if v.lo is None else v.lo.text, None if v.hi is None else v.hi.text)
    if op == "~":
        return any(i.text.lower() in x.lower() for i in _items(v))
    ci = op in (":", "!=") and t != "link"
    return any(_eq_text(i, x, ci) for i in _items(v))


def evaluate(node, rec: dict) -> bool:
    """Does record ``rec`` ({"path", "tags", key: value}) match the AST ``node``?"""
    if node is None:
        return True
    if isinstance(node, ast.And):
        return all(evaluate(n, rec) for n in node.items)
    if isinstance(node, ast.Or):
        return any(evaluate(n, rec) for n in node.items)
    if isinstance(node, ast.Not):
        return not evaluate(node.item, rec)
    if isinstance(node, (ast.Has, ast.No)) and not node.key.escaped and node.key.name.lower() == "tag":
        return (len(rec["tags"]) > 0) == isinstance(node, ast.Has)  # has:tag / no:tag
    if isinstance(node, ast.Has):
        return rec.get(SCHEMA.get(node.key.name).name) is not None
    if isinstance(node, ast.No):
        return rec.get(SCHEMA.get(node.key.name).name) is None
    if isinstance(node, ast.Is):
        return rec.get(SCHEMA.get(node.key.name).name) is node.value
    if isinstance(node, ast.Tag):
        if isinstance(node.value, ast.Star):
            return len(rec["tags"]) > 0
        ci = node.op != "="
        hit = any(_eq_text(i, t, ci) if node.op != "~" else i.text.lower() in t.lower()
                  for i in _items(node.value) for t in rec["tags"])
        return not hit if node.op == "!=" else hit
    if isinstance(node, ast.Path):
        p = rec["path"]
        if node.op == "~":
            return any(i.text.lower() in p.lower() for i in _items(node.value))
        hit = any(_eq_text(i, p, ci=False) for i in _items(node.value))
        return not hit if node.op == "!=" else hit
    if isinstance(node, ast.FreeText):
        v = node.value
        texts = [rec["path"], *rec["tags"]]
        for f in FIELDS:
            x = rec.get(f.name)
            if x is None or f.type not in ("string", "enum", "link", "multi-enum"):
                continue
            texts.extend(x if f.type == "multi-enum" else [x])
        if isinstance(v, ast.Glob):
            return any(_glob_match(["", *v.parts, ""], t, ci=True) for t in texts)
        return any(v.text.lower() in t.lower() for t in texts)
    if isinstance(node, ast.Filter):
        f = SCHEMA.get(node.key.name)
        x = rec.get(f.name)
        if node.op == "!=":
            if x is None or (f.type == "number" and not _finite(x)):
                return False
            return not _positive(f, ":", node.value, x)
        return _positive(f, node.op, node.value, x)
    raise TypeError(node)


__all__ = ["NOW", "FIELDS", "SCHEMA", "BY_NAME", "evaluate"]


# Query generators shared by the oracle tests (in-memory and through the real store): leaf
# templates and the values that fill them ({n2}/{s2} are second, independent draws).
LEAVES = [
    "temperature{op}{n}", "temperature:{lo}..{hi}", "temperature:*..{n}", "temperature:{n}..*",
    "temperature!={n}", "temperature:[{n}, {n2}]", "quality_score>={n}", "@has<{n}", "has:temperature",
    "no:temperature", "temperature:*", "location:{s}", "location={s}", "location!={s}", "location~{w}",
    "location:{g}", "location=dock*", "location:[{s}, {s2}]", "location!=[{s}, {s2}]", "location:/^[dD]ock/",
    "location:\"\"", "annotator:{s}", "@or~{w}", "no:annotator", "reviewed:{b}", "reviewed!={b}",
    "is:reviewed", "not:reviewed", "captured_at{op}{t}", "captured_at:{t}..{t2}", "captured_at!={t}",
    "captured_at>now-7d", "captured_at:today", "weather:{e}", "weather={e}", "weather!={e}", "weather:s*",
    "weather:[rain, FOG]", "weather:/^s/", "defects:{d}", "defects:[rust, dent]", "defects=[dent, rust]",
    "defects=rust", "defects!={d}", "defects:*s*", "defects:/t$/", "source_url:https://a.b/c?x=1",
    "source_url~example", "source_url:https://*", "source_url!=https://a.b/c?x=1", "tag:{tag}",
    "tag={tag}", "tag!={tag}", "tag:needs-*", "tag~need", "tag:*", "tag:[v2, reviewed]",
    "path:images/2024/*", "path~FORKLIFT", "path!=images/*", "path:/\\.png/", "{w}", "\"{w}\"", "fork*",
    # issue 13: Lucene ranges, field groups, +, _exists_, has:tag / no:tag
    "temperature:[{rlo} TO {rhi}]", "temperature:{{{rlo} TO {rhi}}}", "temperature:[{rlo} TO {rhi}}}",
    "temperature:{{{n} TO *]", "temperature:[* TO {n}}}", "temperature:[* TO *]", "quality_score:{{{rlo} TO {rhi}]",
    "captured_at:[{dlo} TO {dhi}]", "captured_at:{{{dlo} TO {dhi}}}", "captured_at:{{{t} TO *]",
    "captured_at:[* TO {t}}}", "location:[{slo} TO {shi}]", "location:{{{slo} TO {shi}}}", "location:[{s} TO *}}",
    "location:({s} OR {s2})", "location:({g} AND NOT {s})", "temperature:(>={rlo} AND <{rhi})",
    "temperature:({n} OR [{rlo} TO {rhi}}})", "weather:({e} OR {e})", "tag:({tag} OR -{tag})",
    "defects:({d} {d})", "captured_at:(>{t} OR <={t})", "(+{w})", "(+location:{s} +{w})", "_exists_:annotator",
    "has:tag", "no:tag", "(-no:tag)",
]
#: Range ends drawn as increasing pairs, so exclusive ends never make an empty (rejected) range.
RANGE_PAIRS = {
    "r": [("-5", "0"), ("0", "75.0"), ("1.5", "80"), ("-4.5", "1e3"), ("70", "80")],
    "s": [("a", "m"), ("Dock-A", "dock-a"), ("dock-a", "warehouse-3"), ("\"dock a\"", "dock-a"), ("café", "x")],
    "d": [("2023", "2024-05"), ("2024-01", "2024-03"), ("2023-12-31T23:59:59", "2024-01-15T10:30"), ("2024-01-15", "2024-01-17")],
}
VALUES = {
    "op": [":", "=", ">", ">=", "<", "<=", " > "],
    "n": ["-5", "-4.5", "0", "1.5", "70", "75.0", "80", "1e3"],
    "s": ["warehouse-3", "WAREHOUSE-3", "dock-a", "\"dock a\"", "café", "STRASSE", "straße", "\"a..b\"",
          "50%_off", "x\\*y"],
    "w": ["dock", "house", "é", "forklift", "%", "_", "2024", "#1"],
    "g": ["warehouse-*", "dock*", "*a*", "*3", "50%*", "x*"],
    "b": ["true", "false", "yes", "NO", "1", "0"],
    "t": ["2023", "2024", "2024-01", "2024-01-15", "2024-01-15T10:30", "2024-01-15T10:30:00Z",
          "2023-12-31T23:59:59"],
    "e": ["rain", "fog", "sunny", "snow", "cloudy"],
    "d": ["rust", "dent", "scratch", "RUST"],
    "tag": ["reviewed", "v2", "needs-fix", "needs-review"],
}


# Value pools for generated records (tricky on purpose: case, NFC, globs' specials, NaN/inf).
STRINGS = ["warehouse-3", "Warehouse-30", "dock-a", "Dock-A", "dock a", "", "café", "Straße", "forklift 7",
           "a..b", "50%_off", "x*y"]
URLS = ["https://a.b/c?x=1", "https://example.com/img/1.jpg", "http://Example.COM/x", "ftp://host/f"]
TAGS = ["reviewed", "v2", "needs-fix", "Needs-Review"]
PATHS = ["images/2024/a.jpg", "images/2024/dock/forklift_1.png", "Images/2023/b.JPG", "raw/x?.tif",
         "images/2024/c_d%.jpg"]
TIMES = [datetime(2023, 12, 31, 23, 59, 59), datetime(2024, 1, 1), datetime(2024, 1, 15, 10, 30),
         datetime(2024, 1, 15, 10, 30, 0, 500), datetime(2024, 1, 16), datetime(2024, 2, 1),
         datetime(2024, 5, 28, 8), datetime(2024, 6, 1, 11)]
NUMBERS = [-5.0, -4.5, 0.0, 1.5, 70.0, 75.0, 80.0, 1000.0, math.nan, math.inf, -math.inf]
