"""--normalize-keys repairs only what is invalid, keeps case, says how it renamed, and following
the error's advice on a sidecar folder re-reads the rejected sidecars."""

from __future__ import annotations

import json

from helpers import write
from metastore import Catalog
from metastore.schema import normalize_key


def vals(cat, path):
    return {v.key: v.value for v in cat.show(path).values}


def test_normalize_key_repairs_only_invalid_parts_keeping_case():
    assert normalize_key("Lesion") == "Lesion"  # valid: unchanged, never lower-cased
    assert normalize_key("iNat ID") == "iNat_ID"
    assert normalize_key("field:interaction->visited flower of") == "field_interaction_visited_flower_of"
    assert normalize_key("café") == "cafe" and normalize_key(".x") == "x" and normalize_key("a/b") == "a_b"


def test_valid_keys_are_not_forked_into_lower_case(cat, tmp_path):
    cat.import_files([write(tmp_path / "a.csv", "path,Lesion\nx.jpg,1\n")])
    report = cat.import_files([write(tmp_path / "b.csv", "path,Lesion,Bad Key\ny.jpg,2,3\n")], normalize_keys=True)
    assert sorted(f.name for f in cat.schema().fields) == ["Bad_Key", "Lesion"]
    assert report.notes == ["key 'Bad Key' imported as 'Bad_Key' (--normalize-keys)"]


def test_rerunning_a_sidecar_folder_with_the_option_rereads_rejected_sidecars(cat, tmp_path, monkeypatch):
    root = tmp_path / "data"
    write(root / "a.jpg", b"x")
    write(root / "a.json", json.dumps({"Patient ID": 7, "ok": 1}))
    write(root / "b.jpg", b"x")
    write(root / "b.json", json.dumps({"ok": 2}))
    monkeypatch.chdir(tmp_path)
    first = cat.import_files(["data"])
    assert any("--normalize-keys" in str(i) for i in first.column_issues)
    assert vals(cat, "data/a.jpg") == {"ok": 1}
    second = cat.import_files(["data"], normalize_keys=True)
    assert vals(cat, "data/a.jpg") == {"ok": 1, "Patient_ID": 7}
    assert second.rows_read == 1 and second.unchanged_files == 1  # a.json re-read, b.json not
    third = cat.import_files(["data"], normalize_keys=True)
    assert third.rows_read == 0 and third.unchanged_files == 2


def test_json_keys_colliding_under_normalize_keys_are_a_row_error(cat, tmp_path):
    src = write(tmp_path / "m.json", json.dumps([
        {"path": "a.jpg", "Patient ID": 1, "Patient_ID": 2},
        {"path": "b.jpg", "Patient ID": 3},
        {"path": "c.jpg", "Patient_ID": 4},
    ]))
    report = cat.import_files([src], normalize_keys=True)
    assert report.exit_code == 3 and report.rows_failed == 1
    errors = report.to_dict()["errors"]
    assert any("row 1" in e and "'Patient ID' and 'Patient_ID' both become 'Patient_ID'" in e for e in errors), errors
    assert vals(cat, "b.jpg") == {"Patient_ID": 3} and vals(cat, "c.jpg") == {"Patient_ID": 4}


def test_cli_collision_is_an_error_message_not_a_traceback(run_cli, tmp_path):
    write(tmp_path / "m.jsonl", '{"path": "a.jpg", "a b": 1, "a_b": 2}\n{"path": "b.jpg", "a b": 5}\n')
    r = run_cli("import", "m.jsonl", "--normalize-keys")
    assert r.returncode == 3 and "Traceback" not in r.stderr
    assert "both become 'a_b'" in r.stderr
