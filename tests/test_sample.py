"""The bundled sample: valid PNGs, deterministic bytes, a well-formed CSV and sidecars."""

from __future__ import annotations

import csv
import json
import re
import struct
import zlib
from pathlib import Path

import pytest

from metastore.sample import SAMPLE_COLUMNS, SAMPLE_QUERIES, SAMPLE_TYPES, write_sample

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BYTES_PER_PIXEL = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> samples per pixel (8-bit depth)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("sample") / "warehouse")


def _rows(sample: Path) -> list[dict]:
    with open(sample / "metadata.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _chunks(data: bytes):
    assert data[:8] == PNG_SIGNATURE
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"bad CRC in {kind!r}"
        yield kind, body
        pos += 12 + length
    assert pos == len(data), "trailing bytes after the last chunk"


def test_pngs_are_valid(sample):
    pngs = sorted(sample.rglob("*.png"))
    assert 40 <= len(pngs) <= 60
    for png in pngs:
        chunks = list(_chunks(png.read_bytes()))
        kinds = [k for k, _ in chunks]
        assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds, png
        width, height, depth, colour, comp, filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
        assert (depth, comp, filt, interlace) == (8, 0, 0, 0)
        raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
        assert len(raw) == height * (1 + width * BYTES_PER_PIXEL[colour])
        assert all(raw[r * (1 + width * BYTES_PER_PIXEL[colour])] == 0 for r in range(height))


def test_nested_folders(sample):
    folders = {p.parent.relative_to(sample).as_posix() for p in sample.rglob("*.png")}
    assert {"images/warehouse-3", "images/dock-a", "images/dock-b", "images/yard"} <= folders


def test_deterministic(tmp_path):
    a, b = write_sample(tmp_path / "a"), write_sample(tmp_path / "b")
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_csv_columns_and_paths(sample):
    with open(sample / "metadata.csv", newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == SAMPLE_COLUMNS
    rows = _rows(sample)
    assert len(rows) == len(list(sample.rglob("*.png")))
    for row in rows:
        assert (sample / row["path"]).is_file()  # paths are relative to dest
        assert not row["path"].startswith("/")


def test_csv_values_exercise_auto_typing(sample):
    rows = _rows(sample)
    temps = [float(r["temperature"]) for r in rows if r["temperature"]]
    assert any(t < 0 for t in temps) and len(temps) < len(rows)  # negatives and missing
    assert all(re.fullmatch(r"0\d\d", r["camera_id"]) for r in rows)  # leading zeros
    assert {r["reviewed"] for r in rows} == {"true", "false"}
    assert all(re.fullmatch(r"2024-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["captured_at"]) for r in rows)
    assert {r["weather"] for r in rows} <= {"cloudy", "fog", "rain", "snow", "sunny"}
    assert all(0 <= float(r["quality_score"]) <= 100 for r in rows)
    assert all(r["source_url"].startswith("https://") for r in rows)
    assert any("," in r["defects"] for r in rows) and any(not r["defects"] for r in rows)
    assert any(not r["annotator"] for r in rows)
    options = {d.strip() for r in rows for d in r["defects"].split(",") if d.strip()}
    assert all(len(o) <= 20 for o in options)
    assert set(SAMPLE_TYPES) <= set(SAMPLE_COLUMNS)


def test_sidecars(sample):
    sidecars = sorted(sample.rglob("*.json"))
    pngs = list(sample.rglob("*.png"))
    assert len(pngs) // 4 <= len(sidecars) <= len(pngs) // 2
    for side in sidecars:
        assert side.with_suffix(".png").is_file()
        assert side.stat().st_size < 256 * 1024
        data = json.loads(side.read_text(encoding="utf-8"))
        assert isinstance(data["capture"]["gps"]["lat"], float)
        assert isinstance(data["capture"]["exposure_ms"], float)
        assert "notes" in data


def test_example_queries_find_something(sample):
    """A few SAMPLE_QUERIES evaluated by hand over the raw files: none is empty."""
    rows = _rows(sample)
    sides = {s.with_suffix(".png").relative_to(sample).as_posix(): json.loads(s.read_text())
             for s in sample.rglob("*.json")}
    temp = lambda r: float(r["temperature"]) if r["temperature"] else None  # noqa: E731
    assert "temperature>20 location:warehouse-3 reviewed:true" in SAMPLE_QUERIES
    assert any((temp(r) or 0) > 20 and r["location"] == "warehouse-3" and r["reviewed"] == "true"
               for r in rows)
    assert any(temp(r) is not None and temp(r) < 0 and r["location"] == "yard" for r in rows)
    assert any({"rust", "dent"} <= {d.strip() for d in r["defects"].split(",")} for r in rows)
    assert any(r["captured_at"].startswith("2024-03") for r in rows)
    assert any(r["camera_id"] == "007" for r in rows)
    assert any(s["capture"]["exposure_ms"] < 10 and s["lens"] == "wide" for s in sides.values())
    assert any("forklift" in s["objects"] for s in sides.values())
