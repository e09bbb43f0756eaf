"""One fact in one place, checked on the source: the TEMP tables the store passes between steps
are named only in ``store/handoff.py`` (SQL elsewhere uses the names, never the literal text).

Each check reads the modules' string literals (f-strings with their ``{…}`` parts blanked), so
it judges the SQL text the code writes, not comments or docstrings.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("snippet", [
    'con.execute("SELECT count(*) FROM stage")',
    'con.execute(f"INSERT INTO errs SELECT {x}")',
    'x = f"CREATE TEMP TABLE inc AS SELECT 1"',
    'x = f"{a} = inc._id"',
    'x = "rv.old_value"',
    'raw = f"raw{index}"',
    'x = "DROP TABLE undone"',
])
def test_the_check_sees_a_literal_name(snippet):
    assert temp_names_in_sql(snippet)


@pytest.mark.parametrize("snippet", [
    'con.execute(f"SELECT count(*) FROM {STAGE}")',
    '"""Reads the stage view."""',
    "x = \"INSERT INTO errs_log VALUES ('from stage')\"",
    'msg = "undone imports stay undone"',
])
def test_the_check_leaves_other_text_alone(snippet):
    assert not temp_names_in_sql(snippet)
