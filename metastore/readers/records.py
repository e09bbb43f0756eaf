"""JSON and JSONL metadata records → flat ``{key: value}`` dicts with their location."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImportFailed

#: The id column / key, in order of preference, when ``--id-column`` is not given (the order
#: is documented in docs/import.md: full paths first, then file names, then ids).
ID_COLUMNS = ("file_fullpath", "path", "filepath", "file_path", "image_path", "img_path", "filename",
              "file_name", "image", "image_id", "media_id", "id")
#: Image file extensions a likely id column's values end with.
_IMAGE_VALUE = re.compile(r"(?i).+\.(jpe?g|png|webp|bmp|tiff?|gif|heic)\Z")
_NAME_HINTS = ("path", "file", "image", "img", "photo", "picture", "url", "name", "id")


@dataclass
class Record:
    """One image's metadata from one place in a file."""

    row: int  # 1-based record number (JSON array index + 1, or JSONL line number)
    values: dict  # flat key → JSON value (str, int, float, bool, list)
    problems: list  # (key, value, reason) found while reading
    source: str | None = None  # the file it came from, when that is not the import's file (sidecars)


def flatten(obj: dict, prefix: str = "", out: dict | None = None, clashes: list | None = None) -> dict:
    """Nested objects flatten with dots (``capture.gps.lat``); JSON nulls are dropped. A name met
    twice (``"a.b"`` and ``{"a": {"b": …}}``) keeps the first value and is added to ``clashes``."""
    out = {} if out is None else out
    stack = [(prefix, iter(obj.items()))]  # iterative: any depth json.loads accepts is fine here
    while stack:
        pre, items = stack[-1]
        for key, value in items:
            name = f"{pre}{key}"
            if value is None:
                continue
            if isinstance(value, dict):
                stack.append((name + ".", iter(value.items())))
                break
            if name in out:
                if clashes is not None:
                    clashes.append(name)
                continue
            out[name] = value
        else:
            stack.pop()
    return out


#: A JSON \\uD800-\\uDFFF escape. Paired ones spell emoji; a lone one decodes to a string that is
#: not text (it cannot be written as UTF-8), so records holding one are rejected.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def lone_surrogate(obj) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


LONE_SURROGATE = "holds a lone \\ud800-\\udfff escape, which is not text"


def _load_json(path: Path, text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            help="fix the file so that it parses (e.g. python -m json.tool FILE)",
        ) from None
    except RecursionError:
        raise ImportFailed(f"{path}: the JSON nests too deeply to read",
                           help="flatten the records; nested objects become dotted keys anyway") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ImportFailed(f"{path}: {str(exc).split(';')[0]}", help="store such numbers as strings") from None


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed(
            f"{path} is not UTF-8 (invalid byte at line {line})",
            help=f"convert it first, e.g. iconv -f latin1 -t utf-8 {path} > fixed.json",
        ) from None


def _record(row: int, obj, check_text: bool = False) -> Record:
    if check_text and lone_surrogate(obj):
        return Record(row, {}, [(None, None, f"record {row} {LONE_SURROGATE}")])
    if not isinstance(obj, dict):
        return Record(row, {}, [(None, obj, f"record {row} is not a JSON object")])
    problems = []
    clashes: list = []
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        base = flatten({k: v for k, v in obj.items() if k != "metadata"}, clashes=clashes)
        inner = flatten(meta, clashes=clashes)
        for name in sorted(inner.keys() & base.keys()):
            problems.append((name, None, f"record {row} holds both '{name}' and 'metadata.{name}' (the keys inside "
                                         f"'metadata' are stored without the prefix); rename or remove one of them"))
        values = {**base, **inner}
    else:
        values = flatten(obj, clashes=clashes)
    for name in dict.fromkeys(clashes):
        problems.append((name, None, f"record {row} gives the key '{name}' twice, as '{name}' and as nested "
                                     f"objects ({_nested(name)}); rename or remove one of them"))
    if problems:
        return Record(row, {}, problems)
    return Record(row, values, [])


def _nested(name: str) -> str:
    """``a.b.c`` → ``{"a": {"b": {"c": …}}}`` (how a nested spelling of a dotted key looks)."""
    parts = name.split(".")
    return "".join(f'{{"{p}": ' for p in parts[:-1]) + f'{{"{parts[-1]}": …' + "}" * len(parts)


def read_json_records(path: Path, *, jsonl: bool | None = None) -> list[Record]:
    """Read a JSON array of records, one JSON object holding a ``records`` list, or JSONL."""
    text = read_text(path)
    check = bool(_SURROGATE_ESCAPE.search(text))
    if jsonl is None:
        jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    if jsonl:
        out = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                out.append(Record(lineno, {}, [(None, line[:80], f"line {lineno} is not valid JSON ({exc.msg})")]))
                continue
            except RecursionError:
                out.append(Record(lineno, {}, [(None, line[:80], f"line {lineno} nests too deeply to read")]))
                continue
            except ValueError as exc:  # e.g. an integer of more than 4,300 digits
                out.append(Record(lineno, {}, [(None, None, f"line {lineno}: {str(exc).split(';')[0]}")]))
                continue
            out.append(_record(lineno, obj, check))
        return out
    return records_from_data(path, _load_json(path, text), check)


def load_json_document(path: Path) -> tuple[object, bool]:
    """(the parsed JSON document, whether it may hold lone surrogates to check for)."""
    text = read_text(path)
    return _load_json(path, text), bool(_SURROGATE_ESCAPE.search(text))


