"""Completion glue for the command line: `metastore complete`, shell completion callbacks, and
the fast entry path. Imports neither typer nor rich nor duckdb (duckdb only on a stats cache
miss, inside the store).

- ``metastore complete 'PARTIAL' [--cursor N] [--plain] [--limit N]`` prints one candidate per
  line: the query up to the cursor with the candidate applied, a TAB, and a short description
  (``--plain``: the text only). A hint for values that cannot be listed (numbers and datetimes
  with many values: their range) goes to stderr as ``# hint``. Exit 0 even with no candidate.
- Shell completion (bash, zsh, fish via Typer's ``--install-completion``) offers the same
  candidates for the QUERY argument of search/count/export/facets, and key names for KEY
  arguments. Bash reads the word after an open quote, so complete queries inside quotes:
  ``metastore search 'location:wa<TAB>``.
"""

from __future__ import annotations

import os
import sys

__all__ = ["load_stats", "parser", "candidates", "print_candidates", "shell_query", "shell_keys", "fast_main"]


def _db(db: str | None) -> str:
    return db or os.environ.get("METASTORE_DB") or "metastore.duckdb"


def load_stats(db: str | None, *, quiet_errors: bool = False, wait: float = 1.0):
    """The catalog's completion stats (empty when there is no catalog)."""
    from .store.stats import completion_stats

    try:
        return completion_stats(_db(db), wait=wait)
    except Exception:
        if not quiet_errors:
            raise
        from .query.complete import CompletionStats

        return CompletionStats()


def parser():
    """The transformer-less query parser, its LALR tables cached beside the stats cache
    (Lark checks the grammar's hash on load, so a changed grammar rebuilds it)."""
    from .query.parser import make_lark
    from .store.stats import cache_dir

    try:
        import lark

        d = cache_dir()
        d.mkdir(parents=True, exist_ok=True)
        return make_lark(cache=str(d / f"grammar-lark{lark.__version__}.cache"))
    except OSError:
        return make_lark()


def candidates(text: str, cursor: int | None, stats, *, limit: int = 100, db: str | None = None,
               cache: bool = False):
    """The engine's answer; when it completed a value from a key's top values only and more
    exist, the typed prefix is looked up in the catalog (duckdb, only then) and asked again.
    ``cache``: a long-lived process keeps the looked-up keys' values in memory (``lookup_values``)."""
    from .query.complete import complete

    p = parser()
    result = complete(text, cursor, stats, limit=limit, parser=p)
    if result.truncated and result.typed and len(result.candidates) < limit and _db_exists(db):
        from dataclasses import replace

        from .store.stats import lookup_values

        try:
            found = lookup_values(_db(db), result.key, result.typed, contains=result.op == "~", limit=limit,
                                  cached=cache)
        except Exception:
            return result
        k = stats.get(result.key)
        keys = tuple(replace(x, values=found, distinct=len(found)) if x is k else x for x in stats.keys)
        result = complete(text, cursor, replace(stats, keys=keys), limit=limit, parser=p)
    return result


def _db_exists(db: str | None) -> bool:
    return os.path.isfile(_db(db))


def print_candidates(text: str, *, db: str | None = None, cursor: int | None = None, plain: bool = False,
                     limit: int = 100, out=None, err=None) -> None:
    out = out or sys.stdout
    err = err or sys.stderr
    if cursor is not None and not 0 <= cursor <= len(text):
        from .errors import UsageError

        raise UsageError(f"--cursor {cursor} is outside the query (0..{len(text)})")
    result = candidates(text, cursor, load_stats(db), limit=limit, db=db)
    lines = []
    for c in result.candidates:
        full = result.replaced(text, c)
        lines.append(full if plain else f"{full}\t{c.meta}")
    if lines:
        out.write("\n".join(lines) + "\n")
    if result.hint and not plain:
        err.write(f"# {result.hint}\n")


# ---------------------------------------------------------------- shell completion callbacks


def _ctx_db(ctx) -> str | None:
    try:
        root = ctx.find_root()
        return root.params.get("db")
    except Exception:
        return None


def shell_query(ctx, incomplete: str) -> list:
    """Typer autocompletion for a QUERY argument: (full word, description) pairs."""
    try:
        db = _ctx_db(ctx)
        result = candidates(incomplete, None, load_stats(db, quiet_errors=True), db=db)
        return [(result.replaced(incomplete, c), c.meta) for c in result.candidates]
    except Exception:
        return []


