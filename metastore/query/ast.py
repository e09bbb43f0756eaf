"""The parsed query: frozen dataclasses. Pure; no I/O.

Every node carries ``span`` — 0-based, end-exclusive character offsets into the query text —
excluded from equality, so tests compare meaning and check positions separately.

Values are kept as written (unescaped, NFC-normalised) and typed later by the checker, which
knows each key's type.

Every node (and the checked tree's ``Pred`` leaves, whose tree reuses ``And``/``Or``/``Not``)
derives from :class:`Tree`; :func:`walk`, :func:`find_all` and :class:`Visitor` are the one way
code goes through either tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterator, Union

Span = tuple[int, int]


class Tree:
    """Base of the nodes of the query trees: what :func:`walk` descends through."""

    __slots__ = ()


def children(node: Tree) -> Iterator[Tree]:
    """The nodes directly under ``node`` (fields holding a node or a tuple of nodes), in order."""
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Tree):
            yield value
        elif isinstance(value, tuple):
            yield from (x for x in value if isinstance(x, Tree))


def walk(node: Tree | None) -> Iterator[Tree]:
    """``node`` and every node under it, depth first, left to right (no recursion)."""
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(children(n))))


def find_all(node: Tree | None, *types: type) -> Iterator[Tree]:
    """The nodes of ``types`` in ``node``'s tree, in query order (``find_all(q, Regex)``)."""
    return (n for n in walk(node) if isinstance(n, types))


class Visitor:
    """Calls ``visit_<class name in lower case>(node)``; a subclass decides what each returns
    and whether it goes deeper (``self.visit(child)``)."""

    def visit(self, node: Tree):
        return getattr(self, "visit_" + type(node).__name__.lower())(node)


def _span() -> Span:
    return field(default=(0, 0), compare=False, kw_only=True)


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Word(Tree):
    """An unquoted value without wildcards, backslash escapes removed."""

    text: str
    span: Span = _span()


@dataclass(frozen=True)
class Quoted(Tree):
    """A quoted value: ``*`` is literal; read by the key's type like any other value."""

    text: str
    span: Span = _span()


@dataclass(frozen=True)
class Glob(Tree):
    """An unquoted value holding unescaped ``*``: the literal text between the wildcards."""

    parts: tuple[str, ...]
    span: Span = _span()

    @property
    def text(self) -> str:
        return "*".join(p.replace("*", "\\*") for p in self.parts)


@dataclass(frozen=True)
class Regex(Tree):
    """``/re/`` — RE2 syntax, unanchored; ``\\/`` already unescaped to ``/``."""

    pattern: str
    span: Span = _span()


@dataclass(frozen=True)
class Range(Tree):
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
class List(Tree):
    """``[a, b, c]`` — matches any item."""

    items: tuple[Union[Word, Quoted, Glob], ...]
    span: Span = _span()


@dataclass(frozen=True)
class Star(Tree):
    """The bare value ``*`` (``k:*`` means ``has:k``)."""

    span: Span = _span()


Value = Union[Word, Quoted, Glob, Regex, Range, LuceneRange, List, Star]

# ---------------------------------------------------------------- terms


@dataclass(frozen=True)
class Key(Tree):
    """A key as written: ``name``, ``@name`` or ``@"any key"`` (escaped=True)."""

    name: str
    escaped: bool = False
    span: Span = _span()


@dataclass(frozen=True)
class Filter(Tree):
    """``key OP value``; op is one of ``: = != > >= < <= ~`` (``:>`` is stored as ``>``)."""

    key: Key
    op: str
    value: Value
    span: Span = _span()


@dataclass(frozen=True)
class Has(Tree):
    """``has:k`` (and ``k:*``)."""

    key: Key
    span: Span = _span()


@dataclass(frozen=True)
class No(Tree):
    """``no:k``."""

    key: Key
    span: Span = _span()


@dataclass(frozen=True)
class Is(Tree):
    """``is:k`` (value True) or ``not:k`` (value False), for boolean keys."""

    key: Key
    value: bool
    span: Span = _span()


@dataclass(frozen=True)
class Tag(Tree):
    """``tag:v`` — images carrying a tag."""

    op: str
    value: Value
    span: Span = _span()


@dataclass(frozen=True)
class Path(Tree):
    """``path:glob`` / ``path~text``."""

    op: str
    value: Value
    span: Span = _span()


@dataclass(frozen=True)
class FreeText(Tree):
    """A bare word (Word or Glob) or quoted phrase (Quoted) with no key."""

    value: Union[Word, Quoted, Glob]
    span: Span = _span()


@dataclass(frozen=True)
class Not(Tree):
    item: "Node"
    span: Span = _span()


@dataclass(frozen=True)
class And(Tree):
    items: tuple["Node", ...]
    span: Span = _span()


@dataclass(frozen=True)
class Or(Tree):
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
    "Tree", "children", "walk", "find_all", "Visitor", "Span", "Word", "Quoted", "Glob", "Regex", "Range",
    "LuceneRange", "List", "Star", "Value",
    "Key", "Filter", "Has", "No", "Is", "Tag", "Path", "FreeText", "Not", "And", "Or", "Node",
    "to_data",
]
