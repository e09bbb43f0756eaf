"""Checking number, boolean and datetime values, and their ranges. Pure.

Each value is read by the type table's reader (``types.read_number`` …), the one reader import
and ``set`` use; datetimes as the interval they name (:mod:`.datetimes`)."""

from __future__ import annotations

import unicodedata

from .. import types as T
from ..schema import Field
from . import ast
from .check_base import CheckerBase
from .checked import Pred
from .datetimes import DatetimeProblem, interval
from .operators import SYNTAX
from .usage import raw


class TypedChecks(CheckerBase):
    """Values of keys whose type is read as a number, a boolean or a datetime (``FieldType.query``)."""

    def typed_value(self, n: ast.Filter, f: Field, v):
        op = n.op
        if isinstance(v, (ast.Glob, ast.Regex)):
            kind = "'*' wildcards are" if isinstance(v, ast.Glob) else "a regex is"
            self.issue(f"'{f.name}' is {f.kind.a}; {kind} not allowed", v.span, self.usage(f))
            return None
        if isinstance(v, ast.Range):
            if not T.TYPES[f.type].ordered:
                self.issue(f"'{f.name}' is {f.kind.a}; ranges are not allowed", v.span, self.usage(f))
                return None
            if op not in (":", "=", "!="):
                self.issue(f"a range goes after ':', not '{op}'", n.span, f"write {f.name}:{raw(v)}")
                return None
            return self.range_pred(n, f, v)
        if f.kind.query == "boolean":
            b = self.boolean(f, v)
            return None if b is None else Pred("eq", f, (b,), negated=SYNTAX[op].negated, span=n.span)
        if f.kind.query == "number":
            x = self.number(f, v)
            if x is None:
                return None
            return Pred(SYNTAX[op].number, f, (x,), negated=SYNTAX[op].negated, span=n.span)
        iv = self.datetime(f, v)
        if iv is None:
            return None
        start, end = iv
        compare = SYNTAX[op].datetime
        if compare is None:
            return Pred("between_dt", f, (start, end), negated=SYNTAX[op].negated, span=n.span)
        kind, bound = compare
        return Pred(kind, f, (start if bound == "start" else end,), span=n.span)

    def range_pred(self, n, f: Field, v: ast.Range):
        if isinstance(v, ast.LuceneRange):
            return self.lucene_range(n, f, v)
        neg = SYNTAX[n.op].negated
        if f.kind.query == "number":
            got = self.ends(v, lambda x: self.number(f, x))
            if got is None:
                return None
            lo, hi = got
            if lo is not None and hi is not None:
                if lo > hi:
                    self.issue(f"the range {raw(v)} is empty", v.span, f"write the smaller value first: {f.name}:{raw(v.hi)}..{raw(v.lo)}")
                    return None
                return Pred("between", f, (lo, hi), negated=neg, span=n.span)
        else:
            got = self.ends(v, lambda x: self.datetime(f, x))
            if got is None:
                return None
            a, b = got
            lo, hi = (a[0] if a else None), (b[1] if b else None)
            if lo is not None and hi is not None:
                if lo >= hi:
                    self.issue(f"the range {raw(v)} is empty", v.span, "write the earlier datetime first")
                    return None
                return Pred("between_dt", f, (lo, hi), negated=neg, span=n.span)
        if lo is None and hi is None:
            return Pred("absent" if neg else "present", f, span=n.span)
        if lo is None:
            return Pred("le" if f.kind.query == "number" else "lt", f, (hi,), negated=neg, span=n.span)
        return Pred("ge", f, (lo,), negated=neg, span=n.span)

    def lucene_range(self, n, f: Field, v: ast.LuceneRange):
        """``[a TO b]``, ``{a TO b}`` and mixed ends on a number or datetime key."""
        if f.kind.query == "number":
            got = self.ends(v, lambda x: self.number(f, x))
            if got is None:
                return None
            lo, hi = got
            return self.ordered(n, f, v, lo, hi, f"{f.name}:[{raw(v.hi)} TO {raw(v.lo)}]")
        got = self.ends(v, lambda x: self.datetime(f, x))
        if got is None:
            return None
        a, b = got
        # A literal is an interval: an inclusive end takes all of it, an exclusive end none of it.
        lo = None if a is None else (a[0] if v.lo_incl else a[1])
        hi = None if b is None else (b[1] if v.hi_incl else b[0])
        if lo is None and hi is None:
            return Pred("present", f, span=n.span)
        if lo is not None and hi is not None:
            if lo >= hi:
                help = "write the earlier datetime first"
                if a[0] < b[1]:  # empty only because the excluded ends are whole days/months/…
                    help = ("an excluded end leaves out the whole period it names (2024-01 is all of January): "
                            "widen the range")
                self.issue(f"the range {raw(v)} is empty", v.span, help)
                return None
            return Pred("between_dt", f, (lo, hi), span=n.span)
        return Pred("ge", f, (lo,), span=n.span) if lo is not None else Pred("lt", f, (hi,), span=n.span)

    def ends(self, v: ast.Range, read):
        """Both ends of range ``v`` read by ``read`` (None for an open end); None when an end does
        not read (``read`` has recorded why)."""
        lo = read(v.lo) if v.lo is not None else None
        hi = read(v.hi) if v.hi is not None else None
        if (v.lo is not None and lo is None) or (v.hi is not None and hi is None):
            return None
        return lo, hi

    def number(self, f: Field, v) -> float | None:
        x = T.read_number(v.text)  # the reader import and `set` use: ASCII digits, finite
        if x is not None:
            return x
        ascii_ = _ascii_digits(v.text.strip())
        if ascii_ is not None and T.read_number(ascii_) is not None:
            self.issue(f"'{v.text}' is written with digits other than 0-9 ('{f.name}' is a number)", v.span,
                       f"write it with the digits 0-9: {ascii_}")
            return None
        self.issue(f"'{v.text}' is not a number ('{f.name}' is a number)", v.span,
                   f"write a number such as -5, 3.14 or 1e3, e.g. {f.name}>{self.number_example(f)}")
        return None

    def boolean(self, f: Field, v) -> bool | None:
        b = T.read_boolean(v.text)  # the reader import and `set` use
        if b is not None:
            return b
        self.issue(f"'{v.text}' is not a boolean ('{f.name}' is a boolean)", v.span,
                   f"use {f.name}:true or {f.name}:false (also yes/no, 1/0)")
        return None

    def datetime(self, f: Field, v):
        try:
            return interval(v.text, now=self.now, tz=self.tz, key=f.name)
        except DatetimeProblem as e:
            ascii_ = _ascii_digits(v.text)
            help = f"write it with the digits 0-9: {ascii_}" if ascii_ is not None else e.help
            self.issue(f"{e} ('{f.name}' is a datetime)", v.span, help)
            return None


def _ascii_digits(text: str) -> str | None:
    """The text with every Unicode decimal digit written 0-9, if it holds any other digits."""
    out, changed = [], False
    for ch in text:
        d = unicodedata.decimal(ch, None)
        if d is not None and not ("0" <= ch <= "9"):
            out.append(str(d))
            changed = True
        else:
            out.append(ch)
    return "".join(out) if changed else None


__all__ = ["TypedChecks"]
