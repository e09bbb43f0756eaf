"""Friendly syntax errors: Lark's failures, and other tools' syntax, as messages with a fix. Pure.

Called by :mod:`metastore.query.parser`; ``tr`` is its token tracker (``history``, ``parens``,
``prev()``). Never shows grammar terminal names; a help line never changes what the user meant.
"""

from __future__ import annotations

import re

from lark import Token
from lark.exceptions import UnexpectedCharacters

from ..errors import QueryIssue, QuerySyntaxError


def err(message: str, start: int, end: int, help: str | None = None) -> QuerySyntaxError:
    return QuerySyntaxError(QueryIssue(message, start, max(end, start), help))


# ---------------------------------------------------------------- words that look like other tools' syntax

_BOOST = re.compile(r"(?<!\\)\^(\d+(?:\.\d+)?)?\Z")


def check_bare_word(tok: Token) -> None:
    raw, start, end = tok.value, tok.start_pos, tok.end_pos
    if raw[0] in "<>":
        m = re.match(r"[<>]=?", raw)
        rest = raw[m.end():] or "70"
        raise err(f"'{m.group()}' needs a key before it", start, start + m.end(),
                   f"write the key, e.g. temperature{m.group()}{rest} (quote the text to search it: \"{raw}\")")
    if raw[0] == "[":
        raise err("a list or range needs a key before it", start, start + 1,
                   "write the key, e.g. location:[dock-a, dock-b] or temperature:[70 TO 80] "
                   "(quote text that starts with '[' to search it)")
    if raw[0] == "{":  # Lucene's {a TO b} range, or Gmail's {a b} (either word)
        raise err("'{' is not a group: braces only make ranges, after a key", start, start + 1,
                   "for either word write a OR b; for a range write the key, e.g. temperature:{70 TO 80} "
                   "(quote text that starts with '{' to search it)")
    if len(raw) >= 3 and raw[0] == "/" and raw[-1] == "/" and raw[-2] != "\\":
        raise err("a regex needs a key before it", start, end,
                   f"write the key, e.g. path:{raw} or location:{raw} (quote the text to search it: \"{raw}\")")
    _check_boost(tok, "a word")


def check_value_word(tok: Token) -> None:
    if tok.value.lower() == "@me":
        raise err("'@me' names no one here: there are no user accounts", tok.start_pos, tok.end_pos,
                   'write the name, e.g. annotator:alice (or quote the text: "@me")')
    _check_boost(tok, "a value")


def _check_boost(tok: Token, what: str) -> None:
    m = _BOOST.search(tok.value)
    if m and m.start() > 0:
        start = tok.start_pos + m.start()
        raise _no_boosts(m.group(), start, tok.end_pos,
                         f"remove '{m.group()}' (quote {what} to match the text: \"{tok.value}\")")


# ---------------------------------------------------------------- friendly syntax errors

def dangling(tok: Token) -> QuerySyntaxError:
    """``AND`` / ``OR`` without a term on one side (at the start or end, or before ``)``)."""
    w = tok.value
    return err(f"dangling '{w}': it needs a term on each side", tok.start_pos, tok.end_pos,
               f"put a term on each side, e.g. weather:rain OR weather:fog (quote it to search the word: \"{w}\")")


def _nested(start: int, end: int) -> QuerySyntaxError:
    return err("lists cannot be nested", start, end, "write one flat list, e.g. location:[dock-a, dock-b]")


def _no_boosts(boost: str, start: int, end: int, help: str) -> QuerySyntaxError:
    return err(f"boosts ('{boost}') are not supported: results are not ranked", start, end, help)


def from_characters(text: str, e: UnexpectedCharacters, tr) -> QuerySyntaxError:
    return _bad_char(text, e.pos_in_stream, tr, tr.prev())


def _bad_char(text: str, pos: int, tr, prev: Token | None) -> QuerySyntaxError:
    ch = text[pos] if pos < len(text) else ""
    col = pos + 1
    if ch in "\"'":
        return err(
            f"unclosed quote — {ch} opened at column {col}", pos, len(text),
            f"add the closing {ch} (or write \\{ch} for a literal quote)",
        )
    if ch == "/" and prev is not None and prev.type == "OP":
        rest = text[pos + 1:]
        closing = re.search(r"(?<!\\)/", rest)
        if closing is None:
            return err(
                f"unclosed regex — '/' opened at column {col}", pos, len(text),
                "end it with '/', e.g. location:/dock-[ab]/ (quote a value that starts with '/')",
            )
        end = pos + 1 + closing.end()
        return err(
            "a regex must end the value: put a space or ')' after its closing '/'", pos, end + 1,
            'to match a value starting with \'/\', quote it: path:"/images/a.jpg"',
        )
    if ch == "\\":
        return err("a '\\' at the end escapes nothing", pos, pos + 1, "write '\\\\' for a backslash")
    if ch == "@" and text[pos + 1:pos + 2] in ("'", '"'):
        return err(
            f"unclosed quote — {text[pos + 1]} opened at column {col + 1}", pos + 1, len(text),
            f"add the closing {text[pos + 1]}, e.g. @\"camera model\":x",
        )
    if ch == "@":
        return err("'@' must be followed by a key name", pos, pos + 1, 'write @name or @"any key", e.g. @has:x')
    if ch == "[" and prev is not None and prev.type in ("LSQB", "_COMMA"):
        return _nested(pos, pos + 1)
    if prev is not None and prev.type == "OP":
        return err(
            f"a value cannot start with '{ch}'", pos, pos + 1,
            f'quote the value, e.g. {_key_before(tr, prev)}:"{ch}…"',
        )
    if prev is not None and prev.type == "BUILTIN":
        return err(f"'{prev.value}' needs a key, not '{ch}'", pos, pos + 1, f"e.g. {prev.value}annotator")
    return err(f"unexpected '{ch}'", pos, pos + 1, "quote text that contains it, e.g. \"a b\"")


