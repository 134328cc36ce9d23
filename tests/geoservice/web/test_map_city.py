"""The map page analyses the whole of Wuhan: a planner types the GB/T 2260 code 420100 (stored as 4201) and runs
elderly care over the city's 13 districts, in Chromium over the Wuhan sample database."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.geoservice.web.browser import ARTIFACTS
from tests.geoservice.web.conftest import SampleDatabase
from tests.geoservice.web.map_page import map_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_siting_mode__whole_city_by_its_six_digit_code(
    chromium, sample_db: SampleDatabase, writable_sample_server: str
):
    with map_page(chromium, writable_sample_server, sample_db.tokens["planner"]) as page:
        page.click("button[data-mode=siting]")
        page.select_option("#siting-type", "elderly_care")
        page.fill("#siting-division", "420100")
        page.click("#siting-form button[type=submit]")
        page.wait_for_selector("#report-link", timeout=600_000)
        summary = page.inner_text("#siting-result")
        assert "%" in summary and "→" in summary
        page.screenshot(path=str(ARTIFACTS / "sample-siting-city-420100.png"))  # no wait for every city tile
    with urllib.request.urlopen(f"{writable_sample_server}/siting/analyses?division_code=420100") as response:
        runs = json.load(response)["analyses"]
    assert len(runs) == 1 and runs[0]["status"] == "done"
    with urllib.request.urlopen(f"{writable_sample_server}/siting/analyses/{runs[0]['id']}") as response:
        run = json.load(response)
    districts = [d["division_code"] for d in run["summary"]["divisions"]]
    assert len(districts) == 13 and all(code.startswith("4201") and len(code) == 6 for code in districts)
