"""The import rules the README and the style guide state: only ``metastore/store/`` imports
duckdb; the store imports nothing above it (the Catalog facade, export, rendering, the CLI);
the query package and the type table do no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "metastore"
MODULES = sorted(p for p in PKG.rglob("*.py"))
#: Modules above the store: the store must never import them.
ABOVE_STORE = ("metastore.catalog", "metastore.export", "metastore.render", "metastore.cli", "metastore.web",
               "metastore.interactive", "metastore.completion", "metastore.entry")
#: Standard modules that do I/O (files, processes, network).
IO_MODULES = {"os", "io", "shutil", "subprocess", "socket", "tempfile", "glob", "sqlite3", "urllib", "http",
              "duckdb", "pathlib"}


def _name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _name(path) if path.name == "__init__.py" else _name(path).rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_only_the_store_imports_duckdb(path):
    if _name(path).startswith("metastore.store"):
        return
    assert not any(m == "duckdb" or m.startswith("duckdb.") for m in _imports(path))


@pytest.mark.parametrize("path", [p for p in MODULES if _name(p).startswith("metastore.store")], ids=_name)
def test_the_store_imports_nothing_above_it(path):
    bad = sorted(m for m in _imports(path) if m.startswith(ABOVE_STORE))
    assert not bad, bad


@pytest.mark.parametrize("path", [p for p in MODULES if _name(p).startswith("metastore.query")]
                         + [PKG / "types.py", PKG / "schema.py", PKG / "infer.py"], ids=_name)
def test_the_query_package_and_the_type_table_do_no_io(path):
    imported = _imports(path)
    bad = sorted(m for m in imported if m.split(".")[0] in IO_MODULES or m.startswith("metastore.store"))
    if _name(path) == "metastore.query.parser":  # reads its own grammar file, once
        bad = [m for m in bad if m.split(".")[0] != "pathlib"]
    assert not bad, bad
    calls = [n.func.id for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("open", "print", "input")]
    assert not calls, calls


def test_importing_the_query_package_loads_no_duckdb():
    code = ("import sys, metastore.query, metastore.types, metastore.infer; "
            "sys.exit('duckdb' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
