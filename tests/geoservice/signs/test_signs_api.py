"""``/signs``, ``/cleanup`` and ``/publication`` over HTTP on both backends: roles, statuses, formats."""

from __future__ import annotations

import io
import math
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from geoservice.store import Store
from layers.crs import transform_coords
from layers.offset_coords import wgs84_to_gcj02
from tests.geoservice.signs.roads import DAZHI, current_roads

LON, LAT = 114.30, 30.595


@pytest.fixture
def names(store: Store) -> dict[str, str]:
    return current_roads(store, ("中山路", "中华大道"))


def _sign_body(name_id: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "road_plate", "name_id": name_id, "chinese": "中山路", "romanized": "Zhongshan Lu",
            "position": {"lon": LON, "lat": LAT}, "installed_on": "2023-01-01", **extra}  # fmt: skip


def test_signs_api__check_text_register_inspect_and_lists(client, auth, names) -> None:
    r = client.post(
        "/signs/check-text",
        json={"chinese": "中山路", "romanized": "Zhong Shan Lu", "standard_name": "中山路"},
    )
    assert r.status_code == 200 and r.json()["ok"] is False
    assert [(i["rule"], i["expected"]) for i in r.json()["issues"]] == [("word_division", "Zhongshan Lu")]
    assert (
        client.post("/signs", json=_sign_body(names["中山路"]), headers=auth["inspector"]).status_code == 403
    )
    r = client.post("/signs", json=_sign_body(names["中山路"]), headers=auth["officer"])
    assert r.status_code == 201, r.text
    sign = r.json()
    x, y = transform_coords(LON, LAT, "EPSG:4490", "EPSG:4547")
    moved = transform_coords(x + 3.0, y + 4.0, "EPSG:4547", "EPSG:4490")
    gcj = wgs84_to_gcj02(*moved)
    body = {"inspected_at": "2025-05-12T09:30:00+08:00", "team": "巡检一组", "condition": "intact",
            "position": {"lon": gcj[0], "lat": gcj[1]}, "position_crs": "GCJ-02", "accuracy_m": 3.0}  # fmt: skip
    r = client.post(f"/signs/{sign['id']}/inspections", json=body, headers=auth["inspector"])
    assert r.status_code == 201, r.text
    assert r.json()["displacement_m"] == pytest.approx(5.0, abs=0.1)
    r = client.post(
        f"/signs/{sign['id']}/inspections", json={**body, "position_crs": "BD-09"}, headers=auth["inspector"]
    )
    assert r.status_code == 201 and r.json()["displacement_m"] > 100  # a GCJ-02 reading sent as BD-09
    assert "displaced" in {f["code"] for f in r.json()["flags"]}
    swapped = {**body, "position": {"lon": gcj[1], "lat": gcj[0]}}
    r = client.post(f"/signs/{sign['id']}/inspections", json=swapped, headers=auth["inspector"])
    assert r.status_code == 422 and r.json()["details"]["rule"] == "lat_lon_swapped"
    assert client.get(f"/signs/{sign['id']}").json()["next_due_on"] == "2026-05-12"
    first = client.get(f"/signs/{sign['id']}/inspections").json()[0]["id"]
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(2000)
    files = [("file", ("plate.jpg", jpeg, "image/jpeg")), ("file", ("again.jpg", jpeg, "image/jpeg"))]
    r = client.post(f"/signs/inspections/{first}/photos", files=files, headers=auth["inspector"])
    assert r.status_code == 200 and [p["name"] for p in r.json()["photos"]] == ["plate.jpg"]  # stored once
    assert (
        client.post("/signs/inspections/nope/photos", files=files, headers=auth["inspector"]).status_code
        == 404
    )
    assert [i["team"] for i in client.get(f"/signs/{sign['id']}/inspections").json()] == ["巡检一组"] * 2
    overdue = client.get("/signs/overdue", params={"today": "2026-06-01"}).json()
    assert [s["sign_id"] for s in overdue["signs"]] == [sign["id"]]
    assert client.get("/signs/to-replace").json()["signs"] == []
    r = client.get("/signs/field-package", params={"division_code": "420102"})
    assert r.status_code == 200 and r.content[:16] == b"SQLite format 3\x00"
    assert client.get("/collections/place_signs/items").json()["numberMatched"] == 1
    assert "place_signs" in {layer["id"] for layer in client.get("/tiles").json()["layers"]}
    z = 16  # the tile holding the sign: served as a vector tile like any collection
    tx = int((LON + 180) / 360 * 2**z)
    ty = int((1 - math.asinh(math.tan(math.radians(LAT))) / math.pi) / 2 * 2**z)
    tile = client.get(f"/tiles/place_signs/{z}/{tx}/{ty}.mvt")
    assert tile.status_code == 200 and len(tile.content) > 0


