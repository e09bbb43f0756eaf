"""Facets: value counts with (missing)/(other), histograms with round bins, CLI output."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from metastore import Catalog, NotFoundError
from metastore.store.facets import nice_step

ROWS = [
    # path, location, score, taken, weather, ok, defects
    ("a.jpg", "dock-a", "1", "2024-01-05", "rain", "true", '["rust","dent"]'),
    ("b.jpg", "dock-a", "7", "2024-01-20", "rain", "false", '["rust"]'),
    ("c.jpg", "dock-b", "12", "2024-02-03T10:00:00Z", "sun", "true", ""),
    ("d.jpg", "yard", "19.5", "2024-03-30", "fog", "", '["dent"]'),
    ("e.jpg", "gate", "43", "", "sun", "true", '["crack"]'),
    ("f.jpg", "", "", "2024-03-01", "", "true", ""),
]


@pytest.fixture
def cat(tmp_path) -> Catalog:
    lines = ["path,location,score,taken,weather,ok,defects"]
    for row in ROWS:
        lines.append(",".join(f'"{v.replace(chr(34), chr(34) * 2)}"' if "," in v or '"' in v else v for v in row))
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    c = Catalog(tmp_path / "c.duckdb")
    report = c.import_files([tmp_path / "m.csv"], types={"weather": "enum", "defects": "multi-enum"})
    assert report.exit_code == 0
    return c


def _counts(facet) -> dict:
    out = {}
    for b in facet.buckets:
        key = f"({b.kind})" if b.kind in ("missing", "other") else (b.value if b.kind == "value" else b.lower)
        out[key] = b.count
    return out


def test_strings_top_other_and_missing(cat):
    (f,) = cat.facets(["location"], top=2)
    assert f.total == 6 and not f.histogram
    assert _counts(f) == {"dock-a": 2, "dock-b": 1, "(other)": 2, "(missing)": 1}
    (f,) = cat.facets(["location"], "weather:rain")
    assert _counts(f) == {"dock-a": 2}


def test_enum_boolean_and_multi_enum(cat):
    weather, ok, defects = cat.facets(["weather", "ok", "defects"])
    assert _counts(weather) == {"rain": 2, "sun": 2, "fog": 1, "(missing)": 1}
    assert _counts(ok) == {True: 4, False: 1, "(missing)": 1}
    assert _counts(defects) == {"dent": 2, "rust": 2, "crack": 1, "(missing)": 2}
    (defects,) = cat.facets(["defects"], top=1)
    assert _counts(defects) == {"dent": 2, "(other)": 3, "(missing)": 2}
    (ok,) = cat.facets(["ok"], "weather:rain")
    assert _counts(ok) == {True: 1, False: 1}  # both values always shown


def test_number_histogram_has_round_bins(cat):
    (f,) = cat.facets(["score"], bins=5)
    assert f.histogram and f.step == 10
    assert _counts(f) == {0: 2, 10: 2, 20: 0, 30: 0, 40: 1, "(missing)": 1}
    assert [(b.lower, b.upper) for b in f.buckets if b.kind == "bin"][:2] == [(0, 10), (10, 20)]
    (f,) = cat.facets(["score"], "score<10", bins=20)
    assert f.step == 1 and sum(b.count for b in f.buckets) == 2  # whole numbers: bins of at least 1


@pytest.mark.parametrize("span,bins,integers,step", [
    (100, 10, False, 10), (43, 5, False, 10), (1, 10, False, 0.1), (0.37, 4, False, 0.1),
    (3, 20, True, 1), (0, 10, False, 1), (1234, 20, False, 100), (72, 20, False, 5),
])
def test_nice_step(span, bins, integers, step):
    assert nice_step(span, bins, integers) == pytest.approx(step)


def test_datetime_bins_by_calendar_unit(cat):
    (f,) = cat.facets(["taken"], bins=20)
    assert f.unit == "week"
    (f,) = cat.facets(["taken"], bins=4)
    assert f.unit == "month"
    assert _counts(f) == {datetime(2024, 1, 1): 2, datetime(2024, 2, 1): 1, datetime(2024, 3, 1): 2,
                          "(missing)": 1}
    (f,) = cat.facets(["taken"], bins=1)
    assert f.unit == "year" and _counts(f)[datetime(2024, 1, 1)] == 5


def test_empty_result_and_unknown_key(cat):
    score, loc = cat.facets(["score", "location"], "weather:fog location:nowhere")
    assert score.total == 0 and score.buckets == [] and loc.buckets == []
    with pytest.raises(NotFoundError, match="unknown key 'locaton'") as exc:
        cat.facets(["locaton"])
    assert "location" in exc.value.help


def test_cli_facets(cat, tmp_path):
    exe = Path(sys.executable).with_name("metastore")

    def run(*args):
        return subprocess.run([str(exe), "--db", "c.duckdb", "facets", *args], cwd=tmp_path,
                              capture_output=True, text=True)

    r = run("location", "score", "--query", "weather:rain OR weather:sun", "--bins", "5")
    assert r.returncode == 0, r.stderr
    assert "dock-a" in r.stdout and "█" in r.stdout and "(missing)" not in r.stdout.split("score")[0]
    r = run("defects", "ok", "--json")
    data = json.loads(r.stdout)
    assert [d["key"] for d in data] == ["defects", "ok"]
    assert {b["label"]: b["count"] for b in data[1]["buckets"]} == {"true": 4, "false": 1, "(missing)": 1}
    r = run("nope")
    assert r.returncode == 1 and r.stdout == "" and "unknown key 'nope'" in r.stderr
    r = run("score", "--bins", "0")
    assert r.returncode == 2 and r.stdout == ""


def test_tags_facet_counts_images_per_tag(cat):
    cat.tag(["a.jpg", "b.jpg", "c.jpg"], add=["review"])
    cat.tag(["a.jpg"], add=["blurry"])
    cat.tag(["d.jpg"], add=["zz-1"])
    cat.tag(["e.jpg"], add=["zz-2"])
    (f,) = cat.facets(["tags"])
    assert (f.key, f.type, f.total) == ("tags", "tags", 6)
    assert _counts(f) == {"review": 3, "blurry": 1, "zz-1": 1, "zz-2": 1, "(missing)": 1}
    (f,) = cat.facets(["tags"], top=2)
    assert _counts(f) == {"review": 3, "blurry": 1, "(other)": 2, "(missing)": 1}  # other: per tag
    tags, loc = cat.facets(["tags", "location"], "location:dock-a")
    assert _counts(tags) == {"review": 2, "blurry": 1} and tags.total == 2 and loc.total == 2
    for b in cat.facets(["tags"])[0].buckets:  # each count is what `tag:` finds
        if b.kind == "value":
            assert cat.count(f"tag:{b.value}") == b.count
