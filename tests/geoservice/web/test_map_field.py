"""Field work on a phone (外业): inspections without GPS, and offline, reaching the server exactly once.

Chromium at 390×844 with touch. With the position denied a team types coordinates, picks the point on the
map, or records the marker missing with no position. Recorded while the browser is offline, an inspection
waits in the page's outbox and is sent when the browser is back online; when the server stored it but the
answer was lost, the retry carries the same UUID and the server keeps one row.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.geoservice.web.conftest import SampleDatabase
from tests.geoservice.web.map_page import click_map, get_json, map_page, shot, wait_overlay

pytestmark = pytest.mark.browser

PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


def inspections(base: str, marker_id: str) -> list[dict[str, Any]]:
    return get_json(f"{base}/boundaries/markers/{marker_id}/inspections")["inspections"]


def marker_and_count(base: str, offset: int) -> tuple[dict[str, Any], int]:
    """The ``offset``-th marker of the sample and how many inspections it has now."""
    marker = get_json(f"{base}/collections/boundary_markers/items?limit=1&offset={offset}")["features"][0]
    return marker, len(inspections(base, marker["id"]))


def open_marker(page: Any, marker: dict[str, Any]) -> None:
    lon, lat = marker["geometry"]["coordinates"]
    page.click("button[data-mode=markers]")
    page.evaluate("([lat, lon]) => geoserviceMap.setView([lat, lon], 17, {animate: false})", [lat, lon])
    wait_overlay(page, "boundary_markers")
    page.evaluate(
        "id => geoserviceMap.eachLayer(l => { if (l.feature && l.feature.id === id) l.fire('click'); })",
        marker["id"],
    )
    page.wait_for_selector("#inspect-form", timeout=10_000)


def outbox(page: Any) -> int:
    return int(page.evaluate("JSON.parse(localStorage.getItem('geoservice.outbox') || '[]').length"))


def test_inspection__offline_then_online_reaches_the_server_once(
    chromium, sample_db: SampleDatabase, writable_sample_server: str
):
    base = writable_sample_server
    marker, before = marker_and_count(base, 0)
    lon, lat = marker["geometry"]["coordinates"]
    with map_page(
        chromium, base, sample_db.tokens["inspector"], **PHONE
    ) as page:  # no geolocation permission
        open_marker(page, marker)
        page.select_option("#inspect-source", "typed")
        page.fill("#inspect-lon", f"{lon + 0.00002:.7f}")
        page.fill("#inspect-lat", f"{lat + 0.00001:.7f}")
        page.select_option("#inspect-condition", "damaged")
        page.context.set_offline(True)
        page.click("#inspect-submit")
        page.wait_for_function(
            "document.getElementById('inspect-result').textContent.includes('when back online')"
        )
        assert outbox(page) == 1 and page.is_visible("#outbox")
        assert len(inspections(base, marker["id"])) == before  # nothing reached the server yet
        shot(page, "field-1-offline-queued")

        page.context.set_offline(False)  # the browser's "online" event sends the outbox
        page.wait_for_function("document.body.dataset.outbox === '0'", timeout=20_000)
        page.wait_for_function("document.getElementById('status').textContent.includes('sent 1')")
        rows = inspections(base, marker["id"])
        assert len(rows) == before + 1
        assert rows[-1]["condition"] == "damaged" and rows[-1]["displacement_m"] < 5
        shot(page, "field-2-sent")


def test_inspection__a_lost_answer_is_retried_with_the_same_uuid_and_stored_once(
    chromium, sample_db: SampleDatabase, writable_sample_server: str
):
    base = writable_sample_server
    marker, before = marker_and_count(base, 5)
    with map_page(chromium, base, sample_db.tokens["inspector"], **PHONE) as page:
        open_marker(page, marker)
        page.select_option("#inspect-source", "none")  # marker missing, no position
        assert page.input_value("#inspect-condition") == "missing"
        posted: list[str] = []

        def store_then_drop(route: Any) -> None:  # the server stores it; the phone never hears back
            posted.append(route.request.post_data_json["uuid"])
            route.fetch()
            route.abort("connectionreset")

        page.route(
            "**/inspections",
            lambda route: store_then_drop(route) if route.request.method == "POST" else route.continue_(),
        )
        page.click("#inspect-submit")
        page.wait_for_function(
            "document.getElementById('inspect-result').textContent.includes('when back online')"
        )
        assert outbox(page) == 1
        assert len(inspections(base, marker["id"])) == before + 1  # stored though the phone does not know
        page.unroute("**/inspections")

        page.evaluate("geoservice.flushOutbox()")  # what the next "online" event or the 30 s timer does
        page.wait_for_function("document.body.dataset.outbox === '0'", timeout=20_000)
        rows = inspections(base, marker["id"])
        assert len(rows) == before + 1  # the retry (same UUID) answered 409 and was dropped, not stored again
        assert (
            rows[-1]["id"] == posted[0]
            and rows[-1]["position"] is None
            and rows[-1]["condition"] == "missing"
        )


def test_inspection__position_picked_on_the_map(
    chromium, sample_db: SampleDatabase, writable_sample_server: str
):
    base = writable_sample_server
    marker, before = marker_and_count(base, 9)
    lon, lat = marker["geometry"]["coordinates"]
    with map_page(chromium, base, sample_db.tokens["inspector"], **PHONE) as page:
        open_marker(page, marker)
        page.select_option("#inspect-source", "map")
        page.wait_for_timeout(300)  # the sheet folds so the map can be tapped
        click_map(page, lon + 0.0003, lat + 0.0003)
        page.wait_for_function("document.getElementById('inspect-picked').textContent.includes('picked')")
        page.click("#inspect-submit")
        page.wait_for_function(
            "document.getElementById('status').textContent.includes('recorded')", timeout=15_000
        )
        shot(page, "field-3-picked-on-map")
    rows = inspections(base, marker["id"])
    assert len(rows) == before + 1 and 20 < rows[-1]["displacement_m"] < 80
