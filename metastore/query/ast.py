"""The parsed query: frozen dataclasses. Pure; no I/O.

Every node carries ``span`` — 0-based, end-exclusive character offsets into the query text —
excluded from equality, so tests compare meaning and check positions separately.

Values are kept as written (unescaped, NFC-normalised) and typed later by the checker, which
knows each key's type.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Union

Span = tuple[int, int]


def _span() -> Span:
    return field(default=(0, 0), compare=False, kw_only=True)


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Word:
    """An unquoted value without wildcards, backslash escapes removed."""

    text: str
    span: Span = _span()


@dataclass(frozen=True)
class Quoted:
    """A quoted value: ``*`` is literal; read by the key's type like any other value."""

    text: str
    span: Span = _span()


@dataclass(frozen=True)
class Glob:
    """An unquoted value holding unescaped ``*``: the literal text between the wildcards."""

    parts: tuple[str, ...]
    span: Span = _span()

    @property
    def text(self) -> str:
        return "*".join(p.replace("*", "\\*") for p in self.parts)


@dataclass(frozen=True)
class Regex:
    """``/re/`` — RE2 syntax, unanchored; ``\\/`` already unescaped to ``/``."""

    pattern: str
    span: Span = _span()


@dataclass(frozen=True)
class Range:
    """``lo..hi``; an open end (``*``) is None."""

    lo: Union[Word, Quoted, None]
    hi: Union[Word, Quoted, None]
    span: Span = _span()


@dataclass(frozen=True)
class LuceneRange(Range):
    """``[lo TO hi]`` (inclusive), ``{lo TO hi}`` (exclusive) or mixed ``[lo TO hi}``; ``*`` → None.

    A Range whose ends may each be exclusive; ``[a TO b]`` means what ``a..b`` means."""

    lo_incl: bool = True
    hi_incl: bool = True


@dataclass(frozen=True)
class List:
    """``[a, b, c]`` — matches any item."""

    items: tuple[Union[Word, Quoted, Glob], ...]
    span: Span = _span()


@dataclass(frozen=True)
class Star:
    """The bare value ``*`` (``k:*`` means ``has:k``)."""

    span: Span = _span()


Value = Union[Word, Quoted, Glob, Regex, Range, LuceneRange, List, Star]

# ---------------------------------------------------------------- terms


@dataclass(frozen=True)
class Key:
    """A key as written: ``name``, ``@name`` or ``@"any key"`` (escaped=True)."""

    name: str
    escaped: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class Filter:
    """``key OP value``; op is one of ``: = != > >= < <= ~`` (``:>`` is stored as ``>``)."""

    key: Key
    op: str
    value: Value
    span: Span = _span()


@dataclass(frozen=True)
class Has:
    """``has:k`` (and ``k:*``)."""

    key: Key
    span: Span = _span()


@dataclass(frozen=True)
class No:
    """``no:k``."""

    key: Key
    span: Span = _span()


@dataclass(frozen=True)
class Is:
    """``is:k`` (value True) or ``not:k`` (value False), for boolean keys."""

    key: Key
    value: bool
    span: Span = _span()


@dataclass(frozen=True)
class Tag:
    """``tag:v`` — images carrying a tag."""

    op: str
    value: Value
    span: Span = _span()


@dataclass(frozen=True)
class Path:
    """``path:glob`` / ``path~text``."""

    op: str
    value: Value
    span: Span = _span()


@dataclass(frozen=True)
class FreeText:
    """A bare word (Word or Glob) or quoted phrase (Quoted) with no key."""

    value: Union[Word, Quoted, Glob]
    span: Span = _span()


@dataclass(frozen=True)
class Not:
    item: "Node"
    span: Span = _span()


@dataclass(frozen=True)
class And:
    items: tuple["Node", ...]
    span: Span = _span()


@dataclass(frozen=True)
class Or:
    items: tuple["Node", ...]
    span: Span = _span()


Node = Union[And, Or, Not, Filter, Has, No, Is, Tag, Path, FreeText]


def to_data(obj):
    """A plain nested structure (lists, dicts, strings) for golden files: ``{"Filter": {...}}``.

    Spans are left out (they are checked separately)."""
    if isinstance(obj, tuple):
        return [to_data(x) for x in obj]
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    body = {f.name: to_data(getattr(obj, f.name)) for f in fields(obj) if f.name != "span"}
    return {type(obj).__name__: body}


__all__ = [
    "Span", "Word", "Quoted", "Glob", "Regex", "Range", "LuceneRange", "List", "Star", "Value",
    "Key", "Filter", "Has", "No", "Is", "Tag", "Path", "FreeText", "Not", "And", "Or", "Node",
    "to_data",
]
