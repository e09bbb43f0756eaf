"""Where an export's media go: ``OUT/media/<path>`` for each image, copied, symlinked or
hard-linked — after refusing every path that would escape ``--out`` (absolute, ``..``), collide
(also by case or Unicode form), come from outside ``--media-root`` through a symlink, or be
written into the source tree or through a symlinked folder. Every source is checked before
anything is written (:func:`plan` and :func:`check_tree`, then :func:`place`).
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path, PurePosixPath

from .errors import ExportError

MEDIA_DIR = "media"
_SHOW = 5  # how many offending paths an error lists


def relative_media_path(path: str) -> PurePosixPath | None:
    """The image path as a safe relative path, or None when it is absolute or climbs out (``..``)."""
    if not path or path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path):
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return PurePosixPath(*parts)


def _within(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def plan(rows: list[tuple], out: Path, root: Path) -> list[tuple[Path, Path]]:
    """``(source, destination)`` per row, after refusing unsafe or colliding paths."""
    unsafe, plan, seen, folded = [], [], {}, {}
    real_root = os.path.realpath(root)
    for row in rows:
        rel = relative_media_path(row[0])
        if rel is None:
            unsafe.append(row[0])
            continue
        prev = seen.setdefault(rel, row[0])
        if prev != row[0]:
            raise ExportError(f"images '{prev}' and '{row[0]}' would both be placed at {MEDIA_DIR}/{rel}")
        # a.jpg and A.jpg (or NFC/NFD spellings) are one file on macOS and Windows: refuse up front.
        other = folded.setdefault(unicodedata.normalize("NFC", str(rel)).casefold(), row[0])
        if other != row[0]:
            raise ExportError(f"images '{other}' and '{row[0]}' differ only in case or Unicode form: they would "
                              f"overwrite each other on a case-insensitive file system",
                              help="rename one of them, or leave one out of the query")
        src = root.joinpath(*rel.parts)
        if os.path.islink(src) or os.path.realpath(src.parent) != os.path.join(real_root, *rel.parts[:-1]):
            if not _within(os.path.realpath(src), real_root):
                raise ExportError(f"{src} is a symlink leading out of --media-root",
                                  help="export never copies or links files from outside the media root")
        plan.append((src, out.joinpath(MEDIA_DIR, *rel.parts)))
    if unsafe:
        raise ExportError(
            f"{len(unsafe):,} image path(s) would escape --out (absolute or containing '..'): "
            + ", ".join(repr(p) for p in unsafe[:_SHOW]) + (" …" if len(unsafe) > _SHOW else ""),
            help="media can only be placed for relative paths; export without --media, or narrow the query")
    return plan


def check_tree(plan: list[tuple[Path, Path]], out: Path, root: Path) -> None:
    """Refuse writing into the source tree and through symlinked folders that lead out of --out."""
    real_out, real_root = os.path.realpath(out), os.path.realpath(root)
    if _within(real_out, real_root) or _within(real_root, real_out):
        raise ExportError(f"--out {out} and --media-root {root} overlap",
                          help="export never writes into the source tree: choose --out outside --media-root")
    if not out.exists():
        return  # a new folder holds no symlinks
    media = os.path.join(real_out, MEDIA_DIR)
    if os.path.lexists(out / MEDIA_DIR) and os.path.realpath(out / MEDIA_DIR) != media:
        raise ExportError(f"{out / MEDIA_DIR} is a symlink leading out of --out",
                          help="remove it, or export into a new folder")
    top = str(out / MEDIA_DIR)
    checked: set[str] = set()
    for _, dest in plan:
        parent = str(dest.parent)
        if parent in checked:
            continue
        checked.add(parent)
        probe = parent
        while probe != top and not os.path.lexists(probe):
            probe = os.path.dirname(probe)
        if probe != top and not _within(os.path.realpath(probe), media):
            raise ExportError(f"{probe} is a symlink leading out of --out",
                              help="remove it, or export into a new folder")


def place(plan: list[tuple[Path, Path]], mode: str, force: bool) -> int:
    placed = 0
    made: set[Path] = set()
    for src, dest in plan:
        try:
            if dest.parent not in made:
                dest.parent.mkdir(parents=True, exist_ok=True)
                made.add(dest.parent)
            if os.path.lexists(dest):
                if not force or dest.is_dir() and not dest.is_symlink():
                    raise ExportError(f"{dest} already exists", help="pass --force to replace it")
                dest.unlink()  # never write through an old link into its target
            if mode == "copy":
                shutil.copy2(src, dest)
            elif mode == "symlink":
                os.symlink(os.path.abspath(src), dest)
            else:
                os.link(src, dest)
        except OSError as exc:
            hint = "use --media copy or symlink" if mode == "hardlink" and exc.errno == 18 else None
            raise ExportError(f"placed {placed:,} of {len(plan):,} files, then failed on {src} → {dest}: "
                              f"{exc.strerror or exc}", help=hint) from None
        placed += 1
    return placed
