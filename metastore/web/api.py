"""The JSON API of ``metastore serve``: plain functions from request parameters to JSON-ready
data, each calling the same library functions as the CLI (``Catalog.search``, ``.facets``,
``.show``, ``.history``, ``.export``, ``.set``/``.unset``/``.tag``, the completion engine).
No web framework here (``app.py`` maps routes to these), no SQL (only the store speaks to DuckDB).

Errors are ``MetastoreError``s; :func:`error_body` turns one into the JSON the page shows
(message, help, and for a query the span of every issue, as ``--format json`` prints them).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path, PurePosixPath
from typing import Sequence

from .. import schema as S
from ..errors import MetastoreError, NotFoundError, UsageError
from ..infer import value_json, value_text

#: The options of ``POST /api/export`` (those of ``metastore export``) and of its preview.
EXPORT_OPTIONS = frozenset({"query", "out", "format", "columns", "media", "media_root", "split", "group_by",
                            "sample", "seed", "limit", "sort", "force", "skip_missing", "split_column"})
PREVIEW_OPTIONS = EXPORT_OPTIONS - {"out", "force"}
#: Results per page the API returns at most.
MAX_PAGE = 500
#: Facet keys the page shows first (the most used keys of these types).
DEFAULT_FACETS = 6
_FACET_TYPES = (S.ENUM, S.MULTI_ENUM, S.BOOLEAN, S.NUMBER, S.DATETIME, S.STRING)


def error_body(exc: MetastoreError) -> dict:
    """``{"error": {message, help, start?, end?, errors?}}``; ``status`` is the HTTP code."""
    body = {"message": str(exc), "help": exc.help}
    if getattr(exc, "issues", None):
        body.update(exc.to_dict())
        body["message"] = exc.issues[0].message
    return {"error": body}


def error_status(exc: MetastoreError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if exc.exit_code == 4:
        return 503  # locked or unreadable catalog
    return 400


class Api:
    """One served catalog. Thread-safe: every call opens the catalog for itself (the normal
    read path, so writers in other processes get the lock between requests)."""

    def __init__(self, catalog, *, media_root: str | os.PathLike = ".", allow_edits: bool = False,
                 note=None) -> None:
        self.catalog = catalog
        self.note = note  # a line for the server's user (stderr), e.g. that optimize would help
        self.media_root = Path(media_root).resolve()
        self.allow_edits = allow_edits
        self._lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._stats = None
        self._warming = False
        self._known: dict[str, None] = {}  # catalog paths seen in results (bounded, most recent last)
        self._known_stamp = None  # the catalog's stamp when they were seen

    # -- completion stats (cached JSON, re-read when the catalog file changes) ----------------
    def stats(self):
        from ..completion import load_stats
        from ..store.stamp import stamp

        key = stamp(Path(os.path.abspath(self.catalog.path)))
        with self._stats_lock:  # one computation at a time (the warm-up thread and a request)
            if self._stats is None or self._stats[0] != key:
                self._stats = (key, load_stats(str(self.catalog.path), quiet_errors=True))
            return self._stats[1]

    def warm(self) -> None:
        """Load the completion stats in the background (a cache miss scans the catalog: ~1 s
        on a million images), once the first page of results is out: started with the server,
        the thread competed with the first page for the two cores."""
        with self._stats_lock:
            if self._warming:
                return
            self._warming = True
        self._warm_thread = threading.Thread(target=self._warm, name="metastore-stats", daemon=True)
        self._warm_thread.start()

    def _warm(self) -> None:
        self.stats()
        if self.note is None:
            return
        try:
            worth = self.catalog.worth_optimizing()
        except Exception:  # a note is never worth a failure (a writer holding the catalog, …)
            return
        if worth:
            self.note("note: this catalog stores its images out of path order, which makes pages of results "
                      "slower; run 'metastore optimize' once (nothing visible changes; docs/serve.md)")

    # -- the catalog as a whole ----------------------------------------------------------------
    def info(self) -> dict:
        """Keys, tags and the default facets, from the field table (cheap: no value scan)."""
        schema = self.catalog.schema()
        keys = [{"name": f.name, "type": f.type, "count": f.count} for f in schema.fields]
        ranked = sorted((f for f in schema.fields if f.type in _FACET_TYPES and f.count),
                        key=lambda f: (-f.count, _FACET_TYPES.index(f.type), f.name))
        facets = [f.name for f in ranked[:DEFAULT_FACETS]]
        if schema.tags and schema.get("tags") is None:  # the images' tags, first (store/facets.TAGS)
            keys.append({"name": "tags", "type": "tags", "count": None})
            facets = ["tags"] + facets[:DEFAULT_FACETS - 1]
        return {"catalog": str(self.catalog.path), "images": schema.image_count, "keys": keys,
                "tags": list(schema.tags), "facets": facets, "allow_edits": self.allow_edits,
                "media_root": str(self.media_root), "page_size": 100}

    # -- search ----------------------------------------------------------------------------------
    def search(self, q: str = "", *, sort: str | None = None, offset: int = 0, limit: int = 100,
               columns: Sequence[str] = (), after: str | None = None) -> dict:
        """One page of results. No ``count``: counting every match costs as much as the page
        again (a free-text query scans the whole catalog twice), so the page asks ``count``
        separately, in parallel; ``more`` says whether a next page exists (one row more is read).
        ``after``: start after the image at this path, in the order of ``sort`` (the next page:
        the last path of this one) — what keeps deep pages fast (see ``Catalog.search``)."""
        if not 0 <= limit <= MAX_PAGE:
            raise UsageError(f"limit must be between 0 and {MAX_PAGE}, got {limit}")
        result = self.catalog.search(q, columns=list(columns), sort=sort or None, limit=limit + 1, offset=offset,
                                     after=after or None)
        rows = result.rows()
        more = len(rows) > limit
        rows = rows[:limit]
        self._remember(r["path"] for r in rows)
        self.warm()
        return {"query": q, "offset": offset, "after": after or None, "limit": limit, "more": more, "sort": sort or "path",
                "columns": [{"name": f.name, "type": f.type} for f in result.columns],
                "rows": [{k: (v if k in ("path", "media_id") else value_json(v)) for k, v in r.items()}
                         for r in rows]}

    def count(self, q: str = "") -> dict:
        return {"query": q, "count": self.catalog.search(q).count()}

    def explain(self, q: str = "") -> dict:
        e = self.catalog.search(q).explain()
        return {"query": q, "interpretation": e.interpretation, "timezone": e.timezone, "total": e.total,
                "clauses": [{"text": t, "count": n} for t, n in e.clauses], "sql": e.sql}

    def complete(self, q: str = "", cursor: int | None = None, limit: int = 30) -> dict:
        from ..completion import candidates

        if cursor is not None and not 0 <= cursor <= len(q):
            raise UsageError(f"cursor {cursor} is outside the query (0..{len(q)})")
        r = candidates(q, cursor, self.stats(), limit=limit, db=str(self.catalog.path), cache=True)
        return {"query": q, "start": r.start, "cursor": r.cursor, "context": r.context, "hint": r.hint,
                "candidates": [{"text": c.text, "display": c.display, "meta": c.meta, "kind": c.kind,
                                "query": r.replaced(q, c) + q[r.cursor:]} for c in r.candidates]}

    def facets(self, keys: Sequence[str], q: str = "", *, bins: int = 20, top: int = 10) -> dict:
        from ..render import bucket_label

        items = self.catalog.facets(list(keys), q, bins=bins, top=top)
        out = []
        for f in items:
            buckets = []
            for b in f.buckets:
                clause = _clause(f, b)
                buckets.append({"label": bucket_label(f, b), "kind": b.kind, "count": b.count,
                                "value": value_json(b.value), "lower": value_json(b.lower),
                                "upper": value_json(b.upper), "clause": clause,
                                "exclude": _negate(clause) if clause else None, "bounds": _bounds(f, b)})
            out.append({"key": f.key, "type": f.type, "images": f.total, "histogram": f.histogram,
                        "step": f.step, "unit": f.unit, "buckets": buckets})
        return {"query": q, "facets": out}

    # -- one image -------------------------------------------------------------------------------
    def image(self, path: str) -> dict:
        info = self.catalog.show(path)
        self._remember([info.path])
        history = self.catalog.history(path)
        return {"path": info.path, "media_id": info.media_id, "tags": info.tags,
                "values": [{"key": v.key, "type": v.type, "value": value_json(v.value),
                            "text": value_text(v.value), "source_id": v.source_id, "source": v.source_kind,
                            "source_detail": v.source_detail, "at": value_json(v.at)} for v in info.values],
                "history": [{"at": value_json(h.ts), "key": h.key, "old": value_json(h.old),
                             "new": value_json(h.new), "source_id": h.source_id, "source": h.source}
                            for h in history],
                "file": self.file_state(info.path)}

    def file_state(self, path: str) -> str:
        """``ok``, ``missing``, or why the file is not served (outside the media root…)."""
        try:
            return "ok" if self.media_file(path, check_catalog=False).is_file() else "missing"
        except MetastoreError as exc:
            return str(exc)

    # -- files: only catalog paths under the media root -----------------------------------------
    def media_file(self, path: str, *, check_catalog: bool = True) -> Path:
        """The file of the catalog image ``path`` under the media root, resolved; refuses
        absolute paths, ``..``, and anything (symlinks included) that resolves outside the root."""
        if not path or "\x00" in path:
            raise UsageError("no image path given")
        # catalog paths use '/'; on POSIX a backslash is part of a file name (images\a.jpg is
        # not images/a.jpg), on Windows it would be a separator the checks below did not see
        pure = PurePosixPath(path)
        if (pure.is_absolute() or ".." in pure.parts or (len(path) > 1 and path[1] == ":")
                or (os.sep == "\\" and "\\" in path)):
            raise UsageError(f"'{path}' is not a relative path under the media root")
        if check_catalog and not self.is_catalog_path(path):
            raise NotFoundError(f"no image '{path}' in the catalog")
        try:
            target = (self.media_root / pure).resolve()
        except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
            raise UsageError(f"'{path}' cannot be resolved (a symlink loop?)") from None
        if target != self.media_root and self.media_root not in target.parents:
            raise UsageError(f"'{path}' leads outside the media root {self.media_root}")
        return target

    def is_catalog_path(self, path: str) -> bool:
        """Whether ``path`` is an image of the catalog now: paths seen in results are remembered
        while the catalog file's stamp holds (another process's import or undo changes it)."""
        with self._lock:
            if self._known_stamp_holds() and path in self._known:
                return True
        if path in self.catalog.known_paths([path]):
            self._remember([path])
            return True
        return False

    def _known_stamp_holds(self) -> bool:
        """(under the lock) Forget the remembered paths when the catalog changed; False while its
        stamp is too fresh to trust (a second write in the same tick, see store/stamp.py)."""
        from ..store.stamp import settled, stamp

        now = stamp(os.path.abspath(self.catalog.path))
        if now != self._known_stamp:
            self._known.clear()
            self._known_stamp = now
        return settled(now)

    def _remember(self, paths) -> None:
        with self._lock:
            self._known_stamp_holds()
            for p in paths:
                self._known.pop(p, None)
                self._known[p] = None
            while len(self._known) > 200_000:
                self._known.pop(next(iter(self._known)))

    # -- writes ----------------------------------------------------------------------------------
    def export(self, body: dict) -> dict:
        """The CLI's export, with the same option names (``query``, ``out``, ``format``, ``columns``,
        ``media``, ``media_root``, ``split``, ``group_by``, ``sample``, ``seed``, ``limit``,
        ``sort``, ``force``, ``skip_missing``); the report as ``metastore export --json`` prints it."""
        query, options = self._export_options(body, EXPORT_OPTIONS)
        out = options.pop("out")
        if not out:
            raise UsageError("give an output folder", help="e.g. ../rain-subset (relative to where serve runs)")
        return self.catalog.export(query, out, **options).to_dict()

    def export_preview(self, params: dict) -> dict:
        """What :meth:`export` would write with these options, writing nothing: the export itself
        run with ``dry_run`` (so the counts per split are the export's own, not a copy)."""
        query, options = self._export_options(params, PREVIEW_OPTIONS)
        from ..export import export

        report = export(self.catalog, query, None, dry_run=True, **options)
        return {"query": query, "matched": report.matched, "rows": report.rows,
                "splits": [{"name": s.name, "ratio": s.ratio, "count": s.count} for s in report.splits],
                "missing": len(report.missing), "media": report.media}

    def _export_options(self, body: dict, allowed: frozenset) -> tuple[str, dict]:
        """The export options of a request (JSON body or URL parameters), checked like the CLI's."""
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise UsageError(f"unknown export option '{unknown[0]}'", help=f"options: {', '.join(sorted(allowed))}")
        media = _text(body.get("media")) or None
        options = dict(
            media=media, media_root=_text(body.get("media_root")) or (str(self.media_root) if media else None),
            split=_text(body.get("split")) or None, group_by=_text(body.get("group_by")) or None,
            sample=whole_number(body.get("sample"), "sample"), seed=whole_number(body.get("seed"), "seed") or 0,
            limit=whole_number(body.get("limit"), "limit"), sort=_text(body.get("sort")) or None,
            skip_missing=_bool(body.get("skip_missing"), "skip_missing"),
            split_column=_text(body.get("split_column")) or "split")
        columns = body.get("columns") or []
        if isinstance(columns, str):
            columns = [c.strip() for c in columns.split(",") if c.strip()]
        if not isinstance(columns, list):
            raise UsageError("columns must be a list of keys or text like k1,k2")
        options.update(format=_text(body.get("format")) or "csv", columns=[str(c) for c in columns])
        if "out" in allowed:
            options.update(out=_text(body.get("out")), force=_bool(body.get("force"), "force"))
        return _text(body.get("query")) or "", options

    def edit(self, body: dict) -> dict:
        """``{"path", "set": {key: text}, "unset": [key], "add_tags": [..], "remove_tags": [..]}``,
        recorded as hand edits (``metastore set/unset/tag``); only with ``--allow-edits``."""
        if not self.allow_edits:
            raise UsageError("this server is read-only", help="restart it with: metastore serve --allow-edits")
        path = _text(body.get("path"))
        if not path:
            raise UsageError("give the image path")
        changed = {}
        sets = body.get("set") or {}
        if not isinstance(sets, dict):
            raise UsageError("'set' must be an object of key: value text")
        if sets:
            changed["set"] = self.catalog.set(path, [(str(k).strip(), str(v)) for k, v in sets.items()])
        unsets = [str(k) for k in body.get("unset") or []]
        if unsets:
            changed["unset"] = self.catalog.unset(path, unsets)
        add = [str(t) for t in body.get("add_tags") or []]
        remove = [str(t) for t in body.get("remove_tags") or []]
        if add or remove:
            changed["tagged"] = self.catalog.tag([path], add=add, remove=remove)
        if not changed:
            raise UsageError("nothing to do", help="give set, unset, add_tags or remove_tags")
        return {"path": path, "changed": changed, "image": self.image(path)}


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise UsageError(f"expected text, got {type(value).__name__}")
    return str(value).strip()


def _bool(value, name: str) -> bool:
    """A yes/no option: JSON true/false (or, in a URL, 1/0, true/false); anything else is refused
    rather than read as true (``"false"`` is a non-empty string)."""
    if value is None or value is False or value == "":
        return False
    if value is True:
        return True
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"{name} must be true or false, got '{value}'")


