"""Sidecar folders (a Roboflow bucket mirror): images, each with an optional ``name.json``.

Scanning is separate from reading so that a re-run can compare sizes and mtimes with what the
catalog saw last time and read only what changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .records import LONE_SURROGATE, Record, flatten, lone_surrogate

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
#: Sidecars larger than this are refused (Roboflow's limit).
MAX_SIDECAR_BYTES = 256 * 1024


@dataclass
class Found:
    """One image in the folder and its sidecar, with what a re-run compares."""

    path: str  # as stored: the folder argument joined with the path inside it, '/'-separated
    image: str  # the file on disk (absolute, under the folder's real path)
    image_stat: tuple[int, int]  # (size, mtime_ns)
    sidecar: str | None
    sidecar_stat: tuple[int, int] | None
    sidecar_label: str | None = None  # the sidecar as the user named it (for messages)


def scan(folder: Path, root_arg: str | None = None,
         seen: dict | None = None) -> tuple[list[Found], list[str], int]:
    """(images found, sidecars that have no image, images skipped as unchanged), sorted by path.

    ``seen`` maps a file on disk to the (size, mtime_ns) the catalog last read; an image whose
    file and sidecar both still match is skipped (counted, not returned). Plain strings and
    ``os.scandir``: one ``stat`` per image and sidecar is all a re-run costs."""
    seen = seen or {}
    unchanged = 0
    root_arg = str(folder) if root_arg is None else root_arg
    root = root_arg.replace(os.sep, "/").rstrip("/")
    prefix = "" if root in ("", ".") else root + "/"
    base = os.path.realpath(folder)
    images: list[Found] = []
    orphans: list[str] = []
    stack = [""]
    while stack:
        rel = stack.pop()
        pics, jsons = [], {}
        with os.scandir(base + "/" + rel if rel else base) as it:
            for e in it:
                name = e.name
                i = name.rfind(".")
                ext = name[i:].lower() if i > 0 else ""
                if ext == ".json" and not e.is_dir():
                    jsons[name[:i]] = e
                elif ext in IMAGE_EXTS and not e.is_dir():
                    pics.append(e)
                elif e.is_dir(follow_symlinks=False):
                    stack.append(rel + "/" + name if rel else name)
        here = prefix + rel + "/" if rel else prefix
        for e in pics:
            st = e.stat()
            stat = (st.st_size, st.st_mtime_ns)
            name = e.name
            side = jsons.pop(name[:name.rfind(".")], None)
            if side is None:
                if seen.get(e.path) == stat:
                    unchanged += 1
                else:
                    images.append(Found(here + name, e.path, stat, None, None))
                continue
            s2 = side.stat()
            stat2 = (s2.st_size, s2.st_mtime_ns)
            if seen.get(e.path) == stat and seen.get(side.path) == stat2:
                unchanged += 1
                continue
            images.append(Found(here + name, e.path, stat, side.path, stat2, here + side.name))
        orphans += [here + e.name for e in jsons.values()]
    images.sort(key=lambda f: f.path)
    return images, sorted(orphans), unchanged


def read_sidecar(found: Found, row: int) -> Record:
    """The image's record: its path and its flattened sidecar (or nothing when it has none)."""
    values: dict = {"path": found.path}
    if found.sidecar is None:
        return Record(row, values, [])
    where = found.sidecar_label or found.sidecar
    size = found.sidecar_stat[0] if found.sidecar_stat else os.stat(found.sidecar).st_size
    if size > MAX_SIDECAR_BYTES:
        return Record(row, values, [(None, None, f"sidecar is {size:,} bytes; the limit is {MAX_SIDECAR_BYTES:,}")],
                      where)
    try:
        with open(found.sidecar, "rb") as fh:
            raw = fh.read()
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        raw.decode("utf-8")  # json.loads(bytes) would also accept UTF-16/32; sidecars are UTF-8
        data = json.loads(raw)
    except UnicodeDecodeError:
        return Record(row, values, [(None, None, "sidecar is not UTF-8")], where)
    except json.JSONDecodeError as exc:
        return Record(row, values, [(None, None, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")],
                      where)
    except RecursionError:
        return Record(row, values, [(None, None, "sidecar JSON nests too deeply to read")], where)
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        return Record(row, values, [(None, None, str(exc).split(";")[0])], where)
    except OSError as exc:
        return Record(row, values, [(None, None, f"cannot read sidecar: {exc.strerror}")], where)
    if not isinstance(data, dict):
        return Record(row, values, [(None, None, f"sidecar holds a JSON {type(data).__name__}, not an object")],
                      where)
    if b"\\u" in raw and lone_surrogate(data):
        return Record(row, values, [(None, None, f"sidecar {LONE_SURROGATE}")], where)
    clashes: list = []
    flat = flatten(data, clashes=clashes)
    if clashes:
        return Record(row, values, [(clashes[0], None, f"sidecar gives the key '{clashes[0]}' twice, as a dotted key "
                                                       f"and as nested objects; rename or remove one of them")], where)
    flat.pop("path", None)
    return Record(row, {**flat, "path": found.path}, [], where)
