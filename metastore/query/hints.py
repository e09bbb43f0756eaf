"""Zero-result hints: readings of a query that found nothing which the user likely meant. Pure.

:func:`candidates` rewrites spans of the query text into the likely intended forms; the caller
(``metastore.hints``) counts each and shows the first that matches something. It runs only after a
search found nothing, so its cost never touches a search that found images.
"""

from __future__ import annotations

import re
from typing import Iterator

from ..schema import Schema
from . import ast

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)\Z")
_KEYWORD = re.compile(r"(?<![^\s(])(and|or|not)(?![^\s)])")
_PLAIN = re.compile(r"[^\s()\[\]{}\"'\\]+\Z")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquoted(text: str) -> str:
    """Text written as an unquoted value, ``*`` kept as a wildcard (other specials escaped)."""
    return re.sub(r"([\s()\[\]{}\"'\\,])", r"\\\1", text)


def _replace(text: str, span, new: str) -> str:
    return text[:span[0]] + new + text[span[1]:]


def _key_text(node) -> str:
    if isinstance(node, ast.Tag):
        return "tag"
    if isinstance(node, ast.Path):
        return "path"
    k = node.key
    return k.name if not k.escaped else "@" + _quote(k.name)


def candidates(text: str, node: ast.Node | None, schema: Schema) -> Iterator[tuple[str, str]]:
    """``(hint, query)`` pairs: a short explanation and the rewritten query text."""
    if node is None:
        return
    for n in ast.find_all(node, ast.Filter, ast.Tag, ast.Path, ast.FreeText):
        v = n.value
        # 1. a quoted value holding '*': the quotes made it literal
        if isinstance(v, ast.Quoted) and "*" in v.text:
            new = _unquoted(v.text)
            clause = new if isinstance(n, ast.FreeText) else f"{_key_text(n)}{n.op}{new}"
            yield (f"'*' inside quotes is literal; without quotes it is a wildcard: {clause}",
                   _replace(text, v.span, new))
        # 2. k:"phrase" on a text key: ':' is the whole value, '~' contains
        if isinstance(n, ast.Filter) and n.op == ":" and isinstance(v, ast.Quoted) and v.text:
            f = schema.get(n.key.name)
            if f is not None and f.kind.text_like and not f.kind.options:
                clause = f"{_key_text(n)}~{_quote(v.text)}"
                yield (f"{_key_text(n)}:{_quote(v.text)} matches the whole value; {clause} finds values "
                       f"containing it", _replace(text, n.span, clause))
        # 3. tag:a,b when no tag is called 'a,b': a list
        if isinstance(n, ast.Tag) and n.op == ":" and isinstance(v, ast.Word) and "," in v.text \
                and v.text not in schema.tags:
            items = [x.strip() for x in v.text.split(",") if x.strip()]
            if len(items) > 1:
                clause = "tag:[" + ", ".join(items) + "]"
                yield (f"no tag is called '{v.text}'; a list of tags is {clause}", _replace(text, n.span, clause))
    # 4. k:v followed by bare numbers: k:[v, w, x]
    for group in ast.find_all(node, ast.And):
        items = group.items
        for i, first in enumerate(items):
            if not (isinstance(first, ast.Filter) and first.op == ":" and isinstance(first.value, ast.Word)):
                continue
            j = i + 1
            while j < len(items) and isinstance(items[j], ast.FreeText) and isinstance(items[j].value, ast.Word) \
                    and _NUMBER.match(items[j].value.text):
                j += 1
            if j > i + 1:
                values = [first.value.text] + [x.value.text for x in items[i + 1:j]]
                clause = f"{_key_text(first)}:[{', '.join(values)}]"
                yield (f"the numbers after {_key_text(first)}:{first.value.text} are searched as free text; "
                       f"for any of them write {clause}",
                       _replace(text, (first.span[0], items[j - 1].span[1]), clause))
    # 5. lowercase and/or/not between bare words: keywords in any case; quote to search the text
    keyed = (ast.Filter, ast.Has, ast.No, ast.Is, ast.Tag, ast.Path)
    if _KEYWORD.search(text) and not any(isinstance(x, keyed) for x in ast.walk(node)):
        word = _KEYWORD.search(text).group(1)
        phrase = _quote(text.strip())
        yield (f"'{word}' is a keyword in any case; to search the words as text, quote them: {phrase}", phrase)


__all__ = ["candidates"]
