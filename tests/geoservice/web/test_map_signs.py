"""The map page's signs and clean-up mode in headless Chromium: a campaign run from the page shows its findings
coloured by class with the worklist and progress; the sign layer and the signs to replace are listed; a sign's
popup names its condition in Chinese and English."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from shapely.geometry import LineString

from geoservice.gazetteer.name_import import import_names
from geoservice.gazetteer.names import NameInput
from geoservice.signs.inspections import SignInspectionInput, record_sign_inspection
from geoservice.signs.register import SignInput, register_sign
from geoservice.users import add_user
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions
from tests.geoservice.web.browser import ARTIFACTS
from tests.geoservice.web.live_server import serve
from tests.geoservice.web.map_page import click_map

DAZHI = "420102002"


@contextmanager
def signs_mode(chromium: Any, base: str, token: str) -> Iterator[Any]:
    """The /map page opened with an officer's ``token``, switched to the signs mode; no script errors allowed."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(f"localStorage.setItem('geoservice.token', {json.dumps(token)})")
        page.goto(f"{base}/map")
        page.wait_for_function(
            "document.getElementById('who').textContent.includes('officer')", timeout=20_000
        )
        page.click("button[data-mode=signs]")
        yield page
        assert errors == []
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_map_page__campaign_findings_worklist_and_signs(store, tmp_path, chromium) -> None:
    load_divisions(store)
    road = LineString([(114.29, 30.59), (114.31, 30.60)])
    result = import_names(
        store,
        [
            NameInput("中华大道", "road", DAZHI, geometry=road, reason="存量"),
            NameInput("中山路", "road", DAZHI, reason="存量"),
        ],
        status="current",
        user="test",
        reason="存量地名入库",
    )
    zhongshan = result.stored[1]
    assert zhongshan is not None
    register_sign(store, SignInput("road_plate", zhongshan.id, "中山路", "Zhongshan Road", 114.30, 30.595,
                                   condition="damaged"), user="test")  # fmt: skip
    token = add_user(store, "map-officer", "officer")
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(store, tmp_path) as base, signs_mode(chromium, base, token) as page:
        page.wait_for_function(
            "document.getElementById('map').dataset.place_signs === 'loaded'", timeout=20_000
        )
        page.fill("#campaign-division", "420102")
        page.click("#campaign-form button")
        page.wait_for_selector("#worklist li", timeout=60_000)
        worklist = page.inner_text("#worklist")
        assert "中华大道" in worklist and "大" in worklist
        assert "江岸区" in page.inner_text("#campaign-result table")
        assert int(page.evaluate("document.getElementById('map').dataset.findings")) >= 1
        drawn = page.evaluate(
            "Array.from(document.querySelectorAll('path.leaflet-interactive')).map(p => p.getAttribute('stroke'))"
        )
        assert "#e31a1c" in drawn  # the 大 finding's road drawn in its class colour
        page.click("#replace-load")
        page.wait_for_selector("#replace-result li", timeout=10_000)
        assert "中山路" in page.inner_text("#replace-result")
        page.screenshot(path=str(ARTIFACTS / "map-signs-cleanup.png"))


@pytest.mark.browser
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_map_page__sign_popup_shows_the_inspected_condition_in_chinese_and_english(
    store, tmp_path, chromium
) -> None:
    load_divisions(store)
    name = import_names(
        store,
        [NameInput("中山路", "road", DAZHI, reason="存量")],
        status="current",
        user="test",
        reason="存量",
    ).stored[0]
    assert name is not None
    sign = register_sign(store, SignInput("road_plate", name.id, "中山路", "Zhongshan Road", 114.30, 30.595),
                         user="test")  # fmt: skip
    inspection = SignInspectionInput("2025-05-12T09:30:00+08:00", "江岸巡检一组", "tilted", 114.30, 30.595)
    record_sign_inspection(store, sign.id, inspection, user="test")
    token = add_user(store, "map-officer", "officer")
    with serve(store, tmp_path) as base, signs_mode(chromium, base, token) as page:
        page.evaluate("geoserviceMap.setView([30.595, 114.30], 17)")
        page.wait_for_function(
            "document.getElementById('map').dataset.place_signs === 'loaded'", timeout=20_000
        )
        click_map(page, 114.30, 30.595)
        popup = page.wait_for_selector(".leaflet-popup-content", timeout=10_000)
        assert popup is not None
        text = popup.inner_text()
        assert "中山路" in text and "倾斜 Tilted" in text  # the inspection's condition, both languages
        assert "tilted" not in text  # not the raw condition id
