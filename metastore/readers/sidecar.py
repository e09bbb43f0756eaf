"""Sidecar folders (a Roboflow bucket mirror): images, each with an optional ``name.json``.

Scanning is separate from reading so that a re-run can compare sizes and mtimes with what the
catalog saw last time and read only what changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .records import Record, flatten

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
#: Sidecars larger than this are refused (Roboflow's limit).
MAX_SIDECAR_BYTES = 256 * 1024


@dataclass
class Found:
    """One image in the folder and its sidecar, with what a re-run compares."""

    path: str  # as stored: the folder argument joined with the path inside it, '/'-separated
    image: Path
    image_stat: tuple[int, int]  # (size, mtime_ns)
    sidecar: Path | None
    sidecar_stat: tuple[int, int] | None


def _join(root_arg: str, rel: str) -> str:
    root = root_arg.replace(os.sep, "/").rstrip("/")
    if root in ("", "."):
        return rel
    return f"{root}/{rel}"


def scan(folder: Path, root_arg: str | None = None) -> tuple[list[Found], list[Path]]:
    """(images found, sidecars that have no image), in a stable (sorted) order."""
    root_arg = str(folder) if root_arg is None else root_arg
    images: list[Found] = []
    orphans: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        names = set(filenames)
        stems = {os.path.splitext(n)[0] for n in filenames if os.path.splitext(n)[1].lower() in IMAGE_EXTS}
        for name in sorted(filenames):
            stem, ext = os.path.splitext(name)
            full = Path(dirpath) / name
            if ext.lower() in IMAGE_EXTS:
                st = full.stat()
                side = stem + ".json"
                sidecar = Path(dirpath) / side if side in names else None
                sst = None
                if sidecar is not None:
                    s2 = sidecar.stat()
                    sst = (s2.st_size, s2.st_mtime_ns)
                rel = full.relative_to(folder).as_posix()
                images.append(Found(_join(root_arg, rel), full, (st.st_size, st.st_mtime_ns), sidecar, sst))
            elif ext.lower() == ".json" and stem not in stems:
                orphans.append(full)
    return images, orphans


def read_sidecar(found: Found, row: int) -> Record:
    """The image's record: its path and its flattened sidecar (or nothing when it has none)."""
    values: dict = {"path": found.path}
    if found.sidecar is None:
        return Record(row, values, [])
    where = found.sidecar.as_posix()
    size = found.sidecar_stat[0] if found.sidecar_stat else found.sidecar.stat().st_size
    if size > MAX_SIDECAR_BYTES:
        return Record(row, values, [(None, None, f"sidecar is {size:,} bytes; the limit is {MAX_SIDECAR_BYTES:,}")],
                      where)
    try:
        data = json.loads(found.sidecar.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        return Record(row, values, [(None, None, "sidecar is not UTF-8")], where)
    except json.JSONDecodeError as exc:
        return Record(row, values, [(None, None, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")],
                      where)
    except OSError as exc:
        return Record(row, values, [(None, None, f"cannot read sidecar: {exc.strerror}")], where)
    if not isinstance(data, dict):
        return Record(row, values, [(None, None, f"sidecar holds a JSON {type(data).__name__}, not an object")],
                      where)
    flat = flatten(data)
    flat.pop("path", None)
    return Record(row, {**flat, "path": found.path}, [], where)
