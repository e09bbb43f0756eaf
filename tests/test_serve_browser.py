"""`metastore serve` in a real browser: Playwright drives Debian's Chromium (/usr/bin/chromium;
Playwright's own browser download does not work on these machines) against a real `metastore
serve` process over the bundled sample plus real JPEGs. Screenshots of the main states go to
the test's tmp folder (``METASTORE_SCREENSHOTS=DIR`` keeps them in DIR)."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("METASTORE_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)", allow_module_level=True)

from serve_helpers import JPEGS, make_project, start_server, stop  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    proj = make_project(root / "proj")
    proc, url, _ = start_server(proj, env={"XDG_CACHE_HOME": str(root / "cache")})
    yield proj, url, root
    stop(proc)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 4" not in m.text else None)
    yield pg
    ctx.close()
    assert errors == [], errors  # no script error, no CSP violation


def shots(server) -> Path:
    d = Path(os.environ.get("METASTORE_SCREENSHOTS") or server[2] / "screenshots")
    d.mkdir(parents=True, exist_ok=True)
    return d


def _ready(page, url):
    page.goto(url)
    page.wait_for_selector("body[data-ready]")


def _wait_count(page, text: str):
    page.wait_for_function("t => document.querySelector('#count').textContent === t", arg=text)


def _wait_results(page, query: str, count: int):
    """The grid shows ``query``'s results (the count beside the search bar may be a live count)."""
    page.wait_for_function("([q, n]) => { const g = document.querySelector('#grid');"
                           " return g.dataset.query === q && g.dataset.count === String(n); }", arg=[query, count])
    _wait_count(page, f"{count:,} image{'s' if count != 1 else ''}")


def _thumbs_loaded(page) -> list:
    page.wait_for_function("() => [...document.querySelectorAll('.tile img')].every(i => i.complete)")
    return page.eval_on_selector_all(".tile img", "imgs => imgs.map(i => i.naturalWidth)")


def test_search_complete_thumbnails_facets_back_forward(page, server):
    proj, url, _ = server
    thumbs = []
    page.on("response", lambda r: thumbs.append((r.url, r.status, r.headers.get("content-type")))
            if "/api/thumb" in r.url else None)
    _ready(page, url)
    # the count comes beside the first page, not before it (the grid never waits for it)
    _wait_count(page, f"{48 + JPEGS} images")
    page.screenshot(path=str(shots(server) / "1-start.png"))

    # type, accept a key completion with Tab, then a value completion with the mouse
    page.click("#q")
    page.keyboard.type("loc")
    # completions come per keystroke: under load those of "l" may show before those of "loc"
    page.wait_for_function("() => document.querySelector('#completions li:first-child .text')?.textContent"
                           " === 'location:'", timeout=10_000)
    page.keyboard.press("Tab")
    assert page.input_value("#q") == "location:"
    page.wait_for_selector("#completions li:has-text('lab')")
    page.screenshot(path=str(shots(server) / "2-completion.png"))
    page.click("#completions li:has-text('lab')")
    assert page.input_value("#q") == "location:lab"
    page.keyboard.press("Enter")
    _wait_results(page, "location:lab", JPEGS)
    assert "q=location%3Alab" in page.url
    widths = _thumbs_loaded(page)
    assert len(widths) == JPEGS and all(w > 0 for w in widths)
    assert all(w == 256 for w in widths)  # 640x480 JPEGs scaled to 256 wide: real thumbnails, not placeholders
    jpeg = [t for t in thumbs if "extra%2Fphoto_" in t[0]]
    assert len(jpeg) == JPEGS and all(s == 200 and ct == "image/jpeg" for _, s, ct in jpeg)
    page.screenshot(path=str(shots(server) / "3-results.png"))

    # a facet value adds k:v; shift-click adds -k:v
    page.click(".facet[data-key='camera_id'] .bucket:has-text('jpeg-2')")
    _wait_results(page, "location:lab camera_id:jpeg-2", 1)
    assert page.input_value("#q") == "location:lab camera_id:jpeg-2"
    page.go_back()
    _wait_results(page, "location:lab", JPEGS)
    assert page.input_value("#q") == "location:lab"
    page.click(".facet[data-key='camera_id'] .bucket:has-text('jpeg-2')", modifiers=["Shift"])
    _wait_results(page, "location:lab -camera_id:jpeg-2", JPEGS - 1)
    assert page.input_value("#q") == "location:lab -camera_id:jpeg-2"
    page.go_back()
    _wait_results(page, "location:lab", JPEGS)
    page.go_forward()
    _wait_results(page, "location:lab -camera_id:jpeg-2", JPEGS - 1)
    assert page.input_value("#q") == "location:lab -camera_id:jpeg-2"

    # a histogram bin is a range
    page.goto(url + "?q=location:lab&facets=temperature")
    page.wait_for_selector(".facet[data-key='temperature'] .bucket")
    page.click(".facet[data-key='temperature'] .bucket >> nth=0")
    _wait_results(page, "location:lab temperature>=10 temperature<11", 1)
    assert page.input_value("#q") == "location:lab temperature>=10 temperature<11"
    # dragging over bins selects their range (the six photos are at 10..15 degrees, one per bin)
    page.go_back()
    _wait_results(page, "location:lab", JPEGS)
    page.wait_for_selector(".facet[data-key='temperature'] .bucket")
    page.hover(".facet[data-key='temperature'] .bucket >> nth=1")
    page.mouse.down()
    page.hover(".facet[data-key='temperature'] .bucket >> nth=3")
    assert page.locator(".bucket.dragged").count() == 3
    page.mouse.up()
    _wait_results(page, "location:lab temperature>=11 temperature<14", 3)


