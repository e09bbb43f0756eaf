"""Keys that would be silently dropped or never seen again (issue 14, defects 5 and 6, and the
`set PATH 'x;y=1'` exit code): a record holding one key twice (dotted and nested, or inside and
outside ``metadata``) is a row error naming both; keys named ``path`` or ``media_id`` are refused
with the rename to use."""

from __future__ import annotations

import json

import pytest

from helpers import write
from metastore import Catalog, MetastoreError, UsageError


@pytest.mark.parametrize("record,names", [
    ({"path": "a.jpg", "a.b": 1, "a": {"b": 2}}, ("'a.b'", "a.b")),
    ({"path": "a.jpg", "a": {"b": 2}, "a.b": 1}, ("'a.b'", "a.b")),
    ({"path": "a.jpg", "x": 1, "metadata": {"x": 2}}, ("'x'", "'metadata.x'")),
    ({"path": "a.jpg", "metadata": {"x": 2}, "x": 1}, ("'x'", "'metadata.x'")),
], ids=["dotted-then-nested", "nested-then-dotted", "outside-then-metadata", "metadata-then-outside"])
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_a_key_given_twice_in_one_record_is_a_row_error(cat, tmp_path, record, names, fmt):
    other = {"path": "b.jpg", "a.b": 5, "x": 5}
    text = json.dumps([record, other]) if fmt == "json" else json.dumps(record) + "\n" + json.dumps(other) + "\n"
    rep = cat.import_files([write(tmp_path / f"r.{fmt}", text)])
    assert rep.exit_code == 3 and rep.rows_failed == 1, rep.to_dict()
    msg = " ".join(rep.to_dict()["errors"])
    assert all(n in msg for n in names) and "record 1" in msg, msg
    assert cat.search("").paths() == ["b.jpg"]


@pytest.mark.parametrize("name", ["path", "media_id"])
def test_keys_named_path_or_media_id_are_refused_with_a_rename(cat, tmp_path, name):
    rep = cat.import_files([write(tmp_path / "m.csv", f"file,{name},k\na.jpg,x,1\n")], id_column="file")
    msg = " ".join(rep.to_dict()["errors"])
    assert rep.exit_code == 3 and f"'{name}'" in msg and f"{name}_" in msg, rep.to_dict()
    assert [k.name for k in cat.keys()] == ["k"]
    rep = cat.import_files([write(tmp_path / "m.json", json.dumps([{"file": "b.jpg", name: "y", "k": 2}]))],
                           id_column="file")
    assert rep.exit_code == 3 and [k.name for k in cat.keys()] == ["k"]
    with pytest.raises(MetastoreError, match=f"{name}_"):
        cat.set("a.jpg", {name: "z"})
    with pytest.raises(UsageError, match=f"{name}_"):
        cat.declare_field(name, "string")
    rep = cat.import_files([write(tmp_path / "n.csv", f"file,{name}\nc.jpg,x\n")], id_column="file",
                           normalize_keys=True)
    assert [k.name for k in cat.keys()] == ["k"]


def test_set_with_an_invalid_key_is_a_bad_value(cat, tmp_path, run_cli):
    """Also: `metastore set PATH 'x;y=1'` exited 2 (a usage error); an invalid key is a bad value (1)."""
    cat.import_files([write(tmp_path / "m.csv", "path,k\na.jpg,1\n")])
    r = run_cli("set", "a.jpg", "x;y=1", db=cat.path)
    assert r.returncode == 1 and "invalid key 'x;y'" in r.stderr and "Traceback" not in r.stderr, r.stderr
