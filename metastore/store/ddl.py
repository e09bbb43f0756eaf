"""The catalog's tables, its schema version, and migrations between versions.

Current values live in one wide table, ``images``: one typed column ``v<N>`` per key plus
``s<N>``, the id of the source (import or manual edit) that set it. Search is therefore a scan
of plain typed columns, as fast as a hand-written table (see benchmarks/search_speed.py).
Everything that changes a stored value writes the value it replaced to ``history``.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

#: Field id 0 in history rows stands for the image's tags.
TAGS_FIELD_ID = 0

CREATE = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS fields (
        id INTEGER, name VARCHAR, type VARCHAR, declared BOOLEAN, locked BOOLEAN,
        options VARCHAR[], count BIGINT, created_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS images (
        id BIGINT, path VARCHAR, media_id UUID, tags VARCHAR[],
        edited BOOLEAN, src INTEGER)""",
    # One row per import or manual edit: what Visual Layer calls a task.
    """CREATE TABLE IF NOT EXISTS sources (
        id INTEGER, kind VARCHAR, ts TIMESTAMP, detail VARCHAR, strategy VARCHAR,
        status VARCHAR, rows_read BIGINT, rows_written BIGINT, rows_failed BIGINT,
        rows_unchanged BIGINT, images_added BIGINT, keys VARCHAR[], options VARCHAR,
        undone_by INTEGER)""",
    """CREATE TABLE IF NOT EXISTS import_errors (
        source_id INTEGER, file VARCHAR, row BIGINT, key VARCHAR, value VARCHAR, reason VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS history (
        source_id INTEGER, ts TIMESTAMP, image_id BIGINT, field_id INTEGER,
        old_value VARCHAR, old_src INTEGER, new_value VARCHAR, new_src INTEGER)""",
    # Files a folder import has read, to re-read only what changed.
    "CREATE TABLE IF NOT EXISTS files (path VARCHAR, size BIGINT, mtime_ns BIGINT, source_id INTEGER)",
]

#: Migrations from version N to N+1, as SQL statement lists, keyed by N.
MIGRATIONS: dict[int, list[str]] = {}
