"""``metastore count`` and ``metastore search`` of a plain query, answered without Typer or rich.

A count from the shell is a fresh process: Python, ``import duckdb`` and the query itself are
what it must pay; Typer's command tree (~20 ms to build, plus its imports), rich and a second
full CLI parse are not. So, like ``complete`` (see :mod:`metastore.completion`), the console
script first tries this path for the plain forms

    metastore [--db P] [--wait S] [--quiet] count  [-q Q | --query Q | [--] Q]
    metastore [--db P] [--wait S] [--quiet] search [-q Q | --query Q | [--] Q] [--format paths | -f paths]

(``search`` without ``--format`` only when stdout is not a terminal: its default is then
``paths``), after :func:`metastore.argv.protect_query` (a query starting with ``-``).
Anything else — other options, ``--help``, a query error, a locked catalog, a missing file,
an empty result (the full CLI adds a hint) — returns False *before anything is printed*, and the full CLI runs the command
from the start, so every message, wait and exit code stays the full CLI's. On success the
answer is flushed and the console script's process ends with ``os._exit`` (interpreter
shutdown skipped); called in-process (:func:`metastore.entry.main`) it just returns.
"""

from __future__ import annotations

import os
import sys

__all__ = ["parse_argv", "fast_main"]

_GLOBAL_VALUE = {"--db", "--wait"}
_GLOBAL_FLAG = {"--quiet"}


def parse_argv(argv: list, *, stdout_tty: bool) -> dict | None:
    """``{"command", "db", "query"}`` for the plain forms above, else None."""
    opts: dict = {"db": None, "command": None, "query": None}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":  # global options
        name, eq, val = argv[i].partition("=")
        if name in _GLOBAL_VALUE:
            if not eq:
                if i + 1 >= len(argv):
                    return None
                i += 1
                val = argv[i]
            if name == "--db":
                if not val:
                    return None
                opts["db"] = val
            else:
                try:
                    if float(val) < 0:
                        return None
                except ValueError:
                    return None
        elif argv[i] not in _GLOBAL_FLAG:
            return None
        i += 1
    if i >= len(argv) or argv[i] not in ("count", "search"):
        return None
    opts["command"] = cmd = argv[i]
    rest, fmt = argv[i + 1:], None
    j = 0
    while j < len(rest):
        a = rest[j]
        name, eq, val = a.partition("=")
        if a == "--":
            if j + 2 != len(rest) or opts["query"] is not None:
                return None
            opts["query"] = rest[j + 1]
            break
        if name in ("-q", "--query") or (cmd == "search" and name in ("-f", "--format")):
            if eq and name in ("-q", "-f"):
                return None  # -q=x is Click's short-option syntax: leave it to the full CLI
            if not eq:
                if j + 1 >= len(rest):
                    return None
                j += 1
                val = rest[j]
            if name in ("-f", "--format"):
                if fmt is not None:
                    return None
                fmt = val
            elif opts["query"] is not None:
                return None
            else:
                opts["query"] = val
        elif a.startswith("-") and a != "-":
            return None
        elif opts["query"] is not None:
            return None
        else:
            opts["query"] = a
        j += 1
    if cmd == "search" and (fmt or ("table" if stdout_tty else "paths")) != "paths":
        return None
    if opts["query"] is None:
        opts["query"] = ""
    return opts


def fast_main(argv: list, *, hard_exit: bool = False) -> bool:
    """Answer a plain ``count``/``search``; False (nothing printed) when it is not one. With
    ``hard_exit`` (the console script: a process of its own) the process then ends at once with
    ``os._exit`` (~0.1 s of interpreter shutdown skipped); otherwise True is returned."""
    try:
        from .argv import protect_query  # the one rule for a query starting with '-' (issue 13)

        opts = parse_argv(protect_query(argv), stdout_tty=sys.stdout.isatty())
    except Exception:
        return False
    if opts is None:
        return False
    try:
        from .catalog import Catalog  # imports duckdb

        # wait=0: a locked catalog goes to the full CLI, which says that it waits, and waits
        result = Catalog(opts["db"], wait=0).search(opts["query"])
        if opts["command"] == "count":
            n = result.count()
            text = f"{n}\n"
        else:
            paths = result.paths()
            n = len(paths)
            text = "".join(p + "\n" for p in paths)
        if n == 0:
            return False  # the full CLI adds its hint for an empty result (hints.zero_result_hint)
    except Exception:  # MetastoreError or anything else: the full CLI runs it again and reports it
        return False
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        if hard_exit:
            os._exit(1)
        raise
    if hard_exit:
        sys.stderr.flush()
        os._exit(0)
    return True
