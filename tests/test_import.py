"""Importing CSV/TSV/JSON into a real catalog file: validation, partial success, --strict,
--dry-run, atomicity, idempotence, and every awkward CSV shape the spec names."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pytest

from helpers import write
from metastore import Catalog, ImportFailed
from metastore.store import apply as apply_mod


def snapshot(cat: Catalog):
    """Everything a user could observe in the catalog."""
    if not cat.exists():
        return None
    with cat.reading() as con:
        tables = ["fields", "images", "sources", "import_errors", "history", "files"]
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}


def values(cat, path):
    return {v.key: v.value for v in cat.show(path).values}


# -- validation and partial success ----------------------------------------------------------
def test_errors_name_file_row_key_value_and_reason(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,score,when\na.jpg,1,2024-01-01\nb.jpg,abc,2024-01-02\nc.jpg,3,someday\n")
    report = cat.import_files([f], types={"score": "number", "when": "datetime"})
    assert [str(i) for i in report.row_issues] == [
        f"{f}, row 2, key 'score': 'abc' is not a number",
        f"{f}, row 3, key 'when': 'someday' is not an ISO 8601 date or datetime (e.g. 2024-01-15T10:30:00Z)",
    ]
    # one bad cell costs one cell: the rows' other values are written, the two cells are listed
    assert (report.rows_read, report.rows_written, report.rows_failed, report.cells_failed, report.exit_code) == \
        (3, 3, 0, 2, 3)
    assert values(cat, "b.jpg") == {"when": datetime(2024, 1, 2)} and values(cat, "c.jpg") == {"score": 3}
    rec, errors = cat.import_record(report.import_id)
    assert rec["status"] == "partial" and len(errors) == 2 and errors[0][1:4] == (2, "score", "abc")


def test_a_bad_cell_keeps_the_stored_value_under_every_strategy(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,score,note\na.jpg,1,x\n")])
    for strategy in ("merge", "overwrite", "append", "merge-keep-user", "until-first-change"):
        report = cat.import_files([write(tmp_path / "b.csv", f"path,score,note\na.jpg,oops,{strategy}\n")],
                                  strategy=strategy)
        assert report.exit_code == 3 and report.cells_failed == 1, strategy
        assert values(cat, "a.jpg")["score"] == 1, strategy


def test_many_bad_cells_of_one_row_each_listed(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,a,b,c\nx.jpg,1,2,keep\ny.jpg,no,nope,kept\n")
    report = cat.import_files([f], types={"a": "number", "b": "number"})
    assert [(i.row, i.key) for i in report.row_issues] == [(2, "a"), (2, "b")] and report.cells_failed == 2
    assert values(cat, "y.jpg") == {"c": "kept"}


def test_strict_writes_nothing_when_anything_fails(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,score\na.jpg,1\nb.jpg,abc\n")
    report = cat.import_files([f], types={"score": "number"}, strict=True)
    assert report.exit_code == 1 and not report.committed
    assert not cat.exists()  # nothing written, not even a new catalog file


def test_all_rows_failing_writes_nothing_and_exits_1(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,score\na.jpg,x\n,5\n")
    report = cat.import_files([f], types={"score": "number"})
    assert report.exit_code == 3 and report.rows_failed == 1  # a.jpg registered; its bad cell listed
    g = write(tmp_path / "n.csv", "path,score\n,x\n,y\n")
    report = cat.import_files([g], types={"score": "number"})
    assert report.exit_code == 1 and [s["id"] for s in cat.imports()] == [1]


def test_dry_run_does_not_create_the_catalog(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,score,quality\na.jpg,1,n/a\nb.jpg,2,3\n")
    report = cat.import_files([f], dry_run=True)
    assert not cat.exists()
    assert report.dry_run and report.rows_written == 2 and report.images_added == 2
    assert {k.key: k.type for k in report.keys} == {"score": "number", "quality": "string"}
    assert "1 of 2 values is not a number" in report.keys[1].note


def test_dry_run_on_an_existing_catalog_changes_nothing(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,score\na.jpg,1\n")])
    before = snapshot(cat)
    report = cat.import_files([write(tmp_path / "b.csv", "path,score,new\na.jpg,2,x\nb.jpg,3,y\n")], dry_run=True)
    assert report.rows_written == 2 and snapshot(cat) == before


def test_reimporting_identical_values_changes_nothing(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,score,tags\na.jpg,1,x\nb.jpg,2,y\n")
    cat.import_files([f])
    before = snapshot(cat)
    report = cat.import_files([f])
    after = snapshot(cat)
    assert report.rows_written == 0 and report.rows_unchanged == 2 and report.values_changed == 0
    assert after["images"] == before["images"] and after["history"] == before["history"] == []


def test_an_import_that_fails_midway_leaves_the_catalog_unchanged(cat, tmp_path, monkeypatch):
    cat.import_files([write(tmp_path / "a.csv", "path,score\na.jpg,1\n")])
    before = snapshot(cat)

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash after the writes")

    monkeypatch.setattr("metastore.store.importer.refresh_field_stats", boom)
    with pytest.raises(RuntimeError):
        cat.import_files([write(tmp_path / "b.csv", "path,score,extra\na.jpg,5,x\nb.jpg,2,y\n")])
    assert snapshot(cat) == before


def test_merge_overwrites_and_keeps_history(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,score,note\na.jpg,1,keep\n")])
    report = cat.import_files([write(tmp_path / "b.csv", "path,score\na.jpg,5\n")])
    assert report.values_changed == 1
    assert values(cat, "a.jpg") == {"score": 5.0, "note": "keep"}
    with cat.reading() as con:
        assert con.execute("SELECT old_value, new_value, old_src, new_src FROM history").fetchall() == [
            ("1.0", "5.0", 1, 2)]


def test_existing_key_type_is_enforced(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,score\na.jpg,1\n")])
    f = write(tmp_path / "b.csv", "path,score\nb.jpg,high\nc.jpg,3\n")
    report = cat.import_files([f])
    assert [str(i) for i in report.row_issues] == [f"{f}, row 1, key 'score': 'high' is not a number"]
    assert report.exit_code == 3


# -- CSV shapes ------------------------------------------------------------------------------
def test_bom_crlf_and_quoted_newlines(cat, tmp_path):
    raw = '\ufeffpath,note,n\r\na.jpg,"two\r\nlines, and a comma",1\r\nb.jpg,"say ""hi""",2\r\n'
    report = cat.import_files([write(tmp_path / "m.csv", raw.encode("utf-8"))])
    assert report.rows_failed == 0 and [k.key for k in report.keys] == ["note", "n"]
    assert values(cat, "a.jpg")["note"] == "two\r\nlines, and a comma"
    assert values(cat, "b.jpg") == {"note": 'say "hi"', "n": 2.0}


