"""Ultralytics-style YOLO datasets → one record per image. No DuckDB.

Layout: ``data.yaml`` (``names``: a list, or a mapping class number → name) and images under an
``images`` folder with their labels beside it under ``labels`` (``images/train/a.jpg`` ↔
``labels/train/a.txt``; Roboflow's ``train/images/a.jpg`` ↔ ``train/labels/a.txt`` works too).
Each label line is ``CLASS x y w h`` (or a polygon ``CLASS x1 y1 x2 y2 …``), coordinates
normalised to 0..1.

Each image gets ``split`` (``train``/``val``/``test``, from the folder; ``valid`` reads as ``val``),
``objects`` (label lines), ``objects.<name>`` (per class present) and ``categories`` (multi-enum).
An image without a label file has no objects (YOLO's background images). A malformed label line
is an error for that image, naming the label file and line.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ImportFailed
from .coco import category_key
from .records import Record
from .sidecar import IMAGE_EXTS

SPLITS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
YAML_NAMES = ("data.yaml", "data.yml", "dataset.yaml")


def load_names(folder: Path) -> dict[int, str]:
    """Class number → name, from the dataset's ``data.yaml``."""
    for name in YAML_NAMES:
        path = folder / name
        if path.is_file():
            break
    else:
        raise ImportFailed(f"{folder}: no data.yaml (a YOLO dataset names its classes there)",
                           help="add data.yaml with e.g. names: [person, car], or import another format")
    import yaml  # only YOLO imports need it

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ImportFailed(f"{path}: cannot read as YAML{where}",
                           help="fix the file so that it parses; names: [person, car]") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, list):
        return {i: str(n) for i, n in enumerate(names)}
    if isinstance(names, dict) and all(isinstance(k, int) for k in names):
        return {k: str(v) for k, v in names.items()}
    raise ImportFailed(f"{path}: no 'names' list or mapping of class number → name",
                       help="e.g. names: [person, car] or names: {0: person, 1: car}")


def _label_path(image_rel: str) -> str | None:
    """``images/train/a.jpg`` → ``labels/train/a.txt`` (the last ``images`` folder of the path)."""
    parts = image_rel.split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            stem = parts[-1].rsplit(".", 1)[0]
            return "/".join(parts[:i] + ["labels"] + parts[i + 1:-1] + [stem + ".txt"])
    return None


def _split(image_rel: str) -> str | None:
    for part in image_rel.split("/")[:-1]:
        if part.lower() in SPLITS:
            return SPLITS[part.lower()]
    return None


def _read_labels(path: str, label: str, names: dict[int, str]) -> tuple[dict, list]:
    counts: dict[str, int] = {}
    problems = []
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except UnicodeDecodeError:
        return {}, [(None, None, f"{label} is not UTF-8 text")]
    except OSError as exc:
        return {}, [(None, None, f"cannot read {label}: {exc.strerror}")]
    for n, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        why = None
        try:
            cls = int(fields[0])
        except ValueError:
            cls, why = None, f"'{fields[0]}' is not a class number"
        if why is None and cls not in names:
            why = f"class {cls} is not in data.yaml's names (0..{max(names) if names else -1})"
        if why is None:
            try:
                coords = [float(x) for x in fields[1:]]
            except ValueError:
                coords, why = [], "coordinates must be numbers"
            if why is None and (len(coords) < 4 or (len(coords) != 4 and len(coords) % 2)):
                why = f"expected 'class x y w h' or a polygon of x y pairs, found {len(coords)} coordinates"
            if why is None and not all(0.0 <= c <= 1.0 for c in coords):
                why = "coordinates must be normalised to 0..1"
        if why is not None:
            problems.append((None, line.strip()[:200], f"{label} line {n}: {why}"))
            continue
        counts[names[cls]] = counts.get(names[cls], 0) + 1
    return counts, problems


def read_yolo(folder: Path, root_arg: str) -> tuple[list[Record], list[str]]:
    """(records, notes) for a YOLO dataset folder; ``root_arg`` is the folder as the user gave it
    (stored paths are ``root_arg/images/train/a.jpg``, like sidecar folders)."""
    names = load_names(folder)
    root = root_arg.replace(os.sep, "/").rstrip("/")
    prefix = "" if root in ("", ".") else root + "/"
    base = os.path.realpath(folder)
    images: list[str] = []
    labels: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        rel = os.path.relpath(dirpath, base).replace(os.sep, "/")
        rel = "" if rel == "." else rel + "/"
        for name in filenames:
            ext = name[name.rfind("."):].lower() if "." in name else ""
            if ext in IMAGE_EXTS and _label_path(rel + name) is not None:
                images.append(rel + name)
            elif ext == ".txt" and "labels/" in "/" + rel:
                labels.add(rel + name)
    if not images:
        raise ImportFailed(f"{folder}: no images under an images/ folder",
                           help="a YOLO dataset keeps images/train/a.jpg beside labels/train/a.txt")
    images.sort()
    records = []
    for row, rel in enumerate(images, 1):
        label = _label_path(rel)
        values: dict = {"path": prefix + rel}
        split = _split(rel)
        if split:
            values["split"] = split
        problems: list = []
        counts: dict = {}
        if label in labels:
            labels.discard(label)
            counts, problems = _read_labels(os.path.join(base, label), prefix + label, names)
        values["objects"] = sum(counts.values())
        for name, n in counts.items():
            key = category_key(name)
            values[key] = values.get(key, 0) + n
        if counts:
            values["categories"] = sorted(counts)
        records.append(Record(row, values, problems, prefix + label if problems else None))
    notes = []
    if labels:
        first = sorted(labels)[0]
        notes.append(f"{len(labels):,} label file{'s' if len(labels) != 1 else ''} ha{'ve' if len(labels) != 1 else 's'} "
                     f"no image, e.g. {prefix + first}; skipped")
    return records, notes
