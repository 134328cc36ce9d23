"""``/names`` routes on both backends: check, register, lifecycle with If-Match, rename, history, search, overdue."""

from __future__ import annotations

from typing import Any

import pytest

from geoservice.store import Store
from tests.geoservice.gazetteer.wuhan_divisions import load_divisions

DAZHI = "420102002"


@pytest.fixture
def api(client: Any, store: Store) -> Any:
    """The test client over a store holding the real Wuhan divisions."""
    load_divisions(store)
    return client


def body(name: str, category: str = "road", division_code: str = DAZHI, **extra: Any) -> dict[str, Any]:
    return {"name": name, "category": category, "division_code": division_code, **extra}


def test_check__ok_with_parts_and_romanisation(api: Any) -> None:
    response = api.post("/names/check", json=body("烈山大道"))
    assert response.status_code == 200
    result = response.json()
    assert result["ok"] is True and result["issues"] == []
    assert (result["specific"], result["generic"], result["romanized"]) == ("烈山", "大道", "Lieshan Dadao")
    assert result["scope"] == {"code": "4201", "name": "武汉市", "kind": "built_up"}


def test_check__homophone_issue_with_conflicts(api: Any, auth: dict) -> None:
    created = api.post("/names", json=body("烈山大道"), headers=auth["officer"]).json()
    result = api.post("/names/check", json=body("列山大道")).json()
    (issue,) = result["issues"]
    assert (issue["rule"], issue["severity"]) == ("homophone", "warning")
    assert issue["conflicts"] == [{"id": created["id"], "name": "烈山大道", "division_code": DAZHI}]
    assert " / " in issue["message"]  # bilingual


@pytest.mark.parametrize(
    ("payload", "status", "field", "rule"),
    [
        (body(""), 422, "name", "required"),
        (body("中" * 10_000), 422, "name", "max_input_chars"),
        (body("中山\u0007路"), 422, "name", "control_characters"),
        (body("中山路", division_code="999999"), 422, "division_code", "unknown_division"),
        (
            body(
                "三合村",
                "village",
                geometry={"type": "LineString", "coordinates": [[114.3, 30.6], [114.4, 30.7]]},
            ),
            422,
            "geometry",
            "geometry_type",
        ),
        (body("中山路", geometry={"type": "Point", "coordinates": "x"}), 422, "geometry", "geometry_invalid"),
        (body("中山路", category="river"), 422, "category", "unknown_category"),
    ],
    ids=[
        "empty",
        "10kB",
        "control",
        "unknown-division",
        "line-for-village",
        "bad-geojson",
        "unknown-category",
    ],
)
def test_check__bad_input_names_field_and_rule(
    api: Any, payload: dict, status: int, field: str, rule: str
) -> None:
    response = api.post("/names/check", json=payload)
    assert response.status_code == status
    error = response.json()
    assert (error["details"]["field"], error["details"]["rule"]) == (field, rule)
    assert error["message"]


def test_check__missing_field_is_422_naming_it(api: Any) -> None:
    response = api.post("/names/check", json={"name": "中山路", "category": "road"})
    assert response.status_code == 422
    assert response.json()["details"]["problems"][0]["field"] == "division_code"


def test_register__needs_an_officer(api: Any, auth: dict) -> None:
    assert api.post("/names", json=body("车站路")).status_code == 401
    assert api.post("/names", json=body("车站路"), headers=auth["planner"]).status_code == 403


def test_register__201_then_duplicate_409_with_conflicts(api: Any, auth: dict) -> None:
    response = api.post("/names", json=body("车站路", meaning="旧时通往火车站"), headers=auth["officer"])
    assert response.status_code == 201
    created = response.json()
    assert created["status"] == "proposed" and response.headers["etag"] == '"1"'
    assert created["romanized"] == "Chezhan Lu" and created["meaning"] == "旧时通往火车站"
    duplicate = api.post("/names", json=body("車站路", division_code="420103"), headers=auth["officer"])
    assert duplicate.status_code == 409
    assert duplicate.json()["details"]["conflicts"][0]["id"] == created["id"]


def test_register__warning_without_reason_is_422_then_ok_with_reason(api: Any, auth: dict) -> None:
    api.post("/names", json=body("烈山大道"), headers=auth["officer"])
    refused = api.post("/names", json=body("列山大道"), headers=auth["officer"])
    assert refused.status_code == 422
    assert refused.json()["details"]["rule"] == "reason_required"
    accepted = api.post("/names", json=body("列山大道", reason="两路不相邻"), headers=auth["officer"])
    assert accepted.status_code == 201
    assert accepted.json()["accepted_warnings"] == ["homophone"]


def test_register__rule_error_is_422(api: Any, auth: dict) -> None:
    response = api.post("/names", json=body("中山2路"), headers=auth["officer"])
    assert response.status_code == 422
    assert response.json()["details"]["rule"] == "latin_digits_symbols"