def glued(tr, before: Token, tok: Token) -> QuerySyntaxError:
    """A term glued to a closing ``]``, ``)``, ``}`` or quote: never read it as a new term."""
    text, start, end = tok.value, tok.start_pos, tok.end_pos
    if before.type == "QUOTED" and re.fullmatch(r"~\d*(?:\.\d+)?", text):
        words = before.value[1:-1]
        return err(f"proximity search ({before.value}{text}) is not supported", start, end,
                    f"search the exact phrase {before.value}, or each word anywhere: {words}")
    m = _BOOST.match(text)
    if m:
        return _no_boosts(text, start, end, f"remove '{text}'")
    if before.type == "QUOTED" and text[:1] == "," and tr.prev(2) is not None and tr.prev(2).type == "OP":
        key = _token_before(tr, tr.prev(2))
        name = key.value if key is not None else "key"
        return err("a list of values goes in brackets", start, start + 1,
                    f"write {name}{tr.prev(2).value}[{before.value}, {text[1:]}]")
    if before.type == "QUOTED" and text[:1] in ":=<>~!" and (tr.prev(2) is None or tr.prev(2).type not in ("OP", "LSQB", "_COMMA")):
        return err("a key in quotes is written with '@'", before.start_pos, before.end_pos,
                    f"write @{before.value}{text}")
    shown = {"RSQB": "]", "RBRACE": "}", "RPAR": ")", "REGEX": "/"}.get(before.type, before.value[-1:])
    return err(f"missing space between '{shown}' and '{text}'", start, end,
                f"put a space before '{text}' to start a new term, or quote the whole value")


def _key_before(tr, op: Token | None) -> str:
    key = _token_before(tr, op) if op is not None else None
    return key.value if key is not None else "key"


def from_token(text: str, tok: Token | None, tr) -> QuerySyntaxError:
    end_of_input = tok is None or tok.type == "$END"
    # the token before the failing one (the tracker has seen the failing token when it is a real one)
    prev = tr.prev(2) if not end_of_input and tr.history and tr.history[-1] is tok else tr.prev()
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
            return err(
                f"'{kt}~' needs a value: '~' means contains (key~text)", start, prev.end_pos,
                f"write {kt}~text to find {kt} values containing text; fuzzy matching ({kt}~) is not "
                f"supported: write {kt} alone to search the text anywhere",
            )
        return err(
            f"'{kt}{prev.value}' needs a value", start, prev.end_pos,
            f"put the value right after it, e.g. {kt}{prev.value}70 or {kt}{prev.value}\"some text\"",
        )
    if ptype == "BUILTIN":
        if tok is not None and tok.type == "QUOTED":
            return err(f"a key in quotes is written with '@' after '{prev.value}'", tok.start_pos, tok.end_pos,
                        f"write {prev.value}@{tok.value}")
        return err(f"'{prev.value}' needs a key", prev.start_pos, prev.end_pos, f"e.g. {prev.value}annotator")
    if ptype == "ATKEY" and (tok is None or tok.type != "OP"):
        return err(
            f"'{prev.value}' needs an operator and a value", prev.start_pos, prev.end_pos,
            f"e.g. {prev.value}:value or {prev.value}>70",
        )
    if ptype in ("LSQB", "LBRACE", "_COMMA", "ITEM", "_TO") or (ptype == "QUOTED" and _in_list(tr)):
        return _bracket_error(tr, tok, prev, where)
    if tok is not None and tok.type in ("_AND", "_OR"):
        return dangling(tok)
    if ptype in ("_AND", "_OR") and (end_of_input or tok.type == "RPAR"):
        return dangling(prev)
    if ptype in ("NOT", "NEG", "PLUS") and (end_of_input or tok.type == "RPAR"):
        return err(
            f"'{prev.value}' {'applies to' if ptype == 'PLUS' else 'negates'} nothing", prev.start_pos, prev.end_pos,
            f"put the term right after it, e.g. {prev.value if ptype != 'NOT' else prev.value + ' '}weather:rain",
        )
    if tok is not None and tok.type == "RPAR":
        if ptype == "LPAR":
            return err("empty group '()'", prev.start_pos, tok.end_pos, "put a term inside, e.g. (weather:rain OR weather:fog), or remove it")
        if not tr.parens:
            return err("unmatched ')'", tok.start_pos, tok.end_pos, "remove it, or add the '(' it closes")
    if end_of_input and tr.parens:
        lpar = tr.parens[-1][0]
        return err(
            f"unclosed '(' — opened at column {lpar.start_pos + 1}", lpar.start_pos, lpar.start_pos + 1,
            "add ')' to close it, e.g. (weather:rain OR weather:fog)",
        )
    if not end_of_input and tok.value[:1] in ("@", '"', "'", "/", "\\", "["):
        return _bad_char(text, tok.start_pos, tr, prev)
    return err(f"unexpected {shown}", *where, "quote text that should be a value, e.g. \"a b\"")


