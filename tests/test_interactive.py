"""`metastore search -i`: the search bar driven through prompt_toolkit's test pipes
(create_pipe_input + DummyOutput), and its parts (completer, toolbar, export command) directly."""

from __future__ import annotations

import pytest

pytest.importorskip("prompt_toolkit")

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from metastore import Catalog
from metastore.interactive import SearchBar, export_command


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("interactive")
    csv = tmp / "meta.csv"
    rows = ["path,location,temperature"]
    rows += [f"img/{i:02}.jpg,warehouse-{1 + i % 3},{i}" for i in range(12)]
    rows += ["img/dock.jpg,dock a,50"]
    csv.write_text("\n".join(rows) + "\n")
    cat = Catalog(tmp / "cat.duckdb")
    assert cat.import_files([csv]).rows_failed == 0
    return cat


@pytest.fixture
def bar(catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return SearchBar(catalog, db=str(catalog.path))


def _completions(bar, text, cursor=None):
    doc = Document(text, len(text) if cursor is None else cursor)
    return [(c.text, c.start_position, c.display_meta_text)
            for c in bar.session(history=FileHistory("/dev/null")).completer.get_completions(doc, CompleteEvent())]


def test_completer_uses_the_engine(bar):
    got = _completions(bar, "location:wa")
    assert [t for t, _, _ in got] == ["warehouse-1", "warehouse-2", "warehouse-3"]
    assert {s for _, s, _ in got} == {-2}  # replaces 'wa'
    assert got[0][2] == "4 images"
    assert _completions(bar, 'location:"do')[0][:2] == ('"dock a"', -3)


def test_toolbar_shows_live_count_or_error(bar):
    assert bar.toolbar("location:warehouse-1").startswith("4 images match")
    assert bar.toolbar("").startswith("13 images match")
    err = bar.toolbar("locaton:x")
    assert err.startswith("error: unknown key 'locaton'") and "location" in err
    assert bar.status("temperature>")[1] is not None  # the span the lexer underlines
    assert bar.toolbar("temperature>").endswith("\nnumber from 0 to 50 · 13 images")  # the range hint


def test_export_command_is_quoted_for_the_shell():
    assert export_command("location:'dock a'") == "metastore export 'location:'\"'\"'dock a'\"'\"'' --out export"
    assert export_command("-weather:rain", "c.duckdb") == "metastore --db c.duckdb export -q -weather:rain --out export"


def test_session_enter_prints_results_ctrl_e_prints_export_and_history_is_kept(bar, tmp_path, capsys):
    history = tmp_path / "history"
    with create_pipe_input() as inp:
        inp.send_text("location:warehouse-2\r")      # Enter: the results table
        inp.send_text("temperature>10\x05")          # Ctrl-E: the export command
        inp.send_text("\x15locaton:x\r")             # Ctrl-U, then a query with an error
        inp.send_text("\x04")                        # Ctrl-D on an empty line: quit
        bar.loop(input=inp, output=DummyOutput(), history=FileHistory(str(history)))
    out, err = capsys.readouterr()
    assert "img/01.jpg" in out and "img/04.jpg" in out and "img/00.jpg" not in out
    assert f"metastore --db {bar.db} export 'temperature>10' --out export" in out
    assert "unknown key 'locaton'" in err
    kept = history.read_text()
    assert "location:warehouse-2" in kept and "locaton:x" in kept


def test_cli_search_has_interactive_flag():
    from typer.testing import CliRunner

    from metastore.cli import app

    result = CliRunner().invoke(app, ["search", "--help"])
    assert "--interactive" in result.output
