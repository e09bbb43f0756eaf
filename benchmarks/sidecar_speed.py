"""Sidecar folder import speed: ``metastore import DIR`` vs a plain Python loop.

    python -m benchmarks.sidecar_speed [--images 100000] [--repeat 3]

Writes (once) a folder of N tiny images, each with a nested ``name.json`` sidecar, under
``benchmarks/data/sidecars_<N>/``. Measures, in the same run:
- baseline: a hand-written loop that walks the folder, ``json.load``s and flattens each sidecar;
- metastore: the first import into a fresh catalog (medians over fresh catalogs);
- metastore: an unchanged re-run (nothing to read; target ≤ 1 s per 100k files).
Targets (issue 5): first import ≤ 3× the loop; unchanged re-run ≤ 1 s per 100k files.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from metastore import Catalog
from metastore.readers.records import flatten

PNG = bytes.fromhex("89504e470d0a1a0a")  # the catalog never decodes images


def make_folder(root: Path, n: int, seed: int = 0) -> Path:
    marker = root / ".complete"
    if marker.exists():
        return root
    rng = random.Random(seed)
    locations = [f"dock-{c}" for c in "abcdef"] + [f"warehouse-{i}" for i in range(1, 7)]
    for i in range(n):
        loc = locations[i % len(locations)]
        d = root / loc / f"cam{i % 97:03d}"
        if i < len(locations) * 97:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"{i:07d}.jpg").write_bytes(PNG)
        side = {"capture": {"exposure_ms": round(rng.uniform(1, 40), 2),
                            "gps": {"lat": round(rng.uniform(51, 52), 6), "lon": round(rng.uniform(-1, 0), 6)}},
                "lens": rng.choice(["wide", "tele", "macro"]), "reviewed": rng.random() < 0.5,
                "captured_at": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:{i % 60:02d}:00Z",
                "objects": rng.sample(["forklift", "pallet", "person", "truck", "box"], 2),
                "notes": None if i % 3 else "glare"}
        (d / f"{i:07d}.json").write_text(json.dumps(side))
    marker.write_text("ok")
    return root


def python_loop(root: Path) -> int:
    """What a user would write by hand: walk, load each sidecar, flatten it."""
    records = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".json"):
                with open(os.path.join(dirpath, name), "rb") as fh:
                    records.append(flatten(json.load(fh)))
    return len(records)


def stat_loop(root: Path) -> int:
    """The least any change detector must do: stat every file (the floor for a re-run)."""
    n = 0
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                else:
                    e.stat()
                    n += 1
    return n


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    data = Path("benchmarks/data")
    t = time.perf_counter()
    root = make_folder(data / f"sidecars_{args.images}", args.images)
    print(json.dumps({"benchmark": "sidecar_speed", "what": "folder ready", "seconds": round(time.perf_counter() - t, 1)}))
    cwd = os.getcwd()
    loop, first, rerun, stats = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(data)
        try:
            python_loop(Path(root.name))  # warm the page cache for both sides
            for i in range(args.repeat):
                t = time.perf_counter()
                n = python_loop(Path(root.name))
                loop.append(time.perf_counter() - t)
                cat = Catalog(Path(tmp) / f"c{i}.duckdb")
                t = time.perf_counter()
                r = cat.import_files([root.name])
                first.append(time.perf_counter() - t)
                assert r.images_added == args.images == n and r.rows_failed == 0, r.to_dict()
                t = time.perf_counter()
                again = cat.import_files([root.name])
                rerun.append(time.perf_counter() - t)
                t = time.perf_counter()
                stat_loop(Path(root.name))
                stats.append(time.perf_counter() - t)
                assert again.rows_read == 0 and again.unchanged_files == args.images
                for what, secs in (("python_loop", loop[-1]), ("metastore_first", first[-1]),
                                   ("metastore_unchanged_rerun", rerun[-1]), ("stat_every_file", stats[-1])):
                    print(json.dumps({"benchmark": "sidecar_speed", "run": i, "what": what, "seconds": round(secs, 3)}))
        finally:
            os.chdir(cwd)
    med = {"python_loop": statistics.median(loop), "metastore_first": statistics.median(first),
           "metastore_unchanged_rerun": statistics.median(rerun), "stat_every_file": statistics.median(stats)}
    print(json.dumps({
        "benchmark": "sidecar_speed", "images": args.images, "repeat": args.repeat,
        "median_seconds": {k: round(v, 3) for k, v in med.items()},
        "ratio_first_vs_loop": round(med["metastore_first"] / med["python_loop"], 2),
        "ratio_rerun_vs_stat_every_file": round(med["metastore_unchanged_rerun"] / med["stat_every_file"], 2),
        # A re-run must stat every image and every sidecar: 2 files per image here.
        "rerun_seconds_per_100k_images": round(med["metastore_unchanged_rerun"] * 100_000 / args.images, 3),
        "rerun_seconds_per_100k_files": round(med["metastore_unchanged_rerun"] * 100_000 / (2 * args.images), 3),
        "targets": {"ratio_first_vs_loop": 3, "rerun_seconds_per_100k_files": 1.0},
    }))


if __name__ == "__main__":
    main()
