"""AST → checked tree: keys resolved against the catalog Schema, every literal typed. Pure.

The checked tree is what the compiler turns into SQL: the AST's own ``And``/``Or``/``Not`` over
``Pred`` leaves (one tree vocabulary; :mod:`.ast` walks and visits both). A ``Pred`` names an operator of the compiler's table (``op``), a target (a Field, or the
built-ins ``"path"``, ``"tags"``, ``"text"``) and its typed, already-resolved arguments.

All semantic problems are collected and raised together as one QuerySemanticError.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Callable, Union

from ..errors import QueryIssue, QuerySemanticError
from .. import types as T
from ..schema import BOOLEAN, DATETIME, ENUM, LINK, MULTI_ENUM, NUMBER, STRING, Field, Schema
from . import ast
from .operators import SYNTAX
from .datetimes import DatetimeProblem, interval, resolve_zone

Target = Union[Field, str]  # a Field, or "path", "tags", "text"


@dataclass(frozen=True)
class Pred(ast.Tree):
    """One leaf condition. ``negated`` means "the key is present and the condition is false"
    (``k!=v``); ``each`` applies the condition to the items of a list column (any item)."""

    op: str
    target: Target
    args: tuple = ()
    negated: bool = False
    each: bool = False
    over: tuple = ()  # free text: the string-like fields searched
    span: tuple[int, int] = field(default=(0, 0), compare=False)


#: The checked tree's inner nodes are the AST's (these names stay for callers that used them).
CAnd, COr, CNot = ast.And, ast.Or, ast.Not

CNode = Union[Pred, ast.And, ast.Or, ast.Not]


@dataclass(frozen=True)
class Checked:
    """A checked query: the tree (None = every image) and the text it came from."""

    root: CNode | None
    text: str = ""


def _a(type_: str) -> str:
    return T.TYPES[type_].a


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


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


def _glob_regex(parts, *, ci: bool) -> re.Pattern:
    return re.compile(".*".join(re.escape(p) for p in parts) + r"\Z", re.S | (re.I if ci else 0))


def _fold(s: str) -> str:
    return s.lower()


class _Checker(ast.Visitor):
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
            rx = _glob_regex(key.name.split("*"), ci=True)
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
        if f.type != BOOLEAN:
            self.issue(f"'{f.name}' is {_a(f.type)}; {word}: works only on boolean keys", n.span,
                       f"use has:{f.name} to test that it is present")
            return None
        return Pred("eq", f, (n.value,), span=n.span)

    def visit_freetext(self, n: ast.FreeText):
        v = n.value
        if isinstance(v, ast.Glob):
            op, args = glob_op(v.parts, ci=True, substring=True)
            return Pred(op, "text", args, over=self.text_fields(), span=n.span)
        if v.text == "":
            self.issue("an empty phrase matches everything", n.span, "remove it, or put words inside the quotes")
            return None
        needle = _fold(v.text)
        return Pred(contains_ci_op(needle), "text", (needle,), over=self.text_fields(), span=n.span)

    def text_fields(self) -> tuple:
        return tuple(self.schema.string_like())

    def visit_tag(self, n: ast.Tag):
        if n.op not in (":", "=", "!=", "~"):
            self.issue(f"tag: does not take '{n.op}'", n.span, "write e.g. tag:reviewed or tag:needs-*")
            return None
        return self.values(n, n.value, lambda v: self.text_value(n, "tags", v, each=True))

    def visit_path(self, n: ast.Path):
        if n.op not in (":", "=", "!=", "~"):
            self.issue(f"path does not take '{n.op}'", n.span, "write e.g. path:images/2024/* or path~forklift")
            return None
        return self.values(n, n.value, lambda v: self.text_value(n, "path", v))

    def visit_filter(self, n: ast.Filter):
        if self.schema.get(n.key.name) is None and self.peer_syntax(n):
            return None
        shown = _raw(n.value) if not isinstance(n.value, ast.List) else "[…]"
        f = self.key(n.key, usage=f"{{k}}{n.op}{shown}")
        if f is None:
            return None
        if n.op not in T.TYPES[f.type].operators:
            self.issue(f"'{f.name}' is {_a(f.type)}; '{n.op}' is not allowed ({self.usage(f)})", n.span,
                       self.usage(f))
            return None
        if f.type in (ENUM, MULTI_ENUM) and f.options:
            return self.options_filter(n, f)
        if f.type == MULTI_ENUM:
            return self.values(n, n.value, lambda v: self.text_value(n, f, v, each=True))
        if f.type in (STRING, LINK, ENUM):
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

    def number_example(self, f: Field) -> str:
        own = [x for x in (self.examples(f) if self.examples is not None else []) if x is not None]
        return _num_text(min(own)) if own else "70"

    def usage(self, f: Field) -> str:
        """How to query ``f``, with examples from the key's own values (never another catalog's)."""
        k = f.name
        own = [x for x in (self.examples(f) if self.examples is not None else []) if x is not None]
        if f.type == BOOLEAN:
            return f"use {k}:true or {k}:false"
        if f.type == NUMBER:
            if own:
                lo, hi = min(own), max(own)
                a, b = _num_text(lo), _num_text(hi)
                return f"use {k}:{a}, {k}>{a} or {k}:{a}..{b}" if a != b else f"use {k}:{a} or {k}>{a}"
            return f"use {k}:NUMBER, {k}>NUMBER or {k}:LOW..HIGH"
        if f.type == DATETIME:
            if own:
                day = min(own).date().isoformat()
                return f"use {k}:{day[:7]}, {k}>{day} or {k}>now-7d"
            return f"use {k}:YYYY-MM, {k}>YYYY-MM-DD or {k}>now-7d"
        if f.type in (ENUM, MULTI_ENUM):
            opt = _query_word(f.options[0]) if f.options else "OPTION"
            return f"use {k}:{opt} or {k}:[{opt}, …]"
        if own:
            word = str(own[0])
            head = word[:max(1, len(word) // 2)]
            return f"use {k}:{_query_word(word)}, {k}:{_query_word(head)}* or {k}~{_query_word(head)}"
        return f"use {k}:VALUE, {k}:PREFIX* or {k}~TEXT"

    def values(self, n, value, one):
        """Apply ``one`` to a value, or to each item of a list (any item matches)."""
        if isinstance(value, ast.List):
            preds = [one(v) for v in value.items]
            if None in preds:
                return None
            if len(preds) == 1:
                return preds[0]
            if getattr(n, "op", ":") == "!=":  # present and no item matches
                return ast.And(tuple(preds), span=n.span)
            return ast.Or(tuple(preds), span=n.span)
        return one(value)

    # ------------------------------------------------------------ text-like values

    def text_value(self, n, target: Target, v, *, each: bool = False):
        op = n.op
        neg = op == "!="
        name = target.name if isinstance(target, Field) else target
        link = isinstance(target, Field) and target.type == LINK
        cs = op == "=" or link or target == "path"  # case-sensitive comparison
        if isinstance(v, ast.Star):  # tag:* / path:*
            return Pred("nonempty" if target == "tags" else "present", target, span=n.span)
        string = isinstance(target, Field) and target.type == STRING and not each
        if isinstance(v, ast.LuceneRange) and string:
            return self.string_range(n, target, v)
        if isinstance(v, ast.LuceneRange):
            shown = "tag" if target == "tags" else name
            self.issue(f"'{shown}' is {_a(target.type) if isinstance(target, Field) else 'text'}; ranges are not allowed",
                       v.span, self.usage(target) if isinstance(target, Field) else f"write e.g. {shown}:abc*")
            return None
        if isinstance(v, ast.Range):
            self.issue(f"'{name}' is text; ranges are not allowed", v.span,
                       f"quote the value to match '..' literally: {name}{op}\"{_raw(v)}\"")
            return None
        if op == "~":
            if isinstance(v, (ast.Glob, ast.Regex)):
                kind = "a glob" if isinstance(v, ast.Glob) else "a regex"
                self.issue(f"'~' takes plain text, not {kind}", v.span,
                           f"write {name}~text, or {name}:{_raw(v)} to match the pattern")
                return None
            needle = _fold(v.text)
            return Pred(contains_ci_op(needle), target, (needle,), each=each, span=n.span)
        if isinstance(v, ast.Regex):
            if not self.regex(v, "check it (RE2 syntax), e.g. location:/dock-[ab]/"):
                return None
            return Pred("regex", target, (v.pattern,), negated=neg, each=each, span=n.span)
        if isinstance(v, ast.Glob):
            op, args = glob_op(v.parts, ci=not cs)
            return Pred(op, target, args, negated=neg, each=each, span=n.span)
        if cs:
            return Pred("eq", target, (v.text,), negated=neg, each=each, span=n.span)
        return Pred("eq_ci", target, (_fold(v.text),), negated=neg, each=each, span=n.span)

    def string_range(self, n, f: Field, v: ast.LuceneRange):
        """``k:[a TO b]`` on a string key: code point order, case-sensitive (as stored)."""
        for end in (v.lo, v.hi):
            if isinstance(end, ast.Glob):
                self.issue("a range end cannot hold '*'", end.span, f"write e.g. {f.name}:[a TO m]")
                return None
        lo = None if v.lo is None else v.lo.text
        hi = None if v.hi is None else v.hi.text
        return self.ordered(n, f, v, lo, hi, f"{f.name}:[{_raw(v.hi)} TO {_raw(v.lo)}]")

    def ordered(self, n, f: Field, v: ast.LuceneRange, lo, hi, swapped: str):
        """Predicates for a range with inclusive/exclusive ends over comparable values."""
        if lo is None and hi is None:
            return Pred("present", f, span=n.span)
        if lo is not None and hi is not None:
            if lo > hi or (lo == hi and not (v.lo_incl and v.hi_incl)):
                self.issue(f"the range {_raw(v)} is empty", v.span, f"write the smaller value first: {swapped}"
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
        if not _valid_regex(v.pattern):
            self.issue(f"invalid regex /{v.pattern}/", v.span, help)
            return False
        why = self.regex_problem(v.pattern) if self.regex_problem is not None else None
        if why:
            self.issue(f"invalid regex /{v.pattern}/: {why}", v.span,
                       "regexes use RE2 syntax: no lookarounds or backreferences")
            return False
        return True

    # ------------------------------------------------------------ enum / multi-enum with options

    def options_filter(self, n: ast.Filter, f: Field):
        v = n.value
        if n.op == "=" and f.type == MULTI_ENUM:  # set equality, case-sensitive
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
            return Pred("regex", f, (v.pattern,), negated=n.op == "!=", each=f.type == MULTI_ENUM, span=n.span)
        chosen: list[str] = []
        for item in items:
            got = self.resolve(f, item, exact=n.op == "=")
            if got is None:
                return None
            chosen.extend(x for x in got if x not in chosen)
        neg = n.op == "!="
        if f.type == MULTI_ENUM:
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
            self.issue(f"'{f.name}' is {_a(f.type)}; {what} is not allowed here", v.span, self.usage(f))
            return None
        shown = _options_text(f.options)
        if isinstance(v, ast.Glob):
            rx = _glob_regex(v.parts, ci=not exact)
            hits = [o for o in f.options if rx.match(o)]
            if not hits:
                self.issue(f"'{f.name}' has no option matching '{v.text}'; options are {shown}", v.span,
                           f"e.g. {f.name}:{f.options[0]}")
                return None
            return hits
        if exact:
            hits = [o for o in f.options if o == v.text]
        else:
            hits = [o for o in f.options if _fold(o) == _fold(v.text)]
        if hits:
            return hits
        close = difflib.get_close_matches(_fold(v.text), [_fold(o) for o in f.options], n=1, cutoff=0.6)
        ci = [o for o in f.options if _fold(o) == _fold(v.text)]
        if ci:
            help = f"options compare exactly with '='; did you mean {f.name}={ci[0]}? ({f.name}:{v.text} ignores case)"
        elif close:
            best = next(o for o in f.options if _fold(o) == close[0])
            help = f"did you mean {f.name}:{best}?"
        else:
            help = f"e.g. {f.name}:{f.options[0]}"
        self.issue(f"'{f.name}' has no option '{v.text}'; options are {shown}", v.span, help)
        return None

    # ------------------------------------------------------------ number / boolean / datetime

    def typed_value(self, n: ast.Filter, f: Field, v):
        op = n.op
        if isinstance(v, (ast.Glob, ast.Regex)):
            kind = "'*' wildcards are" if isinstance(v, ast.Glob) else "a regex is"
            self.issue(f"'{f.name}' is {_a(f.type)}; {kind} not allowed", v.span, self.usage(f))
            return None
        if isinstance(v, ast.Range):
            if not T.TYPES[f.type].ordered:
                self.issue(f"'{f.name}' is {_a(f.type)}; ranges are not allowed", v.span, self.usage(f))
                return None
            if op not in (":", "=", "!="):
                self.issue(f"a range goes after ':', not '{op}'", n.span, f"write {f.name}:{_raw(v)}")
                return None
            return self.range_pred(n, f, v)
        if f.type == BOOLEAN:
            b = self.boolean(f, v)
            return None if b is None else Pred("eq", f, (b,), negated=op == "!=", span=n.span)
        if f.type == NUMBER:
            x = self.number(f, v)
            if x is None:
                return None
            return Pred(SYNTAX[op].number, f, (x,), negated=op == "!=", span=n.span)
        iv = self.datetime(f, v)
        if iv is None:
            return None
        start, end = iv
        compare = SYNTAX[op].datetime
        if compare is None:
            return Pred("between_dt", f, (start, end), negated=op == "!=", span=n.span)
        kind, bound = compare
        return Pred(kind, f, (start if bound == "start" else end,), span=n.span)

    def range_pred(self, n, f: Field, v: ast.Range):
        if isinstance(v, ast.LuceneRange):
            return self.lucene_range(n, f, v)
        neg = n.op == "!="
        if f.type == NUMBER:
            lo = self.number(f, v.lo) if v.lo is not None else None
            hi = self.number(f, v.hi) if v.hi is not None else None
            if (v.lo is not None and lo is None) or (v.hi is not None and hi is None):
                return None
            if lo is not None and hi is not None:
                if lo > hi:
                    self.issue(f"the range {_raw(v)} is empty", v.span, f"write the smaller value first: {f.name}:{_raw(v.hi)}..{_raw(v.lo)}")
                    return None
                return Pred("between", f, (lo, hi), negated=neg, span=n.span)
        else:
            a = self.datetime(f, v.lo) if v.lo is not None else None
            b = self.datetime(f, v.hi) if v.hi is not None else None
            if (v.lo is not None and a is None) or (v.hi is not None and b is None):
                return None
            lo, hi = (a[0] if a else None), (b[1] if b else None)
            if lo is not None and hi is not None:
                if lo >= hi:
                    self.issue(f"the range {_raw(v)} is empty", v.span, "write the earlier datetime first")
                    return None
                return Pred("between_dt", f, (lo, hi), negated=neg, span=n.span)
        if lo is None and hi is None:
            return Pred("absent" if neg else "present", f, span=n.span)
        if lo is None:
            return Pred("le" if f.type == NUMBER else "lt", f, (hi,), negated=neg, span=n.span)
        return Pred("ge", f, (lo,), negated=neg, span=n.span)

    def lucene_range(self, n, f: Field, v: ast.LuceneRange):
        """``[a TO b]``, ``{a TO b}`` and mixed ends on a number or datetime key."""
        if f.type == NUMBER:
            lo = self.number(f, v.lo) if v.lo is not None else None
            hi = self.number(f, v.hi) if v.hi is not None else None
            if (v.lo is not None and lo is None) or (v.hi is not None and hi is None):
                return None
            return self.ordered(n, f, v, lo, hi, f"{f.name}:[{_raw(v.hi)} TO {_raw(v.lo)}]")
        a = self.datetime(f, v.lo) if v.lo is not None else None
        b = self.datetime(f, v.hi) if v.hi is not None else None
        if (v.lo is not None and a is None) or (v.hi is not None and b is None):
            return None
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
                self.issue(f"the range {_raw(v)} is empty", v.span, help)
                return None
            return Pred("between_dt", f, (lo, hi), span=n.span)
        return Pred("ge", f, (lo,), span=n.span) if lo is not None else Pred("lt", f, (hi,), span=n.span)

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


def _is_tags(key: ast.Key, schema: Schema) -> bool:
    """``has:tag`` / ``no:tag`` name the built-in tags (``has:@tag`` names a key called tag)."""
    return not key.escaped and key.name.lower() in ("tag", "tags") and schema.get(key.name) is None


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


def _raw(v) -> str:
    if v is None:
        return "*"
    if isinstance(v, ast.LuceneRange):
        return f"{'[' if v.lo_incl else '{'}{_raw(v.lo)} TO {_raw(v.hi)}{']' if v.hi_incl else '}'}"
    if isinstance(v, ast.Range):
        return f"{_raw(v.lo)}..{_raw(v.hi)}"
    if isinstance(v, ast.Regex):
        return f"/{v.pattern}/"
    return v.text


def _options_text(options) -> str:
    if len(options) <= 20:
        return ", ".join(options)
    return ", ".join(options[:20]) + f", … ({len(options)} in all)"


def _valid_regex(pattern: str) -> bool:
    """A rough syntax check (Python re accepts most RE2 patterns); DuckDB checks fully."""
    if "\\p" in pattern or "\\P" in pattern:  # RE2 Unicode classes; Python re lacks them
        return True
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _num_text(x) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _query_word(text: str) -> str:
    """A value as a query writes it: bare when it is one plain word, else quoted."""
    if re.fullmatch(r"[A-Za-z0-9_.-]+", text) and not text.startswith("-"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


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
