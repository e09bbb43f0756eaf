"""Import fuzzing: malformed CSV, JSON, JSONL and sidecar folders against a real catalog that
already holds data. Each file either imports (and the catalog passes ``check``) or fails with a
clear one-line ``MetastoreError`` and leaves the catalog exactly as it was. Never another
exception, never a partly written import.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import write
from metastore import Catalog
from metastore.errors import MetastoreError

pytestmark = pytest.mark.slow  # the fast run (-m 'not slow') leaves it out; CI runs it

GOOD_CSV = "path,score,when,weather,note\n" + "".join(
    f"img/{i}.jpg,{i * 1.5},2024-01-{1 + i % 28:02d},{['rain', 'sun'][i % 2]},\"note, {i}\"\n" for i in range(40))
GOOD_JSON = json.dumps([{"path": f"img/{i}.jpg", "score": i, "meta": {"cam": f"c{i % 3}"}} for i in range(40)])
TRIED: list[str] = []


def _rand(seed: int, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _deep(n: int) -> str:
    return '[{"path": "d.jpg", "k": ' + "[" * n + "]" * n + "}]"


def _deep_obj(n: int) -> str:
    return '[{"path": "d.jpg", "k": ' + '{"a": ' * n + "1" + "}" * n + "}]"


# (name, file name, content): content is bytes or str (UTF-8).
FILES = [
    *[(f"random-{ext}-{n}", f"r.{ext}", _rand(n, n)) for ext in ("csv", "json", "jsonl", "tsv")
      for n in (1, 7, 100, 5000)],
    *[(f"truncated-csv-{k}", "t.csv", GOOD_CSV[:k]) for k in (0, 1, 5, 20, 37, 38, 100, 333)],
    *[(f"truncated-json-{k}", "t.json", GOOD_JSON[:k]) for k in (0, 1, 2, 30, 100, 777)],
    *[(f"truncated-jsonl-{k}", "t.jsonl", "\n".join(json.dumps(r) for r in json.loads(GOOD_JSON))[:k])
      for k in (10, 200)],
    ("utf16-csv", "u.csv", GOOD_CSV.encode("utf-16")),
    ("utf16le-nobom-csv", "u.csv", GOOD_CSV.encode("utf-16-le")),
    ("utf16-json", "u.json", GOOD_JSON.encode("utf-16")),
    ("utf32-json", "u.json", GOOD_JSON.encode("utf-32")),
    ("latin1-csv", "l.csv", "path,city\na.jpg,Zürich\nb.jpg,café\n".encode("latin-1")),
    ("latin1-json", "l.json", '[{"path": "a.jpg", "city": "Zürich"}]'.encode("latin-1")),
    ("utf8-bom-csv", "b.csv", "\ufeffpath,k\na.jpg,1\n"),
    ("cp1252-quotes", "q.csv", "path,k\na.jpg,\u201cquoted\u201d\n".encode("cp1252")),
    ("huge-cell-csv", "h.csv", "path,big\na.jpg," + "x" * 3_000_000 + "\n"),
    ("huge-json-string", "h.json", json.dumps([{"path": "a.jpg", "big": "y" * 3_000_000}])),
    ("huge-path", "h.csv", "path,k\n" + "p" * 100_000 + ".jpg,1\n"),
    ("deep-json-arrays-100k", "d.json", _deep(100_000)),
    ("deep-json-arrays-900", "d.json", _deep(900)),
    ("deep-json-objects-5k", "d.json", _deep_obj(5_000)),
    ("deep-json-objects-60", "d.json", _deep_obj(60)),
    ("deep-jsonl", "d.jsonl", '{"path": "d.jpg", "k": ' + "[" * 50_000 + "]" * 50_000 + "}\n"),
    ("10000-columns", "w.csv", ",".join(["path"] + [f"c{i}" for i in range(10_000)]) + "\n"
     + ",".join(["a.jpg"] + [str(i) for i in range(10_000)]) + "\n"),
    ("numbers-csv", "n.csv", "path,n\na.jpg,1e400\nb.jpg,-1e400\nc.jpg,-0\nd.jpg,1e-400\ne.jpg,0x1F\n"),
    ("numbers-json", "n.json", '[{"path":"a.jpg","n":1e400},{"path":"b.jpg","n":-1e400},{"path":"c.jpg","n":-0},'
                               '{"path":"d.jpg","n":NaN},{"path":"e.jpg","n":Infinity},{"path":"f.jpg","n":-0.0}]'),
    ("bigint-json", "n.json", '[{"path":"a.jpg","n":' + "9" * 5000 + "}]"),
    ("dates-csv", "d.csv", "path,d\na.jpg,2024-02-30\nb.jpg,2024-13-01\nc.jpg,0000-01-01\nd.jpg,2024-02-29\n"),
    ("dates-json", "d.json", '[{"path":"a.jpg","d":"2024-02-30"},{"path":"b.jpg","d":"9999-12-31T23:59:59Z"},'
                             '{"path":"c.jpg","d":"2024-01-01T25:00:00Z"}]'),
    ("nul-in-cell", "z.csv", "path,k\na.jpg,a\x00b\nb.jpg,\x00\n"),
    ("nul-in-header", "z.csv", "path,k\x00x\na.jpg,1\n"),
    ("nul-in-path", "z.csv", "path,k\na\x00.jpg,1\n"),
    ("nul-json", "z.json", '[{"path":"a.jpg","k":"a\\u0000b"},{"path":"b\\u0000.jpg","k":"x"}]'),
    ("nul-json-key", "z.json", '[{"path":"a.jpg","k\\u0000":"v"}]'),
    ("lone-surrogate-value", "s.json", '[{"path":"a.jpg","k":"\\ud800"},{"path":"b.jpg","k":"ok"}]'),
    ("lone-surrogate-key", "s.json", '[{"path":"a.jpg","\\udfff":"v"}]'),
    ("lone-surrogate-path", "s.json", '[{"path":"\\ud800.jpg","k":"v"}]'),
    ("surrogate-jsonl", "s.jsonl", '{"path":"a.jpg","k":"\\ud83d"}\n{"path":"b.jpg","k":"fine"}\n'),
    ("surrogate-list", "s.json", '[{"path":"a.jpg","tags":["\\udc00", "x"]}]'),
    ("control-chars", "c.csv", "path,k\x1b[31m\na.jpg,\x1b[2J\x07\n"),
    ("duplicate-columns", "dup.csv", "path,k,k\na.jpg,1,2\n"),
    ("empty-header-names", "e.csv", "path,,\na.jpg,1,2\n"),
    ("only-header", "o.csv", "path,k\n"),
    ("empty-file-csv", "e.csv", ""),
    ("whitespace-csv", "w.csv", "   \n\n  \n"),
    ("no-id-column", "n.csv", "name,k\na,1\n"),
    ("unbalanced-quotes", "q.csv", 'path,k\na.jpg,"open\nb.jpg,2\n'),
    ("ragged-rows", "r.csv", "path,a,b\na.jpg,1\nb.jpg,1,2,3,4\n"),
    ("crlf-mixed", "m.csv", "path,k\r\na.jpg,1\nb.jpg,2\r\r\n"),
    ("json-not-array", "x.json", '"just a string"'),
    ("json-array-of-junk", "x.json", '[1, "a", null, [], {"path": 5}, {"path": null}, {"path": ["a"]}]'),
    ("json-mixed-types", "x.json", '[{"path":"a.jpg","k":1},{"path":"b.jpg","k":"x"},{"path":"c.jpg","k":[1,2]},'
                                   '{"path":"d.jpg","k":{"x":1}},{"path":"e.jpg","k":true}]'),
    ("json-bad-keys", "x.json", '[{"path":"a.jpg","a/b":1,".x":2,"":3,"ok key":4}]'),
    ("json-dup-keys", "x.json", '[{"path":"a.jpg","k":1,"k":2}]'),
    ("json-path-collides-flat", "x.json", '[{"path":"a.jpg","a":{"b":1},"a.b":2}]'),
    ("jsonl-garbage-lines", "g.jsonl", '{"path":"a.jpg","k":1}\nnot json\n[1]\n{"path":"b.jpg","k":2}\n\x00\n'),
    ("many-options-enum", "e.csv", "path,weather\n" + "".join(f"i{i}.jpg,opt{i}\n" for i in range(700))),
    ("long-option-enum", "e.csv", "path,weather\na.jpg," + "w" * 50 + "\n"),
    ("existing-key-wrong-type", "e.csv", "path,score\nimg/1.jpg,high\nimg/2.jpg,3\n"),
    ("tsv-as-csv", "t.csv", "path\tk\na.jpg\t1\n"),
    ("binary-png-as-json", "p.json", b"\x89PNG\r\n\x1a\n" + _rand(3, 200)),
    ("gzip-as-csv", "g.csv", b"\x1f\x8b\x08\x00" + _rand(4, 300)),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("fuzzi")
    cat = Catalog(tmp / "t.duckdb")
    cat.import_files([write(tmp / "good.csv", GOOD_CSV)], types={"weather": "enum"})
    cat.set("img/1.jpg", {"reviewed": "true"})
    return cat.path


def state(db: Path) -> list:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        cols = con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                           "ORDER BY ALL").fetchall()
        return [cols] + [con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in tables]


def attempt(db: Path, paths: list[Path], **options) -> str:
    """Import; return 'imported' or 'refused'. Fails the test on any other exception, on an
    unclear message, on a refused import that changed the catalog, or on a catalog that fails check."""
    before = state(db)
    cat = Catalog(db)
    TRIED.append(str(paths[0]))
    try:
        report = cat.import_files(paths, **options)
    except MetastoreError as err:
        msg = str(err)
        assert msg and "\n" not in msg and "\x1b" not in msg and "Traceback" not in msg, repr(msg)
        for word in ("Error:", "duckdb", "_duckdb", "Exception"):
            assert word not in msg, msg
        assert state(db) == before, "a refused import changed the catalog"
        outcome = "refused"
    else:
        if not report.committed:
            assert state(db) == before, "an import that wrote nothing changed the catalog"
        outcome = "imported" if report.committed else "nothing written"
        for issue in report.column_issues + report.row_issues:
            assert "\n" not in str(issue), repr(str(issue))
    rep = cat.check()
    assert rep.ok, rep.problems
    return outcome


@pytest.fixture
def db(template, tmp_path) -> Path:
    return Path(shutil.copyfile(template, tmp_path / "c.duckdb"))


@pytest.mark.parametrize("name,filename,content", FILES, ids=[f[0] for f in FILES])
def test_malformed_file(db, tmp_path, name, filename, content):
    path = write(tmp_path / "in" / filename, content)
    opts = {"types": {"weather": "enum"}} if "enum" in name else {}
    attempt(db, [path], **opts)


def test_strict_import_of_a_bad_file_writes_nothing(db, tmp_path):
    path = write(tmp_path / "s.csv", "path,score\nimg/1.jpg,7\nimg/2.jpg,oops\nnew.jpg,9\n")
    before = state(db)
    report = Catalog(db).import_files([path], strict=True)
    assert not report.committed and report.exit_code == 1 and state(db) == before


def test_one_bad_file_among_good_ones_writes_nothing(db, tmp_path):
    good = write(tmp_path / "g.csv", "path,k\nx.jpg,1\n")
    bad = write(tmp_path / "b.json", b"\xff\xfe garbage")
    assert attempt(db, [good, bad]) == "refused"


SIDECARS = [
    ("random", _rand(11, 300)),
    ("truncated", b'{"camera": {"id": "c1", "gps": {"lat": 1.'),
    ("not-object", b"[1, 2, 3]"),
    ("utf16", json.dumps({"k": "v"}).encode("utf-16")),
    ("latin1", '{"city": "Zürich"}'.encode("latin-1")),
    ("too-big", json.dumps({"k": "x" * 300_000}).encode()),
    ("deep", ('{"a": ' * 5000 + "1" + "}" * 5000).encode()),
    ("deep-array", ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()),
    ("surrogate", b'{"k": "\\ud800"}'),
    ("surrogate-key", b'{"\\ud800": 1}'),
    ("nul", b'{"k": "a\\u0000b", "n": 1e400, "m": -0, "d": "2024-02-30"}'),
    ("empty", b""),
    ("null", b"null"),
]


def test_sidecar_folder_with_broken_sidecars(db, tmp_path):
    folder = tmp_path / "bucket"
    for i, (name, data) in enumerate(SIDECARS):
        write(folder / f"{i:02d}-{name}.jpg", b"\xff\xd8\xff")
        write(folder / f"{i:02d}-{name}.json", data)
    write(folder / "ok.jpg", b"\xff\xd8\xff")
    write(folder / "ok.json", '{"k": "fine", "n": 1}')
    write(folder / "odd name \x1b[31m.jpg", b"\xff\xd8\xff")
    outcome = attempt(db, [folder])
    assert outcome in ("imported", "refused")
    for name, data in SIDECARS:
        TRIED.append(f"sidecar:{name}")
        sub = tmp_path / f"one-{name}"
        write(sub / "a.jpg", b"\xff\xd8\xff")
        write(sub / "a.json", data)
        attempt(db, [sub])


@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.text(max_size=6), min_size=1, max_size=5),
       rows=st.lists(st.lists(st.text(max_size=8), max_size=6), max_size=6),
       ext=st.sampled_from(["csv", "tsv", "json", "jsonl"]))
def test_hypothesis_generated_files(template, tmp_path_factory, header, rows, ext):
    tmp = tmp_path_factory.mktemp("h")
    db = Path(shutil.copyfile(template, tmp / "c.duckdb"))
    if ext in ("csv", "tsv"):
        sep = "," if ext == "csv" else "\t"
        text = "\n".join(sep.join(r) for r in [["path", *header], *rows])
    elif ext == "json":
        text = json.dumps([dict(zip(["path", *header], r)) for r in rows])
    else:
        text = "\n".join(json.dumps(dict(zip(["path", *header], r))) for r in rows)
    attempt(db, [write(tmp / f"f.{ext}", text.encode("utf-8", "surrogatepass"))])


def test_report_counts():
    print(f"\nimport fuzz: {len(TRIED):,} bad or generated inputs tried "
          f"({len(FILES)} hand-made files, {len(SIDECARS) + 1} sidecar cases, the rest generated)")
