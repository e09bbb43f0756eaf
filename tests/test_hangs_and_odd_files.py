"""Hangs and odd files in sidecar folders (issue 14, defects 9, 10 and 14): a FIFO named like a
sidecar or an image, dangling and looping symlinks, an unreadable subfolder — read regular files
only and report the rest; `--wait nan` is refused instead of waiting forever."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from helpers import write
from metastore import Catalog, UsageError

CLI = [sys.executable, "-c", "from metastore.cli import main; main()"]


def _folder(tmp_path):
    d = tmp_path / "bucket"
    write(d / "a.jpg", "a")
    write(d / "a.json", '{"k": 1}')
    write(d / "sub" / "b.jpg", "b")
    write(d / "sub" / "b.json", '{"k": 2}')
    return d


def test_fifo_in_a_sidecar_folder_is_reported_not_read(tmp_path):
    """Defect 9: a FIFO named x.json held the write lock forever."""
    d = _folder(tmp_path)
    write(d / "x.jpg", "x")
    os.mkfifo(d / "x.json")
    os.mkfifo(d / "y.jpg")
    r = subprocess.run(CLI + ["--db", str(tmp_path / "c.duckdb"), "import", str(d)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert "x.json: skipped, a FIFO" in out and "y.jpg: skipped, a FIFO" in out, out
    cat = Catalog(tmp_path / "c.duckdb")
    assert cat.search("").paths() == [f"{d}/a.jpg", f"{d}/sub/b.jpg", f"{d}/x.jpg"]


def test_dangling_and_looping_symlinks_are_reported(tmp_path):
    """Defect 14: dangling or looping symlinks in a sidecar folder gave a traceback."""
    d = _folder(tmp_path)
    os.symlink(tmp_path / "gone.jpg", d / "dangling.jpg")
    os.symlink(tmp_path / "gone.json", d / "a2.json")
    os.symlink(d / "loop.jpg", d / "loop.jpg")
    os.symlink(d / "sub", d / "sub" / "again")  # a folder link: not followed
    cat = Catalog(tmp_path / "c.duckdb")
    rep = cat.import_files([d])
    assert rep.exit_code == 0
    notes = "\n".join(rep.notes)
    assert "dangling.jpg: skipped, a dangling symlink" in notes and "loop.jpg: skipped, a symlink loop" in notes, notes
    assert "a2.json: skipped, a dangling symlink" in notes
    assert cat.search("").paths() == [f"{d}/a.jpg", f"{d}/sub/b.jpg"]


def test_unreadable_subfolder_is_reported(open_tmp):
    """Defect 14: an unreadable subfolder (run as an unprivileged user: root reads anything)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        pytest.skip("needs root and setpriv to run the import as an unprivileged user")
    tmp_path = open_tmp
    d = _folder(tmp_path)
    write(d / "locked" / "c.jpg", "c")
    os.chmod(d / "locked", 0o000)
    os.chmod(tmp_path, 0o777)
    db = tmp_path / "c.duckdb"
    env = {**os.environ, "HOME": str(tmp_path)}
    r = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] + CLI
                       + ["--db", str(db), "import", str(d)], capture_output=True, text=True, timeout=120, env=env)
    if "Permission denied" in r.stderr and "locked" not in r.stderr:
        pytest.skip(f"the unprivileged user cannot reach the test folder here: {r.stderr.strip()[:200]}")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "locked: cannot read this folder" in r.stdout + r.stderr, r.stdout
    assert Catalog(db).search("").paths() == [f"{d}/a.jpg", f"{d}/sub/b.jpg"]


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_wait_must_be_a_finite_number(tmp_path, value, run_cli):
    """Defect 10: --wait nan on a locked catalog waited forever."""
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([write(tmp_path / "m.csv", "path,k\na.jpg,1\n")])
    r = run_cli("--wait", value, "count", "", db=cat.path)
    assert r.returncode == 2 and "--wait" in r.stderr and "Traceback" not in r.stderr, r.stderr
    with pytest.raises(UsageError, match="wait"):
        Catalog(tmp_path / "c.duckdb", wait=float(value))
