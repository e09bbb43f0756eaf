"""Where the real third-party files are (never copied into the repository): ``REPO.parent /
"shared" / "realdata"``, or ``$METASTORE_REALDATA``. Tests that need one skip with the reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def realdata(name: str) -> Path:
    base = Path(os.environ.get("METASTORE_REALDATA") or REPO.parent / "shared" / "realdata")
    path = base / name
    if not path.exists():
        pytest.skip(f"real data file {path} is absent (set METASTORE_REALDATA to the folder holding it)")
    return path
