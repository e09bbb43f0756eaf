"""The checked tree: what the checker produces and the compiler turns into SQL. Pure.

The AST's own ``And``/``Or``/``Not`` over ``Pred`` leaves (one tree vocabulary; :mod:`.ast`
walks and visits both). A ``Pred`` names an operator of the operator table (``op``), a target
(a Field, or the built-ins ``"path"``, ``"tags"``, ``"text"``) and its typed, already-resolved
arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from ..schema import Field
from . import ast

Target = Union[Field, str]  # a Field, or "path", "tags", "text"


@dataclass(frozen=True)
class Pred(ast.Tree):
    """One leaf condition. ``negated`` means "the key is present and the condition is false"
    (``k!=v``); ``each`` applies the condition to the items of a list column (any item)."""

    op: str
    target: Target
    args: tuple = ()
    negated: bool = False
    each: bool = False
    over: tuple = ()  # free text: the string-like fields searched
    # free text: per field of ``over``, None (search its values) or, for a key with options,
    # the options holding the text (its values are among them: searching them is the same)
    hits: tuple = ()
    span: tuple[int, int] = field(default=(0, 0), compare=False)


#: The checked tree's inner nodes are the AST's (these names stay for callers that used them).
CAnd, COr, CNot = ast.And, ast.Or, ast.Not

CNode = Union[Pred, ast.And, ast.Or, ast.Not]


@dataclass(frozen=True)
class Checked:
    """A checked query: the tree (None = every image) and the text it came from."""

    root: CNode | None
    text: str = ""


__all__ = ["Target", "Pred", "CAnd", "COr", "CNot", "CNode", "Checked"]
