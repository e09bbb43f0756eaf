"""Partial query + cursor → ranked completion candidates. Pure: no I/O.

What may come next is asked of the grammar itself: the text before the cursor is run through
Lark's interactive parser (the same LALR tables and contextual lexer as :mod:`.parser`, built
without a transformer), token by token. The last token touching the cursor is the *fragment*
being typed; it is not fed, and ``accepts()`` on the state before it says which terminals may
stand there — a key or term (``KEY``/``WORD``), a value (``VALUE``/``QUOTED``), a list item
(``ITEM``), the key of ``has:``/``no:`` (``KEYREF``), an operator (after ``@"a key"``). When
the lexer cannot read the rest (an unclosed quote, a lone ``@``), the fragment runs from where
it stopped to the cursor.

What the catalog holds comes in a :class:`CompletionStats`, a small data object the store fills
(``metastore.store.stats``): keys with type and count, top values, enum options, numeric and
datetime ranges, tags.

    >>> result = complete("location:wa", stats=stats)
    >>> [c.text for c in result.candidates]       # replaces text[result.start:cursor]
    ['location:warehouse-3', ...]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..schema import BUILTIN_KEYS, STRING, lookup
from ..types import TYPES
from .operators import SYNTAX

__all__ = ["KeyStats", "CompletionStats", "Candidate", "Completion", "complete", "key_text", "value_text",
           "OPERATORS_BY_TYPE"]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.]*\Z")

#: Operators each type accepts (spec §2), in the order offered: the type table's column.
OPERATORS_BY_TYPE = {name: t.operators for name, t in TYPES.items()}

#: Built-ins offered where a term may start: (text, description).
_BUILTINS = (
    ("has:", "images that have a key"),
    ("no:", "images without a key"),
    ("tag:", "images with a tag"),
    ("path:", "image path glob, e.g. path:images/2024/*"),
    ("is:", "a boolean key is true"),
    ("not:", "a boolean key is false"),
)
_KEYWORDS = (("AND", "both sides match"), ("OR", "either side matches"), ("NOT", "negates the next term"))

# Terminals that are complete by themselves: a fragment never ends in them.
_PUNCT = {"LPAR", "NEG", "OP", "BUILTIN", "LSQB", "_COMMA"}
_TERM = {"KEY", "WORD"}
_VALUE = {"VALUE", "QUOTED", "REGEX", "LSQB"}


# ---------------------------------------------------------------- input and output data


@dataclass(frozen=True)
class KeyStats:
    """One key as completion sees it. ``values`` are (query text, images) pairs, most common
    first — all of them when ``distinct <= len(values)``. ``low``/``high`` are query text."""

    name: str
    type: str
    count: int = 0
    values: tuple = ()
    distinct: int | None = None
    options: tuple = ()
    low: str | None = None
    high: str | None = None


@dataclass(frozen=True)
class CompletionStats:
    keys: tuple = ()
    tags: tuple = ()  # (tag, images), most common first
    image_count: int = 0
    _by_name: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {k.name: k for k in self.keys})

    def get(self, name: str) -> KeyStats | None:
        """Exact, else the unique case-insensitive match (the checker's rule)."""
        return lookup(self._by_name, name)

    def to_dict(self) -> dict:
        return {
            "image_count": self.image_count,
            "tags": [list(t) for t in self.tags],
            "keys": [{"name": k.name, "type": k.type, "count": k.count, "values": [list(v) for v in k.values],
                      "distinct": k.distinct, "options": list(k.options), "low": k.low, "high": k.high}
                     for k in self.keys],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "CompletionStats":
        keys = tuple(KeyStats(k["name"], k["type"], int(k.get("count") or 0),
                              tuple((str(v), int(n)) for v, n in k.get("values") or ()), k.get("distinct"),
                              tuple(k.get("options") or ()), k.get("low"), k.get("high"))
                     for k in data.get("keys") or ())
        return cls(keys, tuple((str(t), int(n)) for t, n in data.get("tags") or ()),
                   int(data.get("image_count") or 0))


@dataclass(frozen=True)
class Candidate:
    """``text`` replaces the query from ``Completion.start`` to the cursor."""

    text: str
    meta: str = ""
    kind: str = ""  # key | operator | value | tag | builtin | keyword
    display: str = ""

    def __post_init__(self) -> None:
        if not self.display:
            object.__setattr__(self, "display", self.text)


@dataclass(frozen=True)
class Completion:
    candidates: tuple
    start: int          # where the fragment starts (offset in the query)
    cursor: int
    fragment: str       # text[start:cursor]
    context: str        # term | value | item | keyref | operator | none
    key: str | None = None
    hint: str | None = None  # e.g. "number from -25 to 45", for values that cannot be listed
    typed: str = ""          # the fragment's text, unquoted and unescaped
    op: str | None = None    # the operator before a value

    @property
    def truncated(self) -> bool:
        """Values were completed from a key's top values only (it has more): the caller may look
        the typed prefix up in the catalog and complete again with those values."""
        return self.context in ("value", "item") and self.key is not None and bool(self._more)

    _more: bool = False

    def replaced(self, text: str, cand: Candidate) -> str:
        """The query text up to the cursor with the candidate applied."""
        return text[:self.start] + cand.text


# ---------------------------------------------------------------- writing keys and values


def key_text(name: str) -> str:
    """A key as it must be written in a query: plain, ``@name`` or ``@"any key"``."""
    if _PLAIN_KEY.match(name) and name.lower() not in BUILTIN_KEYS:
        return name
    if _PLAIN_KEY.match(name):
        return "@" + name
    return '@"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


_VALUE_BAD_FIRST = set("()[]\"'/\\")
_VALUE_BAD = set(")\\*")
_ITEM_BAD = set(",[]()\"'\\*")


def value_text(value: str, *, item: bool = False) -> str:
    """A value written so that it is read back as exactly this text: quoted when it must be
    (empty, spaces, a ')' or '*', '..', a leading quote, bracket or '/', and in a list ',')."""
    bad = _ITEM_BAD if item else _VALUE_BAD
    if (value and value[0] not in _VALUE_BAD_FIRST and ".." not in value
            and not any(ch.isspace() or ch in bad for ch in value)):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _n(count: int) -> str:
    return f"{count:,} image" + ("" if count == 1 else "s")


# ---------------------------------------------------------------- the grammar's view


@lru_cache(maxsize=1)
def _default_parser():
    from .parser import make_lark

    return make_lark()


@dataclass
class _State:
    accepts: frozenset
    history: list          # tokens fed before the fragment
    start: int             # fragment start
    fragment: str
    frag_type: str | None  # the fragment's token type, or None (unlexable rest / empty)
    broken: bool = False   # a parse error before the cursor


def _scan(text: str, parser) -> _State:
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

    ip = parser.parse_interactive(text)
    history = []
    try:
        for tok in ip.iter_parse():
            if tok.end_pos >= len(text) and tok.type not in _PUNCT:
                return _State(frozenset(ip.accepts()), history, tok.start_pos, tok.value, tok.type)
            history.append(tok)
            # iter_parse feeds the token when the loop asks for the next one
    except UnexpectedCharacters as e:
        pos = e.pos_in_stream
        return _State(frozenset(ip.accepts()), history, pos, text[pos:], None)
    except UnexpectedToken as e:
        # The contextual lexer read a token this state cannot take (e.g. a lone '@' read as a
        # value): when it reaches the cursor it is the fragment; earlier, the query is broken.
        tok = e.token
        if tok is not None and tok.type != "$END" and tok.end_pos >= len(text) and not history[-1:] == [tok]:
            return _State(frozenset(ip.accepts()), history, tok.start_pos, text[tok.start_pos:], tok.type)
        return _State(frozenset(), history, len(text), "", None, broken=True)
    except UnexpectedInput:
        return _State(frozenset(), history, len(text), "", None, broken=True)
    return _State(frozenset(ip.accepts()), history, len(text), "", None)


# ---------------------------------------------------------------- the engine


def complete(text: str, cursor: int | None = None, stats: CompletionStats | None = None, *,
             limit: int = 100, parser=None) -> Completion:
    """Candidates for the query ``text`` with the cursor at ``cursor`` (default: the end)."""
    stats = stats or CompletionStats()
    cursor = len(text) if cursor is None else max(0, min(cursor, len(text)))
    head = text[:cursor]
    try:
        st = _scan(head, parser or _default_parser())
    except Exception:  # never let completion fail on odd input
        return Completion((), cursor, cursor, "", "none")
    if st.broken:
        return Completion((), cursor, cursor, "", "none")
    frag, acc, prev = st.fragment, st.accepts, (st.history[-1] if st.history else None)
    ctx, key, hint, cands = "none", None, None, []

    if prev is not None and prev.type == "OP" and acc & _VALUE:
        ctx, key = "value", _key_name(st.history[-2]) if len(st.history) > 1 else None
        opv = prev.value[1:] if len(prev.value) > 1 and prev.value[0] == ":" else prev.value
        cands, hint = _values(stats, key, opv, frag, item=False)
    elif "GVALUE" in acc and _group_key(st.history) is not None:  # k:(a OR b…  k:(>=10 AND <…
        ctx, (key, opv) = "value", _group_key(st.history)
        if prev is not None and prev.type == "GOP":
            opv = prev.value
        cands, hint = _values(stats, key, opv, frag, item=False)
    elif "ITEM" in acc:
        ctx, key = "item", _list_key(st.history)
        cands, hint = _values(stats, key, ":", frag, item=True, listed=_listed(st.history))
    elif acc & {"KEYREF", "ATKEY"} and prev is not None and prev.type == "BUILTIN":
        ctx = "keyref"
        cands = _keyrefs(stats, prev.value[:-1].lower(), frag)
    elif acc & _TERM:
        ctx = "term"
        cands = _terms(stats, frag, acc)
    elif "OP" in acc and prev is not None and prev.type == "ATKEY" and not frag:
        ctx, key = "operator", _key_name(prev)
        cands = _operators(stats, key, "")
    more = False
    if ctx in ("value", "item") and key is not None and key.lower() not in ("tag", "path"):
        k = stats.get(key)
        more = bool(k and TYPES[k.type].facet == "top" and k.distinct is not None and k.distinct > len(k.values))
    op = prev.value if ctx == "value" and prev is not None else (":" if ctx == "item" else None)
    if op is not None and len(op) > 1 and op[0] == ":":
        op = op[1:]
    return Completion(tuple(cands[:limit]), st.start, cursor, frag, ctx, key, hint, _partial(frag)[0], op, more)


def _key_name(tok) -> str | None:
    if tok is None:
        return None
    raw = tok.value
    if tok.type == "ATKEY":
        body = raw[1:]
        if body.startswith(('"', "'")):
            return re.sub(r"\\(.)", r"\1", body[1:-1])
        return body
    return re.sub(r"\\(.)", r"\1", raw)


def _list_key(history: list) -> str | None:
    for i in range(len(history) - 1, 1, -1):
        if history[i].type == "LSQB" and history[i - 1].type == "OP":
            return _key_name(history[i - 2])
        if history[i].type == "LSQB":  # a list inside a field group k:(a OR [b, c…
            found = _group_key(history[:i])
            return found[0] if found else None
    return None


def _group_key(history: list) -> tuple[str | None, str] | None:
    """(key, operator) of the field group ``k:( … `` the cursor is in, or None."""
    depth = 0
    for i in range(len(history) - 1, 0, -1):
        t = history[i].type
        if t == "RPAR":
            depth += 1
        elif t == "LPAR" and depth:
            depth -= 1
        elif t == "LPAR" and history[i - 1].type == "OP" and i >= 2:
            op = history[i - 1].value
            return _key_name(history[i - 2]), op[1:] if len(op) > 1 and op[0] == ":" else op
    return None


def _listed(history: list) -> set:
    out = set()
    for tok in reversed(history):
        if tok.type == "LSQB":
            break
        if tok.type in ("ITEM", "QUOTED"):
            out.add(_unquote(tok.value).casefold())
    return out


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0]:
        raw = raw[1:-1]
    return re.sub(r"\\(.)", r"\1", raw)


def _partial(frag: str) -> tuple[str, bool]:
    """The text of a fragment being typed, and whether it was opened with a quote."""
    if frag.startswith(('"', "'")):
        body = frag[1:]
        if len(body) >= 1 and body[-1:] == frag[:1] and not body.endswith("\\" + frag[:1]):
            body = body[:-1]
        return re.sub(r"\\(.)", r"\1", body), True
    return re.sub(r"\\(.)", r"\1", frag), False


def _match_rank(name: str, typed: str) -> int | None:
    """0 prefix, 1 a word of the name starts with it, 2 contains it, None no match."""
    if not typed:
        return 0
    n, t = name.casefold(), typed.casefold()
    if n.startswith(t):
        return 0
    if any(part.startswith(t) for part in re.split(r"[._\-\s]", n)):
        return 1
    if len(t) >= 3 and t in n:
        return 2
    return None


def _ranked_keys(stats: CompletionStats, typed: str, want=None) -> list:
    hits = []
    for k in stats.keys:
        if want is not None and not want(k):
            continue
        r = _match_rank(k.name, typed)
        if r is not None:
            hits.append((r, -k.count, k.name, k))
    hits.sort(key=lambda h: h[:3])
    return [h[3] for h in hits]


def _key_meta(k: KeyStats) -> str:
    return f"{k.type} · {_n(k.count)}"


def _terms(stats: CompletionStats, frag: str, acc: frozenset) -> list:
    """A term may start here: keys (with operators once one key is chosen), built-ins, keywords."""
    at = frag.startswith("@")
    typed = _partial(frag[1:])[0] if at else frag
    if frag.startswith(('"', "'")):
        return []  # a quoted phrase: free text, nothing to complete
    if frag.startswith(("-", "!")):
        return []  # the lexer read a negation as part of the word: never expected here
    keys = _ranked_keys(stats, typed)
    exact = stats.get(typed) if typed else None
    cands: list = []
    if exact is not None and not at or (len(keys) == 1 and typed):
        k = exact or keys[0]
        cands += _operators(stats, k.name, "")
        keys = [x for x in keys if x is not k]
    for k in keys:
        written = key_text(k.name)
        if at and not written.startswith("@"):
            written = "@" + written
        cands.append(Candidate(written + ":", _key_meta(k), "key", display=written))
    if not at:
        for text_, meta in _BUILTINS:
            if text_.startswith(typed.casefold()):
                cands.append(Candidate(text_, meta, "builtin"))
        if typed:
            for kw, meta in _KEYWORDS:
                if kw.startswith(typed.upper()) and ("_" + kw if kw != "NOT" else kw) in acc:
                    cands.append(Candidate(kw + " ", meta, "keyword", display=kw))
    return cands


def _operators(stats: CompletionStats, name: str | None, typed_op: str) -> list:
    k = stats.get(name) if name else None
    if k is None:
        return []
    written = key_text(k.name)
    cands = []
    for op in OPERATORS_BY_TYPE.get(k.type, (":",)):
        phrase = SYNTAX[op].phrase_for(k.type)
        cands.append(Candidate(written + op, f"{k.type} · {phrase}" + (f" · {_n(k.count)}" if op == ":" else ""),
                               "operator"))
    return cands


def _keyrefs(stats: CompletionStats, builtin: str, frag: str) -> list:
    at = frag.startswith("@")
    typed = _partial(frag[1:])[0] if at else frag
    want = (lambda k: TYPES[k.type].query == "boolean") if builtin in ("is", "not") else None
    out = []
    for k in _ranked_keys(stats, typed, want):
        written = key_text(k.name)
        if at and not written.startswith("@"):
            written = "@" + written
        out.append(Candidate(written, _key_meta(k), "key"))
    return out


def _range_hint(k: KeyStats) -> str | None:
    if k.low is None or k.high is None:
        return f"{k.type} · {_n(k.count)}"
    return f"{k.type} from {k.low} to {k.high} · {_n(k.count)}"


def _values(stats: CompletionStats, name: str | None, op: str, frag: str, *, item: bool,
            listed: set = frozenset()) -> tuple[list, str | None]:
    if name is None:
        return [], None
    typed, quoted = _partial(frag)
    hint = None
    if name.lower() == "tag":
        pool = list(stats.tags)
        kind, type_ = "tag", STRING
    elif name.lower() == "path":
        return [], "a path glob, e.g. path:images/2024/*"
    else:
        k = stats.get(name)
        if k is None:
            return [], None
        kind, type_ = "value", k.type
        counts = dict(k.values)
        t = TYPES[k.type]
        if t.query == "boolean":
            pool = [("true", counts.get("true", 0)), ("false", counts.get("false", 0))]
        elif t.options and k.options:
            pool = sorted(((o, counts.get(o, 0)) for o in k.options), key=lambda p: (-p[1], p[0]))
        else:
            pool = list(k.values)
        if t.ordered:
            hint = _range_hint(k)
            if k.distinct is not None and k.distinct > len(k.values):
                return [], hint
        if op in (">", ">=", "<", "<=") and not t.ordered:
            return [], None
    fold = typed.casefold()
    ranked = []
    for i, (value, count) in enumerate(pool):
        if value.casefold() in listed:
            continue
        v = value if op == "=" else value.casefold()
        t = typed if op == "=" else fold
        if op == "~":
            if t and t not in v:
                continue
            rank = 0 if v.startswith(t) else 1
        elif not v.startswith(t):
            continue
        else:
            rank = -1 if t and v == t else 0  # what is typed in full comes first
        ranked.append((rank, i, value, count))
    ranked.sort()
    if op in _ORDERED and kind == "value":
        # The count shown must be what the completed query matches (`age>45`), not `age=45`'s:
        # exact when every value of the key is known, else no count at all.
        ranked = [(r, i, value, _ordered_count(op, value, pool, k)) for r, i, value, _ in ranked]
    out = []
    for _, _, value, count in ranked:
        written = value_text(value, item=item)
        if quoted and not written.startswith('"'):
            written = '"' + written + '"'
        out.append(Candidate(written, _n(count) if count else kind if kind == "tag" else type_, kind,
                             display=value))
    return out, hint


_ORDERED = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


def _ordered_count(op: str, value, pool, k) -> int:
    """Images whose value of ``k`` is ``op value`` (0: unknown, so no count is shown)."""
    if TYPES[k.type].query != "number" or k.distinct is None or k.distinct > len(pool):
        return 0
    try:
        here = float(value)
        return sum(c for v, c in pool if _ORDERED[op](float(v), here))
    except (TypeError, ValueError):
        return 0
