"""The in-memory value lists of a long-lived process (``lookup_values(cached=True)``: ``serve``,
the interactive search bar) answer exactly what the catalog lookup answers, and never a stale
answer: on real catalogs, for every string key, many prefixes and substrings, several limits."""

from __future__ import annotations

import os
import time

import pytest
from helpers import write
from realdata import realdata

from metastore import Catalog
from metastore.completion import candidates, load_stats
from metastore.store import stats as st


def _age(db, seconds: float = 60) -> None:
    """Make the catalog look written a while ago (what is read from a fresh file is not kept)."""
    old = time.time() - seconds
    os.utime(db, (old, old))


@pytest.fixture(autouse=True)
def _fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    st._values_cache.clear()
    yield
    st._values_cache.clear()


def _typed(values: list[str], most: int = 25) -> list[str]:
    """Prefixes and pieces of the stored values, in other cases too, plus some that match nothing
    (a spread of at most ``most``)."""
    out = {"", "zzzq", "0", "a", "A", "-", " "}
    for v in values[:300]:
        for n in (1, 2, 3, 5):
            out.update((v[:n], v[:n].upper(), v[1:1 + n].lower()))
    typed = sorted(t for t in out if t.isascii())
    return typed[::max(1, len(typed) // most)]


def _string_keys(cat) -> list[str]:
    return [f.name for f in cat.schema().fields if f.type in ("string", "link")]


def _same_answers(cat, keys) -> int:
    """Compare, per key and text, the catalog's answer (limit 100) with the cached one at limits
    1, 30 and 100 (the catalog's ORDER BY n DESC, v is a total order: a smaller limit is a prefix)."""
    db = str(cat.path)
    cat.close()
    _age(cat.path)
    compared = 0
    for key in keys:
        values = [v for v, _ in st._lookup_sql(db, key, "", contains=False, limit=10**6, wait=1.0)]
        for typed in _typed(values):
            for contains in (False, True):
                want = st.lookup_values(db, key, typed, contains=contains, limit=100)
                for limit in (1, 30, 100):
                    got = st.lookup_values(db, key, typed, contains=contains, limit=limit, cached=True)
                    assert got == want[:limit], (key, typed, contains, limit)
                compared += bool(want)
    return compared


def test_same_values_as_the_catalog_lookup_on_real_inaturalist_data(cat):
    cat.import_files([realdata("inat_observations-568611.csv")], normalize_keys=True)
    keys = _string_keys(cat)
    assert len(keys) >= 20
    assert _same_answers(cat, keys) > 300
    assert len(st._values_cache) == len(keys)  # it was the cache that answered


def test_same_values_as_the_catalog_lookup_on_real_ham10000_data(cat):
    # lesion_id: 7,470 distinct values, most of them on 1 or 2 images (ties ordered by value)
    cat.import_files([realdata("HAM10000_metadata.csv")], path_template="images/{image_id}.jpg")
    assert _same_answers(cat, _string_keys(cat)) > 50


def test_case_and_non_ascii_values(cat, tmp_path):
    rows = ["Ärger", "ärger", "ÄRGER", "İstanbul", "istanbul", "Straße", "STRASSE", "naïve", "Naive", "ǅemal",
            "ﬁle", "FILE", "x", "X", "Éclair", "éclair", "eclair"]
    text = "path,word\n" + "".join(f"{i}-{j}.jpg,{w}\n" for i, w in enumerate(rows) for j in range(i % 3 + 1))
    cat.import_files([write(tmp_path / "w.csv", text)])
    db = str(cat.path)
    cat.close()
    _age(cat.path)
    for typed in ["", "a", "r", "st", "STR", "i", "is", "x", "e", "ecl", "fi", "na", "ive", "e", "emal",
                  "Ä", "ä", "İs", "ß", "ﬁ"]:  # the non-ASCII ones are asked of DuckDB, as before
        for contains in (False, True):
            want = st.lookup_values(db, "word", typed, contains=contains, limit=30)
            assert st.lookup_values(db, "word", typed, contains=contains, limit=30, cached=True) == want


def test_a_write_is_seen_at_once(cat, tmp_path):
    write(tmp_path / "a.csv", "path,cam\n" + "".join(f"{i}.jpg,cam-{i:04}\n" for i in range(300)))
    cat.import_files([tmp_path / "a.csv"])
    cat.close()
    _age(cat.path)
    db = str(cat.path)
    assert st.lookup_values(db, "cam", "cam-02", limit=5, cached=True) == tuple(
        (f"cam-{i:04}", 1) for i in range(200, 205))
    write(tmp_path / "b.csv", "path,cam\n" + "".join(f"b{i}.jpg,cam-0201\n" for i in range(3)))
    cat.import_files([tmp_path / "b.csv"])
    cat.close()
    # at once, even while the file is too fresh to be kept
    assert st.lookup_values(db, "cam", "cam-02", limit=2, cached=True) == (("cam-0201", 4), ("cam-0200", 1))
    _age(cat.path)
    assert st.lookup_values(db, "cam", "cam-02", limit=2, cached=True) == (("cam-0201", 4), ("cam-0200", 1))
    assert st.lookup_values(db, "cam", "cam-02", limit=2) == (("cam-0201", 4), ("cam-0200", 1))


def test_memory_is_bounded(cat, tmp_path, monkeypatch):
    write(tmp_path / "a.csv", "path,a,b,c\n" + "".join(f"{i}.jpg,a{i},b{i % 50},c{i % 7}\n" for i in range(400)))
    cat.import_files([tmp_path / "a.csv"])
    cat.close()
    _age(cat.path)
    db = str(cat.path)
    monkeypatch.setattr(st, "CACHED_VALUES_PER_KEY", 100)
    monkeypatch.setattr(st, "CACHED_VALUES_TOTAL", 55)

    def kept():
        return {k[1]: v for k, (_, v) in st._values_cache.items()}

    def same(key):
        for typed in ("", "a1", "b1", "c1", "1"):
            for limit in (3, 20):
                assert (st.lookup_values(db, key, typed, limit=limit, cached=True)
                        == st.lookup_values(db, key, typed, limit=limit))

    same("a")
    assert kept() == {"a": None}  # 400 values: more than a key may keep; asked of the catalog each time
    same("b")
    assert len(kept()["b"]) == 50
    same("c")  # 50 + 7 > 55: the least recently used go
    assert kept() == {"c": kept()["c"]} and len(kept()["c"]) == 7
    same("b")
    assert set(kept()) == {"b"}


def test_serve_completion_uses_it(tmp_path):
    """The engine's answer with the cache is the one without it (the CLI's)."""
    n = st.TOP_VALUES + 60
    csv = write(tmp_path / "cams.csv", "path,camera\n" + "".join(
        f"{i}-{j}.jpg,cam-{i:03}\n" for i in range(n) for j in range(2 if i < st.TOP_VALUES else 1)))
    db = tmp_path / "cams.duckdb"
    Catalog(db).import_files([csv])
    Catalog(db).close()
    _age(db)
    stats = load_stats(str(db))
    for text in ("camera:cam-1", "camera:cam-14", "camera:CAM-15", "camera~m-01", "camera:x"):
        want = candidates(text, None, stats, limit=30, db=str(db))
        got = candidates(text, None, stats, limit=30, db=str(db), cache=True)
        assert [c.text for c in got.candidates] == [c.text for c in want.candidates]
    assert st._values_cache  # the lookups went through the cache
