"""What every part of the checker shares: the issues it collects, help lines with the key's own
values, lists of values, ranges over ordered values and regex checks. Pure."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from ..errors import QueryIssue
from ..schema import Field, Schema
from . import ast
from .checked import CAnd, Pred
from .operators import SYNTAX
from .usage import number_example, raw, usage


def fold(s: str) -> str:
    """Text as ``:`` compares it (any case)."""
    return s.lower()


def valid_regex(pattern: str) -> bool:
    """A rough syntax check (Python re accepts most RE2 patterns); DuckDB checks fully."""
    if "\\p" in pattern or "\\P" in pattern:  # RE2 Unicode classes; Python re lacks them
        return True
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


class CheckerBase:
    """The checker's state: the catalog's keys, the clock and zone that datetimes are read in,
    the engine's regex verdict, the key's own values for help lines, and the issues found."""

    def __init__(self, schema: Schema, now: datetime, tz: tzinfo, regex_problem=None, examples=None) -> None:
        self.schema = schema
        self.now = now
        self.tz = tz
        self.regex_problem = regex_problem
        self.examples = examples  # field -> a few of its own values (for help lines), or None
        self.issues: list[QueryIssue] = []

    def issue(self, message: str, span, help: str | None = None) -> None:
        if any((i.message, i.start, i.end) == (message, span[0], span[1]) for i in self.issues):
            return  # a field group k:(a OR b) reports an unknown k once
        self.issues.append(QueryIssue(message, span[0], span[1], help))

    def own_examples(self, f: Field) -> list:
        """A few of the key's own values (for help lines), read only when a message needs them."""
        return [x for x in (self.examples(f) if self.examples is not None else []) if x is not None]

    def usage(self, f: Field) -> str:
        """How to query ``f``, with examples from the key's own values (never another catalog's)."""
        return usage(f, self.own_examples(f))

    def number_example(self, f: Field) -> str:
        return number_example(self.own_examples(f))

    def values(self, n, value, one):
        """Apply ``one`` to a value, or to each item of a list (any item matches)."""
        if isinstance(value, ast.List):
            preds = [one(v) for v in value.items]
            if None in preds:
                return None
            if len(preds) == 1:
                return preds[0]
            if SYNTAX[getattr(n, "op", ":")].negated:  # present and no item matches
                return ast.And(tuple(preds), span=n.span)
            return ast.Or(tuple(preds), span=n.span)
        return one(value)

    def ordered(self, n, f: Field, v: ast.LuceneRange, lo, hi, swapped: str):
        """Predicates for a range with inclusive/exclusive ends over comparable values."""
        if lo is None and hi is None:
            return Pred("present", f, span=n.span)
        if lo is not None and hi is not None:
            if lo > hi or (lo == hi and not (v.lo_incl and v.hi_incl)):
                self.issue(f"the range {raw(v)} is empty", v.span, f"write the smaller value first: {swapped}"
                           if lo > hi else "use [a TO a] for one value, or widen it")
                return None
            if v.lo_incl and v.hi_incl:
                return Pred("between", f, (lo, hi), span=n.span)
        preds = []
        if lo is not None:
            preds.append(Pred("ge" if v.lo_incl else "gt", f, (lo,), span=n.span))
        if hi is not None:
            preds.append(Pred("le" if v.hi_incl else "lt", f, (hi,), span=n.span))
        return preds[0] if len(preds) == 1 else CAnd(tuple(preds), span=n.span)

    def regex(self, v: ast.Regex, help: str) -> bool:
        """Whether the pattern is valid; records the issue when not. A rough check first (Python
        ``re``), then the engine's own (``regex_problem``: RE2 rejects lookarounds and
        backreferences that ``re`` accepts)."""
        if not valid_regex(v.pattern):
            self.issue(f"invalid regex /{v.pattern}/", v.span, help)
            return False
        why = self.regex_problem(v.pattern) if self.regex_problem is not None else None
        if why:
            self.issue(f"invalid regex /{v.pattern}/: {why}", v.span,
                       "regexes use RE2 syntax: no lookarounds or backreferences")
            return False
        return True


__all__ = ["CheckerBase", "fold", "valid_regex"]
