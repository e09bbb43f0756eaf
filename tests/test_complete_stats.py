"""What completion reads from the catalog (store/stats.py) and `metastore complete`: the stats,
the cache that spares a keypress the duckdb import, never-stale keys after writes, and the
command's output (fast path and Typer path print the same)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metastore import Catalog
from metastore.store.stats import cache_file, completion_stats

BIN = Path(sys.executable).parent


def _age(db: Path, seconds: float = 60) -> None:
    """Make the catalog look written a while ago (fresh files are never cached: racy stamps)."""
    old = time.time() - seconds
    os.utime(db, (old, old))


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}


@pytest.fixture
def db(tmp_path, env):
    csv = tmp_path / "a.csv"
    csv.write_text("path,location,temperature,weather,captured_at,reviewed,defects\n"
                   "a.jpg,warehouse-1,-5,rain,2024-01-15,true,\"rust, dent\"\n"
                   "b.jpg,warehouse-1,20.5,fog,2024-03-01T10:00:00Z,false,rust\n"
                   "c.jpg,dock a,45,rain,,true,\n")
    path = tmp_path / "cat.duckdb"
    cat = Catalog(path)
    assert cat.import_files([csv], types={"weather": "enum", "defects": "multi-enum"}).rows_failed == 0
    cat.tag(["a.jpg", "b.jpg"], add=["reviewed-by-ana"])
    _age(path)
    return path


def test_stats_hold_keys_values_ranges_and_tags(db):
    s = completion_stats(db)
    assert s.image_count == 3
    loc = s.get("location")
    assert (loc.type, loc.count, loc.values, loc.distinct) == ("string", 3, (("warehouse-1", 2), ("dock a", 1)), 2)
    t = s.get("temperature")
    assert (t.low, t.high) == ("-5", "45")
    assert s.get("weather").options == ("fog", "rain")
    assert s.get("defects").values == (("rust", 2), ("dent", 1))
    assert s.get("captured_at").low == "2024-01-15" and s.get("captured_at").high == "2024-03-01T10:00:00Z"
    assert dict(s.get("reviewed").values) == {"true": 2, "false": 1}
    assert s.tags == (("reviewed-by-ana", 2),)


def test_cache_is_used_and_never_stale_after_writes(db, tmp_path):
    first = completion_stats(db)
    cfile = cache_file(Path(os.path.abspath(db)))
    assert cfile.exists()
    assert completion_stats(db) == first
    csv = tmp_path / "b.csv"
    csv.write_text("path,camera\nd.jpg,cam-7\n")
    Catalog(db).import_files([csv])
    assert completion_stats(db).get("camera") is not None  # a new key right after the import
    _age(db)
    completion_stats(db)
    Catalog(db).set("a.jpg", [("location", "yard-9")])
    assert "yard-9" in dict(completion_stats(db).get("location").values)


def test_a_catalog_written_this_instant_is_not_cached(db):
    os.utime(db, None)
    completion_stats(db)
    assert not cache_file(Path(os.path.abspath(db))).exists()


def test_no_catalog_gives_empty_stats(tmp_path):
    assert completion_stats(tmp_path / "none.duckdb").keys == ()


def _run(args, env, module=False):
    cmd = [sys.executable, "-m", "metastore.cli"] if module else [str(BIN / "metastore")]
    return subprocess.run(cmd + args, env=env, capture_output=True, text=True)


def test_complete_command_output(db, env):
    r = _run(["--db", str(db), "complete", "location:wa"], env)
    assert r.returncode == 0 and r.stdout == "location:warehouse-1\t2 images\n"
    r = _run(["--db", str(db), "complete", "--plain", "weather:rain loc"], env)
    assert r.stdout.splitlines() == ["weather:rain location:", "weather:rain location=", "weather:rain location!=",
                                     "weather:rain location~"]
    r = _run(["--db", str(db), "complete", "--cursor", "10", "location:dock-a reviewed:true"], env)
    assert r.stdout == 'location:"dock a"\t1 image\n'
    r = _run(["--db", str(db), "complete", "temperature>"], env)
    # the count is what the completed query matches (issue 14), not the count of temperature=VALUE
    assert r.stdout.splitlines() == ["temperature>-5\t2 images", "temperature>20.5\t1 image", "temperature>45\tnumber"]
    assert r.stderr == "# number from -5 to 45 · 3 images\n"  # the range goes to stderr, never stdout


@pytest.mark.parametrize("args", [["complete", "location:"], ["complete", "--plain", "--limit", "1", "("],
                                  ["complete", "--", "-wea"], ["complete", "--cursor", "99", "x"]])
def test_fast_path_and_typer_path_agree(db, env, args):
    fast, slow = _run(["--db", str(db)] + args, env), _run(["--db", str(db)] + args, env, module=True)
    assert (fast.returncode, fast.stdout) == (slow.returncode, slow.stdout)


def test_a_cached_keypress_imports_no_duckdb_typer_or_rich(db, env):
    completion_stats(db)  # fill the cache
    code = ("import sys; sys.argv = ['metastore', '--db', sys.argv[1], 'complete', 'location:wa']\n"
            "from metastore.entry import main; main()\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'duckdb', 'typer', 'rich', 'pydantic', "
            "'prompt_toolkit', 'click'})\n"
            "print(heavy, file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code, str(db)], env=env, capture_output=True, text=True)
    assert r.stdout == "location:warehouse-1\t2 images\n"
    assert r.stderr.strip() == "[]"


def test_shell_completion_protocol_for_bash(db, env):
    words = f"metastore --db {db} search 'location:wa"
    r = subprocess.run([str(BIN / "metastore")], capture_output=True, text=True,
                       env={**env, "_METASTORE_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": "4"})
    assert r.stdout.split() == ["location:warehouse-1"]
    words = f"metastore --db {db} values te"
    r = subprocess.run([str(BIN / "metastore")], capture_output=True, text=True,
                       env={**env, "_METASTORE_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": "4"})
    assert r.stdout.split() == ["temperature"]


_TYPER_ONLY = "import sys; sys.argv[0] = 'metastore'; from metastore.cli import main; main()"


@pytest.mark.parametrize("words", ["metastore --db {db} search 'location:wa", "metastore --db={db} count 'wea",
                                   "metastore --db {db} --quiet search 'has:", "metastore --db {db} export '(",
                                   "metastore --db {db} search --limit 3 'loc", "metastore --db {db} values te"])
def test_bash_fast_path_and_typer_agree(db, env, words):
    words = words.format(db=db)
    cenv = {**env, "_METASTORE_COMPLETE": "complete_bash", "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1)}
    fast = subprocess.run([str(BIN / "metastore")], capture_output=True, text=True, env=cenv)
    slow = subprocess.run([sys.executable, "-c", _TYPER_ONLY], capture_output=True, text=True, env=cenv)
    assert fast.stdout.split("\n") == slow.stdout.split("\n") and fast.stdout


def test_values_beyond_the_cached_top_ones_are_looked_up(tmp_path, env, capsys):
    from metastore.completion import print_candidates
    from metastore.store.stats import TOP_VALUES

    n = TOP_VALUES + 50  # cam-000 … cam-099 twice (the cached top values), cam-100 … once
    csv = tmp_path / "cams.csv"
    csv.write_text("path,camera\n" + "".join(f"{i}-{j}.jpg,cam-{i:03}\n" for i in range(n)
                                            for j in range(2 if i < TOP_VALUES else 1)))
    path = tmp_path / "cams.duckdb"
    Catalog(path).import_files([csv])
    _age(path)
    assert len(completion_stats(path).get("camera").values) == TOP_VALUES
    print_candidates("camera:cam-14", db=str(path), plain=True)
    got = capsys.readouterr().out.split()
    assert got == [f"camera:cam-{i}" for i in range(140, 150)]  # none of them is cached
    print_candidates("camera~m-01", db=str(path), plain=True)  # contains: cam-010 … cam-019 (cached)
    assert len(capsys.readouterr().out.split()) == 10


def test_stats_round_trip_through_json(db):
    from metastore.query.complete import CompletionStats

    s = completion_stats(db)
    assert CompletionStats.from_dict(json.loads(json.dumps(s.to_dict()))) == s
