"""Real ``metastore`` processes for the crash and concurrency tests (importable: tests/ is on sys.path).

``DRIVER`` is the real console entry point with one change: the import's progress callback prints
``phase NAME`` to stderr, so a test knows which phase a running import has reached (and holds
the catalog's write lock from "scanning" on).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

DRIVER = """
import sys
from metastore import render_imports
def _phase(self, stage):
    sys.stderr.write("phase " + stage + "\\n"); sys.stderr.flush()
render_imports.Progress.__call__ = _phase
from metastore.cli import main
main()
"""
CLI = "from metastore.cli import main; main()"


def cmd(db: Path, *args, driver: bool = False) -> list[str]:
    return [sys.executable, "-c", DRIVER if driver else CLI, "--db", str(db), *map(str, args)]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def start(db: Path, *args, driver: bool = False) -> subprocess.Popen:
    return subprocess.Popen(cmd(db, *args, driver=driver), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env())


def run(db: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(cmd(db, *args), capture_output=True, text=True, env=env())


def wait_for_line(proc: subprocess.Popen, prefix: str, seen: list[str] | None = None) -> list[str]:
    """Read the process's stderr until a line starting with ``prefix`` (returns the lines read).
    Fails when the process ends first."""
    lines = seen if seen is not None else []
    while True:
        line = proc.stderr.readline()
        if not line:
            raise AssertionError(f"process ended before printing {prefix!r}: {''.join(lines)}")
        lines.append(line)
        if line.startswith(prefix) or prefix in line:
            return lines


def clean_stderr(text: str) -> bool:
    """No Python traceback and no raw DuckDB error text."""
    return "Traceback" not in text and "IO Error" not in text and "IOException" not in text \
        and "Conflicting lock" not in text


def poll_until(fn, what: str, limit: float = 120.0):
    """Wait for a condition a test needs (not a timing assertion: ``limit`` only stops a hang)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")
