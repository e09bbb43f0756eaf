"""The zero-result hint of ``search`` and ``count``: one likely intended reading that finds images.

:func:`zero_result_hint` is the one function both the Typer commands and a fast start-up path
call, and only when a query found nothing (a search that finds images never pays for it).
"""

from __future__ import annotations


def zero_result_hint(catalog, text: str, *, tries: int = 5) -> str | None:
    """A hint for a query that matched nothing, or None. Counts at most ``tries`` rewrites."""
    from .errors import QueryError
    from .query import parse
    from .query.hints import candidates

    try:
        node = parse(text)
        schema = catalog.schema()
    except QueryError:
        return None
    for i, (message, alt) in enumerate(candidates(text, node, schema)):
        if i >= tries:
            break
        try:
            n = catalog.search(alt).count()
        except QueryError:
            continue
        if n:
            return f"{message} ({n:,} image{'s' if n != 1 else ''})"
    return None


__all__ = ["zero_result_hint"]
