"""A small siting area in the store: two townships in central Wuhan, the real WorldPop 60+ rasters, facilities."""

from __future__ import annotations

import time
from typing import Any

import pytest
from shapely.geometry import Point, box

from tests.conftest import SHARED_DATA

DISTRICT = "420102"
TOWNSHIPS = ("420102001", "420102002")
WORLDPOP = SHARED_DATA / "worldpop-wuhan-elderly"


def seed_area(store: Any) -> dict[str, Any]:
    """Divisions, a registered 60+ population layer and three elderly-care centres (one with NaN beds later)."""
    from geoservice.imports import register_population
    from geoservice.store import Feature
    from layers.population import worldpop_bands

    with store.transaction(user="test") as tx:
        tx.insert(
            "divisions",
            Feature.new(
                {"code": DISTRICT, "name": "江岸区", "level": "county"}, box(114.27, 30.57, 114.33, 30.63)
            ),
        )
        tx.insert(
            "divisions",
            Feature.new(
                {"code": TOWNSHIPS[0], "name": "甲街道", "level": "township", "parent_code": DISTRICT},
                box(114.27, 30.57, 114.30, 30.63),
            ),
        )
        tx.insert(
            "divisions",
            Feature.new(
                {"code": TOWNSHIPS[1], "name": "乙街道", "level": "township", "parent_code": DISTRICT},
                box(114.30, 30.57, 114.33, 30.63),
            ),
        )
        for i, (lon, lat, beds) in enumerate(
            [(114.28, 30.59, 120), (114.31, 30.61, 80), (114.32, 30.58, 60)]
        ):
            tx.insert(
                "facilities",
                Feature.new(
                    {"name": f"养老院{i}", "kind": "elderly_care", "beds": beds, "division_code": DISTRICT},
                    Point(lon, lat),
                ),
            )
    register_population(store, "wuhan_60plus", worldpop_bands(WORLDPOP, min_age=60), age_group="60+")
    return {"district": DISTRICT, "townships": TOWNSHIPS}


def request_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "facility_type": "elderly_care",
        "division_code": DISTRICT,
        "population": "wuhan_60plus",
        "distance": "euclidean",
        "radius_m": 1000,
        "optimize": {"model": "mclp", "new_sites": 3},
    }
    return body | changes


def wait_done(client: Any, analysis_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
    """Poll the run until it is done or failed."""
    deadline = time.monotonic() + timeout_s
    while True:
        body = client.get(f"/siting/analyses/{analysis_id}").json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


@pytest.fixture
def area(store: Any) -> dict[str, Any]:
    return seed_area(store)
