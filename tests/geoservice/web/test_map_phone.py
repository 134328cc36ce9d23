"""The map page on a phone and on a desk (Chromium): layout, tap targets, tokens, pickers, first load.

At 390×844 and 844×390 with touch (``has_touch``, ``is_mobile``) and at 1400×900: no horizontal overflow,
every visible tap target at least 40 px (Playwright's ``bounding_box``), a marker tapped with a finger opens
its panel; a token revoked mid-session leaves the page reading as a guest under a banner; divisions are picked
by name; a road is registered only with its line or an explicit reason; the first load stays under 2 MB with
every URL fetched once. Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from geoservice.store import open_store
from geoservice.users import remove_user
from tests.geoservice.web.browser import ARTIFACTS
from tests.geoservice.web.conftest import SampleDatabase
from tests.geoservice.web.map_page import get_json, map_page, shot, wait_overlay

pytestmark = pytest.mark.browser

PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
LANDSCAPE: dict[str, Any] = {"viewport": {"width": 844, "height": 390}, "has_touch": True, "is_mobile": True}
DESK: dict[str, Any] = {"viewport": {"width": 1400, "height": 900}}
SIZES: dict[str, dict[str, Any]] = {"phone": PHONE, "landscape": LANDSCAPE, "desk": DESK}
MIN_TAP_PX = 40
FIRST_LOAD_LIMIT_BYTES = 2_000_000

# What a finger or a mouse acts on; a checkbox or radio counts by its label (the label is what is tapped).
TAP_TARGETS = (
    "button, a[href], select, input:not([type=checkbox]):not([type=radio]):not([type=hidden]),"
    " label:has(> input[type=checkbox]), label:has(> input[type=radio]), .leaflet-control-layers-toggle,"
    " .leaflet-bar a, .hits li, .suggest li, .tap-point"
)
# Visible: drawn, inside the viewport and not clipped away by a collapsed panel or the map's edge.
VISIBLE_TARGETS = """sel => [...document.querySelectorAll(sel)].map((el, i) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (!r.width || !r.height || s.visibility === 'hidden' || r.bottom <= 0 || r.right <= 0
        || r.top >= innerHeight || r.left >= innerWidth) return null;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const q = p.getBoundingClientRect(), ps = getComputedStyle(p);
      if (ps.overflowY !== 'visible' && (r.top >= q.bottom || r.bottom <= q.top)) return null;
      if (ps.overflowX !== 'visible' && (r.left >= q.right || r.right <= q.left)) return null;
    }
    el.dataset.tapIndex = String(i);
    return i;
  }).filter(i => i !== null)"""


def small_targets(page: Any, *, sample_points: int = 15) -> list[str]:
    """Visible tap targets under 40 px, each measured with Playwright's bounding_box (markers: a sample)."""
    indexes = page.evaluate(VISIBLE_TARGETS, TAP_TARGETS)
    small, points = [], 0
    for i in indexes:
        element = page.locator(f"[data-tap-index='{i}']").first
        if "tap-point" in (element.get_attribute("class") or ""):
            points += 1
            if points > sample_points:
                continue
        box = element.bounding_box()
        if box and (box["width"] < MIN_TAP_PX - 0.5 or box["height"] < MIN_TAP_PX - 0.5):
            label = element.evaluate(
                "e => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.textContent.slice(0, 30)"
            )
            small.append(f"{label} {box['width']:.0f}×{box['height']:.0f}")
    return small


