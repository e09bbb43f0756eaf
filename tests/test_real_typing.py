"""Typing real data as it is written: timestamps with a space, `` UTC``, offsets and EXIF's
colons (the real iNaturalist export and EXIF sidecars), yes/no booleans, --datetime-format, and
mixed-type notes for JSON and sidecars as for CSV."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime

import pytest

from helpers import write
from metastore.errors import UsageError
from realdata import realdata


def vals(cat, path):
    return {v.key: v.value for v in cat.show(path).values}


def test_inaturalist_export_timestamps_are_datetimes(cat):
    src = realdata("inat_observations-568611.csv")
    report = cat.import_files([src], normalize_keys=True)
    assert report.exit_code == 0, report.to_dict()["errors"][:3]
    types = {k.key: k.type for k in report.keys}
    assert types["time_observed_at"] == types["created_at"] == types["updated_at"] == "datetime"
    assert types["observed_on"] == "datetime" and types["captive_cultivated"] == "boolean"
    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    row = next(r for r in rows if r["time_observed_at"].endswith(" UTC"))
    v = vals(cat, row["id"])
    assert v["time_observed_at"] == datetime.strptime(row["time_observed_at"], "%Y-%m-%d %H:%M:%S UTC")
    assert v["created_at"] == datetime.strptime(row["created_at"], "%Y-%m-%d %H:%M:%S UTC")
    # observed_on_string is in many forms: a string, and the note names --datetime-format
    note = next(k.note for k in report.keys if k.key == "observed_on_string")
    assert "--datetime-format observed_on_string=" in note
    year = sum(r["time_observed_at"].startswith("2016-") for r in rows)
    assert cat.count("time_observed_at:2016") == year


def test_exif_sidecars_with_colon_dates_and_mixed_values(cat, tmp_path, monkeypatch):
    root = tmp_path / "exif"
    shutil.copytree(realdata("exif-samples-sidecars"), root)
    sidecars = sorted(root.rglob("*.json"))
    for side in sidecars:
        side.chmod(0o644)
        side.with_suffix(".jpg").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    report = cat.import_files(["exif"])
    types = {k.key: k.type for k in report.keys}
    assert types["EXIF.DateTimeOriginal"] == "datetime" and types["Image.DateTime"] == "datetime"
    canon = json.loads((root / "Canon_40D.json").read_text())
    stamp = canon["EXIF"]["DateTimeOriginal"]  # '2008:05:30 15:56:01'
    assert vals(cat, "exif/Canon_40D.jpg")["EXIF.DateTimeOriginal"] == datetime.strptime(stamp, "%Y:%m:%d %H:%M:%S")
    # a key that is a number everywhere but once gets the same note as a CSV column
    widths = [json.loads(s.read_text()).get("EXIF", {}).get("ExifImageWidth") for s in sidecars]
    widths = [w for w in widths if w is not None]
    odd = [w for w in widths if not isinstance(w, (int, float))]
    note = next(k.note for k in report.keys if k.key == "EXIF.ExifImageWidth")
    assert note.startswith(f"EXIF.ExifImageWidth: string, because {len(odd)} of {len(widths)} values is not a number")
    assert ".json" in note and "--type EXIF.ExifImageWidth=number" in note


def test_yes_no_columns_are_booleans_and_0_1_stays_a_number(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,reviewed,flag,n,maybe\na.jpg,yes,Yes,0,yes\nb.jpg,NO,no,1,maybe\n"
                                  "c.jpg,,YES,1,no\n")
    report = cat.import_files([f])
    types = {k.key: k.type for k in report.keys}
    assert types == {"reviewed": "boolean", "flag": "boolean", "n": "number", "maybe": "string"}
    assert vals(cat, "b.jpg")["reviewed"] is False and vals(cat, "a.jpg")["flag"] is True
    assert "1 of 3 values is not a boolean" in next(k.note for k in report.keys if k.key == "maybe")
    assert cat.search("reviewed:true").paths() == ["a.jpg"]


def test_json_mixed_kinds_get_a_note(cat, tmp_path):
    f = write(tmp_path / "m.json", json.dumps([{"path": "a.jpg", "q": 5}, {"path": "b.jpg", "q": "n/a"},
                                               {"path": "c.jpg", "q": 7}]))
    report = cat.import_files([f])
    (q,) = [k for k in report.keys if k.key == "q"]
    assert q.type == "string"
    assert q.note.startswith("q: string, because 1 of 3 values is not a number, e.g. 'n/a' at row 2")


def test_datetime_format_reads_other_forms_and_lists_misfits(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,seen\na.jpg,07/16/2016 08:14\nb.jpg,12/01/2020 23:59\nc.jpg,soon\n")
    report = cat.import_files([f], datetime_formats={"seen": "%m/%d/%Y %H:%M"})
    assert report.exit_code == 3 and report.cells_failed == 1
    assert vals(cat, "a.jpg")["seen"] == datetime(2016, 7, 16, 8, 14)
    assert [str(i) for i in report.row_issues] == [
        f"{f}, row 3, key 'seen': 'soon' does not match --datetime-format '%m/%d/%Y %H:%M'"]
    assert cat.search("seen:2020-12").paths() == ["b.jpg"]
    g = write(tmp_path / "n.csv", "path,seen\nd.jpg,2021-03-04 +0200\n")
    cat.import_files([g], datetime_formats={"seen": "%Y-%m-%d %z"})
    assert vals(cat, "d.jpg")["seen"] == datetime(2021, 3, 3, 22, 0)


@pytest.mark.parametrize("fmt, message", [("%Q", "Unrecognized format"), ("%d'; DROP", "not a strftime form"),
                                          ("plain", "not a strftime form")])
def test_bad_datetime_formats_are_usage_errors(cat, tmp_path, fmt, message):
    f = write(tmp_path / "m.csv", "path,seen\na.jpg,x\n")
    with pytest.raises(UsageError, match=message):
        cat.import_files([f], datetime_formats={"seen": fmt})


def test_dates_in_an_unknown_form_get_a_note(cat, tmp_path):
    f = write(tmp_path / "m.csv", "path,when\na.jpg,7/16/2016\nb.jpg,12/1/2020\nc.jpg,3/3/2021 8:14 AM\n")
    report = cat.import_files([f])
    (k,) = report.keys
    assert k.type == "string" and "look like dates" in k.note and "--datetime-format when=" in k.note


def test_cli_datetime_format(run_cli, tmp_path):
    write(tmp_path / "m.csv", "path,seen\na.jpg,16.07.2016\n")
    r = run_cli("import", "m.csv", "--datetime-format", "seen=%d.%m.%Y")
    assert r.returncode == 0, r.stderr
    assert run_cli("search", "seen:2016-07-16").stdout.split() == ["a.jpg"]
    r = run_cli("import", "m.csv", "--datetime-format", "seen")
    assert r.returncode == 2 and "expects KEY=VALUE" in r.stderr
