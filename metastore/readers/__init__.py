"""Readers turn metadata files into records (plain Python values). No DuckDB, no rendering.

CSV/TSV is the exception that proves the rule: it is read column-at-a-time by DuckDB in
``store/stage.py`` for speed, and only its id-column rules live here.
"""

from .records import ID_COLUMNS, Record, flatten, read_json_records, pick_id_key

__all__ = ["ID_COLUMNS", "Record", "flatten", "read_json_records", "pick_id_key"]
