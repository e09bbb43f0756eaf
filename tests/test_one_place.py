"""One fact in one place, checked on the source: the TEMP tables the store passes between steps
are named only in ``store/handoff.py`` (SQL elsewhere uses the names, never the literal text),
and only the type table (``types.py``) decides anything by a type's name.

Each check reads the modules' string literals (f-strings with their ``{…}`` parts blanked), so
it judges the SQL text the code writes, not comments or docstrings.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from metastore import types as T
from metastore.store import handoff

PKG = Path(__file__).resolve().parents[1] / "metastore"
MODULES = sorted(PKG.rglob("*.py"))


def _name(path: Path) -> str:
    return str(path.relative_to(PKG.parent).with_suffix(""))


def string_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal that is not a docstring; an f-string's ``{…}`` parts
    become ``{}``."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    inside_fstring = set()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                inside_fstring.add(id(v))
                parts.append(v.value if isinstance(v, ast.Constant) else "{}")
            out.append((node.lineno, "".join(parts)))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and id(node) not in inside_fstring):
            out.append((node.lineno, node.value))
    return out


_NAMES = "|".join(re.escape(t) for t in handoff.TABLES)
#: A temp table written as text in SQL: after a keyword that takes a table, or qualifying a column.
_TEMP_IN_SQL = re.compile(
    rf"\b(FROM|JOIN|INTO|TABLE|VIEW|UPDATE)\s+({_NAMES})\b|\b({_NAMES})\.[A-Za-z_{{]"
    rf"|\b{re.escape(handoff.raw_table(0)[:-1])}\{{\}}")


def temp_names_in_sql(source: str) -> list[str]:
    out = []
    for line, text in string_literals(source):
        sql = re.sub(r"'[^']*'", "''", text)  # SQL string literals are values, not names
        out += [f"line {line}: {m.group(0)!r}" for m in _TEMP_IN_SQL.finditer(sql)]
    return out


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "handoff.py"], ids=_name)
def test_temp_tables_are_named_only_in_handoff(path):
    found = temp_names_in_sql(path.read_text(encoding="utf-8"))
    assert not found, f"use the names of store/handoff.py: {found}"




# ---------------------------------------------------------------- field types: one row each


#: The names of the type constants (``STRING``, ``NUMBER`` … and any row added since).
TYPE_CONSTANTS = {n for n, v in vars(T).items() if n.isupper() and isinstance(v, str) and v in T.TYPES}
assert {getattr(T, c) for c in TYPE_CONSTANTS} == set(T.TYPES)
#: Tables keyed by type allowed outside ``types.py``, and why.
KEYED_BY_TYPE_OK = {
    "metastore/query/operators.py": "the operator table: an operator's phrase for one type (':' on a "
                                    "multi-enum 'contains the option'); a new type takes the default",
}


def _is_type_name(node) -> bool:
    if isinstance(node, ast.Name):
        return node.id in TYPE_CONSTANTS
    if isinstance(node, ast.Attribute):
        return node.attr in TYPE_CONSTANTS
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_type_name(e) for e in node.elts)
    return False


def _is_type_literal(node) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in T.TYPES
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_type_literal(e) for e in node.elts)
    return False


def _names_a_type(node) -> bool:
    """``f.type``, ``type_``, ``declared_type``: an expression holding a type's name."""
    if isinstance(node, ast.Attribute):
        return node.attr == "type"
    return isinstance(node, ast.Name) and "type" in node.id


def type_branches(source: str, *, tables_ok: bool = False) -> list[str]:
    """Places that decide by a type's name: a comparison with a type constant (``f.type ==
    S.NUMBER``, ``k.type in (ENUM, MULTI_ENUM)``) or with a type's name as text next to
    something called type (``f.type == "enum"``), and dicts keyed by type constants."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_type_name(s) for s in sides) or (
                    any(_is_type_literal(s) for s in sides) and any(_names_a_type(s) for s in sides)):
                out.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Dict) and not tables_ok:
            if any(k is not None and _is_type_name(k) for k in node.keys):
                out.append(f"line {node.lineno}: a dict keyed by type")
    return out


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "types.py"], ids=_name)
def test_only_the_type_table_decides_by_type_name(path):
    """Adding a type is one row of ``types.TYPES``: elsewhere code asks the row (``f.kind.ordered``,
    ``.listed``, ``.options``, ``.facet``, ``.query`` …), never which type it is."""
    rel = str(path.relative_to(PKG.parent))
    found = type_branches(path.read_text(encoding="utf-8"), tables_ok=rel in KEYED_BY_TYPE_OK)
    assert not found, f"ask the type's row (types.FieldType) instead: {found}"


#: Each check against a few lines written to fail it (True) or to pass it (False).
@pytest.mark.parametrize("check, snippet, caught", [
    (temp_names_in_sql, 'con.execute("SELECT count(*) FROM stage")', True),
    (temp_names_in_sql, 'con.execute(f"INSERT INTO errs SELECT {x}")', True),
    (temp_names_in_sql, 'x = f"CREATE TEMP TABLE inc AS SELECT 1"', True),
    (temp_names_in_sql, 'x = f"{a} = inc._id"', True),
    (temp_names_in_sql, 'x = "rv.old_value"', True),
    (temp_names_in_sql, 'raw = f"raw{index}"', True),
    (temp_names_in_sql, 'x = "DROP TABLE undone"', True),
    (temp_names_in_sql, 'con.execute(f"SELECT count(*) FROM {STAGE}")', False),
    (temp_names_in_sql, '"""Reads the stage view."""', False),
    (temp_names_in_sql, "x = \"INSERT INTO errs_log VALUES ('from stage')\"", False),
    (temp_names_in_sql, 'msg = "undone imports stay undone"', False),
    (type_branches, "if f.type == S.NUMBER: pass", True),
    (type_branches, "x = k.type in (ENUM, MULTI_ENUM)", True),
    (type_branches, "ok = new != S.STRING", True),
    (type_branches, "y = f.type == 'multi-enum'", True),
    (type_branches, "ok = type_ in ('string', 'enum', 'link')", True),
    (type_branches, "d = {S.BOOLEAN: 'booleans'}", True),
    (type_branches, "if f.kind.ordered: pass", False),
    (type_branches, "x = T.TYPES[f.type].listed", False),
    (type_branches, "kind = S.DATETIME", False),
    (type_branches, "if name == 'string': pass", False),  # Spark's own type names
    (type_branches, "if f.kind.query == 'number': pass", False),  # how a query reads the value, from the row
], ids=lambda x: x.__name__ if callable(x) else None)
def test_each_check_sees_what_it_should(check, snippet, caught):
    assert bool(check(snippet)) is caught
