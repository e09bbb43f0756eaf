"""Query fuzzing: any text, grammar-shaped generated queries and a corpus of hand-written nasty
ones go parse → check → compile → execute against a small real catalog. The only outcomes
allowed are rows or a ``QueryError`` with a plain one-line message; never another exception,
never DuckDB's error text, never a value spliced into SQL.

Default run: 10,000 seeded grammar-shaped queries through parse/check/compile (1 in 10 executed)
plus 500 + 500 hypothesis examples; the totals are printed. ``METASTORE_FUZZ_EXAMPLES=200000`` scales both
for a long run (about 1 ms a query).
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import write
from metastore import Catalog
from metastore.errors import QueryError
from metastore.query import check, compile_select, parse
from metastore.query.parser import MAX_DEPTH, MAX_QUERY_BYTES, MAX_TERMS
from metastore.store.fields import load_schema
from metastore.store.search import re2_problem

pytestmark = pytest.mark.slow  # the fast run (-m 'not slow') leaves it out; CI runs it

EXAMPLES = int(os.environ.get("METASTORE_FUZZ_EXAMPLES", "10000"))
HYPOTHESIS_EXAMPLES = max(300, EXAMPLES // 20)
NOW = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)
CORPUS = Path(__file__).parent / "cases" / "nasty_queries.txt"
DUCKDB_WORDS = ("Binder Error", "Parser Error", "Catalog Error", "Conversion Error", "Invalid Input Error",
                "IO Error", "Out of Range", "INTERNAL Error", "duckdb", "Traceback", "_duckdb")
COUNTS = {"parsed": 0, "query_errors": 0, "executed": 0}
#: Queries near the 10,000-term limit compile in under a second but take DuckDB 5-20 s to plan
#: (every free-text word searches every text key): compiled and checked here, not executed.
MAX_EXECUTED_SQL = 200_000

RECORDS = [
    {"path": f"img/{i:03d}.jpg", "score": [3.5, -0.0, 1e300, 42, 7][i % 5], "flag": i % 2 == 0,
     "when": f"2024-0{1 + i % 9}-1{i % 10}T10:00:00Z", "weather": ["rain", "sun", "fog"][i % 3],
     "labels": [["a", "b"], ["b"], ["c", "d", "a"]][i % 3], "link": f"https://ex.com/{i}",
     "note": ["50% off", "it's", 'say "hi"', "back\\slash", "naïve café 日本", "under_score", "%' OR '1'='1"][i % 7],
     "capture": {"gps": {"lat": i / 7}}, "or": i, "has": "x", "a\"b": "q"}
    for i in range(24)
]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Catalog:
    tmp = tmp_path_factory.mktemp("fuzzq")
    cat = Catalog(tmp / "c.duckdb")
    recs = [{k: v for k, v in r.items() if k != "a\"b"} for r in RECORDS]  # not a valid key: left out
    cat.import_files([write(tmp / "m.jsonl", "\n".join(json.dumps(r) for r in recs))],
                     types={"weather": "enum", "labels": "multi-enum"})
    cat.tag([r["path"] for r in RECORDS[:5]], add=["v2", "needs-review"])
    return cat


@pytest.fixture(scope="module")
def db(catalog):
    """(read-only connection, schema): one connection for every executed query."""
    con = duckdb.connect(str(catalog.path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    yield con, load_schema(con)
    con.close()


def run_one(text: str, db, *, execute: bool = True):
    """The search pipeline. Returns rows, or the QueryError; any other exception propagates."""
    con, schema = db
    try:
        checked = check(parse(text), schema, now=NOW, text=text, regex_problem=re2_problem(con))
        sql, params = compile_select(checked, schema, columns=schema.fields[:3], limit=5)
    except QueryError as err:
        COUNTS["query_errors"] += 1
        _plain_error(err)
        return err
    COUNTS["parsed"] += 1
    _no_value_in_sql(sql, params)
    if not execute or len(sql) > MAX_EXECUTED_SQL:
        return None
    COUNTS["executed"] += 1
    return con.execute(sql, params).fetchall()


def _plain_error(err: QueryError) -> None:
    text = str(err)
    assert text and "\n" not in text and "\x1b" not in text, repr(text)
    for word in DUCKDB_WORDS:
        assert word not in text and word not in (err.help or ""), text
    for issue in err.issues:
        assert 0 <= issue.start <= issue.end, issue


def _no_value_in_sql(sql: str, params: list) -> None:
    """Values are bound: the SQL text holds only placeholders, identifiers and fixed words."""
    assert "'" not in sql.replace("''", "") or re.fullmatch(r"[^']*('[^']*'[^']*)*", sql), sql
    for p in params:
        if isinstance(p, str) and len(p) > 3 and not p.isidentifier():
            assert p not in sql, (p, sql)


# -- the corpus --------------------------------------------------------------------------------
def corpus() -> list[str]:
    out = []
    for line in CORPUS.read_text(encoding="utf-8").split("\n"):
        if line.startswith("# ") or line == "" or line == "#":
            continue
        if line.startswith("esc:"):
            out.append(line[4:].encode("ascii").decode("unicode_escape"))
        elif m := re.match(r"rep (\d+): (.*)\Z", line):
            out.append(m.group(2) * int(m.group(1)))
        else:
            out.append(line)
    return out


NASTY = corpus()


def test_corpus_is_big_and_varied():
    assert len(NASTY) >= 120
    assert any("\x00" in q for q in NASTY) and any(len(q.encode("utf-8", "surrogatepass")) > MAX_QUERY_BYTES for q in NASTY)
    assert any("DROP TABLE" in q for q in NASTY) and any("\ud800" in q for q in NASTY)


@pytest.mark.parametrize("text", NASTY, ids=[repr(q[:40]) + f"-{len(q)}" for q in NASTY])
def test_nasty_query(text, db):
    run_one(text, db)


def test_limits_have_clear_errors(db):
    cases = [
        ("x" * (MAX_QUERY_BYTES + 1), "too long"),
        ("€" * (MAX_QUERY_BYTES // 3 + 1), "too long"),
        ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), "nests too deeply"),
        ("NOT " * (MAX_DEPTH + 1) + "a", "nests too deeply"),
        ("\ud800", "not valid text"),  # a byte that was not UTF-8, as Python decodes argv
        ("a " * (MAX_TERMS + 1), "too many terms"),
    ]
    for text, words in cases:
        err = run_one(text, db)
        assert isinstance(err, QueryError) and words in str(err), (text[:20], err)
    # Right at the limits, queries run.
    assert not isinstance(run_one("x" * MAX_QUERY_BYTES, db), QueryError)
    assert not isinstance(run_one("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH, db), QueryError)
    assert not isinstance(run_one("a " * MAX_TERMS, db, execute=False), QueryError)


def test_sql_fragments_are_values(db, catalog):
    """A query made of SQL finds the note that holds that text, and the catalog is intact."""
    rows = run_one("note:\"%' OR '1'='1\"", db)
    assert [r[0] for r in rows] == ["img/006.jpg", "img/013.jpg", "img/020.jpg"]
    run_one("'; DROP TABLE images; --", db)
    assert catalog.count("") == 24 and catalog.check().ok


def test_re2_only_regex_errors_are_query_errors(db):
    """Regression: regexes Python accepts but RE2 does not reached the user as DuckDB errors."""
    for text in ("weather:/(?=a)/", "path:/(a)\\1/", "tag:/(?<!x)y/", "note:/(?P=n)/"):
        err = run_one(text, db)
        assert isinstance(err, QueryError) and "invalid regex" in str(err), (text, err)
        assert err.start == 0 and err.end == len(text) or err.end <= len(text)


def test_cli_on_the_corpus(catalog, db, capsys, monkeypatch):
    """The real entry point (in-process, with its one error boundary) on every corpus query that
    can be an argv item (no NUL, no lone surrogate): exit 0 or 1, no traceback, no DuckDB text."""
    from metastore import cli

    ran = 0
    for text in NASTY:
        if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            continue
        if len(text) > 4096 and not isinstance(run_one(text, db, execute=False), QueryError):
            continue  # a valid query near the limits: slow to plan (see MAX_EXECUTED_SQL)
        monkeypatch.setattr(sys, "argv", ["metastore", "--db", str(catalog.path), "search", "--format", "paths",
                                          "-q", text])
        with pytest.raises(SystemExit) as info:
            cli.main()
            raise SystemExit(0)
        out, err = capsys.readouterr()
        code = info.value.code or 0
        assert code in (0, 1), (text[:60], code, err)
        for word in DUCKDB_WORDS:
            assert word not in err, (text[:60], err)
        if code == 1:
            assert out == "" and err.startswith("error:"), (text[:60], out, err)
        ran += 1
    assert ran >= 100


def test_cli_subprocess_on_hostile_queries(catalog, run_cli):
    for text in ("'; DROP TABLE images; --", "weather:/(?=a)/", "(" * 65, "@\"a\\\"b\":x", "x" * 70_000):
        r = run_cli("search", "-q", text, db=catalog.path)
        assert r.returncode == 1 and r.stdout == "" and r.stderr.startswith("error:"), (text[:30], r.stderr)
        assert "Traceback" not in r.stderr and "Error:" not in r.stderr.replace("error:", "")
    assert run_cli("count", "", db=catalog.path).stdout.strip() == "24"


# -- generated queries -------------------------------------------------------------------------
KEYS = ["score", "flag", "when", "weather", "labels", "link", "note", "capture.gps.lat", "@or", "@has",
        "@\"a\\\"b\"", "SCORE", "scor", "nokey", "v1", "@\"v1\"", "tag", "path", "media_id", "@\"\"", "ü"]
OPS = [":", "=", "!=", ">", ">=", "<", "<=", "~", ":>", ":<=", "!~", "::"]
VALUES = ["[1 TO 5]", "{1 TO 5]", "[* TO 5}", "{a TO *}", "[2024-01 TO 2024-03}", "[a TO b TO c]", "{x}",
          "(a OR b)", "(>=1 AND <5)", "(rain OR NOT sun)", "(a b", "()", "(>)", "(1..2 OR [3, 4])", "@me", "٧٠",
          "now-1M", "now-1mo", "today-2y", "+7d", "\"a\"^2", "[h e]", "[[a]]", "{ name:x }",
          "1", "-0", "1e400", "-1e400", "nan", "inf", "0.5", "007", "3..5", "..5", "5..", "1..2..3",
          "2024-02-30", "2024-01-15", "2024-01", "2024", "2024-01-15T10:30:00Z", "now-3d", "today", "-7d",
          "true", "FALSE", "maybe", "rain", "ra*", "*", "**", "\"a b\"", "\"a\\\"b\"", "\"", "'x'", "/ra.n/",
          "/(?=a)/", "/[/", "/\\p{L}+/", "[rain, sun]", "[]", "[a,", "https://x.y/z?a=1", "%", "_", "\\",
          "'; DROP TABLE images; --", "日本", "😀", "\x00", "\u202e", ""]
NUM_OPS = [":", "=", "!=", ">", ">=", "<", "<="]
TYPED = [
    ("score", NUM_OPS, ["1", "-0", "0.5", "1e300", "-7", "3..5", "..5", "1e400", "nan", "[1 TO 5]", "{-1 TO 7}",
                        "[* TO 5}", "(>=1 AND <5)", "(1 OR 7 OR [2 TO 3])", "٧"]),
    ("@or", NUM_OPS, ["1", "10..20", "-1"]),
    ("capture.gps.lat", NUM_OPS, ["0.5", "1..2"]),
    ("flag", [":", "=", "!="], ["true", "false", "yes", "0", "maybe"]),
    ("when", NUM_OPS, ["2024-01", "2024-02-30", "2024-03-15T10:00:00Z", "now-30d", "today", "2024",
                       "2024-01..2024-06", "2024-01-15T10:00:00+05:30", "[2024-01 TO 2024-06}", "{2024 TO *]",
                       "now-1mo", "now-2y", "now-1M", "(>2024-02 OR <2024-01)"]),
    ("weather", [":", "=", "!=", "~"], ["rain", "ra*", "[rain, sun]", "/^r/", "snow", "\"rain\""]),
    ("labels", [":", "=", "!=", "~"], ["a", "[a, b]", "*", "/a|b/", "zz"]),
    ("note", [":", "=", "!=", "~"], ["50%", "\"it's\"", "naïve", "*café*", "/x(y/", "'; DROP TABLE images; --",
                                     "[a TO m]", "{\"50%\" TO *]", "(naïve OR \"it's\")", "(*a* AND NOT b)",
                                     "\"%' OR '1'='1\"", "_", "back\\slash"]),
    ("link", [":", "~"], ["https://ex.com/1", "ex.com", "*ex*"]),
    ("tag", [":"], ["v2", "needs-*", "[v2, x]", "nope", "(v2 OR needs-*)", "(v2 -x)"]),
    ("path", [":", "~"], ["img/*", "img/001.jpg", "/00[0-9]/", "001"]),
    ("@has", [":"], ["x", "y"]),
]
WORDS = ["forklift", "AND", "OR", "NOT", "-", "!", "has:score", "no:note", "has:@or", "tag:v2",
         "tag:needs-*", "path:img/*", "\"naïve café\"", "(", ")", "@", "\"", "[", "]", ",", "..", "~", "*",
         # issue 13: other tools' syntax, accepted or rejected with a message
         "+", "+forklift", "_exists_:score", "has:tag", "no:tag", "{", "}", " TO ", "word~", "word~1", "\"a b\"~2",
         "x^2", ">5", "/re/", "@me", "in:title", "sort:score", "k:[a]*", "note:\"a\",\"b\"", "[1 TO 5]"]


def _gen(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if depth < 6 and r < 0.25:
        n = rng.randint(2, 4)
        join = rng.choice([" ", " AND ", " OR ", " or ", "  "])
        return join.join(_gen(rng, depth + 1) for _ in range(n))
    if depth < 6 and r < 0.35:
        return rng.choice(["(", "-(", "NOT (", "!("]) + _gen(rng, depth + 1) + rng.choice([")", ")", ""])
    if r < 0.45:
        return rng.choice(WORDS)
    if r < 0.5:
        return "".join(rng.choice(["a", "1", " ", ":", "\"", "(", ")", "-", "@", "\\", "/", "*", "é", "\t"])
                       for _ in range(rng.randint(1, 12)))
    if r < 0.75:  # well-typed: most of these compile and run
        key, ops, vals = rng.choice(TYPED)
        key, op, val = key, rng.choice(ops), rng.choice(vals)
    else:
        key, op, val = rng.choice(KEYS), rng.choice(OPS), rng.choice(VALUES)
    spaced = rng.random() < 0.1
    return f"{rng.choice(['', '-', 'NOT '])}{key}{' ' if spaced else ''}{op}{' ' if spaced else ''}{val}"


def test_generated_queries(db):
    rng = random.Random(int(os.environ.get("METASTORE_FUZZ_SEED", "0")))
    before = dict(COUNTS)
    for i in range(EXAMPLES):
        text = _gen(rng)
        try:
            run_one(text, db, execute=i % 10 == 0)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"query #{i} {text!r} raised {type(exc).__name__}: {exc}") from exc
    done = {k: COUNTS[k] - before[k] for k in COUNTS}
    print(f"\nfuzz: {EXAMPLES:,} generated queries: {done['parsed']:,} compiled, {done['query_errors']:,} "
          f"QueryErrors, {done['executed']:,} executed")
    assert done["parsed"] > EXAMPLES // 10 and done["query_errors"] > EXAMPLES // 10  # both kinds exercised


def _grammar_strategy():
    atom = st.one_of(
        st.builds(lambda k, o, v: f"{k}{o}{v}", st.sampled_from(KEYS), st.sampled_from(OPS),
                  st.one_of(st.sampled_from(VALUES), st.text(max_size=8))),
        st.sampled_from(WORDS),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6),
    )
    return st.recursive(
        atom,
        lambda inner: st.one_of(
            st.builds(lambda a, b, j: f"{a}{j}{b}", inner, inner, st.sampled_from([" ", " OR ", " AND "])),
            st.builds(lambda a, p: f"{p}({a})", inner, st.sampled_from(["", "-", "NOT "])),
        ),
        max_leaves=12,
    )


@settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_hypothesis_any_text(db, text):
    run_one(text, db)


@settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_grammar_strategy())
def test_hypothesis_grammar_shaped(db, text):
    run_one(text, db)


def test_report_counts():
    """Runs last in this module: prints the totals for SECURITY.md."""
    print(f"\nfuzz totals: {sum(COUNTS.values()) - COUNTS['executed']:,} queries "
          f"({COUNTS['parsed']:,} compiled, {COUNTS['query_errors']:,} QueryErrors), {COUNTS['executed']:,} executed "
          f"against DuckDB")
