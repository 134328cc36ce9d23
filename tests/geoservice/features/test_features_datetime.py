"""OGC API – Features ``datetime`` on both backends: instants, bounded and open intervals on the inspection
time of marker_inspections and on ``updated_at`` elsewhere; a bad value is a 400 naming ``datetime``."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from shapely.geometry import Point

from geoservice.store import Feature
from tests.geoservice.features.small_area import fill_small_area

#: Inspection times as field teams record them: a naive local (UTC+8) time, UTC, an explicit offset.
INSPECTED = {
    "2015": "2015-07-02T16:33:00",
    "2020": "2020-06-15T08:00:00Z",
    "2025": "2025-04-14T09:34:00+08:00",
}


@pytest.fixture
def area(store):
    area = fill_small_area(store)
    marker = area["boundary_markers"][0]
    with store.transaction(user="fixture") as tx:
        area["dated"] = [
            tx.insert(
                "marker_inspections",
                Feature.new(
                    {"marker_id": marker.id, "condition": "intact", "team": year, "inspected_at": at},
                    Point(114.30001, 30.70001),
                ),
            )
            for year, at in INSPECTED.items()
        ]
    return area


def teams(client, when: str) -> list[str]:
    response = client.get(f"/collections/marker_inspections/items?datetime={quote(when)}&limit=100")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["numberMatched"] == body["numberReturned"]
    return sorted(f["properties"]["team"] for f in body["features"])


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2020-06-15T08:00:00Z", ["2020"]),
        ("2020-06-15T16:00:00+08:00", ["2020"]),  # the same instant written in Beijing time
        ("2015-07-02T08:33:00Z", ["2015"]),  # a naive field time is China Standard Time
        ("2025-04-14", ["2025"]),  # a date is the whole day
        ("2016-01-01T00:00:00Z/2025-12-31T23:59:59Z", ["2020", "2025"]),
        ("2015-07-02/2020-06-15", ["2015", "2020"]),  # date ends include their whole day
        ("../2020-12-31T00:00:00Z", ["2015", "2020"]),
        ("2020-06-15T08:00:00.000001Z/..", ["2025"]),
        ("2021-01-01/", ["2025"]),  # an empty end is open too
        ("2030-01-01T00:00:00Z", []),
    ],
    ids=[
        "instant-utc",
        "instant-offset",
        "instant-naive-is-cst",
        "date-whole-day",
        "bounded",
        "bounded-dates",
        "open-start",
        "open-end",
        "empty-end",
        "nothing",
    ],
)
def test_items_datetime__on_inspection_time(client, area, when, expected):
    assert teams(client, when) == expected


def test_items_datetime__without_it_every_inspection_is_served(client, area):
    body = client.get("/collections/marker_inspections/items?limit=100").json()
    assert body["numberMatched"] == 1 + len(INSPECTED)  # the undated one too


def test_items_datetime__other_collections_filter_on_last_change(client, area):
    first = area["facilities"][0]
    at = first.updated_at
    body = client.get(f"/collections/facilities/items?datetime={quote(at)}&limit=100").json()
    assert first.id in {f["id"] for f in body["features"]}
    since = client.get(f"/collections/facilities/items?datetime={quote(at)}/..&limit=100").json()
    assert since["numberMatched"] == len(area["facilities"])
    before = client.get("/collections/facilities/items?datetime=../2000-01-01").json()
    assert before["numberMatched"] == 0 and before["features"] == []


def test_items_datetime__pages_keep_the_filter(client, area):
    at = area["facilities"][0].updated_at
    url: str | None = f"/collections/facilities/items?datetime={quote(at)}/..&limit=10"
    seen = []
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        assert url is None or "datetime=" in url
    assert sorted(seen) == sorted(f.id for f in area["facilities"])


def test_items_datetime__combines_with_bbox_and_filters(client, area):
    body = client.get(
        "/collections/marker_inspections/items?datetime=2016-01-01/..&team=2025&bbox=114.2,30.6,114.4,30.8"
    ).json()
    assert [f["properties"]["team"] for f in body["features"]] == ["2025"]


@pytest.mark.parametrize(
    "when",
    [
        "yesterday",
        "2025-13-01",
        "2025-04-14T25:00:00Z",
        "2025/2026",
        "2025-01-01/2024-01-01",
        "a/b/c",
        "../.x",
    ],
    ids=["word", "bad-month", "bad-hour", "years-only", "start-after-end", "three-parts", "bad-end"],
)
def test_items_datetime__bad_value_is_400_naming_the_parameter(client, area, when):
    response = client.get(f"/collections/marker_inspections/items?datetime={quote(when)}")
    assert response.status_code == 400
    body = response.json()
    assert "datetime" in body["message"] and body["details"]["field"] == "datetime"


def test_conformance__claims_only_what_holds(client):
    classes = client.get("/conformance").json()["conformsTo"]
    assert classes == [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        # issue 13: Part 3 and CQL2, each exercised in test_features_filter.py
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
        "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
        "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
        # Part 4 and OGC API – Tiles, tested in test_feature_edits / the tiles tests
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
        "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
        "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
    ]
    document = client.get("/openapi.json").json()
    assert not document["openapi"].startswith("3.0")  # oas30 would need an OpenAPI 3.0 document
    items = document["paths"]["/collections/{collectionId}/items"]["get"]
    assert {"bbox", "limit", "offset", "datetime", "crs"} <= {p["name"] for p in items["parameters"]}


def test_collection__names_its_temporal_property(client):
    body = client.get("/collections/marker_inspections").json()
    assert "inspected_at" in body["description"]
    assert body["extent"]["temporal"]["interval"] == [[None, None]]
