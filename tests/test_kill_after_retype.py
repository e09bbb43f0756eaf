"""A writer killed right after a retype COMMITs (issue 14, defect 18): the WAL it leaves must be
replayed by the next writer without any extension download (there is no network). A real SIGKILL
between COMMIT and closing the catalog, then real writers and readers in new processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import write
from metastore import Catalog

_KILL_AFTER_COMMIT = r"""
import os, sys
from metastore import Catalog
import metastore.store.txn as txn
real = txn.commit
def commit(con):
    real(con)
    os.kill(os.getpid(), 9)  # after COMMIT, before the connection closes (and checkpoints)
txn.commit = commit
Catalog(sys.argv[1]).retype_field(sys.argv[2], "string")
"""


@pytest.mark.parametrize("key", ["n", "when", "labels", "ok"])
def test_writers_work_after_a_kill_right_after_retype(tmp_path, key, run_cli):
    rows = "".join(f'img/{i}.jpg,{i}.5,2024-01-0{i % 9 + 1}T10:00:00Z,"a, b",{str(i % 2 == 0).lower()}\n'
                   for i in range(50))
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([write(tmp_path / "m.csv", "path,n,when,labels,ok\n" + rows)], types={"labels": "multi-enum"})
    r = subprocess.run([sys.executable, "-c", _KILL_AFTER_COMMIT, str(cat.path), key], capture_output=True, text=True)
    assert r.returncode == -9, r.stderr
    assert os.path.exists(str(cat.path) + ".wal")  # the kill left a WAL to replay
    r = run_cli("set", "img/1.jpg", "extra=1", db=cat.path, env={"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"})
    assert r.returncode == 0, r.stderr
    assert {k.name: k.type for k in cat.keys()}[key] == "string"
    assert cat.check().problems == []
