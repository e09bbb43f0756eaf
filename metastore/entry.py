"""The ``metastore`` console script.

``metastore complete …`` runs once per keypress (shell completion, editors), and a plain
``count``/``search`` is what scripts run in loops, so both are answered without loading Typer
(~0.1 s) whenever their arguments are plain (:mod:`metastore.completion`,
:mod:`metastore.fastpath`); everything else — and any error — goes to the Typer app in
:mod:`metastore.cli` and its one error boundary.
"""

from __future__ import annotations

import sys


def main(*, hard_exit: bool = False) -> None:
    argv = sys.argv[1:]
    if "count" in argv or "search" in argv:
        from .fastpath import fast_main as fast_query

        if fast_query(argv, hard_exit=hard_exit):
            return
    from .completion import fast_main

    if not fast_main(argv):
        from .cli import main as cli_main

        cli_main()


def console() -> None:
    """The console script: a process of its own, so a fast answer may end it at once."""
    main(hard_exit=True)


if __name__ == "__main__":
    console()
