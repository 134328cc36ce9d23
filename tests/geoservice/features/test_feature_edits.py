"""OGC API – Features Part 4 over a real server on both backends: create, replace, patch and delete through the
standard endpoints, If-Match (412 stale, 428 missing), roles, the name check's 409, history kept where it
matters, an audit row for each write, and every change visible in the next vector tile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from geoservice.store import Store
from geoservice.tiles.grid import tiles_covering
from geoservice.tiles.mvt import decode
from tests.geoservice.features.small_area import fill_small_area
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions
from tests.geoservice.web.live_server import serve

ROAD_POINT = (114.31, 30.62)
ROAD = {
    "type": "Feature",
    "geometry": {"type": "LineString", "coordinates": [[114.305, 30.615], [114.315, 30.625]]},
    "properties": {"name": "试验新路", "road_class": "local", "division_code": "420102"},
    "reason": "新建道路 / new road",
}
Z = 14


@pytest.fixture
def server(store: Store, tokens: dict[str, str], tmp_path: Path) -> Any:
    load_divisions(store)
    fill_small_area(store, place_name=False)
    with serve(store, tmp_path) as base, httpx.Client(base_url=base, timeout=60) as http:
        yield http


def _who(tokens: dict[str, str], role: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}", **headers}


def _tile_names(http: httpx.Client, layer: str) -> dict[str, str]:
    """UUID → name of the features in the z14 tile around :data:`ROAD_POINT` (the next tile a map fetches)."""
    x, y, _, _ = tiles_covering((*ROAD_POINT, *ROAD_POINT), Z)
    response = http.get(f"/tiles/{layer}/{Z}/{x}/{y}.mvt")
    if response.status_code == 204:
        return {}
    assert response.status_code == 200
    features = decode(response.content).get(layer, {}).get("features", [])
    return {f["properties"]["id"]: f["properties"].get("name") for f in features}


def test_road__create_replace_patch_delete_with_officer_token_and_next_tile(
    server: httpx.Client, store: Store, tokens: dict[str, str]
) -> None:
    http, officer = server, _who(tokens, "officer")
    assert "试验新路" not in _tile_names(http, "roads").values()

    created = http.post("/collections/roads/items", json=ROAD, headers=officer)
    assert created.status_code == 201, created.text
    road_id = created.json()["id"]
    assert created.headers["Location"].endswith(f"/collections/roads/items/{road_id}")
    assert created.headers["ETag"] == '"1"'
    assert _tile_names(http, "roads")[road_id] == "试验新路"
    assert http.get(f"/collections/roads/items/{road_id}").headers["ETag"] == '"1"'

    replaced_body = {**ROAD, "properties": {**ROAD["properties"], "name": "试验二路"}}  # type: ignore[dict-item]
    item = f"/collections/roads/items/{road_id}"
    replaced = http.put(item, json=replaced_body, headers={**officer, "If-Match": '"1"'})
    assert replaced.status_code == 200 and replaced.headers["ETag"] == '"2"'
    assert _tile_names(http, "roads")[road_id] == "试验二路"

    stale = http.patch(
        item, json={"properties": {"name": "试验三路"}}, headers={**officer, "If-Match": '"1"'}
    )
    assert stale.status_code == 412 and stale.json()["details"]["current_version"] == 2
    missing = http.patch(item, json={"properties": {"name": "试验三路"}}, headers=officer)
    assert missing.status_code == 428 and missing.json()["details"]["field"] == "If-Match"
    assert _tile_names(http, "roads")[road_id] == "试验二路"  # neither changed anything

    patched = http.patch(
        item,
        json={"properties": {"name": "试验三路", "road_class": None}},
        headers={**officer, "If-Match": '"2"'},
    )
    assert patched.status_code == 200 and patched.headers["ETag"] == '"3"'
    props = patched.json()["properties"]
    assert props["name"] == "试验三路" and "road_class" not in props and props["division_code"] == "420102"
    assert _tile_names(http, "roads")[road_id] == "试验三路"

    deleted = http.delete(item, headers={**officer, "If-Match": '"3"'}, params={"reason": "测试"})
    assert deleted.status_code == 204
    assert http.get(item).status_code == 404
    assert road_id not in _tile_names(http, "roads")

    with store.transaction(readonly=True) as tx:
        actions = [entry.action for entry in tx.history("roads", road_id)]
    assert actions == ["create", "update", "update", "delete"]


def test_roles__reader_inspector_and_officer_on_divisions_refused(
    server: httpx.Client, tokens: dict[str, str]
) -> None:
    assert server.post("/collections/roads/items", json=ROAD).status_code == 401
    assert (
        server.post("/collections/roads/items", json=ROAD, headers=_who(tokens, "inspector")).status_code
        == 403
    )
    division = {
        "type": "Feature",
        "geometry": None,
        "properties": {"code": "420102999", "name": "试验街道", "level": "township", "parent_code": "420102"},
    }
    officer = server.post("/collections/divisions/items", json=division, headers=_who(tokens, "officer"))
    assert officer.status_code == 403
    admin = server.post("/collections/divisions/items", json=division, headers=_who(tokens, "admin"))
    assert admin.status_code == 201, admin.text


def test_place_name__through_the_name_check_duplicate_409_and_delete_refuses_not_deletes(
    server: httpx.Client, tokens: dict[str, str]
) -> None:
    officer = _who(tokens, "officer")
    name = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [114.29, 30.6]},
        "properties": {"name": "烈山大道", "category": "road", "division_code": "420102002"},
    }
    first = server.post("/collections/place_names/items", json=name, headers=officer)
    assert first.status_code == 201, first.text
    assert first.json()["properties"]["romanized"] == "Lieshan Dadao"  # the registry's record
    again = server.post("/collections/place_names/items", json=name, headers=officer)
    assert again.status_code == 409 and first.json()["id"] in str(again.json()["details"])

    item = f"/collections/place_names/items/{first.json()['id']}"
    moved = {"geometry": {"type": "Point", "coordinates": [114.3, 30.61]}}
    assert server.patch(item, json=moved, headers={**officer, "If-Match": "1"}).status_code == 422
    assert server.delete(item, headers={**officer, "If-Match": "1"}).status_code == 204
    kept = server.get(item)
    assert kept.status_code == 200 and kept.json()["properties"]["status"] == "refused"
    assert server.post("/collections/place_names/items", json=name, headers=officer).status_code == 201


def test_door_plate__delete_retires_and_frees_the_label(server: httpx.Client, tokens: dict[str, str]) -> None:
    officer = _who(tokens, "officer")
    road = server.get("/collections/roads/items").json()["features"][0]
    plate = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [114.3, 30.615]},
        "properties": {"road_id": road["id"], "number": 99, "label": "99号", "name": "沿江大道99号"},
    }
    created = server.post("/collections/addresses/items", json=plate, headers=officer)
    assert created.status_code == 201, created.text
    assert server.post("/collections/addresses/items", json=plate, headers=officer).status_code == 409
    item = f"/collections/addresses/items/{created.json()['id']}"
    assert server.delete(item, headers={**officer, "If-Match": "1"}).status_code == 204
    assert server.get(item).json()["properties"]["status"] == "retired"
    assert server.post("/collections/addresses/items", json=plate, headers=officer).status_code == 201


def test_not_editable_collection__405_with_allow(server: httpx.Client, tokens: dict[str, str]) -> None:
    body = {"type": "Feature", "geometry": None, "properties": {}}
    response = server.post(
        "/collections/marker_inspections/items", json=body, headers=_who(tokens, "officer")
    )
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert "marker_inspections" in response.json()["message"]


def test_marker__registered_through_the_marker_checks_and_superseded_not_deleted(
    server: httpx.Client, tokens: dict[str, str]
) -> None:
    officer = _who(tokens, "officer")
    line_id = server.get("/collections/boundary_lines/items").json()["features"][0]["id"]
    references = [
        {"azimuth_deg": 45.0 * i, "distance_m": 20.0 + i, "description": f"电杆 {i}"} for i in range(1, 4)
    ]
    marker = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [114.32, 30.70]},
        "properties": {
            "line_id": line_id,
            "number": "420102420116002Q",
            "reference_objects": references,
        },
    }
    far = {**marker, "geometry": {"type": "Point", "coordinates": [114.32, 30.72]}}
    refused = server.post("/collections/boundary_markers/items", json=far, headers=officer)
    assert refused.status_code == 422, refused.text
    assert "distance_to_line" in str(refused.json()["details"])
    created = server.post("/collections/boundary_markers/items", json=marker, headers=officer)
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["number"] == "420102420116002Q"

    item = f"/collections/boundary_markers/items/{created.json()['id']}"
    assert server.delete(item, headers={**officer, "If-Match": "1"}).status_code == 204
    kept = server.get(item)
    assert kept.status_code == 200 and kept.json()["properties"]["status"] == "superseded"
    again = server.patch(item, json={"properties": {"elevation_m": 30}}, headers={**officer, "If-Match": "2"})
    assert again.status_code == 409
    replacement = server.post("/collections/boundary_markers/items", json=marker, headers=officer)
    assert replacement.status_code == 201  # the number is free for the marker that replaces it
