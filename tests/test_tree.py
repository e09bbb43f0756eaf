"""One traversal of the query trees: walk / find_all / Visitor over the AST and over the checked
tree, which reuses the AST's And/Or/Not; regex problems are the checker's, reported with the
others."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from metastore.errors import QuerySemanticError
from metastore.query import ast, check_text, find_all, parse, walk
from metastore.query.checker import Pred
from metastore.schema import Field, Schema

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
SCHEMA = Schema((Field("location", "string", 1, count=3), Field("temperature", "number", 2, count=3)),
                image_count=3)


def test_walk_is_depth_first_in_query_order():
    tree = parse("a (location:[x, y*] OR -temperature>3) path:/r/")
    kinds = [type(n).__name__ for n in walk(tree)]
    assert kinds == ["And", "FreeText", "Word", "Or", "Filter", "Key", "List", "Word", "Glob",
                     "Not", "Filter", "Key", "Word", "Path", "Regex"]


def test_find_all_reaches_values_inside_lists():
    tree = parse("location:[x, y*] OR path:/z/ OR -(tag:a* location:/w/)")
    assert [r.pattern for r in find_all(tree, ast.Regex)] == ["z", "w"]
    assert [g.parts for g in find_all(tree, ast.Glob)] == [("y", ""), ("a", "")]
    assert list(find_all(None, ast.Regex)) == []


def test_deep_trees_walk_without_recursion():
    node = ast.FreeText(ast.Word("x"))
    for _ in range(5000):
        node = ast.Not(node)
    assert sum(1 for _ in walk(node)) == 5002


def test_checked_tree_uses_the_ast_vocabulary():
    checked = check_text("location:a (temperature>3 OR -location:b)", SCHEMA, now=NOW)
    assert isinstance(checked.root, ast.And)
    assert isinstance(checked.root.items[1], ast.Or)
    assert isinstance(checked.root.items[1].items[1], ast.Not)
    assert [p.op for p in find_all(checked.root, Pred)] == ["eq_ci", "gt", "eq_ci"]


def test_regex_problems_come_from_the_checker_with_the_other_problems():
    seen = []

    def engine(pattern):
        seen.append(pattern)
        return "lookarounds are not supported" if "(?=" in pattern else None

    with pytest.raises(QuerySemanticError) as err:
        check_text("location:/(?=a)/ nope:1 location:/ok/", SCHEMA, now=NOW, regex_problem=engine)
    messages = [i.message for i in err.value.issues]
    assert messages[0] == "invalid regex /(?=a)/: lookarounds are not supported"
    assert messages[1].startswith("unknown key 'nope'")
    assert err.value.issues[0].start == len("location:")
    assert seen == ["(?=a)", "ok"]


def test_regex_rejected_by_duckdb_is_a_query_error(cat, tmp_path):
    from helpers import write

    cat.import_files([write(tmp_path / "a.csv", "path,location\na.jpg,dock\n")])
    with pytest.raises(QuerySemanticError) as err:
        cat.search("location:/(?=d)/ location:/(a)\\1/").paths()
    assert [i.message.split(":")[0] for i in err.value.issues] == ["invalid regex /(?=d)/", "invalid regex /(a)\\1/"]
