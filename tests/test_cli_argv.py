"""A query that starts with '-' on the command line (issue 13): ``metastore count '-dx:nv'``."""

from __future__ import annotations

import pytest
import typer

from metastore.argv import GLOBAL_FLAGS, GLOBAL_VALUE_OPTIONS, QUERY_COMMANDS, protect_query
from metastore.cli import app


@pytest.mark.parametrize("argv, want", [
    (["count", "-dx:nv"], ["count", "--", "-dx:nv"]),
    (["--db", "x.duckdb", "search", "-weather:rain", "--format", "csv"],
     ["--db", "x.duckdb", "search", "--format", "csv", "--", "-weather:rain"]),
    (["search", "--format", "csv", "-c", "a,b", "!reviewed:true"], ["search", "--format", "csv", "-c", "a,b", "!reviewed:true"]),
    (["search", "--format", "csv", "-forklift"], ["search", "--format", "csv", "--", "-forklift"]),
    (["search", "-n5", "-fcsv", "-(a OR b)"], ["search", "-n5", "-fcsv", "--", "-(a OR b)"]),
    (["search", "-n", "-5"], ["search", "-n", "-5"]),  # the value of -n, not a query
    (["search", "-nx:1"], ["search", "--", "-nx:1"]),  # -n takes digits: this is a query
    (["export", "-tag:v2", "--out", "d"], ["export", "--out", "d", "--", "-tag:v2"]),
    (["count", "-q", "a", "-x:1"], ["count", "-q", "a", "--", "-x:1"]),
    (["search", "--", "-weather:rain"], ["search", "--", "-weather:rain"]),
    (["search", "weather:rain", "--explain"], ["search", "weather:rain", "--explain"]),
    (["search", "--explain", "-h"], ["search", "--explain", "-h"]),
    (["facets", "weather", "-q", "-x:1"], ["facets", "weather", "-q", "-x:1"]),  # not a query command
    (["--quiet", "--wait=3", "count", "-x"], ["--quiet", "--wait=3", "count", "--", "-x"]),
    (["keys"], ["keys"]),
])
def test_protect_query(argv, want):
    assert protect_query(argv) == want


def _options(command) -> tuple[set, set]:
    values, flags = set(), set()
    for p in command.params:
        if p.param_type_name != "option":
            continue
        names = set(p.opts) | set(p.secondary_opts)
        (flags if p.is_flag else values).update(names)
    return values, flags


def test_tables_match_the_typer_app():
    """The argv tables are the Typer app's real options (so they cannot drift apart)."""
    group = typer.main.get_command(app)
    for name, (values, flags) in QUERY_COMMANDS.items():
        real_values, real_flags = _options(group.commands[name])
        hint = f"metastore/argv.py QUERY_COMMANDS[{name!r}] must list the command's options"
        assert set(values) == real_values, hint
        assert set(flags) - {"-h", "--help"} == real_flags, hint
    real_values, real_flags = _options(group)
    assert GLOBAL_VALUE_OPTIONS == real_values
    assert real_flags - {"--install-completion", "--show-completion"} <= GLOBAL_FLAGS


@pytest.fixture
def catalog(tmp_path, run_cli):
    (tmp_path / "m.csv").write_text("path,dx,reviewed\na.jpg,nv,true\nb.jpg,mel,false\nc.jpg,nv,false\n")
    r = run_cli("import", "m.csv", "--type", "dx=enum")
    assert r.returncode == 0, r.stderr
    return run_cli


def test_a_query_starting_with_dash_runs(catalog):
    r = catalog("count", "-dx:nv")
    assert (r.returncode, r.stdout.strip(), r.stderr) == (0, "1", "")
    r = catalog("search", "--format", "paths", "-dx:nv", "--limit", "5")
    assert (r.returncode, r.stdout.split(), r.stderr) == (0, ["b.jpg"], "")
    r = catalog("count", "!reviewed:true")
    assert r.stdout.strip() == "2"
    # the documented forms still work
    assert catalog("count", "--", "-dx:nv").stdout.strip() == "1"
    assert catalog("count", "-q", "-dx:nv").stdout.strip() == "1"


def test_a_query_given_twice_is_a_clear_error(catalog):
    r = catalog("count", "-q", "dx:nv", "-dx:mel")
    assert r.returncode != 0 and r.stdout == ""
    assert "give the query once" in r.stderr and "No such option" not in r.stderr
