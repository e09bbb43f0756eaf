"""Image headers and EXIF → values, with Pillow (``metastore import photos/ --exif``). No DuckDB.

Pillow reads only the header: ``Image.open`` parses the file's markers and ``getexif`` its EXIF
block; the pixels are never decoded. Pillow is imported here only, when ``--exif`` is given.

Keys: ``image.width``, ``image.height``, ``image.format``, ``file.size`` and, when present,
``exif.make``, ``exif.model``, ``exif.lens``, ``exif.datetime_original`` (ISO 8601 text, with the
offset of ``OffsetTimeOriginal`` when present), ``exif.exposure_time`` (seconds), ``exif.f_number``,
``exif.iso``, ``exif.focal_length`` (mm), ``exif.orientation`` (1-8) and ``exif.gps.lat`` /
``exif.gps.lon`` / ``exif.gps.alt`` (decimal degrees, metres; south, west and below sea level
are negative).
"""

from __future__ import annotations

import math
import re
import struct

from .records import Record

# Tag numbers (EXIF 2.32 / TIFF 6.0).
_MAKE, _MODEL, _ORIENTATION = 0x010F, 0x0110, 0x0112
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_EXPOSURE, _FNUMBER, _ISO, _DT_ORIGINAL, _OFFSET_ORIGINAL = 0x829A, 0x829D, 0x8827, 0x9003, 0x9011
_FOCAL, _LENS_MAKE, _LENS_MODEL = 0x920A, 0xA433, 0xA434
_LAT_REF, _LAT, _LON_REF, _LON, _ALT_REF, _ALT = 1, 2, 3, 4, 5, 6

_EXIF_DT = re.compile(r"([0-9]{4})[:-]([0-9]{2})[:-]([0-9]{2})[ T]([0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)\Z")
_OFFSET = re.compile(r"[+-]\d{2}:\d{2}\Z")


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", " ").strip()
    return text or None


def _number(value) -> float | None:
    if isinstance(value, tuple):  # e.g. ISOSpeedRatings stored as several values: the first
        value = value[0] if value else None
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def exif_datetime(text, offset=None) -> str | None:
    """``2008:10:22 16:28:39`` (+ ``OffsetTimeOriginal`` ``+02:00``) → ``2008-10-22T16:28:39+02:00``;
    None for EXIF's blank or zero dates (``0000:00:00 00:00:00``)."""
    if not isinstance(text, str):
        text = _text(text)
        if text is None:
            return None
    m = _EXIF_DT.match(text.strip())
    if not m:
        return None
    y, mo, d, rest = m.group(1), m.group(2), m.group(3), m.group(4)
    if y == "0000" or mo == "00" or d == "00":
        return None
    iso = f"{y}-{mo}-{d}T{rest}"
    if offset and isinstance(offset, str) and _OFFSET.match(offset):
        iso += offset
    return iso


def _degrees(dms, ref) -> float | None:
    if not isinstance(dms, tuple) or len(dms) != 3:
        return None
    parts = [_number(x) for x in dms]
    if any(p is None for p in parts):
        return None
    value = parts[0] + parts[1] / 60 + parts[2] / 3600
    ref = _text(ref)
    return -value if ref and ref.upper() in ("S", "W") else value


# -- a lean reader of the three IFDs we use ----------------------------------------------------
#: TIFF field type → (struct code, size). 5 and 10 are (signed) rationals: two LONGs.
_TYPES = {1: ("B", 1), 2: ("s", 1), 3: ("H", 2), 4: ("L", 4), 5: ("L", 8), 6: ("b", 1), 7: ("s", 1),
          8: ("h", 2), 9: ("l", 4), 10: ("l", 8), 11: ("f", 4), 12: ("d", 8)}
_WANTED = {
    "ifd0": {_MAKE, _MODEL, _ORIENTATION, _EXIF_IFD, _GPS_IFD},
    "exif": {_EXPOSURE, _FNUMBER, _ISO, _DT_ORIGINAL, _OFFSET_ORIGINAL, _FOCAL, _LENS_MAKE, _LENS_MODEL},
    "gps": {_LAT_REF, _LAT, _LON_REF, _LON, _ALT_REF, _ALT},
}


