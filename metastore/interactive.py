"""`metastore search -i`: a search bar in the terminal (prompt_toolkit).

- Completion as you type, from the same engine as the shell (:mod:`metastore.query.complete`).
- A bottom toolbar with the live match count, or the current error; the error's span is
  underlined in the query as you type.
- Enter prints the results table (``--limit``, default 20 rows) and asks again; Ctrl-D or
  Ctrl-C on an empty line quits.
- Ctrl-E prints the ``metastore export '…' --out …`` command for the current query.
- History of past queries (Up/Down, Ctrl-R) in ``$XDG_STATE_HOME/metastore/search_history``
  (default ``~/.local/state/metastore/search_history``), shared by every catalog.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app, run_in_terminal
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.lexers import Lexer

from .errors import MetastoreError

__all__ = ["SearchBar", "run", "history_file", "export_command"]

DEFAULT_ROWS = 20


def history_file() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "metastore" / "search_history"


def export_command(text: str, db: str | None = None) -> str:
    """The command that exports what ``text`` matches."""
    parts = ["metastore"] + (["--db", db] if db else []) + ["export"]
    if text.lstrip().startswith(("-", "!")):
        parts += ["-q", text]  # a leading '-' would read as an option
    else:
        parts += [text]
    parts += ["--out", "export"]
    return " ".join(shlex.quote(p) for p in parts)


class _QueryCompleter(Completer):
    def __init__(self, bar: "SearchBar") -> None:
        self.bar = bar

    def get_completions(self, document: Document, complete_event):
        from .completion import candidates

        r = candidates(document.text, document.cursor_position, self.bar.stats, db=str(self.bar.catalog.path),
                       cache=True)
        for c in r.candidates:
            yield Completion(c.text, start_position=r.start - document.cursor_position, display=c.display,
                             display_meta=c.meta)


class _ErrorLexer(Lexer):
    """Underlines the span of the current query error."""

    def __init__(self, bar: "SearchBar") -> None:
        self.bar = bar

    def lex_document(self, document: Document):
        text = document.text
        _, issue = self.bar.status(text)

        def line(_lineno: int):
            if issue is None or not text:
                return [("", text)]
            start = max(0, min(issue[0], len(text)))
            end = max(start + 1, min(issue[1], len(text)))
            return [("", text[:start]), ("class:error-span", text[start:end]), ("", text[end:])]

        return line


class SearchBar:
    """The pieces of the search bar, usable without a terminal (tests drive them directly)."""

    def __init__(self, catalog, *, db: str | None = None, columns=(), sort=None, limit=None, stats=None,
                 parser=None) -> None:
        from .completion import load_stats
        from .completion import parser as make_parser

        self.catalog = catalog
        self.db = db
        self.columns = list(columns)
        self.sort = sort
        self.limit = DEFAULT_ROWS if limit is None else limit
        self.stats = stats if stats is not None else load_stats(db or str(catalog.path), quiet_errors=True)
        self.parser = parser or make_parser()
        self._memo: tuple[str, tuple] | None = None

    def status(self, text: str) -> tuple[str, tuple | None]:
        """(toolbar text, error span or None) for a query; memoised for the last text."""
        if self._memo is not None and self._memo[0] == text:
            return self._memo[1]
        try:
            n = self.catalog.search(text).count()
            out = (f"{n:,} image{'s' if n != 1 else ''} match   Enter: show · Ctrl-E: export command · "
                   f"Ctrl-D: quit", None)
        except MetastoreError as exc:
            issues = getattr(exc, "issues", None)
            if issues:
                first = issues[0]
                more = f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""
                out = (f"error: {first.message}{more}" + (f" — {first.help}" if first.help else ""),
                       (first.start, first.end))
            else:
                out = (f"error: {exc.message}", None)
        self._memo = (text, out)
        return out

    def toolbar(self, text: str) -> str:
        """The live count (or error), and the value hint where one applies (a number's range)."""
        from .query.complete import complete

        line = self.status(text)[0]
        try:
            hint = complete(text, None, self.stats, parser=self.parser).hint
        except Exception:  # pragma: no cover - the engine does not raise
            hint = None
        return f"{line}\n{hint}" if hint else line

    def show(self, text: str) -> None:
        """Enter: the results table (or the error with its caret)."""
        from . import render

        try:
            result = self.catalog.search(text, columns=self.columns, sort=self.sort, limit=self.limit)
            render.results(result, "table")
        except MetastoreError as exc:
            if getattr(exc, "issues", None) is not None:
                render.query_error(exc, text)
            else:
                render.error(exc.message, exc.help)

    def export_command(self, text: str) -> str:
        return export_command(text, self.db)

    def session(self, *, input=None, output=None, history=None) -> PromptSession:
        from prompt_toolkit.styles import Style

        kb = KeyBindings()

        @kb.add("c-e")
        def _export(event) -> None:
            cmd = self.export_command(event.app.current_buffer.text)
            run_in_terminal(lambda: print(cmd, flush=True))

        if history is None:
            try:
                path = history_file()
                path.parent.mkdir(parents=True, exist_ok=True)
                history = FileHistory(str(path))
            except OSError:
                history = InMemoryHistory()
        style = Style.from_dict({"error-span": "underline fg:ansired", "bottom-toolbar": "noreverse"})
        return PromptSession(
            "search> ", completer=_QueryCompleter(self), complete_while_typing=True, complete_in_thread=True,
            lexer=_ErrorLexer(self),
            bottom_toolbar=lambda: self.toolbar(get_app().current_buffer.text), key_bindings=kb, history=history,
            style=style, input=input, output=output, enable_history_search=False)

    def loop(self, initial: str = "", *, input=None, output=None, history=None) -> None:
        session = self.session(input=input, output=output, history=history)
        default = initial
        while True:
            try:
                text = session.prompt(default=default)
            except KeyboardInterrupt:
                default = ""
                continue
            except EOFError:
                return
            default = ""
            self.show(text)


def run(catalog, initial: str = "", *, columns=(), sort=None, limit=None, db=None, input=None, output=None,
        history=None) -> None:
    """Open the search bar on ``catalog`` until Ctrl-D."""
    SearchBar(catalog, db=db, columns=columns, sort=sort, limit=limit).loop(
        initial, input=input, output=output, history=history)
