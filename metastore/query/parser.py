"""Query text → AST (:mod:`metastore.query.ast`). Lark errors become friendly QuerySyntaxError.

The grammar lives in ``grammar/query.lark`` (shipped in the wheel as ``metastore/grammar``);
this module loads it once per process. Parsing is LALR with the contextual lexer and an inline
transformer, so the tree is built bottom-up without recursion; the nesting depth and the number
of terms are counted on the token stream and capped (see LIMITS).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
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


# ---------------------------------------------------------------- words that look like other tools' syntax

_BOOST = re.compile(r"(?<!\\)\^(\d+(?:\.\d+)?)?\Z")


def _check_bare_word(tok: Token) -> None:
    raw, start, end = tok.value, tok.start_pos, tok.end_pos
    if raw[0] in "<>":
        m = re.match(r"[<>]=?", raw)
        rest = raw[m.end():] or "70"
        raise _err(f"'{m.group()}' needs a key before it", start, start + m.end(),
                   f"write the key, e.g. temperature{m.group()}{rest} (quote the text to search it: \"{raw}\")")
    if raw[0] in "[{":
        raise _err(f"a {'list' if raw[0] == '[' else 'range'} needs a key before it", start, start + 1,
                   f"write the key, e.g. temperature:[70 TO 80] or location:[dock-a, dock-b] "
                   f"(quote text that starts with '{raw[0]}' to search it)")
    if len(raw) >= 3 and raw[0] == "/" and raw[-1] == "/" and raw[-2] != "\\":
        raise _err("a regex needs a key before it", start, end,
                   f"write the key, e.g. path:{raw} or location:{raw} (quote the text to search it: \"{raw}\")")
    _check_boost(tok, "a word")


def _check_value_word(tok: Token) -> None:
    if tok.value.lower() == "@me":
        raise _err("'@me' names no one here: there are no user accounts", tok.start_pos, tok.end_pos,
                   'write the name, e.g. annotator:alice (or quote the text: "@me")')
    _check_boost(tok, "a value")


def _check_boost(tok: Token, what: str) -> None:
    m = _BOOST.search(tok.value)
    if m and m.start() > 0:
        start = tok.start_pos + m.start()
        raise _err(f"boosts ('{m.group()}') are not supported: results are not ranked", start, tok.end_pos,
                   f"remove '{m.group()}' (quote {what} to match the text: \"{tok.value}\")")


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
        _check_bare_word(tok)
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
        _check_value_word(tok)
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
            raise _glued(self, before, tok)
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
                raise _err(
                    f"dangling '{tok.value}': it needs a term on each side", tok.start_pos, tok.end_pos,
                    _DANGLING_HELP.format(w=tok.value),
                )
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


def _glued(tr: _Tracker, before: Token, tok: Token) -> QuerySyntaxError:
    """A term glued to a closing ``]``, ``)``, ``}`` or quote: never read it as a new term."""
    text, start, end = tok.value, tok.start_pos, tok.end_pos
    if before.type == "QUOTED" and re.fullmatch(r"~\d*(?:\.\d+)?", text):
        words = before.value[1:-1]
        return _err(f"proximity search ({before.value}{text}) is not supported", start, end,
                    f"search the exact phrase {before.value}, or each word anywhere: {words}")
    m = _BOOST.match(text)
    if m:
        return _err(f"boosts ('{text}') are not supported: results are not ranked", start, end, f"remove '{text}'")
    if before.type == "QUOTED" and text[:1] == "," and tr.prev(2) is not None and tr.prev(2).type == "OP":
        key = _token_before(tr, tr.prev(2))
        name = key.value if key is not None else "key"
        return _err("a list of values goes in brackets", start, start + 1,
                    f"write {name}{tr.prev(2).value}[{before.value}, {text[1:]}]")
    if before.type == "QUOTED" and text[:1] in ":=<>~!" and (tr.prev(2) is None or tr.prev(2).type not in ("OP", "LSQB", "_COMMA")):
        return _err("a key in quotes is written with '@'", before.start_pos, before.end_pos,
                    f"write @{before.value}{text}")
    shown = {"RSQB": "]", "RBRACE": "}", "RPAR": ")", "REGEX": "/"}.get(before.type, before.value[-1:])
    return _err(f"missing space between '{shown}' and '{text}'", start, end,
                f"put a space before '{text}' to start a new term, or quote the whole value")


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
        if prev.value == "~":
            return _err(
                f"'{kt}~' needs a value: '~' means contains (key~text)", start, prev.end_pos,
                f"write {kt}~text to find {kt} values containing text; fuzzy matching ({kt}~) is not "
                f"supported: write {kt} alone to search the text anywhere",
            )
        return _err(
            f"'{kt}{prev.value}' needs a value", start, prev.end_pos,
            f"put the value right after it, e.g. {kt}{prev.value}70 or {kt}{prev.value}\"some text\"",
        )
    if ptype == "BUILTIN":
        if tok is not None and tok.type == "QUOTED":
            return _err(f"a key in quotes is written with '@' after '{prev.value}'", tok.start_pos, tok.end_pos,
                        f"write {prev.value}@{tok.value}")
        return _err(f"'{prev.value}' needs a key", prev.start_pos, prev.end_pos, f"e.g. {prev.value}annotator")
    if ptype == "ATKEY" and (tok is None or tok.type != "OP"):
        return _err(
            f"'{prev.value}' needs an operator and a value", prev.start_pos, prev.end_pos,
            f"e.g. {prev.value}:value or {prev.value}>70",
        )
    if ptype in ("LSQB", "LBRACE", "_COMMA", "ITEM", "_TO") or (ptype == "QUOTED" and _in_list(tr)):
        return _bracket_error(tr, tok, prev, where)
    if tok is not None and tok.type in ("_AND", "_OR"):
        w = tok.value
        return _err(f"dangling '{w}': it needs a term on each side", tok.start_pos, tok.end_pos, _DANGLING_HELP.format(w=w))
    if ptype in ("_AND", "_OR") and (end_of_input or tok.type == "RPAR"):
        w = prev.value
        return _err(f"dangling '{w}': it needs a term on each side", prev.start_pos, prev.end_pos, _DANGLING_HELP.format(w=w))
    if ptype in ("NOT", "NEG", "PLUS") and (end_of_input or tok.type == "RPAR"):
        return _err(
            f"'{prev.value}' {'applies to' if ptype == 'PLUS' else 'negates'} nothing", prev.start_pos, prev.end_pos,
            f"put the term right after it, e.g. {prev.value if ptype != 'NOT' else prev.value + ' '}weather:rain",
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


def _bracket_error(tr: _Tracker, tok: Token | None, prev: Token, where) -> QuerySyntaxError:
    """A list ``[a, b]`` or range ``[a TO b]`` / ``{a TO b}`` that does not parse."""
    opener, inside = None, []
    for t in reversed(tr.history):
        if t is tok:
            continue
        if t.type in ("LSQB", "LBRACE"):
            opener = t
            break
        inside.append(t)
    inside.reverse()
    if opener is None:  # pragma: no cover - defensive
        return _err("unexpected text in a list", *where, "e.g. location:[dock-a, dock-b]")
    op = _token_before(tr, opener)
    key = _token_before(tr, op) if op is not None else None
    name = f"{key.value if key is not None else 'key'}{op.value if op is not None else ':'}"
    ttype = tok.type if tok is not None else "$END"
    items = [t for t in inside if t.type in ("ITEM", "QUOTED")]
    ranged = any(t.type == "_TO" for t in inside)
    if tok is not None and tok.value[:1] == "{" and prev.type in ("LSQB", "_COMMA"):
        return _err("a list item cannot start with '{'", tok.start_pos, tok.start_pos + 1,
                    f"quote it: {name}[\"{tok.value.rstrip(']')}\"]")
    if tok is not None and tok.value[:1] == "[" and prev.type in ("LSQB", "_COMMA"):
        return _err("lists cannot be nested", tok.start_pos, tok.end_pos, "write one flat list, e.g. location:[dock-a, dock-b]")
    if opener.type == "LBRACE" and not ranged and (any(":" in t.value for t in items) or ttype in ("RBRACE", "$END")):
        inner = next((t.value for t in items if ":" in t.value), None)
        if inner is not None:
            return _err("nested queries { … } are not supported", opener.start_pos, opener.end_pos,
                        f"write each condition with the full dotted key, e.g. {name[:-1]}.{inner}")
        return _err("'{' starts a range like {10 TO 20}", opener.start_pos, opener.end_pos,
                    f"write a range as {name}{{10 TO 20}}, or quote a value that starts with '{{': {name}\"{{…}}\"")
    if prev.type == "LSQB" and ttype == "RSQB":
        return _err("empty list '[]'", prev.start_pos, tok.end_pos, "put at least one value in it, e.g. location:[dock-a, dock-b]")
    if prev.type == "_TO" or (len(items) == 1 and items[0].value.lower() == "to" and items[0] is prev and ttype in ("ITEM", "QUOTED")):
        lo = "*" if prev.type != "_TO" else (items[0].value if items else "*")
        hi = tok.value if prev.type != "_TO" or ttype in ("ITEM", "QUOTED") else "*"
        return _err("a range needs a value on each side of TO", prev.start_pos, prev.end_pos,
                    f"use * for an open end, e.g. {name}[{lo} TO {hi}]")
    if ranged and ttype in ("ITEM", "QUOTED", "_TO", "_COMMA"):
        return _err("a range has two ends: [lo TO hi]", tok.start_pos, tok.end_pos,
                    f"e.g. {name}[10 TO 20] (a list of values is {name}[a, b, c])")
    if ttype in ("ITEM", "QUOTED") and prev.type in ("ITEM", "QUOTED"):
        return _err("separate list items with a comma", prev.end_pos, tok.start_pos,
                    f"write {name}[{prev.value}, {tok.value}] (or quote an item holding a space: "
                    f"{name}[\"{_strip_quotes(prev.value)} {_strip_quotes(tok.value)}\"])")
    if ttype == "RBRACE" and not ranged:
        return _err("a list ends with ']'", tok.start_pos, tok.end_pos,
                    f"write {name}[a, b]; '}}' ends a range that excludes its end: {name}[10 TO 20}}")
    if ttype == "_TO" and len(items) > 1:
        return _err("a range has two ends: [lo TO hi]", tok.start_pos, tok.end_pos, f"e.g. {name}[10 TO 20]")
    start = opener.start_pos
    what = "range" if ranged else "list"
    close = "']' (or '}' to exclude the end)" if ranged else "']'"
    example = "temperature:[70 TO 80]" if ranged else "location:[dock-a, dock-b]"
    return _err(f"unclosed '{opener.value}' — opened at column {start + 1}", start, start + 1,
                f"close the {what} with {close}, e.g. {example}")


def _strip_quotes(v: str) -> str:
    return v[1:-1] if v[:1] in "\"'" and len(v) >= 2 else v


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
        if t.type in ("RSQB", "RBRACE"):
            return False
        if t.type in ("LSQB", "LBRACE"):
            return True
    return False


__all__ = ["parse", "grammar_text", "make_lark", "lark_parser", "MAX_QUERY_BYTES", "MAX_DEPTH", "MAX_TERMS"]
