"""Globs (``a*``, ``*a*b``) as the operators and patterns that match them. Pure."""

from __future__ import annotations

import re

def like_pattern(parts: tuple[str, ...] | list[str], *, lower: bool, substring: bool = False) -> str:
    """A LIKE pattern (ESCAPE '\\') for glob parts joined by ``*``."""
    esc = [re.sub(r"([\\%_])", r"\\\1", p.lower() if lower else p) for p in parts]
    pat = "%".join(esc)
    return f"%{pat}%" if substring else pat


def glob_op(parts: tuple[str, ...] | list[str], *, ci: bool, substring: bool = False) -> tuple[str, tuple]:
    """The operator and argument for a glob, chosen by its shape (same results as LIKE).

    ``a*`` → ``prefix``, ``*a`` → ``suffix``, ``*a*`` → ``contains``: DuckDB runs these as
    plain string tests, whereas ``LIKE … ESCAPE`` always takes its generic matcher. Only a
    wildcard between two texts (``a*b``) needs LIKE, and only a pattern with a literal ``%``,
    ``_`` or ``\\`` needs its ESCAPE. ``ci`` lowercases the text (the column is lowercased by
    the ``_ci`` operator). ``substring`` (free text) matches anywhere: ``*parts*``."""
    parts = [p.lower() if ci else p for p in parts]
    if substring:
        parts = ["", *parts, ""]
    first, last = parts[0], parts[-1]
    inner = [p for p in parts[1:-1] if p]
    sfx = "_ci" if ci else ""
    if not inner and first and not last:
        return "prefix" + sfx, (first,)
    if not inner and last and not first:
        return "suffix" + sfx, (last,)
    if not first and not last and len(inner) <= 1:
        needle = inner[0] if inner else ""
        return (contains_ci_op(needle) if ci else "contains"), (needle,)
    if any(ch in p for p in parts for ch in "%_\\"):
        return "glob" + sfx, (like_pattern(parts, lower=False),)
    return "like" + sfx, ("%".join(parts),)


def contains_ci_op(needle: str) -> str:
    """``contains_ci`` (``contains(lower(c), needle)``), or ``ilike_contains`` when the
    (lowercased) needle is ASCII without ``%`` or ``_``: the same matches, faster in DuckDB."""
    return "ilike_contains" if needle.isascii() and "%" not in needle and "_" not in needle else "contains_ci"


def glob_regex(parts, *, ci: bool) -> re.Pattern:
    return re.compile(".*".join(re.escape(p) for p in parts) + r"\Z", re.S | (re.I if ci else 0))


__all__ = ["like_pattern", "glob_op", "glob_regex", "contains_ci_op"]
