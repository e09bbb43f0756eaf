"""The count beside a completion is what the completed query matches (issue 14): `age>` listed
`age>45 → 1,299 images`, the count of `age=45`. Checked against `count` for every candidate."""

from __future__ import annotations

import random
import re

import pytest

from helpers import write
from metastore import Catalog


@pytest.mark.parametrize("typed", ["age>", "age>=", "age<", "age<=", "age>4", "age:"])
def test_completion_counts_match_the_completed_query(tmp_path, typed, run_cli):
    rnd = random.Random(7)
    rows = "".join(f"img/{i}.jpg,{rnd.choice([20, 30, 45, 50, 61, 2.5])}\n" for i in range(300))
    cat = Catalog(tmp_path / "c.duckdb")
    cat.import_files([write(tmp_path / "m.csv", "path,age\n" + rows)])
    r = run_cli("complete", typed, db=cat.path)
    assert r.returncode == 0, r.stderr
    shown = [line.split("\t") for line in r.stdout.splitlines() if "\t" in line and not line.startswith("#")]
    assert shown
    for query, label in shown:
        m = re.fullmatch(r"([\d,]+) images?", label)
        if m:
            assert int(m.group(1).replace(",", "")) == cat.count(query), (query, label)
        else:
            assert label == "number" and cat.count(query) == 0 or typed != "age:", (query, label)
