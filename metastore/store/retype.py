"""``metastore fields retype KEY TYPE``: change a key's type, to any type, without losing anything.

Every stored value is read as text (as ``types.text`` spells it) and read again as the new type
by the same SQL reader imports use (``codec.cast_expr``). Before anything changes, every current
value AND every value the key's history holds must fit; if one does not, nothing changes and the
error lists them (image, value, why). The retype is a source of its own (kind ``retype``, shown by
``metastore imports``… and ``metastore undo ID`` reverts it): its options record the old type and
the exact old text of every value whose spelling the new type cannot keep (``5.0`` read as a
number prints ``5``), in ``images`` and in ``history``, so that the undo gives back the very
text that was there.

History keeps the key's values in the key's current type: a retype converts them too.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass

from .. import schema as S
from .. import types as T
from ..errors import MetastoreError, NotFoundError, UsageError
from .codec import cast_expr, from_json_expr, to_json_expr
from .connection import quote
from .fields import load_fields
from .txn import atomic
from .writes import new_source

#: How many misfits an error lists.
SHOWN = 10


class RetypeRefused(MetastoreError):
    """Some value does not fit the new type: nothing was changed (exit 1)."""


@dataclass
class RetypeResult:
    field: S.Field
    source_id: int | None  # the retype's source id (None when the type was already that)
    values: int  # values converted
    history_values: int  # history values converted


@dataclass
class RetypeUndo:
    """``metastore undo ID`` of a retype."""

    retype_id: int
    undo_id: int
    key: str
    type: str  # the type restored
    values: int
    respelled: int  # values given back their exact old text


def as_text(c: str, type_: str) -> str:
    """SQL: a stored value of ``type_`` as the text ``types.text`` writes (what the retype reads)."""
    return T.TYPES[type_].to_text(c)


def _convert(c: str, old: str, new: str) -> str:
    """SQL: a stored value of type ``old`` as a value of type ``new`` (NULL where it does not fit)."""
    text = f"({as_text(c, old)})"
    t = T.TYPES[new]
    if t.fits_any:
        return text
    value = cast_expr(text, new)
    if t.options and not t.listed:
        return f"CASE WHEN length({value}) <= {S.MAX_OPTION_LENGTH} THEN {value} END"
    if t.options:
        return (f"CASE WHEN len({value}) > 0 AND NOT list_bool_or(list_transform({value}, "
                f"lambda x: length(x) > {S.MAX_OPTION_LENGTH})) THEN {value} END")
    return value


def _why(new: str) -> str:
    t = T.TYPES[new]
    if t.options and not t.listed:
        return f"is not {t.a} option (a name of at most {S.MAX_OPTION_LENGTH} characters)"
    if t.options:
        return f"is not a list of options of at most {S.MAX_OPTION_LENGTH} characters"
    return t.problem.strip()


def _field(con, name: str) -> S.Field:
    return S.Schema(tuple(load_fields(con))).require(name)


def check(con, f: S.Field, new: str) -> tuple[int, int]:
    """(current values, history values) of ``f``; raise RetypeRefused listing what does not fit."""
    c = quote(f.column)
    conv = _convert(c, f.type, new)
    n, bad = con.execute(f"SELECT count({c}), count(*) FILTER (WHERE {c} IS NOT NULL AND ({conv}) IS NULL) "
                         f"FROM images").fetchone()
    examples = con.execute(f"SELECT path, {as_text(c, f.type)} FROM images WHERE {c} IS NOT NULL AND ({conv}) IS NULL "
                           f"ORDER BY path LIMIT {SHOWN}").fetchall() if bad else []
    hist_n = hist_bad = 0
    hist_examples: list = []
    for side in ("old_value", "new_value"):
        v = from_json_expr(side, f.type)
        hconv = _convert(f"({v})", f.type, new)
        k, b = con.execute(f"SELECT count({side}), count(*) FILTER (WHERE {side} IS NOT NULL AND ({hconv}) IS NULL) "
                           f"FROM history WHERE field_id = ?", [f.id]).fetchone()
        hist_n += k
        hist_bad += b
        if b and len(hist_examples) < SHOWN:
            hist_examples += con.execute(
                f"SELECT coalesce(i.path, '(removed image)'), {as_text(f'({v})', f.type)}, h.source_id FROM history h "
                f"LEFT JOIN images i ON i.id = h.image_id WHERE h.field_id = ? AND {side} IS NOT NULL "
                f"AND ({hconv.replace(side, 'h.' + side)}) IS NULL LIMIT {SHOWN}", [f.id]).fetchall()
    if T.TYPES[new].options and not T.TYPES[new].listed and not bad:
        options = con.execute(f"SELECT count(DISTINCT {conv}) FROM images").fetchone()[0]
        if options > S.MAX_OPTIONS:
            raise RetypeRefused(f"key '{f.name}' has {options:,} distinct values; {T.TYPES[new].a} allows at most "
                                f"{S.MAX_OPTIONS}: nothing changed", help="keep it a string")
    if bad or hist_bad:
        what = _why(new)
        lines = [f"{p}: {t!r}" for p, t in examples]
        lines += [f"{p} (history of change {sid}): {t!r}" for p, t, sid in hist_examples[:SHOWN - len(lines)]]
        counted = f"{bad:,} of {n:,} values" + (f" and {hist_bad:,} values in its history" if hist_bad else "")
        raise RetypeRefused(
            f"cannot retype '{f.name}' to {new}: {counted} {'is' if bad + hist_bad == 1 else 'are'} not "
            f"readable as {new} (each {what}); nothing changed",
            help="; ".join(lines) + (" …" if bad + hist_bad > len(lines) else "")
                 + f" — fix them (metastore set PATH {f.name}=VALUE, or unset) and retype again")
    return n, hist_n


def retype(con, name: str, new: str, *, undo_of: int | None = None, own_txn: bool = True) -> RetypeResult:
    """Change key ``name`` to type ``new`` (in one transaction: its own, or the caller's)."""
    if new not in S.TYPES:
        raise UsageError(f"unknown type '{new}'", help=f"types are: {', '.join(S.TYPES)}")
    with atomic(con) if own_txn else nullcontext():
        f = _field(con, name)
        if f.type == new:
            return RetypeResult(f, None, 0, 0)
        n, hist_n = check(con, f, new)
        c = quote(f.column)
        conv = _convert(c, f.type, new)
        # The exact old texts the new type cannot spell back (for an undo), by image id.
        keep = []
        if f.kind.text_like and not f.kind.listed and not T.TYPES[new].fits_any:
            back = as_text(f"({conv})", new)
            keep = con.execute(f"SELECT id, {c} FROM images WHERE {c} IS NOT NULL AND {c} IS DISTINCT FROM ({back})"
                               ).fetchall()
        # History values too (the invariant: they decode with the key's current type): the exact
        # JSON text of each one that the conversion there and back would not give back.
        hist_keep = []
        for side in ("old_value", "new_value"):
            there = _convert(f"({from_json_expr(side, f.type)})", f.type, new)
            back = to_json_expr(_convert(f"({there})", new, f.type))
            hist_keep += [[sid_, img, side, text] for sid_, img, text in con.execute(
                f"SELECT source_id, image_id, {side} FROM history WHERE field_id = ? AND {side} IS NOT NULL "
                f"AND {side} IS DISTINCT FROM ({back})", [f.id]).fetchall()]
        options = {"field": f.id, "key": f.name, "from": f.type, "to": new, "spellings": keep,
                   "history_spellings": hist_keep}
        if undo_of is not None:
            options["undo_of"] = undo_of
        sid = new_source(con, "retype", f"{name}: {f.type} → {new}", status=None, options=json.dumps(options))
        con.execute(f"ALTER TABLE images ALTER COLUMN {c} SET DATA TYPE {S.SQL_TYPES[new]} USING {conv}")
        for side in ("old_value", "new_value"):
            value = _convert(f"({from_json_expr(side, f.type)})", f.type, new)
            con.execute(f"UPDATE history SET {side} = {to_json_expr(value)} WHERE field_id = ? AND {side} IS NOT NULL",
                        [f.id])
        opts = "[]"
        if T.TYPES[new].options:
            items = T.TYPES[new].each(c)
            opts = f"(SELECT coalesce(list_sort(list_distinct(list(x))), []) FROM (SELECT {items} AS x FROM images))"
        con.execute(f"UPDATE fields SET type = ?, options = {opts}, declared = true WHERE id = ?", [new, f.id])
    return RetypeResult(next(x for x in load_fields(con) if x.id == f.id), sid, n, hist_n)


def undo(con, retype_id: int) -> RetypeUndo:
    """Revert a retype: the key goes back to its old type (checked like any retype) and values whose
    text the retype respelled get their exact old text back, unless they were changed since."""
    row = con.execute("SELECT kind, options, undone_by FROM sources WHERE id = ?", [retype_id]).fetchone()
    if row is None or row[0] != "retype":
        raise NotFoundError(f"no retype with id {retype_id}")
    if row[2] is not None:
        raise MetastoreError(f"change {retype_id} was already undone (by {row[2]})")
    opts = json.loads(row[1] or "{}")
    fields = {f.id: f for f in load_fields(con)}
    f = fields.get(opts.get("field"))
    if f is None or "from" not in opts:
        raise MetastoreError(f"retype {retype_id} cannot be undone: its key is gone or it predates undoable retypes")
    if f.type != opts["to"]:
        raise MetastoreError(f"key '{f.name}' was retyped again after change {retype_id} (it is {f.kind.a} now)",
                             help="undo the later retype first (metastore imports lists them)")
    respelled = 0
    c, src = quote(f.column), quote(f.source_column)
    spellings = opts.get("spellings") or []
    with atomic(con):  # the conversion back, the old texts and the undo record: one transaction
        result = retype(con, f.name, opts["from"], undo_of=retype_id, own_txn=False)
        if spellings and opts["from"] in S.STRING_LIKE:
            ids = [i for i, _ in spellings]
            texts = [t for _, t in spellings]
            # only values still as the retype left them (nobody set them since it ran)
            respelled = con.execute(
                f"UPDATE images SET {c} = s.t FROM (SELECT unnest($ids) AS id, unnest($texts) AS t) s "
                f"WHERE images.id = s.id AND images.{c} IS NOT NULL AND (images.{src} IS NULL OR images.{src} < $rid)",
                {"ids": ids, "texts": texts, "rid": retype_id}).fetchone()[0]
        for side in ("old_value", "new_value"):  # history rows are never edited: all of them go back
            rows = [(sid_, img, text) for sid_, img, s, text in opts.get("history_spellings") or [] if s == side]
            if rows:
                con.execute(
                    f"UPDATE history SET {side} = s.t FROM (SELECT unnest($sids) AS sid, unnest($imgs) AS img, "
                    f"unnest($texts) AS t) s WHERE history.field_id = $fid AND history.source_id = s.sid "
                    f"AND history.image_id = s.img AND history.{side} IS NOT NULL",
                    {"sids": [r[0] for r in rows], "imgs": [r[1] for r in rows], "texts": [r[2] for r in rows],
                     "fid": f.id})
        uid = new_source(con, "undo", f"undo of retype {retype_id} (converted back by change {result.source_id})")
        con.execute("UPDATE sources SET undone_by = ? WHERE id = ?", [uid, retype_id])
    return RetypeUndo(retype_id, uid, f.name, opts["from"], result.values, respelled)