def test_lifecycle__approve_file_announce_with_if_match(api: Any, auth: dict) -> None:
    officer = auth["officer"]
    id = api.post("/names", json=body("京汉大道"), headers=officer).json()["id"]
    approved = api.post(
        f"/names/{id}/approve",
        json={"on": "2024-03-01", "approving_body": "武汉市人民政府"},
        headers={**officer, "If-Match": '"1"'},
    )
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["filing_due"]) == ("approved", "2024-03-16")
    stale = api.post(f"/names/{id}/file", headers={**officer, "If-Match": '"1"'})
    assert stale.status_code == 412
    illegal = api.post(f"/names/{id}/announce", headers={**officer, "If-Match": '"2"'})
    assert illegal.status_code == 422 and illegal.json()["details"]["rule"] == "transition"
    filed = api.post(f"/names/{id}/file", json={"on": "2024-03-05"}, headers={**officer, "If-Match": '"2"'})
    assert filed.json()["announcement_due"] == "2024-03-20"
    overdue = api.get("/names/overdue", params={"today": "2024-04-01"}).json()
    assert [(i["id"], i["step"], i["days_overdue"]) for i in overdue["items"]] == [(id, "announcement", 12)]


def test_rename__history_and_search_by_former_name(api: Any, auth: dict) -> None:
    officer = auth["officer"]
    id = api.post("/names", json=body("后城马路"), headers=officer).json()["id"]
    api.post(
        f"/names/{id}/approve",
        json={"approving_body": "武汉市人民政府"},
        headers={**officer, "If-Match": "1"},
    )
    renamed = api.post(
        f"/names/{id}/rename",
        json={"name": "胜利街", "reason": "恢复历史地名"},
        headers={**officer, "If-Match": "2"},
    )
    assert renamed.status_code == 200
    assert renamed.json()["alternates"][0]["name"] == "后城马路"
    history = api.get(f"/names/{id}/history").json()
    assert [row["action"] for row in history["history"]] == ["register", "approve", "rename"]
    assert history["history"][-1]["reason"].startswith("恢复历史地名")
    hit = api.get("/names/search", params={"q": "后城马路"}).json()["hits"][0]
    assert (hit["id"], hit["name"], hit["match"]) == (id, "胜利街", "historic")


def test_get__404_for_unknown_id(api: Any) -> None:
    assert api.get("/names/00000000-0000-0000-0000-000000000000").status_code == 404


def test_search__pinyin_initials_and_filters(api: Any, auth: dict) -> None:
    for name, code in (("中山大道", "420103"), ("中山路", "421303001")):
        api.post("/names", json=body(name, division_code=code), headers=auth["officer"])
    hits = api.get("/names/search", params={"q": "zsdd"}).json()["hits"]
    assert [(h["name"], h["match"]) for h in hits] == [("中山大道", "initials")]
    in_suizhou = api.get("/names/search", params={"q": "中山", "division_code": "4213"}).json()["hits"]
    assert [h["name"] for h in in_suizhou] == ["中山路"]
    bad = api.get("/names/search", params={"q": "中山", "division_code": "湖北"})
    assert bad.status_code == 400  # a malformed query parameter (the app's rule for query strings)
    assert bad.json()["details"]["problems"][0]["field"] == "division_code"


def test_rules__catalogue_names_sources_and_unverified_codes(api: Any) -> None:
    catalogue = api.get("/names/rules").json()
    assert "通用规范汉字表" in catalogue["character_table"]
    road = next(c for c in catalogue["categories"] if c["name"] == "road")
    assert (road["class_code"], road["class_code_verified"]) == ("23512", True)
    assert any(not c["class_code_verified"] for c in catalogue["categories"])
    assert {r["id"] for r in catalogue["rules"]} >= {"duplicate", "homophone", "leader_name", "too_long"}


def test_update__without_if_match_is_428_naming_the_header(api: Any, auth: dict) -> None:
    officer = auth["officer"]
    id = api.post("/names", json=body("京汉大道"), headers=officer).json()["id"]
    for path, payload in (
        (f"/names/{id}/approve", {"approving_body": "武汉市人民政府"}),
        (f"/names/{id}/rename", {"name": "胜利街", "reason": "恢复历史地名"}),
    ):
        response = api.post(path, json=payload, headers=officer)
        assert response.status_code == 428
        assert response.json()["details"]["field"] == "If-Match" and "If-Match" in response.json()["message"]
    assert api.get(f"/names/{id}").json()["status"] == "proposed"  # nothing was changed


def test_update__the_loser_of_a_race_gets_412_not_a_state_error(api: Any, auth: dict) -> None:
    officer = auth["officer"]
    id = api.post("/names", json=body("京汉大道"), headers=officer).json()["id"]
    approve = {"approving_body": "武汉市人民政府"}
    first = api.post(f"/names/{id}/approve", json=approve, headers={**officer, "If-Match": "1"})
    second = api.post(f"/names/{id}/approve", json=approve, headers={**officer, "If-Match": "1"})
    assert first.status_code == 200
    assert second.status_code == 412 and second.json()["details"]["current_version"] == 2
    renamed = api.post(
        f"/names/{id}/rename", json={"name": "胜利街", "reason": "更名"}, headers={**officer, "If-Match": "1"}
    )
    assert renamed.status_code == 412
