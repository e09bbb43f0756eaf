"""Auto-typing: the Python reference (metastore.infer) and the bulk SQL path (an import) agree
with the spec's table of cases, and with each other."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from metastore import infer
from metastore.render import fmt_value

from helpers import write

CASES = json.loads((Path(__file__).parent / "cases" / "autotype.json").read_text())["cases"]


def _norm(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value


@pytest.mark.parametrize("text,type_,value", CASES, ids=[c[0] for c in CASES])
def test_python_auto_typing(text, type_, value):
    got_type, got_value = infer.infer_and_coerce(text)
    assert got_type == type_
    assert _norm(got_value) == value


def test_bulk_import_types_each_column_like_python(cat, tmp_path):
    # One column per case, one row: the import infers each column from its single value.
    header = ",".join(["path"] + [f"k{i}" for i in range(len(CASES))])
    cells = ",".join(["a.jpg"] + [f'"{c[0]}"' for c in CASES])
    report = cat.import_files([write(tmp_path / "t.csv", header + "\n" + cells + "\n")])
    assert report.rows_failed == 0
    types = {k.key: k.type for k in report.keys}
    info = {v.key: v for v in cat.show("a.jpg").values}
    for i, (text, type_, value) in enumerate(CASES):
        assert types[f"k{i}"] == type_, text
        assert _norm(info[f"k{i}"].value) == value, text


def test_type_is_inferred_from_all_values_not_a_sample(cat, tmp_path):
    # 30,000 numbers and one 'n/a' at the very end: a sampling sniffer would call it a number.
    rows = "".join(f"img{i}.jpg,{i}\n" for i in range(30_000)) + "last.jpg,n/a\n"
    report = cat.import_files([write(tmp_path / "big.csv", "path,score\n" + rows)])
    (key,) = report.keys
    assert key.type == "string"
    assert "1 of 30,001 values is not a number, e.g. 'n/a' at row 30001" in key.note
    assert "--type score=number" in key.note


def test_declared_number_rejects_the_misfits_row_by_row(cat, tmp_path):
    f = write(tmp_path / "s.csv", "path,score\na.jpg,1\nb.jpg,n/a\nc.jpg,007\n")
    report = cat.import_files([f], types={"score": "number"})
    assert report.exit_code == 3
    assert [str(i) for i in report.row_issues] == [f"{f}, row 2, key 'score': 'n/a' is not a number"]
    assert cat.show("c.jpg").values[0].value == 7.0  # a declared number reads '007' as 7


def test_fmt_value_round_trips_through_inference():
    for text, type_, _ in CASES:
        if type_ in ("number", "boolean", "link", "string"):
            t, v = infer.infer_and_coerce(text)
            assert infer.infer_type(fmt_value(v)) == t, text


def test_auto_kinds_are_exclusive():
    # The bulk inference tests each cell once and stops at the first kind that fits
    # (codec.auto_kind): exact only because no text fits two auto-typed kinds.
    from metastore import types as T

    texts = [c[0] for c in CASES] + ["1", "0", "-0", "1e5", "2024", "2024-01-01", "2024:01:01 10:00:00",
                                     "yes", "No", "TRUE", "http://x", "https://2024-01-01", "nan", "inf"]
    for text in texts:
        fits = [t for t in T.AUTO_ORDER if T._AUTO_READ[t](text) is not None]
        assert len(fits) <= 1, (text, fits)
