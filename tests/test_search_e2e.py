"""Search end to end: a real catalog file built by import, the real ``metastore`` console script
(subprocess) and the same entry point in-process; then a hypothesis oracle through the store.

The oracle part builds a few catalogs from seeded records (CSV files written to tmp, enum and
multi-enum declared, tags added by tagged imports) and checks ``Catalog.search(q).paths()``
against the pure-Python evaluator of ``tests/oracle.py`` for generated queries.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import write
from metastore import Catalog
from metastore.query import parse
import published_data
from oracle import FIELDS, LEAVES, RANGE_PAIRS, VALUES, evaluate

TYPES = {"weather": "enum", "defects": "multi-enum"}
CSV_TEXT = """\
path,temperature,location,reviewed,captured_at,weather,defects,source_url
img/b.jpg,65,Warehouse-30,false,2024-02-01,fog,rust,https://example.com/b.jpg
img/a.jpg,71.5,warehouse-3,true,2024-01-15T10:30:00Z,rain,"rust, dent",https://example.com/a.jpg
img/c.jpg,,dock-a,,2023-12-31T23:59:59Z,sunny,,
img/d.jpg,80,"dock, a",true,,rain,dent,https://cdn.example.com/d.jpg
"""
ALL = ["img/a.jpg", "img/b.jpg", "img/c.jpg", "img/d.jpg"]


def _exe() -> list[str]:
    script = Path(sys.executable).parent / "metastore"
    found = str(script) if script.exists() else shutil.which("metastore")
    assert found, "the metastore console script is not installed (pip install -e .)"
    return [found]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("e2e")
    path = tmp / "c.duckdb"
    report = Catalog(path).import_files([write(tmp / "m.csv", CSV_TEXT)], types=TYPES)
    assert report.rows_failed == 0 and report.rows_written == 4, report.to_dict()
    return path


def run(db: Path, *args: str) -> subprocess.CompletedProcess:
    """The real console script, stdout piped (so the default format is ``paths``)."""
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("METASTORE_DB", None)
    done = subprocess.run([*_exe(), "--db", str(db), *args], capture_output=True, text=True, env=env,
                          timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def inproc(db: Path, capsys, *args: str) -> tuple[int, str, str]:
    """The same entry point in this process: (exit code, stdout, stderr)."""
    from metastore import cli, entry

    cli.state.json_errors = False
    old = sys.argv
    sys.argv = ["metastore", "--db", str(db), *args]
    code = 0
    try:
        entry.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out, err


# ---------------------------------------------------------------------------- console script


def test_cli_search_default_paths_ordered_by_path(db):
    done = run(db, "search", "temperature>70")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "img/a.jpg\nimg/d.jpg\n"  # exactly one path per line, nothing else


def test_cli_query_starting_with_dash(db):
    want = "img/b.jpg\nimg/c.jpg\n"
    for args in (("search", "--", "-weather:rain"), ("search", "-q", "-weather:rain")):
        done = run(db, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert done.stdout == want, args


def test_cli_count(db):
    done = run(db, "count", "--", "-location:warehouse-3")  # the complement: every other image
    assert (done.returncode, done.stdout) == (0, "3\n")
    assert run(db, "count", "").stdout == "4\n"
    assert run(db, "count", "--", "-reviewed:true").stdout == "2\n"  # false or missing


def test_cli_query_error_caret_on_stderr_nothing_on_stdout(db):
    done = run(db, "search", "temprature>70 location:dock-a")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert any("unknown key 'temprature'" in ln for ln in lines), done.stderr
    i = next(i for i, ln in enumerate(lines) if ln.strip() == "temprature>70 location:dock-a")
    assert lines[i + 1].strip() == "^" * len("temprature")
    assert lines[i + 1].index("^") == lines[i].index("t")  # under the key, not elsewhere
    assert "temperature" in done.stderr  # did-you-mean


def test_cli_json_error(db):
    done = run(db, "search", "--format", "json", "location:dock-a weather:hail")
    assert done.returncode == 1 and done.stdout == ""
    err = json.loads(done.stderr)
    issues = err.get("errors", [err]) if isinstance(err, dict) else err
    first = issues[0]
    assert {"message", "start", "end", "help"} <= set(first), err
    q = "location:dock-a weather:hail"
    assert "hail" in q[first["start"]:first["end"]]
    assert "rain" in (first["help"] or "") + first["message"]


def test_cli_unknown_catalog(tmp_path):
    done = run(tmp_path / "nope.duckdb", "search", "temperature>1")
    assert done.returncode == 1 and done.stdout == ""
    assert "no catalog" in done.stderr and "nope.duckdb" in done.stderr
    assert not (tmp_path / "nope.duckdb").exists()  # a read-only command never creates it


def test_cli_explain_goes_to_stderr(db):
    done = run(db, "search", "--explain", "temperature>70")
    assert done.returncode == 0
    assert done.stdout == "img/a.jpg\nimg/d.jpg\n"
    assert "sql:" in done.stderr and "SELECT" in done.stderr


# ---------------------------------------------------------------------------- in-process


def test_formats(db, capsys):
    q = "has:weather"
    code, out, _ = inproc(db, capsys, "search", q)  # capsys is not a terminal: paths
    assert code == 0 and out.splitlines() == ALL

    code, out, _ = inproc(db, capsys, "search", "--format", "csv", "--columns", "temperature,defects", q)
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["path", "media_id", "temperature", "defects"]
    assert [r[0] for r in rows[1:]] == ALL
    by_path = {r[0]: r for r in rows[1:]}
    assert by_path["img/a.jpg"][2:] == ["71.5", "dent, rust"] or by_path["img/a.jpg"][2:] == ["71.5", "rust, dent"]
    assert by_path["img/c.jpg"][2:] == ["", ""]
    assert all(len(r[1]) == 36 for r in rows[1:])  # media_id as a UUID

    code, out, _ = inproc(db, capsys, "search", "--format", "jsonl", "-c", "temperature,captured_at", q)
    items = [json.loads(line) for line in out.splitlines()]
    assert [i["path"] for i in items] == ALL
    assert items[0]["temperature"] == 71.5 and items[0]["captured_at"].startswith("2024-01-15T10:30:00")
    assert items[2]["temperature"] is None

    code, out, _ = inproc(db, capsys, "search", "--format", "json", "-c", "reviewed", q)
    data = json.loads(out)
    assert [i["path"] for i in data] == ALL and [i["reviewed"] for i in data] == [True, False, None, True]

    code, out, err = inproc(db, capsys, "search", "--format", "table", "-c", "location", q)
    assert code == 0
    for p in ALL:
        assert p in out
    assert "Warehouse-30" in out and "4 images" in err and "4 images" not in out


def test_limit_sort_and_default_order(db, capsys):
    _, out, _ = inproc(db, capsys, "search", "--limit", "2", "")
    assert out.splitlines() == ALL[:2]
    _, out, _ = inproc(db, capsys, "search", "--sort", "temperature:desc", "")
    assert out.splitlines() == ["img/d.jpg", "img/a.jpg", "img/b.jpg", "img/c.jpg"]  # missing last
    _, out, _ = inproc(db, capsys, "search", "--sort", "temperature", "")
    assert out.splitlines() == ["img/b.jpg", "img/a.jpg", "img/d.jpg", "img/c.jpg"]
    _, out, _ = inproc(db, capsys, "search", "--sort", "path:desc", "--limit", "1", "")
    assert out.splitlines() == ["img/d.jpg"]
    code, out, err = inproc(db, capsys, "search", "--sort", "temprature", "")
    assert code == 1 and out == "" and "temprature" in err


def test_explain_and_errors_in_process(db, capsys):
    code, out, err = inproc(db, capsys, "search", "--explain", "weather:rain location:dock*")
    assert code == 0 and out.splitlines() == ["img/d.jpg"]
    assert "enum" in err and "$1" in err  # resolved types and parameters
    code, out, err = inproc(db, capsys, "search", "--columns", "nope", "")
    assert code == 1 and out == "" and "nope" in err
    code, out, err = inproc(db, capsys, "search", "temperature>")
    assert code == 1 and out == "" and "^" in err
    code, out, err = inproc(db, capsys, "count", "reviewed>1")
    assert code == 1 and out == "" and "boolean" in err


def test_python_api(db):
    r = Catalog(db).search("defects:rust -temperature>70")
    assert r.paths() == ["img/b.jpg"]
    assert r.count() == 1
    assert "$" in r.sql and "rust" not in r.sql and r.params
    table = Catalog(db).search("", columns=["weather"]).to_arrow()
    assert table.column_names[:2] == ["path", "media_id"] and table.num_rows == 4


# ---------------------------------------------------------------------------- oracle

# Generated records over the oracle's pools (less what a CSV cannot carry) and the catalog built
# from them: one generator, shared with the publish and Spark tests (tests/published_data.py).
N_CATALOGS, N_RECORDS = 2, 80


def _records(seed: int) -> list[dict]:
    return published_data.records(seed, N_RECORDS)


def _build(tmp: Path, records: list[dict]) -> Catalog:
    return published_data.build(tmp, records)


@pytest.fixture(scope="module")
def catalogs(tmp_path_factory):
    out = []
    with contextlib.ExitStack() as stack:
        for k in range(N_CATALOGS):
            records = _records(1000 + k)
            cat = _build(tmp_path_factory.mktemp(f"oracle{k}"), records)
            # Holding one read-only connection keeps the DuckDB instance alive, so each
            # search's own open is cheap (a cold open costs ~0.1 s); searches still open it.
            stack.enter_context(cat.reading())
            out.append((cat, records))
        yield out


def test_oracle_catalogs_hold_the_records(catalogs):
    """The store round-trips the generated values (else the oracle comparison means little)."""
    cat, records = catalogs[0]
    rows = {r["path"]: r for r in cat.search("", columns=[f.name for f in FIELDS]).rows()}
    assert set(rows) == {r["path"] for r in records}
    for rec in records:
        got = rows[rec["path"]]
        for f in FIELDS:
            want, have = rec[f.name], got[f.name]
            if isinstance(want, list):
                assert sorted(have) == sorted(want), (rec["path"], f.name)
            elif isinstance(want, datetime):
                assert have.replace(tzinfo=None) == want, (rec["path"], f.name)
            else:
                assert have == want, (rec["path"], f.name, have, want)
    assert sorted(cat.search("tag:*").paths()) == sorted(r["path"] for r in records if r["tags"])




@st.composite
def leaves(draw) -> str:
    leaf = draw(st.sampled_from(LEAVES))
    fills = {k: draw(st.sampled_from(v)) for k, v in VALUES.items()}
    lo, hi = sorted([draw(st.sampled_from(VALUES["n"])), draw(st.sampled_from(VALUES["n"]))], key=float)
    fills.update(lo=lo, hi=hi, n2=draw(st.sampled_from(VALUES["n"])), s2=draw(st.sampled_from(VALUES["s"])),
                 t2=draw(st.sampled_from(["2024-01-15", "2024-02", "2024"])))
    for name, pairs in RANGE_PAIRS.items():
        fills[name + "lo"], fills[name + "hi"] = draw(st.sampled_from(pairs))
    return leaf.format(**fills)


def _negate(q: str, how: str) -> str:
    # '--x' is not a double negation (the second '-' is literal): parenthesise a negated term
    return how + ("(" + q + ")" if q[0] in "-!" or q.startswith("NOT ") else q)


queries = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda parts, j: "(" + j.join(parts) + ")", st.lists(inner, min_size=2, max_size=3),
                  st.sampled_from([" ", " AND ", " OR ", " or "])),
        st.builds(_negate, inner, st.sampled_from(["-", "!", "NOT "])),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(which=st.integers(0, N_CATALOGS - 1), query=queries)
def test_store_matches_oracle(catalogs, which, query):
    cat, records = catalogs[which]
    node = parse(query)
    want = sorted(r["path"] for r in records if evaluate(node, r))
    assert cat.search(query).paths() == want  # same set, ordered by path


def test_oracle_sweep_is_not_vacuous(catalogs):
    """The generated queries select neither nothing nor everything most of the time."""
    cat, records = catalogs[0]
    sizes = []

    @settings(max_examples=30, deadline=None, database=None)
    @given(query=queries)
    def probe(query):
        sizes.append(len(cat.search(query).paths()))

    probe()
    partial = sum(0 < s < len(records) for s in sizes)
    assert partial >= len(sizes) // 3, sizes
