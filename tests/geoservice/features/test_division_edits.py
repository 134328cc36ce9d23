"""A city's stored union follows its districts' polygons when an admin edits one over HTTP (SQLite and PostGIS):
the edit and the unions above it are one transaction, so a refused edit leaves both as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

from geoservice.division_areas import CHILDREN_UNION, fill_division_polygons
from geoservice.imports import division_id
from geoservice.store import Feature, Store
from tests.geoservice.web.live_server import serve

JIANGAN = box(114.27, 30.57, 114.33, 30.63)
JIANGHAN = box(114.24, 30.57, 114.27, 30.63)
WIDER_JIANGAN = box(114.27, 30.57, 114.36, 30.66)


def _division(code: str, name: str, level: str, parent: str | None, geometry: Any = None) -> Feature:
    props = {"code": code, "name": name, "level": level, "parent_code": parent}
    return Feature.new(props, geometry, id=division_id(code), key=code.ljust(12, "0"))


@pytest.fixture
def server(store: Store, tmp_path: Path) -> Any:
    """湖北 42 → 武汉 4201 (the union of) → 江岸区 and 江汉区 with polygons; unions stored as an import does."""
    with store.transaction(user="test") as tx:
        tx.insert_many(
            "divisions",
            [
                _division("42", "湖北省", "province", None),
                _division("4201", "武汉市", "city", "42"),
                _division("420102", "江岸区", "county", "4201", JIANGAN),
                _division("420103", "江汉区", "county", "4201", JIANGHAN),
            ],
        )
        assert fill_division_polygons(tx) == 2
    with serve(store, tmp_path) as base, httpx.Client(base_url=base, timeout=60) as http:
        yield http


def _item(http: httpx.Client, code: str) -> tuple[BaseGeometry, str, dict[str, Any]]:
    response = http.get(f"/collections/divisions/items/{division_id(code)}")
    assert response.status_code == 200, response.text
    body = response.json()
    return shape(body["geometry"]), response.headers["ETag"], body["properties"]


def _patch(http: httpx.Client, tokens: dict[str, str], code: str, body: dict[str, Any]) -> httpx.Response:
    _, etag, _ = _item(http, code)
    headers = {"Authorization": f"Bearer {tokens['admin']}", "If-Match": etag}
    return http.patch(f"/collections/divisions/items/{division_id(code)}", json=body, headers=headers)


def test_district_polygon_edited__city_and_province_unions_follow(
    server: httpx.Client, tokens: dict[str, str]
) -> None:
    city_before, _, _ = _item(server, "4201")
    assert city_before.equals(JIANGAN.union(JIANGHAN))

    edited = _patch(server, tokens, "420102", {"geometry": mapping(WIDER_JIANGAN), "reason": "界线调整"})
    assert edited.status_code == 200, edited.text

    city, _, props = _item(server, "4201")
    province, _, _ = _item(server, "42")
    assert city.equals(WIDER_JIANGAN.union(JIANGHAN))  # the city grew with its district
    assert city.covers(box(114.33, 30.63, 114.36, 30.66)) and not city_before.covers(city)
    assert props["geometry_source"] == CHILDREN_UNION
    assert province.equals(city)  # and the province with its city


def test_district_deleted__city_union_is_the_remaining_district(
    server: httpx.Client, tokens: dict[str, str]
) -> None:
    _, etag, _ = _item(server, "420103")
    headers = {"Authorization": f"Bearer {tokens['admin']}", "If-Match": etag}
    deleted = server.delete(f"/collections/divisions/items/{division_id('420103')}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    city, _, _ = _item(server, "4201")
    assert city.equals(JIANGAN)


def test_district_rename__city_union_not_rewritten(server: httpx.Client, tokens: dict[str, str]) -> None:
    _, city_etag, _ = _item(server, "4201")
    assert _patch(server, tokens, "420102", {"properties": {"name": "江岸"}}).status_code == 200
    assert _item(server, "4201")[1] == city_etag  # the city's version (ETag) did not move


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"geometry": {"type": "LineString", "coordinates": [[114.27, 30.57], [114.4, 30.7]]}}, 422),
        ({"geometry": mapping(WIDER_JIANGAN), "properties": {"parent_code": "4299"}}, 422),
    ],
    ids=["line_for_a_polygon", "unknown_parent"],
)
def test_refused_district_edit__district_and_city_unchanged(
    server: httpx.Client, tokens: dict[str, str], body: dict[str, Any], status: int
) -> None:
    district_before, district_etag, _ = _item(server, "420102")
    city_before, city_etag, _ = _item(server, "4201")
    refused = _patch(server, tokens, "420102", body)
    assert refused.status_code == status, refused.text
    district, etag, _ = _item(server, "420102")
    city, city_etag_after, _ = _item(server, "4201")
    assert district.equals(district_before) and etag == district_etag
    assert city.equals(city_before) and city_etag_after == city_etag
