"""Inspections over HTTP on both backends: conversion, displacement, flags, bad positions, rounds, photos."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geoservice.api import create_app
from geoservice.settings import Settings
from layers.crs import transform_coords
from layers.offset_coords import wgs84_to_bd09, wgs84_to_gcj02

MARKER = "0203002Q"
LON, LAT = 114.30, 30.595
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(2000)


def _offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    x, y = transform_coords(lon, lat, "EPSG:4490", "EPSG:4547")
    return transform_coords(x + east_m, y + north_m, "EPSG:4547", "EPSG:4490")


def _body(lon: float, lat: float, crs: str = "EPSG:4490", **extra: Any) -> dict[str, Any]:
    return {
        "inspected_at": "2025-05-12T09:30:00+08:00",
        "team": "湖北联检一组",
        "condition": "intact",
        "position": {"lon": lon, "lat": lat},
        "position_crs": crs,
        "accuracy_m": 0.03,
        **extra,
    }


def _codes(response: Any) -> set[str]:
    return {f["code"] for f in response.json()["flags"]}


@pytest.mark.parametrize(
    "crs, convert", [("GCJ-02", wgs84_to_gcj02), ("BD-09", wgs84_to_bd09)], ids=["gcj02", "bd09"]
)
def test_inspect__phone_position_converted_lands_on_marker(client, auth, seeded, crs, convert) -> None:
    phone_lon, phone_lat = convert(LON, LAT)
    raw_offset_m = ((phone_lon - LON) ** 2 + (phone_lat - LAT) ** 2) ** 0.5 * 111_000
    assert 100 < raw_offset_m < 2000  # the phone app's offset the team would see on an unconverted map
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections",
        json=_body(phone_lon, phone_lat, crs),
        headers=auth["inspector"],
    )
    assert r.status_code == 201, r.text
    assert r.json()["displacement_m"] < 1.0
    assert r.json()["marker_number"] == MARKER
    assert "displaced" not in _codes(r)


def test_inspect__gcj02_phone_300_to_500_m_off(client, auth, seeded) -> None:
    gcj_lon, gcj_lat = wgs84_to_gcj02(LON, LAT)
    offset_m = transform_coords(gcj_lon, gcj_lat, "EPSG:4490", "EPSG:4547")
    origin = transform_coords(LON, LAT, "EPSG:4490", "EPSG:4547")
    raw_m = ((offset_m[0] - origin[0]) ** 2 + (offset_m[1] - origin[1]) ** 2) ** 0.5
    assert 300 <= raw_m <= 700
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections",
        json=_body(gcj_lon, gcj_lat, "GCJ-02"),
        headers=auth["inspector"],
    )
    assert r.status_code == 201
    assert r.json()["displacement_m"] < 1.0
    assert r.json()["position"]["lon"] == pytest.approx(LON, abs=1e-7)


def test_inspect__marker_moved_2_m_is_flagged(client, auth, seeded) -> None:
    lon, lat = _offset(LON, LAT, 2.0, 0.0)
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections",
        json=_body(lon, lat, condition="移位"),
        headers=auth["inspector"],
    )
    assert r.status_code == 201
    body = r.json()
    assert body["displacement_m"] == pytest.approx(2.0, abs=0.01)
    assert body["distance_to_line_m"] == pytest.approx(2.0, abs=0.05)
    assert body["condition"] == "displaced" and body["condition_label"] == "移位"
    assert {"displaced", "beyond_accuracy"} <= _codes(r)
    marker = client.get(f"/boundaries/markers/{MARKER}").json()
    assert marker["condition"] == "displaced"
    assert "displaced" in marker["last_flags"]


def test_inspect__intact_within_tolerance_not_flagged(client, auth, seeded) -> None:
    lon, lat = _offset(LON, LAT, 0.1, 0.05)
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections", json=_body(lon, lat), headers=auth["inspector"]
    )
    assert r.status_code == 201
    assert _codes(r) == set()


def test_inspect__intact_but_moved_is_condition_mismatch(client, auth, seeded) -> None:
    lon, lat = _offset(LON, LAT, 0.0, 3.0)
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections", json=_body(lon, lat), headers=auth["inspector"]
    )
    assert "condition_mismatch" in _codes(r)


def test_inspect__phone_accuracy_cannot_confirm_tolerance(client, auth, seeded) -> None:
    lon, lat = _offset(LON, LAT, 2.0, 0.0)
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections",
        json=_body(lon, lat, accuracy_m=5.0),
        headers=auth["inspector"],
    )
    codes = _codes(r)
    assert "low_accuracy" in codes and "beyond_accuracy" not in codes


def test_inspect__gcj02_sent_as_cgcs2000_is_suspected(client, auth, seeded) -> None:
    gcj_lon, gcj_lat = wgs84_to_gcj02(LON, LAT)
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections", json=_body(gcj_lon, gcj_lat), headers=auth["inspector"]
    )
    assert r.status_code == 201
    assert "crs_suspect" in _codes(r)


def test_inspect__paired_marker_measured_on_wrong_side(client, auth, seeded) -> None:
    west_lon, west_lat = _offset(114.30, 30.5875, -20.0, 0.0)
    r = client.post(
        "/boundaries/markers",
        json={
            "number": "0203005A",
            "line": "0203",
            "position": {"lon": west_lon, "lat": west_lat},
            "elevation_m": 20.0,
            "reference_objects": [
                {"azimuth_deg": 10, "distance_m": 5, "description": "河堤 levee"},
                {"azimuth_deg": 100, "distance_m": 7, "description": "桥墩 bridge pier"},
                {"azimuth_deg": 200, "distance_m": 9, "description": "水准点 benchmark"},
            ],
        },
        headers=auth["officer"],
    )
    assert r.status_code == 201, r.text
    east_lon, east_lat = _offset(114.30, 30.5875, 20.0, 0.0)
    r = client.post(
        "/boundaries/markers/0203005A/inspections",
        json=_body(east_lon, east_lat, accuracy_m=1.0),
        headers=auth["inspector"],
    )
    assert "wrong_side" in _codes(r)


def test_inspect__unknown_marker_is_404(client, auth, seeded) -> None:
    r = client.post(
        "/boundaries/markers/0203099Q/inspections", json=_body(LON, LAT), headers=auth["inspector"]
    )
    assert r.status_code == 404
    assert "0203099Q" in r.json()["message"]


def test_inspect__swapped_lat_lon_is_422_saying_so(client, auth, seeded) -> None:
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections", json=_body(LAT, LON), headers=auth["inspector"]
    )
    assert r.status_code == 422
    assert r.json()["details"]["rule"] == "lat_lon_swapped"
    assert "swapped" in r.json()["message"] and "颠倒" in r.json()["message"]


@pytest.mark.parametrize(
    "lon, lat, hint",
    [(122.8, 30.2, "km from the marker"), (0.0, 0.0, "not in China")],
    ids=["east-china-sea", "null-island"],
)
def test_inspect__position_far_away_is_422(client, auth, seeded, lon, lat, hint) -> None:
    before = client.get(f"/boundaries/markers/{MARKER}/inspections").json()["inspections"]
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections", json=_body(lon, lat), headers=auth["inspector"]
    )
    assert r.status_code == 422
    assert r.json()["details"]["rule"] == "far_from_marker"
    assert hint in r.json()["message"]
    assert client.get(f"/boundaries/markers/{MARKER}/inspections").json()["inspections"] == before


def test_inspect__needs_inspector_role(client, auth, seeded) -> None:
    assert client.post(f"/boundaries/markers/{MARKER}/inspections", json=_body(LON, LAT)).status_code == 401
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections", json=_body(LON, LAT), headers=auth["planner"]
    )
    assert r.status_code == 403


def test_inspect__unknown_condition_names_choices(client, auth, seeded) -> None:
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections",
        json=_body(LON, LAT, condition="broken"),
        headers=auth["inspector"],
    )
    assert r.status_code == 422
    assert "完好" in r.json()["message"] and r.json()["details"]["field"] == "condition"


def test_inspect__append_only_and_marker_keeps_newest(client, auth, seeded) -> None:
    later = _body(
        LON, LAT, condition="damaged", inspected_at="2025-06-01T10:00:00+08:00", team="河南联检二组"
    )
    earlier = _body(LON, LAT, condition="intact", inspected_at="2025-05-01T10:00:00+08:00")
    for body in (later, earlier):
        assert (
            client.post(
                f"/boundaries/markers/{MARKER}/inspections", json=body, headers=auth["inspector"]
            ).status_code
            == 201
        )
    records = client.get(f"/boundaries/markers/{MARKER}/inspections").json()["inspections"]
    assert [r["condition"] for r in records] == ["intact", "damaged"]
    assert client.get(f"/boundaries/markers/{MARKER}").json()["condition"] == "damaged"


def test_rounds__progress_and_not_yet_inspected(client, auth, seeded) -> None:
    r = client.post(
        "/boundaries/lines/0203/rounds",
        json={"started_on": "2025-04-01", "team": "鄂豫联检组"},
        headers=auth["inspector"],
    )
    assert r.status_code == 201
    round_id = r.json()["round_id"]
    assert r.json()["next_due_on"] == "2030-04-01"
    for number, lon, lat in [("0203002Q", LON, LAT), ("0203003Q", 114.30, 30.59)]:
        body = _body(lon, lat, round_id=round_id)
        assert (
            client.post(
                f"/boundaries/markers/{number}/inspections", json=body, headers=auth["inspector"]
            ).status_code
            == 201
        )
    progress = client.get(f"/boundaries/rounds/{round_id}").json()
    assert (progress["inspected"], progress["total"]) == (2, 4)
    assert progress["not_inspected"] == ["0203001C", "0203004Q"]


def test_rounds__overdue_and_never_inspected_lines(client, auth, seeded) -> None:
    client.post(
        "/boundaries/lines/0203/rounds",
        json={"started_on": "2015-04-01", "team": "t"},
        headers=auth["inspector"],
    )
    lines = {x["line_code"]: x for x in client.get("/boundaries/overdue?today=2025-01-01").json()["lines"]}
    assert lines["0203"]["reason"] == "overdue" and lines["0203"]["due_on"] == "2020-04-01"
    assert lines["0204"]["reason"] == "never_inspected"


def test_rounds__round_of_another_line_is_refused(client, auth, seeded) -> None:
    other = client.post(
        "/boundaries/lines/0204/rounds",
        json={"started_on": "2025-04-01", "team": "t"},
        headers=auth["inspector"],
    )
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections",
        json=_body(LON, LAT, round_id=other.json()["round_id"]),
        headers=auth["inspector"],
    )
    assert r.status_code == 422 and r.json()["details"]["field"] == "round_id"


def _inspection(client: Any, auth: Any) -> str:
    r = client.post(
        f"/boundaries/markers/{MARKER}/inspections", json=_body(LON, LAT), headers=auth["inspector"]
    )
    return str(r.json()["id"])


def test_photos__stored_by_checksum(client, auth, seeded, tmp_path) -> None:
    inspection_id = _inspection(client, auth)
    files = [("file", ("IMG_0001.jpg", JPEG, "image/jpeg")), ("file", ("copy.jpg", JPEG, "image/jpeg"))]
    r = client.post(f"/boundaries/inspections/{inspection_id}/photos", files=files, headers=auth["inspector"])
    assert r.status_code == 200, r.text
    photos = r.json()["photos"]
    assert len(photos) == 1  # the same picture twice is kept once
    import hashlib

    assert photos[0]["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert (tmp_path / "photos" / photos[0]["path"]).read_bytes() == JPEG


def test_photos__50_mb_photo_is_413(client, auth, seeded) -> None:
    inspection_id = _inspection(client, auth)
    big = io.BytesIO(JPEG + bytes(50 * 1024 * 1024))
    r = client.post(
        f"/boundaries/inspections/{inspection_id}/photos",
        files={"file": ("big.jpg", big, "image/jpeg")},
        headers=auth["inspector"],
    )
    assert r.status_code == 413
    assert r.json()["details"]["rule"] == "max_photo_bytes"  # the photo limit, not the general body limit
    assert client.get(f"/boundaries/markers/{MARKER}/inspections").json()["inspections"][0]["photos"] == []


def test_photos__over_max_photo_bytes_is_413_naming_limit(store, auth, seeded, tmp_path) -> None:
    settings = Settings(database_url=store.url, photo_dir=tmp_path / "p", max_photo_bytes=1000)
    with TestClient(create_app(settings, store=store)) as small_client:
        inspection_id = _inspection(small_client, auth)
        r = small_client.post(
            f"/boundaries/inspections/{inspection_id}/photos",
            files={"file": ("big.jpg", JPEG, "image/jpeg")},
            headers=auth["inspector"],
        )
    assert r.status_code == 413
    assert r.json()["details"]["rule"] == "max_photo_bytes" and r.json()["details"]["limit_bytes"] == 1000
    assert not list((tmp_path / "p").rglob("*.jpg"))


def test_photos__not_a_picture_is_422(client, auth, seeded) -> None:
    inspection_id = _inspection(client, auth)
    r = client.post(
        f"/boundaries/inspections/{inspection_id}/photos",
        files={"file": ("notes.pdf", b"%PDF-1.7 ...", "application/pdf")},
        headers=auth["inspector"],
    )
    assert r.status_code == 422 and "JPEG" in r.json()["message"]


def test_inspect__missing_marker_needs_no_position(client, auth, seeded) -> None:
    body = {k: v for k, v in _body(LON, LAT, condition="丢失").items() if k != "position"}
    r = client.post(f"/boundaries/markers/{MARKER}/inspections", json=body, headers=auth["inspector"])
    assert r.status_code == 201, r.text
    assert (r.json()["position"], r.json()["displacement_m"], r.json()["flags"]) == (None, None, [])
    assert client.get(f"/boundaries/markers/{MARKER}").json()["condition"] == "missing"
    body["condition"] = "intact"
    r = client.post(f"/boundaries/markers/{MARKER}/inspections", json=body, headers=auth["inspector"])
    assert r.status_code == 422 and r.json()["details"]["rule"] == "required_unless_missing"
