"""Declaring a key by hand (``metastore fields declare``), in one transaction. (``fields retype``
is ``retype.py``.)"""

from __future__ import annotations

from typing import Sequence

from .. import schema as S
from .. import types as T
from ..errors import UsageError
from .fields import load_fields
from .txn import atomic
from .writes import create_field


def declare_field(con, name: str, type_: str, *, options: Sequence[str] = (), locked: bool = False) -> S.Field:
    if type_ not in S.TYPES:
        raise UsageError(f"unknown type '{type_}'", help=f"types are: {', '.join(S.TYPES)}")
    problem = S.key_problem(name)
    if problem:
        raise UsageError(f"invalid key '{name}': {problem}")
    if options and not T.TYPES[type_].options:
        raise UsageError("--options only applies to " + " and ".join(n for n, t in T.TYPES.items() if t.options)
                         + " fields")
    bad = [o for o in options if len(o) > S.MAX_OPTION_LENGTH]
    if bad:
        raise UsageError(f"option '{bad[0]}' is longer than {S.MAX_OPTION_LENGTH} characters")
    with atomic(con):
        existing = {f.name: f for f in load_fields(con)}
        if name in existing:
            f = existing[name]
            if f.type != type_:
                raise UsageError(
                    f"key '{name}' is already {f.kind.a}",
                    help=f"to widen it: metastore fields retype {name} {type_}" if T.TYPES[type_].fits_any else None)
            con.execute(
                "UPDATE fields SET declared = true, locked = ?, "
                "options = list_sort(list_distinct(list_concat(options, ?))) WHERE id = ?",
                [locked or f.locked, list(options), f.id])
        else:
            create_field(con, name, type_, declared=True, locked=locked, options=options)
    return next(x for x in load_fields(con) if x.name == name)


__all__ = ["declare_field"]
