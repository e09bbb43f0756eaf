"""Keys typed from their first rows (``plan.KeyPlan.assumed``): the import takes the one auto-typed
kind every value of the first rows fits and checks every other cell while it writes the typed rows
(no separate pass over all values). A later value that does not fit makes the outcome exactly what
typing from all values gives: the key a string with the note saying why, nothing half-written."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from helpers import write

from metastore import Catalog
from metastore import types as T
from metastore.store import codec
from metastore.store.plan import _SAMPLE_ROWS

CASES = json.loads((Path(__file__).parent / "cases" / "autotype.json").read_text())["cases"]
MORE = ["1", "0", "-0", "1e5", "1e999", "-1e999", "007", "+5", ".5", "5.", " 12 ", "2024", "2024-01-01",
        "2024:01:01 10:00:00", "2024-13-45", "yes", "No", " TRUE ", "http://x", "https://2024-01-01",
        "nan", "inf", "", "   ",
        # padding: SQL's trim takes the Unicode space separators (Zs) off both ends, not tabs
        " 5", "5 ", "\u00a05\u00a0", "\u30005", " \u2003-1.5e3 ", "\u00a0\u00a0", "\t5", "5\t", "\n5",
        " yes ", "\u00a0no", "\u2003TRUE\u3000", "\tyes", "yes\n", " http://x ", "\u00a0http://x\u00a0",
        " 2024-01-01 ", "\u00a02024-01-01T10:00Z"]
#: Python's str.strip takes tabs and line breaks too: the SQL and Python readers differ there
#: (before this work as well); the SQL forms are compared among themselves for those.
_ASCII_CONTROL_SPACE = set("\t\n\r\x0b\x0c")


def _py(value):
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value


@pytest.mark.parametrize("type_", T.AUTO_ORDER)
def test_assumed_cast_fits_exactly_where_the_auto_check_does(type_):
    # The write keeps auto_cast's value where auto_ok holds and stops on a non-empty cell where it
    # does not: both must agree with the auto-typing check and with Python's reader, text by text.
    texts = [c[0] for c in CASES] + MORE
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE t (i INTEGER, c VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(texts)))
    check = codec.auto_checks("c")[type_]
    sub = f"(SELECT i, c, {codec.auto_cast_expr('c', type_)} AS v FROM t)"
    rows = con.execute(f"SELECT i, coalesce({check}, false), coalesce({codec.auto_ok_expr('v', type_)}, false), v "
                       f"FROM {sub} ORDER BY i").fetchall()
    for i, auto, ok, value in rows:
        text = texts[i]
        assert ok == auto, (text, type_)
        if _ASCII_CONTROL_SPACE & set(text):
            continue
        expected = T.TYPES[type_].auto_read(text)
        assert ok == (expected is not None), (text, type_)
        if ok:
            assert _py(value) == _py(expected), (text, type_)


def _numbers_csv(tmp_path, n, odd_row, odd_cell, *, path_for=lambda i: f"img{i}.jpg", name="n.csv"):
    lines = ["path,score"]
    for i in range(1, n + 1):
        lines.append(f"{'' if i == odd_row and odd_cell == 'no path' else path_for(i)},"
                     f"{'n/a' if i == odd_row else i}")
    return write(tmp_path / name, "\n".join(lines) + "\n")


def test_a_late_misfit_makes_the_key_a_string_with_the_note(cat, tmp_path):
    row = _SAMPLE_ROWS + 500  # past the rows the type is assumed from
    f = _numbers_csv(tmp_path, _SAMPLE_ROWS + 1000, row, "value")
    report = cat.import_files([f])
    (key,) = report.keys
    assert (key.key, key.type, key.values) == ("score", "string", _SAMPLE_ROWS + 1000)
    assert f"1 of {_SAMPLE_ROWS + 1000:,} values is not a number, e.g. 'n/a' at row {row}" in key.note
    assert report.rows_written == _SAMPLE_ROWS + 1000 and report.rows_failed == 0
    assert cat.show(f"img{row}.jpg").values[0].value == "n/a"
    assert cat.show("img7.jpg").values[0].value == "7"  # every value a string: none half-written
    assert [(f.name, f.type) for f in cat.schema().fields] == [("score", "string")]
    assert len(cat.imports()) == 1


def test_a_misfit_in_a_row_rejected_whole_still_counts(cat, tmp_path):
    # The write never sees a rejected row's cells; typing still reads ALL values (as before).
    row = _SAMPLE_ROWS + 300
    f = _numbers_csv(tmp_path, _SAMPLE_ROWS + 600, row, "no path")
    report = cat.import_files([f])
    (key,) = report.keys
    assert key.type == "string"
    assert f"'n/a' at row {row}" in key.note
    assert report.rows_failed == 1
    assert [str(i) for i in report.row_issues] == [f"{f}, row {row}: row has no image path"]


def test_a_late_misfit_on_images_the_catalog_has(cat, tmp_path):
    # The second import updates existing images (the INCOMING path of apply) with a new key whose
    # misfit sits on an existing image, past the first rows: rolled back and written again as string.
    n = _SAMPLE_ROWS + 400
    cat.import_files([write(tmp_path / "a.csv", "path,tag\n" + "".join(f"img{i}.jpg,x\n" for i in range(1, n + 1)))])
    f = _numbers_csv(tmp_path, n, n - 1, "value", name="b.csv")
    report = cat.import_files([f])
    assert report.exit_code == 0
    (key,) = report.keys
    assert key.type == "string" and f"'n/a' at row {n - 1}" in key.note
    assert report.rows_written == n and report.images_added == 0
    assert {v.key: v.value for v in cat.show(f"img{n - 1}.jpg").values} == {"tag": "x", "score": "n/a"}
    assert {v.key: v.value for v in cat.show("img3.jpg").values} == {"tag": "x", "score": "3"}
    cat.undo(report.import_id)
    assert {v.key: v.value for v in cat.show("img3.jpg").values} == {"tag": "x"}


def test_a_dry_run_with_a_late_misfit_reports_the_string_and_writes_nothing(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,tag\nimg1.jpg,x\n")])
    f = _numbers_csv(tmp_path, _SAMPLE_ROWS + 50, _SAMPLE_ROWS + 20, "value")
    report = cat.import_files([f], dry_run=True)
    (key,) = report.keys
    assert key.type == "string" and "'n/a'" in key.note
    assert [f.name for f in cat.schema().fields] == ["tag"]
    assert len(cat.imports()) == 1


def test_all_values_fitting_types_the_key_from_the_first_rows(cat, tmp_path):
    f = _numbers_csv(tmp_path, _SAMPLE_ROWS + 100, -1, "value")
    report = cat.import_files([f])
    (key,) = report.keys
    assert (key.type, key.note) == ("number", None)
    assert cat.show(f"img{_SAMPLE_ROWS + 99}.jpg").values[0].value == _SAMPLE_ROWS + 99


def test_a_rejected_rows_misfit_is_found_before_the_write(tmp_path):
    # Whether the write happens to compute a rejected row's cells is DuckDB's plan; the planning
    # must not rely on it: after prepare (nothing written yet) the key is already a string.
    from metastore.store.connection import scratch
    from metastore.store.fields import load_schema
    from metastore.store.importer import ImportOptions, prepare

    row = _SAMPLE_ROWS + 300
    f = _numbers_csv(tmp_path, _SAMPLE_ROWS + 600, row, "no path")
    with scratch() as con:
        prep = prepare(con, [f], ImportOptions(), load_schema(con, with_tags=False), lambda _m: None)
    (key,) = prep.report.keys
    assert (key.type, key.assumed) == ("string", False)
    assert f"'n/a' at row {row}" in key.note
    # and with every value fitting, the key stays assumed for the write to confirm
    g = _numbers_csv(tmp_path, _SAMPLE_ROWS + 600, -1, "none", name="g.csv")
    with scratch() as con:
        prep = prepare(con, [g], ImportOptions(), load_schema(con, with_tags=False), lambda _m: None)
    (key,) = prep.report.keys
    assert (key.type, key.assumed) == ("number", True)


def test_ids_when_an_earlier_file_has_no_rows(cat, tmp_path):
    # The ids are numbered by file and row; a file with only its header once shifted the numbering
    # table so that every image of the files after it got no id.
    empty = write(tmp_path / "h.csv", "path,a\n")
    full = write(tmp_path / "d.csv", "path,a\nx.jpg,1\ny.jpg,2\n")
    more = write(tmp_path / "e.csv", "path,a\nz.jpg,3\n")
    report = cat.import_files([empty, full, more])
    assert report.images_added == 3
    cat.close()
    con = duckdb.connect(str(tmp_path / "c.duckdb"), read_only=True)
    ids = con.execute("SELECT id FROM images ORDER BY path").fetchall()
    con.close()
    assert None not in [i for (i,) in ids] and len({i for (i,) in ids}) == 3


@pytest.mark.parametrize("sizes,limit", [([10], 4), ([3, 0, 5, 2], 4), ([4, 4], 4), ([1] * 9, 4), ([2, 7], 100)])
def test_runs_cover_every_row_once_in_file_order(sizes, limit):
    # _insert_new cuts big imports into sorted runs of at most SORTED_RUN_ROWS rows; each row
    # (file f, row 1..size) must fall in exactly one run, and runs follow the file order.
    from metastore.store.apply import _runs

    offsets = [sum(sizes[:f]) for f in range(len(sizes))]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (_file INTEGER, _row BIGINT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(f, r) for f, n in enumerate(sizes) for r in range(1, n + 1)])
    seen = []
    for cond in _runs(sizes, offsets, limit):
        rows = con.execute(f"SELECT _file, _row FROM t WHERE true{cond} ORDER BY _file, _row").fetchall()
        assert len(rows) <= limit
        seen += rows
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == sum(sizes)