_ORDER = {"<": "little", ">": "big"}
#: For each byte order and IFD, the tags we keep with their two-byte encoding: an entry is found
#: with bytes.find (C speed) instead of walking every entry in Python (cameras write 30-60).
_NEEDLES = {bo: {name: tuple((tag, tag.to_bytes(2, order)) for tag in sorted(tags))
                 for name, tags in _WANTED.items()} for bo, order in _ORDER.items()}


#: One IFD entry: tag, field type, count, and the value itself or the offset of it (a LONG).
_ENTRY = {bo: struct.Struct(bo + "HHLL") for bo in _ORDER}
_COUNT = {bo: struct.Struct(bo + "H") for bo in _ORDER}
#: One inline unsigned integer (BYTE, SHORT, LONG), the common case.
_INLINE = {bo: {1: struct.Struct(bo + "B"), 3: struct.Struct(bo + "H"), 4: struct.Struct(bo + "L")} for bo in _ORDER}


def _read_ifd(data: bytes, offset: int, bo: str, which: str) -> dict:
    """The tags we keep from the IFD at ``offset`` of a TIFF block; out-of-range parts are skipped."""
    out: dict = {}
    if offset < 8 or offset + 2 > len(data):
        return out
    start = offset + 2
    end = start + 12 * min(_COUNT[bo].unpack_from(data, offset)[0], 1000, (len(data) - start) // 12)
    entry, inline = _ENTRY[bo], _INLINE[bo]
    find = data.find
    for tag, needle in _NEEDLES[bo][which]:
        pos = find(needle, start, end)
        while pos >= 0 and (pos - start) % 12:
            pos = find(needle, pos + 1, end)
        if pos < 0:
            continue
        _, kind, count, where = entry.unpack_from(data, pos)
        if count == 1 and kind in inline:  # the common case: one unsigned integer, inline
            out[tag] = inline[kind].unpack_from(data, pos + 8)[0]
            continue
        spec = _TYPES.get(kind)
        if spec is None or count == 0 or count > 4096:
            continue
        code, size = spec
        length = size * count
        if length <= 4:
            chunk = data[pos + 8:pos + 8 + length]
        else:
            chunk = data[where:where + length]
            if len(chunk) < length:
                continue
        if code == "s":
            out[tag] = chunk.split(b"\x00", 1)[0].decode("utf-8", "replace") if kind == 2 else chunk
        elif kind in (5, 10):
            nums = struct.unpack(f"{bo}{2 * count}{code}", chunk)
            items = tuple(nums[j] / nums[j + 1] if nums[j + 1] else None for j in range(0, 2 * count, 2))
            out[tag] = items[0] if count == 1 else items
        else:
            items = struct.unpack(f"{bo}{count}{code}", chunk)
            out[tag] = items[0] if count == 1 else items
    return out


def parse_exif(raw: bytes) -> tuple[dict, dict, dict] | None:
    """(IFD0, EXIF IFD, GPS IFD) tags we use from a raw EXIF block (``Exif\\0\\0`` + TIFF), or None
    when it is not one. Reading only these three directories, and only the tags we keep, is what
    makes ``--exif`` about as fast as a bare ``Image.open`` + ``getexif`` loop."""
    data = raw[6:] if raw[:6] == b"Exif\x00\x00" else raw
    if len(data) < 8 or data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    bo = "<" if data[:2] == b"II" else ">"
    ifd0 = _read_ifd(data, int.from_bytes(data[4:8], _ORDER[bo]), bo, "ifd0")
    sub_at, gps_at = ifd0.pop(_EXIF_IFD, None), ifd0.pop(_GPS_IFD, None)
    sub = _read_ifd(data, sub_at, bo, "exif") if isinstance(sub_at, int) else {}
    gps = _read_ifd(data, gps_at, bo, "gps") if isinstance(gps_at, int) else {}
    return ifd0, sub, gps


def _pillow_ifds(im) -> tuple[dict, dict, dict]:
    """The same three directories through Pillow's own EXIF reader (TIFF files, odd blocks)."""
    exif = im.getexif()
    sub = exif.get_ifd(_EXIF_IFD) if _EXIF_IFD in exif else {}
    gps = exif.get_ifd(_GPS_IFD) if _GPS_IFD in exif else {}
    return dict(exif), dict(sub), dict(gps)


_JPEG_HEADER = None


def _open(path: str):
    """``Image.open``, minus one step we never use: Pillow's JPEG reader, for a file without a
    JFIF density, decodes the whole first EXIF directory to find the resolution (``dpi``) — the
    costliest part of opening a camera JPEG (profile: ~40 % of ``Image.open``), and we read the
    EXIF ourselves. Everything else is Pillow's own JPEG reader. Any file it does not read as a
    plain JPEG (another format, a multi-picture MPO, a damaged file) goes through ``Image.open``,
    so formats and errors are exactly Pillow's."""
    global _JPEG_HEADER
    from PIL import Image

    if _JPEG_HEADER is None:
        from PIL import JpegImagePlugin

        class JpegHeader(JpegImagePlugin.JpegImageFile):
            def _read_dpi_from_exif(self) -> None:
                pass

        _JPEG_HEADER = JpegHeader
    try:
        im = _JPEG_HEADER(path)
    except Exception:  # not a JPEG, or a damaged one: Pillow's open says what it is
        return Image.open(path)
    if "mp" in im.info:  # a multi-picture (MPO) file: Pillow's factory gives it its own format
        im.close()
        return Image.open(path)
    return im


def header_values(path: str, size: int) -> dict:
    """The header and EXIF values of one image file. Raises OSError / ValueError / SyntaxError
    (Pillow's errors) when the file is not a readable image."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # nothing is decoded: a huge image is no bomb here
    with _open(path) as im:
        out: dict = {"image.width": im.width, "image.height": im.height, "file.size": size}
        if im.format:
            out["image.format"] = im.format.lower()
        raw = im.info.get("exif")
        ifds = parse_exif(raw) if isinstance(raw, bytes) else None
        ifd0, sub, gps = ifds if ifds is not None else _pillow_ifds(im)
    return {**out, **exif_values(ifd0, sub, gps)}


def exif_values(ifd0: dict, sub: dict, gps: dict) -> dict:
    """Our keys from the three directories (tag number → value)."""
    out: dict = {}
    for tag, key in ((_MAKE, "exif.make"), (_MODEL, "exif.model")):
        text = _text(ifd0.get(tag))
        if text:
            out[key] = text
    orientation = _number(ifd0.get(_ORIENTATION))
    if orientation is not None and 1 <= orientation <= 8:
        out["exif.orientation"] = int(orientation)
    lens, make = _text(sub.get(_LENS_MODEL)), _text(sub.get(_LENS_MAKE))
    if lens or make:
        out["exif.lens"] = lens if (not make or (lens and lens.startswith(make))) else (
            f"{make} {lens}" if lens else make)
    when = exif_datetime(sub.get(_DT_ORIGINAL), sub.get(_OFFSET_ORIGINAL))
    if when:
        out["exif.datetime_original"] = when
    for tag, key in ((_EXPOSURE, "exif.exposure_time"), (_FNUMBER, "exif.f_number"),
                     (_FOCAL, "exif.focal_length"), (_ISO, "exif.iso")):
        number = _number(sub.get(tag))
        if number is not None and number > 0:
            out[key] = number
    lat, lon = _degrees(gps.get(_LAT), gps.get(_LAT_REF)), _degrees(gps.get(_LON), gps.get(_LON_REF))
    if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
        out["exif.gps.lat"], out["exif.gps.lon"] = lat, lon
    alt = _number(gps.get(_ALT))
    if alt is not None:
        ref = gps.get(_ALT_REF)
        below = ref == 1 or (isinstance(ref, bytes) and ref[:1] == b"\x01")
        out["exif.gps.alt"] = -alt if below else alt
    return out


def add_header_values(rec: Record, path: str, size: int, label: str | None = None) -> None:
    """Add an image's header values to its record (a sidecar's own keys win); an unreadable
    image becomes a problem of that record only."""
    try:
        values = header_values(path, size)
    except Exception as exc:  # Pillow raises many kinds (OSError, SyntaxError, struct.error, …) on bad files
        reason = str(exc).split("\n")[0][:160] or type(exc).__name__
        rec.problems.append((None, None, f"cannot read the image header: {reason}"))
        if label is not None:
            rec.source = label  # the error names the image
        return
    for key, value in values.items():
        rec.values.setdefault(key, value)
