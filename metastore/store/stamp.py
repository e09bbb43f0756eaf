"""A catalog file's identity: size, mtime (ns) and inode of the DuckDB file and of its ``.wal``.

Any committed write changes one of them, so what was read from a catalog can be reused while its
stamp holds — the completion cache on disk (``stats.py``) and the schema kept in memory
(``fields.py``). The one hole of such stamps (git's "racy" index: a second write within the same
timestamp tick as the first, with the same size) is closed the way git closes it: what was read
while the newest mtime is less than :data:`RACY_SECONDS` old is used but not kept.

No duckdb import: completion reads stamps on every keypress.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

RACY_SECONDS = 2.0


def stamp(db: str | os.PathLike) -> list:
    """The catalog file's identity: changes whenever a write is committed."""
    out = []
    for p in (Path(db), Path(str(db) + ".wal")):
        try:
            st = os.stat(p)
            out.append([st.st_size, st.st_mtime_ns, st.st_ino])
        except OSError:
            out.append(None)
    return out


def settled(st: list) -> bool:
    """Whether a stamp is old enough to key a cache (see the module's note on racy stamps)."""
    newest = max((s[1] for s in st if s is not None), default=None)
    return newest is not None and time.time() - newest / 1e9 >= RACY_SECONDS


__all__ = ["RACY_SECONDS", "stamp", "settled"]
