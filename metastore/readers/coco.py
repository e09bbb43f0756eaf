"""COCO annotation files (``instances_val2017.json``) → one record per image. No DuckDB.

A COCO file is a JSON object with ``images``, ``annotations`` and ``categories`` lists. Each
image becomes: its path (``file_name``, or ``--path-template`` over these keys), ``width``, ``height``, ``date_captured``, ``license``
(the licence's name), ``coco_url`` / ``flickr_url``, ``coco_id`` (the COCO image id, as text),
``categories`` / ``supercategories`` (lists: multi-enum), ``objects`` (annotation count) and
``objects.<category>`` (count per category present; a category name is made a valid key by
turning other characters into ``_``: ``traffic light`` → ``objects.traffic_light``).

Annotations that name an image or category the file does not define are reported (file, the
annotation's index and id), never dropped silently.
"""

from __future__ import annotations

import re

from .records import Record

COCO_KEYS = ("images", "annotations", "categories")


def is_coco(data) -> bool:
    return isinstance(data, dict) and all(isinstance(data.get(k), list) for k in COCO_KEYS)


def category_key(name: str) -> str:
    """``objects.<name>`` with every character a key cannot hold turned into ``_``."""
    text = re.sub(r"[^A-Za-z0-9_.]+", "_", str(name)).strip("_").lstrip(".")
    return "objects." + (text or "_")


def read_coco(data: dict, path_prefix: str = "") -> tuple[list[Record], list[str]]:
    """(records, problems): one record per entry of ``images``; problems are file-level notes
    about annotations that point at unknown images or categories (each counted, the first named)."""
    problems: list[str] = []
    cats: dict = {}
    for i, c in enumerate(data["categories"]):
        if isinstance(c, dict) and "id" in c:
            cats[c["id"]] = (str(c.get("name", c["id"])), c.get("supercategory"))
    licenses = {lic.get("id"): lic.get("name") for lic in data.get("licenses") or [] if isinstance(lic, dict)}
    records: list[Record] = []
    by_id: dict = {}
    for row, img in enumerate(data["images"], 1):
        if not isinstance(img, dict):
            records.append(Record(row, {}, [(None, None, f"images[{row - 1}] is not a JSON object")]))
            continue
        name = img.get("file_name")
        if not isinstance(name, str) or not name.strip():
            records.append(Record(row, {}, [("file_name", None, f"images[{row - 1}] has no file_name")]))
            continue
        values: dict = {"file_name": path_prefix + name}
        for key in ("width", "height"):
            if isinstance(img.get(key), (int, float)) and not isinstance(img.get(key), bool):
                values[key] = img[key]
        for key in ("date_captured", "coco_url", "flickr_url"):
            if isinstance(img.get(key), str) and img[key].strip():
                values[key] = img[key]
        lic = img.get("license")
        if lic is not None:
            values["license"] = str(licenses.get(lic, lic))
        if img.get("id") is not None:
            values["coco_id"] = str(img["id"])
            by_id.setdefault(img["id"], values)
        values["objects"] = 0
        records.append(Record(row, values, []))
    unknown_image: list[tuple[int, object, object]] = []
    unknown_cat: list[tuple[int, object, object]] = []
    for i, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict):
            unknown_image.append((i, None, None))
            continue
        values = by_id.get(ann.get("image_id"))
        if values is None:
            unknown_image.append((i, ann.get("id"), ann.get("image_id")))
            continue
        cat = cats.get(ann.get("category_id"))
        if cat is None:
            unknown_cat.append((i, ann.get("id"), ann.get("category_id")))
            continue
        values["objects"] += 1
        key = category_key(cat[0])
        values[key] = values.get(key, 0) + 1
        values.setdefault("_cats", set()).add(cat[0])
        if cat[1] is not None:
            values.setdefault("_supers", set()).add(str(cat[1]))
    for rec in records:
        cats_seen = rec.values.pop("_cats", None)
        supers = rec.values.pop("_supers", None)
        if cats_seen:
            rec.values["categories"] = sorted(cats_seen)
        if supers:
            rec.values["supercategories"] = sorted(supers)
    for found, what, noun in ((unknown_image, "image_id", "image"), (unknown_cat, "category_id", "category")):
        if found:
            i, ann_id, ref = found[0]
            n = len(found)
            problems.append(
                f"{n:,} annotation{'s' if n != 1 else ''} name{'s' if n == 1 else ''} a{'n' if noun == 'image' else ''} "
                f"{noun} the file does not define, e.g. annotations[{i}] (id {ann_id}) has {what} {ref}; "
                f"{'they are' if n != 1 else 'it is'} not counted")
    return records, problems
