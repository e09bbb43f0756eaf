"""How an export writes files into ``--out``: the safety rules every writer path goes through.

* Nothing is written through a symlink: each file is written under a fresh temporary name
  (created with ``O_EXCL | O_NOFOLLOW``, or handed to a writer such as DuckDB's COPY after any
  old entry of that name is removed) and then *renamed* over the final name, which replaces a
  link itself, never its target.
* The files appear at the end, ``export.json`` last: :func:`begin` removes an old record before
  anything else is written, so a folder whose manifest has no ``export.json`` beside it is an
  interrupted export, and :func:`check_out` says so when the export is run again.
* Failing to create or write the folder (read-only, disk full) is one :class:`ExportError`, and
  the temporary files are removed.

Use: ``w = Writes(out, force)`` … ``tmp = w.temp(name)`` (write to ``tmp``) … ``w.publish()``
renames them all; ``w.abort()`` removes them. :meth:`Writes.write_text` does both steps for text.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ExportError

RECORD = "export.json"
TMP_PREFIX = ".metastore-tmp-"


def sha256(path: Path) -> str:
    """The SHA-256 of a file (hex), read in 1 MB pieces: what ``export.json`` records of the manifest."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_out(out: Path, force: bool) -> None:
    """Refuse an ``--out`` that is a file, or not empty without ``force`` (naming an interrupted
    export when the folder holds one)."""
    if os.path.lexists(out) and not out.is_dir():
        raise ExportError(f"--out {out} is a file, not a folder", help="--out names a folder the export creates")
    if not out.is_dir():
        return
    try:
        names = os.listdir(out)
    except OSError as exc:
        raise ExportError(f"cannot read --out {out}: {_why(exc)}") from None
    if names and not force:
        if RECORD not in names and any(n.startswith(("manifest.", TMP_PREFIX)) or n == "media" for n in names):
            raise ExportError(f"--out {out} holds an interrupted export (files but no {RECORD})",
                              help="pass --force to replace it, or choose a new folder")
        raise ExportError(f"--out {out} is not empty",
                          help="choose a new folder, or pass --force to replace the files export writes there")


def make_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create --out {out}: {_why(exc)}",
                          help="choose a folder you can write to") from None


class Writes:
    """The files one export writes into ``out``, published together at the end."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.pending: list[tuple[Path, Path]] = []  # (temporary, final)

    def begin(self) -> None:
        """Create ``out``, remove leftovers of an interrupted run and the old ``export.json`` (so
        nothing claims to be complete until this export is)."""
        make_out(self.out)
        try:
            for name in os.listdir(self.out):
                if name.startswith(TMP_PREFIX):
                    os.unlink(self.out / name)
            if os.path.lexists(self.out / RECORD):
                os.unlink(self.out / RECORD)
        except OSError as exc:
            raise ExportError(f"cannot write in --out {self.out}: {_why(exc)}") from None

    def temp(self, name: str) -> Path:
        """A fresh temporary path in ``out`` for the file ``name`` (nothing exists there)."""
        tmp = self.out / f"{TMP_PREFIX}{os.getpid()}-{len(self.pending)}-{name}"
        try:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        except OSError as exc:
            raise ExportError(f"cannot write in --out {self.out}: {_why(exc)}") from None
        self.pending.append((tmp, self.out / name))
        return tmp

    def write_text(self, name: str, text: str) -> Path:
        """Write ``name`` under its temporary name (never following a link); returns that path."""
        tmp = self.temp(name)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except OSError as exc:
            self.abort()
            raise ExportError(f"cannot write {self.out / name}: {_why(exc)}",
                              help="free some space or choose another --out" if exc.errno == 28 else None) from None
        return tmp

    def failed(self, name: str, exc: OSError) -> ExportError:
        """The error for a writer (e.g. DuckDB COPY) that failed on ``name``; removes the temporaries."""
        self.abort()
        return ExportError(f"cannot write {self.out / name}: {_why(exc) if isinstance(exc, OSError) else exc}")

    def publish(self) -> None:
        """Rename every pending file to its final name (a rename replaces a link, not its target)."""
        try:
            for tmp, final in self.pending:
                if final.is_dir() and not final.is_symlink():
                    raise ExportError(f"{final} is a folder", help="remove it, or export into a new folder")
                os.replace(tmp, final)
        except OSError as exc:
            self.abort()
            raise ExportError(f"cannot write in --out {self.out}: {_why(exc)}") from None
        except ExportError:
            self.abort()
            raise
        self.pending = []

    def abort(self) -> None:
        for tmp, _ in self.pending:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        self.pending = []


def publish(writes: Writes) -> None:
    """Publish an export's files (module-level so tests can interrupt an export right here)."""
    writes.publish()


__all__ = ["RECORD", "Writes", "check_out", "make_out", "publish"]
