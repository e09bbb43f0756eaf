"""A served sample project for the ``metastore serve`` tests: the bundled sample (48 PNGs, CSV,
sidecars) plus real JPEGs made with Pillow, and hostile catalog paths for the security tests.
``start_server`` runs a real ``metastore serve`` process on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

JPEGS = 6  # images/extra/photo_0..5.jpg, 640x480, metadata in images/extra/photo_N.json


def make_project(dest: Path) -> Path:
    """``dest`` holds the sample and its catalog (``dest/metastore.duckdb``); returns ``dest``."""
    from PIL import Image

    from metastore import Catalog
    from metastore.sample import SAMPLE_TYPES, write_sample

    write_sample(dest)
    extra = dest / "images" / "extra"
    extra.mkdir(parents=True)
    for i in range(JPEGS):
        im = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
        im.paste((40 * i, 120, 255 - 30 * i), (40 + 60 * i, 60, 200 + 60 * i, 300))
        im.save(extra / f"photo_{i}.jpg", quality=88)
        (extra / f"photo_{i}.json").write_text(
            f'{{"location": "lab", "temperature": {10 + i}, "camera_id": "jpeg-{i}"}}', encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(dest)
    try:
        cat = Catalog("metastore.duckdb")
        cat.import_files(["metadata.csv"], types=SAMPLE_TYPES)
        cat.import_files(["images"])
    finally:
        os.chdir(cwd)
    return dest


def add_hostile_paths(dest: Path, outside: Path) -> dict:
    """Catalog paths that must not be served: a symlink out of the media root, ``..``, absolute,
    a missing file and a file that is not an image. Returns {name: catalog path}."""
    from metastore import Catalog

    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.jpg"
    secret.write_bytes((dest / "images" / "extra" / "photo_0.jpg").read_bytes())
    (dest / "images" / "link.jpg").symlink_to(secret)
    (dest / "images" / "broken.jpg").write_bytes(b"not an image at all")
    paths = {"symlink": "images/link.jpg", "dotdot": "images/../../" + outside.name + "/secret.jpg",
             "absolute": str(secret), "missing": "images/missing.jpg", "broken": "images/broken.jpg"}
    csv = dest.parent / "hostile.csv"
    csv.write_text("path,note\n" + "".join(f"{p},hostile {k}\n" for k, p in paths.items()), encoding="utf-8")
    Catalog(dest / "metastore.duckdb").import_files([csv])
    return paths


def start_server(project: Path, *args: str, env: dict | None = None, timeout: float = 30.0):
    """A real ``metastore serve --port 0`` in ``project``; returns (process, base URL, token)."""
    e = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-c", "from metastore.cli import main; main()", "serve", "--port", "0",
                             *args], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    deadline = time.monotonic() + timeout
    url = token = None
    while time.monotonic() < deadline and (url is None or token is None):
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if m:
            url = m.group(1)
        m = re.search(r"token for POST from scripts: (\S+)", line)
        if m:
            token = m.group(1)
    if url is None:
        proc.kill()
        raise RuntimeError(f"serve did not start: {proc.stderr.read()}")
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "api/info", timeout=2):
                return proc, url, token
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("serve did not answer")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
