"""A query that starts with ``-`` on the command line (``metastore count '-weather:rain'``).

The option parser would read ``-weather:rain`` as options (``No such option: -w``). A negated
query is the commonest way to start one, so :func:`protect_query` rewrites such an argument
into the positional query before the parser sees it — for ``search``, ``count`` and ``export``, whose first
positional argument is the query (it is moved to the end, after ``--``). Pure and without Typer, so a fast path (``entry.py``) and
the Typer app (``cli.main``) call the same function.

An argument is left to the option parser when it is one of the command's options exactly
(``-n``, ``--limit``), ``--name=value``, ``--`` (everything after it is positional, as usual),
or a short option with its value attached that reads as that value (``-n5``, ``-fcsv``,
``-qrain``). Everything else starting with ``-`` is the query. ``tests/test_cli_argv.py``
checks these tables against the Typer app's real options.
"""

from __future__ import annotations

#: Options of the top-level callback that take a value (before the command).
GLOBAL_VALUE_OPTIONS = {"--db", "--wait"}
GLOBAL_FLAGS = {"--quiet", "--version", "-h", "--help"}

#: command → (options taking a value, flags). The query option itself is "-q"/"--query".
QUERY_COMMANDS: dict[str, tuple[frozenset, frozenset]] = {
    "search": (
        frozenset({"-q", "--query", "--format", "-f", "--columns", "-c", "--limit", "-n", "--sort"}),
        frozenset({"--explain", "-i", "--interactive", "-h", "--help"}),
    ),
    "count": (
        frozenset({"-q", "--query"}),
        frozenset({"-h", "--help"}),
    ),
    "export": (
        frozenset({"-q", "--query", "--out", "-o", "--from", "--format", "-f", "--columns", "-c", "--media",
                   "--media-root", "--split", "--split-column", "--group-by", "--sample", "--seed", "--limit", "-n",
                   "--sort"}),
        frozenset({"--force", "--skip-missing", "--json", "-h", "--help"}),
    ),
}

#: A short option with its value attached (``-n5``): the value must read as that option's value.
_ATTACHED = {
    "-n": str.isdigit,
    "-f": lambda v: v in {"table", "paths", "csv", "jsonl", "json", "parquet"},
    "-q": lambda v: True,
}


def _is_option(arg: str, values: frozenset, flags: frozenset) -> bool:
    if arg in values or arg in flags:
        return True
    if arg.startswith("--"):  # a long option, known or not (the parser reports unknown ones)
        return True
    head, rest = arg[:2], arg[2:]
    check = _ATTACHED.get(head)
    return head in values and check is not None and bool(rest) and check(rest)


def protect_query(argv: list[str]) -> list[str]:
    """``argv`` (without the program name) with a query that starts with ``-`` passed as ``-q``."""
    args = list(argv)
    i = 0
    while i < len(args) and args[i].startswith("-"):  # global options before the command
        i += 2 if args[i] in GLOBAL_VALUE_OPTIONS else 1
    if i >= len(args) or args[i] not in QUERY_COMMANDS:
        return args
    values, flags = QUERY_COMMANDS[args[i]]
    i += 1
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if arg.startswith("-") and len(arg) > 1 and not _is_option(arg, values, flags):
            # Moved behind "--": the positional query, whatever follows (a -q as well: then the
            # command says "give the query once" rather than one silently replacing the other).
            return args[:i] + args[i + 1:] + ["--", arg]
        if arg in values:
            i += 2
            continue
        if not arg.startswith("-"):  # the query (or another positional): nothing to protect
            break
        i += 1
    return args


__all__ = ["protect_query", "QUERY_COMMANDS", "GLOBAL_VALUE_OPTIONS", "GLOBAL_FLAGS"]
