"""The /map page in a browser (地图页面): opened with a token, clicked where a place is drawn, waited on, pictured.

Shared by the browser tests of the map page; screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.geoservice.web.browser import ARTIFACTS

LOADED = "document.querySelectorAll('img.leaflet-tile-loaded').length > 0"
SESSION_KNOWN = "document.body.dataset.session === 'known'"


@contextmanager
def map_page(browser: Any, base: str, token: str | None, **context: Any) -> Iterator[Any]:
    """The /map page in a fresh browser context with ``token`` stored, tiles drawn; no script errors allowed."""
    ctx = browser.new_context(**({"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"} | context))
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if token:
        page.add_init_script(f"localStorage.setItem('geoservice.token', {json.dumps(token)})")
    try:
        page.goto(f"{base}/map")
        page.wait_for_function(LOADED, timeout=20_000)
        # #who shows the page's guest guess until /map/session has answered
        page.wait_for_function(SESSION_KNOWN, timeout=20_000)
        yield page
        assert not errors, errors
    finally:
        ctx.close()


def shot(page: Any, name: str) -> None:
    page.wait_for_function(
        "!Object.values(document.getElementById('map').dataset).includes('loading')", timeout=20_000
    )
    page.wait_for_timeout(400)  # let tiles and vectors settle for the picture
    page.screenshot(path=str(ARTIFACTS / f"sample-{name}.png"))


def click_map(page: Any, lon: float, lat: float, *, double: bool = False) -> None:
    """A real mouse click on the map where ``lon``/``lat`` is drawn."""
    x, y = page.evaluate(
        "([lat, lon]) => { const p = geoserviceMap.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [lat, lon],
    )
    box = page.locator("#map").bounding_box()
    (page.mouse.dblclick if double else page.mouse.click)(box["x"] + x, box["y"] + y)


def wait_overlay(page: Any, collection: str) -> None:
    page.wait_for_function(
        f"document.getElementById('map').dataset.{collection} === 'loaded'", timeout=20_000
    )


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())
