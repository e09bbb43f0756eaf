"""The I/O-fault layer (issue 14, defects 11 and 12): disk full (a real, small tmpfs) and a
read-only catalog folder at COMMIT, for import, set, unset, tag, undo, retype and declare. Each
is one clear message — never a traceback, never a ROLLBACK error hiding the real cause — and the
catalog is exactly as before."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from helpers import write
from metastore import Catalog, MetastoreError

pytestmark = pytest.mark.slow  # the fast run (-m 'not slow') leaves it out; CI runs it

OPS = {
    "import": lambda c, d: c.import_files([d / "m2.csv"], strategy="overwrite", tags=["zz"]),
    "set": lambda c, d: c.set("img/0.jpg", {"k": "5"}),
    "unset": lambda c, d: c.unset("img/0.jpg", ["k"]),
    "tag": lambda c, d: c.tag(query="", add=["q"]),
    "undo": lambda c, d: c.undo(2),
    "retype": lambda c, d: c.retype_field("k", "string"),
    "declare": lambda c, d: c.declare_field("newk", "string"),
}


def _state(cat: Catalog):
    return ({p: cat.show(p) for p in cat.search("").paths()}, [k.name for k in cat.keys()], cat.imports())


def _fill(folder) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    os.close(fd)


def _setup(folder, data):
    write(data / "m.csv", "path,k\n" + "".join(f"img/{i}.jpg,{i}\n" for i in range(50)))
    write(data / "m2.csv", "path,k,j\n" + "".join(f"img/{i}.jpg,{i + 1},x{i}\n" for i in range(50)))
    cat = Catalog(folder / "c.duckdb")
    cat.import_files([data / "m.csv"])
    cat.import_files([data / "m2.csv"])
    return cat


@pytest.mark.parametrize("op", list(OPS))
def test_disk_full_at_commit_is_one_message_and_changes_nothing(tmp_path, small_fs, op):
    fs = small_fs(4 * 1024 * 1024)
    cat = _setup(fs, tmp_path)
    before = _state(cat)
    _fill(fs)
    with pytest.raises(MetastoreError) as e:
        OPS[op](cat, tmp_path)
    msg = str(e.value)
    assert "No space left on device" in msg and "nothing was changed" in msg and "rollback" not in msg, msg
    os.unlink(fs / "filler")
    assert _state(cat) == before
    assert cat.check().problems == []


_AS_NOBODY = r"""
import sys
from pathlib import Path
from metastore import Catalog, MetastoreError
sys.path.insert(0, sys.argv[3])
from test_io_faults import OPS
try:
    OPS[sys.argv[2]](Catalog(sys.argv[1]), Path(sys.argv[1]).parent.parent / "data")
except MetastoreError as exc:
    print(type(exc).__name__, exc)
    sys.exit(exc.exit_code)
"""


@pytest.mark.parametrize("op", list(OPS))
def test_read_only_catalog_folder_at_commit_is_one_message(open_tmp, op):
    """The catalog file is writable but its folder is not, so the WAL cannot be created. Root
    ignores permission bits: the operation runs as an unprivileged user (setpriv)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        pytest.skip("needs root and setpriv to run as an unprivileged user")
    tmp_path = open_tmp
    folder, data = tmp_path / "cat", tmp_path / "data"
    folder.mkdir()
    cat = _setup(folder, data)
    before = _state(cat)
    os.chmod(data, 0o755)
    for f in data.iterdir():
        os.chmod(f, 0o644)
    os.chown(cat.path, 65534, 65534)
    os.chmod(folder, 0o555)
    tests = os.path.dirname(__file__)
    r = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", _AS_NOBODY,
                        str(cat.path), op, tests], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "HOME": str(tmp_path)})
    if "ModuleNotFoundError" in r.stderr or "PermissionError" in r.stderr and "site-packages" in r.stderr:
        pytest.skip(f"the unprivileged user cannot run the test code here: {r.stderr[-300:]}")
    assert "Traceback" not in r.stderr and r.returncode in (1, 4), r.stdout + r.stderr
    assert "nothing was changed" in r.stdout or "cannot open" in r.stdout, r.stdout
    assert "rollback" not in r.stdout
    os.chmod(folder, 0o755)
    assert _state(cat) == before


def test_full_tmpdir_during_a_json_import_is_one_message(tmp_path, small_fs, run_cli):
    """Defect 12: JSON records go to DuckDB through a temporary file in TMPDIR."""
    import json

    records = [{"path": f"img/{i}.jpg", "caption": "words " * 40, "n": i} for i in range(3000)]
    write(tmp_path / "r.json", json.dumps(records))
    tmpdir = small_fs(64 * 1024)
    r = run_cli("import", tmp_path / "r.json", env={"TMPDIR": str(tmpdir)})
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "No space left on device" in r.stderr and "TMPDIR" in r.stderr, r.stderr
    assert not os.path.exists(tmp_path / "c.duckdb") or Catalog(tmp_path / "c.duckdb").count("") == 0
    assert os.listdir(tmpdir) == []
