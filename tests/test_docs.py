"""Docs are executed: every query shown in README.md and docs/*.md parses.

Queries are taken from ``metastore search|count|export …`` commands (and ``--query``/``-q`` of any
command, e.g. ``facets``, ``tag``) written in inline code or on lines of fenced code blocks, and
from every line of a fenced block whose info string is ``query``. Works on whatever docs exist:
with none, there is simply nothing to check; ``test_docs_with_commands_yield_queries`` makes sure
the extractor does not silently miss commands that are there.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from metastore.errors import QueryError
from metastore.query import parse

REPO = Path(__file__).resolve().parents[1]
QUERY_COMMANDS = {"search", "count", "export", "publish", "sql"}  # the query is the first positional argument
VALUE_OPTIONS = {  # options that take a value (so that value is not mistaken for the query)
    "--db", "--wait", "--format", "-f", "--columns", "-c", "--limit", "-n", "--sort", "--out", "--media",
    "--media-root", "--split", "--group-by", "--sample", "--seed", "--from", "--bins", "--top", "--add",
    "--remove", "--type", "--partition-by", "--dialect", "--table",
}
STOP = {"|", ">", ">>", "&&", "||", ";", "2>", "2>&1"}
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w-]*)")
_INLINE = re.compile(r"(`+)(.+?)\1")
_COMMAND = re.compile(r"\bmetastore\s")


def doc_files() -> list[Path]:
    return [p for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))] if p.is_file()]


def queries_in_command(line: str) -> list[str]:
    """The query arguments of one ``metastore …`` command line (empty if it has none)."""
    m = _COMMAND.search(line)
    if not m:
        return []
    try:
        tokens = shlex.split(line[m.end():], comments=True)
    except ValueError:  # unbalanced quotes: not a runnable command (e.g. a placeholder)
        return []
    found: list[str] = []
    command = None
    positional_taken = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in STOP or tok.startswith(">"):
            break
        if tok == "--":
            if command in QUERY_COMMANDS and not positional_taken and i + 1 < len(tokens):
                found.append(tokens[i + 1])
            break
        if tok in ("-q", "--query"):
            if i + 1 < len(tokens):
                found.append(tokens[i + 1])
                positional_taken = True
            i += 2
            continue
        if tok.startswith(("-q=", "--query=")):
            found.append(tok.split("=", 1)[1])
            positional_taken = True
        elif tok in VALUE_OPTIONS:
            i += 1
        elif tok.startswith("-"):
            pass  # a flag, or --option=value
        elif command is None:
            command = tok
        elif command in QUERY_COMMANDS and not positional_taken:
            found.append(tok)
            positional_taken = True
        i += 1
    return found


def extract_queries(markdown: str) -> list[tuple[int, str]]:
    """``(line number, query)`` for every query shown in a markdown text."""
    out: list[tuple[int, str]] = []
    fence = None  # (marker, info) while inside a fenced block
    pending = ""  # a shell line continued with a trailing backslash
    for number, line in enumerate(markdown.splitlines(), 1):
        m = _FENCE.match(line)
        if fence is None and m:
            fence, pending = (m.group(1), m.group(2).lower()), ""
            continue
        if fence is not None:
            if m and m.group(1).startswith(fence[0][:3]) and not m.group(2):
                fence = None
                continue
            if fence[1] == "query":
                if line.strip():
                    out.append((number, line.strip()))
                continue
            text = pending + line.strip()
            if text.endswith("\\"):
                pending = text[:-1] + " "
                continue
            pending = ""
            text = re.sub(r"^\$\s+", "", text)
            out.extend((number, q) for q in queries_in_command(text))
            continue
        for span in _INLINE.finditer(line):
            out.extend((number, q) for q in queries_in_command(span.group(2).strip()))
    return out


def _all_queries() -> list[tuple[str, str]]:
    found = []
    for path in doc_files():
        for number, query in extract_queries(path.read_text(encoding="utf-8")):
            found.append((f"{path.relative_to(REPO)}:{number}", query))
    return found


def test_every_documented_query_parses():
    bad = []
    for where, query in _all_queries():
        try:
            parse(query)
        except QueryError as exc:
            bad.append(f"{where}: {query!r}: {exc}")
    assert not bad, "documented queries that do not parse:\n" + "\n".join(bad)


def test_docs_with_commands_yield_queries():
    """Wherever the docs show a search/count command with an argument, the extractor finds one."""
    for path in doc_files():
        text = path.read_text(encoding="utf-8")
        shown = len(re.findall(r"metastore\s+(?:--db\s+\S+\s+)?(?:search|count)\s+(?:--\s+)?['\"]", text))
        found = len(extract_queries(text))
        assert found >= shown, f"{path.name}: {shown} search/count commands with a quoted query, {found} found"


SAMPLE = """\
# Demo

Run `metastore search 'temperature>70 reviewed:true'` or `metastore --db x.duckdb count "tag:v2"`.
Not a query: `metastore keys`, `temperature>70` alone, `metastore export --from a/export.json --out b`.

```sh
$ metastore search --format csv --columns a,b 'location:dock-*' > out.csv
metastore search -- '-weather:rain'   # leading dash
metastore export 'weather:rain quality_score>=80' --out data/rain \\
    --split train=0.8,val=0.2
metastore facets weather --query 'captured_at:2024-01'
metastore tag --query 'no:annotator' --add todo
```

```query
(weather:rain OR weather:fog) -reviewed:true
```

```python
cat.search("this is python, not extracted")
```
"""


def test_extractor_finds_inline_fenced_and_query_blocks():
    assert extract_queries(SAMPLE) == [
        (3, "temperature>70 reviewed:true"),
        (3, "tag:v2"),
        (7, "location:dock-*"),
        (8, "-weather:rain"),
        (10, "weather:rain quality_score>=80"),
        (11, "captured_at:2024-01"),
        (12, "no:annotator"),
        (16, "(weather:rain OR weather:fog) -reviewed:true"),
    ]


def test_extractor_lets_a_bad_query_fail():
    bad = "See `metastore search 'temperature>'` and `metastore count -q '(a OR'`."
    found = [q for _, q in extract_queries(bad)]
    assert found == ["temperature>", "(a OR"]
    for q in found:
        with pytest.raises(QueryError):
            parse(q)