def test_detail_view_keyboard_and_url(page, server):
    proj, url, _ = server
    _ready(page, url + "?q=location:lab")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.press("Escape")  # leave the search bar; arrows move over the tiles
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail:not([hidden])")
    assert page.inner_text("#detail-path") == "images/extra/photo_1.jpg"
    assert "open=images%2Fextra%2Fphoto_1.jpg" in page.url
    page.wait_for_function("() => document.querySelector('#detail-img').naturalWidth > 0")
    assert page.evaluate("document.querySelector('#detail-img').naturalWidth") == 640  # 1024 box, never upscaled
    row = page.inner_text("#detail-values tr[data-key='camera_id']")
    assert "jpeg-1" in row and "string" in row and "import" in row
    assert page.locator("#detail-history tbody tr").count() >= 3
    assert page.locator("#edit-form").is_hidden()  # read-only server
    page.screenshot(path=str(shots(server) / "4-detail.png"))
    page.keyboard.press("Escape")
    page.wait_for_selector("#detail", state="hidden")
    assert "open=" not in page.url
    page.go_back()  # back reopens the image
    page.wait_for_selector("#detail:not([hidden])")
    assert page.inner_text("#detail-path") == "images/extra/photo_1.jpg"
    # a bookmarked view opens straight on the image
    _ready(page, url + "?q=location:lab&open=images%2Fextra%2Fphoto_3.jpg")
    page.wait_for_selector("#detail:not([hidden])")
    assert page.inner_text("#detail-path") == "images/extra/photo_3.jpg"


def test_bad_query_is_underlined_with_the_cli_message(page, server):
    proj, url, _ = server
    _ready(page, url)
    page.fill("#q", "location:yard temprature>3")
    page.wait_for_selector("#qerror:not([hidden]) .qerr-span")
    assert page.inner_text("#qerror .qerr-span") == "temprature"
    text = page.inner_text("#qerror")
    assert "error: unknown key 'temprature'" in text and "help: did you mean 'temperature'?" in text
    assert page.eval_on_selector("#qerror .qerr-span", "e => getComputedStyle(e).textDecorationLine") == "underline"
    page.screenshot(path=str(shots(server) / "5-error.png"))
    page.fill("#q", "location:yard")
    page.wait_for_selector("#qerror", state="hidden")


def test_explain_panel(page, server):
    proj, url, _ = server
    _ready(page, url + "?q=location:yard%20temperature<0")
    page.click("#explain-btn")
    page.wait_for_selector("#explain table tr")
    text = page.inner_text("#explain")
    assert "Interpretation" in text and "location" in text
    assert page.locator("#explain table tr").count() == 2


def _split_counts(page, rows: str) -> dict:
    return {r.get_attribute("data-split"): int(r.inner_text().split("\t")[-1].replace(",", ""))
            for r in page.locator(rows).all()}


def test_export_with_a_split(page, server):
    proj, url, root = server
    out = root / "web-export"
    _ready(page, url + "?q=has:location%20-location:lab")
    page.click("#export-btn")
    page.fill("#export-form input[name=out]", str(out))
    page.fill("#export-form input[name=columns]", "location,camera_id")
    page.fill("#export-form input[name=split]", "train=0.75,val=0.25")
    page.fill("#export-form input[name=group_by]", "camera_id")
    page.fill("#export-form input[name=seed]", "3")
    page.select_option("#export-form select[name=media]", "copy")
    # before exporting, the dialog shows what each split will get (for the seed now in the form)
    page.wait_for_selector("#export-preview:not([data-pending]) #export-preview-splits tr")
    assert "Will write 48 of 48 matching images" in page.inner_text("#export-preview")
    page.screenshot(path=str(shots(server) / "6-export-preview.png"))
    previewed = _split_counts(page, "#export-preview-splits tr")
    page.click("#export-go")
    page.wait_for_selector("#export-splits tr")
    page.screenshot(path=str(shots(server) / "6-export.png"))
    shown = _split_counts(page, "#export-splits tr")
    rows = list(csv.DictReader(open(out / "manifest.csv", encoding="utf-8")))
    assert len(rows) == 48 and list(rows[0]) == ["path", "media_id", "location", "camera_id", "split"]
    counts = {s: sum(r["split"] == s for r in rows) for s in ("train", "val")}
    assert previewed == shown == counts and counts["train"] > 0 and counts["val"] > 0
    by_camera = {}
    for r in rows:
        by_camera.setdefault(r["camera_id"], set()).add(r["split"])
    assert all(len(s) == 1 for s in by_camera.values())  # --group-by camera_id kept each camera in one split
    record = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert record["query"] == "has:location -location:lab" and record["seed"] == 3
    assert record["options"]["split"] == "train=0.75,val=0.25" and record["options"]["media"] == "copy"
    assert all((out / "media" / r["path"]).read_bytes() == (proj / r["path"]).read_bytes() for r in rows)
    # exporting again into the same folder is refused, as on the command line
    page.click("#export-go")
    page.wait_for_selector("#export-result .err")
    assert "error:" in page.inner_text("#export-result")
    shutil.rmtree(out)


