"""Shared fixtures: real catalog files in tmp_path, real CSV/JSON files on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from metastore import Catalog

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cat(tmp_path) -> Catalog:
    return Catalog(tmp_path / "c.duckdb")


@pytest.fixture
def run_cli(tmp_path):
    """Run the real console entry point in a subprocess; returns CompletedProcess."""

    def run(*args, db=None, cwd=None, input=None, env=None):
        full_env = {**os.environ, **(env or {})}
        cmd = [sys.executable, "-c", "from metastore.cli import main; main()", "--db", str(db or tmp_path / "c.duckdb"),
               *map(str, args)]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or tmp_path, input=input, env=full_env)

    return run
