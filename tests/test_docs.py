"""Docs are executed: every query shown in README.md and docs/*.md parses, and every example in
a ``sample`` block (``query → N images`` or ``query → error: message``) gives that result on the
bundled sample (built by the real ``metastore quickstart``).

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

from metastore.argv import protect_query
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
    for i, tok in enumerate(tokens):  # what the shell would stop at, then what the command does
        if tok in STOP or tok.startswith(">"):
            tokens = tokens[:i]
            break
    tokens = protect_query(tokens)  # a query starting with '-' ('-weather:rain')
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
            if fence[1] == "sample":
                continue  # checked by test_sample_blocks_give_their_results
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


# -- sample blocks: ``query → N images`` / ``query → error: message`` -------------------------
_ARROW = re.compile(r"\s+→\s+(?:(?P<n>[0-9,]+) images?|error: (?P<error>.+))\Z")


def extract_samples(markdown: str) -> list[tuple[int, str, int | None, str | None]]:
    """``(line, query, count, error)`` for each line of the fenced ``sample`` blocks."""
    out, inside = [], False
    for number, line in enumerate(markdown.splitlines(), 1):
        m = _FENCE.match(line)
        if m and not inside and m.group(2).lower() == "sample":
            inside = True
            continue
        if inside and m:
            inside = False
            continue
        if inside and line.strip():
            arrow = _ARROW.search(line)
            assert arrow, f"line {number}: a sample line is 'query → N images' or 'query → error: …': {line!r}"
            n = int(arrow["n"].replace(",", "")) if arrow["n"] else None
            out.append((number, line[:arrow.start()].strip(), n, arrow["error"]))
    return out


def _all_samples():
    found = []
    for path in doc_files():
        for number, query, n, error in extract_samples(path.read_text(encoding="utf-8")):
            found.append((f"{path.relative_to(REPO)}:{number}", query, n, error))
    return found


@pytest.fixture(scope="module")
def sample_catalog(tmp_path_factory):
    """The bundled sample, cataloged by the real ``metastore quickstart`` (as a user would)."""
    import os
    import subprocess
    import sys

    from metastore import Catalog

    dest = tmp_path_factory.mktemp("docs") / "sample"
    env = {k: v for k, v in os.environ.items() if k != "METASTORE_DB"}
    done = subprocess.run([sys.executable, "-c", "from metastore.cli import main; main()", "quickstart", str(dest)],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    cat = Catalog(dest / "metastore.duckdb")
    yield cat
    cat.close()  # reads keep a catalog attached (warm): leave none behind for other tests


SAMPLES = _all_samples()


def test_the_language_reference_has_samples():
    assert sum(1 for where, *_ in SAMPLES if where.startswith("docs/query-language.md")) >= 60


@pytest.mark.parametrize("where, query, n, error", SAMPLES, ids=[f"{w} {q}" for w, q, _, _ in SAMPLES])
def test_sample_blocks_give_their_results(sample_catalog, where, query, n, error):
    if error is None:
        assert sample_catalog.search(query).count() == n, f"{where}: {query!r}"
        return
    with pytest.raises(QueryError) as info:
        sample_catalog.search(query).count()
    messages = [i.message for i in info.value.issues] or [info.value.message]
    assert any(error in m for m in messages), f"{where}: {query!r} gave {messages}"


def test_extractor_reads_sample_lines():
    text = "```sample\nforklift   → 4 images\nx>1 → 1 image\nbad> → error: needs a value\n```\n"
    assert extract_samples(text) == [(2, "forklift", 4, None), (3, "x>1", 1, None), (4, "bad>", None, "needs a value")]
