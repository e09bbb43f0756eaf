"""The benchmark workload generator: deterministic, complete, realistic."""

from __future__ import annotations

import csv
import re
from datetime import datetime

import pytest

from benchmarks.generate import (COLUMNS, DECLARED_TYPES, KEY_TYPES, MISSING, generate_rows, main,
                                 write_csv)

N = 2_000
TYPES = {"string", "number", "boolean", "datetime", "enum", "multi-enum", "link"}


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> list[dict]:
    path = write_csv(tmp_path_factory.mktemp("gen") / "images.csv", N, seed=7)
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_deterministic_bytes(tmp_path):
    a = write_csv(tmp_path / "a.csv", N, seed=3).read_bytes()
    b = write_csv(tmp_path / "sub" / "b.csv", N, seed=3).read_bytes()
    c = write_csv(tmp_path / "c.csv", N, seed=4).read_bytes()
    assert a == b
    assert a != c


def test_generate_rows_matches_csv(rows):
    generated = list(generate_rows(N, seed=7))
    assert [{k: v or "" for k, v in r.items()} for r in generated] == rows
    assert all(v is None or isinstance(v, str) for r in generated for v in r.values())


def test_columns_and_declared_types(rows):
    assert list(rows[0]) == COLUMNS == ["path", *KEY_TYPES]
    assert 18 <= len(KEY_TYPES) <= 24
    assert set(KEY_TYPES.values()) == TYPES  # every type is covered
    assert all(KEY_TYPES[k] == t for k, t in DECLARED_TYPES.items())
    assert {"capture.gps.lat", "capture.gps.lon"} <= set(KEY_TYPES)
    assert set(MISSING) == set(KEY_TYPES)


def test_missing_ratios(rows):
    assert all(r["path"] for r in rows)
    for key, rate in MISSING.items():
        assert 0.05 <= rate <= 0.30
        observed = sum(not r[key] for r in rows) / len(rows)
        assert abs(observed - rate) < 0.04, (key, observed, rate)


def test_paths_unique_and_shaped(rows):
    paths = [r["path"] for r in rows]
    assert len(set(paths)) == len(paths)
    assert all(re.fullmatch(r"images/[a-z0-9-]+/cam\d{4}/\d{7}\.jpg", p) for p in paths)


def test_values_have_intended_kinds(rows):
    def present(key):
        return [r[key] for r in rows if r[key]]

    assert all(re.fullmatch(r"0\d{3}", v) for v in present("camera_id"))  # leading zeros kept
    temps = [float(v) for v in present("temperature")]
    assert min(temps) < 0 < max(temps)
    for key in ("quality_score", "width", "height", "iso"):
        assert all(re.fullmatch(r"[1-9]\d*|0", v) for v in present(key)), key
    for key in ("capture.exposure_ms", "capture.gps.lat", "capture.gps.lon"):
        assert all(float(v) == float(v) for v in present(key))
    for key in ("reviewed", "is_blurry"):
        assert set(present(key)) == {"true", "false"}
    stamps = present("captured_at")
    date_only = [s for s in stamps if len(s) == 10]
    assert 0.05 < len(date_only) / len(stamps) < 0.15
    for s in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\dZ)?", s)
        assert 2023 <= datetime.fromisoformat(s.replace("Z", "+00:00")).year <= 2025
    assert len(set(present("weather"))) == 5 and len(set(present("shift"))) == 3
    assert 30 <= len(set(present("location"))) <= 60
    options = set()
    for cell in present("defects"):
        items = cell.split(", ")
        assert len(items) == len(set(items)) and 1 <= len(items) <= 3
        options |= set(items)
    assert len(options) == 6 and all(len(o) <= 20 for o in options)
    assert any("," in v for v in present("defects")) and any("," in v for v in present("notes"))
    assert all(v.startswith("https://") for v in present("source_url"))
    # a GPS fix has both coordinates or neither
    assert all(bool(r["capture.gps.lat"]) == bool(r["capture.gps.lon"]) for r in rows)


def test_cli(tmp_path, capsys):
    out = tmp_path / "data" / "x.csv"
    assert main(["--rows", "50", "--out", str(out), "--seed", "1"]) == 0
    assert '"rows": 50' in capsys.readouterr().out
    assert out.read_bytes() == write_csv(tmp_path / "y.csv", 50, seed=1).read_bytes()


def test_columns_are_independent(rows):
    """Each column draws its own stream: no pair of keys moves together by accident."""
    from collections import Counter
    for a, b in [("weather", "shift"), ("weather", "reviewed"), ("lens", "annotator"),
                 ("defects", "is_blurry")]:
        both = [(r[a], r[b]) for r in rows if r[a] and r[b]]
        pa, pb, pab = Counter(x for x, _ in both), Counter(y for _, y in both), Counter(both)
        n = len(both)
        worst = max(abs(pab[(x, y)] / n - pa[x] / n * pb[y] / n) for x in pa for y in pb)
        assert worst < 0.03, (a, b, worst)
    combos = {r["defects"] for r in rows if r["defects"]}
    assert len(combos) >= 30  # 41 possible: 6 singles, 15 pairs, 20 triples
    assert len({r["camera_id"] for r in rows if r["camera_id"]}) >= 350
