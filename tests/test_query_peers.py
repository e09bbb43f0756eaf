"""Issue 13 through the real command: zero-result hints, --explain of grouped and ranged forms.

A real catalog file, the real console entry point in a subprocess (``run_cli``)."""

from __future__ import annotations

import pytest

CSV = """path,location,caption,score,captured_at
a.jpg,dock-a,red forklift near dock,5,2024-01-15T10:00:00Z
b.jpg,dock-b,make love not war,7,2024-02-01T00:00:00Z
c.jpg,warehouse-3,blue truck,2,2024-03-31T23:59:59Z
"""


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    import os
    import subprocess
    import sys

    tmp = tmp_path_factory.mktemp("peers")
    (tmp / "m.csv").write_text(CSV)

    def run(*args):
        env = {**os.environ, "COLUMNS": "300"}
        env.pop("METASTORE_DB", None)
        return subprocess.run([sys.executable, "-c", "from metastore.cli import main; main()", "--db",
                               str(tmp / "c.duckdb"), *args], capture_output=True, text=True, cwd=tmp, env=env)

    assert run("import", "m.csv").returncode == 0
    assert run("tag", "a.jpg", "--add", "v2").returncode == 0
    assert run("tag", "b.jpg", "--add", "reviewed").returncode == 0
    return run


HINTS = [  # query that finds nothing → the reading the hint offers (and how many it finds)
    ('location:"dock*"', "location:dock* (2 images)"),
    ('caption:"forklift near"', 'caption~"forklift near" finds values containing it (1 image)'),
    ("tag:v2,reviewed", "tag:[v2, reviewed] (2 images)"),
    ("score:5 7", "score:[5, 7] (2 images)"),
    ("love not war", "'not' is a keyword in any case; to search the words as text, quote them: \"love not war\" (1 image)"),
]


@pytest.mark.parametrize("query, hint", HINTS, ids=[q for q, _ in HINTS])
def test_zero_result_hint(cli, query, hint):
    r = cli("count", query)
    assert (r.returncode, r.stdout) == (0, "0\n")
    assert r.stderr.startswith("hint: ") and hint in r.stderr.replace("\n", " "), r.stderr
    r = cli("search", "--format", "csv", query)
    assert (r.returncode, r.stdout) == (0, "path,media_id\n")  # stdout as without a hint
    assert hint in r.stderr.replace("\n", " ")


def test_no_hint_when_nothing_likely_was_meant(cli):
    r = cli("count", "location:nowhere")
    assert (r.returncode, r.stdout, r.stderr) == (0, "0\n", "")
    r = cli("count", 'location:"dock*"')  # the hint's own reading is checked: it finds images
    assert "hint" in r.stderr


def test_no_hint_work_when_images_are_found(monkeypatch, capsys, tmp_path):
    """A search that finds images never computes a hint (the hint function would fail here)."""
    import sys

    from metastore import Catalog, cli, hints

    (tmp_path / "m.csv").write_text(CSV)
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([tmp_path / "m.csv"])
    monkeypatch.setattr(hints, "zero_result_hint", lambda *a, **k: pytest.fail("hint computed"))
    try:
        for args in (["count", "location:dock-a"], ["search", "--format", "paths", "location:dock-a"]):
            monkeypatch.setattr(sys, "argv", ["metastore", "--db", str(tmp_path / "c.duckdb"), *args])
            with pytest.raises(SystemExit) as info:
                cli.main()
                raise SystemExit(0)
            assert (info.value.code or 0) == 0
            assert capsys.readouterr().out.strip() in ("1", "a.jpg")
    finally:
        cat.close()  # reads keep a catalog attached (warm): leave none behind for other tests


def test_explain_shows_grouped_and_ranged_forms_expanded_with_key_names(cli):
    r = cli("search", "--explain", "--format", "paths", "location:(dock-a OR dock-b) score:[5 TO 7}")
    assert r.returncode == 0 and r.stdout == "a.jpg\n"
    err = " ".join(r.stderr.split())
    assert ('query: ((location (string) equals "dock-a" ignoring case OR location (string) equals "dock-b" '
            'ignoring case) AND (score (number) >= 5 AND score (number) < 7))') in err
    assert "columns: " in err and "= location (string)" in err and "= score (number)" in err
    assert "2 location:(dock-a OR dock-b)" in err and "1 score:[5 TO 7}" in err  # per-clause counts
