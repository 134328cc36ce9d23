"""The map page over the Wuhan sample database, driven in Chromium as its users would drive it.

Names (officer): find 一元路, draw a road, see a duplicate name refused with the clashing road in red, register
a clean name. Siting (planner): elderly care in 江岸区, gaps and proposed sites, the report. Markers (inspector):
a marker's history, an inspection with the browser's position, the marker's new colour, a field package.
A screenshot per step goes to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest

from tests.geoservice.web.browser import ARTIFACTS
from tests.geoservice.web.conftest import SampleDatabase
from tests.geoservice.web.map_page import click_map, get_json, map_page, shot, wait_overlay

pytestmark = pytest.mark.browser

DAMAGED_ORANGE = "#fdae61"


def test_names_mode__search_draw_check_duplicate_and_register(
    chromium, sample_db: SampleDatabase, writable_sample_server: str
):
    base = writable_sample_server
    with map_page(chromium, base, sample_db.tokens["officer"]) as page:
        assert "map-officer" in page.inner_text("#who")
        shot(page, "names-1-start")

        page.fill("#search-q", "一元路")
        page.click("#search-form button")
        page.click("#search-hits li:has-text('一元路')")
        page.wait_for_function("document.getElementById('map').dataset.found", timeout=10_000)
        assert "一元路" in page.inner_text("#status")
        found = page.evaluate("geoserviceMap.getBounds().toBBoxString()").split(",")
        west, south, east, north = map(float, found)
        assert west < 114.317 < east and south < 30.656 < north  # 一元路 (江岸区) is in view
        shot(page, "names-2-found")

        # Draw a road a little south of 一元路 with the page's tool: two clicks and a double-click.
        page.click("#draw-start")
        centre = page.evaluate("geoserviceMap.getCenter()")
        lat, lon = centre["lat"] - 0.002, centre["lng"]
        click_map(page, lon - 0.004, lat)
        click_map(page, lon, lat - 0.0005)
        click_map(page, lon + 0.004, lat, double=True)
        assert "3" in page.inner_text("#status")  # the double-click ends the line, adding no point twice

        page.fill("#name-name", "一元路")
        page.fill("#name-division", "420102")
        page.click("#name-check")
        page.wait_for_function(
            "document.getElementById('map').dataset.conflictsShown === '1'", timeout=10_000
        )
        result = page.inner_text("#name-result")
        assert "重名 duplicate" in result and "冲突 conflict: 一元路" in result
        red_lines = page.locator("path[stroke='#d73027']")
        assert red_lines.count() >= 1  # the existing 一元路 highlighted on the map
        shot(page, "names-3-duplicate")

        page.fill("#name-name", "望岳路")
        page.click("#name-check")
        page.wait_for_selector("#name-result .ok", timeout=10_000)
        assert "Wangyue Lu" in page.inner_text("#name-result")
        page.click("#name-register")
        page.wait_for_function(
            "document.getElementById('name-result').textContent.includes('registered')", timeout=10_000
        )
        record = page.inner_text("#name-result")
        assert "望岳路" in record and "proposed" in record
        shot(page, "names-4-registered")

    hits = get_json(f"{base}/names/search?q=%E6%9C%9B%E5%B2%B3%E8%B7%AF&limit=5")["hits"]
    assert [(h["name"], h["status"]) for h in hits][:1] == [("望岳路", "proposed")]
    stored = get_json(f"{base}/collections/place_names/items/{hits[0]['id']}")
    # Served as its location (a point on the drawn road), the drawn line kept as the named feature's geometry.
    assert stored["geometry"]["type"] == "Point"
    drawn = stored["properties"]["feature_geometry"]
    assert drawn["type"] == "LineString" and len(drawn["coordinates"]) == 3
    assert stored["properties"]["location_source"] == "feature"


def test_names_mode__planner_sees_no_register_button_but_the_reason(
    chromium, sample_db: SampleDatabase, sample_server: str
):
    with map_page(chromium, sample_server, sample_db.tokens["planner"]) as page:
        page.wait_for_function("document.getElementById('who').textContent.includes('planner')")
        assert not page.is_visible("#name-register")
        assert page.is_visible("#name-check")  # anyone may check a name
        assert "needs an officer token" in page.inner_text("#mode-names")
        shot(page, "names-5-planner")


def test_siting_mode__elderly_care_gaps_sites_and_report(
    chromium, sample_db: SampleDatabase, writable_sample_server: str
):
    with map_page(chromium, writable_sample_server, sample_db.tokens["planner"]) as page:
        page.click("button[data-mode=siting]")
        assert page.is_visible("#siting-form")
        page.select_option("#siting-type", "elderly_care")
        page.fill("#siting-division", "420102")
        page.click("#siting-form button[type=submit]")
        page.wait_for_selector("#report-link", timeout=90_000)
        summary = page.inner_text("#siting-result")
        assert "%" in summary and "→" in summary
        proposed = page.locator("path.proposed-site")
        assert proposed.count() == 5  # the default five new sites, drawn
        assert page.locator("path[stroke='#7a0177']").count() >= 1  # gap polygons
        page.wait_for_function(  # the gap heat tiles are drawn
            "document.querySelectorAll(\"img.leaflet-tile-loaded[src*='coverage:']\").length > 0",
            timeout=20_000,
        )
        assert "未覆盖人口密度" in page.inner_text("#legend")
        shot(page, "siting-1-result")

        href = page.get_attribute("#report-link", "href")
        assert page.request.get(f"{writable_sample_server}{href}").status == 200
        with page.expect_popup() as popup:
            page.click("#report-link")
        report = popup.value
        report.wait_for_load_state()
        html = report.content()
        assert "采用的标准 / Standards" in html and "<table" in html  # the report names its standards
        report.screenshot(path=str(ARTIFACTS / "sample-siting-2-report.png"))


def test_siting_mode__fifteen_minute_walk_on_the_sample_roads(
    chromium, sample_db: SampleDatabase, writable_sample_server: str
):
    with map_page(chromium, writable_sample_server, sample_db.tokens["planner"]) as page:
        page.click("button[data-mode=siting]")
        page.select_option("#siting-type", "elderly_care")
        page.fill("#siting-division", "420102")
        page.select_option("#siting-distance", "walk_time")
        assert page.is_visible("#siting-minutes") and not page.is_visible("#siting-radius")
        page.fill("#siting-minutes", "15")
        page.fill("#siting-speed", "4.5")
        page.click("#siting-form button[type=submit]")
        page.wait_for_selector("#report-link", timeout=120_000)
        assert "walking time 15 min at 4.5 km/h" in page.inner_text("#siting-distance-used")
        assert page.inner_text("#siting-unreachable") != "–"  # the unreachable population, by reason
        shot(page, "siting-3-walk-time")
        href = page.get_attribute("#report-link", "href")
        report = page.request.get(f"{writable_sample_server}{href}").text()
        assert "walking time 15 min" in report and "Unreachable population" in report


def test_markers_mode__inspection_with_browser_position_and_field_package(
    chromium, sample_db: SampleDatabase, writable_sample_server: str, tmp_path: Path
):
    base = writable_sample_server
    marker = get_json(f"{base}/collections/boundary_markers/items?condition=intact&limit=1")["features"][0]
    lon, lat = marker["geometry"]["coordinates"]
    number = marker["properties"]["number"]
    here = {"longitude": lon + 0.00002, "latitude": lat + 0.00001, "accuracy": 3}  # ~2 m from the marker
    with map_page(
        chromium,
        base,
        sample_db.tokens["inspector"],
        geolocation=here,
        permissions=["geolocation"],
        accept_downloads=True,
    ) as page:
        page.click("button[data-mode=markers]")
        page.evaluate("([lat, lon]) => geoserviceMap.setView([lat, lon], 16)", [lat, lon])
        wait_overlay(page, "boundary_markers")
        page.wait_for_function(
            """id => { let drawn = false; geoserviceMap.eachLayer(l => {
                 if (l.feature && l.feature.id === id && (l._path || l._icon)) drawn = true; }); return drawn; }""",
            arg=marker["id"],
            timeout=20_000,
        )
        click_map(page, lon, lat)
        page.wait_for_function(
            "document.getElementById('marker-history') && !document.getElementById('marker-history')"
            ".textContent.startsWith('…')",
            timeout=20_000,
        )
        shot(page, "markers-1-history")
        detail = page.inner_text("#marker-detail")
        assert page.is_visible("#marker-history table"), (detail, page.inner_text("#status"))
        before = page.locator("#marker-history tr").count()
        assert number in detail

        page.select_option("#inspect-condition", "damaged")
        page.fill("#inspect-notes", "东侧有裂缝")
        page.click("#inspect-form button[type=submit]")
        page.wait_for_function(
            "document.getElementById('status').textContent.includes('recorded')", timeout=15_000
        )
        page.wait_for_function(f"document.querySelectorAll('#marker-history tr').length === {before + 1}")
        newest = page.locator("#marker-history tr").nth(1).inner_text()
        assert "损坏" in newest and " m" in newest
        wait_overlay(page, "boundary_markers")
        colour = page.evaluate(
            """id => { let c = null; geoserviceMap.eachLayer(l => {
                 if (l.feature && l.feature.id === id && l.options.fillColor) c = l.options.fillColor; }); return c; }""",
            marker["id"],
        )
        assert colour == DAMAGED_ORANGE
        shot(page, "markers-2-inspected")

        with page.expect_download() as download:
            page.click("#package-link")
        package = tmp_path / "field-package.gpkg"
        download.value.save_as(package)
    layers = {name for name, _ in pyogrio.list_layers(package)}
    assert {"boundary_lines", "boundary_markers", "last_inspections", "inspections"} <= layers
    latest = pyogrio.read_dataframe(package, layer="last_inspections")
    ours = latest[latest["marker_uuid"] == marker["id"]]
    assert list(ours["condition"]) == ["damaged"]  # the package carries the inspection just recorded
