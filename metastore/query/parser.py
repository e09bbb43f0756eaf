"""Query text → AST (:mod:`metastore.query.ast`). Lark errors become friendly QuerySyntaxError.

The grammar lives in ``grammar/query.lark`` (shipped in the wheel as ``metastore/grammar``);
this module loads it once per process. Parsing is LALR with the contextual lexer and an inline
transformer, so the tree is built bottom-up without recursion; the nesting depth and the number
of terms are counted on the token stream and capped (see LIMITS).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from functools import lru_cache
from pathlib import Path as _FsPath

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from ..errors import QueryError, QueryIssue, QuerySyntaxError
from ..schema import BUILTIN_KEYS
from . import ast

MAX_QUERY_BYTES = 64 * 1024
MAX_DEPTH = 64
MAX_TERMS = 10_000
_SURROGATE = re.compile("[\ud800-\udfff]")

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.]*\Z")
_TERM_START = {"KEY", "BUILTIN", "WORD"}
_NEGATIONS = {"NOT", "NEG"}


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


def _err(message: str, start: int, end: int, help: str | None = None) -> QuerySyntaxError:
    return QuerySyntaxError(QueryIssue(message, start, max(end, start), help))


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
    if not _PLAIN_KEY.match(tok.value):
        raise _err(
            f"'{name}' is not a plain key (letters, digits, '_' and '.')",
            tok.start_pos, tok.end_pos, f'write it escaped: @"{name}"',
        )
    return ast.Key(name, False, span=_span(tok))


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
        opv = op.value[1:] if len(op.value) > 1 and op.value[0] == ":" else op.value
        span = (key.span[0], value.span[1])
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
        if isinstance(value, ast.Star):
            if opv != ":":
                raise _err(
                    f"'*' alone is only allowed after ':' ({key.name}:* means has:{key.name})",
                    op.start_pos, value.span[1], f"write has:{key.name}",
                )
            return ast.Has(key, span=span)
        return ast.Filter(key, opv, value, span=span)

    def word_value(self, tok):
        raw, span = tok.value, _span(tok)
        if raw == "*":
            return ast.Star(span=span)
        cut = _find_range(raw) if tok.type == "VALUE" else -1
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
        self.parens: list[tuple[Token, int]] = []  # (the '(' token, negations before it)
        self.negs = 0
        self.terms = 0

    def feed(self, tok: Token) -> None:
        prev = self.history[-1].type if self.history else None
        self.history.append(tok)
        t = tok.type
        if t in _NEGATIONS:
            self.negs += 1
        elif t == "LPAR":
            self.parens.append((tok, self.negs))
            self.negs = 0
        elif t == "RPAR":
            if self.parens:
                self.parens.pop()
            self.negs = 0
        else:
            if t == "WORD" and tok.value.lower() in ("and", "or"):
                raise _err(
                    f"dangling '{tok.value}': it needs a term on each side", tok.start_pos, tok.end_pos,
                    _DANGLING_HELP.format(w=tok.value),
                )
            if t in _TERM_START or (t == "QUOTED" and prev not in ("OP", "LSQB", "_COMMA")) or (
                t == "ATKEY" and prev != "BUILTIN"
            ):
                self.terms += 1
                if self.terms > MAX_TERMS:
                    raise _err(
                        f"too many terms: the limit is {MAX_TERMS:,}", tok.start_pos, tok.end_pos,
                        "use lists (location:[a, b, c]) or tags to shorten the query",
                    )
            if t not in ("OP",):
                self.negs = 0 if t not in ("KEY", "ATKEY", "BUILTIN") else self.negs
        depth = len(self.parens) + sum(n for _, n in self.parens) + self.negs
        if depth > MAX_DEPTH:
            raise _err(
                f"the query nests too deeply: the limit is {MAX_DEPTH} levels of parentheses and negations",
                tok.start_pos, tok.end_pos, "flatten it, e.g. write a OR b OR c instead of (a OR (b OR c))",
            )

    def prev(self, back: int = 1) -> Token | None:
        return self.history[-back] if len(self.history) >= back else None


def parse(text: str) -> ast.Node | None:
    """Parse query text into an AST; None for an empty or blank query.

    Raises QuerySyntaxError (a QueryError) for anything that does not parse."""
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
        raise _from_characters(text, e, tracker) from None
    except UnexpectedToken as e:
        raise _from_token(text, e.token, tracker) from None
    except UnexpectedInput as e:  # UnexpectedEOF
        raise _from_token(text, None, tracker) from None
    except LarkError:  # pragma: no cover - defensive: never leak a lark error
        raise _err("the query could not be read", 0, len(text), "check its syntax") from None


# ---------------------------------------------------------------- friendly syntax errors

_DANGLING_HELP = "put a term on each side, e.g. weather:rain OR weather:fog (quote it to search the word: \"{w}\")"


def _from_characters(text: str, e: UnexpectedCharacters, tr: _Tracker) -> QuerySyntaxError:
    return _bad_char(text, e.pos_in_stream, tr, tr.prev())


def _bad_char(text: str, pos: int, tr: _Tracker, prev: Token | None) -> QuerySyntaxError:
    ch = text[pos] if pos < len(text) else ""
    col = pos + 1
    if ch in "\"'":
        return _err(
            f"unclosed quote — {ch} opened at column {col}", pos, len(text),
            f"add the closing {ch} (or write \\{ch} for a literal quote)",
        )
    if ch == "/" and prev is not None and prev.type in ("OP",):
        rest = text[pos + 1:]
        closing = re.search(r"(?<!\\)/", rest)
        if closing is None:
            return _err(
                f"unclosed regex — '/' opened at column {col}", pos, len(text),
                "end it with '/', e.g. location:/dock-[ab]/ (quote a value that starts with '/')",
            )
        end = pos + 1 + closing.end()
        return _err(
            "a regex must end the value: put a space or ')' after its closing '/'", pos, end + 1,
            'to match a value starting with \'/\', quote it: path:"/images/a.jpg"',
        )
    if ch == "\\":
        return _err("a '\\' at the end escapes nothing", pos, pos + 1, "write '\\\\' for a backslash")
    if ch == "@" and text[pos + 1:pos + 2] in ("'", '"'):
        return _err(
            f"unclosed quote — {text[pos + 1]} opened at column {col + 1}", pos + 1, len(text),
            f"add the closing {text[pos + 1]}, e.g. @\"camera model\":x",
        )
    if ch == "@":
        return _err("'@' must be followed by a key name", pos, pos + 1, 'write @name or @"any key", e.g. @has:x')
    if ch == "[" and prev is not None and prev.type in ("LSQB", "_COMMA"):
        return _err("lists cannot be nested", pos, pos + 1, "write one flat list, e.g. location:[dock-a, dock-b]")
    if prev is not None and prev.type == "OP":
        return _err(
            f"a value cannot start with '{ch}'", pos, pos + 1,
            f'quote the value, e.g. {_key_before(tr, prev)}:"{ch}…"',
        )
    if prev is not None and prev.type == "BUILTIN":
        return _err(f"'{prev.value}' needs a key, not '{ch}'", pos, pos + 1, f"e.g. {prev.value}annotator")
    return _err(f"unexpected '{ch}'", pos, pos + 1, "quote text that contains it, e.g. \"a b\"")


def _key_before(tr: _Tracker, op: Token | None) -> str:
    key = _token_before(tr, op) if op is not None else None
    return key.value if key is not None else "key"


def _from_token(text: str, tok: Token | None, tr: _Tracker) -> QuerySyntaxError:
    end_of_input = tok is None or tok.type == "$END"
    prev = tr.prev(2) if not end_of_input and tr.history and tr.history[-1] is tok else tr.prev()
    if not end_of_input and (not tr.history or tr.history[-1] is not tok):
        prev = tr.prev()
    ptype = prev.type if prev is not None else None
    where = (len(text), len(text)) if end_of_input else (tok.start_pos, tok.end_pos)
    shown = "the end of the query" if end_of_input else f"'{tok.value}'"

    if ptype == "OP" and not end_of_input and tok.type != "RPAR":
        return _bad_char(text, tok.start_pos, tr, prev)
    if ptype == "OP":
        key = _token_before(tr, prev)
        kt = key.value if key is not None else ""
        start = key.start_pos if key is not None else prev.start_pos
        return _err(
            f"'{kt}{prev.value}' needs a value", start, prev.end_pos,
            f"put the value right after it, e.g. {kt}{prev.value}70 or {kt}{prev.value}\"some text\"",
        )
    if ptype == "BUILTIN":
        return _err(f"'{prev.value}' needs a key", prev.start_pos, prev.end_pos, f"e.g. {prev.value}annotator")
    if ptype == "ATKEY" and (tok is None or tok.type != "OP"):
        return _err(
            f"'{prev.value}' needs an operator and a value", prev.start_pos, prev.end_pos,
            f"e.g. {prev.value}:value or {prev.value}>70",
        )
    if ptype in ("LSQB", "_COMMA", "ITEM") or (ptype == "QUOTED" and _in_list(tr)):
        if ptype == "LSQB" and tok is not None and tok.type == "RSQB":
            return _err("empty list '[]'", prev.start_pos, tok.end_pos, "put at least one value in it, e.g. location:[dock-a, dock-b]")
        lsqb = _last(tr, "LSQB")
        start = lsqb.start_pos if lsqb is not None else where[0]
        return _err(
            f"unclosed '[' — opened at column {start + 1}", start, start + 1,
            "close the list with ']', e.g. location:[dock-a, dock-b]",
        )
    if tok is not None and tok.type in ("_AND", "_OR"):
        w = tok.value
        return _err(f"dangling '{w}': it needs a term on each side", tok.start_pos, tok.end_pos, _DANGLING_HELP.format(w=w))
    if ptype in ("_AND", "_OR") and (end_of_input or tok.type == "RPAR"):
        w = prev.value
        return _err(f"dangling '{w}': it needs a term on each side", prev.start_pos, prev.end_pos, _DANGLING_HELP.format(w=w))
    if ptype in ("NOT", "NEG") and (end_of_input or tok.type == "RPAR"):
        return _err(
            f"'{prev.value}' negates nothing", prev.start_pos, prev.end_pos,
            f"put the term right after it, e.g. {prev.value if ptype == 'NEG' else prev.value + ' '}weather:rain",
        )
    if tok is not None and tok.type == "RPAR":
        if ptype == "LPAR":
            return _err("empty group '()'", prev.start_pos, tok.end_pos, "put a term inside, e.g. (weather:rain OR weather:fog), or remove it")
        if not tr.parens:
            return _err("unmatched ')'", tok.start_pos, tok.end_pos, "remove it, or add the '(' it closes")
    if end_of_input and tr.parens:
        lpar = tr.parens[-1][0]
        return _err(
            f"unclosed '(' — opened at column {lpar.start_pos + 1}", lpar.start_pos, lpar.start_pos + 1,
            "add ')' to close it, e.g. (weather:rain OR weather:fog)",
        )
    if not end_of_input and tok.value[:1] in ("@", '"', "'", "/", "\\", "["):
        return _bad_char(text, tok.start_pos, tr, prev)
    return _err(f"unexpected {shown}", *where, "quote text that should be a value, e.g. \"a b\"")


def _token_before(tr: _Tracker, tok: Token) -> Token | None:
    for i in range(len(tr.history) - 1, 0, -1):
        if tr.history[i] is tok:
            return tr.history[i - 1]
    return None


def _last(tr: _Tracker, type_: str) -> Token | None:
    for t in reversed(tr.history):
        if t.type == type_:
            return t
    return None


def _in_list(tr: _Tracker) -> bool:
    for t in reversed(tr.history[:-1] if tr.history else []):
        if t.type == "RSQB":
            return False
        if t.type == "LSQB":
            return True
    return False


__all__ = ["parse", "grammar_text", "make_lark", "lark_parser", "MAX_QUERY_BYTES", "MAX_DEPTH", "MAX_TERMS"]