def test_next_and_prev_page_after_the_last_path(browser, tmp_path):
    """Paging 250 images by 100: Next asks for the images after the last path shown (?after=, no
    offset), Prev goes back to where the page began; the URL keeps it, Back/Forward follow."""
    from metastore import Catalog

    proj = make_project(tmp_path / "proj")
    (tmp_path / "many.csv").write_text("path,note\n" + "".join(f"many/img_{i:03d}.png,many\n" for i in range(250)),
                                       encoding="utf-8")
    Catalog(proj / "metastore.duckdb").import_files([tmp_path / "many.csv"])
    proc, url, _ = start_server(proj, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    searches = []
    page.on("request", lambda r: searches.append(r.url) if "/api/search" in r.url else None)
    first = "() => document.querySelector('.tile') && document.querySelector('.tile').dataset.path"
    try:
        _ready(page, url + "?q=note:many")
        _wait_results(page, "note:many", 250)
        assert page.evaluate(first) == "many/img_000.png" and "page 1 of 3" in page.inner_text("#pageinfo")
        page.click("#next")
        page.wait_for_function(f"() => ({first})() === 'many/img_100.png'")
        assert "after=many%2Fimg_099.png" in page.url and "page 2 of 3" in page.inner_text("#pageinfo")
        assert "after=many%2Fimg_099.png" in searches[-1] and "offset=0" in searches[-1]
        page.click("#next")
        page.wait_for_function(f"() => ({first})() === 'many/img_200.png'")
        assert page.locator(".tile").count() == 50 and page.is_disabled("#next")
        page.click("#prev")
        page.wait_for_function(f"() => ({first})() === 'many/img_100.png'")
        assert "after=many%2Fimg_099.png" in searches[-1]
        page.go_back()
        page.wait_for_function(f"() => ({first})() === 'many/img_200.png'")
        page.click("#prev")
        page.click("#prev")
        page.wait_for_function(f"() => ({first})() === 'many/img_000.png'")
        assert "after=" not in page.url and page.is_disabled("#prev")
    finally:
        ctx.close()
        stop(proc)


def test_edits_from_the_detail_view(browser, tmp_path):
    """With --allow-edits: set a value and add a tag from the detail view; they are hand edits."""
    from metastore import Catalog

    proj = make_project(tmp_path / "proj")
    proc, url, _ = start_server(proj, "--allow-edits", env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    try:
        _ready(page, url + "?q=location:lab&open=images%2Fextra%2Fphoto_0.jpg")
        page.wait_for_selector("#detail:not([hidden]) #edit-form:not([hidden])")
        page.fill("#edit-key", "annotator")
        page.fill("#edit-value", "zoe")
        page.click("#edit-form button[type=submit]")
        page.wait_for_selector("#detail-values tr[data-key='annotator']")
        assert "zoe" in page.inner_text("#detail-values tr[data-key='annotator']")
        assert "edit" in page.inner_text("#detail-values tr[data-key='annotator']")
        page.fill("#edit-tag", "needs-review")
        page.click("#add-tag")
        page.wait_for_selector("#detail-tags .chip:has-text('needs-review')")
        page.fill("#edit-key", "temperature")
        page.fill("#edit-value", "warm")
        page.click("#edit-form button[type=submit]")
        page.wait_for_function("() => document.querySelector('#edit-error').textContent.includes('temperature')")
        page.click("#detail-values tr[data-key='annotator'] button")  # unset
        page.wait_for_selector("#detail-values tr[data-key='annotator']", state="detached")
        cat = Catalog(proj / "metastore.duckdb")
        assert cat.count("tag:needs-review") == 1 and cat.count("annotator:zoe") == 0
        assert [h.new for h in cat.history("images/extra/photo_0.jpg", "annotator")] == ["zoe", None]
    finally:
        ctx.close()
        stop(proc)