def records_from_data(path: Path, data, check: bool) -> list[Record]:
    """Records of a parsed JSON document (an array of records, or ``{"records": […]}``)."""
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if not isinstance(data, list):
        raise ImportFailed(
            f"{path}: expected a JSON array of records (or JSONL), found a JSON {type(data).__name__}",
            help='write [{"path": "a.jpg", "key": "value"}, …], one object per image',
        )
    return [_record(i, obj, check) for i, obj in enumerate(data, 1)]


def pick_id_key(keys, id_column: str | None, where: str, samples: dict | None = None) -> str:
    """The id column: ``--id-column`` if given, else the first of ID_COLUMNS present.

    ``samples`` (column → a few values) lets the error suggest the likeliest column."""
    keys = list(keys)
    if id_column is not None:
        if id_column not in keys:
            raise ImportFailed(
                f"{where}: no column '{id_column}' (given with --id-column)",
                help=f"columns are: {_listing(keys)}",
            )
        return id_column
    for name in ID_COLUMNS:
        if name in keys:
            return name
    best = likeliest_id(keys, samples or {})
    hint = (f"the likeliest is '{best}': pass --id-column '{best}', or build paths with "
            f"--path-template 'images/{{{best}}}.jpg'" if best else
            "name the column holding image paths with --id-column NAME, or build them with "
            "--path-template 'images/{COLUMN}.jpg'")
    raise ImportFailed(
        f"{where}: no id column (none of {', '.join(ID_COLUMNS)}); its columns are: {_listing(keys)}",
        help=hint,
    )


def _listing(keys: list, n: int = 40) -> str:
    shown = ", ".join(repr(k) if (" " in k or "," in k) else k for k in keys[:n])
    return shown + (f", … ({len(keys) - n} more)" if len(keys) > n else "")


def likeliest_id(keys: list, samples: dict) -> str | None:
    """The column most likely to name the images: values that look like image files win, then
    names that say path/file/image, then distinct values."""
    def score(k: str):
        vals = [str(v) for v in samples.get(k, []) if v not in (None, "")]
        files = sum(bool(_IMAGE_VALUE.match(v.strip())) for v in vals) / len(vals) if vals else 0.0
        low = k.lower()
        hint = next((len(_NAME_HINTS) - i for i, h in enumerate(_NAME_HINTS) if h in low), 0)
        distinct = len(set(vals)) / len(vals) if vals else 0.0
        return (files > 0.5, files, hint > 0 and distinct > 0.9, hint, distinct)

    if not keys:
        return None
    best = max(keys, key=score)
    s = score(best)
    return best if (s[0] or s[3] > 0) else None


def parse_template(template: str) -> list[tuple[str, str]]:
    """``images/{image_id}.jpg`` → [("text", "images/"), ("key", "image_id"), ("text", ".jpg")]."""
    import string

    from ..errors import UsageError

    parts: list[tuple[str, str]] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UsageError(f"--path-template '{template}': {exc}",
                         help="name columns in braces, e.g. --path-template 'images/{image_id}.jpg' "
                              "(write {{ and }} for literal braces)") from None
    for text, name, spec, conv in parsed:
        if text:
            parts.append(("text", text))
        if name is not None:
            if not name or spec or conv:
                raise UsageError(f"--path-template '{template}': '{{{name}{'!' + conv if conv else ''}"
                                 f"{':' + spec if spec else ''}}}' is not a column name in braces",
                                 help="e.g. --path-template 'images/{image_id}.jpg'")
            parts.append(("key", name))
    if not any(kind == "key" for kind, _ in parts):
        raise UsageError(f"--path-template '{template}' names no column",
                         help="e.g. --path-template 'images/{image_id}.jpg'")
    return parts


def check_template(parts: list, keys, where: str) -> None:
    keys = list(keys)
    missing = [name for kind, name in parts if kind == "key" and name not in keys]
    if missing:
        raise ImportFailed(f"{where}: --path-template names '{missing[0]}', which is not a column",
                           help=f"columns are: {_listing(keys)}")


def template_path(parts: list, values: dict) -> str | None:
    """The path a template builds from one record (None when a column it names has no value)."""
    out = []
    for kind, text in parts:
        if kind == "text":
            out.append(text)
            continue
        value = values.get(text)
        if value is None or (isinstance(value, str) and not value.strip()) or isinstance(value, (list, dict)):
            return None
        out.append(("true" if value else "false") if isinstance(value, bool) else
                   (str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)))
    return "".join(out)


def read_field_values(path: Path, field: str, resolve) -> list[Record]:
    """A Visual Layer upload file: a JSON array of ``{"media_id": …, "value": …}`` for one field.

    ``resolve(media_ids) -> {media_id: path}`` maps ids to image paths; unknown ids are row errors.
    """
    data = _load_json(path, read_text(path))
    if not isinstance(data, list):
        raise ImportFailed(
            f"{path}: expected a JSON array of {{\"media_id\": …, \"value\": …}} objects",
            help='e.g. [{"media_id": "0b7a…", "value": "rain"}]')
    ids = [str(o.get("media_id")) for o in data if isinstance(o, dict) and o.get("media_id") is not None]
    paths = resolve(ids)
    out = []
    for row, obj in enumerate(data, 1):
        if not isinstance(obj, dict) or "media_id" not in obj or "value" not in obj:
            out.append(Record(row, {}, [(None, None, 'expected an object with "media_id" and "value"')]))
            continue
        media_id = str(obj["media_id"])
        if media_id not in paths:
            out.append(Record(row, {}, [(field, media_id, f"unknown media_id '{media_id}'")]))
            continue
        value = obj["value"]
        values = {"path": paths[media_id]}
        if value is not None:
            values[field] = value
        out.append(Record(row, values, []))
    return out
