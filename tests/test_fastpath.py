"""The console script's fast path for plain ``count``/``search`` (``metastore/fastpath.py``):
which command lines it takes (golden cases in ``tests/cases/fastpath_argv.json``), that real
processes print exactly what the full Typer CLI prints, and that it loads neither Typer nor rich.
Errors, waits and help fall through to the full CLI before anything is printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import procs
from metastore import Catalog
from metastore.fastpath import parse_argv

CASES = json.loads((Path(__file__).parent / "cases" / "fastpath_argv.json").read_text(encoding="utf-8"))
ENTRY = "from metastore.entry import console; console()"  # the console script
FULL = "from metastore.cli import main; main()"  # the Typer CLI alone


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c["argv"]) + (" (tty)" if c["tty"] else "") for c in CASES])
def test_which_command_lines_take_the_fast_path(case):
    assert parse_argv(case["argv"], stdout_tty=case["tty"]) == case["want"]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("fast")
    src = tmp / "m.csv"
    rows = ["path,location,score"] + [f"img/{i:03d}.jpg,{'dock-a' if i % 3 else 'yard'},{i}" for i in range(60)]
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    db = tmp / "c.duckdb"
    assert Catalog(db).import_files([src]).exit_code == 0
    return db


def _run(code: str, *args, env=None, flags=()):
    return subprocess.run([sys.executable, *flags, "-c", code, *map(str, args)], capture_output=True, text=True,
                          env={**procs.env(), **(env or {})})


@pytest.mark.parametrize("args", [
    ["count", "score<10"],
    ["count", "--", "-location:yard"],
    ["count", "-q", "-location:yard"],
    ["count", "-location:yard"],  # moved behind -- by argv.protect_query, as the full CLI does
    ["search", "-location:yard score<30"],
    ["count", "score>1000"],  # no match: the full CLI's hint on stderr
    ["search", "location:yards"],
    ["count"],
    ["search", "location:dock-* score<20"],
    ["search", "--format", "paths", "--", "-score<50"],
    ["count", "locaton:x"],  # a query error: the full CLI's caret message and exit code
    ["count", "score>"],
    ["search", "score<5", "--format", "csv"],  # not the fast path at all
])
def test_same_output_as_the_full_cli(db, args):
    fast = _run(ENTRY, "--db", db, *args)
    full = _run(FULL, "--db", db, *args)
    assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr)


def test_missing_catalog_is_the_full_cli_error(tmp_path):
    fast = _run(ENTRY, "--db", tmp_path / "none.duckdb", "count", "")
    assert fast.returncode == 1 and fast.stdout == "" and "no catalog at" in fast.stderr


def test_the_fast_path_loads_neither_typer_nor_rich(db):
    r = _run(ENTRY, "--db", db, "count", "score<10", flags=("-X", "importtime"))
    assert r.returncode == 0 and r.stdout == "10\n"
    loaded = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "duckdb" in loaded and "metastore.fastpath" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("typer", "click", "rich")}, sorted(loaded)


def test_a_locked_catalog_waits_as_the_full_cli_does(db, tmp_path):
    import duckdb

    with duckdb.connect(str(db)):  # a writer holds the file
        r = _run(ENTRY, "--db", db, "--wait", "0.2", "count", "")
    assert r.returncode == 4 and r.stdout == ""
    assert "waiting up to 0.2s" in r.stderr and "locked by another process" in r.stderr


def test_in_process_the_entry_point_returns(db, capsys, monkeypatch):
    """metastore.entry.main() called in a process that is not the console script's own (tests,
    embedding) answers and returns: it never ends the caller's process."""
    from metastore import entry

    monkeypatch.setattr(sys, "argv", ["metastore", "--db", str(db), "count", "score<10"])
    entry.main()
    assert capsys.readouterr().out == "10\n"
