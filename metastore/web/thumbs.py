"""Thumbnails for ``metastore serve``: made on demand with Pillow (JPEGs decoded in draft mode,
at 1/2, 1/4 or 1/8 scale, so a 4-MP photo costs a fraction of a full decode), cached on disk in
the user cache directory (``$XDG_CACHE_HOME/metastore/thumbs/``) under a name made of the
file's absolute path, size in bytes, mtime and the thumbnail size: a changed file gets a new
thumbnail, and an unchanged one is read back without opening Pillow at all.

A missing or unreadable image gives ``None`` (the app answers with a placeholder tile).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
from pathlib import Path

#: Thumbnail edge lengths the API accepts (the page asks for 256; the detail view for 1024).
SIZES = (128, 256, 512, 1024)
QUALITY = 82


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "metastore" / "thumbs"


class Thumbnails:
    def __init__(self, cache: Path | None = None) -> None:
        self.cache = cache or cache_root()

    def cache_file(self, src: Path, size: int, st: os.stat_result) -> Path:
        key = f"{src}\x00{st.st_size}\x00{st.st_mtime_ns}\x00{size}".encode("utf-8", "surrogateescape")
        digest = hashlib.sha256(key).hexdigest()
        return self.cache / digest[:2] / f"{digest[2:32]}.jpg"

    def get(self, src: Path, size: int) -> tuple[bytes | None, str]:
        """(JPEG bytes or None, how: ``cached`` | ``made`` | ``missing`` | ``unreadable``)."""
        try:
            st = src.stat()
        except OSError:
            return None, "missing"
        if not src.is_file():
            return None, "missing"
        cfile = self.cache_file(src, size, st)
        try:
            return cfile.read_bytes(), "cached"
        except OSError:
            pass
        data = make(src, size)
        if data is None:
            return None, "unreadable"
        _store(cfile, data)
        return data, "made"


def make(src: Path, size: int) -> bytes | None:
    """A JPEG of at most ``size`` × ``size`` pixels, or None when Pillow cannot read the file."""
    from PIL import Image, ImageOps

    try:
        with Image.open(src) as im:
            if im.format == "JPEG":
                # decode at the smallest DCT scale (1/2, 1/4, 1/8) that still covers the
                # thumbnail; the box has the image's aspect, else a 4:3 photo decodes at 1/4
                # where 1/8 suffices (2304x1728 -> 288x216 for a 256 thumbnail)
                w, h = im.size
                scale = size / max(w, h)
                im.draft("RGB", (max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))))
            im = ImageOps.exif_transpose(im)
            if im.mode not in ("RGB", "L"):
                im = _flatten(im)
            im.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=QUALITY)
            return buf.getvalue()
    except Exception:  # noqa: BLE001 - any unreadable image becomes a placeholder, never an error page
        return None


def _flatten(im):
    from PIL import Image

    im = im.convert("RGBA")
    bg = Image.new("RGB", im.size, (255, 255, 255))
    bg.paste(im, mask=im.getchannel("A"))
    return bg


def _store(cfile: Path, data: bytes) -> None:
    try:
        cfile.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cfile.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, cfile)
    except OSError:
        pass  # a read-only cache only costs speed


PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">'
    '<rect width="256" height="256" fill="#e8e8ea"/>'
    '<path d="M88 96h80v64H88z" fill="none" stroke="#a0a0a8" stroke-width="6"/>'
    '<path d="M88 160l28-30 20 20 14-12 18 22" fill="none" stroke="#a0a0a8" stroke-width="6"/>'
    '<text x="128" y="200" font-family="sans-serif" font-size="18" text-anchor="middle" fill="#80808a">'
    '{label}</text></svg>')
