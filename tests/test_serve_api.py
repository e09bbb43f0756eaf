"""`metastore serve`: the JSON API (Starlette's test client over a real catalog and real image
files) and its security checks. The browser tests are in test_serve_browser.py."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import warnings

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
pytest.importorskip("starlette")
pytest.importorskip("PIL")
with warnings.catch_warnings():  # starlette >= 1.x suggests httpx2 over httpx; both work for this
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from metastore import Catalog  # noqa: E402
from metastore.web.api import Api  # noqa: E402
from metastore.web.app import create_app, host_allowed  # noqa: E402
from metastore.web.thumbs import Thumbnails  # noqa: E402
from serve_helpers import add_hostile_paths, make_project, start_server, stop  # noqa: E402

BASE = "http://127.0.0.1:8765"
TOKEN = "test-token-123"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    proj = make_project(root / "proj")
    hostile = add_hostile_paths(proj, root / "outside")
    return proj, hostile


def _client(proj, tmp_path, *, allow_edits=False, db=None):
    cat = Catalog(db or proj / "metastore.duckdb")
    api = Api(cat, media_root=proj, allow_edits=allow_edits)
    app = create_app(api, host="127.0.0.1", port=8765, token=TOKEN, thumbs=Thumbnails(tmp_path / "thumbs"))
    return TestClient(app, base_url=BASE), cat


@pytest.fixture
def client(project, tmp_path):
    c, cat = _client(project[0], tmp_path)
    with c:
        yield c, cat


def _post(c, path, body, **headers):
    h = {"Content-Type": "application/json", "X-Metastore-Token": TOKEN, "Origin": BASE, **headers}
    return c.post(path, content=json.dumps(body), headers=h)


# -- reading -------------------------------------------------------------------------------------
def test_search_pages_equal_catalog_search(client):
    c, cat = client
    want = cat.search("temperature>0", sort="temperature:desc").paths()
    got = []
    for offset in range(0, len(want) + 7, 7):
        r = c.get("/api/search", params={"q": "temperature>0", "sort": "temperature:desc", "offset": offset,
                                         "limit": 7, "columns": "temperature,location"}).json()
        assert "count" not in r  # the page asks /api/count beside it
        assert r["more"] == (offset + 7 < len(want))  # a next page exists
        got += [row["path"] for row in r["rows"]]
    assert got == want and len(want) % 7  # (so one page is partly filled)
    temps = [row["temperature"] for row in c.get("/api/search", params={
        "q": "temperature>0", "sort": "temperature:desc", "columns": "temperature"}).json()["rows"]]
    assert temps == sorted(temps, reverse=True) and len(temps) == len(want)


def test_library_offset(project):
    cat = Catalog(project[0] / "metastore.duckdb")
    every = cat.search("", sort="path:desc").paths()
    assert cat.search("", sort="path:desc", limit=5, offset=10).paths() == every[10:15]
    assert cat.search("", offset=len(every)).paths() == []


@pytest.mark.parametrize("sort", [None, "path", "path:desc"])
def test_library_after_pages_like_offset(project, sort):
    """``after`` (keyset paging) gives the pages ``offset`` gives, in either path order."""
    cat = Catalog(project[0] / "metastore.duckdb")
    q = "has:location"
    every = cat.search(q, sort=sort, columns=["location"]).rows()
    assert len(every) > 20
    for i in range(0, len(every), 7):
        after = every[i - 1]["path"] if i else None
        page = cat.search(q, sort=sort, columns=["location"], limit=7, after=after)
        assert page.rows() == every[i:i + 7] == cat.search(q, sort=sort, columns=["location"], limit=7, offset=i).rows()
        assert page.count() == len(every)  # the count is every match, not those after
    assert cat.search(q, sort=sort, after=every[3]["path"], offset=2, limit=3).paths() == [
        r["path"] for r in every[6:9]]


def test_after_pages_a_sort_by_a_key_and_says_when_its_image_is_gone(client):
    c, cat = client
    params = {"q": "", "sort": "temperature:desc", "limit": 10, "columns": "temperature"}
    first = c.get("/api/search", params=params).json()
    nxt = c.get("/api/search", params={**params, "after": first["rows"][-1]["path"]}).json()
    by_offset = c.get("/api/search", params={**params, "offset": 10}).json()
    assert nxt["rows"] == by_offset["rows"] and nxt["more"] == by_offset["more"] and len(nxt["rows"]) == 10
    r = c.get("/api/search", params={**params, "after": "images/not-in-the-catalog.png"})
    assert r.status_code == 400 and "not in the catalog" in r.json()["error"]["message"]
    assert "first page" in r.json()["error"]["help"]


def test_query_error_has_the_cli_span_and_help(client):
    c, cat = client
    r = c.get("/api/count", params={"q": "temprature>3 location:yard"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert (err["start"], err["end"]) == (0, 10)
    assert err["message"] == "unknown key 'temprature'" and "temperature" in err["help"]
    # the same data as `metastore search --format json` prints for it
    cli = subprocess.run([sys.executable, "-c", "from metastore.cli import main; main()", "--db",
                          str(cat.path), "search", "temprature>3 location:yard", "--format", "json"],
                         capture_output=True, text=True)
    assert cli.returncode == 1
    assert json.loads(cli.stderr) == {k: err[k] for k in ("message", "start", "end", "help", "errors")}


def test_count_and_explain(client):
    c, cat = client
    assert c.get("/api/count", params={"q": "location:yard"}).json()["count"] == cat.count("location:yard")
    e = c.get("/api/explain", params={"q": "location:yard temperature<0"}).json()
    assert e["total"] == cat.count("location:yard temperature<0")
    assert [x["count"] for x in e["clauses"]] == [cat.count("location:yard"), cat.count("temperature<0")]


def test_complete_is_the_cli_engine(client, project):
    from metastore.completion import candidates, load_stats

    c, cat = client
    for text in ("loc", "location:", "location:wa", "weather:r", "temperature>"):
        r = c.get("/api/complete", params={"q": text}).json()
        want = candidates(text, None, load_stats(str(cat.path)), limit=30, db=str(cat.path))
        assert [x["text"] for x in r["candidates"]] == [x.text for x in want.candidates]
        assert r["start"] == want.start
    r = c.get("/api/complete", params={"q": "location:wa"}).json()
    assert "location:warehouse-3" in [x["query"] for x in r["candidates"]]
    # the cursor in the middle: the rest of the query is kept
    r = c.get("/api/complete", params={"q": "loc reviewed:true", "cursor": 3}).json()
    assert "location: reviewed:true" in [x["query"] for x in r["candidates"]]


def test_facets_equal_catalog_facets_and_each_clause_selects_its_bucket(client):
    c, cat = client
    keys = ["location", "temperature", "captured_at", "defects", "reviewed", "annotator"]
    for q in ("", "-location:lab"):
        base = f"({q}) " if q else ""
        r = c.get("/api/facets", params={"keys": ",".join(keys), "q": q}).json()
        want = cat.facets(keys, q)
        assert [f["key"] for f in r["facets"]] == keys
        checked = 0
        for f, w in zip(r["facets"], want):
            assert [b["count"] for b in f["buckets"]] == [b.count for b in w.buckets]
            for b in f["buckets"]:
                if b["clause"] is None:
                    assert b["kind"] == "other"
                    continue
                # what a click adds selects exactly the bucket; alt-click the rest of the result
                assert cat.count(base + b["clause"]) == b["count"], (f["key"], b)
                assert cat.count(base + b["exclude"]) == cat.count(q) - b["count"] or f["type"] == "multi-enum"
                checked += 1
            bins = [b for b in f["buckets"] if b["kind"] == "bin"]
            assert all(b["bounds"] and " ".join(b["bounds"]) == b["clause"] for b in bins)
            for i in range(len(bins) - 2):  # a drag over three bins selects the three
                dragged = f"{bins[i]['bounds'][0]} {bins[i + 2]['bounds'][1]}"
                assert cat.count(base + dragged) == sum(b["count"] for b in bins[i:i + 3]), (f["key"], dragged)
                checked += 1
        assert checked > 30


def test_image_detail_has_values_types_provenance_history(client):
    c, cat = client
    path = "images/yard/cam01_0012.png"
    d = c.get("/api/image", params={"path": path}).json()
    info = cat.show(path)
    assert d["path"] == path and d["media_id"] == info.media_id and d["tags"] == info.tags
    assert [(v["key"], v["type"], v["source_id"]) for v in d["values"]] == [
        (v.key, v.type, v.source_id) for v in info.values]
    assert {v["source"] for v in d["values"]} == {"import"}
    assert len(d["history"]) == len(cat.history(path)) > 0
    assert d["file"] == "ok"
    r = c.get("/api/image", params={"path": "images/nope.png"})
    assert r.status_code == 404 and "no image" in r.json()["error"]["message"]


def test_info_lists_keys_and_default_facets(client):
    c, cat = client
    info = c.get("/api/info").json()
    assert info["images"] == cat.count("")
    assert {k["name"] for k in info["keys"]} == {k.name for k in cat.schema().fields}
    assert 0 < len(info["facets"]) <= 6 and info["allow_edits"] is False


# -- thumbnails ----------------------------------------------------------------------------------
def test_thumbnails_are_jpegs_cached_by_path_size_and_mtime(project, tmp_path):
    from PIL import Image
    import io

    proj = project[0]
    c, _ = _client(proj, tmp_path)
    path = "images/extra/photo_2.jpg"
    r = c.get("/api/thumb", params={"path": path, "size": 256})
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.headers["x-thumbnail"] == "made"
    im = Image.open(io.BytesIO(r.content))
    assert im.format == "JPEG" and max(im.size) == 256 and im.size == (256, 192)
    again = c.get("/api/thumb", params={"path": path, "size": 256})
    assert again.headers["x-thumbnail"] == "cached" and again.content == r.content
    assert len(list((tmp_path / "thumbs").rglob("*.jpg"))) == 1
    assert c.get("/api/thumb", params={"path": path, "size": 128}).headers["x-thumbnail"] == "made"
    src = proj / path
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))  # an edited file gets a new thumbnail
    assert c.get("/api/thumb", params={"path": path, "size": 256}).headers["x-thumbnail"] == "made"
    small = c.get("/api/thumb", params={"path": "images/yard/cam01_0012.png"})
    assert small.status_code == 200 and Image.open(io.BytesIO(small.content)).size == (16, 16)  # never upscaled
    assert c.get("/api/thumb", params={"path": path, "size": 300}).status_code == 400


def test_missing_or_unreadable_images_get_a_placeholder(project, tmp_path):
    proj, hostile = project
    c, _ = _client(proj, tmp_path)
    for name, why in (("missing", "missing"), ("broken", "unreadable")):
        r = c.get("/api/thumb", params={"path": hostile[name]})
        assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
        assert r.headers["x-thumbnail"] == why and r.content.startswith(b"<svg")


# -- security ------------------------------------------------------------------------------------
def test_only_catalog_paths_under_the_media_root_are_served(project, tmp_path):
    proj, hostile = project
    c, cat = _client(proj, tmp_path)
    assert set(hostile.values()) <= cat.known_paths(list(hostile.values()))  # all are catalog paths
    for name in ("symlink", "dotdot", "absolute"):
        for route in ("/api/thumb", "/api/media"):
            r = c.get(route, params={"path": hostile[name]})
            assert r.status_code == 400, (name, route)
            assert b"\xff\xd8" not in r.content[:4]  # no JPEG bytes of the secret
    assert "outside the media root" in c.get("/api/media", params={"path": hostile["symlink"]}).json()["error"]["message"]
    # files under the root that are not catalog images are not served either
    for path in ("metadata.csv", "metastore.duckdb", "images/extra/photo_0.json"):
        assert c.get("/api/media", params={"path": path}).status_code == 404
        assert c.get("/api/thumb", params={"path": path}).status_code == 404
    ok = c.get("/api/media", params={"path": "images/extra/photo_0.jpg"})
    assert ok.status_code == 200 and ok.content == (proj / "images/extra/photo_0.jpg").read_bytes()
    assert ok.headers["content-security-policy"].endswith("sandbox")


def test_odd_files_get_a_placeholder_never_an_error_page(tmp_path):
    """A symlink loop, a backslash path and a folder: the tile is a placeholder (an SVG, never a
    500 page), and a backslash is a file name character, not a folder separator."""
    from serve_helpers import make_project

    proj = make_project(tmp_path / "p")
    (proj / "images" / "loop.jpg").symlink_to(proj / "images" / "loop.jpg")
    (proj / "images" / "a").mkdir()
    (proj / "images" / "a" / "b.jpg").write_bytes((proj / "images/extra/photo_0.jpg").read_bytes())
    (proj / "images" / "folder.jpg").mkdir()
    cat = Catalog(proj / "metastore.duckdb")
    (tmp_path / "odd.csv").write_text("path,note\nimages/loop.jpg,loop\nimages\\..\\x.jpg,bs\nimages\\a\\b.jpg,bs2\n"
                                      "images/folder.jpg,dir\n", encoding="utf-8")
    cat.import_files([tmp_path / "odd.csv"])
    c, _ = _client(proj, tmp_path, db=proj / "metastore.duckdb")
    for path in ("images/loop.jpg", "images\\a\\b.jpg", "images\\..\\x.jpg", "images/folder.jpg"):
        r = c.get("/api/thumb", params={"path": path})
        assert r.status_code in (200, 400, 404) and r.headers["content-type"] == "image/svg+xml", (path, r.status_code)
        assert c.get("/api/media", params={"path": path}).status_code in (400, 404), path
    # images\a\b.jpg is one file name on POSIX: not the catalog-less file images/a/b.jpg
    assert c.get("/api/thumb", params={"path": "images/a/b.jpg"}).status_code == 404
    assert c.get("/api/thumb", params={"path": "images\\a\\b.jpg"}).headers["x-thumbnail"] == "missing"
    assert c.get("/api/image", params={"path": "images/loop.jpg"}).status_code == 200


def test_a_bug_is_a_json_error_not_a_text_page(project, tmp_path, capfd):
    """Anything but a MetastoreError (a bug, a full disk) still answers JSON the page can show
    (status 500), and the traceback goes to the server's output, not to the page."""
    cat = Catalog(project[0] / "metastore.duckdb")
    api = Api(cat, media_root=project[0])

    def broken(*a, **k):
        raise ZeroDivisionError("boom")

    api.search = api.export = broken
    c = TestClient(create_app(api, host="127.0.0.1", port=8765, token=TOKEN, thumbs=Thumbnails(tmp_path)),
                   base_url=BASE, raise_server_exceptions=False)
    for r in (c.get("/api/search", params={"q": ""}), _post(c, "/api/export", {"out": str(tmp_path / "o")})):
        assert r.status_code == 500 and r.headers["content-type"] == "application/json"
        err = r.json()["error"]
        assert "ZeroDivisionError" in err["message"] and "server's output" in err["help"]
    assert "Traceback" in capfd.readouterr().err


