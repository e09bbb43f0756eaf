"""The rows of the type table drive every module: each row's SQL agrees with its Python, and
code that asks a row (``Field.kind``) behaves for every type, absent values included."""

from __future__ import annotations

import duckdb
import pytest

from helpers import write
from metastore import types as T

#: One stored value per type, as DuckDB holds it, and the text ``types.text`` writes for it.
SAMPLES = {
    T.STRING: ("'a b'", "a b"),
    T.NUMBER: ("70.0::DOUBLE", "70"),
    T.BOOLEAN: ("false", "false"),
    T.DATETIME: ("TIMESTAMP '2024-01-15 10:30:00.5'", "2024-01-15T10:30:00.500000Z"),
    T.ENUM: ("'mel'", "mel"),
    T.MULTI_ENUM: ("['dent', 'rust']", "dent, rust"),
    T.LINK: ("'https://a.b/c'", "https://a.b/c"),
}


def test_every_type_has_a_sample():
    assert set(SAMPLES) == set(T.TYPES)


@pytest.mark.parametrize("name", list(T.TYPES))
def test_to_text_writes_what_types_text_writes_and_reads_back(name):
    t = T.TYPES[name]
    sql, text = SAMPLES[name]
    con = duckdb.connect()
    got, null, back = con.execute(
        f"SELECT {t.to_text('v')}, {t.to_text('n')}, {t.cast(t.to_text('v'))} = v "
        f"FROM (SELECT {sql} AS v, NULL::{t.sql} AS n)").fetchone()
    value = con.execute(f"SELECT {sql}").fetchone()[0]
    assert got == text == T.text(value)
    assert null is None  # no value stays no value
    assert back is True  # the text reads back to the value (what retype relies on)


@pytest.mark.parametrize("name", [n for n in T.TYPES if n != T.STRING])
def test_retype_to_string_leaves_images_without_the_key_without_it(cat, tmp_path, name):
    # a boolean column once read NULL as 'false' here (retype's text of a value had no NULL case)
    sql, text = SAMPLES[name]
    cell = '"' + text.replace('"', '""') + '"'
    cat.import_files([write(tmp_path / "m.csv", f"path,k\na.jpg,{cell}\nb.jpg,\n")], types={"k": name})
    cat.retype_field("k", T.STRING)
    assert [v.key for v in cat.show("b.jpg").values] == []
    assert {v.key: v.value for v in cat.show("a.jpg").values} == {"k": text}
    assert cat.check().problems == []


def test_auto_typed_kinds_have_both_readers():
    # auto-typing runs in Python (one value: `set`, JSON) and in SQL (a column): a row needs both
    for name in T.AUTO_ORDER:
        assert T.TYPES[name].auto is not None and T.TYPES[name].auto_read is not None, name
    assert all(t.auto is None and t.auto_read is None for n, t in T.TYPES.items() if n not in T.AUTO_ORDER)


def test_every_operator_a_type_takes_has_a_meaning():
    # the checker reads an operator's meaning from its SYNTAX row (negated, exact, contains, text);
    # an operator without one would be read as ':' (the toy '!~' of docs/architecture.md did)
    from metastore.query.operators import SYNTAX

    for name, t in T.TYPES.items():
        for op in t.operators:
            assert op in SYNTAX, (name, op)
            if t.text_like:
                assert SYNTAX[op].text, (name, op)
