"""Keyset paging (``Catalog.search(after=PATH)``, the web page's Next) in every sort: the pages
``after`` gives are the pages ``offset`` gives, for sorts by keys of each type, with ties, missing
values (last in either direction) and several keys — and a page that starts after an image no
longer in the catalog is a clear error, never a silently wrong page."""

from __future__ import annotations

import random

import pytest

from helpers import write
from metastore import Catalog
from metastore.errors import UsageError

TYPES = {"n": "number", "s": "string", "d": "datetime", "b": "boolean", "w": "enum", "m": "multi-enum"}
SORTS = [None, "path:desc", "n", "n:desc", "s", "s:desc", "d", "d:desc", "b", "b:desc", "w", "w:desc", "m", "m:desc",
         "n,s:desc", "b:desc,n", "w,d:desc,path:desc", "s,path:desc"]


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keyset")
    rnd = random.Random(7)
    pick = lambda *xs: rnd.choice(xs)  # noqa: E731  (few values: many ties; "" is no value)
    rows = ["path,n,s,d,b,w,m"]
    for i in rnd.sample(range(1000), 61):
        rows.append(",".join([
            f"img/{i:04d}.jpg", pick("", "1", "2", "2", "-1.5", "1e3"), pick("", "a", "B", "b", "a b"),
            pick("", "2024-01-01T00:00:00", "2023-06-30T12:00:00"), pick("", "true", "false"),
            pick("", "rain", "fog"), pick("", '"rust,dent"', "rust", "dent")]))
    cat = Catalog(tmp / "c.duckdb")
    rep = cat.import_files([write(tmp / "a.csv", "\n".join(rows) + "\n")], types=TYPES)
    assert rep.rows_failed == 0, rep.to_dict()
    return cat


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("query", ["", "has:n OR w:fog"])
def test_after_pages_are_the_offset_pages(cat, sort, query):
    columns = list(TYPES)
    every = cat.search(query, sort=sort, columns=columns).rows()
    assert len(every) > 20
    got, after = [], None
    while True:
        page = cat.search(query, sort=sort, columns=columns, limit=7, after=after).rows()
        assert page == cat.search(query, sort=sort, columns=columns, limit=7, offset=len(got)).rows()
        if not page:
            break
        got += page
        after = page[-1]["path"]
    assert got == every


def test_a_page_after_an_image_no_longer_in_the_catalog_is_an_error(cat):
    with pytest.raises(UsageError) as err:
        cat.search("", sort="n", limit=5, after="img/gone.jpg").paths()
    assert "img/gone.jpg" in str(err.value) and "first page" in err.value.help
    # in the path order any path is a place to start from
    every = cat.search("").paths()
    assert cat.search("", limit=2, after="img/05").paths() == [p for p in every if p > "img/05"][:2]
