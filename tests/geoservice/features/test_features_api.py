"""OGC API – Features on both backends: landing, conformance, collections, items (bbox, CRS, paging, filters),
one item, and every bad request answered with a 4xx that names the problem."""

from __future__ import annotations

import pytest

from geoservice.store import COLLECTIONS
from tests.geoservice.features.small_area import fill_small_area

PUBLIC = [
    "divisions",
    "place_names",
    "roads",
    "addresses",
    "boundary_lines",
    "boundary_markers",
    "marker_inspections",
    "facilities",
    "place_signs",  # issue 18: the OGC API serves signs and their inspections like any collection
    "sign_inspections",
]


@pytest.fixture
def area(store):
    return fill_small_area(store)


def test_landing_page__links_to_api_conformance_and_collections(client):
    body = client.get("/").json()
    rels = {link["rel"] for link in body["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels


def test_conformance__core_geojson_and_crs(client):
    classes = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    assert not any("html" in c for c in classes)  # no HTML encoding is served, so none is claimed


def test_collections__only_public_ones_with_crs_list(client):
    collections = client.get("/collections").json()["collections"]
    assert [c["id"] for c in collections] == PUBLIC
    assert "http://www.opengis.net/def/crs/EPSG/0/4490" in collections[0]["crs"]


@pytest.mark.parametrize("collection", PUBLIC)
def test_items__every_collection_serves_geojson(client, area, collection):
    response = client.get(f"/collections/{collection}/items")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert (
        body["numberMatched"] == len(area[collection]) == body["numberReturned"]
        or body["numberReturned"] == 10
    )
    # Each collection serves the one geometry type it declares (QGIS reads it from this first page).
    declared = COLLECTIONS[collection].item_geometry_type
    assert {f["geometry"]["type"] for f in body["features"] if f["geometry"]} == {declared}


def test_items__paging_links_walk_every_feature_once(client, area):
    seen: list[str] = []
    url: str | None = "/collections/facilities/items?limit=10"
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert sorted(seen) == sorted(f.id for f in area["facilities"])


def test_items__limit_over_maximum_is_clamped_not_refused(client, area):
    body = client.get("/collections/facilities/items?limit=100000").json()
    assert body["numberReturned"] == 25


def test_items__bbox_selects_features_inside(client, area):
    body = client.get("/collections/facilities/items?bbox=114.20,30.55,114.22,30.57").json()
    assert [f["properties"]["name"] for f in body["features"]] == ["养老服务中心0"]


def test_items__bbox_crs_epsg4326_is_lat_lon(client, area):
    url = "/collections/facilities/items?bbox=30.55,114.20,30.57,114.22&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326"
    assert client.get(url).json()["numberMatched"] == 1


@pytest.mark.parametrize(
    ("crs", "first_coordinate"),
    [
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 114.21),
        ("http://www.opengis.net/def/crs/EPSG/0/4326", 30.56),
        ("http://www.opengis.net/def/crs/EPSG/0/4490", 30.56),
        ("http://www.opengis.net/def/crs/EPSG/0/3857", 12713799.0),
    ],
    ids=["crs84-lon-first", "4326-lat-first", "4490-lat-first", "3857-metres"],
)
def test_items__crs_sets_axis_order_and_content_crs(client, area, crs, first_coordinate):
    response = client.get(f"/collections/facilities/items?limit=1&crs={crs}")
    assert response.headers["content-crs"] == f"<{crs}>"
    assert response.json()["features"][0]["geometry"]["coordinates"][0] == pytest.approx(
        first_coordinate, abs=1
    )


def test_items__filter_on_queryable(client, area):
    body = client.get("/collections/boundary_markers/items?marker_kind=J").json()
    assert body["numberMatched"] == 1
    assert client.get("/collections/boundary_markers/items?marker_kind=X").json()["numberMatched"] == 0


def test_items__filter_value_with_an_apostrophe_in_a_romanised_name(client, store, area):
    from geoservice.store import Feature

    store.insert("place_names", Feature.new({"name": "西安路", "romanized": "Xi'an Lu", "category": "road"}))
    body = client.get("/collections/place_names/items", params={"romanized": "Xi'an Lu"}).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["西安路"]


def test_item__by_id_with_links(client, area):
    marker = area["boundary_markers"][0]
    body = client.get(f"/collections/boundary_markers/items/{marker.id}").json()
    assert body["id"] == marker.id
    assert {link["rel"] for link in body["links"]} == {"self", "collection"}


def test_queryables__lists_promoted_and_collection_fields(client):
    properties = client.get("/collections/boundary_markers/queryables").json()["properties"]
    assert {"name", "code", "line_id", "marker_kind"} <= set(properties)


@pytest.mark.parametrize(
    ("url", "status", "mentions"),
    [
        ("/collections/facilities/items?bbox=1,2,3", 400, "bbox"),
        ("/collections/facilities/items?bbox=114.4,30,114.2,31", 400, "minimum greater than maximum"),
        ("/collections/facilities/items?bbox=a,b,c,d", 400, "numbers"),
        ("/collections/facilities/items?limit=-1", 400, "limit"),
        ("/collections/facilities/items?limit=ten", 400, "integer"),
        ("/collections/facilities/items?offset=-5", 400, "offset"),
        ("/collections/facilities/items?colour=red", 400, "colour"),
        ("/collections/facilities/items?crs=EPSG:9999", 400, "unsupported crs"),
        ("/collections/nowhere/items", 404, "nowhere"),
        ("/collections/analyses/items", 404, "analyses"),
        ("/collections/facilities/items/no-such-id", 404, "no-such-id"),
    ],
    ids=[
        "bbox-3-numbers",
        "bbox-min-over-max",
        "bbox-not-numbers",
        "limit-negative",
        "limit-text",
        "offset-negative",
        "unknown-parameter",
        "unknown-crs",
        "unknown-collection",
        "private-collection",
        "unknown-feature",
    ],
)
def test_bad_requests__clear_4xx(client, area, url, status, mentions):
    response = client.get(url)
    assert response.status_code == status
    body = response.json()
    assert mentions.lower() in body["message"].lower()
    assert "Traceback" not in response.text and "SELECT" not in response.text


@pytest.mark.parametrize("value", ["x' OR 1=1--", "a;DROP TABLE facilities", 'say "hi" /* no */ \\'])
def test_items__sql_looking_filter_value_is_plain_text(client, area, value):
    # Issue 13: no character blacklist; every value is a bound parameter, so it matches only itself.
    response = client.get("/collections/facilities/items", params={"name": value})
    assert response.status_code == 200
    assert response.json()["numberMatched"] == 0


def test_bad_requests__sql_in_filter_leaves_the_table(client, area):
    client.get("/collections/facilities/items?name=a;DROP%20TABLE%20facilities")
    assert client.get("/collections/facilities/items").json()["numberMatched"] == 25


@pytest.mark.parametrize("collection", PUBLIC)
def test_schema__declares_the_one_geometry_type_and_is_linked(client, collection):
    described = client.get(f"/collections/{collection}").json()
    link = next(link for link in described["links"] if link["rel"] == "describedby")
    assert link["href"].endswith(f"/collections/{collection}/schema")
    schema = client.get(f"/collections/{collection}/schema")
    assert schema.status_code == 200 and schema.headers["content-type"].startswith("application/schema+json")
    geometry = schema.json()["properties"]["geometry"]
    declared = COLLECTIONS[collection].item_geometry_type
    assert geometry["x-ogc-role"] == "primary-geometry"
    assert geometry["format"] == f"geometry-{declared.lower()}"


def test_collections__extent_comes_from_the_data_and_follows_writes(client, area, store):
    from shapely.geometry import Point

    from geoservice.store import Feature

    def bbox(collection):
        return client.get(f"/collections/{collection}").json()["extent"]["spatial"]["bbox"][0]

    assert bbox("divisions") == pytest.approx([114.20, 30.55, 114.40, 30.70])  # the district, not China
    store.insert(
        "facilities", Feature.new({"name": "远处", "kind": "elderly_care"}, Point(115.0, 31.0)), user="t"
    )
    assert bbox("facilities")[2:] == pytest.approx(
        [115.0, 31.0]
    )  # the cached extent was dropped on the write


def test_items__records_with_a_geometry_come_first(client, area, store):
    from geoservice.store import Feature

    with store.transaction(user="t") as tx:
        tx.insert_many("divisions", [Feature.new({"code": f"4{i}", "name": f"省{i}"}) for i in range(12)])
    first = client.get("/collections/divisions/items", params={"limit": 1}).json()
    assert first["numberMatched"] == 13 and first["features"][0]["properties"]["name"] == "江岸区"
    assert first["features"][0]["geometry"]["type"] == "MultiPolygon"