def test_ragged_rows_short_padded_long_rejected(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,a,b\nx.jpg,1\ny.jpg,1,2,3\nz.jpg,1,2\n")
    report = cat.import_files([f])
    assert [str(i) for i in report.row_issues] == [
        f"{f}, row 2: row has more fields than the header's 3; quote fields that contain ','"]
    assert values(cat, "x.jpg") == {"a": 1.0}
    assert cat.search("").paths() == ["x.jpg", "z.jpg"]


def test_empty_file_is_a_clear_error(cat, tmp_path):
    with pytest.raises(ImportFailed, match="is empty"):
        cat.import_files([write(tmp_path / "m.csv", "")])
    assert not cat.exists()  # a failed first import leaves no catalog file


def test_header_only_imports_nothing(cat, tmp_path):
    report = cat.import_files([write(tmp_path / "m.csv", "path,score\n")])
    assert report.rows_read == 0 and report.exit_code == 0 and report.keys == []


def test_duplicate_column_names_skip_the_repeat(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,a,a\nx.jpg,1,2\n")
    report = cat.import_files([f])
    assert [str(i) for i in report.column_issues] == [
        f"{f}, key 'a': column 3 'a' repeats column 2; rename one of them (this column is skipped)"]
    assert values(cat, "x.jpg") == {"a": 1.0} and report.exit_code == 3


def test_duplicate_paths_first_wins(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,a\nx.jpg,1\ny.jpg,2\nx.jpg,3\n")
    report = cat.import_files([f])
    assert [str(i) for i in report.row_issues] == [f"{f}, row 3: duplicate path; first at row 1"]
    assert values(cat, "x.jpg") == {"a": 1.0}


def test_non_utf8_file_is_refused_with_a_fix(cat, tmp_path):
    f = write(tmp_path / "m.csv", b"path,note\nx.jpg,caf\xe9\n")
    with pytest.raises(ImportFailed) as err:
        cat.import_files([f])
    assert "is not UTF-8" in str(err.value) and "iconv" in err.value.help


def test_missing_id_column(cat, tmp_path):
    with pytest.raises(ImportFailed, match=r"no id column \(none of file_fullpath, path.*its columns are: name, score"):
        cat.import_files([write(tmp_path / "m.csv", "name,score\nx,1\n")])
    report = cat.import_files([write(tmp_path / "n.csv", "name,score\nx,1\n")], id_column="name")
    assert report.rows_written == 1


def test_id_column_preference_order(cat, tmp_path):
    cat.import_files([write(tmp_path / "m.csv", "image,filepath,score\nimg.jpg,dir/img.jpg,1\n")])
    assert cat.search("").paths() == ["dir/img.jpg"]


def test_tsv(cat, tmp_path):
    cat.import_files([write(tmp_path / "m.tsv", "path\tnote\nx.jpg\ta, b\n")])
    assert values(cat, "x.jpg") == {"note": "a, b"}


def test_bad_key_name_rejects_the_column_and_normalize_fixes_it(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,Patient ID,ok\nx.jpg,7,1\n")
    report = cat.import_files([f])
    assert "column 2 'Patient ID': a key may hold only letters, digits, '_' and '.', not ' '" in \
        str(report.column_issues[0])
    assert "--normalize-keys" in str(report.column_issues[0]) and values(cat, "x.jpg") == {"ok": 1.0}
    report = cat.import_files([f], normalize_keys=True)
    assert values(cat, "x.jpg")["Patient_ID"] == 7.0  # only the invalid part repaired; case kept
    assert "key 'Patient ID' imported as 'Patient_ID' (--normalize-keys)" in report.notes


def test_empty_and_whitespace_cells_are_no_value(cat, tmp_path):
    cat.import_files([write(tmp_path / "m.csv", 'path,a,b\nx.jpg,,""\ny.jpg, 5 ,z\n')])
    assert values(cat, "x.jpg") == {}
    assert values(cat, "y.jpg") == {"a": 5.0, "b": "z"}


# -- enums -----------------------------------------------------------------------------------
def test_enum_options_are_discovered_and_limited(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,w,d\na.jpg,rain,\"rust, dent\"\nb.jpg,fog,\"[\"\"dent\"\"]\"\n"
                                  "c.jpg,this option is far too long,x\n")
    report = cat.import_files([f], types={"w": "enum", "d": "multi-enum"})
    assert [str(i) for i in report.row_issues] == [
        f"{f}, row 3, key 'w': 'this option is far too long' is longer than 20 characters, "
        "the limit for an enum option (declare the key as string)"]
    schema = cat.schema()
    assert schema.get("w").options == ("fog", "rain") and schema.get("d").options == ("dent", "rust", "x")
    assert values(cat, "a.jpg")["d"] == ["dent", "rust"] and values(cat, "c.jpg") == {"d": ["x"]}


def test_too_many_enum_options_suggest_string(cat, tmp_path):
    rows = "".join(f"i{i}.jpg,opt{i}\n" for i in range(601))
    report = cat.import_files([write(tmp_path / "m.csv", "path,w\n" + rows)], types={"w": "enum"})
    assert "would have 601 options; an enum allows at most 600 (declare it as string: --type w=string)" in \
        str(report.column_issues[0])


# -- JSON ------------------------------------------------------------------------------------
def test_json_records_keep_json_types_and_flatten(cat, tmp_path):
    data = [{"path": "a.jpg", "n": "95", "x": 95, "ok": True, "when": "2024-01-15T10:30:00Z",
             "capture": {"gps": {"lat": 51.5}, "lens": None}, "tags_list": ["b", "a"]},
            {"path": "b.jpg", "metadata": {"x": 1.5, "url": "https://a.b/c"}}]
    report = cat.import_files([write(tmp_path / "m.json", json.dumps(data))])
    types = {k.key: k.type for k in report.keys}
    assert types == {"n": "string", "x": "number", "ok": "boolean", "when": "datetime",
                     "capture.gps.lat": "number", "tags_list": "multi-enum", "url": "link"}
    assert values(cat, "a.jpg")["n"] == "95" and values(cat, "a.jpg")["tags_list"] == ["a", "b"]


def test_jsonl_bad_lines_and_nested_lists_are_row_errors(cat, tmp_path):
    f = write(tmp_path / "m.jsonl", '{"path": "a.jpg", "k": 1}\n{oops\n{"path": "c.jpg", "k": [1, 2]}\n')
    report = cat.import_files([f])
    assert [str(i) for i in report.row_issues] == [
        f"{f}, row 2: line 2 is not valid JSON (Expecting property name enclosed in double quotes)",
        f"{f}, row 3, key 'k': only strings, numbers, booleans and lists of strings can be stored"]
    assert report.rows_read == 3 and report.rows_written == 1 and report.exit_code == 3


def test_invalid_json_file_is_a_clear_error(cat, tmp_path):
    with pytest.raises(ImportFailed, match=r"invalid JSON at line 1, column 3: Expecting property name"):
        cat.import_files([write(tmp_path / "m.json", "[{")])


# -- the catalog file ------------------------------------------------------------------------
def test_newer_schema_is_refused(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,score\na.jpg,1\n")])
    con = duckdb.connect(str(cat.path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    from metastore import CatalogError
    with pytest.raises(CatalogError, match="schema version 99"):
        cat.search("").paths()


def test_strategies_are_validated(cat, tmp_path):
    from metastore import UsageError
    with pytest.raises(UsageError, match="unknown strategy"):
        cat.import_files([write(tmp_path / "a.csv", "path\na.jpg\n")], strategy="replace")
    assert apply_mod.STRATEGIES == ("merge", "merge-keep-user", "overwrite", "until-first-change", "append")


def test_multi_enum_empty_lists_are_no_value_and_bad_cells_say_why(cat, tmp_path):
    f = write(tmp_path / "m.csv", 'path,d\na.jpg,"rust, dent"\nb.jpg,","\nc.jpg,"[]"\nd.jpg,"[1"\n'
                                  'e.jpg,"a, this option is far too long to keep"\n')
    report = cat.import_files([f], types={"d": "multi-enum"})
    assert [str(i) for i in report.row_issues] == [
        f"{f}, row 4, key 'd': '[1' is not a JSON array of strings (e.g. [\"rust\", \"dent\"] or rust, dent)",
        f"{f}, row 5, key 'd': 'a, this option is far too long to keep' has an option longer than 20 "
        "characters (declare the key as string)"]
    assert cat.search("has:d").paths() == ["a.jpg"]
    assert cat.search("no:d").paths() == ["b.jpg", "c.jpg", "d.jpg", "e.jpg"]


def test_a_type_for_a_key_the_input_lacks_is_reported(cat, tmp_path):
    report = cat.import_files([write(tmp_path / "m.csv", "path,temperature\na.jpg,1\n")],
                              types={"tempreature": "number"})
    assert report.notes == ["--type tempreature=number: no file of this import has a key 'tempreature' "
                            "(check the spelling)"]
    assert report.exit_code == 0


@pytest.mark.parametrize("content, types, outcome", [
    ("a,b\n1,2\n", {}, ImportFailed),                       # no id column: raised before any row
    ("path,score\n,x\n,y\n", {"score": "number"}, 1),       # every row rejected: exit 1
    ("path,score\na.jpg,x\n", {"score": "number"}, 3),       # one bad cell: the image is written
])
def test_a_failed_first_import_leaves_no_catalog_file(cat, tmp_path, content, types, outcome):
    """Issue 12: "A failed import that writes nothing creates no catalog file" — nor a WAL; an
    import that wrote something (exit 3) keeps it, and so does a failure into an existing one."""
    f = write(tmp_path / "m.csv", content)
    if outcome is ImportFailed:
        with pytest.raises(ImportFailed):
            cat.import_files([f], types=types)
    else:
        assert cat.import_files([f], types=types).exit_code == outcome
    wal = tmp_path / "c.duckdb.wal"
    assert cat.exists() == (outcome == 3) and not wal.exists()
    cat.import_files([write(tmp_path / "ok.csv", "path,score\nz.jpg,1\n")])
    before = snapshot(cat)
    with pytest.raises(ImportFailed):
        cat.import_files([write(tmp_path / "bad.csv", "a,b\n1,2\n")])
    assert cat.exists() and snapshot(cat) == before
