"""Error help shows examples from the key's own values in this catalog, never from the bundled
sample (a string key's '>' error used to suggest 'dock-a' whatever the catalog held)."""

from __future__ import annotations

import pytest

from helpers import write
from metastore.errors import QueryError


def help_of(cat, query):
    with pytest.raises(QueryError) as exc:
        cat.search(query).count()
    return " | ".join(i.help or "" for i in exc.value.issues)


def test_help_uses_the_keys_own_values(cat, tmp_path):
    cat.import_files([write(tmp_path / "m.csv", "path,dx,age,seen,site\na.jpg,nv,45,2016-04-26,lower back\n"
                                                "b.jpg,nv,80,2017-01-02,scalp\nc.jpg,mel,30,2018-03-04,scalp\n")])
    h = help_of(cat, "dx>3")
    assert h == "use dx:nv, dx:n* or dx~n" and "dock" not in h
    assert help_of(cat, "age:abc").endswith("e.g. age>30")
    assert help_of(cat, "age~5") == "use age:30, age>30 or age:30..80"
    assert help_of(cat, "seen~5") == "use seen:2016-04, seen>2016-04-26 or seen>now-7d"
    assert help_of(cat, "site>1") == 'use site:scalp, site:sc* or site~sc'
    facets_help = None
    with pytest.raises(QueryError) as exc:
        cat.facets(["dx"], "dx>3")
    facets_help = exc.value.issues[0].help
    assert facets_help == "use dx:nv, dx:n* or dx~n"


def test_without_values_the_help_uses_placeholders_not_sample_values(tmp_path):
    from datetime import datetime, timezone

    from metastore.query import check_text
    from metastore.schema import Field, Schema

    schema = Schema((Field("dx", "string", 1, count=0),))
    with pytest.raises(QueryError) as exc:
        check_text("dx>3", schema, now=datetime.now(timezone.utc))
    assert exc.value.issues[0].help == "use dx:VALUE, dx:PREFIX* or dx~TEXT"
