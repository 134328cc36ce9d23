"""OGC API – Features Part 3 (CQL2 filters) and sortby / properties / skipGeometry / queryables, on both
backends: what a client filtering the collections sees."""

from __future__ import annotations

import json
import time

import pytest
from pyproj import Geod
from shapely.geometry import Point, box

from geoservice.store import Feature, utc_now
from tests.geoservice.features.small_area import fill_small_area

ITEMS = "/collections/{}/items"


@pytest.fixture
def area(store):
    return fill_small_area(store)


def names(client, collection: str, **params) -> list[str]:
    response = client.get(ITEMS.format(collection), params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return [f["properties"]["name"] for f in response.json()["features"]]


def facility_names(indices) -> list[str]:
    return sorted(f"养老服务中心{i}" for i in indices)


# facility i sits at lon 114.21 + (i % 5) * 0.04, lat 30.56 + (i // 5) * 0.03 (small_area.py)
def facility_point(i: int) -> Point:
    return Point(114.21 + (i % 5) * 0.04, 30.56 + (i // 5) * 0.03)


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("facility_type = 'elderly_care' AND name LIKE '养老服务中心1_'", range(10, 20)),
        ("name IN ('养老服务中心3', '养老服务中心4', '不存在')", [3, 4]),
        ("name <> '养老服务中心0' AND name < '养老服务中心11'", [1, 10]),
        # text order: 养老服务中心2 < …20 < …24 < …3 < …4
        (
            "NOT (name LIKE '%1%') AND name BETWEEN '养老服务中心2' AND '养老服务中心4'",
            [2, 20, 22, 23, 24, 3, 4],
        ),
        ("division_code IS NULL", []),
        ("status IS NULL AND name = '养老服务中心7'", [7]),
        ("name = '养老服务中心5' OR name = '养老服务中心6'", [5, 6]),
    ],
)
def test_filter__cql2_text_comparisons_like_in_between_is_null(client, area, cql, expected):
    assert sorted(names(client, "facilities", filter=cql)) == facility_names(expected)


def test_filter__numbers_compare_as_numbers(client, area):
    # door plates 1, 2, 3: number is an integer queryable, so 10 > 3 (as text '10' < '3')
    assert sorted(names(client, "addresses", filter="number BETWEEN 2 AND 3")) == [
        "沿江大道2号",
        "沿江大道3号",
    ]
    assert names(client, "addresses", filter="number > 2") == ["沿江大道3号"]
    assert sorted(names(client, "addresses", filter="number IN (1, 3)")) == ["沿江大道1号", "沿江大道3号"]
    assert names(client, "addresses", filter="number < 10 AND number >= 3") == ["沿江大道3号"]


def test_filter__apostrophes_in_values_work(client, store, area):
    # Issue 13: the old character blacklist refused quotes; values are parameters, so Xi'an is just text.
    store.insert("place_names", Feature.new({"name": "西安路", "romanized": "Xi'an Lu", "category": "road"}))
    store.insert("place_names", Feature.new({"name": "奥尔良路", "romanized": "O'Neill's \"Lu\"; --"}))
    assert names(client, "place_names", filter="romanized = 'Xi''an Lu'") == ["西安路"]
    assert names(client, "place_names", filter="romanized LIKE 'Xi''an%'") == ["西安路"]
    assert names(client, "place_names", filter="romanized = 'O''Neill''s \"Lu\"; --'") == ["奥尔良路"]
    assert names(client, "place_names", romanized="Xi'an Lu") == ["西安路"]


def test_filter__like_is_case_sensitive_and_casei_is_not(client, store, area):
    store.insert("place_names", Feature.new({"name": "西安路", "romanized": "Xi'an Lu", "category": "road"}))
    assert names(client, "place_names", filter="romanized LIKE 'xi%'") == []
    assert names(client, "place_names", filter="CASEI(romanized) LIKE CASEI('xI%')") == ["西安路"]
    assert names(client, "place_names", filter="CASEI(romanized) = CASEI('XI''AN LU')") == ["西安路"]


def test_filter__cql2_json_gives_what_cql2_text_gives(client, area):
    text = "facility_type = 'elderly_care' AND name LIKE '养老服务中心2%'"
    tree = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "facility_type"}, "elderly_care"]},
            {"op": "like", "args": [{"property": "name"}, "养老服务中心2%"]},
        ],
    }
    by_json = names(
        client, "facilities", filter=json.dumps(tree, ensure_ascii=False), **{"filter-lang": "cql2-json"}
    )
    assert (
        sorted(by_json)
        == sorted(names(client, "facilities", filter=text))
        == facility_names([2, *range(20, 25)])
    )