def shell_keys(ctx, incomplete: str) -> list:
    """Typer autocompletion for a KEY argument: key names as stored, most used first."""
    try:
        stats = load_stats(_ctx_db(ctx), quiet_errors=True)
        keys = sorted((k for k in stats.keys if k.name.casefold().startswith(incomplete.casefold())),
                      key=lambda k: (-k.count, k.name))
        return [(k.name, f"{k.type} · {k.count:,} images") for k in keys]
    except Exception:
        return []


# ---------------------------------------------------------------- fast entry path

_GLOBAL_VALUE = {"--db", "--wait"}
_GLOBAL_FLAG = {"--quiet"}


def _parse_fast(argv: list) -> dict | None:
    """``[--db P] [--wait S] [--quiet] complete [--cursor N] [--plain] [--limit N] [--] PARTIAL``,
    or None for anything else (which the full Typer CLI then handles, errors and help included)."""
    opts: dict = {"db": None, "cursor": None, "plain": False, "limit": 100}
    i, seen_cmd, partial = 0, False, None
    while i < len(argv):
        a = argv[i]
        name, eq, val = a.partition("=")
        takes = {"--db", "--wait"} if not seen_cmd else {"--cursor", "--limit"}
        if a == "--" and seen_cmd:
            rest = argv[i + 1:]
            if len(rest) != 1 or partial is not None:
                return None
            partial = rest[0]
            break
        if name in takes:
            if not eq:
                if i + 1 >= len(argv):
                    return None
                val = argv[i + 1]
                i += 1
            try:
                if name == "--db":
                    opts["db"] = val
                elif name == "--wait":
                    float(val)
                else:
                    opts[name[2:]] = int(val)
            except ValueError:
                return None
        elif not seen_cmd and a in _GLOBAL_FLAG:
            pass
        elif seen_cmd and a == "--plain":
            opts["plain"] = True
        elif a.startswith("-"):
            return None
        elif not seen_cmd:
            if a != "complete":
                return None
            seen_cmd = True
        elif partial is None:
            partial = a
        else:
            return None
        i += 1
    if not seen_cmd or partial is None or opts["limit"] < 1:
        return None
    if opts["cursor"] is not None and not 0 <= opts["cursor"] <= len(partial):
        return None
    opts["partial"] = partial
    return opts


def _split_words(text: str) -> list:
    """Shell words as Click's ``split_arg_string`` reads them (an unclosed quote ends the last)."""
    import shlex

    lex = shlex.shlex(text, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out = []
    try:
        for tok in lex:
            out.append(tok)
    except ValueError:
        out.append(lex.token)
    return out


_QUERY_COMMANDS = {"search", "count", "export"}


def _fast_bash(env) -> bool:
    """Bash Tab on the QUERY of search/count/export, answered as Typer's bash protocol would
    (one completed word per line) but without loading Typer. Anything else: False."""
    try:
        words = _split_words(env["COMP_WORDS"])
        cword = int(env["COMP_CWORD"])
    except (KeyError, ValueError):
        return False
    args, incomplete = words[1:cword], (words[cword] if cword < len(words) else "")
    db, i = None, 0
    while i < len(args) and args[i].startswith("-"):
        name, eq, val = args[i].partition("=")
        if name in _GLOBAL_VALUE:
            if not eq:
                i += 1
                if i >= len(args):
                    return False
                val = args[i]
            db = val if name == "--db" else db
        elif args[i] not in _GLOBAL_FLAG:
            return False
        i += 1
    rest = args[i:]
    if not rest or rest[0] not in _QUERY_COMMANDS:
        return False
    if rest[1:] or incomplete.startswith("-"):
        return False
    try:
        result = candidates(incomplete, None, load_stats(db, quiet_errors=True), db=db)
    except Exception:
        return False
    sys.stdout.write("\n".join(result.replaced(incomplete, c) for c in result.candidates) + "\n")
    return True


def fast_main(argv: list) -> bool:
    """Run ``metastore complete`` (and bash's Tab on a query) without loading Typer when the
    arguments are plain; True if it ran. Anything else, and any error (a locked catalog), goes
    to the full CLI, which reports it."""
    mode = os.environ.get("_METASTORE_COMPLETE")
    if mode is not None:
        return mode == "complete_bash" and _fast_bash(os.environ)
    opts = _parse_fast(argv)
    if opts is None:
        return False
    try:
        print_candidates(opts["partial"], db=opts["db"], cursor=opts["cursor"], plain=opts["plain"],
                         limit=opts["limit"])
    except Exception:
        return False
    return True

