"""Query text → AST (:mod:`metastore.query.ast`). Lark errors become friendly QuerySyntaxError.

The grammar lives in ``grammar/query.lark`` (shipped in the wheel as ``metastore/grammar``);
this module loads it once per process. Parsing is LALR with the contextual lexer and an inline
transformer, so the tree is built bottom-up without recursion; the nesting depth and the number
of terms are counted on the token stream and capped (``MAX_DEPTH``, ``MAX_TERMS``; the text at
``MAX_QUERY_BYTES``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path as _FsPath

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from ..errors import QueryError
from ..schema import BUILTIN_KEYS
from . import ast
from .syntax_errors import check_bare_word, check_value_word, dangling, from_characters, from_token, glued
from .syntax_errors import err as _err

MAX_QUERY_BYTES = 64 * 1024
MAX_DEPTH = 64
MAX_TERMS = 10_000
_SURROGATE = re.compile("[\ud800-\udfff]")

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.]*\Z")
_TERM_START = {"KEY", "BUILTIN", "WORD"}
_NEGATIONS = {"NOT", "NEG", "PLUS"}
#: Tokens that end a term; the next term must be separated from them by whitespace.
_CLOSERS = {"RSQB", "RBRACE", "RPAR", "QUOTED", "REGEX"}
#: What may follow a closer directly: more closers, a list comma, a new group.
_MAY_FOLLOW = {"RPAR", "RSQB", "RBRACE", "_COMMA", "LPAR", "$END"}
_VALUES = {"GVALUE", "QUOTED", "REGEX", "LSQB", "LBRACE"}


def grammar_text() -> str:
    """The grammar source: from the installed package, else from the source checkout."""
    try:
        from importlib.resources import files

        res = files("metastore") / "grammar" / "query.lark"
        if res.is_file():
            return res.read_text(encoding="utf-8")
    except Exception:  # pragma: no cover - namespace package or missing resource
        pass
    return (_FsPath(__file__).parents[2] / "grammar" / "query.lark").read_text(encoding="utf-8")


def make_lark(**options) -> Lark:
    """A new Lark parser for the query grammar (completion may build one without transformer).

    ``cache=True``: Lark keeps the analysed LALR tables in the temp dir, named by a hash of the
    grammar, options and Lark version (so never stale); it saves ~60 ms per process."""
    opts = dict(parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False, cache=True)
    opts.update(options)
    return Lark(grammar_text(), **opts)


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The process-wide parser that builds AST nodes directly."""
    return make_lark(transformer=_Builder())


# ---------------------------------------------------------------- helpers


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _unescape(raw: str) -> str:
    return _nfc(re.sub(r"\\([\s\S])", r"\1", raw))