def test_filter__spatial_functions(client, area):
    west = "S_INTERSECTS(geometry, BBOX(114.20, 30.55, 114.26, 30.70))"  # columns i % 5 in (0, 1)
    assert sorted(names(client, "facilities", filter=west)) == facility_names(
        i for i in range(25) if i % 5 < 2
    )
    polygon = "POLYGON((114.20 30.55, 114.30 30.55, 114.30 30.60, 114.20 30.60, 114.20 30.55))"
    within = names(client, "facilities", filter=f"S_WITHIN(geometry, {polygon})")
    assert sorted(within) == facility_names(i for i in range(25) if i % 5 < 3 and i // 5 < 2)
    assert names(client, "divisions", filter="S_CONTAINS(geometry, POINT(114.3 30.6))") == ["江岸区"]
    assert names(client, "divisions", filter="S_CONTAINS(geometry, POINT(120 30.6))") == []
    assert names(client, "roads", filter="S_INTERSECTS(geom, LINESTRING(114.30 30.50, 114.30 30.70))") == [
        "沿江大道"
    ]


def test_filter__dwithin_is_metres_on_the_ellipsoid(client, area):
    centre, radius_m = Point(114.30, 30.62), 6000.0
    geod = Geod(ellps="GRS80")
    expected = [
        i for i in range(25) if geod.inv(centre.x, centre.y, *facility_point(i).coords[0])[2] <= radius_m
    ]
    assert 0 < len(expected) < 25
    cql = f"S_DWITHIN(geometry, POINT({centre.x} {centre.y}), {radius_m / 1000}, kilometers)"
    assert sorted(names(client, "facilities", filter=cql)) == facility_names(expected)


def test_filter__filter_crs_reads_lat_lon_literals(client, area):
    lonlat = names(client, "facilities", filter="S_INTERSECTS(geometry, BBOX(114.20, 30.55, 114.26, 30.70))")
    latlon = names(
        client,
        "facilities",
        filter="S_INTERSECTS(geometry, BBOX(30.55, 114.20, 30.70, 114.26))",
        **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
    )
    assert sorted(latlon) == sorted(lonlat) and len(lonlat) == 10


def test_filter__spatial_and_temporal_parts_together(client, store, area):
    # The same features on SQLite and PostGIS: the facilities changed after `since` inside the box.
    since = utc_now()
    time.sleep(0.01)
    with store.transaction(user="fixture") as tx:
        for i in (0, 1, 7, 13, 24):
            tx.update("facilities", area["facilities"][i].id, properties={"capacity": 40})
    cql = (
        "S_INTERSECTS(geometry, POLYGON((114.20 30.55, 114.30 30.55, 114.30 30.65, 114.20 30.65, 114.20 30.55)))"
        f" AND T_AFTER(updated_at, TIMESTAMP('{since}'))"
    )
    inside = {i for i in range(25) if box(114.20, 30.55, 114.30, 30.65).intersects(facility_point(i))}
    assert sorted(names(client, "facilities", filter=cql)) == facility_names(inside & {0, 1, 7, 13, 24})
    interval = f"T_INTERSECTS(updated_at, INTERVAL('{since}', '..')) AND S_INTERSECTS(geometry, BBOX(114, 30, 115, 31))"
    assert sorted(names(client, "facilities", filter=interval)) == facility_names([0, 1, 7, 13, 24])
    before = f"T_BEFORE(updated_at, TIMESTAMP('{since}'))"
    assert len(names(client, "facilities", filter=before)) == 20


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"filter": "colour = 'red'"}, "'colour' is not a queryable of facilities; queryables: name, code"),
        ({"filter": "name = "}, "line 1, column 8"),
        ({"filter": "name = 'a' AND"}, "not valid cql2-text"),
        ({"filter": '{"op": "=", "args": [', "filter-lang": "cql2-json"}, "not valid cql2-json"),
        ({"filter": "name = 'a'", "filter-lang": "ecql"}, "unsupported filter-lang"),
        ({"filter-lang": "cql2-text"}, "without filter"),
        ({"filter": "S_INTERSECTS(name, POINT(1 2))"}, "geometry properties only"),
        ({"filter": "T_AFTER(name, TIMESTAMP('2020-01-01T00:00:00Z'))"}, "date-time properties only"),
        ({"filter": "updated_at > 'yesterday'"}, "cannot be compared"),
        ({"filter": "ACCENTI(name) = ACCENTI('a')"}, "ACCENTI is not supported"),
        ({"filter": "S_DWITHIN(geometry, POINT(1 2), 5, furlongs)"}, "meters or kilometers"),
        ({"filter": "S_TOUCHES(geometry, POINT(1 2))"}, "not supported"),
        ({"sortby": "colour"}, "cannot sort facilities by 'colour'"),
        ({"sortby": "name;drop"}, "sortby must be"),
        ({"properties": "name,,code"}, "properties must be"),
        ({"skipGeometry": "yes"}, "skipGeometry must be true or false"),
        ({"filter": "name = 'a'", "filter-crs": "EPSG:9999"}, "unsupported filter-crs"),
    ],
)
def test_filter__bad_requests_are_400_and_say_what(client, area, params, mentions):
    response = client.get(ITEMS.format("facilities"), params=params)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert mentions in message and " / " in message  # bilingual: 中文 / English
    assert "Traceback" not in response.text