def overflow_px(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


@pytest.mark.parametrize("size", ["phone", "landscape", "desk"])
def test_layout__every_mode_fits_with_finger_sized_targets(
    chromium, sample_db: SampleDatabase, sample_server: str, size: str
):
    context = SIZES[size]
    with map_page(chromium, sample_server, sample_db.tokens["admin"], **context) as page:
        page.wait_for_function("document.getElementById('who').textContent.includes('admin')")
        map_box = page.locator("#map").bounding_box()
        assert map_box["width"] >= context["viewport"]["width"] - 1 or size == "desk"  # the map is full width
        for mode in ("names", "siting", "markers", "signs"):
            page.click(f"button[data-mode={mode}]")
            shot(page, f"{size}-{mode}")
            assert overflow_px(page) <= 0, f"{mode}: the page scrolls sideways"
            small = small_targets(page)
            assert not small, f"{size} {mode}: tap targets under {MIN_TAP_PX} px: {small}"
        if size != "desk":  # the sheet folds away and the map takes the screen
            page.click("#sheet-handle")
            page.wait_for_timeout(300)
            sheet = page.locator("#panel").bounding_box()
            assert sheet["height"] <= 110
            shot(page, f"{size}-sheet-folded")
            toggle = page.locator(".leaflet-control-layers-toggle")
            assert toggle.is_visible()  # the layer list is collapsed behind its button
            assert not page.locator(".leaflet-control-layers-list").is_visible()


@pytest.mark.parametrize("size", ["phone", "landscape", "desk"])
def test_markers__a_finger_taps_a_marker_and_the_panel_shows_it(
    chromium, sample_db: SampleDatabase, sample_server: str, size: str
):
    marker = get_json(f"{sample_server}/collections/boundary_markers/items?limit=1")["features"][0]
    lon, lat = marker["geometry"]["coordinates"]
    with map_page(chromium, sample_server, sample_db.tokens["inspector"], **SIZES[size]) as page:
        page.click("button[data-mode=markers]")
        if size != "desk":
            page.click("#sheet-handle")  # fold the sheet: the marker must not sit under it
        page.evaluate("([lat, lon]) => geoserviceMap.setView([lat, lon], 17, {animate: false})", [lat, lon])
        wait_overlay(page, "boundary_markers")
        icon = page.locator(".marker-point").filter(has=page.locator(".dot")).first
        page.wait_for_function(
            "id => { let el = null; geoserviceMap.eachLayer(l => { if (l.feature && l.feature.id === id && l._icon)"
            " el = l._icon; }); if (el) el.dataset.testMarker = '1'; return !!el; }",
            arg=marker["id"],
            timeout=20_000,
        )
        icon = page.locator("[data-test-marker='1']")
        box = icon.bounding_box()
        assert box["width"] >= MIN_TAP_PX and box["height"] >= MIN_TAP_PX
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        if size == "desk":
            page.mouse.click(*centre)
        else:
            page.touchscreen.tap(*centre)
        page.wait_for_selector("#marker-detail h2", timeout=10_000)
        assert marker["properties"]["number"] in page.inner_text("#marker-detail")
        page.wait_for_function("!document.getElementById('marker-refs').textContent.startsWith('…')")
        facts = page.inner_text("#marker-facts")
        assert "方位物" in facts and "Installed" in facts and "Elevation" in facts
        shot(page, f"{size}-marker-tapped")


def test_markers__the_three_stakes_of_a_triple_marker_are_separate(
    chromium, sample_db: SampleDatabase, sample_server: str
):
    found = get_json(f"{sample_server}/collections/boundary_markers/items?limit=1000")["features"]
    triple = next(f for f in found if f["properties"]["number"].endswith("C"))
    base = triple["properties"]["number"][:-1]
    lon, lat = triple["geometry"]["coordinates"]
    with map_page(chromium, sample_server, sample_db.tokens["inspector"], **PHONE) as page:
        page.click("button[data-mode=markers]")
        page.click("#sheet-handle")
        page.evaluate("([lat, lon]) => geoserviceMap.setView([lat, lon], 18, {animate: false})", [lat, lon])
        wait_overlay(page, "boundary_markers")
        boxes = page.evaluate(
            """base => { const out = []; geoserviceMap.eachLayer(l => {
                 if (l.feature && l._icon && String(l.feature.properties.number).startsWith(base)) {
                   const r = l._icon.getBoundingClientRect(); out.push([r.x + r.width / 2, r.y + r.height / 2]); } });
               return out; }""",
            base,
        )
        assert len(boxes) == 3
        # three symbols, not one on top of another: their centres at least 12 px apart
        for i in range(3):
            for j in range(i + 1, 3):
                dx, dy = boxes[i][0] - boxes[j][0], boxes[i][1] - boxes[j][1]
                assert (dx * dx + dy * dy) ** 0.5 >= 12
        page.evaluate(
            "id => geoserviceMap.eachLayer(l => { if (l.feature && l.feature.id === id) l.fire('click'); })",
            triple["id"],
        )
        page.wait_for_selector("#marker-detail button.stake")
        assert page.locator("#marker-detail button.stake").count() == 3
        page.locator("#marker-detail button.stake", has_text=f"{base}E").tap()
        page.wait_for_function(f"document.querySelector('#marker-detail h2').textContent.includes('{base}E')")
        shot(page, "phone-triple-stakes")


def test_token__revoked_mid_session_reads_as_guest_under_a_banner(
    chromium, sample_db: SampleDatabase, writable_sample_server: str, tmp_path
):
    base = writable_sample_server
    store = open_store(tmp_path / "sample-copy.sqlite")
    try:
        from geoservice.users import add_user

        token = add_user(store, "phone-officer", "officer")
    finally:
        store.close()
    with map_page(chromium, base, f"Bearer {token}", **PHONE) as page:  # pasted with its "Bearer " prefix
        page.wait_for_function("document.getElementById('who').textContent.includes('phone-officer')")
        assert not page.is_visible("#token-banner")
        store = open_store(tmp_path / "sample-copy.sqlite")
        try:
            remove_user(store, "phone-officer")  # what `geoservice users remove phone-officer` does
        finally:
            store.close()
        page.fill("#search-q", "一元路")
        page.click("#search-form button")
        page.wait_for_selector("#search-hits li b", timeout=10_000)  # reading goes on, as a guest
        assert "一元路" in page.inner_text("#search-hits")
        assert page.is_visible("#token-banner")
        assert "令牌无效或已撤销 / token invalid or revoked" in page.inner_text("#token-banner")
        page.wait_for_function("document.getElementById('who').textContent.includes('guest')")
        shot(page, "phone-token-revoked")

        page.reload()  # after a reload the map still has its divisions and the banner is back
        page.wait_for_function(
            "document.querySelectorAll('img.leaflet-tile-loaded').length > 0", timeout=20_000
        )
        page.wait_for_selector("#token-banner:not([hidden])", timeout=10_000)
        page.wait_for_function(
            "document.querySelectorAll('.leaflet-tile-container canvas, path.leaflet-interactive').length > 0"
        )
        page.click("#token-clear")
        page.wait_for_function("document.getElementById('token-banner').hidden")
        assert page.evaluate("localStorage.getItem('geoservice.token')") is None
        assert "guest" in page.inner_text("#who")


def test_pickers__division_by_name_and_lists_in_words(
    chromium, sample_db: SampleDatabase, sample_server: str
):
    with map_page(chromium, sample_server, sample_db.tokens["planner"], **PHONE) as page:
        page.click("button[data-mode=siting]")
        page.locator("#siting-division").press_sequentially("江岸", delay=30)
        page.wait_for_selector("#siting-division-suggest li b", timeout=10_000)
        page.locator("#siting-division-suggest li", has_text="江岸区").first.tap()
        assert page.input_value("#siting-division") == "江岸区 420102"
        page.locator("#siting-division").fill("")
        page.locator("#siting-division").press_sequentially("武汉市", delay=30)
        page.wait_for_selector("#siting-division-suggest li:has-text('市级 city')", timeout=10_000)
        options = page.locator("#siting-type option").all_inner_texts()
        assert any("养老服务设施" in o for o in options) and not any("_" in o for o in options)
        assert page.locator("#siting-population").evaluate("e => e.tagName") == "SELECT"
        legend = page.inner_text("#facility-legend")
        assert "应急避难场所" in legend and page.locator("#facility-legend .sym").count() == 4
        shot(page, "phone-division-picker")


def test_officer__a_road_needs_its_line_or_a_reason_and_errors_sit_by_the_button(
    chromium, sample_db: SampleDatabase, writable_sample_server: str
):
    base = writable_sample_server
    with map_page(chromium, base, sample_db.tokens["officer"], **PHONE) as page:
        page.wait_for_function("document.getElementById('who').textContent.includes('officer')")
        page.fill("#name-name", "望湖路")
        page.fill("#name-division", "420102")
        page.click("#name-register")
        page.wait_for_selector("#name-result .issue")
        assert "no line drawn" in page.inner_text("#name-result")
        assert page.locator("#name-result").is_visible()  # next to the button, scrolled into view
        page.check("#name-nogeom")
        page.select_option("#name-nogeom-reason", index=1)
        page.click("#name-register")
        page.wait_for_function("document.getElementById('name-result').textContent.includes('registered')")
        result = page.inner_text("#name-result")
        assert "no line drawn" not in result and "no geometry" in result  # the stale error is gone
        shot(page, "phone-register-without-line")

        page.fill("#address-q", "武汉市江岸区一元路")
        page.click("#address-geocode")
        page.wait_for_function("Number(document.getElementById('map').dataset.geocoded) >= 1", timeout=10_000)
        assert "一元路" in page.inner_text("#address-result")
        page.click("#address-parse")
        page.wait_for_selector("#address-result table")
        assert "江岸区" in page.inner_text("#address-result")
    hits = get_json(f"{base}/names/search?q=%E6%9C%9B%E6%B9%96%E8%B7%AF&limit=5")["hits"]
    assert hits and hits[0]["name"] == "望湖路"


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_first_load__under_two_megabytes_each_url_once(
    chromium, sample_db: SampleDatabase, sample_server: str, size: str
):
    context = chromium.new_context(locale="zh-CN", **SIZES[size])
    try:
        page = context.new_page()
        page.add_init_script(
            f"localStorage.setItem('geoservice.token', {json.dumps(sample_db.tokens['officer'])})"
        )
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        urls: dict[str, str] = {}
        sizes: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        page.goto(f"{sample_server}/map")
        page.wait_for_load_state("networkidle")
        page.wait_for_function("document.getElementById('map').dataset.place_names === 'loaded'")
        page.wait_for_timeout(1000)
        total = sum(sizes.values())
        fetched = Counter(u for u in urls.values() if not u.startswith("data:"))
        twice = {u: n for u, n in fetched.items() if n > 1}
        (ARTIFACTS / f"first-load-{size}.json").write_text(
            json.dumps({"bytes": total, "requests": len(fetched)}, indent=1)
        )
        print(f"first load {size}: {total} bytes in {len(fetched)} requests")
        assert total < FIRST_LOAD_LIMIT_BYTES, total
        assert not twice, twice
        assert any("/tiles/roads/" in u and u.endswith(".mvt") for u in fetched)  # roads as vector tiles
    finally:
        context.close()


def test_planner__siting_on_a_phone_with_the_division_picked_by_name(
    chromium, sample_db: SampleDatabase, writable_sample_server: str
):
    with map_page(chromium, writable_sample_server, sample_db.tokens["planner"], **PHONE) as page:
        page.locator("button[data-mode=siting]").tap()
        page.select_option("#siting-type", "elderly_care")
        page.locator("#siting-division").press_sequentially("江岸区", delay=30)
        page.locator("#siting-division-suggest li", has_text="420102").first.tap()
        page.locator("#siting-form button[type=submit]").tap()
        page.wait_for_selector("#report-link", timeout=120_000)
        assert page.locator("#report-link").is_visible()  # the result sits by the button, in view
        assert "%" in page.inner_text("#siting-result")
        assert page.locator("path.proposed-site").count() == 5
        assert overflow_px(page) <= 0
        shot(page, "phone-siting-result")


@pytest.mark.parametrize(
    ("typed", "first"),
    [("江岸", ("420102", "county")), ("武汉", ("4201", "city")), ("4201", ("4201", "city"))],
)
def test_division_picker__names_and_codes_the_higher_level_first(
    sample_server: str, typed: str, first: tuple
):
    from urllib.parse import quote

    found = get_json(f"{sample_server}/map/divisions?limit=5&q={quote(typed)}")["divisions"]
    assert (found[0]["code"], found[0]["level"]) == first
    assert found[0]["chain"].startswith("湖北省武汉市")
    assert all(d["level_label"] and " " in d["level_label"] for d in found)  # 中文 and English


def test_officer__batch_upload_of_addresses_from_the_page(
    chromium, sample_db: SampleDatabase, writable_sample_server: str, tmp_path
):
    table = tmp_path / "addresses.csv"
    table.write_text("编号,地址\n1,武汉市江岸区一元路\n2,江岸区一元路1号\n", encoding="utf-8")
    with map_page(
        chromium, writable_sample_server, sample_db.tokens["officer"], **DESK, accept_downloads=True
    ) as page:
        page.wait_for_function("document.getElementById('who').textContent.includes('officer')")
        page.set_input_files("#batch-file", str(table))
        page.click("#batch-form button[type=submit]")
        page.wait_for_selector("#batch-rows", timeout=60_000)
        assert "2 行 rows" in page.inner_text("#batch-result")
        with page.expect_download() as download:
            page.click("#batch-rows")
        saved = tmp_path / "result.xlsx"
        download.value.save_as(saved)
        assert saved.read_bytes()[:2] == b"PK"  # an .xlsx (a zip), fetched with the officer's token
        shot(page, "desk-batch-upload")