def _glob_parts(raw: str) -> list[str]:
    """Split unquoted text at unescaped ``*``; escapes removed from each part."""
    parts, cur, i = [], [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            cur.append(raw[i + 1])
            i += 2
            continue
        if ch == "*":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return [_nfc(p) for p in parts]


def _word_or_glob(raw: str, span) -> ast.Word | ast.Glob:
    parts = _glob_parts(raw)
    if len(parts) == 1:
        return ast.Word(parts[0], span=span)
    return ast.Glob(tuple(parts), span=span)


def _find_range(raw: str) -> int:
    """Index of the first unescaped ``..`` in raw text, or -1."""
    i = 0
    while i < len(raw) - 1:
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == "." and raw[i + 1] == ".":
            return i
        i += 1
    return -1


def _span(tok: Token) -> tuple[int, int]:
    return (tok.start_pos, tok.end_pos)


def _at_key(tok: Token) -> ast.Key:
    body = tok.value[1:]
    if body[:1] in ("'", '"'):
        name = _unescape(body[1:-1])
    else:
        name = _nfc(body)
    if name == "":
        raise _err("an escaped key cannot be empty", tok.start_pos, tok.end_pos, 'write the key name, e.g. @"camera model":x')
    return ast.Key(name, True, span=_span(tok))


def _plain_key(tok: Token) -> ast.Key:
    name = _unescape(tok.value)
    if "*" in name:  # device*:osx, book.\*:x — the checker says which keys it would match
        return ast.Key(name, False, span=_span(tok))
    if not _PLAIN_KEY.match(tok.value):
        raise _err(
            f"'{name}' is not a plain key (letters, digits, '_' and '.')",
            tok.start_pos, tok.end_pos, f'write it escaped: @"{name}"',
        )
    return ast.Key(name, False, span=_span(tok))


# ---------------------------------------------------------------- filters and field groups


@dataclass(frozen=True)
class _Term:
    """A value inside a field group, before the key is distributed over it."""

    op: Token | None
    value: object
    span: tuple[int, int] = (0, 0)


def _op_text(op: Token) -> str:
    return op.value[1:] if len(op.value) > 1 and op.value[0] == ":" else op.value


def _filter_node(key: ast.Key, opv: str, op: Token, value, span):
    """The node for ``key OP value`` (op already normalised: ``:>`` → ``>``)."""
    lname = key.name.lower()
    if not key.escaped and lname in ("tag", "path"):
        cls = ast.Tag if lname == "tag" else ast.Path
        return cls(opv, value, span=span)
    if not key.escaped and lname in BUILTIN_KEYS:
        raise _err(
            f"'{key.name}' is a built-in and takes ':' followed by a key",
            key.span[0], op.end_pos,
            f"write {lname}:annotator to test a key, or @{key.name}{op.value}… for a key named '{key.name}'",
        )
    if not key.escaped and key.name == "_exists_":
        return _exists(key, opv, op, value, span)
    if isinstance(value, ast.Star):
        if opv != ":":
            raise _err(
                f"'*' alone is only allowed after ':' ({key.name}:* means has:{key.name})",
                op.start_pos, value.span[1], f"write has:{key.name}",
            )
        return ast.Has(key, span=span)
    if isinstance(value, ast.LuceneRange) and opv != ":":
        name = key.name if not key.escaped else f"@{key.name}"
        help = (f"write has:{name} -{name}:{_range_text(value)} for a value outside it" if opv == "!="
                else f"write {name}:{_range_text(value)}")
        raise _err(f"a range [a TO b] goes after ':', not '{op.value}'", op.start_pos, value.span[1], help)
    return ast.Filter(key, opv, value, span=span)


def _range_text(v: ast.LuceneRange) -> str:
    lo = "*" if v.lo is None else v.lo.text
    hi = "*" if v.hi is None else v.hi.text
    return f"{'[' if v.lo_incl else '{'}{lo} TO {hi}{']' if v.hi_incl else '}'}"


def _exists(key: ast.Key, opv: str, op: Token, value, span):
    """Lucene's ``_exists_:k`` is ``has:k``."""
    if opv != ":" or not isinstance(value, (ast.Word, ast.Quoted)):
        raise _err("_exists_ takes ':' and a key name", key.span[0], value.span[1], "write has:annotator (or _exists_:annotator)")
    plain = isinstance(value, ast.Word) and _PLAIN_KEY.match(value.text)
    return ast.Has(ast.Key(value.text, not plain, span=value.span), span=span)


def _distribute(node, key: ast.Key, outer: str, op: Token):
    """Put the key on every value of a field group; And/Or/Not keep their shape and spans."""
    if isinstance(node, _Term):
        opv = outer
        if node.op is not None:
            if outer != ":":
                raise _err(f"'{node.op.value}' inside a group after '{outer}'", node.op.start_pos, node.op.end_pos,
                           f"write {key.name}:({node.op.value}{getattr(node.value, 'text', '10')} …)")
            opv = node.op.value
        return _filter_node(key, opv, op, node.value, node.span)
    if isinstance(node, ast.Not):
        return replace(node, item=_distribute(node.item, key, outer, op))
    if isinstance(node, (ast.And, ast.Or)):
        return replace(node, items=tuple(_distribute(x, key, outer, op) for x in node.items))
    # An already-built node: a group of one term wrapped in parentheses, e.g. k:((a))
    return node


@v_args(inline=True)
class _Builder(Transformer):
    """Builds AST nodes during the LALR parse (stateless: shared by every parse)."""

    def start(self, *items):
        return items[0] if items else None

    def or_expr(self, *items):
        return ast.Or(tuple(items), span=(items[0].span[0], items[-1].span[1]))

    def and_expr(self, *items):
        return ast.And(tuple(items), span=(items[0].span[0], items[-1].span[1]))

    def negation(self, tok, item):
        return ast.Not(item, span=(tok.start_pos, item.span[1]))

    def group(self, lpar, item, rpar):
        return replace(item, span=(lpar.start_pos, rpar.end_pos))

    def free_word(self, tok):
        check_bare_word(tok)
        return ast.FreeText(_word_or_glob(tok.value, _span(tok)), span=_span(tok))

    def free_phrase(self, tok):
        value = ast.Quoted(_unescape(tok.value[1:-1]), span=_span(tok))
        return ast.FreeText(value, span=_span(tok))

    def key(self, tok):
        return _at_key(tok) if tok.type == "ATKEY" else _plain_key(tok)

    def builtin(self, tok, ref):
        kind = tok.value[:-1].lower()
        key = _at_key(ref) if ref.type == "ATKEY" else _plain_key(ref)
        span = (tok.start_pos, ref.end_pos)
        if kind == "has":
            return ast.Has(key, span=span)
        if kind == "no":
            return ast.No(key, span=span)
        return ast.Is(key, kind == "is", span=span)

    def filter(self, key, op, value):
        return _filter_node(key, _op_text(op), op, value, (key.span[0], value.span[1]))

    def required(self, tok, item):
        """A leading ``+`` (Lucene "required"): the term as it is, AND being the default."""
        return replace(item, span=(tok.start_pos, item.span[1]))

    def g_term(self, *args):
        op, value = (args[0], args[1]) if len(args) == 2 else (None, args[0])
        start = op.start_pos if op is not None else value.span[0]
        return _Term(op, value, span=(start, value.span[1]))

    g_or = or_expr
    g_and = and_expr

    def field_group(self, key, op, lpar, body, rpar):
        """``k:(a OR b)`` → ``(k:a OR k:b)``: the key distributed over the group (Lucene/KQL)."""
        outer = _op_text(op)
        if outer not in (":", "=", "~"):
            name = key.name if not key.escaped else f"@{key.name}"
            if outer == "!=":
                help = f"write {name}!=a {name}!=b for neither (the key present), or -{name}:(a OR b)"
            else:
                help = f"put the operator inside the group, e.g. {name}:({outer}10 OR {outer}20)"
            raise _err(f"a group of values goes after ':', not '{op.value}'", op.start_pos, lpar.end_pos, help)
        node = _distribute(body, key, outer, op)
        return replace(node, span=(key.span[0], rpar.end_pos))

    def lucene_range(self, open_, lo, _hi_or_close, *rest):
        hi, close = (_hi_or_close, rest[0]) if rest else (None, _hi_or_close)
        ends = []
        for part in (lo, hi):
            if isinstance(part, ast.Star):
                ends.append(None)
            elif isinstance(part, ast.Glob):
                raise _err(f"'{part.text}' is not a valid end of a range", *part.span,
                           "a range is [lo TO hi] with plain values; * alone is an open end, e.g. temperature:[70 TO *]")
            else:
                ends.append(part)
        return ast.LuceneRange(ends[0], ends[1], lo_incl=open_.value == "[", hi_incl=close.value == "]",
                               span=(open_.start_pos, close.end_pos))

    def word_value(self, tok):
        raw, span = tok.value, _span(tok)
        if raw == "*":
            return ast.Star(span=span)
        check_value_word(tok)
        cut = _find_range(raw) if tok.type in ("VALUE", "GVALUE") else -1
        if cut < 0:
            return _word_or_glob(raw, span)
        ends = []
        for text, start in ((raw[:cut], tok.start_pos), (raw[cut + 2:], tok.start_pos + cut + 2)):
            if text == "":
                raise _err(
                    "a range needs a value on each side of '..'", tok.start_pos, tok.end_pos,
                    "use * for an open end, e.g. temperature:70..* or temperature:*..80",
                )
            end_span = (start, start + len(text))
            if text == "*":
                ends.append(None)
                continue
            part = _word_or_glob(text, end_span)
            if isinstance(part, ast.Glob) or _find_range(text) >= 0:
                raise _err(
                    f"'{text}' is not a valid end of a range", *end_span,
                    "a range is lo..hi with plain values, e.g. temperature:70..80",
                )
            ends.append(part)
        return ast.Range(ends[0], ends[1], span=span)

    def quoted_value(self, tok):
        return ast.Quoted(_unescape(tok.value[1:-1]), span=_span(tok))

    def regex_value(self, tok):
        return ast.Regex(_nfc(tok.value[1:-1].replace("\\/", "/")), span=_span(tok))

    def list_value(self, lsqb, *rest):
        items = rest[:-1]
        for item in items:
            if isinstance(item, ast.Star):
                raise _err("'*' alone cannot be a list item", *item.span, "use has:annotator to test that a key is present")
        return ast.List(tuple(items), span=(lsqb.start_pos, rest[-1].end_pos))


# ---------------------------------------------------------------- parse


class _Tracker:
    """Follows the token stream: open parentheses, nesting depth, term count."""

    def __init__(self) -> None:
        self.history: list[Token] = []
        self.parens: list[tuple[Token, int, bool]] = []  # ('(' token, negations before it, in a field group)
        self.negs = 0
        self.terms = 0

    def feed(self, tok: Token) -> None:
        before = self.history[-1] if self.history else None
        prev = before.type if before is not None else None
        if before is not None and prev in _CLOSERS and tok.start_pos == before.end_pos and tok.type not in _MAY_FOLLOW:
            raise glued(self, before, tok)
        self.history.append(tok)
        t = tok.type
        if self.parens and self.parens[-1][2] and (t == "GOP" or (t in _VALUES and prev not in ("GOP", "LSQB", "LBRACE", "_COMMA", "_TO"))):
            self.count_term(tok)  # a value of a field group becomes a filter
        if t in _NEGATIONS:
            self.negs += 1
        elif t == "LPAR":
            self.parens.append((tok, self.negs, prev == "OP" or (bool(self.parens) and self.parens[-1][2])))
            self.negs = 0
        elif t == "RPAR":
            if self.parens:
                self.parens.pop()
            self.negs = 0
        else:
            if t == "WORD" and tok.value.lower() in ("and", "or"):
                raise dangling(tok)
            if t in _TERM_START or (t == "QUOTED" and prev not in ("OP", "LSQB", "_COMMA")) or (
                t == "ATKEY" and prev != "BUILTIN"
            ):
                self.count_term(tok)
            if t not in ("OP",):
                self.negs = 0 if t not in ("KEY", "ATKEY", "BUILTIN") else self.negs
        depth = len(self.parens) + sum(n for _, n, _ in self.parens) + self.negs
        if depth > MAX_DEPTH:
            raise _err(
                f"the query nests too deeply: the limit is {MAX_DEPTH} levels of parentheses and negations",
                tok.start_pos, tok.end_pos, "flatten it, e.g. write a OR b OR c instead of (a OR (b OR c))",
            )

    def count_term(self, tok: Token) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise _err(
                f"too many terms: the limit is {MAX_TERMS:,}", tok.start_pos, tok.end_pos,
                "use lists (location:[a, b, c]) or tags to shorten the query",
            )

    def prev(self, back: int = 1) -> Token | None:
        return self.history[-back] if len(self.history) >= back else None


#: Recently parsed texts → their (immutable) trees: long-lived users (``search -i``, ``serve``,
#: the Python API) repeat queries, and Lark costs ~0.3 ms per parse (issue 16, warm reads).
_PARSED: dict[str, "ast.Node | None"] = {}
_PARSED_MAX = 256


def parse(text: str) -> ast.Node | None:
    """Parse query text into an AST; None for an empty or blank query.

    Raises QuerySyntaxError (a QueryError) for anything that does not parse."""
    if isinstance(text, str) and text in _PARSED:
        return _PARSED[text]
    node = _parse(text)
    if len(_PARSED) >= _PARSED_MAX:
        try:
            _PARSED.pop(next(iter(_PARSED)), None)  # the oldest
        except (StopIteration, RuntimeError):  # another thread changed it meanwhile
            pass
    _PARSED[text] = node
    return node


def _parse(text: str) -> ast.Node | None:
    if not isinstance(text, str):
        raise TypeError("query text must be a str")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_QUERY_BYTES:
        raise _err(
            f"the query is too long: {size:,} bytes (the limit is {MAX_QUERY_BYTES:,})", 0, len(text),
            "split it into several searches, or use lists and tags",
        )
    bad = _SURROGATE.search(text)
    if bad:  # bytes that were not UTF-8 (Python decodes argv with surrogateescape); DuckDB refuses them
        raise _err("the query is not valid text: it holds bytes that are not UTF-8", bad.start(), bad.end(),
                   "type the query again, or convert it to UTF-8")
    if not text.strip():
        return None
    tracker = _Tracker()
    try:
        ip = lark_parser().parse_interactive(text)
        for tok in ip.iter_parse():
            tracker.feed(tok)
        return ip.feed_eof(tracker.prev())
    except QueryError:
        raise
    except VisitError as e:
        if isinstance(e.orig_exc, QueryError):
            raise e.orig_exc from None
        raise _err("the query could not be read", 0, len(text), "check its syntax") from None
    except UnexpectedCharacters as e:
        raise from_characters(text, e, tracker) from None
    except UnexpectedToken as e:
        raise from_token(text, e.token, tracker) from None
    except UnexpectedInput:  # UnexpectedEOF
        raise from_token(text, None, tracker) from None
    except LarkError:  # pragma: no cover - defensive: never leak a lark error
        raise _err("the query could not be read", 0, len(text), "check its syntax") from None


__all__ = ["parse", "grammar_text", "make_lark", "lark_parser", "MAX_QUERY_BYTES", "MAX_DEPTH", "MAX_TERMS"]
