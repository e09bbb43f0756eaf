"""One exception root for everything a user can get wrong.

``str(err)`` is always one plain line (no ANSI codes, no caret drawing); rendering adds the
colour and the underline. Each error carries the exit code the CLI uses for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def plain(text: str | None) -> str | None:
    """Control characters (ESC, NUL, newlines…) as visible escapes: a message quoting user text
    stays one line and cannot drive the terminal (``'\x1b[31m'`` is shown, not obeyed)."""
    if text is None or not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class MetastoreError(Exception):
    """Root of every error metastore raises on purpose. Exit code 1 (a user error)."""

    exit_code = 1

    def __init__(self, message: str, help: str | None = None) -> None:
        message, help = plain(message), plain(help)
        super().__init__(message)
        self.message = message
        self.help = help

    def __str__(self) -> str:
        return self.message


class UsageError(MetastoreError):
    """A bad option or option value (exit 2)."""

    exit_code = 2


class CatalogLockedError(MetastoreError):
    """The catalog is locked by another process or cannot be read (exit 4)."""

    exit_code = 4


class CatalogError(MetastoreError):
    """The catalog file is unreadable, of an unknown newer schema, or inconsistent (exit 4)."""

    exit_code = 4


class NotFoundError(MetastoreError):
    """An unknown image, key or import id (exit 1)."""


class ImportFailed(MetastoreError):
    """An import that wrote nothing (exit 1); carries the report when there is one."""

    def __init__(self, message: str, help: str | None = None, report=None) -> None:
        super().__init__(message, help)
        self.report = report


class ExportError(MetastoreError):
    """An export that was refused (unsafe path, existing output, missing media)."""


@dataclass
class QueryIssue:
    """One problem in a query: a message, a 0-based end-exclusive span, and one help line."""

    message: str
    start: int
    end: int
    help: str | None = None
    kind: str = "error"

    def __post_init__(self) -> None:
        self.message, self.help = plain(self.message), plain(self.help)

    def to_dict(self) -> dict:
        return {"message": self.message, "start": self.start, "end": self.end, "help": self.help}


class QueryError(MetastoreError):
    """A query that cannot run. Carries every issue found (syntax errors stop at the first).

    ``start``/``end``/``help`` mirror the first issue so the common case reads naturally.
    """

    def __init__(self, issues: list[QueryIssue] | QueryIssue, query: str = "") -> None:
        if isinstance(issues, QueryIssue):
            issues = [issues]
        if not issues:
            raise ValueError("QueryError needs at least one issue")
        first = issues[0]
        super().__init__(first.message, first.help)
        self.issues: list[QueryIssue] = list(issues)
        self.query = query
        self.start = first.start
        self.end = first.end

    def __str__(self) -> str:
        if len(self.issues) == 1:
            return self.message
        return f"{self.message} (and {len(self.issues) - 1} more)"

    def to_dict(self) -> dict:
        d = self.issues[0].to_dict()
        d["errors"] = [i.to_dict() for i in self.issues]
        return d


class QuerySyntaxError(QueryError):
    """The text does not parse."""


class QuerySemanticError(QueryError):
    """The text parses but names unknown keys, options, or mismatched types."""


__all__ = [
    "MetastoreError",
    "UsageError",
    "CatalogLockedError",
    "CatalogError",
    "NotFoundError",
    "ImportFailed",
    "ExportError",
    "QueryIssue",
    "QueryError",
    "QuerySyntaxError",
    "QuerySemanticError",
]