def test_filter__parse_error_gives_the_position(client, area):
    body = client.get(ITEMS.format("facilities"), params={"filter": "name = "}).json()
    assert body["details"]["line"] == 1 and body["details"]["column"] == 8
    assert "第 1 行第 8 列" in body["message"]


def test_sortby__orders_by_queryables(client, area):
    descending = names(client, "facilities", sortby="-name", limit=3)
    assert descending == sorted(facility_names(range(25)), reverse=True)[:3]
    assert names(client, "addresses", sortby="-number") == ["沿江大道3号", "沿江大道2号", "沿江大道1号"]
    # a '+' left unencoded in the URL arrives as a space: still ascending
    response = client.get("/collections/addresses/items?sortby=+number")
    assert [f["properties"]["number"] for f in response.json()["features"]] == [1, 2, 3]


def test_properties_and_skip_geometry__shape_each_feature(client, area):
    response = client.get(
        ITEMS.format("facilities"), params={"properties": "name,capacity", "skipGeometry": "true"}
    )
    feature = response.json()["features"][0]
    assert feature["geometry"] is None
    assert set(feature["properties"]) == {"name"}


def test_queryables__real_json_schema_types(client):
    addresses = client.get("/collections/addresses/queryables").json()["properties"]
    assert addresses["number"]["type"] == "integer"
    assert addresses["name"]["type"] == "string"
    assert addresses["updated_at"] == {"title": "updated_at", "type": "string", "format": "date-time"}
    assert addresses["geometry"]["format"] == "geometry-point"
    divisions = client.get("/collections/divisions/queryables").json()
    assert (
        divisions["properties"]["geometry"]["format"] == "geometry-multipolygon"
    )  # issue 12: the type clients are served
    assert {"id": "level"} in divisions["queryables"]  # the draft's list, read by GDAL's OAPIF driver


def test_conformance__filter_classes_listed(client):
    classes = client.get("/conformance").json()["conformsTo"]
    for suffix in (
        "features-3/1.0/conf/filter",
        "features-3/1.0/conf/features-filter",
        "cql2/1.0/conf/cql2-text",
    ):
        assert any(c.endswith(suffix) for c in classes), suffix
    assert not any(c.endswith("conf/temporal-functions") for c in classes)  # not every temporal operator


def test_openapi__filter_parameters_with_their_enums(client):
    operation = client.get("/openapi.json").json()["paths"]["/collections/{collectionId}/items"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    # cql-text: the draft's name, which GDAL's OAPIF driver looks for before it sends a filter
    assert parameters["filter-lang"]["enum"] == ["cql2-text", "cql2-json", "cql-text"]
    assert parameters["skipGeometry"]["type"] == "boolean"
    assert "pattern" in parameters["sortby"]


@pytest.mark.slow
def test_number_matched__estimated_past_the_threshold_and_said_so(client, store):
    from geoservice.api.items_query import EXACT_COUNT_MAX

    many = EXACT_COUNT_MAX + 500
    points = [Feature.new({"name": f"点{i}", "kind": "x"}, Point(114 + i * 1e-5, 30.5)) for i in range(many)]
    with store.transaction(user="fixture") as tx:
        tx.insert_many("facilities", points)
    body = client.get(ITEMS.format("facilities"), params={"filter": "kind = 'x'", "limit": 5}).json()
    assert body["numberMatchedEstimated"] is True
    assert body["numberMatched"] > EXACT_COUNT_MAX
    assert {link["rel"] for link in body["links"]} >= {"next"}
    exact = client.get(ITEMS.format("facilities"), params={"filter": "name = '点7'"}).json()
    assert exact["numberMatched"] == 1 and "numberMatchedEstimated" not in exact
