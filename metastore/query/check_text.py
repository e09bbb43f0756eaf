"""Checking text values: string, link and list keys, enum options, paths and tags. Pure."""

from __future__ import annotations

import difflib

from ..schema import Field
from . import ast
from .check_base import CheckerBase, fold
from .checked import Pred, Target
from .globs import contains_ci_op, glob_op, glob_regex
from .operators import SYNTAX
from .usage import options_text, raw


class TextChecks(CheckerBase):
    """Values of text keys (string, link, lists without options), of keys with options, and of
    the built-in ``path`` and ``tags``."""

    def text_value(self, n, target: Target, v, *, each: bool = False):
        op = n.op
        syn = SYNTAX[op]
        neg = syn.negated
        name = target.name if isinstance(target, Field) else target
        link = isinstance(target, Field) and target.kind.exact
        cs = syn.exact or link or target == "path"  # case-sensitive comparison
        if isinstance(v, ast.Star):  # tag:* / path:*
            return Pred("nonempty" if target == "tags" else "present", target, span=n.span)
        string = isinstance(target, Field) and target.kind.text_ranges and not each
        if isinstance(v, ast.LuceneRange) and string:
            return self.string_range(n, target, v)
        if isinstance(v, ast.LuceneRange):
            shown = "tag" if target == "tags" else name
            self.issue(f"'{shown}' is {target.kind.a if isinstance(target, Field) else 'text'}; ranges are not allowed",
                       v.span, self.usage(target) if isinstance(target, Field) else f"write e.g. {shown}:abc*")
            return None
        if isinstance(v, ast.Range):
            self.issue(f"'{name}' is text; ranges are not allowed", v.span,
                       f"quote the value to match '..' literally: {name}{op}\"{raw(v)}\"")
            return None
        if syn.contains:
            if isinstance(v, (ast.Glob, ast.Regex)):
                kind = "a glob" if isinstance(v, ast.Glob) else "a regex"
                self.issue(f"'{op}' takes plain text, not {kind}", v.span,
                           f"write {name}{op}text, or {name}:{raw(v)} to match the pattern")
                return None
            needle = fold(v.text)
            return Pred(contains_ci_op(needle), target, (needle,), negated=neg, each=each, span=n.span)
        if isinstance(v, ast.Regex):
            if not self.regex(v, "check it (RE2 syntax), e.g. location:/dock-[ab]/"):
                return None
            return Pred("regex", target, (v.pattern,), negated=neg, each=each, span=n.span)
        if isinstance(v, ast.Glob):
            op, args = glob_op(v.parts, ci=not cs)
            return Pred(op, target, args, negated=neg, each=each, span=n.span)
        if cs:
            return Pred("eq", target, (v.text,), negated=neg, each=each, span=n.span)
        return Pred("eq_ci", target, (fold(v.text),), negated=neg, each=each, span=n.span)

    def string_range(self, n, f: Field, v: ast.LuceneRange):
        """``k:[a TO b]`` on a string key: code point order, case-sensitive (as stored)."""
        for end in (v.lo, v.hi):
            if isinstance(end, ast.Glob):
                self.issue("a range end cannot hold '*'", end.span, f"write e.g. {f.name}:[a TO m]")
                return None
        lo = None if v.lo is None else v.lo.text
        hi = None if v.hi is None else v.hi.text
        return self.ordered(n, f, v, lo, hi, f"{f.name}:[{raw(v.hi)} TO {raw(v.lo)}]")

    # ------------------------------------------------------------ enum / multi-enum with options

    def options_filter(self, n: ast.Filter, f: Field):
        v = n.value
        if n.op == "=" and f.kind.listed:  # set equality, case-sensitive
            items = v.items if isinstance(v, ast.List) else (v,)
            chosen = set()
            for item in items:
                got = self.resolve(f, item, exact=True)
                if got is None:
                    return None
                chosen.update(got)
            return Pred("set_eq", f, (sorted(chosen),), span=n.span)
        items = v.items if isinstance(v, ast.List) else (v,)
        if isinstance(v, ast.Regex):
            if not self.regex(v, "check it (RE2 syntax)"):
                return None
            return Pred("regex", f, (v.pattern,), negated=SYNTAX[n.op].negated, each=f.kind.listed, span=n.span)
        chosen: list[str] = []
        for item in items:
            got = self.resolve(f, item, exact=SYNTAX[n.op].exact)
            if got is None:
                return None
            chosen.extend(x for x in got if x not in chosen)
        neg = SYNTAX[n.op].negated
        if f.kind.listed:
            if len(chosen) == 1:
                return Pred("has_item", f, (chosen[0],), negated=neg, span=n.span)
            return Pred("has_any", f, (chosen,), negated=neg, span=n.span)
        if len(chosen) == 1:
            return Pred("eq", f, (chosen[0],), negated=neg, span=n.span)
        return Pred("in", f, (chosen,), negated=neg, span=n.span)

    def resolve(self, f: Field, v, *, exact: bool) -> list[str] | None:
        """The canonical options a value names; records an issue and returns None if none."""
        if isinstance(v, (ast.Range, ast.Regex, ast.Star)):
            what = "a range" if isinstance(v, ast.Range) else "a regex" if isinstance(v, ast.Regex) else "'*'"
            self.issue(f"'{f.name}' is {f.kind.a}; {what} is not allowed here", v.span, self.usage(f))
            return None
        shown = options_text(f.options)
        if isinstance(v, ast.Glob):
            rx = glob_regex(v.parts, ci=not exact)
            hits = [o for o in f.options if rx.match(o)]
            if not hits:
                self.issue(f"'{f.name}' has no option matching '{v.text}'; options are {shown}", v.span,
                           f"e.g. {f.name}:{f.options[0]}")
                return None
            return hits
        if exact:
            hits = [o for o in f.options if o == v.text]
        else:
            hits = [o for o in f.options if fold(o) == fold(v.text)]
        if hits:
            return hits
        close = difflib.get_close_matches(fold(v.text), [fold(o) for o in f.options], n=1, cutoff=0.6)
        ci = [o for o in f.options if fold(o) == fold(v.text)]
        if ci:
            help = f"options compare exactly with '='; did you mean {f.name}={ci[0]}? ({f.name}:{v.text} ignores case)"
        elif close:
            best = next(o for o in f.options if fold(o) == close[0])
            help = f"did you mean {f.name}:{best}?"
        else:
            help = f"e.g. {f.name}:{f.options[0]}"
        self.issue(f"'{f.name}' has no option '{v.text}'; options are {shown}", v.span, help)
        return None


__all__ = ["TextChecks"]
