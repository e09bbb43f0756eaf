"""AST → checked tree: keys resolved against the catalog Schema, every literal typed. Pure.

The checked tree (:mod:`.checked`) is what the compiler turns into SQL. This module walks the
query and resolves keys; the values are checked by :mod:`.check_text` (text, options) and
:mod:`.check_typed` (numbers, booleans, datetimes), over :mod:`.check_base`. Imports point one
way: checker → check_text / check_typed → check_base → usage, globs, checked.

All semantic problems are collected and raised together as one QuerySemanticError.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Callable

from ..errors import QuerySemanticError
from .. import types as T
from ..schema import Field, Schema
from . import ast
from .check_base import fold
from .check_text import TextChecks
from .check_typed import TypedChecks
from .checked import CAnd, Checked, CNode, CNot, COr, Pred  # noqa: F401  (the checker's API)
from .datetimes import resolve_zone
from .operators import SYNTAX
from .globs import contains_ci_op, glob_op, glob_regex, like_pattern  # noqa: F401  (re-exported: tests and callers)
from .usage import raw


class _Checker(TextChecks, TypedChecks, ast.Visitor):
    # ------------------------------------------------------------ structure

    def visit_and(self, n: ast.And):
        items = [self.visit(x) for x in n.items]
        return ast.And(tuple(items), span=n.span) if None not in items else None

    def visit_or(self, n: ast.Or):
        items = [self.visit(x) for x in n.items]
        return ast.Or(tuple(items), span=n.span) if None not in items else None

    def visit_not(self, n: ast.Not):
        item = self.visit(n.item)
        return ast.Not(item, span=n.span) if item is not None else None

    def key(self, key: ast.Key, where: str = "", usage: str = "") -> Field | None:
        f = self.schema.get(key.name)
        if f is not None:
            return f
        if "*" in key.name and not key.escaped:
            rx = glob_regex(key.name.split("*"), ci=True)
            hits = [x.name for x in self.schema.fields if rx.match(x.name)]
            shown = ", ".join(hits[:10]) + (f", … ({len(hits)} in all)" if len(hits) > 10 else "")
            if len(hits) == 1:
                help = f"write the key: {hits[0]}"
            elif hits and usage:
                help = "write one key, or each with OR: (" + " OR ".join(usage.format(k=h) for h in hits[:3]) + \
                    (" OR …)" if len(hits) > 3 else ")")
            elif hits:
                help = f"write one key, e.g. {hits[0]}"
            else:
                help = "no key matches it; `metastore keys` lists the keys"
            self.issue(f"keys cannot hold wildcards: '{key.name}'" + (f" would match {shown}" if hits else ""),
                       key.span, help)
            return None
        matches = [x for x in self.schema.fields if x.name.casefold() == key.name.casefold()]
        if len(matches) > 1:
            names = ", ".join(repr(x.name) for x in matches)
            self.issue(f"ambiguous key '{key.name}'{where}: it matches {names} ignoring case", key.span,
                       f"write the key exactly, e.g. {matches[0].name}")
            return None
        sugg = self.schema.suggest(key.name)
        if sugg:
            s = sugg[0]
            help = f"did you mean '{s.name}'? ({s.type}, {s.count:,} images)"
        else:
            help = "check the spelling; keys match exactly, or ignoring case when only one key fits"
        self.issue(f"unknown key '{key.name}'{where}", key.span, help)
        return None

    # ------------------------------------------------------------ leaves

    def visit_has(self, n: ast.Has):
        if _is_tags(n.key, self.schema):  # has:tag — images carrying any tag
            return Pred("nonempty", "tags", span=n.span)
        f = self.key(n.key, " in has:")
        return Pred("present", f, span=n.span) if f else None

    def visit_no(self, n: ast.No):
        if _is_tags(n.key, self.schema):  # no:tag — images without tags
            return CNot(Pred("nonempty", "tags", span=n.span), span=n.span)
        f = self.key(n.key, " in no:")
        return Pred("absent", f, span=n.span) if f else None

    def visit_is(self, n: ast.Is):
        word = "is" if n.value else "not"
        f = self.key(n.key, f" in {word}:")
        if f is None:
            return None
        if f.kind.query != "boolean":
            self.issue(f"'{f.name}' is {f.kind.a}; {word}: works only on boolean keys", n.span,
                       f"use has:{f.name} to test that it is present")
            return None
        return Pred("eq", f, (n.value,), span=n.span)

    def visit_freetext(self, n: ast.FreeText):
        v = n.value
        if isinstance(v, ast.Glob):
            op, args = glob_op(v.parts, ci=True, substring=True)
            rx = glob_regex([fold(p) for p in ("", *v.parts, "")], ci=False)
            over = self.text_fields()
            return Pred(op, "text", args, over=over, hits=_option_hits(over, lambda o: rx.match(fold(o))),
                        span=n.span)
        if v.text == "":
            self.issue("an empty phrase matches everything", n.span, "remove it, or put words inside the quotes")
            return None
        needle = fold(v.text)
        over = self.text_fields()
        return Pred(contains_ci_op(needle), "text", (needle,), over=over,
                    hits=_option_hits(over, lambda o: needle in fold(o)), span=n.span)

    def text_fields(self) -> tuple:
        return tuple(self.schema.string_like())

    def visit_tag(self, n: ast.Tag):
        if not SYNTAX[n.op].text:
            self.issue(f"tag: does not take '{n.op}'", n.span, "write e.g. tag:reviewed or tag:needs-*")
            return None
        return self.values(n, n.value, lambda v: self.text_value(n, "tags", v, each=True))

    def visit_path(self, n: ast.Path):
        if not SYNTAX[n.op].text:
            self.issue(f"path does not take '{n.op}'", n.span, "write e.g. path:images/2024/* or path~forklift")
            return None
        return self.values(n, n.value, lambda v: self.text_value(n, "path", v))

    def visit_filter(self, n: ast.Filter):
        if self.schema.get(n.key.name) is None and self.peer_syntax(n):
            return None
        shown = raw(n.value) if not isinstance(n.value, ast.List) else "[…]"
        f = self.key(n.key, usage=f"{{k}}{n.op}{shown}")
        if f is None:
            return None
        if n.op not in T.TYPES[f.type].operators:
            self.issue(f"'{f.name}' is {f.kind.a}; '{n.op}' is not allowed ({self.usage(f)})", n.span,
                       self.usage(f))
            return None
        if f.kind.options and f.options:
            return self.options_filter(n, f)
        if f.kind.listed:
            return self.values(n, n.value, lambda v: self.text_value(n, f, v, each=True))
        if f.kind.text_like:
            return self.values(n, n.value, lambda v: self.text_value(n, f, v))
        return self.values(n, n.value, lambda v: self.typed_value(n, f, v))

    def peer_syntax(self, n: ast.Filter) -> bool:
        """Other tools' syntax that reads as an unknown key here: say what to write instead."""
        name = n.key.name
        if n.key.escaped or any(x.name.casefold() == name.casefold() for x in self.schema.fields):
            return False
        low = name.lower()
        text = getattr(n.value, "text", "")
        if low == "in":
            self.issue(f"in:{text} is not a filter here: there are no fields to search 'in'", n.span,
                       "scope a word to a key with '~' (contains), e.g. caption~word; a bare word searches "
                       "every text key, the path and the tags")
            return True
        if low in ("sort", "order", "sort_by", "order_by", "orderby"):
            plain = self.schema.get(text) is not None
            example = f"--sort {text} or --sort {text}:desc" if plain else "--sort KEY or --sort KEY:desc"
            self.issue(f"{name}:{text} is not a filter: sorting is an option", n.span,
                       f"use {example} (e.g. metastore search … --sort captured_at:desc)")
            return True
        if n.op == "~" and isinstance(n.value, ast.Word) and re.fullmatch(r"[0-2](?:\.[0-9]+)?", text):
            self.issue(f"fuzzy search ({name}~{text}) is not supported: '~' means contains, key~text", n.span,
                       f"write {name} alone to search the text anywhere, or KEY~{name} for values containing it")
            return True
        return False


