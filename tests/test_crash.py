"""Crash safety: SIGKILL a real ``metastore import`` at spread-out moments and prove the catalog
opens, passes ``check``, and holds exactly the state before that import, or (when the kill came
after COMMIT) exactly the state the completed import produces. Never anything in between.

Runs by default (about 30-60 s on 2 cores); select or skip it with ``-m crash`` / ``-m "not crash"``.
``METASTORE_CRASH_KILLS=100`` kills more often (default 20).

Each child is the real CLI entry point; its progress callback is replaced by one that prints
``phase NAME`` to stderr, so each kill is attributed to the phase the import had reached when it
died (startup, scanning, reading, typing and validating, writing, committing).
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

import procs
from metastore import Catalog

pytestmark = [pytest.mark.crash, pytest.mark.slow]

ROWS = 25_000
PRIOR_ROWS = 5_000
KILLS = int(os.environ.get("METASTORE_CRASH_KILLS", "20"))
TYPES = ["--type", "weather=enum", "--type", "shift=enum", "--type", "defects=multi-enum"]



def _import_cmd(db: Path, csv_path: Path) -> list[str]:
    return procs.cmd(db, "--quiet", "import", csv_path, *TYPES, driver=True)


@pytest.fixture(scope="session")
def workload(tmp_path_factory):
    """(big.csv, base catalog bytes): the base holds a prior import that the big one overwrites
    in part (so the write phase also writes history), and the big one adds new images."""
    from benchmarks.generate import write_csv

    tmp = tmp_path_factory.mktemp("crash")
    big = write_csv(tmp / "big.csv", ROWS, seed=3)
    with open(big, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    q = rows[0].index("quality_score")
    for r in rows[1:PRIOR_ROWS + 1]:
        r[q] = "-1"
    with open(tmp / "prior.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows[:PRIOR_ROWS + 1])
    base = tmp / "base.duckdb"
    r = subprocess.run(_import_cmd(base, tmp / "prior.csv"), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not Path(str(base) + ".wal").exists()
    return big, base


def state(db: Path, known_source: int) -> dict[str, str]:
    """Every table's rows in order, as one md5 per table. Values a second run of the same import
    cannot reproduce (new media ids, timestamps) are left out for rows of sources after
    ``known_source``; for rows that existed before, they are compared too."""
    volatile = {
        "images": {"media_id": f"CASE WHEN src <= {known_source} THEN media_id END"},
        "sources": {"ts": f"CASE WHEN id <= {known_source} THEN ts END"},
        "history": {"ts": f"CASE WHEN source_id <= {known_source} THEN ts END"},
        "fields": {"created_at": "NULL"},
    }
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        for t in tables:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [t]).fetchall()]
            exprs = [volatile.get(t, {}).get(c, f'"{c}"') for c in cols]
            out[t] = con.execute(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg(r, chr(10) ORDER BY r)), '') FROM "
                f"(SELECT CAST(row({', '.join(exprs)}) AS VARCHAR) AS r FROM \"{t}\")").fetchone()[0]
        out["columns"] = repr(con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY 1, 2").fetchall())
    return out


def _fresh(base: Path, dest: Path) -> Path:
    for suffix in ("", ".wal"):
        p = Path(str(dest) + suffix)
        if p.exists():
            p.unlink()
    shutil.copyfile(base, dest)
    return dest


def test_sigkill_during_import_leaves_before_or_after(workload, tmp_path):
    big, base = workload
    known = 1  # the base catalog holds one import (source 1)
    before = state(base, known)

    # One complete run: its duration spreads the kill points, its state is "after".
    db = _fresh(base, tmp_path / "done.duckdb")
    t0 = time.monotonic()
    done = subprocess.run(_import_cmd(db, big), capture_output=True, text=True)
    duration = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    after = state(db, known)
    assert after != before and Catalog(db).check().ok
    assert after["history"] != before["history"]  # the import overwrote values: history written

    rng = random.Random(int(os.environ.get("METASTORE_CRASH_SEED", "7")))
    phases: Counter = Counter()
    outcomes: Counter = Counter()
    victim = tmp_path / "victim.duckdb"
    for i in range(KILLS):
        _fresh(base, victim)
        # Stratified: kill i lands in the i-th slice of the run (a little past its end for the last).
        delay = duration * 1.05 * (i + rng.random()) / KILLS
        proc = subprocess.Popen(_import_cmd(victim, big), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        reached = [line[6:] for line in err.splitlines() if line.startswith("phase ")]
        phase = "exited" if proc.returncode == 0 else (reached[-1] if reached else "startup")
        phases[phase] += 1

        rep = Catalog(victim, wait=0).check()  # opens (read-only), replaying any WAL
        assert rep.ok, (i, delay, phase, rep.problems)
        now = state(victim, known)
        if now == before:
            outcomes["before"] += 1
        elif now == after:
            outcomes["after"] += 1
        else:
            diff = [t for t in now if now[t] != before.get(t)]
            pytest.fail(f"kill {i} at {delay:.2f}s ({phase}) left a state in between: tables {diff} differ "
                        f"from the state before, and {[t for t in now if now[t] != after.get(t)]} from after")
        assert (now == after) <= (phase in ("committing", "exited")), "committed before reaching COMMIT?"

    print(f"\ncrash: {KILLS} kills over a {duration:.2f}s import of {ROWS:,} rows; "
          f"phases {dict(phases)}; outcomes {dict(outcomes)}")
    assert outcomes["before"] >= 1 and outcomes["before"] + outcomes["after"] == KILLS

    # The last victim is a working catalog: the CLI checks it, and the import then completes.
    r = procs.run(victim, "check")
    assert r.returncode == 0 and r.stdout.startswith("OK"), r.stdout + r.stderr
    if state(victim, known) == before:
        r = subprocess.run(_import_cmd(victim, big), capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert state(victim, known) == after
