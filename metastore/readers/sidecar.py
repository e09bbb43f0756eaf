"""Sidecar folders (a Roboflow bucket mirror): images, each with an optional ``name.json``.

Scanning is separate from reading so that a re-run can compare sizes and mtimes with what the
catalog saw last time and read only what changed.
"""

from __future__ import annotations

import json
import os
import stat
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


def _kind(e: os.DirEntry) -> str | None:
    """None for a regular file (or a link to one), else what it is instead (for the report)."""
    try:
        if e.is_file():
            return None
        if e.is_symlink():
            os.stat(e.path)  # raises for a dangling or looping link
            return "a link to something that is not a file"
    except OSError as exc:
        return {2: "a dangling symlink", 40: "a symlink loop"}.get(exc.errno, exc.strerror or str(exc))
    try:
        mode = e.stat(follow_symlinks=False).st_mode
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def scan(folder: Path, root_arg: str | None = None, seen: dict | None = None,
         skipped: list | None = None) -> tuple[list[Found], list[str], int]:
    """(images found, sidecars that have no image, images skipped as unchanged), sorted by path.

    ``seen`` maps a file on disk to the (size, mtime_ns) the catalog last read; an image whose
    file and sidecar both still match is skipped (counted, not returned). Plain strings and
    ``os.scandir``: one ``stat`` per image and sidecar is all a re-run costs. Only regular files
    are read: FIFOs, sockets, devices, dangling or looping links and unreadable subfolders are
    appended to ``skipped`` as ``"path: why"`` (a FIFO would block the import forever)."""
    seen = seen or {}
    skipped = [] if skipped is None else skipped
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
        here = prefix + rel + "/" if rel else prefix
        try:
            with os.scandir(base + "/" + rel if rel else base) as it:
                entries = list(it)
        except OSError as exc:
            if not rel:
                raise
            skipped.append(f"{prefix}{rel}: cannot read this folder ({exc.strerror or exc})")
            continue
        for e in entries:
            name = e.name
            i = name.rfind(".")
            ext = name[i:].lower() if i > 0 else ""
            try:
                is_dir = e.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                stack.append(rel + "/" + name if rel else name)
                continue
            if ext != ".json" and ext not in IMAGE_EXTS:
                continue
            why = _kind(e)
            if why is not None:
                skipped.append(f"{here}{name}: skipped, {why}")
            elif ext == ".json":
                jsons[name[:i]] = e
            else:
                pics.append(e)
        for e in pics:
            st = e.stat()
            stat_ = (st.st_size, st.st_mtime_ns)
            name = e.name
            side = jsons.pop(name[:name.rfind(".")], None)
            if side is None:
                if seen.get(e.path) == stat_:
                    unchanged += 1
                else:
                    images.append(Found(here + name, e.path, stat_, None, None))
                continue
            s2 = side.stat()
            stat2 = (s2.st_size, s2.st_mtime_ns)
            if seen.get(e.path) == stat_ and seen.get(side.path) == stat2:
                unchanged += 1
                continue
            images.append(Found(here + name, e.path, stat_, side.path, stat2, here + side.name))
        orphans += [here + e.name for e in jsons.values()]
    images.sort(key=lambda f: f.path)
    skipped.sort()
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
        # O_NONBLOCK: a file swapped for a FIFO since the scan must not block the import (and its lock).
        fd = os.open(found.sidecar, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return Record(row, values, [(None, None, "sidecar is not a regular file")], where)
            raw = fh.read(MAX_SIDECAR_BYTES + 1)
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