def _option_hits(over: tuple, matches: Callable[[str], object]) -> tuple:
    """Free text over ``over``: per field, None (its values are searched), or for a key with
    options the options the text matches, in the catalog's order (stored values are always among
    them, ``store/check.py``): a list test instead of a text scan of every value (or item)."""
    if not any(f.kind.options and f.options for f in over):
        return ()
    return tuple(tuple(o for o in f.options if matches(o)) if f.kind.options and f.options else None
                 for f in over)


def _is_tags(key: ast.Key, schema: Schema) -> bool:
    """``has:tag`` / ``no:tag`` name the built-in tags (``has:@tag`` names a key called tag)."""
    return not key.escaped and key.name.lower() in ("tag", "tags") and schema.get(key.name) is None


def check(node: ast.Node | None, schema: Schema, *, now: datetime, tz: str | tzinfo = "UTC",
          text: str = "", regex_problem: Callable[[str], str | None] | None = None,
          examples: Callable[[Field], list] | None = None) -> Checked:
    """Resolve keys and type literals; raise QuerySemanticError listing every problem.

    ``regex_problem(pattern)`` is the search engine's verdict on a regex (why it is invalid, or
    None); the store passes DuckDB's. Without it, Python's ``re`` approximates RE2.
    ``examples(field)`` gives a few of the key's own values for help lines (the store reads them
    from the catalog only when an error needs them)."""
    checker = _Checker(schema, now, resolve_zone(tz), regex_problem, examples)
    root = checker.visit(node) if node is not None else None
    if checker.issues:
        raise QuerySemanticError(checker.issues, query=text)
    return Checked(root, text)


__all__ = ["Pred", "CAnd", "COr", "CNot", "CNode", "Checked", "check", "like_pattern", "glob_op"]