def test_other_sites_cannot_read_or_embed(client):
    """Fetch metadata: a request another site's page makes (Sec-Fetch-Site cross-site or
    same-site, e.g. another port on localhost) is refused, except following a link to the page
    itself; every answer says Cross-Origin-Resource-Policy: same-origin (no embedding
    thumbnails or originals elsewhere). Scripts (no such headers) and the page itself read."""
    c, _ = client
    jpeg = {"path": "images/extra/photo_0.jpg"}
    for site in ("cross-site", "same-site"):
        for route, params in (("/api/search", {"q": ""}), ("/api/thumb", jpeg), ("/api/media", jpeg),
                              ("/api/info", {}), ("/static/app.js", {})):
            r = c.get(route, params=params, headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors"})
            assert r.status_code == 403 and "cross-site" in r.json()["error"]["message"], (site, route)
        r = c.get("/api/media", params=jpeg, headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate"})
        assert r.status_code == 403
        page = c.get("/", headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate"})
        assert page.status_code == 200 and "metastore-token" in page.text
    for headers in ({"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}, {"Sec-Fetch-Site": "none"}, {}):
        for route, params in (("/api/search", {"q": ""}), ("/api/thumb", jpeg), ("/", {})):
            r = c.get(route, params=params, headers=headers)
            assert r.status_code == 200 and r.headers["cross-origin-resource-policy"] == "same-origin", route


def test_served_paths_follow_catalog_changes_made_elsewhere(tmp_path):
    """A path the server saw in results stops being served once another process removes it
    from the catalog (here: undoing the import that added it)."""
    from serve_helpers import make_project

    proj = make_project(tmp_path / "p")
    (proj / "images" / "new.jpg").write_bytes((proj / "images/extra/photo_0.jpg").read_bytes())
    (tmp_path / "new.csv").write_text("path,note\nimages/new.jpg,fresh\n", encoding="utf-8")
    cat = Catalog(proj / "metastore.duckdb")
    report = cat.import_files([tmp_path / "new.csv"])
    c, _ = _client(proj, tmp_path)
    assert [r["path"] for r in c.get("/api/search", params={"q": "note:fresh"}).json()["rows"]] == ["images/new.jpg"]
    assert c.get("/api/media", params={"path": "images/new.jpg"}).status_code == 200
    cat.undo(report.import_id)
    assert cat.count("note:fresh") == 0 and "images/new.jpg" not in cat.known_paths(["images/new.jpg"])
    assert c.get("/api/media", params={"path": "images/new.jpg"}).status_code == 404


def test_a_symlinked_media_root_still_serves_its_own_files(project, tmp_path):
    proj = project[0]
    link = tmp_path / "rootlink"
    link.symlink_to(proj)
    api = Api(Catalog(proj / "metastore.duckdb"), media_root=link)
    assert api.media_file("images/extra/photo_1.jpg") == (proj / "images/extra/photo_1.jpg").resolve()


@pytest.mark.parametrize("host, ok", [
    ("127.0.0.1:8765", True), ("localhost:8765", True), ("[::1]:8765", True), ("LOCALHOST:8765", True),
    ("evil.example:8765", False), ("127.0.0.1.nip.io:8765", False), ("127.0.0.1:80", False),
    ("127.0.0.1", False), ("", False), ("localhost:8765:1", False),
])
def test_host_header_check(host, ok):
    assert host_allowed(host, "127.0.0.1", 8765) is ok


def test_dns_rebinding_is_refused(client):
    c, _ = client
    r = c.get("/api/info", headers={"Host": "attacker.example:8765"})
    assert r.status_code == 421 and "own address" in r.json()["error"]["message"]
    assert c.get("/", headers={"Host": "attacker.example:8765"}).status_code == 421
    assert c.get("/api/info", headers={"Host": "localhost:8765"}).status_code == 200


def test_writes_need_post_json_token_and_same_origin(client, tmp_path):
    c, _ = client
    body = {"query": "location:yard", "out": str(tmp_path / "x")}
    assert c.get("/api/export", params=body).status_code == 405
    assert c.put("/api/export", content="{}").status_code == 405
    assert _post(c, "/api/export", body, **{"X-Metastore-Token": ""}).status_code == 403
    assert _post(c, "/api/export", body, **{"X-Metastore-Token": "wrong"}).status_code == 403
    assert _post(c, "/api/export", body, Origin="http://evil.example").status_code == 403
    assert _post(c, "/api/export", body, Origin="http://127.0.0.1:9999").status_code == 403
    assert _post(c, "/api/export", body, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    r = c.post("/api/export", content=json.dumps(body),
               headers={"Content-Type": "text/plain", "X-Metastore-Token": TOKEN, "Origin": BASE})
    assert r.status_code == 415
    assert not (tmp_path / "x").exists()  # nothing written by any refused request
    r = _post(c, "/api/export", body)
    assert r.status_code == 200 and (tmp_path / "x" / "manifest.csv").exists()
    # the page carries the token; a script without the page does not
    assert TOKEN in c.get("/").text
    assert c.get("/").headers["content-security-policy"].startswith("default-src 'self'")


def test_read_only_unless_allow_edits(project, tmp_path):
    proj = project[0]
    c, cat = _client(proj, tmp_path)
    r = _post(c, "/api/edit", {"path": "images/yard/cam01_0012.png", "set": {"reviewed": "false"}})
    assert r.status_code == 400 and "read-only" in r.json()["error"]["message"]
    assert cat.show("images/yard/cam01_0012.png").values == Catalog(proj / "metastore.duckdb").show(
        "images/yard/cam01_0012.png").values


def test_edits_are_hand_edits(tmp_path):
    proj = make_project(tmp_path / "p")
    c, cat = _client(proj, tmp_path, allow_edits=True)
    path = "images/yard/cam01_0012.png"
    r = _post(c, "/api/edit", {"path": path, "set": {"annotator": "zoe"}, "add_tags": ["needs-review"]})
    assert r.status_code == 200, r.text
    d = r.json()["image"]
    v = {x["key"]: x for x in d["values"]}["annotator"]
    assert v["value"] == "zoe" and v["source"] == "edit"
    assert "needs-review" in d["tags"]
    assert cat.count("annotator:zoe tag:needs-review") == 1
    assert any(h["new"] == "zoe" and h["source"].startswith("edit") for h in d["history"])
    # the tags facet (first once there are tags): a click adds tag:NAME
    assert c.get("/api/info").json()["facets"][0] == "tags"
    (tags,) = c.get("/api/facets", params={"keys": "tags"}).json()["facets"]
    (b,) = [b for b in tags["buckets"] if b["kind"] == "value"]
    assert (b["label"], b["count"], b["clause"], b["exclude"]) == ("needs-review", 1, "tag:needs-review",
                                                                   "-tag:needs-review")
    assert cat.count("-tag:needs-review") == cat.count("") - 1
    (m,) = [b for b in tags["buckets"] if b["kind"] == "missing"]
    assert (m["clause"], m["exclude"]) == ("no:tag", "has:tag") and cat.count("no:tag") == m["count"]
    r = _post(c, "/api/edit", {"path": path, "unset": ["annotator"], "remove_tags": ["needs-review"]})
    assert r.status_code == 200 and cat.count("annotator:zoe") == 0 and cat.count("tag:needs-review") == 0
    bad = _post(c, "/api/edit", {"path": path, "set": {"temperature": "warm"}})
    assert bad.status_code == 400 and "temperature" in bad.json()["error"]["message"]
    assert _post(c, "/api/edit", {"path": "images/none.png", "set": {"a": "1"}}).status_code == 404


# -- export --------------------------------------------------------------------------------------
def test_export_is_the_cli_export(client, project, tmp_path):
    c, cat = client
    proj = project[0]
    opts = {"query": "has:location -location:lab", "columns": "location,temperature", "split": "train=0.75,val=0.25",
            "group_by": "camera_id", "seed": 7, "media": "symlink"}
    r = _post(c, "/api/export", {**opts, "out": str(tmp_path / "web")})
    assert r.status_code == 200, r.text
    rep = r.json()
    cli = subprocess.run([sys.executable, "-c", "from metastore.cli import main; main()", "--db", str(cat.path),
                          "export", "-q", opts["query"], "--out",
                          str(tmp_path / "cli"), "--columns", opts["columns"], "--split", opts["split"],
                          "--group-by", "camera_id", "--seed", "7", "--media", "symlink", "--media-root", str(proj),
                          "--json"], capture_output=True, text=True, cwd=proj)
    assert cli.returncode == 0, cli.stderr
    want = json.loads(cli.stdout)
    assert {k: v for k, v in rep.items() if k not in ("out", "manifest", "record")} == {
        k: v for k, v in want.items() if k not in ("out", "manifest", "record")}
    assert (tmp_path / "web" / "manifest.csv").read_bytes() == (tmp_path / "cli" / "manifest.csv").read_bytes()
    web_rec = json.loads((tmp_path / "web" / "export.json").read_text())
    cli_rec = json.loads((tmp_path / "cli" / "export.json").read_text())
    for rec in (web_rec, cli_rec):
        rec.pop("created_at"), rec.pop("now")
    assert web_rec == cli_rec
    rows = list(csv.DictReader(open(tmp_path / "web" / "manifest.csv")))
    assert {r["split"] for r in rows} == {"train", "val"} and len(rows) == cat.count("has:location -location:lab")
    assert sum(s["count"] for s in rep["splits"]) == len(rows)
    assert all((tmp_path / "web" / "media" / r["path"]).is_symlink() for r in rows)


_PREVIEWS = [
    ("has:location -location:lab", {"split": "train=0.75,val=0.25", "group_by": "camera_id", "seed": 7}),
    ("", {"split": "train=0.5,val=0.3,test=0.2", "seed": 2, "sample": 20}),
    ("temperature>0", {"split": "a=0.6,b=0.4", "limit": 9, "sort": "temperature:desc", "seed": 11}),
    ('location:lab OR path:"images/missing.jpg"', {"split": "train=0.5,val=0.5", "seed": 1, "media": "copy",
                                                   "skip_missing": True}),
    ("location:yard", {}),
    ("-location:lab", {"split": "train=0.5,val=0.5", "split_column": "subset", "seed": 4}),
]


@pytest.mark.parametrize("query,opts", _PREVIEWS)
def test_export_preview_counts_are_what_export_writes(client, project, tmp_path, query, opts):
    """The dialog's counts per split (GET /api/export/preview) are the export's own: equal to
    the report of the export that follows and to the split column of the manifest it writes."""
    c, cat = client
    params = {"query": query, **{k: str(v).lower() if isinstance(v, bool) else v for k, v in opts.items()}}
    r = c.get("/api/export/preview", params=params)
    assert r.status_code == 200, r.text
    preview = r.json()
    rep = _post(c, "/api/export", {"query": query, **opts, "out": str(tmp_path / "out")}).json()
    rows = list(csv.DictReader(open(tmp_path / "out" / "manifest.csv", encoding="utf-8")))
    assert (preview["rows"], preview["matched"]) == (rep["rows"], rep["matched"]) == (len(rows), rep["matched"])
    assert preview["splits"] == rep["splits"]
    column = opts.get("split_column", "split")
    assert {s["name"]: s["count"] for s in preview["splits"]} == {
        s["name"]: sum(r[column] == s["name"] for r in rows) for s in preview["splits"]}
    if opts.get("split"):
        assert all(s["count"] > 0 for s in preview["splits"]), preview  # the cases split non-trivially
    if opts.get("media"):
        assert preview["missing"] == 1 and rep["missing"] == ["images/missing.jpg"]


def test_export_preview_errors_and_writes_nothing(client, tmp_path):
    c, _ = client
    r = c.get("/api/export/preview", params={"query": "", "split": "train=0.5"})
    assert r.status_code == 400 and "split" in r.json()["error"]["message"]
    r = c.get("/api/export/preview", params={"query": "", "split": "train=1", "skip_missing": "maybe"})
    assert r.status_code == 400 and "skip_missing" in r.json()["error"]["message"]
    r = c.get("/api/export/preview", params={"query": "", "out": str(tmp_path / "x")})
    assert r.status_code == 400 and "'out'" in r.json()["error"]["message"]
    r = c.get("/api/export/preview", params={"query": "", "sample": "2.5"})
    assert r.status_code == 400 and "whole number" in r.json()["error"]["message"]
    assert list(tmp_path.iterdir()) == []


def test_export_errors_are_the_cli_errors(client, project, tmp_path):
    c, _ = client
    proj = project[0]
    r = _post(c, "/api/export", {"query": "location:yard", "out": str(proj / "inside"), "media": "copy"})
    assert r.status_code == 400 and "--media-root" in r.json()["error"]["message"]
    assert not (proj / "inside").exists()
    r = _post(c, "/api/export", {"query": "temprature>1", "out": str(tmp_path / "e")})
    assert r.status_code == 400 and r.json()["error"]["start"] == 0
    r = _post(c, "/api/export", {"query": "", "out": str(tmp_path / "e"), "split": "train=0.5"})
    assert r.status_code == 400 and "split" in r.json()["error"]["message"]
    r = _post(c, "/api/export", {"query": "", "out": str(tmp_path / "e"), "bogus": 1})
    assert r.status_code == 400 and "bogus" in r.json()["error"]["message"]


# -- the command ---------------------------------------------------------------------------------
_PROBE = ("import sys, atexit\n"
          "atexit.register(lambda: print('HEAVY', sorted(m for m in ('starlette', 'uvicorn', 'PIL', 'httpx') "
          "if m in sys.modules), file=sys.stderr))\n"
          "sys.argv = ['metastore'] + sys.argv[1:]\n"
          "from metastore.entry import main\nmain()\n")


@pytest.mark.parametrize("args", [["--help"], ["count", "location:yard"], ["search", "location:yard"],
                                  ["facets", "location"], ["complete", "loc"]])
def test_other_commands_do_not_import_the_web_stack(project, args):
    r = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, cwd=project[0])
    assert r.returncode == 0, r.stderr
    assert "HEAVY []" in r.stderr, r.stderr


def test_serve_without_a_catalog_is_a_clear_error(tmp_path, run_cli):
    r = run_cli("serve", "--port", "0", db=tmp_path / "none.duckdb")
    assert r.returncode == 1 and "no catalog" in r.stderr and "Traceback" not in r.stderr


def test_serve_warns_when_not_on_localhost(project, tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "from metastore.cli import main; main()", "serve", "--host",
                             "0.0.0.0", "--port", "0"], cwd=project[0], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        line = proc.stdout.readline()
        assert "http://0.0.0.0:" in line
    finally:
        stop(proc)
    assert "warning: serving on 0.0.0.0" in proc.stderr.read()


def test_a_writer_gets_the_lock_while_serve_is_open(tmp_path, run_cli):
    """`serve` reads through the normal Catalog read path: another process can write meanwhile,
    and the page sees the change at once."""
    import urllib.request

    proj = make_project(tmp_path / "p")
    proc, url, _ = start_server(proj, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    try:
        def get(path):
            with urllib.request.urlopen(url + path, timeout=10) as r:
                return json.loads(r.read())

        assert get("api/count?q=annotator:zoe")["count"] == 0
        started = time.monotonic()
        r = run_cli("--wait", "5", "set", "images/yard/cam01_0012.png", "annotator=zoe", db=proj / "metastore.duckdb")
        assert r.returncode == 0, r.stderr
        assert time.monotonic() - started < 5
        assert get("api/count?q=annotator:zoe")["count"] == 1
        assert any(c["query"] == "annotator:zoe" for c in get("api/complete?q=annotator:z")["candidates"])
    finally:
        stop(proc)
