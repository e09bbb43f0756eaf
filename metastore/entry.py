"""The ``metastore`` console script.

``metastore complete …`` runs once per keypress (shell completion, editors), so it is answered
without loading Typer (~0.1 s) whenever its arguments are plain; everything else — and any
error — goes to the Typer app in :mod:`metastore.cli` and its one error boundary.
"""

from __future__ import annotations

import sys


def main() -> None:
    from .completion import fast_main

    if not fast_main(sys.argv[1:]):
        from .cli import main as cli_main

        cli_main()


if __name__ == "__main__":
    main()
