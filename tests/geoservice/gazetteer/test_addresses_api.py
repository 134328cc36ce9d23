"""HTTP: /addresses/parse, /geocode, /reverse, /roads/{id}/door-plates (both backends)."""

from __future__ import annotations

import pytest

from tests.geoservice.gazetteer.address_data import add_road, load_divisions, north, south


@pytest.fixture
def loaded(store):
    load_divisions(store)
    return add_road(store)


def entrances(*points) -> list[dict[str, float]]:
    return [{"lon": p.x, "lat": p.y} for p in points]


def test_parse__contract_shape(client, loaded) -> None:
    response = client.post("/addresses/parse", json={"text": "江岸區大智街道解放大道八十八號3栋2单元501室"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"components", "ambiguities", "unresolved"}
    assert body["components"] == {
        "province": {"name": "湖北省", "code": "42"},
        "city": {"name": "武汉市", "code": "4201"},
        "county": {"name": "江岸区", "code": "420102"},
        "township": {"name": "大智街道", "code": "420102002"},
        "road": "解放大道",
        "number": "88号",
        "building": "3",
        "unit": "2",
        "room": "501",
    }


def test_parse__notes_on_request_say_what_was_not_standard(client, loaded) -> None:
    text = "湖北省襄樊市襄城区 湖北省襄樊市樊城区人民路1号"
    body = client.post("/addresses/parse?notes=true", json={"text": text}).json()
    assert body["components"]["county"] == {"name": "樊城区", "code": "420606"}
    kinds = [(n["kind"], n["text"]) for n in body["notes"]]
    assert ("dropped", "湖北省襄樊市襄城区") in kinds
    assert ("former_name", "襄樊市") in kinds
    assert "notes" not in client.post("/addresses/parse", json={"text": text}).json()


def test_parse__ambiguity_lists_candidates(client, loaded) -> None:
    body = client.post("/addresses/parse", json={"text": "鼓楼区中山路1号"}).json()
    assert "county" not in body["components"]
    assert len(body["ambiguities"][0]["candidates"]) == 4
    assert body["unresolved"] == "鼓楼区"


@pytest.mark.parametrize(
    ("payload", "status", "rule"),
    [
        pytest.param({"text": ""}, 422, "required", id="empty"),
        pytest.param({"text": "武" * 10_000}, 422, "max_length", id="ten_kb"),
        pytest.param({"text": "武汉\x00江岸"}, 422, "control_characters", id="control_chars"),
    ],
)
def test_parse__bad_text_is_a_clear_4xx(client, payload: dict, status: int, rule: str) -> None:
    response = client.post("/addresses/parse", json=payload)
    assert response.status_code == status
    details = response.json()["details"]
    assert details["field"] == "text" and details["rule"] == rule


def test_parse__missing_text_field(client) -> None:
    response = client.post("/addresses/parse", json={"address": "x"})
    assert response.status_code == 422
    assert response.json()["details"]["problems"][0]["field"] == "text"


def test_door_plates__officer_numbers_then_geocode_and_reverse_find_them(client, auth, loaded) -> None:
    road_id = loaded
    response = client.post(
        f"/roads/{road_id}/door-plates",
        json={"entrances": entrances(north(114.312), south(114.312), north(114.300))},
        headers=auth["officer"],
    )
    assert response.status_code == 201, response.text
    plates = response.json()["plates"]
    assert [p["label"] for p in plates] == ["1号", "2号", "3号"]
    assert plates[0]["address"] == "湖北省武汉市江岸区大智街道解放大道1号"

    found = client.get("/geocode", params={"q": "武汉江岸解放大道3号"}).json()
    assert found["candidates"][0]["precision"] == "door"
    assert found["candidates"][0]["record_id"] == plates[2]["id"]

    here = client.get("/reverse", params={"lon": 114.3121, "lat": 30.6001}).json()
    assert here["address"] == "湖北省武汉市江岸区大智街道解放大道1号"
    assert here["divisions"][-1]["name"] == "大智街道"


def test_door_plates__later_building_does_not_renumber(client, auth, loaded) -> None:
    road_id = loaded
    client.post(
        f"/roads/{road_id}/door-plates",
        json={"entrances": entrances(north(114.312), north(114.30))},
        headers=auth["officer"],
    )
    response = client.post(
        f"/roads/{road_id}/door-plates",
        json={"entrances": entrances(north(114.306)), "rule": {"suffix_style": "zhi"}},
        headers=auth["officer"],
    )
    assert response.json()["plates"][0]["label"] == "1号之一"


@pytest.mark.parametrize(
    ("role", "status"),
    [pytest.param(None, 401, id="anonymous"), pytest.param("planner", 403, id="planner")],
)
def test_door_plates__officers_only(client, auth, loaded, role: str | None, status: int) -> None:
    headers = auth[role] if role else {}
    response = client.post(
        f"/roads/{loaded}/door-plates", json={"entrances": entrances(north(114.31))}, headers=headers
    )
    assert response.status_code == status


@pytest.mark.parametrize(
    ("road", "body", "status", "field"),
    [
        pytest.param(
            "unknown", {"entrances": [{"lon": 114.31, "lat": 30.6002}]}, 404, "road_id", id="unknown_road"
        ),
        pytest.param(
            None, {"entrances": [{"lon": 114.31, "lat": 30.70}]}, 422, "entrances[0]", id="far_point"
        ),
        pytest.param(
            None, {"entrances": [{"lon": 514.31, "lat": 30.60}]}, 422, "entrances[0]", id="lon_out_of_range"
        ),
    ],
)
def test_door_plates__bad_input_names_field(
    client, auth, loaded, road, body: dict, status: int, field: str
) -> None:
    response = client.post(f"/roads/{road or loaded}/door-plates", json=body, headers=auth["officer"])
    assert response.status_code == status
    assert response.json()["details"]["field"] == field


def test_door_plates__empty_entrance_list_is_refused(client, auth, loaded) -> None:
    response = client.post(f"/roads/{loaded}/door-plates", json={"entrances": []}, headers=auth["officer"])
    assert response.status_code == 422
    assert response.json()["details"]["problems"][0]["field"] == "entrances"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"lon": 181, "lat": 30}, "lon", id="lon"),
        pytest.param({"lon": 114, "lat": 95}, "lat", id="lat"),
        pytest.param({"lon": 114, "lat": 30, "radius_m": 0}, "radius_m", id="radius"),
    ],
)
def test_reverse__out_of_range_is_422(client, params: dict, field: str) -> None:
    response = client.get("/reverse", params=params)
    assert response.status_code == 422
    assert response.json()["details"]["field"] == field


def test_reverse__in_the_sea_says_why(client, loaded) -> None:
    body = client.get("/reverse", params={"lon": 150.0, "lat": 20.0}).json()
    assert body["reason"] == "outside_china" and body["divisions"] == []


def test_geocode__empty_query_names_q(client) -> None:
    response = client.get("/geocode", params={"q": ""})
    assert response.status_code == 422
    assert response.json()["details"]["field"] == "q"


def test_geocode__limit_out_of_range_names_limit(client) -> None:
    # query-parameter validation is a 400 in this service (bad request, not bad content)
    response = client.get("/geocode", params={"q": "武汉", "limit": 0})
    assert response.status_code == 400
    assert response.json()["details"]["problems"][0]["field"] == "limit"
