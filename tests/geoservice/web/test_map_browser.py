"""The map page in headless Chromium: our own tiles are drawn, a name is found, an inspection is recorded with
the browser's position; screenshots go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from geoservice.imports import register_population
from geoservice.users import add_user
from tests.geoservice.features.small_area import fill_small_area, write_population_raster
from tests.geoservice.web.browser import ARTIFACTS
from tests.geoservice.web.live_server import serve
from tests.geoservice.web.map_page import map_page


def _post(url: str, body: dict, token: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.browser
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_map_page__tiles_search_and_inspection(store, tmp_path, chromium):
    # the session's one Playwright (conftest ``chromium``): a second sync_playwright() in the same worker
    # process fails while the first is open ("Sync API inside the asyncio loop")
    area = fill_small_area(store, place_name=False)
    register_population(
        store, "small_60plus", [write_population_raster(tmp_path / "p60.tif")], age_group="60+"
    )
    token = add_user(store, "map-admin", "admin")
    ARTIFACTS.mkdir(exist_ok=True)
    marker = area["boundary_markers"][0]
    with store.transaction(user="t") as tx:  # the hand-made inspection lacks what the inspection API records
        tx.delete("marker_inspections", area["marker_inspections"][0].id)
    with serve(store, tmp_path) as base:
        _post(
            f"{base}/names",
            {"name": "江滩路", "category": "road", "division_code": "420102", "reason": "test"},
            token,
        )
        with map_page(
            chromium,
            base,
            token,
            geolocation={"longitude": 114.30002, "latitude": 30.70001, "accuracy": 5},
            permissions=["geolocation"],
        ) as page:
            page.wait_for_function(
                "document.querySelectorAll('path.leaflet-interactive').length > 0", timeout=20_000
            )
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "map-1-tiles.png"))
            assert "admin" in page.inner_text("#who")

            page.fill("#search-q", "江滩")
            page.click("#search-form button")
            page.wait_for_selector("#search-hits li b", timeout=10_000)
            assert "江滩路" in page.inner_text("#search-hits")
            page.screenshot(path=str(ARTIFACTS / "map-2-search.png"))

            page.click("button[data-mode=markers]")
            page.wait_for_timeout(800)
            page.evaluate(
                """id => geoserviceMap.eachLayer(l => { if (l.feature && l.feature.id === id) l.fire('click'); })""",
                marker.id,
            )
            page.wait_for_selector("#inspect-form", timeout=10_000)
            page.select_option("#inspect-condition", "damaged")
            page.click("#inspect-form button")
            page.wait_for_function(
                "document.getElementById('status').textContent.includes('m')", timeout=15_000
            )
            page.screenshot(path=str(ARTIFACTS / "map-3-inspection.png"))
            assert "displacement" in page.inner_text("#status"), page.inner_text("#status")
