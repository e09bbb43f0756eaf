"""What the catalog knows about its keys: names, types, storage columns. Pure; no I/O.

The store builds a :class:`Schema` from its ``fields`` table; the query checker resolves keys
against it; the compiler takes storage column names only from it (identifiers come only from
the catalog).

Storage layout (the store's ``images`` table, one row per image, one typed column per key):

=============  =====================  =============================================
column         type                   meaning
=============  =====================  =============================================
``id``         BIGINT                 internal row id
``path``       VARCHAR                image path as given, ``/``-separated
``media_id``   VARCHAR                stable id assigned on first sight
``tags``       VARCHAR[]              plain labels, never NULL (empty list)
``v<N>``       see ``types.TYPES``      the value of field N; NULL when absent
``s<N>``       INTEGER                the source (import or edit id) of ``v<N>``
=============  =====================  =============================================
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

from .types import (  # noqa: F401  (the type names live in the type table; re-exported here)
    BOOLEAN, DATETIME, ENUM, LINK, MAX_OPTION_LENGTH, MAX_OPTIONS, MULTI_ENUM, NUMBER, STRING)
from .types import TYPES as _TYPE_TABLE

TYPES = tuple(_TYPE_TABLE)

#: DuckDB column type for each field type (from the type table). Datetimes are naive UTC TIMESTAMPs.
SQL_TYPES = {name: t.sql for name, t in _TYPE_TABLE.items()}

#: Types whose values are text (free text searches them).
STRING_LIKE = frozenset(name for name, t in _TYPE_TABLE.items() if t.text_like)

#: Names the query language reserves; such keys are written ``@name`` in queries.
BUILTIN_KEYS = frozenset({"has", "no", "is", "not", "tag", "path"})

#: Column names every image has: a key of that name could never be listed or exported.
RESERVED_KEYS = {"path": "path", "media_id": "media id"}


def key_problem(name: str) -> str | None:
    """Why ``name`` breaks the key rules (letters, digits, ``_`` and ``.``; not starting with
    ``.``; no ``/``), or None when it is a valid key."""
    if name == "":
        return "a key cannot be empty"
    if name in RESERVED_KEYS:
        return (f"'{name}' is the image's {RESERVED_KEYS[name]}, listed and exported as its own column; "
                f"name the key otherwise, e.g. {name}_2 or source_{name}")
    if name.startswith("."):
        return "a key cannot start with '.'"
    if "/" in name:
        return "a key cannot contain '/'"
    bad = sorted({ch for ch in name if not (ch.isascii() and (ch.isalnum() or ch in "_."))})
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        return f"a key may hold only letters, digits, '_' and '.', not {shown}"
    return None


def normalize_key(name: str) -> str:
    """Repair only what is invalid in a key, keeping its case: ``Patient ID`` → ``Patient_ID``,
    ``café`` → ``cafe``, ``a/b`` → ``a_b``, ``.x`` → ``x``. A valid key is returned unchanged, so
    ``--normalize-keys`` never forks ``Lesion`` into a parallel ``lesion``."""
    if key_problem(name) is None:
        return name
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.strip()
    text = re.sub(r"[^A-Za-z0-9_.]+", "_", text)
    text = re.sub(r"_+", "_", text).strip("_")
    text = text.lstrip(".")
    return text or "_"


def lookup(by_name: dict, name: str):
    """The key rule of the language: the exact name, else the only name equal ignoring case."""
    hit = by_name.get(name)
    if hit is not None:
        return hit
    folded = [v for k, v in by_name.items() if k.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


@dataclass(frozen=True)
class Field:
    """One key of the catalog."""

    name: str
    type: str
    id: int
    declared: bool = False
    locked: bool = False
    options: tuple[str, ...] = ()
    count: int = 0  # images having the key
    #: the column's name where it is not the catalog's ``v<N>``: a published table names its
    #: columns by key (``metastore publish``), a Spark DataFrame by whatever it holds
    stored: str = ""

    @property
    def column(self) -> str:
        """The storage column of the value (an identifier from the catalog, never user text)."""
        return self.stored or f"v{self.id}"

    @property
    def source_column(self) -> str:
        return f"s{self.id}"

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    @property
    def kind(self):
        """The row of the type table for this key's type (``types.FieldType``)."""
        return _TYPE_TABLE[self.type]


@dataclass(frozen=True)
class Schema:
    """The catalog's keys and tags, as the checker and completion see them."""

    fields: tuple[Field, ...] = ()
    tags: tuple[str, ...] = ()
    image_count: int = 0
    _by_name: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})

    def get(self, name: str) -> Field | None:
        """Exact lookup; else the unique case-insensitive match; else None."""
        return lookup(self._by_name, name)

    def exact(self, name: str) -> Field | None:
        """Exact lookup only (imports never fold case: ``Loc`` and ``loc`` are two keys)."""
        return self._by_name.get(name)

    def suggest(self, name: str, n: int = 1) -> list[Field]:
        """Closest keys to a misspelt name, best first."""
        names = difflib.get_close_matches(name, list(self._by_name), n=n, cutoff=0.6)
        if not names:
            folded = {f.name.casefold(): f.name for f in self.fields}
            names = [folded[x] for x in difflib.get_close_matches(name.casefold(), list(folded), n=n, cutoff=0.6)]
        return [self._by_name[x] for x in names]

    def require(self, name: str, where: str = "") -> Field:
        """``get`` or a NotFoundError naming the key, with a did-you-mean when one is close."""
        from .errors import NotFoundError

        f = self.get(name)
        if f is None:
            near = self.suggest(name)
            raise NotFoundError(f"unknown key '{name}'" + (f" in {where}" if where else ""),
                                help=f"did you mean '{near[0].name}'?" if near else "list keys with: metastore keys")
        return f

    def string_like(self) -> list[Field]:
        return [f for f in self.fields if f.type in STRING_LIKE]


__all__ = [
    "STRING", "NUMBER", "BOOLEAN", "DATETIME", "ENUM", "MULTI_ENUM", "LINK", "TYPES",
    "SQL_TYPES", "STRING_LIKE", "BUILTIN_KEYS", "MAX_OPTIONS", "MAX_OPTION_LENGTH",
    "Field", "Schema", "key_problem", "normalize_key", "lookup",
]