def test_cleanup_api__campaign_worklist_decision_rename_xlsx(client, auth, names) -> None:
    assert client.post("/cleanup/campaigns", json={"division_code": "420102"}).status_code == 401
    r = client.post("/cleanup/campaigns", json={"division_code": "420102"}, headers=auth["officer"])
    assert r.status_code == 201, r.text
    campaign = r.json()
    assert campaign["by_class"]["big"] >= 1
    items = client.get(f"/cleanup/campaigns/{campaign['id']}/items").json()["items"]
    item = next(i for i in items if i["name"] == "中华大道")
    assert item["class_labels"] == ["大"] and item["findings"][0]["rule"] == "exaggerating_word"
    url = f"/cleanup/items/{item['id']}"
    r = client.post(f"{url}/decision", json={"status": "keep"}, headers=auth["officer"])
    assert r.status_code == 422 and r.json()["details"]["field"] == "reason"
    stale = {**auth["officer"], "If-Match": str(item["version"] + 5)}
    assert client.post(f"{url}/decision", json={"status": "to_rename"}, headers=stale).status_code == 412
    r = client.post(
        f"{url}/decision",
        json={"status": "to_rename"},
        headers={**auth["officer"], "If-Match": str(item["version"])},
    )
    assert r.status_code == 200 and r.json()["status"] == "to_rename"
    r = client.post(
        f"{url}/opinions",
        json={"expert": "王教授", "opinion": "建议更名", "position": "rename"},
        headers=auth["officer"],
    )
    assert r.json()["opinions"][0]["expert"] == "王教授"
    r = client.post(f"{url}/rename", json={"new_name": "中山路", "reason": "清理"}, headers=auth["officer"])
    assert r.status_code == 409
    r = client.post(
        f"{url}/rename", json={"new_name": "三阳大道", "reason": "清理夸大地名"}, headers=auth["officer"]
    )
    assert r.status_code == 200 and (r.json()["status"], r.json()["new_name"]) == ("renamed", "三阳大道")
    history = client.get(f"/names/{item['name_id']}/history").json()
    assert "中华大道" in str(history) and "三阳大道" in str(history)
    progress = client.get(f"/cleanup/campaigns/{campaign['id']}/progress").json()["districts"]
    assert {d["district_code"]: d["renamed"] for d in progress}["420102"] == 1
    r = client.get(f"/cleanup/campaigns/{campaign['id']}/items", params={"format": "xlsx"})
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["清理清单", "进度"]


def test_publication_api__directory_formats_and_unnamed(client, auth, names) -> None:
    r = client.get("/publication/directory/420102")
    assert r.status_code == 200 and [e["name"] for e in r.json()["entries"]] == ["中华大道", "中山路"]
    assert "江岸区地名录" in client.get("/publication/directory/420102", params={"format": "html"}).text
    xlsx = client.get("/publication/directory/420102", params={"format": "xlsx"})
    assert load_workbook(io.BytesIO(xlsx.content)).worksheets[0].max_row == 3
    assert client.get("/publication/directory/429999").status_code == 422
    today = date.today().isoformat()
    r = client.get("/publication/announcements", params={"start": today, "end": today})
    assert r.status_code == 200 and r.json()["entries"] == []
    unnamed = client.get("/cleanup/unnamed", params={"division_code": DAZHI}).json()["entities"]
    village = next(e for e in unnamed if e["kind"] == "village")
    r = client.post("/cleanup/unnamed", json={"kind": "village", "ref": village["ref"], "name": village["name_in_use"],
                                              "reason": "标准化"}, headers=auth["officer"])  # fmt: skip
    assert r.status_code == 201, r.text
