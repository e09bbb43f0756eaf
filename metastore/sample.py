"""The bundled sample: a small, deterministic warehouse-camera project.

``write_sample(dest)`` writes 48 tiny valid PNGs under ``dest/images/<location>/``, a wide
``dest/metadata.csv`` and a ``name.json`` sidecar beside about a third of the images. The CSV's
``path`` column holds each image's path relative to ``dest`` (``images/dock-a/cam03_0005.png``),
which is exactly what ``metastore import images/`` stores when run from inside ``dest``, so the
quickstart is::

    cd DEST
    metastore import metadata.csv --type weather=enum --type defects=multi-enum
    metastore import images/
    metastore search "temperature>20 location:warehouse-3 reviewed:true"

Standard library only; the same call always writes byte-identical files.
"""

from __future__ import annotations

import csv
import json
import random
import struct
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

__all__ = ["write_sample", "SAMPLE_TYPES", "SAMPLE_QUERIES", "SAMPLE_COLUMNS"]

SAMPLE_TYPES = {"weather": "enum", "defects": "multi-enum"}

SAMPLE_COLUMNS = [
    "path", "temperature", "location", "reviewed", "captured_at", "weather", "camera_id",
    "quality_score", "source_url", "defects", "annotator",
]

# Each one matches at least one image of the sample (tests/test_sample.py checks a few).
SAMPLE_QUERIES = [
    "temperature>20 location:warehouse-3 reviewed:true",
    "temperature<0 location:yard",
    "location:[dock-a, dock-b] -reviewed:true",
    "(weather:rain OR weather:fog) NOT reviewed:true quality_score>=60",
    "defects:rust defects:dent",
    "captured_at:2024-03",
    "no:annotator",
    "camera_id:007",
    "source_url~dock-b",
    "capture.exposure_ms<10 lens:wide",
    "forklift",
]

_LOCATIONS = {"warehouse-3": (2, 7), "dock-a": (3, 12), "dock-b": (5,), "yard": (1, 9)}
_WEATHER = ["cloudy", "fog", "rain", "snow", "sunny"]
_DEFECTS = ["rust", "dent", "scratch", "crack", "leak"]
_ANNOTATORS = ["ana", "bo", "chen", "dara", "eli"]
_OBJECTS = ["forklift", "pallet", "person", "truck", "box"]
_TEMP_RANGE = {"warehouse-3": (14.0, 29.0), "dock-a": (2.0, 24.0), "dock-b": (0.0, 22.0),
               "yard": (-12.0, 31.0)}
_IMAGES = 48
_SIZE = 16


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(rgb: tuple[int, int, int], gradient: bool) -> bytes:
    """A 16x16 8-bit RGB PNG: solid, or fading left to right."""
    rows = []
    for _y in range(_SIZE):
        row = bytearray(b"\x00")  # filter type 0 (None)
        for x in range(_SIZE):
            f = (x + 4) / (_SIZE + 3) if gradient else 1.0
            row += bytes(int(c * f) for c in rgb)
        rows.append(bytes(row))
    ihdr = struct.pack(">IIBBBBB", _SIZE, _SIZE, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + _chunk(b"IEND", b""))


def _records(rng: random.Random) -> list[dict]:
    start = datetime(2024, 1, 3, tzinfo=timezone.utc)
    cams = [(loc, cam) for loc, cs in _LOCATIONS.items() for cam in cs]
    out = []
    for n in range(_IMAGES):
        loc, cam = cams[n % len(cams)]
        lo, hi = _TEMP_RANGE[loc]
        when = start + timedelta(days=7 * (n % 50) + rng.randint(0, 6), seconds=rng.randint(0, 86399))
        k = rng.choice([0, 0, 1, 1, 2])
        defects = sorted(rng.sample(_DEFECTS, k), key=_DEFECTS.index)
        if n % 8 == 3:  # make sure "defects:rust defects:dent" finds something
            defects = ["rust", "dent"]
        out.append({
            "path": f"images/{loc}/cam{cam:02d}_{n:04d}.png",
            "temperature": "" if n % 9 == 4 else f"{rng.uniform(lo, hi):.1f}",
            "location": loc,
            "reviewed": "true" if rng.random() < 0.55 else "false",
            "captured_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "weather": rng.choice(_WEATHER),
            "camera_id": f"{cam:03d}",
            "quality_score": str(rng.randint(20, 100)),
            "source_url": f"https://assets.example.com/raw/{loc}/cam{cam:02d}/{n:04d}.png",
            "defects": ", ".join(defects),
            "annotator": "" if rng.random() < 0.25 else rng.choice(_ANNOTATORS),
        })
    return out


def _sidecar(rng: random.Random, loc: str) -> dict:
    base = {"warehouse-3": (51.5072, -0.1276), "dock-a": (51.5033, -0.0195),
            "dock-b": (51.5040, -0.0210), "yard": (51.5101, -0.1340)}[loc]
    return {
        "capture": {
            "exposure_ms": round(rng.uniform(2.0, 40.0), 1),
            "gps": {"lat": round(base[0] + rng.uniform(-1e-3, 1e-3), 6),
                    "lon": round(base[1] + rng.uniform(-1e-3, 1e-3), 6)},
        },
        "lens": rng.choice(["wide", "wide", "tele"]),
        "objects": sorted(rng.sample(_OBJECTS, rng.randint(1, 3))),
        "notes": rng.choice([None, None, "lens smudged", "glare from skylight"]),
    }


def write_sample(dest: Path) -> Path:
    """Write the sample project into ``dest`` (created; existing sample files are overwritten).

    Returns ``dest``. Paths in ``metadata.csv`` are relative to ``dest``.
    """
    dest = Path(dest)
    rng = random.Random(20240115)
    records = _records(rng)
    for n, rec in enumerate(records):
        img = dest / rec["path"]
        img.parent.mkdir(parents=True, exist_ok=True)
        rgb = (rng.randrange(40, 256), rng.randrange(40, 256), rng.randrange(40, 256))
        img.write_bytes(_png(rgb, gradient=n % 2 == 1))
        if n % 3 == 0:
            side = json.dumps(_sidecar(rng, rec["location"]), indent=2) + "\n"
            img.with_suffix(".json").write_text(side, encoding="utf-8")
    with open(dest / "metadata.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=SAMPLE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return dest
