"""The words of the checker's help lines: how to query a key (with examples from its own values)
and values written back as the user wrote them. Pure."""

from __future__ import annotations

import re

from .. import types as T
from ..schema import Field
from . import ast


def number_text(x) -> str:
    """A number as a query writes it (``70``, not ``70.0``)."""
    return T.text(float(x))


def query_word(text: str) -> str:
    """A value as a query writes it: bare when it is one plain word, else quoted."""
    if re.fullmatch(r"[A-Za-z0-9_.-]+", text) and not text.startswith("-"):
        return text
    return T.query_text(text)


def number_example(own: list) -> str:
    """A number to show in a help line: the key's smallest value, else 70."""
    return number_text(min(own)) if own else "70"


def usage(f: Field, own: list) -> str:
    """How to query ``f``, with examples from the key's own values ``own`` (never another
    catalog's)."""
    k = f.name
    how = f.kind.query
    if how == "boolean":
        return f"use {k}:true or {k}:false"
    if how == "number":
        if own:
            a, b = number_text(min(own)), number_text(max(own))
            return f"use {k}:{a}, {k}>{a} or {k}:{a}..{b}" if a != b else f"use {k}:{a} or {k}>{a}"
        return f"use {k}:NUMBER, {k}>NUMBER or {k}:LOW..HIGH"
    if how == "datetime":
        if own:
            day = min(own).date().isoformat()
            return f"use {k}:{day[:7]}, {k}>{day} or {k}>now-7d"
        return f"use {k}:YYYY-MM, {k}>YYYY-MM-DD or {k}>now-7d"
    if f.kind.options:
        opt = query_word(f.options[0]) if f.options else "OPTION"
        return f"use {k}:{opt} or {k}:[{opt}, …]"
    if own:
        word = str(own[0])
        head = word[:max(1, len(word) // 2)]
        return f"use {k}:{query_word(word)}, {k}:{query_word(head)}* or {k}~{query_word(head)}"
    return f"use {k}:VALUE, {k}:PREFIX* or {k}~TEXT"


def raw(v) -> str:
    """A value, range or regex as the query wrote it (``*`` for an open end)."""
    if v is None:
        return "*"
    if isinstance(v, ast.LuceneRange):
        return f"{'[' if v.lo_incl else '{'}{raw(v.lo)} TO {raw(v.hi)}{']' if v.hi_incl else '}'}"
    if isinstance(v, ast.Range):
        return f"{raw(v.lo)}..{raw(v.hi)}"
    if isinstance(v, ast.Regex):
        return f"/{v.pattern}/"
    return v.text


def options_text(options) -> str:
    """A key's options for a message: all of them, or the first 20 and how many there are."""
    if len(options) <= 20:
        return ", ".join(options)
    return ", ".join(options[:20]) + f", … ({len(options)} in all)"


__all__ = ["number_text", "query_word", "number_example", "usage", "raw", "options_text"]
