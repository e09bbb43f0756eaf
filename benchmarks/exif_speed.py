"""EXIF header reading speed: metastore's reader vs a bare ``Image.open`` + ``getexif`` loop.

    python -m benchmarks.exif_speed [--images 10000] [--repeat 5]

Writes (once) N camera-sized JPEGs (4000 x 3000 pixels, ~700 KB, each with its own EXIF: make,
model, lens, DateTimeOriginal + offset, exposure, f-number, ISO, focal length, orientation, GPS
on 2 of 3, and the ~30 other tags and 2 KB MakerNote a camera writes) under
``benchmarks/data/exif_<N>/`` with Pillow. The pixel data is encoded once and each file gets its
own EXIF block in front of it, so writing 10,000 files takes seconds, not an hour of encoding.

Measures, interleaved in the same run, medians of ``--repeat`` passes (after a warm-up pass that
brings the files into the page cache for both):
- baseline: ``with Image.open(p) as im: im.getexif()`` over every file (what a user would write);
- reader: ``metastore.readers.exif.header_values`` over every file (header, EXIF, EXIF and GPS
  sub-IFDs, conversion to values);
- import: ``metastore import DIR --exif`` into a fresh catalog (informational: it also stats,
  stages, types and writes).
Target (issue 12): reader ≤ 1.5× baseline.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image, TiffImagePlugin

from metastore import Catalog
from metastore.readers.exif import header_values

R = TiffImagePlugin.IFDRational


def _exif(rng: random.Random, i: int) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = rng.choice(["Canon", "NIKON CORPORATION", "FUJIFILM", "SONY", "Apple"])
    exif[0x0110] = f"Model {rng.randint(1, 40)}"
    exif[0x0112] = rng.choice([1, 1, 1, 3, 6, 8])
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = f"20{10 + i % 14:02d}:{1 + i % 12:02d}:{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(7 * i) % 60:02d}"
    ifd[0x9011] = rng.choice(["+02:00", "-07:00", "+00:00"])
    ifd[0x829A] = R(1, rng.choice([30, 60, 125, 250, 1000]))
    ifd[0x829D] = R(rng.choice([18, 28, 40, 56, 80]), 10)
    ifd[0x8827] = rng.choice([100, 200, 400, 800, 3200])
    ifd[0x920A] = R(rng.randint(12, 200), 1)
    ifd[0xA434] = f"Lens {rng.randint(1, 20)}mm"
    # The rest of what a camera writes (cf. the real sidecars in shared/realdata/exif-samples-sidecars):
    # readers must step over it, as they do in real files.
    exif[0x011A], exif[0x011B], exif[0x0128] = R(72, 1), R(72, 1), 2
    exif[0x0131], exif[0x0132], exif[0x0213] = "Firmware 1.0.1", "2020:01:01 10:00:00", 2
    exif[0x8298] = "Copyright (c) someone"
    ifd[0x9000], ifd[0x9004], ifd[0x9101] = b"0231", "2020:01:01 10:00:00", b"\x01\x02\x03\x00"
    ifd[0x9201], ifd[0x9202], ifd[0x9204] = R(8, 1), R(3, 1), R(0, 1)
    ifd[0x9205], ifd[0x9207], ifd[0x9209] = R(3, 1), 5, 16
    ifd[0x9290], ifd[0x9291], ifd[0x9292] = "00", "00", "00"
    ifd[0xA000], ifd[0xA001], ifd[0xA002], ifd[0xA003] = b"0100", 1, 4000, 3000
    ifd[0xA20E], ifd[0xA20F], ifd[0xA210] = R(4000000, 876), R(4000000, 876), 2
    ifd[0xA401], ifd[0xA402], ifd[0xA403], ifd[0xA406] = 0, 0, 0, 0
    ifd[0xA431], ifd[0xA432] = f"{rng.randint(10**8, 10**9)}", (R(50, 1), R(50, 1), R(18, 10), R(18, 10))
    ifd[0x927C] = bytes(rng.getrandbits(8) for _ in range(2048))  # MakerNote: an opaque blob
    if i % 3:
        g = exif.get_ifd(0x8825)
        g[1], g[2] = "N", (R(rng.randint(0, 89), 1), R(rng.randint(0, 59), 1), R(rng.randint(0, 5999), 100))
        g[3], g[4] = "W", (R(rng.randint(0, 179), 1), R(rng.randint(0, 59), 1), R(rng.randint(0, 5999), 100))
        g[5], g[6] = b"\x00", R(rng.randint(0, 3000), 1)
    return exif.tobytes()


def make_folder(root: Path, n: int, seed: int = 0) -> Path:
    marker = root / ".complete"
    if marker.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    # One camera-sized picture with texture (so its size is realistic), encoded once.
    small = Image.effect_noise((200, 150), 20).convert("RGB")
    buf = io.BytesIO()
    small.resize((4000, 3000)).save(buf, "JPEG", quality=80)
    body = buf.getvalue()
    assert body[:2] == b"\xff\xd8"
    for i in range(n):
        exif = _exif(rng, i)  # Exif.tobytes() starts with Exif\\0\\0
        app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
        d = root / f"cam{i % 20:02d}"
        d.mkdir(exist_ok=True)
        (d / f"IMG_{i:05d}.jpg").write_bytes(body[:2] + app1 + body[2:])
    marker.write_text(json.dumps({"images": n, "bytes_each": len(body)}))
    return root


def files(root: Path) -> list[str]:
    return sorted(str(p) for p in root.rglob("*.jpg"))


def baseline(paths: list[str]) -> int:
    n = 0
    for p in paths:
        with Image.open(p) as im:
            n += len(im.getexif())
    return n


def reader(paths: list[str]) -> int:
    n = 0
    for p in paths:
        n += len(header_values(p, os.path.getsize(p)))
    return n


def run_import(root: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        report = Catalog(Path(tmp) / "c.duckdb").import_files([root], exif=True)
        elapsed = time.perf_counter() - t
        assert report.exit_code == 0, report.to_dict()["errors"][:3]
        return elapsed


def timed(fn, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): on a shared, loaded machine the CPU time of
    the loop is the steadier measure of the work each side does."""
    t, c = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-import", action="store_true", help="skip the full import measurement")
    args = ap.parse_args()
    root = make_folder(Path(__file__).parent / "data" / f"exif_{args.images}", args.images)
    info = json.loads((root / ".complete").read_text())
    paths = files(root)
    assert len(paths) == args.images
    baseline(paths), reader(paths)  # warm-up: page cache and imports for both
    base, ours, imp = [], [], []
    for _ in range(args.repeat):
        base.append(timed(baseline, paths))
        ours.append(timed(reader, paths))
        if not args.no_import:
            imp.append(run_import(root))
    b, o = statistics.median(x[0] for x in base), statistics.median(x[0] for x in ours)
    bc, oc = statistics.median(x[1] for x in base), statistics.median(x[1] for x in ours)
    print(json.dumps({"benchmark": "exif_speed", "images": args.images, "jpeg_bytes": info["bytes_each"],
                      "baseline_median_s": round(b, 3), "reader_median_s": round(o, 3),
                      "ratio": round(o / b, 2), "baseline_cpu_s": round(bc, 3), "reader_cpu_s": round(oc, 3),
                      "cpu_ratio": round(oc / bc, 2), "target": 1.5}))
    if imp:
        i = statistics.median(imp)
        print(json.dumps({"benchmark": "exif_speed.import", "images": args.images, "import_median_s": round(i, 3),
                          "ratio_to_baseline": round(i / b, 2)}))


if __name__ == "__main__":
    main()
