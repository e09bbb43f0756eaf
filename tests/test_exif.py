"""``import photos/ --exif``: image headers and EXIF read with Pillow from real JPEGs written by
Pillow (with EXIF and GPS), a PNG without EXIF and a truncated JPEG; combined with sidecars,
incremental like sidecars."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest

from helpers import write
from metastore import Catalog

PIL = pytest.importorskip("PIL")
from PIL import Image, TiffImagePlugin  # noqa: E402

R = TiffImagePlugin.IFDRational


def camera_jpeg(path, *, offset="+02:00", gps=True, size=(64, 48)):
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    exif[0x0112] = 6
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = "2008:10:22 16:28:39"
    if offset:
        ifd[0x9011] = offset
    ifd[0x829A] = R(1, 250)
    ifd[0x829D] = R(28, 10)
    ifd[0x8827] = 400
    ifd[0x920A] = R(50, 1)
    ifd[0xA434] = "EF50mm f/1.8 II"
    if gps:
        g = exif.get_ifd(0x8825)
        g[1], g[2] = "S", (R(33, 1), R(51, 1), R(36, 1))
        g[3], g[4] = "W", (R(151, 1), R(12, 1), R(0, 1))
        g[5], g[6] = b"\x01", R(12, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 10, 10)).save(path, exif=exif)
    return path


def photos(tmp_path):
    root = tmp_path / "photos"
    camera_jpeg(root / "cam" / "a.jpg")
    write(root / "cam" / "a.json", json.dumps({"note": "sharp", "image.width": 999}))
    camera_jpeg(root / "b.jpg", offset=None, gps=False)
    Image.new("RGB", (10, 20)).save(root / "plain.png")
    data = (root / "b.jpg").read_bytes()
    write(root / "trunc.jpg", data[:60])
    write(root / "not-an-image.jpg", b"hello")
    return root


def vals(cat, path):
    return {v.key: v.value for v in cat.show(path).values}


def test_exif_values_from_real_jpegs(cat, tmp_path, monkeypatch):
    root = photos(tmp_path)
    monkeypatch.chdir(tmp_path)
    report = cat.import_files(["photos"], exif=True)
    assert report.exit_code == 3 and report.images_added == 3 and report.rows_failed == 2
    a = vals(cat, "photos/cam/a.jpg")
    assert a["note"] == "sharp" and a["image.width"] == 999  # the sidecar's own value wins
    assert a["image.height"] == 48 and a["image.format"] == "jpeg"
    assert a["file.size"] == os.path.getsize(root / "cam" / "a.jpg")
    assert a["exif.make"] == "Canon" and a["exif.model"] == "Canon EOS 5D" and a["exif.lens"] == "EF50mm f/1.8 II"
    assert a["exif.datetime_original"] == datetime(2008, 10, 22, 14, 28, 39)  # +02:00 → UTC
    assert a["exif.exposure_time"] == pytest.approx(0.004) and a["exif.f_number"] == pytest.approx(2.8)
    assert a["exif.iso"] == 400 and a["exif.focal_length"] == 50 and a["exif.orientation"] == 6
    assert a["exif.gps.lat"] == pytest.approx(-(33 + 51 / 60 + 36 / 3600))
    assert a["exif.gps.lon"] == pytest.approx(-(151 + 12 / 60)) and a["exif.gps.alt"] == -12
    b = vals(cat, "photos/b.jpg")
    assert b["exif.datetime_original"] == datetime(2008, 10, 22, 16, 28, 39)  # no offset: as written
    assert "exif.gps.lat" not in b and b["image.width"] == 64
    assert vals(cat, "photos/plain.png") == {"image.width": 10, "image.height": 20, "image.format": "png",
                                             "file.size": os.path.getsize(root / "plain.png")}
    errors = report.to_dict()["errors"]
    assert any(e.startswith("photos/trunc.jpg") and "cannot read the image header" in e for e in errors), errors
    assert any(e.startswith("photos/not-an-image.jpg") for e in errors), errors
    types = {f.name: f.type for f in cat.schema().fields}
    assert types["exif.datetime_original"] == "datetime" and types["exif.iso"] == "number"
    assert cat.search("exif.make:canon exif.gps.lat<0").paths() == ["photos/cam/a.jpg"]


def test_exif_is_incremental_and_rereads_files_first_read_without_it(cat, tmp_path, monkeypatch):
    root = photos(tmp_path)
    monkeypatch.chdir(tmp_path)
    cat.import_files(["photos"])  # without --exif: no header values
    assert "image.width" not in vals(cat, "photos/b.jpg")
    report = cat.import_files(["photos"], exif=True)
    assert vals(cat, "photos/b.jpg")["image.width"] == 64
    assert report.rows_read == 5  # every image read again (their headers had not been read)
    again = cat.import_files(["photos"], exif=True)
    assert again.unchanged_files == 3 and again.rows_read == 2  # only the two bad files are retried
    camera_jpeg(root / "b.jpg", size=(80, 40))
    os.utime(root / "b.jpg", ns=(1, 10**18))
    third = cat.import_files(["photos"], exif=True)
    assert vals(cat, "photos/b.jpg")["image.width"] == 80 and third.unchanged_files == 2


def test_exif_reads_headers_only(tmp_path, monkeypatch):
    """Pillow never decodes the pixels (``Image.load`` is not called)."""
    from metastore.readers.exif import header_values

    path = tmp_path / "big.jpg"
    Image.new("L", (3000, 2000)).save(path, quality=1)
    calls = []
    monkeypatch.setattr(Image.Image, "load", lambda self: calls.append(1))
    values = header_values(str(path), path.stat().st_size)
    assert values["image.width"] == 3000 and calls == []


def test_exif_rejected_without_a_folder(cat, tmp_path):
    from metastore.errors import UsageError

    src = write(tmp_path / "m.csv", "path,k\na.jpg,1\n")
    with pytest.raises(UsageError, match="--exif reads the images of a folder"):
        cat.import_files([src], exif=True)


def test_pillow_is_imported_only_by_exif_imports(tmp_path):
    code = ("import sys; from metastore import Catalog; from metastore.cli import app; "
            "import metastore.store.importer, metastore.readers.sidecar; "
            "print('PIL' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == "False", out.stderr


def test_header_reader_gives_what_pillows_own_open_gives(tmp_path, monkeypatch):
    """``exif._open`` skips one step of Pillow's JPEG open (the dpi read from EXIF): values, formats
    (an MPO stays an MPO) and errors must be exactly those of ``Image.open``."""
    from metastore.readers import exif

    root = photos(tmp_path)
    camera_jpeg(root / "jfif.jpg", size=(30, 20))
    Image.new("RGB", (40, 30), (1, 2, 3)).save(root / "dpi.jpg", dpi=(300, 300))  # JFIF density, no EXIF
    first, second = Image.new("RGB", (16, 12), (9, 9, 9)), Image.new("RGB", (16, 12), (200, 9, 9))
    first.save(root / "multi.jpg", format="MPO", save_all=True, append_images=[second])
    Image.new("RGB", (8, 8)).save(root / "t.tiff")

    def read_all():
        out = {}
        for p in sorted(root.rglob("*")):
            if p.suffix in (".jpg", ".png", ".tiff"):
                try:
                    out[p.name] = exif.header_values(str(p), p.stat().st_size)
                except Exception as exc:  # noqa: BLE001 - the error itself is compared
                    out[p.name] = (type(exc), str(exc))
        return out

    ours = read_all()
    monkeypatch.setattr(exif, "_open", Image.open)
    assert ours == read_all()
    assert ours["multi.jpg"]["image.format"] == "mpo" and ours["a.jpg"]["exif.make"] == "Canon"
    assert isinstance(ours["trunc.jpg"], tuple) and isinstance(ours["not-an-image.jpg"], tuple)