def whole_number(value, name: str) -> int | None:
    """A whole number (JSON or URL text); 2.5 or true is refused, not truncated."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise UsageError(f"{name} must be a whole number, got '{value}'") from None


def _clause(facet, b) -> str | None:
    """The query clause selecting a facet bucket (what a click adds), or None for ``(other)``."""
    from ..query.complete import key_text
    from ..query.complete import value_text as quoted

    if facet.type == "tags":  # the images' tags (store/facets.TAGS)
        return {"value": f"tag:{quoted(value_text(b.value or ''))}", "missing": "no:tag"}.get(b.kind)
    key = key_text(facet.key)
    if b.kind == "missing":
        return f"no:{key}"
    if b.kind == "value":
        return f"{key}:{quoted(value_text(b.value))}"
    if b.kind == "bin":
        return " ".join(_bounds(facet, b))
    return None


def _bounds(facet, b) -> list[str] | None:
    """A histogram bin's two clauses, ``[k>=lower, k<upper]``: dragging over bins joins the first
    bin's lower clause to the last one's upper clause."""
    from ..query.complete import key_text
    from ..query.complete import value_text as quoted

    if b.kind != "bin" or facet.type == "tags":
        return None
    key = key_text(facet.key)
    return [f"{key}>={quoted(value_text(b.lower))}", f"{key}<{quoted(value_text(b.upper))}"]


def _negate(clause: str) -> str:
    if clause.startswith("no:"):  # no:k / has:k, no:tag / has:tag
        return "has:" + clause[3:]
    return f"-({clause})" if " " in clause else f"-{clause}"