def _bracket_error(tr, tok: Token | None, prev: Token, where) -> QuerySyntaxError:
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
        return err("unexpected text in a list", *where, "e.g. location:[dock-a, dock-b]")
    op = _token_before(tr, opener)
    key = _token_before(tr, op) if op is not None else None
    name = f"{key.value if key is not None else 'key'}{op.value if op is not None else ':'}"
    ttype = tok.type if tok is not None else "$END"
    items = [t for t in inside if t.type in ("ITEM", "QUOTED")]
    ranged = any(t.type == "_TO" for t in inside)
    if tok is not None and tok.value[:1] == "{" and prev.type in ("LSQB", "_COMMA"):
        return err("a list item cannot start with '{'", tok.start_pos, tok.start_pos + 1,
                    f"quote it: {name}[\"{tok.value.rstrip(']')}\"]")
    if tok is not None and tok.value[:1] == "[" and prev.type in ("LSQB", "_COMMA"):
        return _nested(tok.start_pos, tok.end_pos)
    if opener.type == "LBRACE" and not ranged and (any(":" in t.value for t in items) or ttype in ("RBRACE", "$END")):
        inner = next((t.value for t in items if ":" in t.value), None)
        if inner is not None:
            return err("nested queries { … } are not supported", opener.start_pos, opener.end_pos,
                        f"write each condition with the full dotted key, e.g. {name[:-1]}.{inner}")
        return err("'{' starts a range like {10 TO 20}", opener.start_pos, opener.end_pos,
                    f"write a range as {name}{{10 TO 20}}, or quote a value that starts with '{{': {name}\"{{…}}\"")
    if prev.type == "LSQB" and ttype == "RSQB":
        return err("empty list '[]'", prev.start_pos, tok.end_pos, "put at least one value in it, e.g. location:[dock-a, dock-b]")
    if prev.type == "_TO" or (len(items) == 1 and items[0].value.lower() == "to" and items[0] is prev and ttype in ("ITEM", "QUOTED")):
        lo = "*" if prev.type != "_TO" else (items[0].value if items else "*")
        hi = tok.value if prev.type != "_TO" or ttype in ("ITEM", "QUOTED") else "*"
        return err("a range needs a value on each side of TO", prev.start_pos, prev.end_pos,
                    f"use * for an open end, e.g. {name}[{lo} TO {hi}]")
    if ranged and ttype in ("ITEM", "QUOTED", "_TO", "_COMMA"):
        return err("a range has two ends: [lo TO hi]", tok.start_pos, tok.end_pos,
                    f"e.g. {name}[10 TO 20] (a list of values is {name}[a, b, c])")
    if ttype in ("ITEM", "QUOTED") and prev.type in ("ITEM", "QUOTED"):
        return err("separate list items with a comma", prev.end_pos, tok.start_pos,
                    f"write {name}[{prev.value}, {tok.value}] (or quote an item holding a space: "
                    f"{name}[\"{_strip_quotes(prev.value)} {_strip_quotes(tok.value)}\"])")
    if ttype == "RBRACE" and not ranged:
        return err("a list ends with ']'", tok.start_pos, tok.end_pos,
                    f"write {name}[a, b]; '}}' ends a range that excludes its end: {name}[10 TO 20}}")
    if ttype == "_TO" and len(items) > 1:
        return err("a range has two ends: [lo TO hi]", tok.start_pos, tok.end_pos, f"e.g. {name}[10 TO 20]")
    start = opener.start_pos
    what = "range" if ranged else "list"
    close = "']' (or '}' to exclude the end)" if ranged else "']'"
    example = "temperature:[70 TO 80]" if ranged else "location:[dock-a, dock-b]"
    return err(f"unclosed '{opener.value}' — opened at column {start + 1}", start, start + 1,
                f"close the {what} with {close}, e.g. {example}")


def _strip_quotes(v: str) -> str:
    return v[1:-1] if v[:1] in "\"'" and len(v) >= 2 else v


def _token_before(tr, tok: Token) -> Token | None:
    for i in range(len(tr.history) - 1, 0, -1):
        if tr.history[i] is tok:
            return tr.history[i - 1]
    return None


def _in_list(tr) -> bool:
    for t in reversed(tr.history[:-1] if tr.history else []):
        if t.type in ("RSQB", "RBRACE"):
            return False
        if t.type in ("LSQB", "LBRACE"):
            return True
    return False


__all__ = ["err", "dangling", "check_bare_word", "check_value_word", "glued", "from_characters", "from_token"]
