"""The type table is the one reader of typed text: an import into a declared key (SQL built from
its constants), `metastore set`, and the query checker read each case of
``tests/cases/autotype.json`` ("typed") the same way — ``٧٠`` is not 70 anywhere."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from metastore import types as T
from metastore.errors import MetastoreError, QuerySemanticError
from metastore.query import check_text
from metastore.schema import Field, Schema

from helpers import write

TYPED = json.loads((Path(__file__).parent / "cases" / "autotype.json").read_text(encoding="utf-8"))["typed"]
IDS = [f"{t}:{text}" for t, text, _ in TYPED]
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def _norm(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value


@pytest.mark.parametrize("type_,text,want", TYPED, ids=IDS)
def test_python_reader(type_, text, want):
    if want is None:
        with pytest.raises(T.ValueProblem):
            T.parse(type_, text)
    else:
        assert _norm(T.parse(type_, text)) == want


@pytest.mark.parametrize("type_,text,want", TYPED, ids=IDS)
def test_query_checker_reads_like_the_type_table(type_, text, want):
    schema = Schema((Field("k", type_, 1, count=1),), image_count=1)
    q = 'k:"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if want is None:
        with pytest.raises(QuerySemanticError):
            check_text(q, schema, now=NOW)
        return
    pred = check_text(q, schema, now=NOW).root
    assert _norm(pred.args[0]) == want  # a datetime literal: the start of its interval


def test_import_and_set_read_like_the_type_table(cat, tmp_path):
    # One declared column per case, one row; the cells that do not fit are per-row errors.
    cells = ["a.jpg"] + ['"' + text.replace('"', '""') + '"' for _, text, _ in TYPED]
    header = ["path"] + [f"k{i}" for i in range(len(TYPED))]
    report = cat.import_files([write(tmp_path / "t.csv", ",".join(header) + "\n" + ",".join(cells) + "\n")],
                              types={f"k{i}": t for i, (t, _, _) in enumerate(TYPED)})
    issues = " | ".join(str(i) for i in report.row_issues)
    bad = {f"k{i}" for i, (_, _, want) in enumerate(TYPED) if want is None}
    for key in bad:
        assert f"key '{key}'" in issues, (key, issues)
    # Now write the fitting cells (a file without the misfits) and compare the stored values.
    good = [i for i, (_, _, want) in enumerate(TYPED) if want is not None]
    header = ["path"] + [f"k{i}" for i in good]
    cells = ["a.jpg"] + ['"' + TYPED[i][1] + '"' for i in good]
    report = cat.import_files([write(tmp_path / "g.csv", ",".join(header) + "\n" + ",".join(cells) + "\n")],
                              types={f"k{i}": TYPED[i][0] for i in good})
    assert report.rows_failed == 0, [str(i) for i in report.row_issues]
    stored = {v.key: v.value for v in cat.show("a.jpg").values}
    for i in good:
        assert _norm(stored[f"k{i}"]) == TYPED[i][2], TYPED[i]
    # `set` on the now-typed keys: the same reader, the same values or the same refusals.
    for i, (type_, text, want) in enumerate(TYPED):
        key = f"k{i}"
        if key not in stored:
            continue
        if want is None:
            with pytest.raises(MetastoreError):
                cat.set("a.jpg", {key: text})
        else:
            cat.set("a.jpg", {key: text})
            assert _norm({v.key: v.value for v in cat.show("a.jpg").values}[key]) == want, (type_, text)


def test_every_type_names_operators_the_syntax_table_knows():
    from metastore.query.operators import SYNTAX

    for t in T.TYPES.values():
        assert set(t.operators) <= set(SYNTAX), t.name
        assert t.operators[0] == ":", t.name  # completion offers ':' first


@pytest.mark.parametrize("value", [70.0, -0.5, 1e20, float("inf"), True, False, "dock-a",
                                   datetime(2024, 1, 15, 10, 30), ["a", "b"]])
def test_text_reads_back(value):
    type_ = {float: T.NUMBER, bool: T.BOOLEAN, str: T.STRING, datetime: T.DATETIME, list: T.MULTI_ENUM}[type(value)]
    if value == float("inf"):
        with pytest.raises(T.ValueProblem):
            T.parse(type_, T.text(value))
        return
    assert T.parse(type_, T.text(value)) == value
